"""pytest integration of chat-contracts (loaded by the repo's conftest.py).

- `provider_mock`: a fixture that routes httpx requests for a provider to its in-process mock.
- The contract suite (tests/contract): its options, its targets (the built-in mocks by default, or one
  live provider), and the safety of live runs: a preflight that fails with one clear line, the chat's
  snapshot taken once before anything changes it and restored once at the end (also after failures,
  Ctrl-C, and under pytest-xdist, where the controller owns both), and a common seed for all workers.
"""

from __future__ import annotations

import json
import os
import random
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import respx
from hypothesis import settings

from chat_contracts.consumer import ContractMock
from chat_contracts.faults import applies, build
from chat_contracts.mock import DEFAULT_TOKEN, ReferenceChatAPI
from chat_contracts.observe import Observations
from chat_contracts.registry import Provider, get_provider, provider_names
from chat_contracts.session import REDACTED, RunAbortedError, Session, Target
from chat_contracts.transport import mock_client, mount
from chat_contracts.verify import ContractRun, RestoreOutcome

MockFactory = Callable[..., ReferenceChatAPI]

ENV = {
    "provider": "CONTRACT_PROVIDER",
    "base_url": "CONTRACT_BASE_URL",
    "token": "CONTRACT_TOKEN",
    "chat_id": "CONTRACT_CHAT_ID",
}

# Hypothesis profiles bound the generated examples per provider (the request cap still applies):
# `dev` is the default and fast, `ci` fills the default cap, `nightly` is thorough (raise the cap).
# Registered at import, before hypothesis' own plugin loads the one --hypothesis-profile names.
settings.register_profile("dev", max_examples=40)
settings.register_profile("ci", max_examples=200)
settings.register_profile("nightly", max_examples=2000)


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


@pytest.fixture
def contract_mock() -> Iterator[Callable[..., ContractMock]]:
    """Check a client against the contract: ``mock = contract_mock("whop")`` answers httpx requests to the
    provider's server in-process, checks each request, and fails the test on any violation.
    Queue answers with ``mock.respond_with(...)``; ``mock.drift`` lists fields the contract does not know.
    (Inside ``@given``, use ``with ContractMock.for_provider("whop").routed() as mock:`` per example.)"""
    started: list[ContractMock] = []
    with respx.mock(assert_all_called=False) as router:

        def start(provider: str, *, base_url: str | None = None) -> ContractMock:
            mock = ContractMock(get_provider(provider))
            mount(router, mock, base_url or mock.provider.server)
            started.append(mock)
            return mock

        yield start
    for mock in started:
        mock.assert_conforms()


# --- options ---------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chat-contracts", "chat-contracts contract suite (tests/contract)")
    group.addoption("--provider", help="provider to verify: whop or wilson (default: both, on mocks)")
    group.addoption("--base-url", help="live base URL incl. the API prefix, e.g. https://api.whop.com/api/v1")
    group.addoption("--token", help="bearer token for the live provider (better: CONTRACT_TOKEN)")
    group.addoption("--chat-id", help="id of an existing chat the run may update (it is restored at the end)")
    group.addoption("--seed", type=int, help="seed of the generated cases (default: random, printed)")
    group.addoption("--max-requests", type=int, default=150, help="hard cap on requests per provider (default 150)")
    group.addoption("--rate-limit", type=float, help="requests per second at most (default: no limit)")
    group.addoption("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    group.addoption(
        "--max-wait", type=float, default=60.0, help="seconds to wait out 429/503 in all, per provider (default 60)"
    )
    group.addoption("--mock-fault", metavar="NAME", help="run against a mock with this catalogue fault switched on")
    group.addoption(
        "--drift-report",
        metavar="PATH",
        help="write what was seen but is not documented: PATH (Markdown), PATH.json, PATH.openapi.yaml",
    )


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return value if value is not None else os.environ.get(ENV.get(name, ""), None) or None


# --- the suite's configuration -----------------------------------------------------------------------


@dataclass
class SuiteConfig:
    targets: dict[str, Target]
    seed: int
    max_requests: int
    fault: str | None
    command: list[str]  # how to run the same suite again (token redacted)
    rate_limit: float | None = None
    timeout: float = 10.0
    max_wait: float = 60.0
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # taken by the controlling process
    is_worker: bool = False
    clients: list[httpx.Client] = field(default_factory=list)
    runs: dict[str, ContractRun] = field(default_factory=dict)
    restored: list[RestoreOutcome] = field(default_factory=list)
    drift_report: Path | None = None
    worker_observations: list[str] = field(default_factory=list)  # JSON from xdist workers
    reports_written: list[Path] = field(default_factory=list)

    @property
    def max_examples(self) -> int:
        """Generated examples at most: from the hypothesis profile in force (dev, ci, nightly...)."""
        return settings().max_examples

    @property
    def live(self) -> bool:
        return any(t.live for t in self.targets.values())

    def run_for(self, name: str) -> ContractRun:
        if name not in self.runs:
            target = self.targets[name]
            cap = self.max_requests - (1 if name in self.snapshots else 0)  # the controller's snapshot
            session = Session(
                target, self._client(target), max_requests=cap, max_wait=self.max_wait, rate_limit=self.rate_limit
            )
            snapshot = self.snapshots.get(name)
            self.runs[name] = ContractRun(
                session, seed=self.seed, snapshot=snapshot, state=snapshot, max_examples=self.max_examples
            )
        return self.runs[name]

    def _client(self, target: Target) -> httpx.Client:
        if target.live:
            client = httpx.Client(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)))
        else:
            client = mock_client(build(target.provider, self.fault), target.base_url)
        self.clients.append(client)
        return client

    def observations(self) -> dict[str, Observations]:
        """What this process saw of each target, with what the xdist workers sent back."""
        observed = {name: Observations(target.provider) for name, target in self.targets.items()}
        for name, run in self.runs.items():
            for exchange in run.session.exchanges:
                observed[name].record(exchange)
        for dumped in self.worker_observations:
            for name, data in json.loads(dumped).items():
                observed[name].merge(data)
        return observed

    def write_drift_reports(self) -> None:
        if self.drift_report is None:
            return
        for name, observations in self.observations().items():
            path = self.drift_report
            if len(self.targets) > 1:  # one report per provider
                path = path.with_name(f"{path.stem}-{name}{path.suffix}")
            self.reports_written += observations.write(path)

    def reproduce(self, test_id: str) -> str:
        return " ".join(shlex.quote(part) for part in [*self.command, "-k", test_id])

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _suite_config(config: pytest.Config) -> SuiteConfig:
    provider, base_url = _option(config, "provider"), _option(config, "base_url")
    token, chat_id, fault = _option(config, "token"), _option(config, "chat_id"), config.getoption("mock_fault")
    seed = config.getoption("seed")
    seed = seed if seed is not None else random.randrange(2**32)
    if provider and provider not in provider_names():
        raise pytest.UsageError(f"unknown provider {provider!r} (known: {', '.join(provider_names())})")
    common = {
        "seed": seed,
        "max_requests": config.getoption("max_requests"),
        "rate_limit": config.getoption("rate_limit"),
        "timeout": config.getoption("timeout"),
        "max_wait": config.getoption("max_wait"),
    }
    command = ["pytest", "tests/contract", "--seed", str(seed)]
    report = Path(config.getoption("drift_report")) if config.getoption("drift_report") else None
    if base_url:
        if not provider:
            raise pytest.UsageError("--base-url needs --provider (whop or wilson)")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise pytest.UsageError(f"--base-url {base_url!r} is not an http(s) URL")
        if not token:
            raise pytest.UsageError("--base-url needs --token (or CONTRACT_TOKEN): without one every check is vacuous")
        if not chat_id:
            raise pytest.UsageError("--base-url needs --chat-id (or CONTRACT_CHAT_ID): an existing chat to update")
        if fault:
            raise pytest.UsageError("--mock-fault applies to the built-in mocks, not to --base-url")
        target = Target(get_provider(provider), base_url.rstrip("/"), token, chat_id, live=True)
        command += ["--provider", provider, "--base-url", base_url, "--chat-id", chat_id, "--token", REDACTED]
        return SuiteConfig({provider: target}, fault=None, command=command, drift_report=report, **common)
    names = [provider] if provider else list(provider_names())
    if fault:
        names = [n for n in names if applies(fault, get_provider(n))]  # the providers that have it
        if not names:
            raise pytest.UsageError(f"unknown fault {fault!r} (list them: chat-contracts faults)")
        command += ["--mock-fault", fault]
    if provider:
        command += ["--provider", provider]
    targets = {
        n: Target(get_provider(n), get_provider(n).server, DEFAULT_TOKEN, get_provider(n).example_id) for n in names
    }
    return SuiteConfig(targets, fault=fault, command=command, drift_report=report, **common)


_SUITE = pytest.StashKey[SuiteConfig]()


def suite_config(config: pytest.Config) -> SuiteConfig:
    return config.stash[_SUITE]


def pytest_configure(config: pytest.Config) -> None:
    suite = _suite_config(config)
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:  # a pytest-xdist worker: the controller decided seed and snapshots
        suite.is_worker = True
        suite.seed = worker_input["chat_contracts_seed"]
        suite.snapshots = json.loads(worker_input["chat_contracts_snapshots"])
        # xdist decided the worker's grouping before this hook could switch it: follow the controller.
        config.option.loadgroup = worker_input["chat_contracts_loadgroup"]
    if not config.getoption("hypothesis_profile", None):
        settings.load_profile("dev")
    config.stash[_SUITE] = suite
    # All groups of a target share one chat (and one state model): keep them on one xdist worker.
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    suite = suite_config(node.config)
    node.workerinput["chat_contracts_seed"] = suite.seed
    node.workerinput["chat_contracts_snapshots"] = json.dumps(suite.snapshots)
    node.workerinput["chat_contracts_loadgroup"] = node.config.option.dist == "loadgroup"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Live runs: reach the provider and take the chat's snapshot before any test changes it."""
    suite = suite_config(session.config)
    if suite.is_worker or not suite.live:
        return
    for name, target in suite.targets.items():
        run = suite.run_for(name)
        try:
            found = run.start()
        except RunAbortedError as exc:
            raise pytest.UsageError(str(exc)) from None
        exchange = run.session.exchanges[-1]
        if not exchange.ok:
            raise pytest.UsageError(_preflight_refusal(target, exchange.status))
        if found:
            raise pytest.UsageError(
                f"the no-op update of chat {target.chat_id!r} broke the contract ({found[0].check}: "
                f"{found[0].message}); run with a mock or fix the provider first"
            )
        suite.snapshots[name] = run.snapshot or {}


def _preflight_refusal(target: Target, status: int) -> str:
    where = f"{target.provider.name} at {target.base_url}"
    if status in (401, 403):
        return f"{where} refused the token ({status}): check --token / CONTRACT_TOKEN"
    if 400 <= status < 500:
        return f"{where} does not know chat {target.chat_id!r} ({status}): check --chat-id / CONTRACT_CHAT_ID"
    return f"{where} answered {status} to a no-op update of chat {target.chat_id!r}"


@pytest.hookimpl(tryfirst=True)  # before xdist's worker turns xdist_group marks into node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "target_name" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(callspec.params["target_name"]))


def pytest_report_header(config: pytest.Config) -> str:
    suite = suite_config(config)
    targets = ", ".join(t.label for t in suite.targets.values())
    fault = f", fault {suite.fault}" if suite.fault else ""
    profile = settings.get_current_profile_name()
    return (
        f"chat-contracts: {targets}{fault}; seed {suite.seed}; at most {suite.max_requests} requests per "
        f"provider; hypothesis profile {profile!r} ({suite.max_examples} generated examples at most)"
    )


@pytest.fixture(scope="session")
def contract_suite(request: pytest.FixtureRequest) -> SuiteConfig:
    return suite_config(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Put every live chat back as found: once, in the process that took the snapshot."""
    suite = suite_config(session.config)
    if suite.is_worker:
        observed = {name: o.dump() for name, o in suite.observations().items()}
        session.config.workeroutput["chat_contracts_observations"] = json.dumps(observed)  # type: ignore[attr-defined]
    else:
        suite.write_drift_reports()
    if suite.is_worker or not suite.live:
        suite.close()
        return
    for name in suite.snapshots:
        run = suite.runs[name]
        # A fresh connection: an interrupted run may have left the old one mid-request.
        run.session.client = httpx.Client(timeout=httpx.Timeout(suite.timeout, connect=min(suite.timeout, 5.0)))
        suite.clients.append(run.session.client)
        if session.config.pluginmanager.has_plugin("dsession"):
            run.state = None  # xdist workers changed the chat; what this process saw is stale
        outcome = run.restore()
        suite.restored.append(outcome)
        if not outcome.restored:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    suite.close()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    dumped = getattr(node, "workeroutput", {}).get("chat_contracts_observations")
    if dumped:
        suite_config(node.config).worker_observations.append(dumped)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = suite_config(config)
    if suite.reports_written:
        terminalreporter.write_line("chat-contracts: drift report " + ", ".join(map(str, suite.reports_written)))
    for outcome in suite.restored:
        if outcome.restored:
            terminalreporter.write_line(f"chat-contracts: {outcome.message}", green=True)
        else:
            terminalreporter.write_sep("!", "CHAT NOT RESTORED", red=True, bold=True)
            terminalreporter.write_line(f"chat-contracts: {outcome.message}", red=True, bold=True)
            terminalreporter.write_line(
                "restore it by hand with this update: " + json.dumps(outcome.body, ensure_ascii=False), red=True
            )
