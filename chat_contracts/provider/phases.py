"""The phases of a run, in a registry: each knows what it sends and how many requests that takes.

Deterministic phases run first and send the same requests on every seed (what the contract makes
enumerable: types, enum values, boundaries, auth variants, orderings); `stateful` and `generated`
(their own modules) search beyond them. A phase that changes the chat cannot run live without a
snapshot; a case that would set a field the run could not put back is never sent live. Both are
reported as not exercised, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from chat_contracts.core.errors import RunAbortedError
from chat_contracts.core.http import UnsendableRequest
from chat_contracts.provider import cases
from chat_contracts.provider.cases import Case, Expect
from chat_contracts.provider.profiles import Profile
from chat_contracts.provider.run import ContractRun


@dataclass
class PhaseResult:
    name: str
    planned: int
    sent: int = 0
    skipped: str | None = None  # why the phase did not run at all
    not_sent: list[tuple[str, str]] = field(default_factory=list)  # (case, why) for cases left out
    notes: list[str] = field(default_factory=list)


class Phase:
    """One step of a run. Subclasses say what they send; `run` sends it."""

    name: ClassVar[str]
    summary: ClassVar[str]
    changes_chat: ClassVar[bool] = True  # needs a snapshot to run live

    def planned(self, run: ContractRun, profile: Profile) -> int:
        """Requests this phase sends at most."""
        raise NotImplementedError

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        raise NotImplementedError


class CasePhase(Phase):
    """A phase that is a fixed list of cases, each judged on its own."""

    def cases(self, run: ContractRun) -> list[Case]:
        raise NotImplementedError

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return len(self.cases(run))

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        for case in self.cases(run):
            send(run, case, result)


def send(run: ContractRun, case: Case, result: PhaseResult) -> bool:
    """Send `case` unless a live run must not; say why when it is left out. True when it was sent."""
    reason = run.blocked(case)
    if reason is not None:
        result.not_sent.append((case.label, reason))
        return False
    before = run.session.requests
    try:
        run.exchange(case)
    except UnsendableRequest as exc:
        result.not_sent.append((case.label, str(exc)))
        return False
    finally:
        result.sent += run.session.requests - before
    return True


PHASES: dict[str, Phase] = {}


def register(cls: type[Phase]) -> type[Phase]:
    PHASES[cls.name] = cls()
    return cls


# --- the deterministic phases ---------------------------------------------------------------------


@register
class Coverage(CasePhase):
    name = "coverage"
    summary = (
        "every request property: each value the schema allows (enum values, booleans, null where documented, "
        "strings at the boundaries), every JSON type it does not, enum traps; bodies that are none, empty, not an "
        "object or not JSON; several fields at once"
    )

    def cases(self, run: ContractRun) -> list[Case]:
        provider, state = run.provider, run.state or {}
        current = {
            f.name: state.get(f.response) if f.response else run.known_values.get(f.name) for f in provider.fields
        }
        properties = provider.request_shape.properties
        found = [c for c in cases.body_cases() if c.label != "empty object {}"]  # the preflight sent {}
        for name, prop in properties.items():
            found += cases.field_cases(provider, name, prop, current.get(name))
        found += cases.together_cases(provider, properties, current)
        return found


@register
class Auth(CasePhase):
    name = "auth"
    summary = (
        "no Authorization header, an empty bearer, another scheme, the token with its case swapped, with a "
        "character appended, truncated, an unrelated token: each with a body and without"
    )
    changes_chat = False

    def cases(self, run: ContractRun) -> list[Case]:
        return cases.auth_cases(run.session.target.token)


@register
class UnknownId(CasePhase):
    name = "unknown-id"
    summary = "an id that names no chat, with and without a body (and, where ids have a pattern, a malformed one)"
    changes_chat = False

    def cases(self, run: ContractRun) -> list[Case]:
        return cases.unknown_id_cases(run.provider)


def fresh_value(run: ContractRun, name: str, tag: str) -> Any:
    """A valid value for field `name` unlike the chat's current one (None: there is none to choose)."""
    provider = run.provider
    spec = provider.field(name)
    if spec.references or spec.response is None:
        return None
    current = (run.state or {}).get(spec.response)
    prop = provider.request_shape.properties[name]
    if prop.enum:
        return next((v for v in prop.enum if v != current), None)
    if "boolean" in prop.types:
        return not current if isinstance(current, bool) else True
    if "string" in prop.types:
        return f"chat-contracts {tag} {run.seed}"
    return None


@register
class Order(Phase):
    name = "order"
    summary = "for each pair of fields: change one, then send the other alone; the first must keep its new value"

    def pairs(self, run: ContractRun) -> list[tuple[str, str]]:
        observable = [f.name for f in run.provider.fields if f.response]
        changeable = [n for n in observable if not run.provider.field(n).references]
        return [(first, then) for first in changeable for then in observable if then != first]

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return 2 * len(self.pairs(run))

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        for first, then in self.pairs(run):
            value = fresh_value(run, first, "order")
            if value is None or not send(
                run, Case(self.name, f"{first} changed", Expect.SUCCESS, body={first: value}), result
            ):
                continue
            current = (run.state or {}).get(run.provider.field(then).response or then)
            other = fresh_value(run, then, "order") if not run.provider.field(then).references else current
            if other is not None:
                send(
                    run,
                    Case(self.name, f"{then} alone, after {first} changed", Expect.SUCCESS, body={then: other}),
                    result,
                )


@register
class Semantics(Phase):
    name = "semantics"
    summary = "the same update twice (the answers must agree), then an empty update (nothing may change)"

    def planned(self, run: ContractRun, profile: Profile) -> int:
        return 3

    def run(self, run: ContractRun, profile: Profile, result: PhaseResult) -> None:
        update = {
            f.name: value for f in run.provider.fields if (value := fresh_value(run, f.name, "semantics")) is not None
        }
        if not update:
            result.skipped = "no field can be given a new value"
            return
        first = Case(self.name, "an update", Expect.SUCCESS, body=update)
        if send(run, first, result):
            send(run, Case(self.name, "the same update again", Expect.SUCCESS, body=update, repeat=True), result)
        send(run, Case(self.name, "an empty update after it", Expect.SUCCESS, body={}), result)


def run_phase(run: ContractRun, phase: Phase, profile: Profile) -> tuple[PhaseResult, RunAbortedError | None]:
    """Run one phase, or say why it cannot run; when the run must stop, the reason comes back with it."""
    result = PhaseResult(phase.name, phase.planned(run, profile))
    if phase.changes_chat and run.live and run.snapshot is None:
        result.skipped = "no snapshot of the chat could be taken, so nothing may be changed"
        return result, None
    try:
        phase.run(run, profile, result)
    except RunAbortedError as exc:
        result.notes.append(f"stopped after {result.sent} request(s): {exc}")
        return result, exc
    return result, None
