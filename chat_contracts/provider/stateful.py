"""The stateful phase: sequences of updates, checked step by step against a model of the chat.

The model is what the run knows of the chat (`ContractRun.state`): every step's answer must show the
fields it sent (`field_applied`) and keep the ones it did not (`omitted_fields_kept`), and the other
checks judge it as any exchange. Sequences are drawn by hypothesis from each field's shape, so a fault
that needs an order (a field reset when another is sent, an update shown but not kept) is met by
search, not only when a fixed case happens to line up. A failing sequence is shrunk to the shortest
one that still fails, and reported as the list of requests to replay.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import given, seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from chat_contracts.provider import cases
from chat_contracts.provider.cases import Case, Expect
from chat_contracts.provider.generated import import_whole_package, search_settings
from chat_contracts.provider.phases import Phase, PhaseResult, register
from chat_contracts.provider.profiles import Profile
from chat_contracts.provider.run import ContractRun, Record, Violation

SAMPLE_STRINGS = ["", "x", cases.PLAIN, cases.UNICODE, cases.PADDED, cases.long_string(256)]


def value_strategies(run: ContractRun) -> dict[str, st.SearchStrategy[Any]]:
    """For each field a sequence may set, the valid values to draw from."""
    provider, state = run.provider, run.state or {}
    found: dict[str, st.SearchStrategy[Any]] = {}
    for spec in provider.fields:
        if spec.name in run.skipped_fields and run.live:
            continue
        prop = provider.request_shape.properties[spec.name]
        options: list[st.SearchStrategy[Any]] = []
        if spec.references:
            current = state.get(spec.response) if spec.response else run.known_values.get(spec.name)
            if isinstance(current, str):
                options.append(st.just(current))
        elif prop.enum:
            options.append(st.sampled_from(prop.enum))
        elif "boolean" in prop.types:
            options.append(st.booleans())
        elif "string" in prop.types:
            # Valid text a store must hold: U+0000 and lone surrogates may be refused (the coverage phase sends them).
            text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=30)
            options.append(st.sampled_from(SAMPLE_STRINGS) | text)
        if prop.nullable and spec.on_null != "undocumented":
            options.append(st.none())
        if options:
            found[spec.name] = st.one_of(options)
    return found


class _Found(Exception):
    def __init__(self, violations: list[Violation], steps: list[Record]) -> None:
        super().__init__(violations[0].check)
        self.violations, self.steps = violations, steps


@dataclass
class _Sequences:
    run: ContractRun
    result: PhaseResult
    known: set[str]  # checks already found: a sequence looks for new kinds of failure
    shrink_budget: int | None
    target: str | None = None
    first: _Found | None = None
    sent_while_shrinking: int = 0
    longest: int = 0
    steps_sent: list[Record] = field(default_factory=list)

    def play(self, updates: list[dict[str, Any]]) -> None:
        """One sequence, from the chat as found: the first step puts the snapshot's values back."""
        run = self.run
        self.steps_sent = []
        start = run.restore_values
        steps = [start, *updates] if start else list(updates)
        for number, update in enumerate(steps, 1):
            if run.session.remaining <= 0:
                return
            if self.target is not None:
                if self.shrink_budget is not None and self.sent_while_shrinking >= self.shrink_budget:
                    return
                self.sent_while_shrinking += 1
            label = "step 1: the chat as found" if start and number == 1 else f"step {number}: {update!r}"[:100]
            case = Case("stateful", label, Expect.SUCCESS, body=update)
            before = run.session.requests
            exchange, violations = run.exchange(case, record=False)
            self.result.sent += run.session.requests - before
            new = [v for v in violations if v.check not in self.known and (self.target in (None, v.check))]
            if new:
                if self.target is None:
                    self.target = new[0].check
                    self.first = _Found(new, list(self.steps_sent))
                    self.longest = len(steps)
                raise _Found(new, list(self.steps_sent))
            self.steps_sent.append(Record.of(exchange, case, run.provider.auth_header))


@register
class Stateful(Phase):
    name = "stateful"
    summary = (
        "sequences of updates drawn from each field's shape, checked step by step against a model of the chat; "
        "a failing sequence is shrunk to the shortest that still fails"
    )

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return profile.sequences * (profile.steps + 1)

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        import_whole_package()
        values = value_strategies(run)
        if profile.sequences <= 0:
            result.skipped = "the profile draws no sequence"
            return
        if not values:
            result.skipped = "no field can be set by a sequence"
            return
        known = {v.check for v in run.violations}
        state = _Sequences(run, result, known, profile.live_shrink_requests if run.live else None)
        update = st.fixed_dictionaries({}, optional=values)

        @search_settings(profile.sequences)
        @seed(run.seed ^ zlib.crc32(b"stateful"))
        @given(updates=st.lists(update, min_size=1, max_size=profile.steps))
        def sequence(updates: list[dict[str, Any]]) -> None:
            state.play(updates)

        found: _Found | None = None
        try:
            sequence()
            if result.sent == 0:
                result.skipped = "the request cap left no request for a sequence"
        except _Found as exc:
            found = exc
        except Flaky:  # the chat's state moved under the replay: keep the first failure
            found = state.first
        if found is None:
            return
        steps = len(found.steps) + 1
        note = f"found by a stateful sequence; {steps} step(s) reproduce it"
        if state.longest > steps:
            note += f" (shrunk from {state.longest} with {state.sent_while_shrinking} more request(s))"
        run.violations += [replace(v, sequence=tuple(found.steps), note=note) for v in found.violations]
