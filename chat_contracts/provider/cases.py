"""What the suite sends, derived from the contract: a `Case` is a request plus what the contract expects.

The deterministic cases come from each request property's `Shape` (see `core.schema`), never from hand
lists: every JSON type the schema does not allow, every enum value with its case variants and the empty
string, strings at the boundaries (empty, one character, whitespace, non-ASCII, astral-plane,
decomposed, the lengths of common storage limits), null where it is documented, several fields at
once. They are the same on every seed. Generated cases (`generated`) search beyond them, and are
classified here too, by our validator: a "negative" example that happens to be valid is never expected
to fail.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from chat_contracts.core.registry import Provider, RequestField
from chat_contracts.core.schema import Shape
from chat_contracts.core.text import clip


class Expect(enum.Enum):
    SUCCESS = "a 2xx with the updated chat"  # valid input
    TOLERATED = "a 2xx with the updated chat, or a 4xx"  # the contract allows both (see decisions)
    INVALID = "a 4xx"  # invalid input
    UNAUTHORIZED = "401 or 403"  # missing or wrong credentials
    MISSING = "not found"  # the chat does not exist


class _NoBody:
    def __repr__(self) -> str:
        return "(no body)"


NO_BODY: Any = _NoBody()
AUTH_STATUSES = (401, 403)  # bearer auth (RFC 6750): a missing or bad token is 401, a refused one 403

# How a request authenticates. Each wrong variant is a mistake real servers make in checking tokens.
Auth = Literal["valid", "none", "empty", "scheme", "case", "appended", "truncated", "wrong"]
AUTH_PROBES: dict[Auth, str] = {
    "none": "no Authorization header",
    "empty": "the scheme without a token",
    "scheme": "the token under another scheme (Token ...)",
    "case": "the token with its letter case swapped",
    "appended": "the token with one character appended",
    "truncated": "the token without its last character",
    "wrong": "an unrelated bearer token",
}
WRONG_TOKEN = "chat-contracts-invalid-token"

# Strings at the boundaries. Lengths: one past 255 and 256 (classic column limits), 1,024, 5,000.
STORAGE_LENGTHS = (255, 256, 257, 1024, 5000)
PLAIN = "chat-contracts check"
UNICODE = "Réunion ✓ — 日本語のチャット"
ASTRAL = "🚀 chat \U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 🧪"  # Fraktur "Unicode"
DECOMPOSED = "Re\u0301union de\u0301cale\u0301e"  # é as e + combining acute: NFC would compose it
PADDED = "  chat-contracts padded  "
WHITESPACE = " \t "
NUL = "chat\u0000contracts"
LONE_SURROGATE = "chat \ud800 contracts"
# Stand-ins for each JSON type, for properties that do not allow it.
WRONG_TYPE_VALUES: dict[str, Any] = {
    "boolean": True,
    "integer": 12345,
    "number": 1.5,
    "string": "chat-contracts",
    "array": ["chat-contracts"],
    "object": {"value": 1},
}


def long_string(length: int) -> str:
    """A string of exactly `length` characters that says what it is."""
    head = f"chat-contracts {length} characters "
    return (head + "x" * length)[:length]


@dataclass(frozen=True)
class Case:
    phase: str
    label: str
    expect: Expect
    body: Any = NO_BODY
    raw: bytes | None = None  # sent as it is (malformed JSON, whitespace); overrides body
    auth: Auth = "valid"
    chat_id: str | None = None  # default: the target's chat
    unchecked: frozenset[str] = field(default_factory=frozenset)  # sent fields whose effect is not checked
    repeat: bool = False  # the same request as the one before: the two answers must agree

    def content(self) -> bytes | None:
        if self.raw is not None:
            return self.raw
        if self.body is NO_BODY:
            return None
        text = json.dumps(self.body, ensure_ascii=False)
        try:
            return text.encode()
        except UnicodeEncodeError:  # a lone surrogate: only its JSON escape can be sent
            return json.dumps(self.body).encode()

    @property
    def sent_fields(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) and self.raw is None else {}

    @property
    def changes(self) -> bool:
        """Whether a provider that accepts this request may change the chat."""
        return bool(self.sent_fields) and self.auth == "valid" and self.chat_id is None


# --- deterministic cases, from the shapes ---------------------------------------------------------


def _string_values(prop: Shape) -> Iterator[tuple[str, Any, Expect]]:
    """Strings at the boundaries; ones a store may refuse (U+0000, a lone surrogate) are tolerated."""
    yield "the empty string", "", Expect.SUCCESS
    yield "one character", "x", Expect.SUCCESS
    yield "plain text", PLAIN, Expect.SUCCESS
    yield "whitespace only", WHITESPACE, Expect.SUCCESS
    yield "surrounding whitespace", PADDED, Expect.SUCCESS
    yield "non-ASCII", UNICODE, Expect.SUCCESS
    yield "astral-plane characters", ASTRAL, Expect.SUCCESS
    yield "decomposed accents", DECOMPOSED, Expect.SUCCESS
    yield "U+0000", NUL, Expect.TOLERATED
    yield "a lone surrogate", LONE_SURROGATE, Expect.TOLERATED
    lengths = sorted({*STORAGE_LENGTHS, *(n for n in (prop.max_length, prop.min_length) if n is not None)})
    for length in lengths:
        too_long = prop.max_length is not None and length > prop.max_length
        too_short = prop.min_length is not None and length < prop.min_length
        yield f"{length:,} characters", long_string(length), Expect.INVALID if too_long or too_short else Expect.SUCCESS
    if prop.max_length is not None:
        yield f"{prop.max_length + 1:,} characters", long_string(prop.max_length + 1), Expect.INVALID


def valid_values(prop: Shape, spec: RequestField) -> Iterator[tuple[str, Any, Expect]]:
    """Each kind of value the schema allows for a property (references apart: see `reference_cases`)."""
    if prop.enum:
        yield from ((repr(v), v, Expect.SUCCESS) for v in prop.enum)
    elif "string" in prop.types and not spec.references and not prop.pattern and not prop.format:
        yield from _string_values(prop)
    if "boolean" in prop.types:
        yield from (("true", True, Expect.SUCCESS), ("false", False, Expect.SUCCESS))
    if "integer" in prop.types or "number" in prop.types:
        yield from (("0", 0, Expect.SUCCESS), ("1", 1, Expect.SUCCESS))
    if prop.nullable and spec.on_null != "undocumented":
        yield "null", None, Expect.SUCCESS


def wrong_values(prop: Shape, spec: RequestField) -> Iterator[tuple[str, Any, Expect]]:
    """Values the schema does not allow: every other JSON type, enum traps, coercion traps."""
    if not prop.nullable:
        # Null where no nullability is documented: neither valid input nor required to be refused.
        expect = Expect.TOLERATED if spec.on_null == "undocumented" else Expect.INVALID
        yield "null", None, expect
    for json_type, value in WRONG_TYPE_VALUES.items():
        if not prop.allows_type(json_type):
            yield f"a{'n' if json_type[0] in 'aeiou' else ''} {json_type}", value, Expect.INVALID
    if "boolean" in prop.types and not prop.allows_type("string"):
        yield from (("the string 'true'", "true", Expect.INVALID), ("the string 'yes'", "yes", Expect.INVALID))
    if "boolean" in prop.types and not prop.allows_type("integer"):
        yield "the number 1", 1, Expect.INVALID
    if prop.enum:
        strings = [v for v in prop.enum if isinstance(v, str)]
        yield "a value outside the enum", "chat-contracts-not-in-enum", Expect.INVALID
        if "" not in strings:
            yield "the empty string", "", Expect.INVALID
        variants = dict.fromkeys(v for s in strings for v in (s.upper(), s.capitalize(), s.lower()))
        for variant in variants:
            if variant not in strings:
                yield f"{variant!r} (an enum value in another case)", variant, Expect.INVALID


def field_cases(provider: Provider, name: str, prop: Shape, current: Any) -> list[Case]:
    """Every case about one request field, valid and invalid."""
    spec = provider.field(name)
    cases = []
    for label, value, expect in valid_values(prop, spec):
        if spec.references and value is not None:
            continue  # an arbitrary string names nothing; the reference cases below
        # An undocumented null may mean anything; a tolerated string, once accepted, must come back as sent.
        unchecked = frozenset({name}) if expect is Expect.TOLERATED and value is None else frozenset()
        cases.append(Case("coverage", f"{name} = {label}", expect, body={name: value}, unchecked=unchecked))
    if spec.references:
        if isinstance(current, str):
            # The chat's own reference names something that exists: it must be accepted.
            cases.append(Case("coverage", f"{name} = its current value", Expect.SUCCESS, body={name: current}))
        # One that names nothing may be refused with a 4xx; accepted, it must be applied.
        cases.append(
            Case("coverage", f"{name} = an id naming nothing", Expect.TOLERATED, body={name: provider.unknown_id})
        )
    for label, value, expect in wrong_values(prop, spec):
        # An undocumented null may mean anything; a tolerated string, once accepted, must come back as sent.
        unchecked = frozenset({name}) if expect is Expect.TOLERATED and value is None else frozenset()
        cases.append(Case("coverage", f"{name} = {label}", expect, body={name: value}, unchecked=unchecked))
    return cases


def body_cases() -> list[Case]:
    """Requests about the body itself: none, empty, not an object, not JSON."""
    return [
        Case("coverage", "empty object {}", Expect.SUCCESS, body={}),
        Case("coverage", "no body", Expect.SUCCESS),
        # Whitespace is no JSON document; treating it as no body (2xx) conforms as well as refusing it.
        Case("coverage", "a body of only whitespace", Expect.TOLERATED, raw=b" \n"),
        Case("coverage", "an undocumented field", Expect.TOLERATED, body={"chat_contracts_probe": True}),
        Case("coverage", "body is an array", Expect.INVALID, body=["title"]),
        Case("coverage", "body is a string", Expect.INVALID, body="title"),
        Case("coverage", "body is a number", Expect.INVALID, body=42),
        Case("coverage", "body is true", Expect.INVALID, body=True),
        Case("coverage", "body is null", Expect.INVALID, body=None),
        Case("coverage", "body is malformed JSON", Expect.INVALID, raw=b'{"title": '),
    ]


def together_cases(provider: Provider, fields: dict[str, Shape], current: dict[str, Any]) -> list[Case]:
    """Several fields at once: all valid; then all valid but one wrong, which must fail as a whole."""
    valid: dict[str, Any] = {}
    wrong: tuple[str, Any] | None = None
    for name, prop in fields.items():
        spec = provider.field(name)
        if spec.references:
            if isinstance(current.get(name), str):
                valid[name] = current[name]
            continue
        value = next((v for _, v, e in valid_values(prop, spec) if e is Expect.SUCCESS and v not in (None, "")), None)
        if value is not None:
            valid[name] = value
        if wrong is None:
            wrong = next(((name, v) for _, v, e in wrong_values(prop, spec) if e is Expect.INVALID), None)
    cases = [Case("coverage", "every field at once", Expect.SUCCESS, body=valid)] if len(valid) > 1 else []
    if wrong is not None and valid:
        body = valid | {wrong[0]: wrong[1]}
        cases.append(Case("coverage", f"every field at once, {wrong[0]} of a wrong type", Expect.INVALID, body=body))
    return cases


def auth_cases(token: str) -> list[Case]:
    """Each wrong way to authenticate, with an empty update and with no body at all."""
    cases = []
    for auth, label in AUTH_PROBES.items():
        if auth == "case" and token.swapcase() == token:
            continue  # no letters to swap: this probe cannot differ from the real token
        cases.append(Case("auth", f"{label}, body {{}}", Expect.UNAUTHORIZED, body={}, auth=auth))
        cases.append(Case("auth", f"{label}, no body", Expect.UNAUTHORIZED, auth=auth))
    return cases


def credentials(auth: Auth, token: str, scheme: str) -> str | None:
    """The Authorization header value for an auth variant (None: no header)."""
    return {
        "valid": f"{scheme} {token}",
        "none": None,
        "empty": scheme,  # the scheme with no credentials (a trailing space is no valid header value)
        "scheme": f"Token {token}",
        "case": f"{scheme} {token.swapcase()}",
        "appended": f"{scheme} {token}x",
        "truncated": f"{scheme} {token[:-1]}",
        "wrong": f"{scheme} {WRONG_TOKEN}",
    }[auth]


def unknown_id_cases(provider: Provider) -> list[Case]:
    cases = [
        Case(
            "unknown-id", f"unknown chat id {provider.unknown_id}", Expect.MISSING, body={}, chat_id=provider.unknown_id
        ),
        Case(
            "unknown-id", f"unknown chat id {provider.unknown_id}, no body", Expect.MISSING, chat_id=provider.unknown_id
        ),
    ]
    if provider.id_schema.get("pattern"):
        # An id of the wrong shape names no chat either; a 5xx here is the classic unhandled parse error.
        cases.append(Case("unknown-id", "malformed chat id", Expect.MISSING, body={}, chat_id="chat-contracts"))
    return cases


# --- generated bodies, judged by the contract ------------------------------------------------------


def classify(provider: Provider, body: Any, phase: str) -> Case:
    """The expectation for a generated body, decided by the contract, not by the generator."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            # Not JSON. A body of only whitespace may be taken as no body: 2xx and 4xx both conform.
            expect = Expect.TOLERATED if not body.strip() else Expect.INVALID
            return Case(phase, "generated non-JSON body", expect, raw=body)
    label = "generated " + clip(repr(body), 80)
    if body is NO_BODY:
        return Case(phase, label, Expect.SUCCESS)
    if provider.document.errors(body, provider.request_schema_pointer):
        undocumented_nulls = isinstance(body, dict) and any(
            value is None and name in provider.field_names and provider.field(name).on_null == "undocumented"
            for name, value in body.items()
        )
        without_nulls = {k: v for k, v in body.items() if v is not None} if isinstance(body, dict) else body
        if undocumented_nulls and not provider.document.errors(without_nulls, provider.request_schema_pointer):
            nulls = frozenset(k for k, v in body.items() if v is None)
            return Case(phase, label, Expect.TOLERATED, body=body, unchecked=nulls)
        return Case(phase, label, Expect.INVALID, body=body)
    unknown = set(body) - provider.field_names
    references = any(body.get(name) is not None for name in provider.reference_fields)
    unstorable = any(isinstance(v, str) and not storable(v) for v in body.values())
    expect = Expect.TOLERATED if unknown or references or unstorable else Expect.SUCCESS
    return Case(phase, label, expect, body=body)


def storable(text: str) -> bool:
    """Whether a store can be expected to hold `text`: no U+0000, no lone surrogate (both may be refused)."""
    return "\0" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
