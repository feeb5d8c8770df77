"""Hypothesis strategies of what the contract allows, for testing a client against every answer it may get.

- `chat_bodies(provider)`: every 200 body the schema allows: nullable fields null and set, each enum
  value, edge values (empty, long and odd strings, boundary integers, timestamps with offsets),
  optional fields present and absent, undocumented extra fields where the schema does not forbid them;
  each body is validated against the contract before it is handed out;
- `request_bodies(provider)`: every request body the contract allows, with the fields it lists only;
- `error_responses(provider)`: each documented error status with a body valid for it (any body where
  the contract documents a status class but no body, as Wilson's `4XX`), and 429 with `Retry-After`;
- `responses(provider)`: either.

Everything is read from the contract (and, for a 429 the contract does not document, from the
registry's `reference.error`, the way the provider writes an error): no code here names a provider.
"""

from __future__ import annotations

import math
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

from hypothesis import strategies as st

from chat_contracts.core.registry import Provider, get_provider
from chat_contracts.reference.mock import SEED_CREATED, ApiError, MockResponse, error_body

__all__ = ["chat_bodies", "error_responses", "from_schema", "request_bodies", "responses"]

MAX_DEPTH = 20  # a schema nested deeper is recursive: refused rather than drawn forever

# --- values ----------------------------------------------------------------------------------------

OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))])
MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def _rfc3339_forms(moment: datetime, offset: timezone) -> list[str]:
    local = moment.astimezone(offset)
    return [
        moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",  # milliseconds and Z
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),  # no fraction
        local.isoformat(),  # a numeric offset, microseconds when there are any
    ]


# Addresses (RFC 5321/5322) built from parts, cheaper to draw than hypothesis' emails(), and the odd valid ones.
_ATOMS = st.text(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~", min_size=1, max_size=10)
_LABELS = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
EMAILS = st.one_of(
    st.builds(
        "{}@{}".format,
        st.lists(_ATOMS, min_size=1, max_size=3).map(".".join),
        st.lists(_LABELS, min_size=2, max_size=3).map(".".join),
    ),
    st.sampled_from(
        [
            '"john doe"@example.com',
            "user+tag@sub.example.co.uk",
            "user@[192.0.2.1]",
            "üser@exämple.com",
            "x" * 64 + "@example.com",
        ]
    ),
)
FORMAT_STRATEGIES: dict[str, st.SearchStrategy[str]] = {
    "date-time": st.tuples(MOMENTS, OFFSETS, st.integers(0, 2)).map(lambda t: _rfc3339_forms(t[0], t[1])[t[2]]),
    "http-date": MOMENTS.map(lambda m: format_datetime(m, usegmt=True)),
    "email": EMAILS,
}
# A pattern that is one character class repeated, such as ^[0-9a-f]{24}$: drawn as text, far cheaper than a regex.
_CLASS_REPEAT = re.compile(r"\^?\[([^\]\\^][^\]\\]*)\]\{(\d+)(?:(,)(\d*))?\}\$?")
EDGE_INTEGERS = (0, 1, -1, 2**31 - 1, -(2**31), 2**53, -(2**53))
ODD_STRINGS = ("", " ", "null", "0", "💬 Q3 review", "two\nlines", "\u202eright-to-left", "nul\x00byte")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
EXTRA_NAMES = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)


def _provider(provider: Provider | str) -> Provider:
    return get_provider(provider) if isinstance(provider, str) else provider


def from_schema(provider: Provider | str, node: Any, *, unknown_fields: bool = False) -> st.SearchStrategy[Any]:
    """A strategy of values for the schema `node` of `provider`'s contract (the keywords the contracts use).

    With `unknown_fields`, objects whose schema does not forbid extra properties sometimes carry
    undocumented ones (what a provider may add to a response; never what a client should send).
    Draws are not validated here: `chat_bodies` and `error_responses` filter on the contract.
    """
    return _strategy(_provider(provider), node, unknown_fields, 0)


def _strategy(provider: Provider, node: Any, extras: bool, depth: int) -> st.SearchStrategy[Any]:
    if depth > MAX_DEPTH:
        raise ValueError(f"{provider.spec_file}: a schema nested over {MAX_DEPTH} levels (recursive?)")
    node = provider.document.deref(node)
    if node is True or node == {}:
        return ANY_JSON
    if not isinstance(node, dict):  # `false`, or not a schema
        return st.nothing()
    nullable = node.get("nullable") is True  # OpenAPI 3.0
    if "const" in node:
        return st.just(node["const"])
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        drawn = st.one_of([_strategy(provider, b, extras, depth + 1) for b in branches])
        return drawn | st.none() if nullable else drawn
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if "enum" in node:
        values = list(node["enum"]) + ([None] if ("null" in kinds or nullable) and None not in node["enum"] else [])
        return st.sampled_from(values)
    if not kinds:
        kinds = ["object"] if "properties" in node else ["null", "boolean", "integer", "number", "string"]
    if nullable and "null" not in kinds:
        kinds.append("null")
    return st.one_of([_for_type(provider, node, kind, extras, depth) for kind in kinds])


def _for_type(provider: Provider, node: dict[str, Any], kind: str, extras: bool, depth: int) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "string":
        return _strings(node)
    if kind in ("integer", "number"):
        return _numbers(node, kind)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        least = node.get("minItems", 0)
        items = _strategy(provider, node.get("items", {}), extras, depth + 1)
        return st.lists(items, min_size=least, max_size=max(least, min(node.get("maxItems", 4), least + 4)))
    if kind == "object":
        return _objects(provider, node, extras, depth)
    raise ValueError(f"{provider.spec_file}: no strategy for type {kind!r}")


def _strings(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if node.get("format") in FORMAT_STRATEGIES:
        return FORMAT_STRATEGIES[node["format"]]
    if "pattern" in node:
        simple = _simple_pattern(node["pattern"])
        return simple if simple is not None else st.from_regex(node["pattern"], fullmatch=True)
    least, most = node.get("minLength", 0), node.get("maxLength")
    cap = least + 40 if most is None else most
    odd = [s for s in ODD_STRINGS if least <= len(s) <= cap]
    long_from, long_to = max(least, 256), 4096 if most is None else most
    options = [st.text(min_size=least, max_size=cap)]
    if odd:
        options.append(st.sampled_from(odd))
    if long_from <= long_to:  # long text, cheaply: one character repeated
        options.append(st.builds(lambda c, n: c * n, st.sampled_from("aé💬"), st.integers(long_from, long_to)))
    return st.one_of(options)


def _simple_pattern(pattern: str) -> st.SearchStrategy[str] | None:
    match = _CLASS_REPEAT.fullmatch(pattern)
    if match is None:
        return None
    members, least, comma, most = match.groups()
    alphabet, i = [], 0
    while i < len(members):
        if i + 2 < len(members) and members[i + 1] == "-":
            alphabet += [chr(c) for c in range(ord(members[i]), ord(members[i + 2]) + 1)]
            i += 3
        else:
            alphabet.append(members[i])
            i += 1
    high = int(least) if comma is None else int(most) if most else None
    return st.text(st.sampled_from(sorted(set(alphabet))), min_size=int(least), max_size=high)


def _numbers(node: dict[str, Any], kind: str) -> st.SearchStrategy[Any]:
    low, high = node.get("minimum"), node.get("maximum")
    if isinstance(node.get("exclusiveMinimum"), int | float):
        low = node["exclusiveMinimum"] + (1 if kind == "integer" else 1e-9)
    if isinstance(node.get("exclusiveMaximum"), int | float):
        high = node["exclusiveMaximum"] - (1 if kind == "integer" else 1e-9)
    edges = [e for e in EDGE_INTEGERS if (low is None or e >= low) and (high is None or e <= high)]
    ints = st.integers(
        min_value=None if low is None else math.ceil(low), max_value=None if high is None else math.floor(high)
    )
    options: list[st.SearchStrategy[Any]] = [ints]
    if edges:
        options.append(st.sampled_from(edges))
    if kind == "number":  # a JSON number may be written as an integer too
        options.append(st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False))
    return st.one_of(options)


def _objects(provider: Provider, node: dict[str, Any], extras: bool, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties", {})
    required = set(node.get("required", []))
    known = st.fixed_dictionaries(
        {k: _strategy(provider, v, extras, depth + 1) for k, v in properties.items() if k in required},
        optional={k: _strategy(provider, v, extras, depth + 1) for k, v in properties.items() if k not in required},
    )
    additional = node.get("additionalProperties", True)
    if not extras or additional is False:
        return known
    values = ANY_JSON if additional is True else _strategy(provider, additional, extras, depth + 1)
    names = EXTRA_NAMES.filter(lambda name: name not in properties)
    unknown = st.dictionaries(names, values, max_size=2)
    return st.builds(lambda a, b: b | a, known, unknown)


# --- bodies and responses ----------------------------------------------------------------------------


def chat_bodies(provider: Provider | str) -> st.SearchStrategy[dict[str, Any]]:
    """Every 200 body the contract allows (and nothing it does not: each is validated)."""
    provider = _provider(provider)
    at = provider.response_schema_pointer(200)
    if at is None:
        raise ValueError(f"{provider.spec_file} documents no JSON body for 200")
    validator = provider.document.validator(at)
    drawn = _strategy(provider, provider.document.resolve(at), True, 0)
    return drawn.filter(validator.is_valid)


def request_bodies(provider: Provider | str) -> st.SearchStrategy[dict[str, Any]]:
    """Every request body the contract allows, with only the fields it lists (what a careful client sends)."""
    provider = _provider(provider)
    at = provider.request_schema_pointer
    drawn = _strategy(provider, provider.document.resolve(at), False, 0)
    return drawn.filter(provider.document.validator(at).is_valid)


# Statuses servers commonly send (RFC 9110, 6585), drawn often within a documented class; any other in the class too.
COMMON_STATUSES = (400, 401, 403, 404, 405, 408, 409, 410, 413, 415, 422, 429, 500, 502, 503, 504)


def _statuses(provider: Provider, key: str) -> st.SearchStrategy[int]:
    """The status codes a `responses` key stands for, less those documented on their own."""
    if key.isdigit():
        return st.just(int(key))
    documented = {int(k) for k in provider.documented_statuses() if k.isdigit()}
    first, last = (400, 599) if key == "default" else (int(key[0]) * 100, int(key[0]) * 100 + 99)
    common = [s for s in COMMON_STATUSES if first <= s <= last and s not in documented]
    drawn = st.integers(first, last).filter(lambda status: status not in documented)
    return st.one_of(st.sampled_from(common), drawn) if common else drawn


def _any_body() -> st.SearchStrategy[Any]:
    """What a response documented without content may carry: any JSON, or a page that is not JSON at all."""
    pages = st.sampled_from([b"", b"Bad Request", b"<html><body><h1>502 Bad Gateway</h1></body></html>"])
    return ANY_JSON | pages


def _body_for(provider: Provider, status: int | str) -> st.SearchStrategy[Any]:
    at = provider.response_schema_pointer(status)
    if at is None:
        return _any_body()
    drawn = _strategy(provider, provider.document.resolve(at), True, 0)
    return drawn.filter(provider.document.validator(at).is_valid)


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> MockResponse:
    headers = dict(headers or {})
    if isinstance(body, bytes):
        headers.setdefault("content-type", "text/html" if body.startswith(b"<") else "text/plain")
    return MockResponse(status, body, headers)


RETRY_AFTER = st.one_of(
    st.integers(0, 3).map(str),  # delay-seconds
    st.integers(0, 10**6).map(
        lambda s: format_datetime(SEED_CREATED - timedelta(seconds=s), usegmt=True)
    ),  # a past date
)


def _rate_limited(provider: Provider) -> st.SearchStrategy[MockResponse]:
    """A 429 with Retry-After (RFC 6585), its body as the contract documents it, else as the provider writes errors."""
    if provider.response_key(429) is not None:
        body = _body_for(provider, 429)
    else:
        messages = st.text(min_size=1, max_size=40)
        body = messages.map(lambda m: error_body(provider, ApiError(429, "rate_limit_exceeded", m)))
    return st.builds(lambda b, wait: _response(429, b, {"retry-after": wait}), body, RETRY_AFTER)


def error_responses(provider: Provider | str, status: int | None = None) -> st.SearchStrategy[MockResponse]:
    """Each documented error status with a valid body (any body where none is documented), and 429 with
    Retry-After; with `status`, that status only (one the contract documents, or 429)."""
    provider = _provider(provider)
    if status is not None:
        key = provider.response_key(status)
        if status == 429:
            return _rate_limited(provider)
        if key is None or not 400 <= status <= 599:
            raise ValueError(f"{provider.spec_file} documents no error response {status}")
        return st.builds(_response, st.just(status), _body_for(provider, key))
    options = [
        st.builds(_response, _statuses(provider, key), _body_for(provider, key))
        for key in provider.documented_statuses()
        if key[0] in "45" or key == "default"
    ]
    options.append(_rate_limited(provider))
    return st.one_of(options)


def responses(provider: Provider | str) -> st.SearchStrategy[MockResponse]:
    """Any answer the contract allows: a valid chat, or an error."""
    return st.one_of(chat_bodies(provider).map(lambda body: MockResponse(200, body)), error_responses(provider))
