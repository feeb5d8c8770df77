"""pytest integration of chat-contracts (loaded by the repo's conftest.py).

- `provider_mock`: a fixture that routes httpx requests for a provider to its in-process mock.
- The contract suite's options and targets: `--provider`, `--base-url`, `--token`, `--chat-id`
  (or CONTRACT_PROVIDER, CONTRACT_BASE_URL, CONTRACT_TOKEN, CONTRACT_CHAT_ID), `--seed`,
  `--max-requests`, `--mock-fault`. Without `--base-url` the suite runs against the built-in mocks.
"""

from __future__ import annotations

import os
import random
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import respx

from chat_contracts.faults import CATALOGUE, build
from chat_contracts.mock import DEFAULT_TOKEN, ReferenceChatAPI
from chat_contracts.registry import Provider, get_provider, provider_names
from chat_contracts.session import REDACTED, Session, Target
from chat_contracts.transport import mock_client, mount
from chat_contracts.verify import ContractRun

MockFactory = Callable[..., ReferenceChatAPI]

ENV = {
    "provider": "CONTRACT_PROVIDER",
    "base_url": "CONTRACT_BASE_URL",
    "token": "CONTRACT_TOKEN",
    "chat_id": "CONTRACT_CHAT_ID",
}


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


# --- the contract suite's options ----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chat-contracts", "chat-contracts contract suite (tests/contract)")
    group.addoption("--provider", choices=provider_names(), help="provider to verify (default: all, on mocks)")
    group.addoption("--base-url", help="live base URL incl. the API prefix, e.g. https://api.whop.com/api/v1")
    group.addoption("--token", help="bearer token for the live provider (better: CONTRACT_TOKEN)")
    group.addoption("--chat-id", help="id of an existing chat the run may update (it is restored at the end)")
    group.addoption("--seed", type=int, help="seed of the generated cases (default: random, printed)")
    group.addoption("--max-requests", type=int, default=150, help="hard cap on requests per provider (default 150)")
    group.addoption("--mock-fault", metavar="NAME", help="run against a mock with this catalogue fault switched on")


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return value if value is not None else os.environ.get(ENV.get(name, ""), None) or None


@dataclass
class SuiteConfig:
    targets: dict[str, Target]
    seed: int
    max_requests: int
    fault: str | None
    command: list[str]  # how to run the same suite again (token redacted)
    clients: list[httpx.Client] = field(default_factory=list)
    runs: dict[str, ContractRun] = field(default_factory=dict)

    def run_for(self, name: str) -> ContractRun:
        if name not in self.runs:
            target = self.targets[name]
            client = self._client(target)
            self.runs[name] = ContractRun(Session(target, client, max_requests=self.max_requests), seed=self.seed)
        return self.runs[name]

    def _client(self, target: Target) -> httpx.Client:
        if target.live:
            client = httpx.Client(timeout=10.0, follow_redirects=False)
        else:
            api = build(target.provider, self.fault if self.fault in _faults_for(target.provider) else None)
            client = mock_client(api, target.base_url)
        self.clients.append(client)
        return client

    def reproduce(self, test_id: str) -> str:
        return " ".join(shlex.quote(part) for part in [*self.command, "-k", test_id])


def _faults_for(provider: Provider) -> set[str]:
    return {name for name, b in CATALOGUE.items() if provider.name in b.providers}


def _suite_config(config: pytest.Config) -> SuiteConfig:
    provider, base_url = _option(config, "provider"), _option(config, "base_url")
    token, chat_id, fault = _option(config, "token"), _option(config, "chat_id"), config.getoption("mock_fault")
    seed = config.getoption("seed")
    seed = seed if seed is not None else random.randrange(2**32)
    command = ["pytest", "tests/contract", "--seed", str(seed)]
    if base_url:
        if not provider:
            raise pytest.UsageError("--base-url needs --provider (whop or wilson)")
        if provider not in provider_names():
            raise pytest.UsageError(f"unknown provider {provider!r} (known: {', '.join(provider_names())})")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise pytest.UsageError(f"--base-url {base_url!r} is not an http(s) URL")
        if not token:
            raise pytest.UsageError("--base-url needs --token (or CONTRACT_TOKEN): without one every check is vacuous")
        if not chat_id:
            raise pytest.UsageError("--base-url needs --chat-id (or CONTRACT_CHAT_ID): an existing chat to update")
        if fault:
            raise pytest.UsageError("--mock-fault applies to the built-in mocks, not to --base-url")
        target = Target(get_provider(provider), base_url.rstrip("/"), token, chat_id, live=True)
        command += ["--provider", provider, "--base-url", base_url, "--chat-id", chat_id, "--token", REDACTED]
        return SuiteConfig({provider: target}, seed, config.getoption("max_requests"), None, command)
    names = [provider] if provider else list(provider_names())
    if fault:
        names = [n for n in names if fault in _faults_for(get_provider(n))]
        if not names:
            raise pytest.UsageError(f"unknown fault {fault!r} (list them: chat-contracts faults)")
        command += ["--mock-fault", fault]
    if provider:
        command += ["--provider", provider]
    targets = {
        n: Target(get_provider(n), get_provider(n).server, DEFAULT_TOKEN, get_provider(n).example_id) for n in names
    }
    return SuiteConfig(targets, seed, config.getoption("max_requests"), fault, command)


_SUITE = pytest.StashKey[SuiteConfig]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SUITE] = _suite_config(config)


def pytest_report_header(config: pytest.Config) -> str:
    suite = config.stash[_SUITE]
    targets = ", ".join(t.label for t in suite.targets.values())
    fault = f", fault {suite.fault}" if suite.fault else ""
    return f"chat-contracts: {targets}{fault}; seed {suite.seed}; at most {suite.max_requests} requests per provider"


@pytest.fixture(scope="session")
def contract_suite(request: pytest.FixtureRequest) -> Iterator[SuiteConfig]:
    suite = request.config.stash[_SUITE]
    yield suite
    for run in suite.runs.values():
        run.restore()
    for client in suite.clients:
        client.close()
