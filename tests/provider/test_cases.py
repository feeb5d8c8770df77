"""The deterministic cases come from the contract's shapes: every property gets every JSON type it does not
allow, every enum value and its traps, strings at the boundaries; the same list on every seed."""

from __future__ import annotations

import json

import pytest

from chat_contracts.core.registry import Provider, all_providers, get_provider
from chat_contracts.provider.cases import (
    AUTH_PROBES,
    NO_BODY,
    STORAGE_LENGTHS,
    Case,
    Expect,
    auth_cases,
    body_cases,
    classify,
    credentials,
    field_cases,
    together_cases,
)


@pytest.fixture(params=all_providers(), ids=lambda p: p.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    return request.param


def _cases(provider: Provider, name: str) -> list[Case]:
    return field_cases(provider, name, provider.request_shape.properties[name], current="existing-id")


def test_every_json_type_the_schema_does_not_allow_is_sent_as_invalid(provider: Provider) -> None:
    for name, prop in provider.request_shape.properties.items():
        sent = {type(c.body[name]).__name__ for c in _cases(provider, name) if c.expect is Expect.INVALID}
        expected = {"bool", "int", "float", "str", "list", "dict"} - {
            kind for json_type, kind in (("boolean", "bool"), ("string", "str")) if json_type in prop.types
        }
        assert expected <= sent | {"str"}, (name, sent)  # an enum's wrong strings are strings too


def test_null_is_valid_where_documented_tolerated_where_not(provider: Provider) -> None:
    for spec in provider.fields:
        nulls = [c for c in _cases(provider, spec.name) if c.body == {spec.name: None}]
        assert len(nulls) == 1
        expected = Expect.TOLERATED if spec.on_null == "undocumented" else Expect.SUCCESS
        assert nulls[0].expect is expected, spec.name


def test_every_enum_value_its_case_variants_and_the_empty_string() -> None:
    whop = get_provider("whop")
    cases = {
        c.body["notification_preference"]: c.expect
        for c in _cases(whop, "notification_preference")
        if isinstance(c.body["notification_preference"], str)
    }
    assert cases["all"] is cases["none"] is Expect.SUCCESS
    for trap in ("", "ALL", "All", "NONE", "None", "chat-contracts-not-in-enum"):
        assert cases[trap] is Expect.INVALID, trap


def test_strings_at_the_boundaries(provider: Provider) -> None:
    titles = {c.label.removeprefix("title = "): c for c in _cases(provider, "title")}
    for length in STORAGE_LENGTHS:
        case = titles[f"{length:,} characters"]
        assert len(case.body["title"]) == length and case.expect is Expect.SUCCESS
    assert titles["the empty string"].body == {"title": ""}
    assert titles["whitespace only"].expect is Expect.SUCCESS
    assert any(ord(c) > 0xFFFF for c in titles["astral-plane characters"].body["title"])
    # What many stores cannot hold may be refused with a 4xx, and a lone surrogate goes out as its escape.
    assert titles["U+0000"].expect is titles["a lone surrogate"].expect is Expect.TOLERATED
    assert b"\\ud800" in (titles["a lone surrogate"].content() or b"")


def test_references_are_sent_as_their_current_value_and_as_an_id_naming_nothing(provider: Provider) -> None:
    for name in provider.reference_fields:
        cases = {c.label: c for c in _cases(provider, name)}
        assert cases[f"{name} = its current value"].body == {name: "existing-id"}
        assert cases[f"{name} = its current value"].expect is Expect.SUCCESS
        assert cases[f"{name} = an id naming nothing"].expect is Expect.TOLERATED


def test_several_fields_at_once(provider: Provider) -> None:
    current = {n: "existing-id" for n in provider.reference_fields}
    every, one_wrong = together_cases(provider, provider.request_shape.properties, current)
    assert set(every.body) == provider.field_names and every.expect is Expect.SUCCESS
    assert one_wrong.expect is Expect.INVALID and set(one_wrong.body) == set(every.body)


def test_bodies_that_are_none_empty_not_objects_or_not_json() -> None:
    cases = {c.label: c for c in body_cases()}
    assert cases["no body"].content() is None and cases["empty object {}"].content() == b"{}"
    assert cases["a body of only whitespace"].expect is Expect.TOLERATED
    for label in ("body is an array", "body is a string", "body is a number", "body is true", "body is null",
                  "body is malformed JSON"):  # fmt: skip
        assert cases[label].expect is Expect.INVALID


def test_auth_probes_each_with_and_without_a_body() -> None:
    cases = auth_cases("Tok_abc")
    assert len(cases) == 2 * len(AUTH_PROBES)
    assert {c.auth for c in cases} == set(AUTH_PROBES)
    assert {c.body is NO_BODY for c in cases} == {True, False}
    assert all(c.expect is Expect.UNAUTHORIZED for c in cases)
    assert "case" not in {c.auth for c in auth_cases("1234-5678")}  # nothing to swap: the probe is left out


@pytest.mark.parametrize(
    ("auth", "header"),
    [("valid", "Bearer Tok_abc"), ("none", None), ("empty", "Bearer"), ("scheme", "Token Tok_abc"),
     ("case", "Bearer tOK_ABC"), ("appended", "Bearer Tok_abcx"), ("truncated", "Bearer Tok_ab"),
     ("wrong", "Bearer chat-contracts-invalid-token")],
)  # fmt: skip
def test_credentials(auth: str, header: str | None) -> None:
    assert credentials(auth, "Tok_abc", "Bearer") == header  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (b"\n", Expect.TOLERATED),  # whitespace only: may be taken as no body
        (b"\x0b", Expect.TOLERATED),  # vertical tab: whitespace too, to Python and to many servers
        (b"\x00\xff", Expect.INVALID),
        (b'{"title": "x"}', Expect.SUCCESS),
    ],
)
def test_classify_raw_bodies(body: bytes, expect: Expect) -> None:
    assert classify(get_provider("whop"), body, "generated").expect is expect


def test_classify_is_the_contracts_word_not_the_generators() -> None:
    whop, wilson = get_provider("whop"), get_provider("wilson")
    assert classify(whop, {"title": None}, "g").expect is Expect.SUCCESS
    assert classify(whop, {"title": 1}, "g").expect is Expect.INVALID
    assert classify(whop, {"extra": 1}, "g").expect is Expect.TOLERATED
    assert classify(whop, NO_BODY, "g").expect is Expect.SUCCESS
    nulls = classify(wilson, {"title": None, "archived": True}, "g")
    assert nulls.expect is Expect.TOLERATED and nulls.unchecked == {"title"}
    assert json.loads(classify(wilson, {"title": "t"}, "g").content() or b"") == {"title": "t"}
