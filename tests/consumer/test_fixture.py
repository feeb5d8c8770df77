"""The `contract_mock` fixture (chat_contracts/plugin.py) makes a contract violation a FAILED test, in
the call phase, with the field and the clause; not an ERROR at teardown. The scenarios below run as a
user's test suite would, in a pytest session of their own (pytester, in-process; one session for all,
since starting one costs more than the scenarios), and each test here reads its scenario's reports."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CLAUSE = "whop.openapi.yaml#/paths/~1ai_chats~1{id}/patch/requestBody/content/application~1json/schema/properties"
KNOWN = "(known: current_company_id, notification_preference, title)"

SCENARIOS = """
from types import SimpleNamespace

import httpx
import pytest
import whop_sdk

from chat_contracts.reference.mock import MockResponse

CHAT = "aich_k2JdQvX8mP4rTz"
URL = "https://api.whop.com/api/v1/ai_chats/" + CHAT
AUTH = {"Authorization": "Bearer cc_test_token"}


def rename(body):
    return httpx.patch(URL, json=body, headers=AUTH)


def test_typo(contract_mock):
    contract_mock("whop")
    assert rename({"titel": "Q3 review"}).status_code == 200  # the mock answers: the body alone would pass


def test_tolerant(contract_mock):
    mock = contract_mock("whop", tolerate_unknown_fields=True)
    rename({"titel": "Q3 review"})
    assert [d.message.split(",")[0] for d in mock.drift] == ["sends titel='Q3 review'"]


def test_conforming(contract_mock):
    mock = contract_mock("whop")
    rename({"title": "Q3 review"})
    assert mock.violations == [] and len(mock.requests) == 1


def test_expected_violation(contract_mock):
    mock = contract_mock("whop")
    rename({"title": 42})
    assert [v.rule for v in mock.violations] == ["body-schema"]
    mock.violations.clear()  # seen and asserted


def test_sdk_retries(contract_mock, monkeypatch):
    monkeypatch.setattr(whop_sdk._base_client, "time", SimpleNamespace(sleep=lambda s: None, time=lambda: 0))
    mock = contract_mock("whop")
    error = MockResponse(500, {"error": {"type": "server_error", "message": "retry"}})
    mock.respond_with(error, error)  # then a valid chat
    client = whop_sdk.Whop(api_key="cc_test_token", base_url="https://api.whop.com/api/v1")
    chat = client.ai_chats.update(CHAT, extra_body={"titel": "Q3 review"})
    assert chat.id == CHAT and len(mock.requests) == 3


def test_own_failure(contract_mock):
    contract_mock("whop")
    response = rename({"titel": "Q3 review"})
    assert response.json()["title"] == "Q3 review", "the client's own check"


def test_two_providers(contract_mock):
    contract_mock("whop")
    wilson = contract_mock("wilson")
    rename({"title": "ok"})
    httpx.patch("https://wilson.40mat.com/apif/v2/chat/6673caafdf6f247417a1b2c3", json={"archive": True}, headers=AUTH)
    assert len(wilson.requests) == 1


def test_next(contract_mock):
    assert contract_mock("whop").violations == []  # nothing carried over from the test before


@pytest.fixture
def closer(contract_mock):
    contract_mock("whop")
    yield
    rename({"titel": "on the way out"})


def test_teardown_request(closer):
    pass
"""

_RUN: list[pytest.RunResult] = []


@pytest.fixture
def session(pytester: pytest.Pytester) -> pytest.RunResult:
    """The scenarios' session, run once for all the tests here."""
    if not _RUN:
        pytester.makepyfile(test_client=SCENARIOS)
        _RUN.append(pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestWarning"))
    return _RUN[0]


def outcome(session: pytest.RunResult, test: str) -> dict[str, tuple[str, str]]:
    """{phase: (outcome, failure text)} of one scenario."""
    return {
        r.when: (r.outcome, r.longreprtext)
        for r in session.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if r.nodeid == f"test_client.py::{test}"
    }


def test_the_session_ran_every_scenario(session: pytest.RunResult) -> None:
    session.assert_outcomes(passed=5, failed=4, errors=1)


def test_a_typo_fails_the_test_in_the_call_phase_naming_the_field_and_the_clause(session: pytest.RunResult) -> None:
    phases = outcome(session, "test_typo")
    assert {when: result for when, (result, _) in phases.items()} == {
        "setup": "passed",
        "call": "failed",  # FAILED...
        "teardown": "passed",  # ...and not an ERROR at teardown
    }
    assert phases["call"][1].splitlines() == [
        f"request 1 PATCH /ai_chats/aich_k2JdQvX8mP4rTz: sends titel='Q3 review', unknown to the contract {KNOWN}",
        f"  clause: {CLAUSE}",
        "ContractMock(whop): 1 violation(s) in 1 of 1 request(s) received, retries included.",
        "An unknown request field fails by default (be conservative in what you send): make the mock with "
        "tolerate_unknown_fields=True to list it in mock.drift instead.",
    ]  # the violation itself, no traceback into the plugin
    session.stdout.fnmatch_lines(["FAILED test_client.py::test_typo - Failed: request 1 PATCH /ai_chats/*"])


def test_tolerating_unknown_fields_passes_and_lists_them_as_drift(session: pytest.RunResult) -> None:
    assert outcome(session, "test_tolerant")["call"][0] == "passed"


def test_a_conforming_client_passes_and_a_violation_seen_and_cleared_does_not_fail(session: pytest.RunResult) -> None:
    assert outcome(session, "test_conforming")["call"][0] == "passed"
    assert outcome(session, "test_expected_violation")["call"][0] == "passed"


def test_an_sdk_that_retries_is_counted_request_by_request(session: pytest.RunResult) -> None:
    """whop-sdk retries 5xx: three requests, each checked, each in the failure, though the update succeeds."""
    result, text = outcome(session, "test_sdk_retries")["call"]
    assert result == "failed"
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("request")] == [
        "request 1 PATCH /ai_chats/aich_k2JdQvX8mP4rTz",
        "request 2 PATCH /ai_chats/aich_k2JdQvX8mP4rTz",
        "request 3 PATCH /ai_chats/aich_k2JdQvX8mP4rTz",
    ]
    assert "ContractMock(whop): 3 violation(s) in 3 of 3 request(s) received, retries included." in text


def test_a_test_that_fails_on_its_own_shows_its_violations_too(session: pytest.RunResult) -> None:
    phases = outcome(session, "test_own_failure")
    result, text = phases["call"]
    assert result == "failed" and phases["teardown"][0] == "passed"
    assert "AssertionError: the client's own check" in text
    assert "sends titel='Q3 review'" in text and CLAUSE in text


def test_each_mock_of_a_test_is_checked_and_each_test_on_its_own(session: pytest.RunResult) -> None:
    result, text = outcome(session, "test_two_providers")["call"]
    assert result == "failed"
    assert "sends archive=True, unknown to the contract (known: archived, bot_id, title)" in text
    assert "ContractMock(whop)" not in text  # the conforming mock is not blamed
    assert outcome(session, "test_next")["call"][0] == "passed"


def test_a_request_sent_after_the_test_body_still_fails_at_teardown(session: pytest.RunResult) -> None:
    """The fallback: a fixture that sends a request in its own teardown is caught there (as an ERROR)."""
    phases = outcome(session, "test_teardown_request")
    assert phases["call"][0] == "passed" and phases["teardown"][0] == "failed"
    assert "sends titel='on the way out'" in phases["teardown"][1]
