"""whop-sdk 2.6.0 (Fern) has drifted from the pinned contract, and the contract mock shows how: it sends
`current_account_id`, which the contract does not know, and it rejects contract-valid responses because
they lack `agent_identifier`. 2.6.0 installs as the same `whop_sdk` package as 0.0.41, so it lives in a
venv of its own (.venv-whop-2.6.0, made on first use from PyPI) and runs as a subprocess against the
contract mock served on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

from chat_contracts.consumer import ContractMock
from chat_contracts.mock import DIALECTS
from chat_contracts.registry import get_provider
from chat_contracts.transport import serving
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

VENV = ROOT / ".venv-whop-2.6.0"
PROBE = Path(__file__).with_name("whop_260_probe.py")
WHOP = get_provider("whop")
CHAT_ID = "aich_k2JdQvX8mP4rTz"


@pytest.fixture(scope="session")
def python_260() -> Path:
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import whop_sdk; assert whop_sdk.__version__ == '2.6.0'"]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return python
    venv.create(VENV, with_pip=True, clear=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "whop-sdk==2.6.0"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if install.returncode != 0:
        pytest.fail(f"could not install whop-sdk==2.6.0 into {VENV} (PyPI needed once): {install.stderr[-500:]}")
    return python


def _probe(python: Path, mock: ContractMock) -> dict:
    with serving(mock) as base_url:
        result = subprocess.run(
            [str(python), str(PROBE), base_url, CHAT_ID], capture_output=True, text=True, timeout=120, check=True
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_260_sends_a_field_the_contract_does_not_know(python_260: Path) -> None:
    mock = ContractMock.for_provider("whop")
    _probe(python_260, mock)
    mock.assert_conforms()  # method, path, auth and the known fields are fine...
    assert [d.message for d in mock.drift] == [  # ...but the company context goes under a new name
        "sends current_account_id='biz_XXXXX', unknown to the contract "
        "(known: current_company_id, notification_preference, title)"
    ]


def _contract_valid_chat() -> dict:
    body = DIALECTS["whop"].seed(CHAT_ID, "2024-06-12T06:22:39.401Z")
    assert WHOP.document.errors(body, WHOP.response_schema_pointer(200)) == []
    return body


def test_260_rejects_a_contract_valid_response_without_agent_identifier(python_260: Path) -> None:
    mock = ContractMock.for_provider("whop")
    mock.respond_with(_contract_valid_chat())
    result = _probe(python_260, mock)
    assert result["version"] == "2.6.0"
    assert result["parsed"] is False and result["error"] == "ParsingError"
    assert "agent_identifier" in result["message"] and "Field required" in result["message"]


def test_260_parses_the_same_response_once_agent_identifier_is_there(python_260: Path) -> None:
    """The control: the only thing 2.6.0 misses in the contract-valid response is agent_identifier."""
    mock = ContractMock.for_provider("whop")
    mock.respond_with(_contract_valid_chat() | {"agent_identifier": "support"})
    result = _probe(python_260, mock)
    assert result == {"version": "2.6.0", "parsed": True, "agent_identifier": "support"}
