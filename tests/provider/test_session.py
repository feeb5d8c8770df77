"""The session: what a case becomes on the wire, the request cap and the restore reserve, 429s waited out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from chat_contracts.core.http import BoundedClient
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.cases import Case, Expect
from chat_contracts.provider.session import (
    RESTORE_RESERVE,
    BudgetExhaustedError,
    ProviderUnreachableError,
    RateLimitedError,
    Session,
    Target,
)

WHOP = get_provider("whop")
TOKEN = "tok_session_test_0123456789"
NOOP = Case("t", "an empty update", Expect.SUCCESS, body={})


def session(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> Session:
    client = BoundedClient(transport_factory=lambda: httpx.MockTransport(handler))
    target = Target(WHOP, "https://api.whop.com/api/v1", TOKEN, "aich_k2JdQvX8mP4rTz", live=True)
    return Session(target, client, **options)  # type: ignore[arg-type]


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue: Iterator[httpx.Response] = iter(responses)
    return lambda request: next(queue, httpx.Response(200, json={}))


def test_a_case_on_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    s = session(handler)
    s.send(Case("t", "t", Expect.SUCCESS, body={"title": "Réunion"}))
    s.send(Case("t", "t", Expect.UNAUTHORIZED, auth="none", chat_id="a/b"))
    first, second = seen
    assert first.url == "https://api.whop.com/api/v1/ai_chats/aich_k2JdQvX8mP4rTz"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["api-version-date"] == "2026-07-08-1"  # the version the pinned contract documents
    assert first.content == '{"title": "Réunion"}'.encode()
    assert "authorization" not in second.headers and "content-type" not in second.headers
    assert second.url.raw_path.endswith(b"/ai_chats/a%2Fb")  # an id never changes the path


def test_the_restore_reserve_is_never_spent_by_ordinary_requests() -> None:
    s = session(answers(), max_requests=10)
    for _ in range(10 - RESTORE_RESERVE):
        s.send(NOOP)
    with pytest.raises(BudgetExhaustedError, match="request cap of 10 is reached"):
        s.send(NOOP)
    for _ in range(RESTORE_RESERVE):
        s.send(NOOP, restoring=True)
    assert s.requests == 10


def test_retries_after_429_never_spend_the_reserve() -> None:
    storm = [httpx.Response(429, headers={"retry-after": "0"})] * 20
    s = session(answers(*storm), max_requests=10)
    with pytest.raises(BudgetExhaustedError):
        s.send(NOOP)
    assert s.requests == 10 - RESTORE_RESERVE  # the storm cost the run its requests, not the restore its reserve
    with pytest.raises(BudgetExhaustedError):  # the storm goes on: the restore tries exactly its reserve
        s.send(NOOP, restoring=True)
    assert s.requests == 10


def test_a_429_storm_then_recovery_leaves_the_restore_its_requests() -> None:
    s = session(answers(*[httpx.Response(429, headers={"retry-after": "0"})] * 5), max_requests=10)
    with pytest.raises(BudgetExhaustedError):
        for _ in range(10):
            s.send(NOOP)
    assert s.send(NOOP, restoring=True).status == 200


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the session asks for, recorded instead of slept (waits are what is under test, not the clock)."""
    waits: list[float] = []
    monkeypatch.setattr("chat_contracts.provider.session.time.sleep", waits.append)
    return waits


def test_retry_after_is_waited_and_the_429_never_reaches_a_check(slept: list[float]) -> None:
    s = session(answers(httpx.Response(429, headers={"retry-after": "7"})))
    exchange = s.send(NOOP)
    assert exchange.status == 200 and s.requests == 2 and s.waited == 7.0
    assert slept == [7.0]


def test_retry_after_as_an_http_date_is_honoured(slept: list[float]) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    s = session(answers(httpx.Response(503, headers={"retry-after": soon})))
    assert s.send(NOOP).status == 200
    assert len(slept) == 1 and 28 <= slept[0] <= 30  # HTTP-dates have one-second resolution


def test_a_503_without_retry_after_is_an_answer() -> None:
    assert session(answers(httpx.Response(503))).send(NOOP).status == 503


def test_the_wait_budget_ends_a_throttled_run() -> None:
    s = session(lambda request: httpx.Response(429, headers={"retry-after": "30"}), max_wait=5)
    with pytest.raises(RateLimitedError, match="provider rate-limited: still 429 after waiting 0 s"):
        s.send(NOOP)


def test_the_restore_waits_on_a_budget_of_its_own(slept: list[float]) -> None:
    s = session(answers(httpx.Response(429, headers={"retry-after": "40"})), max_wait=0)
    with pytest.raises(RateLimitedError):
        s.send(NOOP)
    s2 = session(answers(httpx.Response(429, headers={"retry-after": "40"})), max_wait=0)
    assert s2.send(NOOP, restoring=True).status == 200
    assert slept == [40.0]


def test_one_wait_is_never_longer_than_a_minute(slept: list[float]) -> None:
    s = session(answers(httpx.Response(429, headers={"retry-after": "86400"})), max_wait=600)
    assert s.send(NOOP).status == 200 and slept == [60.0]


def test_unreachable_is_a_setup_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ProviderUnreachableError, match=r"cannot reach https://api\.whop\.com/api/v1: ConnectError"):
        session(refuse).send(NOOP)


def test_the_documented_rate_limit_is_never_exceeded(slept: list[float]) -> None:
    s = session(answers(), per_minute=3)
    for _ in range(3):
        s.send(NOOP)
    s._window[0] -= 50  # the first of the three requests was sent 50 s ago
    s.send(NOOP)
    assert len(slept) == 1 and 9 < slept[0] <= 10  # the fourth waits until a minute after the first
