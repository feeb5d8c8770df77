"""Verify a provider: preflight, the phases in order, and the chat put back as it was found.

`verify` is the job's one entry point; the pytest suite and `chat-contracts verify` both call it and
only differ in how they show the `RunResult`. A run stops before it starts only when it cannot run at
all (the provider is unreachable or too slow, refuses the token, or does not know the chat): that is
a `SetupError`. Everything else the provider answers, the very first request included, is judged.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import chat_contracts.provider.generated  # registers its phases (see PHASE_MODULES)
import chat_contracts.provider.stateful  # registers its phase
from chat_contracts.core.errors import RunAbortedError, SetupError
from chat_contracts.core.http import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT, BoundedClient
from chat_contracts.core.registry import Provider, get_provider
from chat_contracts.provider.cases import Case, Expect
from chat_contracts.provider.checks import ABSENT, CHECKS, same_value
from chat_contracts.provider.phases import PHASES, PhaseResult, run_phase
from chat_contracts.provider.profiles import PROFILES, Profile
from chat_contracts.provider.run import ContractRun, Observer, Violation
from chat_contracts.provider.session import RESTORE_RESERVE, Session, Target

# The phases in modules of their own register themselves when imported. They are imported by full name,
# not as `from chat_contracts.provider import generated`: that form takes a submodule left on the package
# even when it is gone from sys.modules (as an in-process pytest session leaves it), whose phases went to
# another registry.
PHASE_MODULES = (chat_contracts.provider.generated, chat_contracts.provider.stateful)

# Ours first (never dropped), then what gets the requests the cap leaves: Schemathesis' coverage, the random search.
ORDER = ("coverage", "auth", "unknown-id", "order", "semantics", "schemathesis-coverage", "stateful", "generated")
RUN_COMPLETED, CHAT_RESTORED = "run_completed", "chat_left_as_found"  # rows beside the checks


@dataclass(frozen=True)
class RunOptions:
    seed: int
    profile: Profile = PROFILES["dev"]
    max_requests: int = 150
    max_wait: float = 60.0
    rate_limit: float | None = None  # requests per second at most (live runs also keep under the documented limit)
    timeout: float = DEFAULT_TIMEOUT
    max_body: int = DEFAULT_MAX_BODY
    known_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RestoreOutcome:
    restored: bool
    message: str
    body: dict[str, Any] = field(default_factory=dict)  # what puts the chat back, to send by hand if need be


Status = Literal["held", "broken", "not exercised", "not applicable"]


@dataclass(frozen=True)
class CheckVerdict:
    check: str
    status: Status
    reason: str  # why not exercised / not applicable; what broke
    judged: int  # exchanges it applied to
    violations: tuple[Violation, ...] = ()


@dataclass
class RunResult:
    target: str
    provider: str
    live: bool
    seed: int
    chat_id: str
    setup_error: str | None = None
    aborted: str | None = None  # the run had to stop before its end
    internal_error: str | None = None  # a bug of ours stopped it (the traceback): the chat was still put back
    interrupted: bool = False
    phases: list[PhaseResult] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    judged: Counter[str] = field(default_factory=Counter)
    not_exercised: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    restore: RestoreOutcome | None = None
    requests: int = 0

    def verdicts(self) -> list[CheckVerdict]:
        """Per check: held, broken (with its violations), not exercised or not applicable (with why)."""
        provider = get_provider(self.provider)
        verdicts = []
        for name, spec in CHECKS.items():
            mine = tuple(v for v in self.violations if v.check == name)
            reason = spec.inapplicable(provider)
            if mine:
                verdicts.append(CheckVerdict(name, "broken", f"{len(mine)} violation(s)", self.judged[name], mine))
            elif reason:
                verdicts.append(CheckVerdict(name, "not applicable", reason, 0))
            elif self.judged[name] == 0:
                why = self.setup_error or f"the run never met {spec.needs}"
                verdicts.append(CheckVerdict(name, "not exercised", why, 0))
            else:
                verdicts.append(
                    CheckVerdict(name, "held", f"held over {self.judged[name]} exchange(s)", self.judged[name])
                )
        return verdicts


def _snapshot_case() -> Case:
    return Case("preflight", "an empty update {} (it answers the chat as it is: the snapshot)", Expect.SUCCESS, body={})


def _preflight(run: ContractRun, result: RunResult) -> None:
    """The first request: stop only if the run cannot run; judge everything else."""
    target = run.session.target
    where = f"{target.provider.name} at {target.base_url}"
    exchange, _ = run.exchange(_snapshot_case())
    status = exchange.status
    if status in (401, 403):
        raise SetupError(f"{where} refused the token ({status}): check --contract-token / CONTRACT_TOKEN")
    if status == 404:
        raise SetupError(
            f"{where} does not know chat {target.chat_id!r} (404): check --contract-chat-id / CONTRACT_CHAT_ID, "
            f"and that --contract-base-url includes the API prefix (like {target.provider.server})"
        )
    if not exchange.ok:
        result.notes.append(
            f"the empty update of chat {target.chat_id!r} was answered {status}: judged as a finding; "
            "if the chat id is wrong, fix --contract-chat-id"
        )
    if run.snapshot is None and run.live:
        result.notes.append("no snapshot of the chat could be taken: nothing that could change it was sent")
    run.plan_changes()


def verify(
    target: Target,
    options: RunOptions,
    *,
    client: BoundedClient | None = None,
    observers: Sequence[Observer] = (),
    phases: Sequence[str] = ORDER,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the contract against `target` and, on a live run, leave the chat as it was found."""
    provider = target.provider
    per_minute = provider.requests_per_minute if target.live else None  # never over the documented limit
    own_client = client is None
    client = client or BoundedClient(timeout=options.timeout, max_body=options.max_body)
    session = Session(target, client, options.max_requests, options.max_wait, options.rate_limit, per_minute)
    run = ContractRun(session, options.seed, dict(options.known_values), list(observers))
    result = RunResult(target.label, provider.name, target.live, options.seed, target.chat_id)
    try:
        _preflight(run, result)
        for name in phases:
            if progress:
                planned = PHASES[name].planned(run, options.profile)
                progress(f"{provider.name}: {name} ({planned} request(s) at most; {session.requests} sent so far)")
            phase_result, stop = run_phase(run, PHASES[name], options.profile)
            result.phases.append(phase_result)
            if stop is not None:
                result.aborted = str(stop)
                break
    except SetupError as exc:
        if session.requests <= 1:  # the preflight: the run could not start
            result.setup_error = str(exc)
            run.violations.clear()
            run.judged.clear()
        else:
            result.aborted = str(exc)
    except RunAbortedError as exc:
        result.aborted = str(exc)
    except KeyboardInterrupt:
        result.interrupted = True
    except Exception:  # a bug of ours: reported as one, after the chat is put back, and the run is not repeated
        result.internal_error = traceback.format_exc(limit=-8)
        result.aborted = "an internal error of chat-contracts (a bug: please report it)"
    finally:  # whatever stopped the run, a chat it may have changed is put back
        if target.live and result.setup_error is None:
            client.settle()
            result.restore = restore(run)
        if own_client:
            client.close()
    result.violations = run.violations
    result.judged = run.judged
    result.observed = run.observed
    result.requests = session.requests
    result.not_exercised = not_exercised(run, result)
    return result


def restore(run: ContractRun) -> RestoreOutcome:
    """Put the fields the run may have changed back, then read the chat and compare it field by field."""
    label = f"{run.provider.name} chat {run.chat_id}"
    if run.snapshot is None:
        return RestoreOutcome(True, f"{label}: no snapshot, and nothing that could change the chat was sent")
    body = run.restore_values
    compared = [name for name in run.provider.restore if name in run.snapshot or name in (run.state or {})]
    try:
        if body:
            put, _ = run.exchange(
                Case("restore", "put the chat back as found", Expect.SUCCESS, body=body), restoring=True
            )
            if not put.ok:
                return RestoreOutcome(
                    False, f"{label} was NOT restored: the update that puts it back was answered {put.status}", body
                )
        read, _ = run.exchange(
            Case("restore", "read the chat back: an empty update", Expect.SUCCESS, body={}), restoring=True
        )
    except (RunAbortedError, KeyboardInterrupt) as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        return RestoreOutcome(False, f"{label} was NOT restored: {reason}", body)
    except Exception as exc:  # a bug of ours must not hide that the chat may still be changed
        return RestoreOutcome(False, f"{label} may NOT be restored: internal error {type(exc).__name__}: {exc}", body)
    final = read.body if read.ok and isinstance(read.body, dict) else None
    if final is None:
        return RestoreOutcome(False, f"{label} was NOT restored: reading it back was answered {read.status}", body)
    differences = [
        f"{name} is {final.get(name, ABSENT)!r}, was {run.snapshot.get(name, ABSENT)!r}"
        for name in compared
        if not same_value(run.provider, name, final.get(name, ABSENT), run.snapshot.get(name, ABSENT))
    ]
    if differences:
        return RestoreOutcome(False, f"{label} was NOT restored: {'; '.join(differences)}", body)
    unobservable = sorted(set(body) & run.provider.unobservable_fields)
    extra = f"; {', '.join(unobservable)} sent back as given (not observable)" if unobservable else ""
    return RestoreOutcome(True, f"{label} restored: {', '.join(compared)} read back equal to the snapshot{extra}", body)


def not_exercised(run: ContractRun, result: RunResult) -> list[str]:
    """Each documented request field, enum value, nullability and error status the run did not exercise."""
    provider, seen = run.provider, run.exercised
    missing = []
    for name, prop in provider.request_shape.properties.items():
        why = f" ({run.skipped_fields[name]})" if run.live and name in run.skipped_fields else ""
        if f"field:{name}" not in seen:
            missing.append(f"field {name}: never accepted{why}")
            continue
        values: list[Any] = list(prop.enum or ())
        if "boolean" in prop.types:
            values += [True, False]
        if prop.nullable and provider.field(name).on_null != "undocumented":
            values.append(None)
        missing += [f"{name} = {v!r}: never accepted{why}" for v in values if f"value:{name}={v!r}" not in seen]
    answered = {item.removeprefix("status:") for item in seen if item.startswith("status:")}
    statuses = [
        key
        for key in provider.documented_statuses()
        if key not in answered and not (key.endswith("XX") and any(a[0] == key[0] for a in answered))
    ]
    if statuses:
        missing.append(f"documented statuses never answered: {', '.join(statuses)}")
    for phase in result.phases:
        if phase.skipped:
            missing.append(f"phase {phase.name}: {phase.skipped}")
        if phase.not_sent:
            reasons = Counter(reason for _, reason in phase.not_sent)
            for reason, count in reasons.items():
                missing.append(f"phase {phase.name}: {count} case(s) not sent: {reason}")
    return missing


def validate_cap(provider: Provider, max_requests: int, known_values: dict[str, Any] | None = None) -> str | None:
    """Why `max_requests` cannot hold the deterministic phases of a provider (None: it can)."""
    needed = minimum_requests(provider, known_values or {})
    if max_requests < needed:
        return (
            f"--contract-max-requests {max_requests} cannot hold the {needed} requests {provider.name}'s contract "
            "needs before anything random (preflight, the deterministic phases, the restore): "
            f"raise it to {needed} or more"
        )
    return None


def minimum_requests(provider: Provider, known_values: dict[str, Any] | None = None) -> int:
    """Requests the deterministic phases need at most, with the preflight and the restore reserve."""
    target = Target(provider, provider.server, "probe-token", provider.example_id)
    run = ContractRun(Session(target, BoundedClient()), seed=0, known_values=dict(known_values or {}))
    run.state = {f.response: "current" for f in provider.fields if f.response}
    # Our deterministic phases are never dropped, whatever the cap; Schemathesis' coverage bodies, like the
    # random search, get what the cap leaves (and counting them would load Schemathesis for every option check).
    deterministic = [n for n in ORDER if n not in ("schemathesis-coverage", "stateful", "generated")]
    return 1 + sum(PHASES[name].planned(run, PROFILES["dev"]) for name in deterministic) + RESTORE_RESERVE
