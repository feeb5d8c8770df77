"""The suite's own quality: it passes every conforming implementation we hold and catches every fault.

Each case runs the whole contract suite (all groups, the same engine as tests/contract) against an
in-process mock, with a fixed seed so the score is reproducible. The table of which check caught
which fault, after how many requests, is printed at the end of the pytest run.
"""

from __future__ import annotations

import pytest

from chat_contracts.faults import CATALOGUE, build
from chat_contracts.mock import DEFAULT_TOKEN
from chat_contracts.registry import get_provider
from chat_contracts.session import Session, Target
from chat_contracts.transport import mock_client
from chat_contracts.verify import ContractRun

SEED = 20261123
MAX_REQUESTS = 150


def run_suite(provider_name: str, behaviour: str | None) -> ContractRun:
    provider = get_provider(provider_name)
    api = build(provider, behaviour)
    with mock_client(api, provider.server) as client:
        run = ContractRun(
            Session(Target(provider, provider.server, DEFAULT_TOKEN, api.chat_id), client, max_requests=MAX_REQUESTS),
            seed=SEED,
        )
        run.run_all()
        run.restore()
    return run


def _cases(conforming: bool) -> list[tuple[str, str]]:
    return [(b.name, p) for b in CATALOGUE.values() if b.conforms is conforming for p in b.providers]


@pytest.mark.parametrize("provider", ["whop", "wilson"])
def test_reference_passes_within_the_request_cap(provider: str, mutation_scores: list) -> None:
    run = run_suite(provider, None)
    assert [f"{v.check}: {v.message}" for v in run.violations] == []
    assert run.session.requests <= MAX_REQUESTS
    mutation_scores.append((provider, "(reference)", "passes", run.session.requests))


@pytest.mark.parametrize(("behaviour", "provider"), _cases(True), ids=[f"{p}-{n}" for n, p in _cases(True)])
def test_conforming_variant_passes(behaviour: str, provider: str, mutation_scores: list) -> None:
    run = run_suite(provider, behaviour)
    assert [f"{v.check}: {v.message}" for v in run.violations] == []
    mutation_scores.append((provider, behaviour, "passes (conforming variant)", run.session.requests))


@pytest.mark.parametrize(("behaviour", "provider"), _cases(False), ids=[f"{p}-{n}" for n, p in _cases(False)])
def test_fault_is_caught_by_its_check(behaviour: str, provider: str, mutation_scores: list) -> None:
    run = run_suite(provider, behaviour)
    expected = CATALOGUE[behaviour].caught_by
    caught = [v for v in run.violations if v.check == expected]
    mutation_scores.append(
        (provider, behaviour, expected if caught else "MISSED", caught[0].exchange.number if caught else "-")
    )
    assert caught, f"{behaviour}: no {expected} violation; found {sorted({v.check for v in run.violations})}"
