"""The official Whop SDK 0.0.41 (Stainless, matching the pinned spec) against the contract mock:
every request it sends conforms (strictly: no field the contract does not list), every contract-valid
200 parses under strict validation, each documented error status maps to its exception, and the
requests it retries (429 and 5xx, twice by default) are each received, counted and checked."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from chat_contracts.consumer import ContractMock, chat_bodies, error_responses, request_bodies
from chat_contracts.core.registry import get_provider
from chat_contracts.reference.mock import ApiError, MockResponse, error_body

whop_sdk = pytest.importorskip("whop_sdk", reason="whop-sdk==0.0.41 is a dev dependency")
if whop_sdk.__version__ != "0.0.41":
    pytest.skip(f"this module proves whop-sdk 0.0.41, found {whop_sdk.__version__}", allow_module_level=True)

WHOP = get_provider("whop")
CHAT_ID = "aich_k2JdQvX8mP4rTz"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def client(max_retries: int = 0) -> Any:
    """One client per setting, shared by the examples (making one costs more than a request)."""
    return whop_sdk.Whop(
        api_key="cc_test_token", base_url=WHOP.server, _strict_response_validation=True, max_retries=max_retries
    )


@EXAMPLES
@given(update=request_bodies(WHOP))
def test_every_request_the_sdk_sends_conforms(update: dict[str, Any]) -> None:
    with ContractMock(WHOP).routed() as mock:  # strict: an unknown field would be a violation
        client().ai_chats.update(CHAT_ID, **update)
    mock.assert_conforms()
    assert mock.drift == []
    (request,) = mock.requests
    assert request.path == f"/ai_chats/{CHAT_ID}" and request.method == "PATCH"


@EXAMPLES
@given(body=chat_bodies(WHOP))
def test_every_contract_valid_chat_parses_under_strict_validation(body: dict[str, Any]) -> None:
    with ContractMock(WHOP).routed() as mock:
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


def test_the_error_table_covers_every_error_the_contract_allows() -> None:
    documented = {int(s) for s in WHOP.documented_statuses() if s[0] in "45"}
    assert set(ERRORS) == documented | {429}


@pytest.mark.parametrize(("status", "exception"), ERRORS.items())
def test_each_error_status_maps_to_its_exception(status: int, exception: str) -> None:
    @settings(max_examples=8, deadline=None)
    @given(response=error_responses(WHOP, status))
    def check(response: MockResponse) -> None:
        with ContractMock(WHOP).routed() as mock:
            mock.respond_with(response)
            with pytest.raises(getattr(whop_sdk, exception)) as raised:
                client().ai_chats.update(CHAT_ID, title="x")
        assert raised.value.status_code == status
        mock.assert_conforms()

    check()


def test_the_fixture_reports_a_violation_with_its_clause(contract_mock: Callable[..., ContractMock]) -> None:
    mock = contract_mock("whop")
    client().ai_chats.update(CHAT_ID, extra_body={"title": 42})  # a client bug: a number for a string
    assert [v.clause for v in mock.violations] == [
        "whop.openapi.yaml#/paths/~1ai_chats~1{id}/patch/requestBody/content/application~1json/schema"
        "/properties/title/type"
    ]
    mock.violations.clear()  # seen and asserted: the test passes


# --- retries: every request counted ------------------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's waits between retries, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(whop_sdk._base_client, "time", SimpleNamespace(sleep=waited.append, time=time.time))
    return waited


def _error(status: int, headers: dict[str, str] | None = None) -> MockResponse:
    body = error_body(WHOP, ApiError(status, "rate_limit_exceeded" if status == 429 else "server_error", "Try later"))
    at = WHOP.response_schema_pointer(status)
    assert at is None or WHOP.document.errors(body, at) == []  # contract-valid where the contract says
    return MockResponse(status, body, headers or {})


@pytest.mark.parametrize(
    ("response", "exception"),
    [(_error(429, {"retry-after": "0"}), "RateLimitError"), (_error(500), "InternalServerError")],
    ids=["429", "500"],
)
def test_the_sdk_retries_twice_and_the_mock_counts_all_three_requests(
    response: MockResponse, exception: str, sleeps: list[float]
) -> None:
    sdk = client(max_retries=whop_sdk.DEFAULT_MAX_RETRIES)
    assert sdk.max_retries == 2
    with ContractMock(WHOP).routed() as mock:
        mock.respond_with(response, response, response)
        with pytest.raises(getattr(whop_sdk, exception)):
            sdk.ai_chats.update(CHAT_ID, title="x")
    assert len(mock.requests) == 3  # the first and two retries, each received and checked
    assert [r.header("x-stainless-retry-count") for r in mock.requests] == ["0", "1", "2"]
    mock.assert_conforms()
    # It waited twice; "Retry-After: 0" is not "now" to it: it backs off (0.5 s, then 1 s, less jitter).
    assert len(sleeps) == 2 and all(0 < s <= 1 for s in sleeps)


def test_a_retry_that_succeeds_returns_the_chat_and_both_requests_are_counted(sleeps: list[float]) -> None:
    sdk = client(max_retries=whop_sdk.DEFAULT_MAX_RETRIES)
    with ContractMock(WHOP).routed() as mock:
        mock.respond_with(_error(429, {"retry-after": "1"}))
        chat = sdk.ai_chats.update(CHAT_ID, title="x")
    assert chat.id == CHAT_ID
    assert len(mock.requests) == 2 and sleeps == [1.0]  # a Retry-After of 1 s it honours as sent
    mock.assert_conforms()


def test_a_violation_in_a_retried_request_is_counted_once_per_request(sleeps: list[float]) -> None:
    sdk = client(max_retries=whop_sdk.DEFAULT_MAX_RETRIES)
    with ContractMock(WHOP).routed() as mock:
        mock.respond_with(_error(500), _error(500))  # then the default: a valid chat
        sdk.ai_chats.update(CHAT_ID, extra_body={"titel": "Q3 review"})
    assert len(mock.requests) == 3
    assert [(v.number, v.rule) for v in mock.violations] == [
        (1, "unknown-field"),
        (2, "unknown-field"),
        (3, "unknown-field"),
    ]
    with pytest.raises(AssertionError, match=r"3 violation\(s\) in 3 of 3 request\(s\) received, retries included"):
        mock.assert_conforms()
