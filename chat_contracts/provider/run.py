"""What one run against one provider knows, and how it sends a case and judges the answer.

`ContractRun` holds the session (transport, request cap), the chat as first seen (the snapshot) and as
last seen (the model every check compares with), which fields a live run may change (only those it can
put back), what was judged and what was found. Phases (`phases`, `generated`, `stateful`) send
cases through `exchange`; `verify.verify` runs them in order and restores the chat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from chat_contracts.core.http import Exchange
from chat_contracts.core.redact import Redactor
from chat_contracts.core.registry import Provider
from chat_contracts.provider.cases import Auth, Case, Expect
from chat_contracts.provider.checks import Context, evaluate, observed_changes
from chat_contracts.provider.session import Session

RECORD_BYTES = 16 * 1024  # of a response body kept for the report


@dataclass(frozen=True)
class Record:
    """What a report needs of one exchange: the request whole, the response clipped. No credentials."""

    number: int
    method: str
    url: str
    headers: dict[str, str]  # the request headers that matter, the Authorization header left out
    auth: Auth
    body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes  # at most RECORD_BYTES
    response_size: int
    truncated: bool  # over the body cap when read

    @classmethod
    def of(cls, exchange: Exchange, case: Case, auth_header: str) -> Record:
        skip = {auth_header.lower()}
        return cls(
            number=exchange.number,
            method=exchange.method,
            url=exchange.url,
            headers={k: v for k, v in exchange.request_headers.items() if k not in skip},
            auth=case.auth,
            body=exchange.request_body,
            status=exchange.status,
            response_headers=dict(exchange.response_headers),
            response_body=exchange.response_body[:RECORD_BYTES],
            response_size=len(exchange.response_body),
            truncated=exchange.truncated,
        )


@dataclass(frozen=True)
class Violation:
    check: str
    message: str
    clause: str
    case: Case
    record: Record
    sequence: tuple[Record, ...] = ()  # the requests before it that it depends on (a stateful failure)
    note: str = ""  # how it was found: shrunk from what, after which steps


Observer = Callable[[Exchange], None]


@dataclass
class ContractRun:
    session: Session
    seed: int
    known_values: dict[str, Any] = field(default_factory=dict)  # current values the user gave (unobservable fields)
    observers: list[Observer] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None
    state: dict[str, Any] | None = None
    hidden: dict[str, Any] = field(default_factory=dict)  # unobservable fields' values, as last set
    violations: list[Violation] = field(default_factory=list)
    judged: Counter[str] = field(default_factory=Counter)  # exchanges each check applied to
    exercised: set[str] = field(default_factory=set)  # contract items a 2xx (or a status) showed
    observed: list[str] = field(default_factory=list)  # behaviour the contracts allow, worth knowing
    skipped_fields: dict[str, str] = field(default_factory=dict)  # field -> why a live run never sets it
    restore_values: dict[str, Any] = field(default_factory=dict)  # field -> the value that puts it back
    sent_bodies: set[bytes | None] = field(default_factory=set)  # to the target chat, with the valid token
    last: Exchange | None = None

    @property
    def provider(self) -> Provider:
        return self.session.provider

    @cached_property
    def _cut(self) -> Callable[[str, int], str]:
        """How checks shorten a provider's values in messages: redacted first, as a cut secret would not be."""
        return Redactor([self.session.target.token]).clip

    @property
    def live(self) -> bool:
        return self.session.target.live

    @property
    def chat_id(self) -> str:
        return self.session.target.chat_id

    # --- sending and judging -----------------------------------------------------------------------

    def exchange(self, case: Case, *, restoring: bool = False, record: bool = True) -> tuple[Exchange, list[Violation]]:
        """Send `case`, judge the answer with every check, and update what the run knows of the chat.

        With `record=False` the violations are returned but not kept (a candidate while shrinking).
        """
        exchange = self.session.send(case, restoring=restoring)
        path_id = case.chat_id or self.chat_id
        previous = self.last if case.repeat else None
        context = Context(self.provider, case, exchange, path_id, self.state, self.snapshot, previous, self._cut)
        verdict = evaluate(context)
        found = [
            Violation(name, failure.message, failure.clause, case, Record.of(exchange, case, self.provider.auth_header))
            for name, failure in verdict.failures
        ]
        if record:
            self.violations += found
        self.judged.update(verdict.judged)
        for observer in self.observers:
            observer(exchange)
        self._learn(case, exchange, context)
        self.last = exchange
        if case.auth == "valid" and case.chat_id is None:
            self.sent_bodies.add(exchange.request_body)
        return exchange, found

    def _learn(self, case: Case, exchange: Exchange, context: Context) -> None:
        self.exercised.add(f"status:{exchange.status}")
        chat = context.chat
        if chat is None or (case.chat_id not in (None, self.chat_id)) or case.auth != "valid":
            return
        self.state = chat
        if self.snapshot is None:
            self.snapshot = chat
        if case.expect in (Expect.SUCCESS, Expect.TOLERATED):
            for name, value in case.sent_fields.items():
                if name not in self.provider.field_names or name in case.unchecked:
                    continue
                self.exercised.add(f"field:{name}")
                if value is None or isinstance(value, str | bool):
                    self.exercised.add(f"value:{name}={value!r}")
                if self.provider.field(name).response is None:
                    self.hidden[name] = value
            self.observed += [note for note in observed_changes(context) if note not in self.observed]

    # --- what a live run may change -----------------------------------------------------------------

    def plan_changes(self) -> None:
        """After the snapshot: which fields a live run may change (it can put them back), and why not the others."""
        self.restore_values, self.skipped_fields = {}, {}
        if self.snapshot is None:
            reason = "no snapshot of the chat could be taken, so nothing may be changed"
            self.skipped_fields = dict.fromkeys(self.provider.field_names, reason)
            return
        for spec in self.provider.fields:
            name = spec.name
            if spec.response is None:
                if name in self.known_values:
                    self.restore_values[name] = self.known_values[name]
                else:
                    self.skipped_fields[name] = (
                        f"the response does not show {name}, so a live run could not put it back; "
                        f"give its current value with --contract-field {name}=VALUE"
                    )
                continue
            if spec.response not in self.snapshot:
                self.skipped_fields[name] = f"the chat has no {spec.response}, and removing one is undocumented"
                continue
            value = self.snapshot[spec.response]
            if value is None and spec.on_null != "sets":
                self.skipped_fields[name] = f"the chat's {spec.response} is null, and sending null is undocumented"
            elif self.provider.document.errors({name: value}, self.provider.request_schema_pointer):
                self.skipped_fields[name] = f"the chat's {spec.response} is {value!r}, which no request may send"
            else:
                self.restore_values[name] = value

    def sendable(self, body: Any) -> Any:
        """A drawn body as a live run may send it: without the fields it could not put back or remove."""
        if not self.live or not isinstance(body, dict):
            return body
        return {k: v for k, v in body.items() if k in self.provider.field_names and k not in self.skipped_fields}

    def blocked(self, case: Case) -> str | None:
        """Why a live run must not send `case` (None: it may)."""
        if not self.live or not case.changes:
            return None
        if self.snapshot is None:
            return "no snapshot of the chat could be taken, so nothing may be changed"
        if set(case.sent_fields) - self.provider.field_names:
            return (
                "a live run sends no field the contract does not list: a provider may keep it, and none can remove it"
            )
        for name in case.sent_fields:
            if name in self.skipped_fields:
                return self.skipped_fields[name]
        return None
        if self.snapshot is None:
            return "no snapshot of the chat could be taken, so nothing may be changed"
        for name in case.sent_fields:
            if name in self.skipped_fields:
                return self.skipped_fields[name]
        return None
