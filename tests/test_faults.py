"""Every catalogue behaviour really does what it says, and the reference does not.

Each probe sends requests through a `Caller` and returns True when it sees the behaviour's symptom.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chat_contracts.faults import CATALOGUE, UnknownBehaviourError, build, faults, variants
from chat_contracts.formats import FORMATS, parse_timestamp
from chat_contracts.registry import get_provider
from tests.conftest import Caller

Probe = Callable[[Caller], bool]


def _body(c: Caller) -> dict:
    return c.patch({}).json()


def _updated_before_created(c: Caller) -> bool:
    p, body = c.provider, _body(c)
    fmt = p.timestamp_format
    return parse_timestamp(fmt, body[p.updated_field]) < parse_timestamp(fmt, body[p.created_field])


def _changes_across_updates(field: str) -> Probe:
    return lambda c: c.patch({}).json()[field] != c.patch({}).json()[field]


def _applied(field: str, value: object) -> Probe:
    """Symptom: the value sent and answered 200 is not what the response shows."""

    def probe(c: Caller) -> bool:
        response = c.patch({field: value})
        return response.status_code == 200 and response.json()[c.provider.field(field).response] != value

    return probe


def _status(expected: int, **request) -> Probe:
    def probe(c: Caller) -> bool:
        kwargs = dict(request)
        return (
            c.patch(kwargs.pop("body"), **kwargs) if "body" in kwargs else c.patch(**kwargs)
        ).status_code == expected

    return probe


def _reference_status(expected: int) -> Probe:
    return lambda c: c.patch({c.provider.reference_fields[0]: "biz_doesnotexist"}).status_code == expected


def _omitted_reset(c: Caller) -> bool:
    c.patch({"title": "Kept"})
    return c.patch({}).json()["title"] != "Kept"


def _rate_limited(c: Caller) -> bool:
    responses = [c.patch({}) for _ in range(5)]
    return any(r.status_code == 429 and r.headers.get("retry-after") == "0" for r in responses)


PROBES: dict[str, Probe] = {
    # schema breaks
    "missing-created-timestamp": lambda c: c.provider.created_field not in _body(c),
    "timestamp-as-number": lambda c: isinstance(_body(c)[c.provider.updated_field], int),
    "wrong-timestamp-format": lambda c: not FORMATS[c.provider.timestamp_format](_body(c)[c.provider.created_field]),
    "unknown-notification-preference": lambda c: _body(c)["notification_preference"] not in ("all", "none"),
    "message-count-as-string": lambda c: isinstance(_body(c)["message_count"], str),
    "null-user": lambda c: _body(c)["user"] is None,
    "omits-null-last-message-at": lambda c: "last_message_at" not in _body(c),
    "archived-as-string": lambda c: isinstance(_body(c)["archived"], str),
    "member-not-id-or-email": lambda c: "Ana Lopez" in _body(c)["members"],
    # envelope breaks
    "flat-error-body": lambda c: "error" not in c.patch({}, token=None).json(),
    "error-code-integer": lambda c: isinstance(c.patch({"title": 1}).json()["error"]["code"], int),
    "error-without-message": lambda c: "message" not in c.patch({}, token=None).json()["error"],
    # accepting invalid input
    "ignores-wrong-types": _status(200, body={"title": 123}),
    "accepts-non-object-body": _status(200, body=["title"]),
    "accepts-malformed-json": _status(200, raw=b'{"title": '),
    # rejecting valid input
    "rejects-null-title": _status(400, body={"title": None}),
    "rejects-null-notification-preference": _status(400, body={"notification_preference": None}),
    "title-length-limit": _status(400, body={"title": "x" * 300}),
    "rejects-empty-body": _status(400),
    # 5xx on edge input
    "server-error-on-null": _status(500, body={"current_company_id": None}),
    "server-error-on-unicode": _status(500, body={"title": "Réunion ✓"}),
    "server-error-on-long-title": _status(500, body={"title": "x" * 5000}),
    "server-error-on-unknown-reference": _reference_status(500),
    "server-error-on-malformed-json": _status(500, raw=b"{"),
    # semantic faults
    "title-not-applied": _applied("title", "New title"),
    "notification-preference-not-applied": _applied("notification_preference", "none"),
    "archived-not-applied": _applied("archived", True),
    "bot-id-not-applied": _applied("bot_id", "669105e81af7bc07e5ffffff"),
    "null-title-ignored": _applied("title", None),
    "omitted-fields-reset": _omitted_reset,
    "response-id-mismatch": lambda c: _body(c)["id"] != c.api.chat_id,
    "updated-before-created": _updated_before_created,
    "message-count-changes": _changes_across_updates("message_count"),
    "members-grow": _changes_across_updates("members"),
    "last-message-at-moves": _changes_across_updates("last_message_at"),
    # auth
    "no-auth": _status(200, token=None),
    "any-token": _status(200, token="wrong"),
    "auth-error-without-envelope": lambda c: c.patch({}, token=None).headers["content-type"] == "text/plain",
    "auth-server-error": _status(500, token=None),
    # unknown ids
    "unknown-id-upsert": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 200,
    "unknown-id-server-error": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 500,
    "unknown-id-bad-request": lambda c: c.patch({}, chat_id=c.provider.unknown_id).status_code == 400,
    # transport
    "text-content-type": lambda c: c.patch({}).headers["content-type"].startswith("text/html"),
    # conforming variants
    "rejects-unknown-fields": _status(400, body={"colour": "red"}),
    "rejects-unknown-references": _reference_status(404),
    "extra-response-fields": lambda c: "agent_identifier" in _body(c),
    "serves-other-methods": _status(200, method="GET"),
    "rate-limited": _rate_limited,
    "forbidden-for-wrong-token": _status(403, token="wrong"),
    "chat-without-bot": lambda c: "bot_id" not in _body(c),
    "echoes-token": lambda c: _body(c).get("debug_authorization") == "Bearer cc_test_token",
    "updated-only-on-change": lambda c: _body(c)[c.provider.updated_field] == _body(c)[c.provider.updated_field],
}

CASES = [(b.name, p) for b in CATALOGUE.values() for p in b.providers]


def test_catalogue_size_and_every_behaviour_has_a_probe() -> None:
    assert len(faults()) >= 25 and len(variants()) >= 5
    assert set(PROBES) == set(CATALOGUE)


def test_every_behaviour_names_its_clause_and_says_what_it_does() -> None:
    for behaviour in CATALOGUE.values():
        assert behaviour.summary, behaviour.name
        for provider, clause in behaviour.clause.items():
            assert provider in ("whop", "wilson")
            assert clause.startswith((f"{get_provider(provider).spec_file}#/", "contracts/README.md#")), clause


@pytest.mark.parametrize(("name", "provider"), CASES, ids=[f"{p}-{n}" for n, p in CASES])
def test_behaviour_shows_its_symptom_and_the_reference_does_not(caller, name: str, provider: str) -> None:
    assert PROBES[name](caller(provider, name)) is True
    assert PROBES[name](caller(provider)) is False


def test_fault_for_the_wrong_provider_is_refused() -> None:
    with pytest.raises(UnknownBehaviourError, match="unknown fault 'archived-not-applied' for provider 'whop'"):
        build(get_provider("whop"), "archived-not-applied")


def test_behaviours_compose_with_plus(caller) -> None:
    c = caller("whop", "echoes-token+title-not-applied")
    assert PROBES["echoes-token"](c) and PROBES["title-not-applied"](c)


def test_unknown_part_of_a_composition_is_refused() -> None:
    with pytest.raises(UnknownBehaviourError, match="unknown fault 'nope'"):
        build(get_provider("wilson"), "echoes-token+nope")


def test_every_check_has_a_fault_that_proves_it_can_fail() -> None:
    from chat_contracts.checks import CHECKS

    # `idempotent` judges a pair of exchanges, so it lives in verify, not in the per-exchange CHECKS.
    assert {b.caught_by for b in faults()} == set(CHECKS) | {"idempotent"}
