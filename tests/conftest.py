"""Helpers shared by the project's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_contracts.mock import DEFAULT_TOKEN, ReferenceChatAPI
from chat_contracts.registry import Provider, get_provider

_UNSET: Any = object()
ROOT = Path(__file__).resolve().parents[1]


def contract_suite(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.CompletedProcess[str]:
    """`pytest tests/contract --seed 7 ARGS` as a user runs it (CONTRACT_* taken from `env` only)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/contract", "--seed", "7", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean | (env or {}),
        check=False,
        **popen,
    )


@dataclass
class Caller:
    """Sends requests to one mock's chat the way a client would, over httpx."""

    provider: Provider
    api: ReferenceChatAPI
    base_url: str
    client: httpx.Client

    def patch(
        self,
        body: Any = _UNSET,
        *,
        raw: bytes | None = None,
        token: str | None = DEFAULT_TOKEN,
        chat_id: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers |= self.provider.auth_headers(token)
        url = self.base_url + self.provider.path_for(chat_id or self.api.chat_id)
        kwargs: dict[str, Any] = {"content": raw} if raw is not None else {}
        if body is not _UNSET:
            kwargs = {"json": body}
        return self.client.request(method or self.provider.method, url, headers=all_headers, **kwargs)


@pytest.fixture
def caller(provider_mock):
    """``caller("whop", "title-not-applied")``: a Caller for an in-process mock."""
    client = httpx.Client()

    def make(provider: str, behaviour: str | None = None, **options: Any) -> Caller:
        api = provider_mock(provider, behaviour, **options)
        return Caller(get_provider(provider), api, get_provider(provider).server, client)

    yield make
    client.close()


# --- the mutation-score table of tests/test_suite_quality.py --------------------------------------

_SCORES = pytest.StashKey[list]()


@pytest.fixture
def mutation_scores(request: pytest.FixtureRequest) -> list:
    """Rows (provider, behaviour, outcome, requests) for the table printed after the run."""
    return request.config.stash.setdefault(_SCORES, [])


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(_SCORES, [])
    if not rows:
        return
    faults = [r for r in rows if r[1] != "(reference)" and "passes" not in r[2]]
    caught = [r for r in faults if r[2] != "MISSED"]
    terminalreporter.section("contract suite: mutation score")
    terminalreporter.write_line(f"{'provider':8} {'behaviour':38} {'outcome / caught by':30} requests")
    for provider, behaviour, outcome, requests in sorted(rows, key=lambda r: (r[0], "passes" not in r[2], r[1])):
        terminalreporter.write_line(f"{provider:8} {behaviour:38} {outcome:30} {requests}")
    conforming = [r for r in rows if "passes" in r[2]]
    terminalreporter.write_line(
        f"faults caught: {len(caught)}/{len(faults)}; conforming implementations passed: {len(conforming)}"
    )
