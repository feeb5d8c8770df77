"""Reading the suite's settings: options first, then the environment; one line for what cannot be used,
in the spelling of the front end the user typed (pytest's --contract-NAME or the CLI's --NAME)."""

from __future__ import annotations

from typing import Any

import pytest

from chat_contracts.core.errors import UsageError
from chat_contracts.suite.config import read_config
from chat_contracts.suite.options import CLI, PYTEST

TOKEN = "Tok_config-test-0123456789"


def given(**values: Any) -> Any:
    return lambda name: values.get(name.replace("-", "_"))


def test_an_exported_token_does_not_stop_a_mock_run() -> None:
    """README has the token exported for live runs; a run without a base URL verifies the mocks."""
    config = read_config(given(seed=1), {"CONTRACT_TOKEN": TOKEN, "CONTRACT_CHAT_ID": "c"})
    assert not config.live and set(config.targets) == {"whop", "wilson"}
    assert TOKEN not in repr(config) and all(t.token != TOKEN for t in config.targets.values())


def test_a_live_only_option_on_the_command_line_is_refused_for_a_mock_run() -> None:
    with pytest.raises(UsageError, match=r"^--contract-token applies to a live run"):
        read_config(given(token=TOKEN), {})


@pytest.mark.parametrize(("front", "flag"), [(PYTEST, "--contract-max-requests"), (CLI, "--max-requests")])
def test_messages_spell_options_as_the_front_end_does(front: Any, flag: str) -> None:
    with pytest.raises(UsageError) as raised:
        read_config(given(provider="whop", max_requests=50), {}, front)
    assert str(raised.value).startswith(f"{flag} 50 cannot hold the 81 requests")
    assert "--contract-" not in str(raised.value) or front is PYTEST


def test_the_rerun_command_carries_the_options_but_never_the_token() -> None:
    environ = {"CONTRACT_TOKEN": TOKEN, "CONTRACT_CHAT_ID": "c"}
    config = read_config(given(provider="whop", base_url="http://127.0.0.1:9/api/v1", seed=5), environ, CLI)
    line = config.reproduce("whop and field_applied")
    assert line.startswith("chat-contracts verify --provider=whop --base-url=http://127.0.0.1:9/api/v1")
    assert "--seed=5" in line and "--chat-id=c" in line and TOKEN not in line
    assert line.endswith("-k 'whop and field_applied'  # with CONTRACT_TOKEN exported")
