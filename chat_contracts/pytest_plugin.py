"""pytest fixtures of chat-contracts (loaded by the repo's conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from chat_contracts.faults import build
from chat_contracts.mock import ReferenceChatAPI
from chat_contracts.registry import Provider, get_provider
from chat_contracts.transport import mount

MockFactory = Callable[..., ReferenceChatAPI]


@pytest.fixture
def provider_mock() -> Iterator[MockFactory]:
    """Start a provider's mock, routed in-process for every httpx client (respx).

    ``api = provider_mock("whop")`` answers httpx requests to the provider's real server URL;
    ``provider_mock("wilson", "title-not-applied", base_url="https://wilson.test/apif/v2")`` switches
    on a catalogue behaviour and routes another URL. Options (token, chat_id, ...) go to the mock.
    """
    with respx.mock(assert_all_called=False) as router:

        def start(
            provider: str | Provider, behaviour: str | None = None, *, base_url: str | None = None, **options: Any
        ) -> ReferenceChatAPI:
            provider = get_provider(provider) if isinstance(provider, str) else provider
            api = build(provider, behaviour, **options)
            mount(router, api, base_url or provider.server)
            return api

        yield start
