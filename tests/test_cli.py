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
