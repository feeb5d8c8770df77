"""The reference mocks are faithful to their contracts (the suite's yardstick, so tested directly)."""

from __future__ import annotations

from typing import Any

import pytest

from chat_contracts.core.formats import FORMATS, parse_timestamp
from chat_contracts.core.registry import get_provider
from tests.conftest import CallerFactory

PROVIDERS = ["whop", "wilson"]


def _schema_errors(provider_name: str, status: int, body: object) -> list[str]:
    provider = get_provider(provider_name)
    at = provider.response_schema_pointer(status)
    return [] if at is None else [e.message for e in provider.document.errors(body, at)]


@pytest.mark.parametrize("name", PROVIDERS)
def test_empty_update_returns_the_seeded_chat_valid_against_the_contract(caller: CallerFactory, name: str) -> None:
    c = caller(name)
    for response in (c.patch({}), c.patch()):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert _schema_errors(name, 200, response.json()) == []
        assert response.json()["id"] == c.api.chat_id


@pytest.mark.parametrize(
    ("name", "update"),
    [
        ("whop", {"title": "Help with billing"}),
        ("whop", {"title": None}),
        ("whop", {"notification_preference": "none"}),
        ("whop", {"notification_preference": "all"}),
        ("whop", {"title": "Réunion ✓ 日本", "notification_preference": "none"}),
        ("wilson", {"title": "Updated chat title"}),
        ("wilson", {"archived": True}),
        ("wilson", {"bot_id": "669105e81af7bc07e5ffffff"}),
        ("wilson", {"title": "x" * 5000, "archived": False}),
    ],
)
def test_fields_sent_are_applied_and_others_kept(caller: CallerFactory, name: str, update: dict[str, Any]) -> None:
    c = caller(name)
    before = c.patch({}).json()
    after = c.patch(update).json()
    assert _schema_errors(name, 200, after) == []
    provider = get_provider(name)
    for key, value in update.items():
        assert after[provider.field(key).response] == value
    changed = {provider.field(k).response for k in update} | {provider.updated_field}
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    fmt = provider.timestamp_format
    assert parse_timestamp(fmt, after[provider.updated_field]) >= parse_timestamp(fmt, before[provider.updated_field])


def test_whop_null_preference_keeps_it_and_company_is_stored_unseen(caller: CallerFactory) -> None:
    c = caller("whop")
    c.patch({"notification_preference": "none"})
    body = c.patch({"notification_preference": None, "current_company_id": "biz_XXXXX"}).json()
    assert body["notification_preference"] == "none"
    assert "current_company_id" not in body
    assert c.api.hidden[c.api.chat_id] == {"current_company_id": "biz_XXXXX"}


def test_whop_timestamps_are_rfc3339_with_milliseconds(caller: CallerFactory) -> None:
    body = caller("whop").patch({"title": "t"}).json()
    assert FORMATS["date-time"](body["updated_at"]) and body["updated_at"].endswith("Z")
    assert len(body["updated_at"]) == len("2023-12-01T05:00:00.401Z")


def test_wilson_dates_are_rfc1123(caller: CallerFactory) -> None:
    body = caller("wilson").patch({"title": "t"}).json()
    assert FORMATS["http-date"](body["create_at"]) and FORMATS["http-date"](body["update_at"])


@pytest.mark.parametrize("name", PROVIDERS)
def test_unknown_fields_are_ignored(caller: CallerFactory, name: str) -> None:
    c = caller(name)
    response = c.patch({"colour": "red", "title": "t"})
    assert response.status_code == 200 and "colour" not in response.json()


def test_chat_id_is_configurable(caller: CallerFactory) -> None:
    c = caller("wilson", chat_id="0123456789abcdef01234567")
    assert c.patch({}).json()["id"] == "0123456789abcdef01234567"


def test_the_pinned_api_version_is_accepted_and_another_refused(caller: CallerFactory) -> None:
    c = caller("whop")
    header = c.provider.version_header
    assert header is not None
    assert c.patch({"title": "t"}, headers={header.name: header.value}).status_code == 200
    refused = c.patch({"title": "t"}, headers={header.name: "2025-01-01"})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", header.name)
    assert header.value in error["message"]
    assert _schema_errors("whop", 400, refused.json()) == []


def test_without_a_version_header_nothing_is_asked_of_one(caller: CallerFactory) -> None:
    assert caller("wilson").patch({}, headers={"Api-Version-Date": "whatever"}).status_code == 200


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_seeded_chat_is_valid_and_fills_every_documented_field(caller: CallerFactory, name: str) -> None:
    provider = get_provider(name)
    body = caller(name).patch({}).json()
    assert _schema_errors(name, 200, body) == []
    assert set(provider.chat_shape.properties) == set(body)


@pytest.mark.parametrize("name", PROVIDERS)
def test_updated_moves_forward_on_every_update(caller: CallerFactory, name: str) -> None:
    c = caller(name)
    provider = c.provider
    stamps = [parse_timestamp(provider.timestamp_format, c.patch({}).json()[provider.updated_field]) for _ in range(3)]
    assert stamps == sorted(stamps)
    if provider.timestamp_format == "date-time":  # sub-second resolution: every update is seen to move
        assert len(set(stamps)) == 3


# --- errors ----------------------------------------------------------------------------------------

WHOP_ERRORS = [
    ({"token": None}, 401, "unauthorized", None, None),
    ({"token": "wrong"}, 401, "unauthorized", None, None),
    ({"chat_id": "aich_00000000000000"}, 404, "not_found", None, None),
    ({"body": {"title": 5}}, 400, "invalid_request_error", "parameter_invalid", "title"),
    (
        {"body": {"notification_preference": "some"}},
        400,
        "invalid_request_error",
        "parameter_invalid",
        "notification_preference",
    ),
    ({"body": {"current_company_id": []}}, 400, "invalid_request_error", "parameter_invalid", "current_company_id"),
    ({"body": ["title"]}, 400, "invalid_request_error", "invalid_json", None),
    ({"raw": b'{"title": '}, 400, "invalid_request_error", "invalid_json", None),
]


@pytest.mark.parametrize(("kwargs", "status", "type_", "code", "param"), WHOP_ERRORS)
def test_whop_errors_use_the_documented_envelope(
    caller: CallerFactory, kwargs: dict[str, Any], status: int, type_: str, code: str | None, param: str | None
) -> None:
    c = caller("whop")
    if "body" in kwargs:
        kwargs = {**kwargs}
        response = c.patch(kwargs.pop("body"), **kwargs)
    else:
        response = c.patch(**kwargs)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error.get("code"), error.get("param")) == (type_, code, param)
    assert _schema_errors("whop", status, response.json()) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token": None},
        {"token": "wrong"},
        {"chat_id": "000000000000000000000000"},
        {"body": {"archived": "yes"}},
        {"body": {"title": None}},
        {"body": "title"},
        {"raw": b"{oops"},
    ],
)
def test_wilson_errors_are_4xx(caller: CallerFactory, kwargs: dict[str, Any]) -> None:
    c = caller("wilson")
    kwargs = dict(kwargs)
    response = c.patch(kwargs.pop("body"), **kwargs) if "body" in kwargs else c.patch(**kwargs)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("name", PROVIDERS)
def test_other_methods_are_405_with_allow(caller: CallerFactory, name: str) -> None:
    response = caller(name).patch(method="GET")
    assert response.status_code == 405 and response.headers["allow"] == "PATCH"


def test_rate_limit_answers_429_with_retry_after_and_envelope(caller: CallerFactory) -> None:
    c = caller("whop", rate_limit_per_minute=3)
    statuses = [c.patch({}).status_code for _ in range(3)]
    limited = c.patch({})
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["type"] == "rate_limit_exceeded"


def test_wilson_accepts_bearer_token_in_quotes_as_its_docs_show(caller: CallerFactory) -> None:
    c = caller("wilson")
    assert c.patch({}, token=None, headers={"Authorization": 'Bearer "cc_test_token"'}).status_code == 200
