"""A run end to end (in-process, against the reference mocks and catalogue faults): it stops only when it
cannot run, judges everything else, changes only what it can put back, and claims "restored" only after
reading the chat back."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from chat_contracts.core.http import BoundedClient
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.profiles import PROFILES
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import RunOptions, RunResult, minimum_requests, validate_cap, verify
from chat_contracts.reference.faults import build
from chat_contracts.reference.mock import ApiError, MockRequest, MockResponse, ReferenceChatAPI
from chat_contracts.reference.transport import mock_transport

TOKEN = "tok_verify_test_0123456789"


def run(
    api: ReferenceChatAPI, *, live: bool = True, seed: int = 7, phases: tuple[str, ...] | None = None, **options: Any
) -> RunResult:
    provider = api.provider
    client = BoundedClient(transport_factory=lambda: mock_transport(api, provider.server))
    target = Target(provider, provider.server, TOKEN, api.chat_id, live=live)
    extra = {"phases": phases} if phases else {}
    return verify(target, RunOptions(seed=seed, **options), client=client, **extra)


def mock(provider: str, behaviour: str | None = None, **options: Any) -> ReferenceChatAPI:
    return build(get_provider(provider), behaviour, token=TOKEN, **options)


def checks(result: RunResult) -> set[str]:
    return {v.check for v in result.violations}


@pytest.mark.parametrize(
    ("provider", "behaviour", "check"),
    [
        ("whop", "text-content-type", "response_content_type"),
        ("whop", "missing-created-timestamp", "response_schema"),
        ("whop", "message-count-as-string", "response_schema"),
        ("whop", "response-id-mismatch", "response_id_matches"),
        ("wilson", "archived-as-string", "response_schema"),
        ("wilson", "rejects-empty-body", "valid_request_accepted"),
    ],
)
def test_a_broken_first_answer_is_a_finding_and_the_run_goes_on(provider: str, behaviour: str, check: str) -> None:
    result = run(mock(provider, behaviour))
    assert result.setup_error is None
    assert check in checks(result)
    assert next(v for v in result.violations if v.check == check).record.number == 1  # the preflight itself
    assert {p.name for p in result.phases} >= {"coverage", "auth", "unknown-id"}
    assert result.restore is not None


class _Refuses(ReferenceChatAPI):
    status = 401

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        return self.fail(ApiError(self.status, "unauthorized", "no"))


class _Forbids(_Refuses):
    status = 403


@pytest.mark.parametrize(
    ("api", "message"),
    [
        (_Refuses(get_provider("whop"), token=TOKEN), "refused the token (401): check --contract-token"),
        (_Forbids(get_provider("wilson"), token=TOKEN), "refused the token (403)"),
    ],
)
def test_a_refused_token_is_a_setup_error(api: ReferenceChatAPI, message: str) -> None:
    result = run(api)
    assert result.setup_error and message in result.setup_error
    assert result.violations == [] and result.restore is None and result.requests == 1


def test_an_unknown_chat_is_a_setup_error_that_names_the_api_prefix() -> None:
    api = mock("whop")
    provider = api.provider
    client = BoundedClient(transport_factory=lambda: mock_transport(api, provider.server))
    target = Target(provider, provider.server, TOKEN, "aich_nosuchchat00", live=True)
    result = verify(target, RunOptions(seed=1), client=client)
    assert result.setup_error == (
        "whop at https://api.whop.com/api/v1 does not know chat 'aich_nosuchchat00' (404): check --contract-chat-id "
        "/ CONTRACT_CHAT_ID, and that --contract-base-url includes the API prefix (like https://api.whop.com/api/v1)"
    )


def test_unreachable_is_a_setup_error() -> None:
    target = Target(get_provider("whop"), "http://127.0.0.1:9/api/v1", TOKEN, "aich_x", live=True)
    result = verify(target, RunOptions(seed=1, timeout=2))
    assert result.setup_error and result.setup_error.startswith("cannot reach http://127.0.0.1:9/api/v1")


class _NoSnapshot(ReferenceChatAPI):
    """Answers every update with a 500: no snapshot can be taken."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        return self.fail(ApiError(500, "internal_server_error", "boom"))


def test_without_a_snapshot_nothing_that_could_change_the_chat_is_sent() -> None:
    api = _NoSnapshot(get_provider("whop"), token=TOKEN)
    result = run(api)
    assert "no_server_error" in checks(result)
    skipped = {p.name: p.skipped for p in result.phases}
    assert (
        skipped["coverage"]
        == skipped["generated"]
        == "no snapshot of the chat could be taken, so nothing may be changed"
    )
    assert skipped["auth"] is None and skipped["unknown-id"] is None
    assert any("phase coverage: no snapshot" in line for line in result.not_exercised)


def test_a_chat_without_a_bot_is_left_without_one() -> None:
    api = mock("wilson", "chat-without-bot-id")
    sent_bot: list[bytes] = []
    original = api.handle

    def handle(request: MockRequest) -> MockResponse:
        if b"bot_id" in request.body:
            sent_bot.append(request.body)
        return original(request)

    api.handle = handle  # type: ignore[method-assign]
    result = run(api)
    assert sent_bot == []
    assert "bot_id" not in api.chats[api.chat_id]
    assert result.restore is not None and result.restore.restored, result.restore
    assert any(line.startswith("field bot_id: never accepted (the chat has no bot_id") for line in result.not_exercised)


class _ForgetsLateUpdates(ReferenceChatAPI):
    """Past request 60 every update is answered 200 but ignored: the restore cannot take."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        if self.requests <= 60:
            super().apply_update(chat_id, chat, update)


def test_restored_is_claimed_only_after_the_chat_is_read_back_equal() -> None:
    api = _ForgetsLateUpdates(get_provider("whop"), token=TOKEN)
    result = run(api)
    assert result.restore is not None and not result.restore.restored
    assert result.restore.message.startswith("whop chat aich_k2JdQvX8mP4rTz was NOT restored: title is ")
    assert result.restore.body == {"title": "Weekly Revenue Analysis", "notification_preference": "all"}


def test_a_field_the_response_does_not_show_is_exercised_when_its_value_is_given() -> None:
    without = run(mock("whop", "server-error-on-unknown-reference"))
    assert "no_server_error" not in checks(without)
    assert any(line.startswith("field current_company_id: never accepted") for line in without.not_exercised)
    api = mock("whop", "server-error-on-unknown-reference")
    api.known.add("biz_Current000001")  # type: ignore[attr-defined]  (the company the chat names exists)
    given = run(api, known_values={"current_company_id": "biz_Current000001"})
    assert "no_server_error" in checks(given)
    assert api.hidden[api.chat_id]["current_company_id"] == "biz_Current000001"  # put back as given
    assert given.restore is not None and "current_company_id sent back as given" in given.restore.message


def test_the_reference_passes_and_is_left_as_found() -> None:
    api = mock("whop")
    result = run(api)
    assert result.violations == [] and result.aborted is None
    assert result.restore is not None and result.restore.restored
    chat = api.chats[api.chat_id]
    assert (chat["title"], chat["notification_preference"]) == ("Weekly Revenue Analysis", "all")
    assert all(v.status in ("held", "not applicable") for v in result.verdicts())
    assert result.requests <= 150


@pytest.mark.parametrize(("provider", "seed"), [("whop", 713458987), ("wilson", 2520867894)])
def test_whitespace_bodies_are_no_false_alarm(provider: str, seed: int) -> None:
    """Seeds that drew whitespace-only 'non-JSON' bodies, once a false alarm on the reference mocks."""
    assert run(mock(provider), live=False, seed=seed).violations == []


def test_a_phase_that_sent_nothing_is_not_exercised_never_passed() -> None:
    result = run(mock("whop"), live=False, max_requests=minimum_requests(get_provider("whop")))
    generated = next(p for p in result.phases if p.name == "generated")
    assert generated.sent == 0 and generated.skipped
    assert any(line.startswith("phase generated:") for line in result.not_exercised)


def test_the_cap_must_hold_the_deterministic_phases() -> None:
    assert validate_cap(get_provider("whop"), 150) is None
    problem = validate_cap(get_provider("whop"), 35)
    assert problem and problem.startswith("--contract-max-requests 35 cannot hold the")


def test_an_interrupted_run_still_puts_the_chat_back() -> None:
    class Interrupts(ReferenceChatAPI):
        def handle(self, request: MockRequest) -> MockResponse:
            if self.requests == 40:
                self.requests += 1
                raise KeyboardInterrupt
            return super().handle(request)

    api = Interrupts(get_provider("whop"), token=TOKEN)
    result = run(api)
    assert result.interrupted
    assert result.restore is not None and result.restore.restored
    assert api.chats[api.chat_id]["title"] == "Weekly Revenue Analysis"


def test_a_bug_of_ours_is_reported_once_and_the_chat_is_still_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception that is no ChatContractsError (a check that crashes on some answer) ends the run as an
    internal error, with the traceback; the restore runs, and verify returns instead of raising."""
    from chat_contracts.provider import checks

    judge = checks.CHECKS["field_applied"].judge
    calls = {"n": 0}

    def crashes(ctx: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 30:
            raise OverflowError("date value out of range")
        return judge(ctx)

    monkeypatch.setitem(checks.CHECKS, "field_applied", replace(checks.CHECKS["field_applied"], judge=crashes))
    api = build(get_provider("whop"), None, token=TOKEN)
    result = run(api)
    assert result.internal_error and "OverflowError: date value out of range" in result.internal_error
    assert result.aborted and "internal error" in result.aborted
    assert result.restore is not None and result.restore.restored
    assert api.chats[api.chat_id]["title"] == "Weekly Revenue Analysis"


def test_profiles_bound_the_random_search() -> None:
    quick = run(mock("wilson"), live=False, profile=PROFILES["dev"])
    assert quick.requests <= 150
    assert {p.name: p.planned for p in quick.phases}["generated"] == 40
