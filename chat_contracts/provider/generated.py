"""The generated phase: bodies drawn by Schemathesis from the contract, and failures shrunk by hypothesis.

Bodies are drawn with hypothesis from Schemathesis' strategy for the operation, 60 % in its positive
mode and 40 % in its negative one, and each is classified by our own validator (`cases.classify`). The
first body that breaks the contract makes hypothesis shrink it against the implementation: a smaller
body is tried, and kept when it still breaks the *same* check, until none smaller does. The report
shows that minimal body. Shrinking costs requests: a live run spends at most the profile's
`live_shrink_requests` on it; a mock run is not limited. A body already sent is never sent again (its
answer is remembered), so replays cost nothing and judge consistently.

Draws depend only on the seed, never on the answers, until the first failure: the same seed sends the
same bodies to any implementation.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Verbosity, given, seed, settings
from hypothesis import Phase as HypothesisPhase
from hypothesis.errors import Flaky
from schemathesis import GenerationMode

from chat_contracts.core.documents import contracts_dir
from chat_contracts.core.registry import Provider
from chat_contracts.provider.cases import NO_BODY, classify
from chat_contracts.provider.phases import Phase, PhaseResult, register, send
from chat_contracts.provider.profiles import Profile
from chat_contracts.provider.run import ContractRun, Violation

NEGATIVE_SHARE = 0.4
ROUNDS = 3  # failures of different checks looked for, each shrunk on its own


@cache
def operation(provider: Provider) -> schemathesis.APIOperation[Any, Any, Any, Any]:
    schema = schemathesis.openapi.from_path(str(contracts_dir() / provider.spec_file))
    return schema[provider.path][provider.method]


@cache
def import_whole_package() -> None:
    """Import every chat_contracts module before hypothesis draws anything.

    Hypothesis mixes string and number literals from the project's loaded modules into what it
    generates; importing all of ours first makes that pool, and so a seed's bodies, the same whatever
    the order in which tests or commands happened to import them.
    """
    import chat_contracts

    for module in pkgutil.walk_packages(chat_contracts.__path__, "chat_contracts."):
        if ".suite." not in module.name + ".":  # the suite's test module is collected by pytest, not imported
            importlib.import_module(module.name)


class _Found(Exception):
    """Raised inside the hypothesis test: this body broke the check being shrunk."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(violations[0].check)
        self.violations = violations


@dataclass
class _Search:
    """One round: draw until a body breaks a check not found yet, then shrink it."""

    run: ContractRun
    result: PhaseResult
    found_checks: set[str]
    shrink_budget: int | None  # None: no limit (mocks)
    answers: dict[tuple[str, bytes | None], list[Violation]] = field(default_factory=dict)
    target: str | None = None
    first: list[Violation] = field(default_factory=list)
    sent_while_shrinking: int = 0
    drawn: int = 0  # bodies drawn before the first failure

    def probe(self, body: Any) -> None:
        run = self.run
        if self.target is None:
            self.drawn += 1
        case = classify(run.provider, run.sendable(body), "generated")
        key = (case.label, case.content())
        if key in self.answers:
            violations = self.answers[key]
        else:
            if run.session.remaining <= 0 or run.blocked(case):
                return  # out of requests (or not for a live run): what was found so far stands
            if self.target is not None:
                if self.shrink_budget is not None and self.sent_while_shrinking >= self.shrink_budget:
                    return
                self.sent_while_shrinking += 1
            before = run.session.requests
            _, violations = run.exchange(case, record=False)
            self.result.sent += run.session.requests - before
            self.answers[key] = violations
        relevant = [v for v in violations if v.check not in self.found_checks]
        if self.target is not None:
            relevant = [v for v in relevant if v.check == self.target]
        if not relevant:
            return
        if self.target is None:
            self.target, self.first = relevant[0].check, relevant
        raise _Found(relevant)


def search_settings(count: int) -> settings:
    """Hypothesis as our random searches use it: `count` draws, shrinking, nothing stored or printed."""
    return settings(
        max_examples=count,
        phases=[HypothesisPhase.generate, HypothesisPhase.shrink],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )


def _body(case: schemathesis.Case[Any]) -> Any:
    return NO_BODY if type(case.body).__name__ == "NotSet" else case.body


@cache
def drawn(provider: Provider, mode: GenerationMode, seed_value: int, count: int) -> tuple[Any, ...]:
    """The bodies hypothesis draws for this seed when every one passes, drawn once per process.

    The search below replays exactly these draws (same seed, same settings) whenever it needs
    hypothesis' engine, i.e. to shrink a failure; a run that finds nothing never pays for drawing twice.
    """
    import_whole_package()
    strategy = operation(provider).as_strategy(
        generation_mode=mode, path_parameters={provider.id_parameter: provider.example_id}
    )
    bodies: list[Any] = []

    @search_settings(count)
    @seed(seed_value)
    @given(case=strategy)
    def draw(case: schemathesis.Case[Any]) -> None:
        bodies.append(_body(case))

    draw()
    return tuple(bodies)


def _replay(state: _Search, strategy: Any, count: int, round_seed: int) -> None:
    """The round's draws again, under hypothesis' engine: the first failure is shrunk (`_Found` comes out)."""

    @search_settings(count)
    @seed(round_seed)
    @given(case=strategy)
    def replay(case: schemathesis.Case[Any]) -> None:
        state.probe(_body(case))

    replay()


def _size(violations: list[Violation]) -> int:
    return len(violations[0].record.body or b"")


def search(run: ContractRun, mode: GenerationMode, count: int, profile: Profile, result: PhaseResult) -> None:
    """Up to ROUNDS failures of different checks among `count` drawn bodies, each shrunk to its smallest form."""
    found: set[str] = {v.check for v in run.violations}  # what the deterministic phases found stays theirs
    for round_number in range(ROUNDS):
        if count <= 0:
            return
        round_seed = run.seed ^ zlib.crc32(f"{mode.value}/{round_number}".encode())
        state = _Search(run, result, found, profile.live_shrink_requests if run.live else None)
        try:
            for body in drawn(run.provider, mode, round_seed, count):
                state.probe(body)
            return  # every body held
        except _Found:
            pass  # shrink it: replay the same draws under hypothesis' engine, which shrinks what fails
        strategy = operation(run.provider).as_strategy(
            generation_mode=mode, path_parameters={run.provider.id_parameter: run.provider.example_id}
        )
        first = state.first
        minimal: list[Violation] = first
        try:
            _replay(state, strategy, count, round_seed)
        except _Found as exc:
            minimal = exc.violations
        except Flaky:  # the chat's state moved under the replay: keep the first failure
            minimal = first
        if _size(minimal) > _size(first):  # hypothesis' order is not bytes: keep whichever is smaller
            minimal = first
        note = f"found by generated {mode.value} bodies"
        if _size(minimal) < _size(first):
            note += f"; shrunk from a {_size(first):,}-byte body to {_size(minimal):,} bytes"
        elif state.sent_while_shrinking:
            note += "; no smaller body was found"
        if state.sent_while_shrinking:
            note += f" with {state.sent_while_shrinking} more request(s)"
        run.violations += [replace(v, note=note) for v in minimal]
        found.add(minimal[0].check)
        count -= state.drawn


@cache
def _schemathesis_coverage(provider: Provider) -> tuple[Any, ...]:
    """The request bodies of Schemathesis' own coverage phase for the operation, deterministic, in its order.

    What it tries beyond the body (other methods, other Content-Types, a missing Authorization header,
    malformed path ids) is left out: our decisions and phases cover those (contracts/README.md).
    """
    schema = operation(provider).schema
    config = schema.config.generation_for(operation=operation(provider))
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    bodies: list[Any] = []
    for case in schema.iter_coverage_cases(operation(provider), generation_modes=modes, generation_config=config):
        data = getattr(getattr(case.meta, "phase", None), "data", None)
        parameter = getattr(data, "parameter", None)
        if case.method.upper() != provider.method or parameter in (provider.id_parameter, "Content-Type",
                                                                   provider.auth_header):  # fmt: skip
            continue
        bodies.append(_body(case))
    return tuple(bodies)


@register
class SchemathesisCoverage(Phase):
    name = "schemathesis-coverage"
    summary = (
        "the bodies of Schemathesis' own coverage phase (the documented examples, property subsets, wrong types "
        "inside complete bodies), each classified by our validator; those our coverage phase sent already are skipped"
    )

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return len(_schemathesis_coverage(run.provider))

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        for body in _schemathesis_coverage(run.provider):
            case = classify(run.provider, run.sendable(body), self.name)
            if case.content() in run.sent_bodies:
                continue
            if run.session.remaining <= 0:
                result.not_sent.append((case.label, "the request cap left no request for it"))
                continue
            send(run, case, result)


@register
class Generated(Phase):
    name = "generated"
    summary = (
        "bodies generated by Schemathesis from the contract (60 % valid, 40 % invalid), each classified by our "
        "validator; a failure is shrunk to the smallest body that still breaks the same check"
    )

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return profile.generated

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        total = min(profile.generated, max(run.session.remaining, 0))
        if total <= 0:
            result.skipped = "the request cap left no request for generated bodies"
            return
        negative = int(total * NEGATIVE_SHARE)
        search(run, GenerationMode.POSITIVE, total - negative, profile, result)
        search(run, GenerationMode.NEGATIVE, negative, profile, result)
        if result.sent == 0:
            result.skipped = "no generated body could be sent"
