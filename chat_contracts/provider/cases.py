"""What the suite sends: deterministic edge cases first, then generated ones, all from the contract.

A `Case` is a request plus what the contract expects of its answer (`Expect`). Deterministic cases
are derived from the request schema and the registry (every field, every enum value, null where
nullable, long and non-ASCII strings, wrong types, non-object and malformed bodies, auth and unknown
ids); generated cases come from schemathesis and are classified by our own validator, so a
"negative" example that happens to be valid is never expected to fail.
"""

from __future__ import annotations

import enum
import importlib
import json
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode

from chat_contracts.documents import contracts_dir
from chat_contracts.registry import Provider
from chat_contracts.session import clip


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

LONG_TITLE = "chat-contracts long title " + "x" * 4974  # 5,000 characters; no limit is documented
UNICODE_TITLE = "Réunion ✓ — 日本語のチャット 🚀 Ünïcödé"


@dataclass(frozen=True)
class Case:
    group: str
    label: str
    expect: Expect
    body: Any = NO_BODY
    raw: bytes | None = None  # sent as it is (malformed JSON); overrides body
    auth: str = "valid"  # valid | none | wrong
    chat_id: str | None = None  # default: the target's chat
    unchecked: frozenset[str] = field(default_factory=frozenset)  # sent fields whose effect is not checked

    def content(self) -> bytes | None:
        if self.raw is not None:
            return self.raw
        if self.body is NO_BODY:
            return None
        return json.dumps(self.body, ensure_ascii=False).encode()

    @property
    def sent_fields(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) and self.raw is None else {}


# --- reading the request schema ------------------------------------------------------------------


def request_properties(provider: Provider) -> dict[str, dict[str, Any]]:
    document = provider.document
    schema = document.deref(document.resolve(provider.request_schema_pointer))
    return {name: _flatten(provider, prop) for name, prop in schema.get("properties", {}).items()}


def _flatten(provider: Provider, schema: dict[str, Any]) -> dict[str, Any]:
    """Types, enum and nullability of a property, whichever way the spec writes them."""
    schema = provider.document.deref(schema)
    types: set[str] = set()
    values: list[Any] = []
    branches = schema.get("oneOf") or schema.get("anyOf")
    for branch in branches or [schema]:
        branch = provider.document.deref(branch)
        kind = branch.get("type", [])
        types |= {kind} if isinstance(kind, str) else set(kind)
        values += branch.get("enum", [])
    if schema.get("nullable"):
        types.add("null")
    return {"types": types, "enum": values}


def _valid_values(prop: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if prop["enum"]:
        yield from ((repr(v), v) for v in prop["enum"])
    elif "string" in prop["types"]:
        yield "plain", "chat-contracts check"
        yield "non-ASCII", UNICODE_TITLE
        yield "5,000 characters", LONG_TITLE
    if "boolean" in prop["types"]:
        yield from (("true", True), ("false", False))
    if "null" in prop["types"]:
        yield "null", None


def _wrong_values(prop: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values of the wrong type, including the ones lenient parsers coerce ("true", 1, "ALL")."""
    if prop["enum"]:
        yield "value outside the enum", "chat-contracts-not-in-enum"
        shouted = next((v.upper() for v in prop["enum"] if isinstance(v, str) and v.upper() not in prop["enum"]), None)
        if shouted:
            yield "an enum value in another case", shouted
    if not prop["types"] & {"integer", "number", "boolean"}:
        yield "a number", 12345
    if "boolean" in prop["types"] and "string" not in prop["types"]:
        yield from (("the string 'true'", "true"), ("the string 'yes'", "yes"))
    if "boolean" in prop["types"] and not prop["types"] & {"integer", "number"}:
        yield "the number 1", 1
    yield "an object", {"value": 1}


# --- deterministic cases -------------------------------------------------------------------------


def snapshot_case() -> Case:
    """A no-op update: it answers the chat's current state."""
    return Case("snapshot", "empty update {}", Expect.SUCCESS, body={})


def positive_cases(provider: Provider, state: dict[str, Any], avoid: frozenset[str] = frozenset()) -> list[Case]:
    """Every documented field (but those in `avoid`) with each kind of valid value, one at a time, then together."""
    cases = [
        Case("positive", "empty object {}", Expect.SUCCESS, body={}),
        Case("positive", "no body", Expect.SUCCESS),
    ]
    together: dict[str, Any] = {}
    for name, prop in request_properties(provider).items():
        if name in avoid:
            continue
        spec = provider.field(name)
        for label, value in _valid_values(prop):
            if value is None and spec.on_null == "undocumented":
                continue
            if spec.references and value is not None:
                continue  # an arbitrary string names nothing; the reference cases follow
            cases.append(Case("positive", f"{name} = {label}", Expect.SUCCESS, body={name: value}))
            if value is not None:
                together.setdefault(name, value)
        current = state.get(spec.response) if spec.response else None
        if spec.references and isinstance(current, str):
            # The chat's own reference names something that exists: it must be accepted.
            cases.append(Case("positive", f"{name} = its current value", Expect.SUCCESS, body={name: current}))
        if spec.references:
            # One that names nothing may be refused with a 4xx; accepted, it must be applied.
            cases.append(
                Case("positive", f"{name} = an id naming nothing", Expect.TOLERATED, body={name: provider.unknown_id})
            )
    cases.append(Case("positive", "every field at once", Expect.SUCCESS, body=together))
    cases.append(Case("positive", "an undocumented field", Expect.TOLERATED, body={"chat_contracts_probe": True}))
    return cases


def negative_cases(provider: Provider) -> list[Case]:
    """Wrong types, values outside enums, bodies that are not objects, bodies that are not JSON."""
    cases = [
        Case("negative", f"{name} = {label}", Expect.INVALID, body={name: value})
        for name, prop in request_properties(provider).items()
        for label, value in _wrong_values(prop)
    ]
    cases += [
        Case("negative", "body is an array", Expect.INVALID, body=["title"]),
        Case("negative", "body is a string", Expect.INVALID, body="title"),
        Case("negative", "body is a number", Expect.INVALID, body=42),
        Case("negative", "body is malformed JSON", Expect.INVALID, raw=b'{"title": '),
    ]
    return cases


def auth_cases() -> list[Case]:
    return [
        Case("auth", "no Authorization header", Expect.UNAUTHORIZED, body={}, auth="none"),
        Case("auth", "a wrong bearer token", Expect.UNAUTHORIZED, body={}, auth="wrong"),
    ]


def unknown_id_cases(provider: Provider) -> list[Case]:
    cases = [
        Case(
            "unknown-id", f"unknown chat id {provider.unknown_id}", Expect.MISSING, body={}, chat_id=provider.unknown_id
        )
    ]
    if provider.id_schema.get("pattern"):
        # An id of the wrong shape names no chat either; a 5xx here is the classic unhandled parse error.
        cases.append(Case("unknown-id", "malformed chat id", Expect.MISSING, body={}, chat_id="chat-contracts"))
    return cases


# --- generated cases -----------------------------------------------------------------------------


@cache
def _operation(provider: Provider) -> schemathesis.APIOperation:
    schema = schemathesis.openapi.from_path(str(contracts_dir() / provider.spec_file))
    return schema[provider.path][provider.method]


@cache
def _import_whole_package() -> None:
    """Import every chat_contracts module before hypothesis draws anything.

    Hypothesis mixes string and number literals from the project's loaded modules into what it
    generates; importing all of ours first makes that pool, and so a seed's bodies, the same whatever
    the order in which tests or commands happened to import them.
    """
    import chat_contracts

    for module in pkgutil.iter_modules(chat_contracts.__path__, "chat_contracts."):
        importlib.import_module(module.name)


@cache
def generated_bodies(provider: Provider, mode: GenerationMode, seed_value: int, count: int) -> tuple[Any, ...]:
    """`count` request bodies drawn by schemathesis (NO_BODY where it sends none), reproducible by seed.

    Drawn apart from sending: what is generated never depends on how the implementation answers, so
    the same seed gives the same bodies against any target (and they are drawn once per process).
    """
    _import_whole_package()
    strategy = _operation(provider).as_strategy(
        generation_mode=mode, path_parameters={provider.id_parameter: provider.example_id}
    )
    bodies: list[Any] = []

    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(case=strategy)
    def draw(case: schemathesis.Case) -> None:
        bodies.append(NO_BODY if type(case.body).__name__ == "NotSet" else case.body)

    draw()
    return tuple(bodies[:count])


def classify(provider: Provider, body: Any, group: str) -> Case:
    """The expectation for a generated body, decided by the contract, not by the generator."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return Case(group, "generated non-JSON body", Expect.INVALID, raw=body)
    label = "generated " + clip(repr(body), 80)
    if body is NO_BODY:
        return Case(group, label, Expect.SUCCESS)
    if provider.document.errors(body, provider.request_schema_pointer):
        undocumented_nulls = isinstance(body, dict) and any(
            value is None and name in provider.field_names and provider.field(name).on_null == "undocumented"
            for name, value in body.items()
        )
        if undocumented_nulls and not provider.document.errors(_without_nulls(body), provider.request_schema_pointer):
            nulls = frozenset(k for k, v in body.items() if v is None)
            return Case(group, label, Expect.TOLERATED, body=body, unchecked=nulls)
        return Case(group, label, Expect.INVALID, body=body)
    unknown = set(body) - provider.field_names
    references = any(body.get(name) is not None for name in provider.reference_fields)
    expect = Expect.TOLERATED if unknown or references else Expect.SUCCESS
    return Case(group, label, expect, body=body)


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}
