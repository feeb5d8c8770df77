"""The suite's own quality: it passes every conforming implementation we hold and catches every fault,
with the check the catalogue names, by our deterministic phases alone.

Each case runs the whole run (every phase, the engine behind `pytest --pyargs chat_contracts.suite`)
against an in-process mock, with a fixed seed so the score is reproducible; `bench/seed_sweep.py` repeats
it over many seeds. The table of which check caught which fault, at which request, is printed at the end
of the pytest run.
"""

from __future__ import annotations

import pytest

from chat_contracts.core.http import BoundedClient
from chat_contracts.core.registry import get_provider
from chat_contracts.provider.session import Target
from chat_contracts.provider.verify import ORDER, RunOptions, RunResult, verify
from chat_contracts.reference.faults import build, catalogue
from chat_contracts.reference.mock import DEFAULT_TOKEN
from chat_contracts.reference.transport import mock_transport

SEED = 7  # the seed of the other tests too: the draws are made once per process
MAX_REQUESTS = 150


DETERMINISTIC = tuple(name for name in ORDER if name not in ("stateful", "generated"))
OURS = tuple(name for name in DETERMINISTIC if name != "schemathesis-coverage")


def run_suite(provider_name: str, behaviour: str | None, phases: tuple[str, ...] = ORDER) -> RunResult:
    provider = get_provider(provider_name)
    api = build(provider, behaviour)
    # A 1 MB body cap: the gzip bomb is caught the same, and inflating it costs a tenth of the default.
    client = BoundedClient(max_body=1024 * 1024, transport_factory=lambda: mock_transport(api, provider.server))
    target = Target(provider, provider.server, DEFAULT_TOKEN, api.chat_id)
    return verify(target, RunOptions(seed=SEED, max_requests=MAX_REQUESTS), client=client, phases=phases)


def _cases(conforming: bool) -> list[tuple[str, str]]:
    return [(b.name, p) for b in catalogue().values() if b.conforms is conforming for p in b.providers]


def _problems(result: RunResult) -> list[str]:
    return [f"{v.check}: {v.message} [{v.case.label}]" for v in result.violations] + [result.aborted or ""][
        : bool(result.aborted)
    ]


@pytest.mark.parametrize("provider", ["whop", "wilson"])
def test_reference_passes_within_the_request_cap(provider: str, mutation_scores: list) -> None:
    result = run_suite(provider, None)
    assert _problems(result) == []
    assert result.requests <= MAX_REQUESTS
    assert all(v.status in ("held", "not applicable") for v in result.verdicts())  # every check exercised
    mutation_scores.append((provider, "(reference)", "passes", result.requests))


@pytest.mark.parametrize(("behaviour", "provider"), _cases(True), ids=[f"{p}-{n}" for n, p in _cases(True)])
def test_conforming_variant_passes(behaviour: str, provider: str, mutation_scores: list) -> None:
    # Every phase but the random search (bench/seed_sweep.py runs it, over 200 seeds, on every variant).
    result = run_suite(provider, behaviour, DETERMINISTIC)
    assert _problems(result) == []
    mutation_scores.append((provider, behaviour, "passes (conforming variant)", result.requests))


@pytest.mark.parametrize(("behaviour", "provider"), _cases(False), ids=[f"{p}-{n}" for n, p in _cases(False)])
def test_fault_is_caught_by_its_check(behaviour: str, provider: str, mutation_scores: list) -> None:
    # Our deterministic phases alone: what they catch is caught on every seed (bench/seed_sweep.py runs it all).
    result = run_suite(provider, behaviour, OURS)
    expected = catalogue()[behaviour].caught_by
    caught = [v for v in result.violations if v.check == expected]
    mutation_scores.append(
        (provider, behaviour, expected if caught else "MISSED", caught[0].record.number if caught else "-")
    )
    assert caught, f"{behaviour}: no {expected} violation; found {sorted({v.check for v in result.violations})}"


def test_every_check_has_a_fault_that_proves_it_can_fail() -> None:
    from chat_contracts.provider.checks import CHECKS

    assert set(CHECKS) == {b.caught_by for b in catalogue().values() if b.caught_by}
