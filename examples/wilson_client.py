"""A small client for Wilson's "Edit chat" (PATCH /apif/v2/chat/{chat_id}), written against
contracts/wilson.openapi.yaml. tests/consumer/test_wilson_example.py checks it against every response
the contract allows, and shows what a naive version of it gets wrong.

    client = WilsonClient(token=os.environ["WILSON_TOKEN"])
    chat = client.edit_chat("6673caafdf6f247417a1b2c3", title="Weekly sync", archived=False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

BASE_URL = "https://wilson.40mat.com/apif/v2"


@dataclass(frozen=True)
class Chat:
    id: str
    title: str
    archived: bool
    company_id: str
    members: list[str]
    bot_id: str | None  # a chat without a bot may leave it out, or send null
    created: datetime
    updated: datetime


def parse_chat(data: dict[str, Any]) -> Chat:
    return Chat(
        id=data["id"],
        title=data["title"],
        archived=data["archived"],
        company_id=data["company_id"],
        members=list(data["members"]),
        bot_id=data.get("bot_id"),
        # RFC 1123 ("Thu, 12 Jun 2024 06:22:39 GMT"), not ISO 8601.
        created=parsedate_to_datetime(data["create_at"]),
        updated=parsedate_to_datetime(data["update_at"]),
    )


class WilsonClient:
    def __init__(
        self,
        token: str,
        base_url: str = BASE_URL,
        http: httpx.Client | None = None,
        parse: Callable[[dict[str, Any]], Chat] = parse_chat,
    ) -> None:
        self._token, self._base_url, self._parse = token, base_url.rstrip("/"), parse
        self._http = http or httpx.Client(timeout=10)

    def edit_chat(
        self, chat_id: str, *, title: str | None = None, archived: bool | None = None, bot_id: str | None = None
    ) -> Chat:
        """Change the fields given (None: leave as is; the API documents no way to clear a field)."""
        body = {k: v for k, v in {"title": title, "archived": archived, "bot_id": bot_id}.items() if v is not None}
        response = self._http.patch(
            f"{self._base_url}/chat/{chat_id}", json=body, headers={"Authorization": f"Bearer {self._token}"}
        )
        response.raise_for_status()
        return self._parse(response.json())
