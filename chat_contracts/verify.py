"""Verify a provider: run the case groups against one target and judge every exchange.

`ContractRun` holds what a run knows: the session (transport, request cap), the chat as first seen
(the snapshot, restored at the end) and as last seen (the model that omitted-field checks compare
against), and the violations found. The pytest suite in tests/contract runs one group per test; the
self-tests and the benchmark call `ContractRun` directly.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from schemathesis import GenerationMode

from chat_contracts import cases
from chat_contracts.cases import Case, Expect
from chat_contracts.checks import Context, Violation, evaluate
from chat_contracts.registry import Provider
from chat_contracts.session import BudgetExhaustedError, Exchange, RunAbortedError, Session

GROUPS = ("positive", "semantics", "negative", "auth", "unknown-id", "generated-positive", "generated-negative")
RESTORE_RESERVE = 2  # requests kept back so the chat can always be restored
NEGATIVE_SHARE = 0.4  # of the generated examples


@dataclass
class GroupResult:
    group: str
    violations: list[Violation]
    requests: int


@dataclass
class ContractRun:
    session: Session
    seed: int
    snapshot: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    violations: list[Violation] = field(default_factory=list)
    max_examples: int | None = None  # generated examples at most (None: what the request cap leaves)
    _generated_budget: int | None = None

    @property
    def provider(self) -> Provider:
        return self.session.provider

    @property
    def avoid(self) -> frozenset[str]:
        """Fields a live run never sets: the response does not show them, so they could not be restored."""
        return self.provider.unrestorable_fields if self.session.target.live else frozenset()

    # --- sending and judging -----------------------------------------------------------------------

    def exchange(self, case: Case) -> tuple[Exchange, list[Violation]]:
        if case.group != "restore" and self.session.remaining <= RESTORE_RESERVE:
            raise BudgetExhaustedError(
                f"the request cap of {self.session.max_requests} is reached ({RESTORE_RESERVE} are kept to restore "
                "the chat); raise --max-requests or use a faster hypothesis profile"
            )
        exchange = self.session.send(case)
        path_id = case.chat_id or self.session.target.chat_id
        context = Context(self.provider, case, exchange, path_id, self.state, self.snapshot)
        found = evaluate(context)
        self.violations += found
        body = context.body
        if exchange.ok and isinstance(body, dict) and path_id == self.session.target.chat_id:
            self.state = body
            if self.snapshot is None:
                self.snapshot = body
        return exchange, found

    def start(self) -> list[Violation]:
        """Take the snapshot: a no-op update answers the chat as it is."""
        if self.snapshot is not None:
            return []
        _, found = self.exchange(cases.snapshot_case())
        return found

    def run_group(self, group: str) -> GroupResult:
        before_requests, before_violations = self.session.requests, len(self.violations)
        self.start()
        getattr(self, "_" + group.replace("-", "_"))()
        return GroupResult(group, self.violations[before_violations:], self.session.requests - before_requests)

    def run_all(self, groups: tuple[str, ...] = GROUPS) -> list[GroupResult]:
        return [self.run_group(group) for group in groups]

    # --- the groups --------------------------------------------------------------------------------

    def _positive(self) -> None:
        for case in cases.positive_cases(self.provider, self.snapshot or {}, self.avoid):
            self.exchange(case)

    def _semantics(self) -> None:
        """The same update twice gives the same chat; then a no-op keeps everything."""
        update = {
            f.name: value
            for f, value in ((f, self._fresh_value(f.name)) for f in self.provider.fields)
            if value is not None
        }
        case = Case("semantics", "the same update twice", Expect.SUCCESS, body=update)
        first, _ = self.exchange(case)
        second, _ = self.exchange(case)
        if first.ok and second.ok:
            a, b = (self._comparable(e) for e in (first, second))
            if a is not None and b is not None and a != b:
                changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                self.violations.append(
                    Violation(
                        "idempotent",
                        f"the same update sent twice gave different chats (fields: {', '.join(changed)})",
                        "contracts/README.md#decisions-where-the-documents-are-silent (PATCH sets values: "
                        "repeating it changes nothing)",
                        case,
                        second,
                    )
                )
        self.exchange(Case("semantics", "a no-op after an update", Expect.SUCCESS, body={}))

    def _negative(self) -> None:
        for case in cases.negative_cases(self.provider):
            self.exchange(case)

    def _auth(self) -> None:
        for case in cases.auth_cases():
            self.exchange(case)

    def _unknown_id(self) -> None:
        for case in cases.unknown_id_cases(self.provider):
            self.exchange(case)

    def _generated_positive(self) -> None:
        total = self._generated_total()
        self._generate("generated-positive", GenerationMode.POSITIVE, total - int(total * NEGATIVE_SHARE))

    def _generated_negative(self) -> None:
        self._generate("generated-negative", GenerationMode.NEGATIVE, int(self._generated_total() * NEGATIVE_SHARE))

    # --- helpers -----------------------------------------------------------------------------------

    def _generated_total(self) -> int:
        """Generated examples: what the request cap leaves after the deterministic groups."""
        if self._generated_budget is None:
            deterministic = (
                1
                + len(cases.positive_cases(self.provider, self.snapshot or {}, self.avoid))
                + 3  # semantics
                + len(cases.negative_cases(self.provider))
                + len(cases.auth_cases())
                + len(cases.unknown_id_cases(self.provider))
            )
            budget = max(0, self.session.max_requests - deterministic - RESTORE_RESERVE)
            self._generated_budget = budget if self.max_examples is None else min(budget, self.max_examples)
        return self._generated_budget

    def _generate(self, group: str, mode: GenerationMode, count: int) -> None:
        if count <= 0:
            return
        stop_at = self.session.max_requests - RESTORE_RESERVE
        group_seed = self.seed ^ zlib.crc32(group.encode())
        for body in cases.generated_bodies(self.provider, mode, group_seed, count):
            if self.session.requests >= stop_at:
                break
            if isinstance(body, dict) and self.avoid & body.keys():
                body = {k: v for k, v in body.items() if k not in self.avoid}
            self.exchange(cases.classify(self.provider, body, group))

    def _fresh_value(self, name: str) -> Any:
        """A valid value for field `name` unlike the chat's current one (None: leave the field out)."""
        spec = self.provider.field(name)
        if spec.references or spec.response is None:
            return None
        current = (self.state or {}).get(spec.response)
        if isinstance(current, bool):
            return not current
        enum = cases.request_properties(self.provider)[name]["enum"]
        if enum:
            return next((v for v in enum if v != current), None)
        return f"chat-contracts semantics {self.seed}"

    def _comparable(self, exchange: Exchange) -> dict[str, Any] | None:
        try:
            body = exchange.json
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        return {k: v for k, v in body.items() if k != self.provider.updated_field}

    # --- leaving the chat as found -----------------------------------------------------------------

    def restore_body(self) -> dict[str, Any]:
        """The update that puts the snapshot's observable fields back."""
        if self.snapshot is None:
            return {}
        body = {}
        for spec in self.provider.fields:
            if spec.response not in self.provider.restore or spec.response not in self.snapshot:
                continue
            value = self.snapshot[spec.response]
            if value is None and spec.on_null != "sets":
                continue  # null cannot be sent back where it is not documented to mean "clear"
            body[spec.name] = value
        return body

    def restore(self) -> RestoreOutcome:
        """Send the snapshot's observable fields back (unless the chat is known to match already)."""
        body = self.restore_body()
        label = f"{self.provider.name} chat {self.session.target.chat_id}"
        if not body:
            return RestoreOutcome(True, f"{label}: nothing to restore", body)
        if self.state is not None and all(
            self.state.get(self.provider.field(k).response) == v for k, v in body.items()
        ):
            return RestoreOutcome(True, f"{label} is as it was found", body)
        try:
            exchange, _ = self.exchange(Case("restore", "restore the chat as found", Expect.SUCCESS, body=body))
        except RunAbortedError as exc:
            return RestoreOutcome(False, f"{label} was NOT restored: {exc}", body)
        shown = self._comparable(exchange) or {}
        if exchange.ok and all(shown.get(self.provider.field(k).response) == v for k, v in body.items()):
            return RestoreOutcome(True, f"{label} restored ({', '.join(body)})", body)
        return RestoreOutcome(False, f"{label} was NOT restored: the update answered {exchange.status}", body)


@dataclass(frozen=True)
class RestoreOutcome:
    restored: bool
    message: str
    body: dict[str, Any]  # what restores the chat, to send by hand when `restored` is False


def explain(provider: str, violations: list[Violation], reproduce: str, limit: int = 3) -> str:
    """A failure message: each violation with its clause, the exchange, and how to reproduce it."""
    lines = [f"[{provider}] {len(violations)} contract violation(s):"]
    for index, violation in enumerate(violations[:limit], 1):
        exchange = violation.exchange
        lines += [
            "",
            f"{index}. {violation.check}: {violation.message}",
            f"   clause:   {violation.clause}",
            f"   case:     {violation.case.group} / {violation.case.label} (expected {violation.case.expect.value})",
            *("   " + line for line in exchange.describe().splitlines()),
            f"   curl:     {exchange.curl()}",
        ]
    if len(violations) > limit:
        lines += [
            "",
            f"... and {len(violations) - limit} more: " + ", ".join(sorted({v.check for v in violations[limit:]})),
        ]
    lines += ["", f"reproduce: {reproduce}"]
    return "\n".join(lines)
