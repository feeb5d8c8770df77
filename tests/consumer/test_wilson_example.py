"""The example Wilson client against the contract: it sends conforming requests and copes with every
response the contract allows; a naive version of its parser is caught by the same property test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chat_contracts.consumer import ContractMock, chat_bodies, error_responses
from chat_contracts.reference.mock import MockResponse
from examples.wilson_client import Chat, WilsonClient, parse_chat

CHAT_ID = "6673caafdf6f247417a1b2c3"
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False
)
HTTP = httpx.Client()  # one for all examples: making a client costs more than a request


def parse_chat_naively(data: dict[str, Any]) -> Chat:
    """How the client is often first written: ISO dates, and every field assumed present."""
    return Chat(
        id=data["id"], title=data["title"], archived=data["archived"], company_id=data["company_id"],
        members=data["members"], bot_id=data["bot_id"],
        created=datetime.fromisoformat(data["create_at"]), updated=datetime.fromisoformat(data["update_at"]),
    )  # fmt: skip


def edits_parse(parse: Callable[[dict[str, Any]], Chat], shrink: bool = True) -> None:
    """The property: whatever valid chat the API answers, the client returns it, faithfully."""

    @settings(EXAMPLES, phases=tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate))
    @given(
        body=chat_bodies("wilson"),
        title=st.none() | st.text(max_size=20),
        archived=st.none() | st.booleans(),
    )
    def check(body: dict[str, Any], title: str | None, archived: bool | None) -> None:
        with ContractMock.for_provider("wilson").routed() as mock:  # strict: no field the contract does not list
            mock.respond_with(body)
            chat = WilsonClient("token", http=HTTP, parse=parse).edit_chat(CHAT_ID, title=title, archived=archived)
        mock.assert_conforms()
        assert mock.drift == []
        assert (chat.id, chat.title, chat.archived, chat.bot_id) == (
            body["id"],
            body["title"],
            body["archived"],
            body.get("bot_id"),
        )
        assert chat.created.tzinfo is not None

    check()


def test_the_example_client_conforms_and_parses_every_valid_chat() -> None:
    edits_parse(parse_chat)


def test_the_naive_parser_is_caught() -> None:
    with pytest.raises((ValueError, KeyError)) as raised:
        edits_parse(parse_chat_naively, shrink=False)  # the first failure will do
    # Which bug hypothesis meets first depends on the draw: RFC 1123 dates break fromisoformat, and a
    # chat without a bot breaks data["bot_id"]. Both are real.
    assert "Invalid isoformat string" in str(raised.value) or "bot_id" in str(raised.value)


def test_the_example_client_raises_on_every_error_the_contract_allows() -> None:
    @settings(max_examples=30, deadline=None)
    @given(response=error_responses("wilson"))
    def check(response: MockResponse) -> None:
        with ContractMock.for_provider("wilson").routed() as mock:
            mock.respond_with(response)
            with pytest.raises(httpx.HTTPStatusError) as raised:
                WilsonClient("token", http=HTTP).edit_chat(CHAT_ID, title="x")
        assert raised.value.response.status_code == response.status
        mock.assert_conforms()

    check()
