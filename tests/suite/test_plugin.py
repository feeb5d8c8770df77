"""The contract suite as a user runs it (`pytest --pyargs chat_contracts.suite ...`), in-process with pytester:
a row per provider and check, exit statuses, JUnit XML, live runs against served mocks, bad input in one
line, and a plugin that stays out of sessions that do not collect the suite."""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import get_provider
from chat_contracts.drift.observe import Observations
from chat_contracts.provider.checks import CHECKS
from chat_contracts.reference.faults import build
from chat_contracts.reference.mock import ReferenceChatAPI
from chat_contracts.reference.transport import serving

TOKEN = "tok_LIVE-plugin-test-0123456789"
CHAT = "aich_livechat000001"
# The outer session imported the package already, so the inner one cannot rewrite its asserts: say nothing of it.
SUITE = ("--pyargs", "chat_contracts.suite", "--contract-seed", "7", "-W", "ignore::pytest.PytestAssertRewriteWarning")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONTRACT_PROVIDER", "CONTRACT_BASE_URL", "CONTRACT_TOKEN", "CONTRACT_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)


def whop(behaviour: str | None = None, **options: Any) -> ReferenceChatAPI:
    return build(get_provider("whop"), behaviour, token=TOKEN, chat_id=CHAT, **options)


@pytest.fixture
def served() -> Iterator[Any]:
    """``base_url = served(api)``: the mock on 127.0.0.1 for the length of the test."""
    stack: list[Any] = []

    def start(api: ReferenceChatAPI) -> str:
        context = serving(api)
        stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def live(base_url: str, *extra: str, provider: str = "whop", chat: str = CHAT) -> tuple[str, ...]:
    return (
        *SUITE,
        "--contract-provider",
        provider,
        "--contract-base-url",
        base_url,
        "--contract-chat-id",
        chat,
        *extra,
    )


def junit_rows(path: Path) -> dict[str, str]:
    """testcase name -> passed / failure / skipped."""
    rows = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "skipped", "error")]
        rows[case.get("name", "")] = kinds[0] if kinds else "passed"
    return rows


def errors(result: pytest.RunResult) -> list[str]:
    return [line for line in result.errlines + result.outlines if line.startswith("ERROR:")]


def test_mock_run_passes_with_a_row_per_provider_and_check(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*SUITE, "--junitxml=junit.xml")
    assert result.ret == 0, result.stdout.str()[-3000:]
    rows = junit_rows(pytester.path / "junit.xml")
    for provider in ("whop", "wilson"):
        for check in CHECKS:
            assert f"test_contract[{provider}-{check}]" in rows
        assert rows[f"test_contract[{provider}-run_completed]"] == "passed"
    assert rows["test_contract[wilson-error_envelope]"] == "skipped"  # not applicable: no error body documented
    assert rows["test_contract[whop-error_envelope]"] == "passed"
    result.stdout.fnmatch_lines(["*whop (mock https://api.whop.com/api/v1): seed 7, * request(s)"])


def junit_names(path: Path) -> set[tuple[str, str]]:
    return {(case.get("classname", ""), case.get("name", "")) for case in ET.parse(path).getroot().iter("testcase")}


def test_junit_rows_are_named_the_same_with_and_without_xdist_and_wherever_the_package_is(
    pytester: pytest.Pytester,
) -> None:
    """pytest names a row's class after its path under rootdir: here the package is outside it ("..." parts);
    a venv under the working directory gives `.venv.lib.python3.11.site-packages...`. Neither may show."""
    assert pytester.runpytest_inprocess(*SUITE, "--junitxml=plain.xml").ret == 0
    assert pytester.runpytest_inprocess(*SUITE, "--junitxml=spread.xml", "-n", "2").ret == 0
    plain = junit_names(pytester.path / "plain.xml")
    assert {classname for classname, _ in plain} == {"chat_contracts.suite.test_contract"}
    assert len(plain) == 2 * (len(CHECKS) + 1) and junit_names(pytester.path / "spread.xml") == plain


def test_a_conftest_of_the_users_own_does_not_break_the_suite(pytester: pytest.Pytester) -> None:
    """A conftest.py that does not apply to the suite's files makes pytest hash every plugin."""
    pytester.mkdir("tests").joinpath("conftest.py").write_text("", encoding="utf-8")
    result = pytester.runpytest_inprocess(*SUITE, "--contract-provider=wilson", "-k", "run_completed")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=1, deselected=len(CHECKS))


@pytest.mark.parametrize(
    ("provider", "behaviour", "check"),
    [
        # The engine's side of it, for each of the first answers that used to stop a run: tests/provider/test_verify.py
        ("whop", "text-content-type", "response_content_type"),
        ("wilson", "archived-as-string", "response_schema"),
        ("wilson", "rejects-empty-body", "valid_request_accepted"),
    ],
)
def test_a_live_provider_that_breaks_the_first_answer_gets_a_contract_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any, provider: str, behaviour: str, check: str
) -> None:
    api = build(get_provider(provider), behaviour, token=TOKEN)
    base_url = served(api)
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(*live(base_url, "--junitxml=junit.xml", provider=provider, chat=api.chat_id))
    assert result.ret == 1, result.stdout.str()[-3000:]
    assert junit_rows(pytester.path / "junit.xml")[f"test_contract[{provider}-{check}]"] == "failure"
    out = result.stdout.str()
    assert f"{check}: " in out and "clause:" in out and "curl -sS -i -X PATCH" in out
    assert f"{provider} chat {api.chat_id} restored" in out or "no snapshot, and nothing that could change" in out


def test_a_bug_of_ours_fails_one_row_runs_once_and_puts_the_chat_back(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    """A check that crashes (a bug of ours) must not make each row run the suite again, nor hide the restore."""
    judge = CHECKS["field_applied"].judge

    def crashes(ctx: Any) -> Any:
        if ctx.case.phase == "semantics":
            raise OverflowError("date value out of range")
        return judge(ctx)

    monkeypatch.setitem(CHECKS, "field_applied", replace(CHECKS["field_applied"], judge=crashes))
    api = whop()
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(*live(served(api)), "--junitxml=junit.xml")
    assert result.ret == 1, result.stdout.str()[-3000:]
    rows = junit_rows(pytester.path / "junit.xml")
    assert rows["test_contract[whop-run_completed]"] == "failure"
    assert "an internal error of chat-contracts (a bug: please report it)" in result.stdout.str()
    assert "OverflowError: date value out of range" in result.stdout.str()
    assert f"whop chat {CHAT} restored" in result.stdout.str()
    assert api.requests < 150  # one run, not one per row
    assert api.chats[CHAT]["title"] == whop().chats[CHAT]["title"]

    # -k that leaves out the row that says so: the session still fails
    result = pytester.runpytest_inprocess(*live(served(whop())), "-k", "response_schema")
    assert result.ret == 1 and result.parseoutcomes()["passed"] == 1, result.stdout.str()[-2000:]


def test_a_report_that_cannot_be_written_fails_one_row_and_the_run_is_not_repeated(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    """Reports are written after the restore; a failure there (a bug, a full disk) is one failing row."""

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(Observations, "write", fails)
    api = whop()
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(
        *live(served(api)), "--contract-drift-report=drift.md", "--junitxml=junit.xml"
    )
    assert result.ret == 1, result.stdout.str()[-3000:]
    rows = junit_rows(pytester.path / "junit.xml")
    assert rows["test_contract[whop-run_completed]"] == "failure"
    assert rows["test_contract[whop-response_schema]"] == "passed"
    assert "writing its reports failed" in result.stdout.str() and "UnicodeEncodeError" in result.stdout.str()
    assert api.requests < 150  # one run, not one per row


@pytest.mark.parametrize("case", ["unreachable", "wrong-token", "unknown-chat"])
def test_a_provider_that_cannot_be_verified_is_exit_4_with_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any, case: str
) -> None:
    base_url = served(whop())
    monkeypatch.setenv("CONTRACT_TOKEN", "wrong-token-0123" if case == "wrong-token" else TOKEN)
    if case == "unreachable":
        args = live("http://127.0.0.1:9/api/v1", "--contract-timeout", "3")
        message = "could not be run: cannot reach http://127.0.0.1:9/api/v1"
    elif case == "unknown-chat":
        args = live(base_url, chat="aich_nosuchchat00")
        message = "does not know chat 'aich_nosuchchat00' (404): check --contract-chat-id"
    else:
        args = live(base_url)
        message = "refused the token (401): check --contract-token"
    result = pytester.runpytest_inprocess(*args, "--junitxml=junit.xml")
    assert result.ret == 4, result.stdout.str()[-2000:]
    rows = junit_rows(pytester.path / "junit.xml")  # red on a dashboard too: the run's row fails, checks skip
    assert rows.pop("test_contract[whop-run_completed]") == "failure" and set(rows.values()) == {"skipped"}
    lines = errors(result)
    assert len(lines) == 1 and message.split("could not be run: ")[-1] in lines[0], lines
    assert "Traceback" not in result.stdout.str()


WHOP_AT = ("--contract-provider", "whop", "--contract-base-url", "http://127.0.0.1:9/api/v1")
TOKEN_AND_CHAT = ("--contract-token", "tok-0123456789", "--contract-chat-id", "c")


def token(value: str) -> tuple[str, str]:
    return ("--contract-token", value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--contract-base-url", "http://127.0.0.1:9/api/v1", "--contract-chat-id", "x"), "needs --contract-provider"),
        ((*WHOP_AT, "--contract-chat-id", "x"), "needs a token"),
        (("--contract-provider", "whop", "--contract-base-url", "ftp://x", *TOKEN_AND_CHAT), "is not an http(s) URL"),
        (("--contract-provider", "whop", "--contract-base-url", "http://127.0.0.1:s3cr3t/api/v1", *TOKEN_AND_CHAT),
         "is not a valid URL (its port is not a number from 0 to 65535, or its IPv6 address is malformed)"),
        (("--contract-provider", "whop", "--contract-base-url", "http://[::1/api", *TOKEN_AND_CHAT),
         "--contract-base-url is not a valid URL"),
        (("--contract-provider", "whop", "--contract-base-url", "user:s3cr3t@api.example/v1", *TOKEN_AND_CHAT),
         "carries credentials (user:password@)"),
        (("--contract-provider", "whop", "--contract-base-url", "http:/api.example:s3cr3t/v1", *TOKEN_AND_CHAT),
         "(not shown) is not an http(s) URL with a host"),
        (("--contract-provider", "whop", "--contract-base-url", "https://h/api?key=tok-0123456789", *TOKEN_AND_CHAT),
         "has a query or a fragment (not shown)"),
        (("--contract-artifacts", "/proc/nope"), "--contract-artifacts /proc/nope: cannot be written"),
        (("--junitxml", "/proc/nope/junit.xml"), "--junitxml /proc/nope/junit.xml: cannot be written"),
        (
            ("--contract-provider", "whop", "--contract-base-url", "https://user:s3cr3t@api.example/api/v1",
             *TOKEN_AND_CHAT),
            "carries credentials (user:password@)",
        ),
        ((*WHOP_AT, *token("tok-0123456789"), "--contract-chat-id", ".."), "would change the request's path"),
        ((*WHOP_AT, *token("short"), "--contract-chat-id", "c"), "the token is 5 characters, too short"),
        ((*WHOP_AT, *token("tok-0123\n456789"), "--contract-chat-id", "c"), "the token holds control characters"),
        ((*WHOP_AT, *token("tøken-0123456789"), "--contract-chat-id", "c"), "the token holds non-ASCII characters"),
        (("--contract-token", "t"), "--contract-token applies to a live run"),
        (("--contract-chat-id", "c"), "--contract-chat-id applies to a live run"),
        (("--contract-mock-fault", "no-such-fault"), "unknown fault 'no-such-fault'"),
        (("--contract-max-requests", "0"), "out of range: 10 to 100000"),
        (("--contract-max-requests", "35"), "--contract-max-requests 35 cannot hold the"),
        (("--contract-timeout", "-1"), "out of range: more than 0 and at most 300 seconds"),
        (("--contract-timeout", "0"), "out of range"),
        (("--contract-rate-limit", "-1"), "out of range: 0.1 to 1000 per second"),
        (("--contract-rate-limit", "0.0001"), "out of range"),
        (("--contract-max-wait", "-3"), "out of range: 0 to 3600 seconds"),
        (("--contract-profile", "foo"), "invalid choice: 'foo'"),
        (("--contract-provider", "slack"), "invalid choice: 'slack'"),
        (("--hypothesis-profile", "foo"), "--hypothesis-profile 'foo' is not a registered hypothesis profile"),
        (("--contract-drift-since", "."), "--contract-drift-since .: is a directory, not a previous PATH.json"),
        (("--contract-drift-since", "/"), "--contract-drift-since /: is a directory"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_4(pytester: pytest.Pytester, args: tuple[str, ...], message: str) -> None:
    result = pytester.runpytest_inprocess(*SUITE, *args)
    assert result.ret == 4, result.stdout.str()[-2000:]
    text = "\n".join(result.errlines + result.outlines)
    assert message in text and "Traceback" not in text and "INTERNALERROR" not in text
    assert "s3cr3t" not in text  # what may be a password is never repeated
    assert "s3cr3t" not in text and "tok-0123456789" not in text


def test_an_unknown_provider_in_the_environment_is_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACT_PROVIDER", "slack")
    result = pytester.runpytest_inprocess(*SUITE)
    assert result.ret == 4
    assert "CONTRACT_PROVIDER: unknown provider 'slack' (known: whop, wilson)" in "\n".join(result.errlines)


def test_a_report_path_that_cannot_be_written_stops_the_run_before_any_request(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    api = whop()
    base_url = served(api)
    (pytester.path / "blocked").write_text("a file where a directory should be")
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(*live(base_url, "--contract-drift-report", "blocked/drift.md"))
    assert result.ret == 4
    assert "--contract-drift-report blocked/drift.md: cannot be written" in "\n".join(result.errlines)
    assert api.requests == 0


def test_a_session_that_does_not_collect_the_suite_reads_and_sends_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    api = whop()
    base_url = served(api)
    for name, value in (("PROVIDER", "whop"), ("BASE_URL", base_url), ("TOKEN", TOKEN), ("CHAT_ID", CHAT)):
        monkeypatch.setenv(f"CONTRACT_{name}", value)
    pytester.makepyfile(test_other="def test_other():\n    assert True\n")
    result = pytester.runpytest_inprocess("test_other.py")
    assert result.ret == 0
    assert api.requests == 0


def test_options_coexist_with_pytest_timeout_and_pytest_base_url(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_timeout")
    pytest.importorskip("pytest_base_url")
    result = pytester.runpytest_inprocess(*SUITE, "--timeout", "120", "--base-url", "https://example.test",
                                          "--contract-provider", "wilson")  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-2000:]


def test_the_suite_keeps_its_rows_on_one_xdist_worker(pytester: pytest.Pytester) -> None:
    """Under `-n`, `--dist load` becomes `loadscope`: one worker runs a provider's rows (one chat, one
    snapshot) and the names stay as they are. (.ci/fresh_install.py runs the suite with -n 2 from a wheel
    and compares its JUnit rows with a run without -n.)"""
    pytest.importorskip("xdist")
    config = pytester.parseconfigure("--pyargs", "chat_contracts.suite", "-p", "xdist", "--dist", "load")
    assert config.option.dist == "loadscope"
    other = pytester.parseconfigure("-p", "xdist", "--dist", "load")  # a session without the suite: left alone
    assert other.option.dist == "load"


def test_known_violations_are_reported_as_known_and_do_not_fail(pytester: pytest.Pytester) -> None:
    fault = ("--contract-provider", "wilson", "--contract-mock-fault", "archived-not-applied")
    first = pytester.runpytest_inprocess(*SUITE, *fault, "--contract-write-baseline", "baseline.yaml")
    assert first.ret == 1
    entries = (pytester.path / "baseline.yaml").read_text(encoding="utf-8")
    assert "check: field_applied" in entries and "provider: wilson" in entries
    second = pytester.runpytest_inprocess(*SUITE, *fault, "--contract-baseline", "baseline.yaml", "-rx")
    assert second.ret == 0, second.stdout.str()[-2000:]
    second.assert_outcomes(xfailed=1, passed=15, skipped=1)
    assert "known violations (--contract-baseline)" in second.stdout.str()
    broken = pytester.path / "broken.yaml"
    broken.write_text("- provider: wilson\n  check: [1]\n", encoding="utf-8")
    third = pytester.runpytest_inprocess(*SUITE, *fault, "--contract-baseline", str(broken))
    assert third.ret == 4 and "entry 1 needs provider, check and clause" in "\n".join(third.errlines)


def test_the_reproduce_line_names_the_check_and_never_the_token(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    base_url = served(whop("title-not-applied"))
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(*live(base_url))
    assert result.ret == 1
    out = result.stdout.str()
    line = next(line for line in out.splitlines() if line.startswith("reproduce: "))
    assert line == (
        f"reproduce: pytest --pyargs chat_contracts.suite --contract-provider=whop "
        f"--contract-base-url={base_url} --contract-chat-id={CHAT} --contract-seed=7 -k 'whop and field_applied'  "
        "# with CONTRACT_TOKEN exported"
    )
    assert TOKEN not in out


def test_a_har_log_of_the_run_is_written_redacted(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, served: Any
) -> None:
    base_url = served(whop("echoes-token"))
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    result = pytester.runpytest_inprocess(*live(base_url, "--contract-har", "run.har"))
    assert result.ret == 0, result.stdout.str()[-2000:]
    har = json.loads((pytester.path / "run.har").read_text(encoding="utf-8"))
    entries = har["log"]["entries"]
    assert len(entries) > 50 and entries[0]["request"]["method"] == "PATCH"
    text = (pytester.path / "run.har").read_text(encoding="utf-8")
    assert TOKEN not in text and "Bearer ***" in text


def test_the_header_says_what_runs(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*SUITE, "--contract-provider", "whop", "--contract-profile", "ci", "--co")
    assert re.search(r"chat-contracts: whop \(mock .*\); seed 7; at most 150 requests per provider; profile 'ci'",
                     result.stdout.str())  # fmt: skip


def test_log_records_made_during_a_run_are_redacted_tracebacks_and_all(caplog: pytest.LogCaptureFixture) -> None:
    from chat_contracts.suite.plugin import _redacted_logs

    secret = "tok_logged-0123456789abcdef"
    logger = logging.getLogger("httpcore.test")
    with caplog.at_level(logging.DEBUG):
        with _redacted_logs(Redactor([secret])):
            try:
                raise ValueError(f"answered with {secret}")
            except ValueError:
                logger.exception("headers: %s", [("x-debug-token", secret)])
            logger.debug("%s %s", "too few")  # arguments that do not fit
        during = caplog.text
        logger.debug("after the run: %s", secret)  # the factory is logging's own again
    assert secret not in during and "headers: [('x-debug-token', '***')]" in during
    assert "ValueError: answered with ***" in during
    assert f"after the run: {secret}" in caplog.text
