"""Helpers shared by the project's tests."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_contracts.core.registry import Provider, get_provider
from chat_contracts.reference.mock import DEFAULT_TOKEN, ReferenceChatAPI

_UNSET: Any = object()
ROOT = Path(__file__).resolve().parents[1]


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


CallerFactory = Callable[..., Caller]  # the `caller` fixture: caller("whop", "title-not-applied", **options)


@pytest.fixture(scope="session")
def _caller_client() -> Iterator[httpx.Client]:
    """One client for every Caller: making one loads the CA bundle (~60 ms); respx answers in-process."""
    with httpx.Client() as client:
        yield client


@pytest.fixture
def caller(provider_mock: Callable[..., ReferenceChatAPI], _caller_client: httpx.Client) -> CallerFactory:
    """``caller("whop", "title-not-applied")``: a Caller for an in-process mock."""

    def make(provider: str, behaviour: str | None = None, **options: Any) -> Caller:
        api = provider_mock(provider, behaviour, **options)
        return Caller(get_provider(provider), api, get_provider(provider).server, _caller_client)

    return make


# --- a web server that must never be asked for anything ------------------------------------------


@dataclass
class CountingServer:
    """A plain HTTP server on loopback that answers any GET with a small JSON schema and counts requests."""

    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    """For proofs that nothing is fetched: ``counting_server.requests`` must stay empty."""
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            body = b'{"type": "object", "description": "FETCHED_FROM_THE_NETWORK"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield CountingServer(f"http://127.0.0.1:{server.server_address[1]}", served)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the mutation-score table of tests/provider/test_suite_quality.py -------------------------------

_SCORES = pytest.StashKey[list[Any]]()
_SCORE_PROPERTY = "mutation_score"


class _Scores(list[Any]):
    """Rows (provider, behaviour, outcome, requests), also put in the test's report so xdist brings them back."""

    def __init__(self, item: pytest.Item) -> None:
        super().__init__()
        self.item = item

    def append(self, row: object) -> None:
        super().append(row)
        self.item.user_properties.append((_SCORE_PROPERTY, json.dumps(row)))


@pytest.fixture
def mutation_scores(request: pytest.FixtureRequest) -> list[Any]:
    """Rows (provider, behaviour, outcome, requests) for the table printed after the run."""
    return _Scores(request.node)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == _SCORE_PROPERTY and report.when == "call":
            _ROWS.append(tuple(json.loads(str(value))))


_ROWS: list[tuple[Any, ...]] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = sorted(set(_ROWS), key=str)
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
