"""Live runs are safe: the chat is left as found, throttling is honoured, the token never shows,
bad input gets one clear line. Each test runs `pytest tests/contract` as a user would, against a
mock served on 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chat_contracts.cases import Case, Expect
from chat_contracts.faults import build
from chat_contracts.mock import ReferenceChatAPI
from chat_contracts.registry import get_provider
from chat_contracts.session import RateLimitedError, Session, Target
from chat_contracts.transport import serving
from tests.conftest import ROOT, contract_suite

pytestmark = pytest.mark.slow

TOKEN = "tok_LIVE-very/secret+token=="  # '/' is escaped in JSON as '\/' by some servers: redact both
CHAT = "aich_livechat000001"
SEED_TITLE = "Weekly Revenue Analysis"


def _whop(behaviour: str | None = None, **options) -> ReferenceChatAPI:
    return build(get_provider("whop"), behaviour, token=TOKEN, chat_id=CHAT, **options)


def _live_args(base_url: str, *extra: str) -> list[str]:
    return ["--provider", "whop", "--base-url", base_url, "--chat-id", CHAT, *extra]


def _as_found(api: ReferenceChatAPI) -> bool:
    chat = api.chats[CHAT]
    return chat["title"] == SEED_TITLE and chat["notification_preference"] == "all"


def test_restored_after_a_passing_run(tmp_path: Path) -> None:
    api = _whop()
    with serving(api) as base_url:
        result = contract_suite(*_live_args(base_url), env={"CONTRACT_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout[-2000:]
    assert _as_found(api)
    assert f"chat-contracts: whop chat {CHAT} restored (title, notification_preference)" in result.stdout
    assert api.hidden[CHAT] == {}  # current_company_id, which no response shows, was never set


def test_restored_after_a_failing_run() -> None:
    api = _whop("message-count-changes")
    with serving(api) as base_url:
        result = contract_suite(*_live_args(base_url), env={"CONTRACT_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "invariants_kept" in result.stdout
    assert _as_found(api)
    assert f"whop chat {CHAT} restored" in result.stdout


def test_restored_after_ctrl_c() -> None:
    api = _whop()
    with serving(api) as base_url:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "tests/contract", "--seed", "7", *_live_args(base_url),
             "--rate-limit", "25"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**_clean_env(), "CONTRACT_TOKEN": TOKEN},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while api.chats[CHAT]["title"] == SEED_TITLE:  # wait until the run has changed the chat
            assert time.monotonic() < deadline and process.poll() is None, "the run never changed the chat"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    assert "KeyboardInterrupt" in out
    assert _as_found(api)
    assert f"whop chat {CHAT} restored" in out


def test_xdist_restores_once_with_one_seed() -> None:
    pytest.importorskip("xdist")
    api = _whop()
    with serving(api) as base_url:
        result = contract_suite("-n", "2", *_live_args(base_url), env={"CONTRACT_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count(f"whop chat {CHAT} restored") == 1
    assert _as_found(api)
    assert api.requests <= 150


def test_xdist_in_mock_mode() -> None:
    pytest.importorskip("xdist")
    result = contract_suite("-n", "2")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "14 passed" in result.stdout


def test_a_rate_limited_provider_passes_when_429s_are_waited_out() -> None:
    api = _whop("rate-limited")  # every fifth request: 429 with Retry-After: 0
    with serving(api) as base_url:
        result = contract_suite(*_live_args(base_url), env={"CONTRACT_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout[-3000:]
    assert api.requests <= 150


def test_a_provider_that_stays_rate_limited_ends_with_a_clear_error() -> None:
    api = _whop(rate_limit_per_minute=3)  # the preflight passes, then 429 with Retry-After of ~60 s
    with serving(api) as base_url:
        result = contract_suite(*_live_args(base_url, "--max-wait", "1"), env={"CONTRACT_TOKEN": TOKEN})
    assert result.returncode == 1
    assert "provider rate-limited: still 429" in result.stdout
    assert "Traceback" not in result.stdout


def test_session_waits_for_retry_after_and_never_judges_the_429() -> None:
    answers = iter([httpx.Response(429, headers={"retry-after": "1"}, json={"error": {"type": "rate_limit_exceeded"}})])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"ok": True}))

    whop = get_provider("whop")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        session = Session(Target(whop, "https://api.whop.com/api/v1", TOKEN, CHAT), client)
        start = time.monotonic()
        exchange = session.send(Case("t", "t", Expect.SUCCESS, body={}))
    assert exchange.status == 200 and session.requests == 2
    assert time.monotonic() - start >= 1.0 and session.waited == 1.0


def test_session_gives_up_when_the_wait_budget_is_spent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "30"})

    whop = get_provider("whop")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        session = Session(Target(whop, "https://x.test/api/v1", TOKEN, CHAT), client, max_wait=5)
        with pytest.raises(RateLimitedError, match="provider rate-limited: still 429 after waiting 0 s"):
            session.send(Case("t", "t", Expect.SUCCESS, body={}))


def test_an_echoed_token_is_absent_from_every_output_and_report(tmp_path: Path) -> None:
    api = _whop("echoes-token+title-not-applied")  # fails, and every response carries the token back
    junit = tmp_path / "report.xml"
    with serving(api) as base_url:
        result = contract_suite(*_live_args(base_url, "--token", TOKEN), f"--junitxml={junit}", "-rA", "-l")
    assert result.returncode == 1
    report = junit.read_text(encoding="utf-8")
    for output in (result.stdout, result.stderr, report):
        assert TOKEN not in output
        assert TOKEN.replace("/", "\\/") not in output
    assert '"debug_authorization": "Bearer ***"' in result.stdout  # the echo was there, redacted
    assert "authorization: Bearer ***" in result.stdout and "--token '***'" in result.stdout
    assert 'name="test_contract[whop-positive]"' in report  # JUnit names say provider + group


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown-provider", "unknown provider 'slack' (known: whop, wilson)"),
        ("unreachable", "cannot reach http://127.0.0.1:"),
        ("wrong-token", "refused the token (401): check --token"),
        ("unknown-chat", "does not know chat 'aich_nosuchchat00' (404): check --chat-id"),
    ],
)
def test_bad_live_input_is_one_clear_line(case: str, message: str) -> None:
    api = _whop()
    with serving(api) as base_url:
        args = {
            "unknown-provider": ["--base-url", base_url, "--chat-id", CHAT],
            "unreachable": _live_args(f"http://127.0.0.1:{_closed_port()}/api/v1"),
            "wrong-token": _live_args(base_url),
            "unknown-chat": ["--provider", "whop", "--base-url", base_url, "--chat-id", "aich_nosuchchat00"],
        }[case]
        env = {"CONTRACT_TOKEN": "wrong" if case == "wrong-token" else TOKEN}
        if case == "unknown-provider":
            env["CONTRACT_PROVIDER"] = "slack"
        start = time.monotonic()
        result = contract_suite(*args, env=env)
    assert result.returncode == 4, result.stdout[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert time.monotonic() - start < 30  # of which a few seconds are pytest starting up


def test_hypothesis_profiles() -> None:
    default = contract_suite("--provider", "wilson")
    ci = contract_suite("--provider", "wilson", "--hypothesis-profile", "ci")
    assert "hypothesis profile 'dev' (40 generated examples at most)" in default.stdout
    assert "hypothesis profile 'ci' (200 generated examples at most)" in ci.stdout
    assert default.returncode == ci.returncode == 0


def _clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
