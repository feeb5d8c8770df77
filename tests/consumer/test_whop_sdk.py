"""The official Whop SDK 0.0.41 (Stainless, matching the pinned spec) against the contract mock:
every request it sends conforms, every contract-valid 200 parses under strict validation, and each
documented error status maps to its exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_contracts.consumer import ContractMock, chat_bodies, from_schema
from chat_contracts.mock import MockResponse
from chat_contracts.registry import get_provider

whop_sdk = pytest.importorskip("whop_sdk", reason="whop-sdk==0.0.41 is a dev dependency")
if whop_sdk.__version__ != "0.0.41":
    pytest.skip(f"this module proves whop-sdk 0.0.41, found {whop_sdk.__version__}", allow_module_level=True)

WHOP = get_provider("whop")
CHAT_ID = "aich_k2JdQvX8mP4rTz"
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def client() -> Any:
    return whop_sdk.Whop(api_key="cc_test_token", base_url=WHOP.server, _strict_response_validation=True, max_retries=0)


@EXAMPLES
@given(update=from_schema(WHOP, WHOP.document.resolve(WHOP.request_schema_pointer)))
def test_every_request_the_sdk_sends_conforms(update: dict[str, Any]) -> None:
    with ContractMock.for_provider("whop").routed() as mock:
        client().ai_chats.update(CHAT_ID, **update)
    mock.assert_conforms()
    assert mock.drift == []
    (request,) = mock.requests
    assert request.path == f"/ai_chats/{CHAT_ID}" and request.method == "PATCH"


@EXAMPLES
@given(body=chat_bodies(WHOP))
def test_every_contract_valid_chat_parses_under_strict_validation(body: dict[str, Any]) -> None:
    with ContractMock.for_provider("whop").routed() as mock:
        mock.respond_with(body)
        chat = client().ai_chats.update(CHAT_ID, title="Help with billing")
    mock.assert_conforms()
    assert chat.id == body["id"]
    assert chat.title == body["title"]
    assert chat.notification_preference == body["notification_preference"]
    assert chat.message_count == body["message_count"]
    assert (chat.last_message_at is None) == (body["last_message_at"] is None)


ERRORS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    500: "InternalServerError",
}


@pytest.mark.parametrize(("status", "exception"), ERRORS.items())
def test_each_error_status_maps_to_its_exception(status: int, exception: str) -> None:
    at = WHOP.response_schema_pointer(status) or WHOP.response_schema_pointer(400)  # 429: the same envelope

    @settings(max_examples=10, deadline=None)
    @given(body=from_schema(WHOP, WHOP.document.resolve(at)))
    def check(body: dict[str, Any]) -> None:
        with ContractMock.for_provider("whop").routed() as mock:
            mock.respond_with(MockResponse(status, body, {"retry-after": "1"} if status == 429 else {}))
            with pytest.raises(getattr(whop_sdk, exception)) as raised:
                client().ai_chats.update(CHAT_ID, title="x")
        assert raised.value.status_code == status
        mock.assert_conforms()

    check()


def test_the_fixture_reports_a_violation_with_its_clause(contract_mock) -> None:
    mock = contract_mock("whop")
    client().ai_chats.update(CHAT_ID, extra_body={"title": 42})  # a client bug: a number for a string
    assert [v.clause for v in mock.violations] == [
        "whop.openapi.yaml#/paths/~1ai_chats~1{id}/patch/requestBody/content/application~1json/schema"
        "/properties/title/type"
    ]
    mock.violations.clear()  # seen: do not fail the teardown


def test_every_drawn_body_is_contract_valid_and_covers_nulls_and_enums() -> None:
    seen: dict[str, set] = {"title": set(), "notification_preference": set(), "last_message_at": set()}

    @settings(max_examples=150, deadline=None)
    @given(body=chat_bodies(WHOP))
    def collect(body: dict[str, Any]) -> None:
        assert WHOP.document.errors(body, WHOP.response_schema_pointer(200)) == []
        seen["title"].add(body["title"] is None)
        seen["notification_preference"].add(body["notification_preference"])
        seen["last_message_at"].add(body["last_message_at"] is None)

    collect()
    assert seen == {
        "title": {True, False},
        "notification_preference": {"all", "none"},
        "last_message_at": {True, False},
    }


@given(st.data())
@settings(max_examples=5, deadline=None)
def test_a_client_that_never_sends_auth_is_caught(data: st.DataObject) -> None:
    import httpx

    with ContractMock.for_provider("whop").routed() as mock:
        httpx.patch(WHOP.server + f"/ai_chats/{CHAT_ID}", json={"title": data.draw(st.text(max_size=5))})
    assert [v.message for v in mock.violations] == ["no bearer token in Authorization"]
