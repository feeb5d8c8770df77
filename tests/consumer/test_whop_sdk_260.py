"""whop-sdk 2.6.0 (Fern) has drifted from the pinned contract, and the contract mock shows how: it sends
`current_account_id`, which the contract does not know (a violation by default, drift when tolerated),
and it rejects contract-valid responses because they lack `agent_identifier`. 2.6.0 installs as the
same `whop_sdk` package as 0.0.41, so it lives in a venv of its own, made from PyPI on first use under
the user's cache directory (never in the repository), and runs as a subprocess against the contract
mock served on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat_contracts.consumer import ContractMock
from chat_contracts.core.cache import cache_dir
from chat_contracts.core.registry import get_provider
from chat_contracts.reference.mock import seed_chat
from chat_contracts.reference.transport import serving

pytestmark = pytest.mark.slow

PROBE = Path(__file__).with_name("whop_260_probe.py")
WHOP = get_provider("whop")
CHAT_ID = "aich_k2JdQvX8mP4rTz"
UNKNOWN_FIELD_CLAUSE = (
    "whop.openapi.yaml#/paths/~1ai_chats~1{id}/patch/requestBody/content/application~1json/schema/properties"
)
SENDS_CURRENT_ACCOUNT_ID = (
    "sends current_account_id='biz_XXXXX', unknown to the contract "
    "(known: current_company_id, notification_preference, title)"
)


def venv_dir() -> Path:
    """$XDG_CACHE_HOME/chat-contracts/venv-whop-2.6.0 (default ~/.cache/...): outside the repository."""
    return cache_dir() / "venv-whop-2.6.0"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time (pytest-xdist workers share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _has_260(target: Path) -> bool:
    """Installed, by its metadata (importing the SDK to ask would cost a second)."""
    return (target / "bin" / "python").exists() and any(
        target.glob("lib/python*/site-packages/whop_sdk-2.6.0.dist-info")
    )


@pytest.fixture(scope="session")
def python_260() -> Path:
    target = venv_dir()
    python = target / "bin" / "python"
    with _locked(target.with_name(target.name + ".lock")):
        if _has_260(target):
            return python
        venv.create(target, with_pip=True, clear=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "whop-sdk==2.6.0"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if install.returncode != 0 or not _has_260(target):
            pytest.fail(f"could not install whop-sdk==2.6.0 into {target} (PyPI needed once): {install.stderr[-500:]}")
    return python


def test_the_venv_lives_in_the_cache_not_in_the_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert repo not in venv_dir().parents
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert venv_dir() == tmp_path / "chat-contracts" / "venv-whop-2.6.0"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert venv_dir() == tmp_path / "home" / ".cache" / "chat-contracts" / "venv-whop-2.6.0"


Probed = tuple[ContractMock, list[dict[str, Any]]]  # the strict mock that served the probe, and what 2.6.0 made of it


def _contract_valid_chat() -> dict[str, Any]:
    body = seed_chat(WHOP, CHAT_ID, "2024-06-12T06:22:39.401Z")
    assert WHOP.document.errors(body, WHOP.chat_schema_pointer) == []
    return body


@pytest.fixture(scope="module")
def probed(python_260: Path) -> Probed:
    """2.6.0 updates the chat twice (one interpreter start, not two): the mock answers a contract-valid chat,
    then the same chat with agent_identifier. The mock is strict (the default)."""
    mock = ContractMock(WHOP)
    mock.respond_with(_contract_valid_chat(), _contract_valid_chat() | {"agent_identifier": "support"})
    with serving(mock) as base_url:
        run = subprocess.run(
            [str(python_260), str(PROBE), base_url, CHAT_ID, "2"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return mock, [json.loads(line) for line in run.stdout.strip().splitlines()]


def test_260_sends_a_field_the_contract_does_not_know(probed: Probed) -> None:
    strict, _ = probed
    assert len(strict.requests) == 2  # max_retries=0: one request per update
    # By default, the renamed company context is a violation with its clause, in each request...
    assert [(v.number, v.message, v.clause) for v in strict.violations] == [
        (1, SENDS_CURRENT_ACCOUNT_ID, UNKNOWN_FIELD_CLAUSE),
        (2, SENDS_CURRENT_ACCOUNT_ID, UNKNOWN_FIELD_CLAUSE),
    ]
    with pytest.raises(AssertionError, match="current_account_id"):
        strict.assert_conforms()
    # ...tolerated, it is drift, and everything else it sends (method, path, auth, known fields) conforms.
    tolerant = ContractMock(WHOP, tolerate_unknown_fields=True)
    tolerant.handle(strict.requests[0])  # the same request, to a mock that tolerates unknown fields
    tolerant.assert_conforms()
    assert [(d.message, d.clause) for d in tolerant.drift] == [(SENDS_CURRENT_ACCOUNT_ID, UNKNOWN_FIELD_CLAUSE)]


def test_260_rejects_a_contract_valid_response_without_agent_identifier(
    probed: Probed,
) -> None:
    result = probed[1][0]
    assert result["version"] == "2.6.0"
    assert result["parsed"] is False and result["error"] == "ParsingError"
    assert "agent_identifier" in result["message"] and "Field required" in result["message"]


def test_260_parses_the_same_response_once_agent_identifier_is_there(probed: Probed) -> None:
    """The control: the only thing 2.6.0 misses in the contract-valid response is agent_identifier."""
    assert probed[1][1] == {"version": "2.6.0", "parsed": True, "agent_identifier": "support"}
