"""Every catalogue behaviour really does what its summary says, and the reference does not.

Each probe sends requests through a `Caller` and returns True when it sees the behaviour's symptom. The
catalogue's names are generated from the contracts (`{field}-not-applied`...), so a new field in a
contract gives new entries, and `test_every_catalogue_entry_has_a_probe` asks for their probes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from chat_contracts.core.errors import UnknownNameError
from chat_contracts.core.formats import FORMATS, parse_timestamp
from chat_contracts.core.registry import get_provider
from chat_contracts.reference.faults import (
    UnknownBehaviourError,
    applies,
    build,
    catalogue,
    faults,
    variants,
)
from chat_contracts.reference.mock import DEFAULT_TOKEN
from tests.conftest import Caller, CallerFactory

Probe = Callable[[Caller], bool]
MB = 1024 * 1024

# A value other than the seeded one, valid for the request field of that name.
CHANGED: dict[str, Any] = {
    "title": "Changed title",
    "notification_preference": "none",
    "archived": True,
    "bot_id": "669105e81af7bc07e5ffffff",
    "current_company_id": "biz_5fQm2LxP9dKs3a",
}


def _body(c: Caller) -> dict[str, Any]:
    return dict(c.patch({}).json())


def _status(expected: int, **request: Any) -> Probe:
    def probe(c: Caller) -> bool:
        kwargs = dict(request)
        response = c.patch(kwargs.pop("body"), **kwargs) if "body" in kwargs else c.patch(**kwargs)
        return response.status_code == expected

    return probe


def _field_status(expected: int, field: str, value: Any) -> Probe:
    return _status(expected, body={field: value})


def _as_string(field: str) -> Probe:
    return lambda c: isinstance(_body(c)[field], str)


def _not_in_enum(field: str) -> Probe:
    return lambda c: _body(c)[field] not in (c.provider.chat_shape.properties[field].enum or ())


def _missing(field: str) -> Probe:
    return lambda c: field not in _body(c)


def _applied(field: str, value: Any) -> Probe:
    """Symptom: a value sent and answered 200 is not what the response shows."""

    def probe(c: Caller) -> bool:
        response = c.patch({field: value})
        return response.status_code == 200 and response.json()[c.provider.field(field).response] != value

    return probe


def _resets_the_others(field: str) -> Probe:
    """Symptom: sending `field` puts the other restorable fields back to their seeded values."""

    def probe(c: Caller) -> bool:
        restorable = [f.name for f in c.provider.fields if f.response in c.provider.restore and f.name != field]
        others = {name: CHANGED[name] for name in restorable}
        c.patch(others)
        after = c.patch({field: CHANGED[field]}).json()
        return any(after[c.provider.field(name).response] != value for name, value in others.items())

    return probe


def _changes_across_updates(field: str) -> Probe:
    return lambda c: c.patch({}).json()[field] != c.patch({}).json()[field]


def _unknown_reference(expected: int) -> Probe:
    def probe(c: Caller) -> bool:
        field = c.provider.reference_fields[0]
        return c.patch({field: "000000000000000000000000"}).status_code == expected

    return probe


def _stamp(c: Caller, body: dict[str, Any], field: str) -> datetime:
    return parse_timestamp(c.provider.timestamp_format, body[field])


def _updated_before_created(c: Caller) -> bool:
    body = _body(c)
    return bool(_stamp(c, body, c.provider.updated_field) < _stamp(c, body, c.provider.created_field))


def _updated_goes_backwards(c: Caller) -> bool:
    first, second = _body(c), _body(c)
    return bool(_stamp(c, second, c.provider.updated_field) < _stamp(c, first, c.provider.updated_field))


def _omitted_reset(c: Caller) -> bool:
    c.patch({"title": "Kept"})
    return bool(c.patch({}).json()["title"] != "Kept")


def _not_persisted(c: Caller) -> bool:
    c.patch({"title": "First"})
    shown = c.patch({"title": "Second"}).json()["title"]
    return bool(shown == "Second" and c.patch({}).json()["title"] != "Second")


def _rate_limited(c: Caller) -> bool:
    responses = [c.patch({}) for _ in range(5)]
    return any(r.status_code == 429 and r.headers.get("retry-after") == "0" for r in responses)


def _gzip_bomb(c: Caller) -> bool:
    response = c.patch({})
    return response.headers.get("content-encoding") == "gzip" and len(response.content) > 10 * MB


def _auth_skipped_without_body(c: Caller) -> bool:
    return c.patch(token=None).status_code == 200 and c.patch({}, token=None).status_code == 401


def _error(c: Caller, **request: Any) -> dict[str, Any]:
    return dict(c.patch(request.pop("body", {}), **request).json())


PROBES: dict[str, Probe] = {
    # schema breaks
    "missing-created-timestamp": lambda c: c.provider.created_field not in _body(c),
    "timestamp-as-number": lambda c: type(_body(c)[c.provider.updated_field]) is int,
    "wrong-timestamp-format": lambda c: not FORMATS[c.provider.timestamp_format](_body(c)[c.provider.created_field]),
    "unknown-notification-preference": _not_in_enum("notification_preference"),
    "message-count-as-string": _as_string("message_count"),
    "archived-as-string": _as_string("archived"),
    "null-user": lambda c: _body(c)["user"] is None,
    "omits-null-title": _missing("title"),
    "omits-null-last-message-at": _missing("last_message_at"),
    "members-item-invalid": lambda c: "Ana Lopez" in _body(c)["members"],
    "members-email-with-consecutive-dots": lambda c: any(".." in m for m in _body(c)["members"]),
    # error envelope breaks
    "flat-error-body": lambda c: "error" not in _error(c, token=None),
    "error-code-integer": lambda c: isinstance(_error(c, body={"title": 1})["error"]["code"], int),
    "error-without-message": lambda c: "message" not in _error(c, token=None)["error"],
    # accepting invalid input
    "ignores-wrong-types": _status(200, body={"title": 123}),
    "accepts-non-object-body": _status(200, body=["title"]),
    "accepts-malformed-json": _status(200, raw=b'{"title": '),
    "current-company-id-accepts-array": _field_status(200, "current_company_id", ["biz_5fQm2LxP9dKs3a"]),
    "title-accepts-array": _field_status(200, "title", ["A title"]),
    "bot-id-accepts-array": _field_status(200, "bot_id", ["669105e81af7bc07e5ffffff"]),
    "notification-preference-accepts-empty": _field_status(200, "notification_preference", ""),
    # rejecting valid input
    "rejects-null-current-company-id": _field_status(400, "current_company_id", None),
    "rejects-null-notification-preference": _field_status(400, "notification_preference", None),
    "rejects-null-title": _field_status(400, "title", None),
    "title-length-limit": _field_status(400, "title", "x" * 300),
    "rejects-empty-body": _status(400),
    # 5xx on edge input
    "server-error-on-null": _field_status(500, "current_company_id", None),
    "server-error-on-unicode": _field_status(500, "title", "Réunion ✓"),
    "server-error-on-long-string": _field_status(500, "title", "x" * 5000),
    "server-error-on-empty-string": _field_status(500, "title", ""),
    "server-error-on-256-characters": _field_status(500, "title", "x" * 256),
    "server-error-on-unknown-reference": _unknown_reference(500),
    "server-error-on-malformed-json": _status(500, raw=b"{"),
    # semantic faults
    "title-not-applied": _applied("title", CHANGED["title"]),
    "notification-preference-not-applied": _applied("notification_preference", "none"),
    "archived-not-applied": _applied("archived", True),
    "bot-id-not-applied": _applied("bot_id", CHANGED["bot_id"]),
    "null-title-ignored": _applied("title", None),
    "omitted-fields-reset": _omitted_reset,
    "title-resets-the-others": _resets_the_others("title"),
    "notification-preference-resets-the-others": _resets_the_others("notification_preference"),
    "archived-resets-the-others": _resets_the_others("archived"),
    "bot-id-resets-the-others": _resets_the_others("bot_id"),
    "update-not-persisted": _not_persisted,
    "response-id-mismatch": lambda c: _body(c)["id"] != c.api.chat_id,
    "updated-before-created": _updated_before_created,
    "updated-goes-backwards": _updated_goes_backwards,
    "message-count-changes": _changes_across_updates("message_count"),
    "blended-token-usage-changes": _changes_across_updates("blended_token_usage"),
    "created-at-changes": _changes_across_updates("created_at"),
    "user-changes": _changes_across_updates("user"),
    "create-at-changes": _changes_across_updates("create_at"),
    "company-id-changes": _changes_across_updates("company_id"),
    "members-changes": _changes_across_updates("members"),
    "last-message-at-moves": _changes_across_updates("last_message_at"),
    # auth
    "no-auth": _status(200, token=None),
    "any-token": _status(200, token="wrong"),
    "token-case-insensitive": _status(200, token=DEFAULT_TOKEN.upper()),
    "token-prefix-accepted": _status(200, token=DEFAULT_TOKEN + "-and-more"),
    "any-auth-scheme": _status(200, token=None, headers={"Authorization": f"Token {DEFAULT_TOKEN}"}),
    "auth-skipped-without-body": _auth_skipped_without_body,
    "auth-error-without-envelope": lambda c: c.patch({}, token=None).headers["content-type"].startswith("text/plain"),
    "auth-server-error": _status(500, token=None),
    # unknown ids
    "unknown-id-upsert": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 200,
    "unknown-id-server-error": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 500,
    "unknown-id-bad-request": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 400,
    # transport
    "text-content-type": lambda c: c.patch({}).headers["content-type"].startswith("text/html"),
    "gzip-bomb": _gzip_bomb,
    # conforming variants
    "rejects-unknown-fields": _status(400, body={"colour": "red"}),
    "rejects-unknown-references": _unknown_reference(404),
    "extra-response-fields": lambda c: "agent_identifier" in _body(c),
    "serves-other-methods": _status(200, method="GET"),
    "rate-limited": _rate_limited,
    "forbidden-for-wrong-token": _status(403, token="wrong"),
    "chat-without-bot-id": _missing("bot_id"),
    "updated-only-on-change": lambda c: _body(c)[c.provider.updated_field] == _body(c)[c.provider.updated_field],
    "echoes-token": lambda c: _body(c).get("debug_authorization") == f"Bearer {DEFAULT_TOKEN}",
    "trims-whitespace": lambda c: c.patch({"title": "  padded  "}).json()["title"] == "padded",
    "normalises-unicode": lambda c: c.patch({"title": "Cafe\u0301"}).json()["title"] == "Caf\u00e9",
    "refuses-nul": _field_status(400, "title", "a\x00b"),
    "rejects-whitespace-body": _status(400, raw=b" \n\t "),
}

CATALOGUE = catalogue()
CASES = [(name, provider) for name, behaviour in CATALOGUE.items() for provider in behaviour.providers]


def test_every_catalogue_entry_has_a_probe() -> None:
    assert len(CATALOGUE) >= 80 and len(CASES) >= 120
    assert len(faults()) >= 60 and len(variants()) >= 12
    assert sorted(set(CATALOGUE) - set(PROBES)) == [], "catalogue entries without a probe"
    assert sorted(set(PROBES) - set(CATALOGUE)) == [], "probes for behaviours the catalogue no longer has"


@pytest.mark.parametrize(("name", "provider"), CASES, ids=[f"{p}-{n}" for n, p in CASES])
def test_behaviour_shows_its_symptom_and_the_reference_does_not(
    caller: CallerFactory, name: str, provider: str
) -> None:
    assert PROBES[name](caller(provider, name)) is True, f"{name} does not misbehave as it says"
    assert PROBES[name](caller(provider)) is False, f"the reference shows the symptom of {name}"


def test_every_behaviour_names_its_clause_and_says_what_it_does() -> None:
    for behaviour in CATALOGUE.values():
        assert behaviour.summary and behaviour.summary.endswith((".", ")")), behaviour.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", behaviour.name), behaviour.name
        assert behaviour.conforms is (behaviour.caught_by is None)
        assert set(behaviour.clauses) == set(behaviour.providers)
        for provider_name, clause in behaviour.clauses.items():
            spec = get_provider(provider_name).spec_file
            assert clause.startswith((f"{spec}#/", "contracts/README.md#")), clause
            if clause.startswith(f"{spec}#/"):  # it points at something in the contract
                get_provider(provider_name).document.resolve(clause.split("#", 1)[1])


def test_every_check_has_a_fault_that_proves_it_can_fail() -> None:
    from chat_contracts.provider.checks import CHECKS

    assert {b.caught_by for b in faults()} == set(CHECKS)


def test_fault_for_the_wrong_provider_is_refused() -> None:
    assert not applies("archived-not-applied", get_provider("whop"))
    with pytest.raises(UnknownBehaviourError, match="unknown fault 'archived-not-applied' for provider 'whop'"):
        build(get_provider("whop"), "archived-not-applied")


def test_behaviours_compose_with_plus(caller: CallerFactory) -> None:
    c = caller("whop", "echoes-token+title-not-applied")
    assert PROBES["echoes-token"](c) and PROBES["title-not-applied"](c)
    assert applies("echoes-token+title-not-applied", get_provider("whop"))


def test_unknown_part_of_a_composition_is_refused() -> None:
    with pytest.raises(UnknownBehaviourError, match="unknown fault 'nope'") as refused:
        build(get_provider("wilson"), "echoes-token+nope")
    assert isinstance(refused.value, UnknownNameError) and "\n" not in str(refused.value)


@pytest.mark.parametrize("name", sorted(b.name for b in variants()))
def test_conforming_variants_answer_within_the_contract(caller: CallerFactory, name: str) -> None:
    for provider in CATALOGUE[name].providers:
        c = caller(provider, name)
        response = c.patch({"title": "Within the contract"})
        if response.status_code == 200:
            errors = c.provider.document.errors(response.json(), str(c.provider.response_schema_pointer(200)))
            assert [e.message for e in errors] == [], (provider, name)
