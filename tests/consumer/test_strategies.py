"""The strategies draw what the contract allows, all of it, and nothing else. (That no code of theirs
names a provider is tested for the whole package in tests/core/test_registry.py.)"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chat_contracts.consumer import chat_bodies, error_responses, from_schema, request_bodies, responses
from chat_contracts.consumer.strategies import COMMON_STATUSES
from chat_contracts.core.registry import get_provider, provider_names
from chat_contracts.core.schema import json_type
from chat_contracts.reference.mock import SEED_CREATED, MockResponse

WHOP, WILSON = get_provider("whop"), get_provider("wilson")
PROVIDERS = list(provider_names())
ABSENT = object()
COLLECT = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
# Searches are derandomised: what one run finds, every run finds (with this version of hypothesis).
SEARCH = settings(COLLECT, max_examples=500, phases=(Phase.generate,), derandomize=True)


def collect(strategy: st.SearchStrategy[Any], examples: int = 30) -> list[Any]:
    """`examples` draws (each one is checked by the caller: a property of every draw)."""
    drawn: list[Any] = []

    @settings(COLLECT, max_examples=examples)
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


class _AllSeen(Exception):
    """Every value searched for was drawn: the search stops."""


def unseen(
    strategy: st.SearchStrategy[Any],
    wanted: dict[str, Callable[[Any], bool]],
    every: Callable[[Any], None] | None = None,
    at_least: int = 30,
) -> list[str]:
    """Which of `wanted` (what: condition) no draw met, in one search of up to 500 draws (searched for,
    not hoped for in a sample). `every` is called on each draw (to assert what holds of all of them)."""
    left, draws = dict(wanted), 0

    @settings(SEARCH)
    @given(strategy)
    def search(value: Any) -> None:
        nonlocal draws
        draws += 1
        if every is not None:
            every(value)
        for what, condition in list(left.items()):
            if condition(value):
                del left[what]
        if not left and draws >= at_least:
            raise _AllSeen

    with contextlib.suppress(_AllSeen):
        search()
    return sorted(left)


def _has(field: str, condition: Callable[[Any], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda body: condition(body.get(field, ABSENT))


def _equals(expected: Any) -> Callable[[Any], bool]:
    return lambda value: value is not ABSENT and value == expected and type(value) is type(expected)


def _of_type(kind: str) -> Callable[[Any], bool]:
    return lambda value: value is not ABSENT and json_type(value) == kind


def _status(status: int) -> Callable[[MockResponse], bool]:
    return lambda response: response.status == status


def _json_body(kind: str) -> Callable[[MockResponse], bool]:
    return lambda response: not isinstance(response.body, bytes) and json_type(response.body) == kind


@pytest.mark.parametrize("name", PROVIDERS)
def test_chat_bodies_are_valid_and_draw_all_the_schema_allows(name: str) -> None:
    """Each enum value, each type, null where nullable, absent where optional, undocumented fields too."""
    p = get_provider(name)
    at = p.chat_schema_pointer
    wanted: dict[str, Callable[[Any], bool]] = {}
    for field, shape in p.chat_shape.properties.items():
        for value in shape.enum or ():
            wanted[f"{field}: {value!r}"] = _has(field, _equals(value))
        for kind in shape.types if shape.enum is None else ():
            wanted[f"{field}: {kind}"] = _has(field, _of_type(kind))
        if shape.nullable:
            wanted[f"{field}: null"] = _has(field, lambda v: v is None)
        if field not in p.chat_shape.required:
            wanted[f"{field}: absent"] = _has(field, lambda v: v is ABSENT)
    wanted["a field the contract does not list"] = lambda body: bool(set(body) - set(p.chat_shape.properties))

    def valid(body: dict[str, Any]) -> None:
        assert p.document.errors(body, at) == []

    assert unseen(chat_bodies(p), wanted, every=valid) == []


EDGES: dict[str, Callable[[Any], bool]] = {
    "an empty title": _has("title", lambda t: t == ""),
    "a long title": _has("title", lambda t: isinstance(t, str) and len(t) >= 256),
    "a title beyond ASCII": _has("title", lambda t: isinstance(t, str) and not t.isascii()),
    "a timestamp in Z": _has("created_at", lambda t: t.endswith("Z")),
    "a timestamp with an offset": _has("created_at", lambda t: re.search(r"[+-]\d\d:\d\d$", t) is not None),
    "a 32-bit boundary": _has("message_count", lambda n: n == 2**31 - 1),
    "a float64 boundary": _has("message_count", lambda n: n == 2**53),
    "a negative count": _has("message_count", lambda n: n < 0),
}


def test_edge_values_are_drawn() -> None:
    assert unseen(chat_bodies(WHOP), EDGES, at_least=0) == []


@pytest.mark.parametrize("name", PROVIDERS)
def test_request_bodies_are_valid_and_carry_only_fields_the_contract_lists(name: str) -> None:
    p = get_provider(name)
    bodies = collect(request_bodies(p))
    assert all(p.document.errors(body, p.request_schema_pointer) == [] for body in bodies)
    assert all(set(body) <= set(p.request_shape.properties) for body in bodies)
    assert set().union(*bodies) == set(p.request_shape.properties)  # each field is sent sometimes


def _retry_after_is_valid(value: str) -> bool:
    """RFC 9110 section 10.2.3: delay-seconds, or an HTTP-date (here never in the future: no endless waits)."""
    return value.isdigit() or parsedate_to_datetime(value) <= SEED_CREATED


def test_whop_error_responses_are_the_documented_statuses_with_valid_envelopes_and_429() -> None:
    documented = {int(s) for s in WHOP.documented_statuses() if s[0] in "45"}
    assert documented == {400, 401, 403, 404, 422, 500}

    def valid(response: MockResponse) -> None:
        at = WHOP.response_schema_pointer(response.status)
        if at is None:  # 429, undocumented: written as the provider writes its errors (the registry)
            assert response.status == 429 and set(response.body) == set(WHOP.reference_error)
            assert _retry_after_is_valid(response.headers["retry-after"])
        else:
            assert response.status in documented and WHOP.document.errors(response.body, at) == [], response

    wanted = {str(status): _status(status) for status in documented | {429}}
    assert unseen(error_responses(WHOP), wanted, every=valid) == []


def test_wilson_error_responses_are_any_4xx_with_any_body() -> None:
    def valid(response: MockResponse) -> None:
        assert 400 <= response.status <= 499
        if response.status == 429 and "retry-after" in response.headers:
            assert _retry_after_is_valid(response.headers["retry-after"])

    wanted = {str(status): _status(status) for status in (400, 404, 429)}
    wanted["any other 4xx"] = lambda r: r.status not in COMMON_STATUSES
    wanted |= {f"a JSON {kind}": _json_body(kind) for kind in ("object", "array", "string", "null")}  # any JSON...
    wanted["a body that is not JSON"] = lambda r: isinstance(r.body, bytes) and r.body.startswith(b"<html")
    wanted["429 with Retry-After"] = lambda r: r.status == 429 and "retry-after" in r.headers
    assert unseen(error_responses(WILSON), wanted, every=valid) == []


def test_each_drawn_response_encodes_with_a_content_type_that_matches_its_body() -> None:
    for response in collect(error_responses(WILSON)):
        status, headers, body = response.encoded()
        assert headers["content-type"] in ("application/json", "text/plain", "text/html")
        assert isinstance(body, bytes) and status == response.status


@pytest.mark.parametrize(("name", "status"), [("whop", 404), ("whop", 429), ("wilson", 404), ("wilson", 429)])
def test_error_responses_for_one_status(name: str, status: int) -> None:
    drawn = collect(error_responses(name, status))
    assert {r.status for r in drawn} == {status}
    if status == 429:
        assert all(_retry_after_is_valid(r.headers["retry-after"]) for r in drawn)


@pytest.mark.parametrize(("name", "status"), [("whop", 418), ("whop", 200), ("wilson", 500)])
def test_a_status_the_contract_does_not_document_is_refused(name: str, status: int) -> None:
    with pytest.raises(ValueError, match=f"documents no error response {status}"):
        error_responses(name, status)


def test_responses_are_chats_or_errors() -> None:
    wanted = {"a chat": lambda r: r.status == 200, "an error": lambda r: r.status >= 400}
    assert unseen(responses(WHOP), wanted, at_least=0) == []


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "string", "nullable": True}, lambda v: v is None or isinstance(v, str)),
        ({"type": "integer", "minimum": 3, "maximum": 5}, lambda v: v in (3, 4, 5)),
        ({"type": "integer", "exclusiveMinimum": -2, "exclusiveMaximum": 2}, lambda v: v in (-1, 0, 1)),
        ({"type": "string", "minLength": 2, "maxLength": 3}, lambda v: 2 <= len(v) <= 3),
        ({"const": "fixed"}, lambda v: v == "fixed"),
        ({"enum": ["a", "b"], "nullable": True}, lambda v: v in ("a", "b", None)),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 1}, lambda v: v and all(x in (0, 1) for x in v)),
    ],
)
def test_from_schema_keeps_to_the_keywords(schema: dict[str, Any], check: Any) -> None:
    assert all(check(value) for value in collect(from_schema(WHOP, schema)))


def test_from_schema_adds_unknown_fields_only_when_asked_and_allowed() -> None:
    open_object = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    closed_object = open_object | {"additionalProperties": False}
    assert all(set(v) == {"a"} for v in collect(from_schema(WHOP, open_object)))
    assert all(set(v) == {"a"} for v in collect(from_schema(WHOP, closed_object, unknown_fields=True)))
    with_extras = {"an unknown field": lambda v: set(v) > {"a"}}
    assert unseen(from_schema(WHOP, open_object, unknown_fields=True), with_extras, at_least=0) == []


def test_a_recursive_schema_is_refused_not_drawn_forever() -> None:
    nested: dict[str, Any] = {"type": "string"}
    for _ in range(30):
        nested = {"type": "object", "properties": {"child": nested}}
    with pytest.raises(ValueError, match="nested over"):
        from_schema(WHOP, nested)
