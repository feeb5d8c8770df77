"""The `chat-contracts` command: `verify` runs the contract suite from the installed package, bad input is
one line and exit 2, and the catalogue and check listings say what there is."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chat_contracts import __version__
from chat_contracts.cli import main
from chat_contracts.core.documents import contracts_dir
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.checks import CHECKS
from chat_contracts.reference.faults import build, catalogue
from chat_contracts.reference.transport import serving

TOKEN = "tok_cli_test_0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CONTRACT_PROVIDER", "CONTRACT_BASE_URL", "CONTRACT_TOKEN", "CONTRACT_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _verify(*args: str) -> subprocess.CompletedProcess[str]:
    """`chat-contracts verify ARGS` in another interpreter, as a user's CI runs it."""
    return subprocess.run(
        [sys.executable, "-m", "chat_contracts.cli", "verify", "--seed", "7", *args],
        capture_output=True, text=True, timeout=300, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")} | {"CONTRACT_TOKEN": TOKEN},
    )  # fmt: skip


def test_verify_a_served_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault: exit 1, JUnit written, chat put back, no token shown. In this process, as pytester runs pytest;
    .ci/fresh_install.py runs the command itself, from a wheel, against `serve`, passing and failing."""
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    api = build(get_provider("wilson"), "title-not-applied", token=TOKEN)
    with serving(api) as base_url:
        status = main(["verify", "--seed", "7", "--provider", "wilson", "--base-url", base_url, "--chat-id",
                       api.chat_id, "--junitxml", str(tmp_path / "junit.xml"), "--", "-W",
                       "ignore::pytest.PytestAssertRewriteWarning"])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 1, out[-3000:] + err[-2000:]
    names = {case.get("name") for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert {f"test_contract[wilson-{check}]" for check in CHECKS} <= names
    assert f"wilson chat {api.chat_id} restored" in out
    assert TOKEN not in out + err
    assert "reproduce: chat-contracts verify --provider=wilson --base-url=" in out and " --seed=7 " in out


def test_a_provider_that_cannot_be_verified_is_exit_4_with_hints_in_the_cli_spelling(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)
    api = build(get_provider("whop"), token=TOKEN)
    with serving(api) as base_url:
        status = main(["verify", "--provider", "whop", "--base-url", base_url, "--chat-id", "aich_nosuchchat00",
                       "--", "-W", "ignore::pytest.PytestAssertRewriteWarning"])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 4, out[-3000:] + err[-2000:]
    assert (
        "does not know chat 'aich_nosuchchat00' (404): check --chat-id / CONTRACT_CHAT_ID, and that --base-url" in out
    )
    assert "--contract-" not in out + err  # every hint names the options of the command that was run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--timeout", "-1"], "argument --timeout: -1 is out of range"),
        (["verify", "--token", "t"], "--token applies to a live run"),
        (["verify", "--provider", "whop", "--base-url", "https://u:p@x.test/api/v1", "--token", "t", "--chat-id", "c"],
         "carries credentials"),
        (["verify", "--max-requests", "0"], "argument --max-requests: 0 is out of range"),
        (["verify", "--provider", "whop", "--max-requests", "50"], "error: --max-requests 50 cannot hold the 81"),
        (["serve", "--provider", "whop", "--port", "99999"], "argument --port: 99999 is out of range"),
        (["lint", "--baseline", "missing.yaml"], "missing.yaml: no such file"),
        (["drift", "nothing.yaml"], "drift needs BASELINE and CANDIDATE"),
        (["verify", "--provider", "whop", "--base-url", "http://127.0.0.1:8000/api/v1 ", "--token", "tok-0123456789",
          "--chat-id", "c"], "--base-url holds spaces or control characters"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as raised:
        code = main(args)
        raise SystemExit(code)
    err = capsys.readouterr().err
    assert raised.value.code == 2
    assert message in err and "--contract-" not in err, err
    assert "Traceback" not in err


def test_rerun_lines_are_spelled_as_run_under_xdist_too(capsys: pytest.CaptureFixture[str]) -> None:
    """The rows are judged in the workers: they learn how the controller was started."""
    status = main(["verify", "--provider", "whop", "--mock-fault", "missing-created-timestamp", "--seed", "7",
                   "--", "-n", "2", "-W", "ignore::pytest.PytestAssertRewriteWarning"])  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 1, out[-3000:] + err[-2000:]
    assert "reproduce: chat-contracts verify --provider=whop --seed=7 --mock-fault=missing-created-timestamp" in out
    assert "--contract-" not in out + err


def test_drift_names_a_shipped_contract_by_its_provider(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # another repository: no contracts/ here
    assert main(["drift", "whop", str(contracts_dir() / "whop.openapi.yaml")]) == 0
    assert "No drift" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0 and capsys.readouterr().out == f"chat-contracts {__version__}\n"


def test_listings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faults"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in catalogue())
    assert main(["checks"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in CHECKS)
