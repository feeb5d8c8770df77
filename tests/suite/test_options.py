"""The suite's options, one table for two front ends: how each spells them."""

from __future__ import annotations

from chat_contracts.suite.options import CLI, PYTEST


def test_respell_writes_the_suite_options_as_the_command_that_was_run() -> None:
    text = "check --contract-chat-id / CONTRACT_CHAT_ID; (--contract-token) --contract-write-baseline=known.yaml"
    assert CLI.respell(text) == "check --chat-id / CONTRACT_CHAT_ID; (--token) --write-baseline=known.yaml"
    assert PYTEST.respell(text) == text


def test_respell_leaves_what_only_looks_like_an_option() -> None:
    """A path or a provider's data may hold "--contract-": a pasted curl must still find its body file."""
    text = "--data-binary @/ci/build--contract-tests/body.bin; --contract-nonsense; x--contract-token"
    assert CLI.respell(text) == text
