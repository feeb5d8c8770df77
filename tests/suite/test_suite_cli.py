"""`pytest tests/contract` as a user runs it: exit status, live mode over HTTP, bad options."""

from __future__ import annotations

import pytest

from chat_contracts.faults import build
from chat_contracts.registry import get_provider
from chat_contracts.transport import serving
from tests.conftest import contract_suite

TOKEN = "sk_live_secret_token_0123456789"

pytestmark = pytest.mark.slow


def test_mock_run_of_a_faulty_provider_exits_1_naming_the_check_and_clause() -> None:
    result = contract_suite("--provider", "wilson", "--mock-fault", "archived-not-applied")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "field_applied: archived was sent as True" in result.stdout
    assert "wilson.openapi.yaml#/paths/~1chat~1{chat_id}/patch/requestBody" in result.stdout
    assert (
        "reproduce: pytest tests/contract --seed 7 --mock-fault archived-not-applied --provider wilson" in result.stdout
    )


def test_mock_run_of_composed_faults_runs_them_all() -> None:
    result = contract_suite("--provider", "whop", "--mock-fault", "echoes-token+title-not-applied")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "field_applied: title was sent as" in result.stdout
    assert '"debug_authorization": "Bearer ***"' in result.stdout


@pytest.mark.parametrize(("behaviour", "status"), [(None, 0), ("unknown-id-upsert", 1)])
def test_live_run_against_a_served_mock(behaviour: str | None, status: int) -> None:
    whop = get_provider("whop")
    api = build(whop, behaviour, token=TOKEN, chat_id="aich_livechat000001")
    with serving(api) as base_url:
        result = contract_suite(
            "--provider", "whop", "--base-url", base_url, "--chat-id", "aich_livechat000001",
            env={"CONTRACT_TOKEN": TOKEN},
        )  # fmt: skip
    assert result.returncode == status, result.stdout[-3000:]
    assert f"whop (live {base_url})" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    if status:
        assert "unknown_id_not_found: unknown chat id aich_00000000000000: got 200, expected 404" in result.stdout
    # the run left the chat as it found it
    assert api.chats["aich_livechat000001"]["title"] == "Weekly Revenue Analysis"
    assert api.chats["aich_livechat000001"]["notification_preference"] == "all"
    assert api.requests <= 150


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://127.0.0.1:9/api/v1", "--chat-id", "x"], "--base-url needs --provider"),
        (["--provider", "whop", "--base-url", "http://127.0.0.1:9/api/v1", "--chat-id", "x"], "needs --token"),
        (["--provider", "whop", "--base-url", "ftp://x", "--token", "t", "--chat-id", "x"], "is not an http(s) URL"),
        (["--provider", "whop", "--base-url", "http://127.0.0.1:9/api/v1", "--token", "t"], "needs --chat-id"),
        (["--mock-fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
    ],
    ids=["no-provider", "no-token", "bad-url", "no-chat-id", "unknown-fault"],
)
def test_bad_options_are_one_clear_error(args: list[str], message: str) -> None:
    result = contract_suite(*args)
    assert result.returncode == 4
    assert message in result.stderr and "Traceback" not in result.stderr
