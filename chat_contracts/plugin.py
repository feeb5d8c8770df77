"""The pytest plugin, installed with the package (entry point `pytest11`), as respx and pytest-httpx do.

It gives every test session two fixtures and nothing else unless asked:

- `provider_mock`: a provider's reference mock (or a faulty one), routed in-process for httpx clients;
- `contract_mock`: a stand-in provider that checks each request your client sends against the contract.

It also declares the contract suite's options, all namespaced (`--contract-*`) so they cannot clash
with other plugins (pytest-timeout's `--timeout`, pytest-base-url's `--base-url`). The options and the
`CONTRACT_*` variables are read only when the contract suite itself is collected
(`pytest --pyargs chat_contracts.suite`): a session that does not run it sends nothing and reads nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chat_contracts.suite.options import OPTIONS

# Every pytest session loads this plugin, and few use what it offers: the mocks, the engine and their
# dependencies (respx, Starlette, jsonschema) are imported by the fixtures and hooks that use them.
if TYPE_CHECKING:
    from chat_contracts.consumer.mock import ContractMock
    from chat_contracts.core.registry import Provider
    from chat_contracts.reference.mock import ReferenceChatAPI

SUITE_DIR = Path(__file__).resolve().parent / "suite"
MockFactory = Callable[..., "ReferenceChatAPI"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chat-contracts", "chat-contracts contract suite (pytest --pyargs chat_contracts.suite)")
    for option in OPTIONS:
        option.add_to(group.addoption)


def _arg_path(config: pytest.Config, arg: str) -> Path | None:
    target = arg.split("::")[0]
    if config.option.pyargs:
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            origin = Path(spec.origin)
            return origin.parent if origin.name == "__init__.py" else origin
    return (Path(config.invocation_params.dir) / target).resolve()


def suite_requested(config: pytest.Config) -> bool:
    """Whether this session is asked to run the contract suite: one of its args is the suite or inside it.

    A directory that merely contains the installed package (a repository with its .venv inside) does not
    count: pytest never collects from a virtualenv. Where the suite is collected all the same (an ancestor
    of a source checkout), its settings are read when its module is collected.
    """
    for arg in config.args:
        path = _arg_path(config, arg)
        if path is not None and (path == SUITE_DIR or SUITE_DIR in path.parents):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _check_hypothesis_profile(config)
    if not suite_requested(config):
        return
    from chat_contracts.suite.plugin import suite_config

    suite_config(config)  # reads and checks the options now: a bad one is a usage error before anything runs
    # A provider's rows share one run (one chat, one snapshot): keep the suite's module on one xdist worker.
    if getattr(config.option, "dist", "no") in ("load", "worksteal"):
        config.option.dist = "loadscope"


def _check_hypothesis_profile(config: pytest.Config) -> None:
    """An unknown --hypothesis-profile is one line, not hypothesis' INTERNALERROR."""
    name = getattr(config.option, "hypothesis_profile", None)
    if not name:
        return
    from hypothesis import settings

    try:
        settings.get_profile(name)
    except Exception:  # hypothesis raises InvalidArgument
        raise pytest.UsageError(f"--hypothesis-profile {name!r} is not a registered hypothesis profile") from None


@pytest.fixture
def provider_mock() -> Iterator[MockFactory]:
    """Start a provider's mock, routed in-process for every httpx client (respx).

    ``api = provider_mock("whop")`` answers httpx requests to the provider's real server URL;
    ``provider_mock("wilson", "title-not-applied", base_url="https://wilson.test/apif/v2")`` switches
    on a catalogue behaviour and routes another URL. Options (token, chat_id, ...) go to the mock.
    """
    import respx

    from chat_contracts.core.registry import get_provider
    from chat_contracts.reference.faults import build
    from chat_contracts.reference.transport import mount

    with respx.mock(assert_all_called=False) as router:

        def start(
            provider: str | Provider, behaviour: str | None = None, *, base_url: str | None = None, **options: Any
        ) -> ReferenceChatAPI:
            provider = get_provider(provider) if isinstance(provider, str) else provider
            api = build(provider, behaviour, **options)
            mount(router, api, base_url or provider.server)
            return api

        yield start


class _StartedMocks:
    """The ContractMocks one test started through `contract_mock`, and how many violations of each were reported."""

    def __init__(self) -> None:
        self.mocks: list[ContractMock] = []
        self._reported: list[int] = []

    def add(self, mock: ContractMock) -> None:
        self.mocks.append(mock)
        self._reported.append(0)

    def unreported(self) -> str | None:
        """The violations not reported yet, as one failure message (None if there are none)."""
        parts = []
        for index, mock in enumerate(self.mocks):
            new = mock.violations[min(self._reported[index], len(mock.violations)) :]
            self._reported[index] = len(mock.violations)
            if new:
                parts.append(mock.report(new))
        return "\n".join(parts) or None


_STARTED_MOCKS = pytest.StashKey[_StartedMocks]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Right after the test body, a request that broke the contract fails the test itself (FAILED, not an
    ERROR at teardown), with each violation and its clause. Checked here rather than inside the request
    because clients may swallow what their transport raises (SDKs retry on errors)."""
    try:
        result = yield
    except (Exception, pytest.fail.Exception) as exc:  # the test failed on its own: the violations go with it
        started = item.stash.get(_STARTED_MOCKS, None)
        report = started.unreported() if started else None
        if report:
            exc.add_note(report)
        raise
    started = item.stash.get(_STARTED_MOCKS, None)
    report = started.unreported() if started else None
    if report:
        pytest.fail(report, pytrace=False)
    return result


@pytest.fixture
def contract_mock(request: pytest.FixtureRequest) -> Iterator[Callable[..., ContractMock]]:
    """Check a client against the contract: ``mock = contract_mock("whop")`` answers httpx requests to the
    provider's server in-process and checks each request. A request that breaks the contract fails the test
    (FAILED, with the clause), a field the contract does not list included; queue answers with
    ``mock.respond_with(...)``. ``contract_mock("whop", tolerate_unknown_fields=True)`` lets fields the
    contract does not know through (listed in ``mock.drift``). ``mock.requests`` holds every request
    received, retries included. (Inside ``@given``, use ``with ContractMock.for_provider("whop").routed()
    as mock:`` per example, and ``mock.assert_conforms()``.)"""
    import respx

    from chat_contracts.consumer.mock import ContractMock, ContractViolationError
    from chat_contracts.core.registry import get_provider
    from chat_contracts.reference.transport import mount

    started = request.node.stash.setdefault(_STARTED_MOCKS, _StartedMocks())
    with respx.mock(assert_all_called=False) as router:

        def start(
            provider: str | Provider, *, base_url: str | None = None, tolerate_unknown_fields: bool = False
        ) -> ContractMock:
            provider = get_provider(provider) if isinstance(provider, str) else provider
            mock = ContractMock(provider, tolerate_unknown_fields=tolerate_unknown_fields)
            mount(router, mock, base_url or mock.provider.server)
            started.add(mock)
            return mock

        yield start
    late = started.unreported()  # requests sent after the test body (by other fixtures' teardown)
    if late:
        raise ContractViolationError(late)
