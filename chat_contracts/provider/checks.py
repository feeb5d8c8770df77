"""The checks: one function each, judging one exchange against the contract.

A check yields `Failure`s (what is wrong, and the contract clause it breaks) or nothing; it decides
for itself whether it applies. `evaluate` runs them all, in order, on an exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chat_contracts.cases import AUTH_STATUSES, Case, Expect
from chat_contracts.documents import describe, pointer
from chat_contracts.formats import FORMATS, parse_timestamp
from chat_contracts.registry import Provider
from chat_contracts.session import Exchange, clip

DECISIONS = "contracts/README.md#decisions-where-the-documents-are-silent"


@dataclass(frozen=True)
class Failure:
    message: str
    clause: str


@dataclass(frozen=True)
class Violation:
    check: str
    message: str
    clause: str
    case: Case
    exchange: Exchange


@dataclass
class Context:
    provider: Provider
    case: Case
    exchange: Exchange
    path_id: str
    before: dict[str, Any] | None  # the chat as last seen (None before the first 2xx)
    snapshot: dict[str, Any] | None  # the chat as first seen

    @property
    def body(self) -> Any:
        try:
            return self.exchange.json
        except ValueError:
            return None

    def clause(self, ptr: str, note: str = "") -> str:
        return f"{self.provider.spec_file}#{ptr}" + (f" ({note})" if note else "")

    def status_clause(self, status: int | str) -> str:
        responses = self.provider.operation["responses"]
        for key in (str(status), f"{str(status)[0]}XX"):
            if key in responses:
                return self.clause(self.provider.operation_pointer + pointer("responses", key))
        return self.clause(self.provider.operation_pointer + "/responses")


Check = Callable[[Context], Iterator[Failure]]
CHECKS: dict[str, Check] = {}


def check(fn: Check) -> Check:
    CHECKS[fn.__name__] = fn
    return fn


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


# --- status -----------------------------------------------------------------------------------------


@check
def no_server_error(ctx: Context) -> Iterator[Failure]:
    """No request, valid or not, is answered with a 5xx."""
    if ctx.exchange.status >= 500:
        yield Failure(
            f"{ctx.case.expect.value} expected, got {ctx.exchange.status}: a 5xx is never a contract answer",
            f"{DECISIONS} (a 5xx on any input is a violation)",
        )


@check
def valid_request_accepted(ctx: Context) -> Iterator[Failure]:
    """Valid input is answered 2xx (and a tolerated one 2xx or 4xx)."""
    status = ctx.exchange.status
    if ctx.case.expect is Expect.SUCCESS and 300 <= status < 500:
        yield Failure(f"valid input refused with {status}", ctx.status_clause(200))
    if ctx.case.expect is Expect.TOLERATED and 300 <= status < 400:
        yield Failure(f"expected 2xx or 4xx, got {status}", ctx.status_clause(200))


@check
def invalid_request_rejected(ctx: Context) -> Iterator[Failure]:
    """Invalid input (wrong types, enum values, non-object or malformed bodies) is answered 4xx."""
    status = ctx.exchange.status
    if ctx.case.expect is Expect.INVALID and status < 400:
        yield Failure(f"invalid input accepted with {status}; a 4xx was expected", ctx.status_clause(400))


@check
def auth_enforced(ctx: Context) -> Iterator[Failure]:
    """A missing or wrong token is answered 401 or 403."""
    status = ctx.exchange.status
    if ctx.case.expect is Expect.UNAUTHORIZED and status < 500 and status not in AUTH_STATUSES:
        yield Failure(f"{ctx.case.label}: got {status}, expected 401 or 403", ctx.status_clause(401))


@check
def unknown_id_not_found(ctx: Context) -> Iterator[Failure]:
    """An id that names no chat is answered 404 where the contract documents it, else any 4xx."""
    if ctx.case.expect is not Expect.MISSING or ctx.exchange.status >= 500:
        return
    documented = "404" in ctx.provider.operation["responses"]
    status = ctx.exchange.status
    if (documented and status != 404) or not 400 <= status < 500:
        wanted = "404" if documented else "a 4xx"
        yield Failure(f"{ctx.case.label}: got {status}, expected {wanted}", ctx.status_clause(404))


# --- response shape --------------------------------------------------------------------------------


@check
def response_content_type(ctx: Context) -> Iterator[Failure]:
    """A 2xx answers with a JSON Content-Type."""
    if ctx.exchange.ok and not _is_json(ctx.exchange.content_type):
        yield Failure(
            f"Content-Type is {ctx.exchange.content_type or '(none)'!r}, not application/json",
            ctx.clause(ctx.provider.operation_pointer + "/responses/200/content"),
        )


@check
def response_schema(ctx: Context) -> Iterator[Failure]:
    """A 2xx is a documented status and its body validates against the schema, formats included."""
    if not ctx.exchange.ok:
        return
    at = ctx.provider.response_schema_pointer(ctx.exchange.status)
    if at is None:
        documented = ", ".join(ctx.provider.documented_statuses())
        yield Failure(
            f"status {ctx.exchange.status} is not documented (documented: {documented})", ctx.status_clause(200)
        )
        return
    if ctx.body is None and ctx.exchange.response_body.strip() != b"null":
        yield Failure("the body is not JSON", ctx.clause(at))
        return
    for error in ctx.provider.document.errors(ctx.body, at)[:5]:
        schema_at = at + pointer(*error.relative_schema_path)
        yield Failure(describe(error), ctx.clause(at, f"failed at {schema_at}"))


@check
def error_envelope(ctx: Context) -> Iterator[Failure]:
    """An error status the contract documents answers with its documented JSON body."""
    if ctx.exchange.ok or not ctx.provider.errors_documented:
        return
    at = ctx.provider.response_schema_pointer(ctx.exchange.status)
    if at is None:
        return  # undocumented status: no envelope was promised
    if not _is_json(ctx.exchange.content_type) or ctx.body is None:
        yield Failure(
            f"{ctx.exchange.status} body is not JSON (Content-Type {ctx.exchange.content_type or '(none)'!r})",
            ctx.clause(at),
        )
        return
    for error in ctx.provider.document.errors(ctx.body, at)[:5]:
        yield Failure(f"{ctx.exchange.status} error body: {describe(error)}", ctx.clause(at))


# --- semantics -------------------------------------------------------------------------------------


def _chat(ctx: Context) -> dict[str, Any] | None:
    """The 2xx body as a chat object, or None (response_schema reports why)."""
    body = ctx.body
    return body if ctx.exchange.ok and isinstance(body, dict) else None


@check
def response_id_matches(ctx: Context) -> Iterator[Failure]:
    """The chat answered is the chat in the path."""
    chat = _chat(ctx)
    if chat is not None and "id" in chat and chat["id"] != ctx.path_id:
        yield Failure(
            f"response id {chat['id']!r} is not the path id {ctx.path_id!r}",
            ctx.clause(ctx.provider.id_parameter_pointer, "the id of the chat to update"),
        )


@check
def timestamps_ordered(ctx: Context) -> Iterator[Failure]:
    """The last update is not before the creation."""
    chat = _chat(ctx)
    p = ctx.provider
    if chat is None:
        return
    created, updated = chat.get(p.created_field), chat.get(p.updated_field)
    valid = FORMATS[p.timestamp_format]
    if not (isinstance(created, str) and isinstance(updated, str) and valid(created) and valid(updated)):
        return  # response_schema reports malformed timestamps
    if parse_timestamp(p.timestamp_format, updated) < parse_timestamp(p.timestamp_format, created):
        yield Failure(
            f"{p.updated_field} {updated!r} is before {p.created_field} {created!r}",
            f"{DECISIONS} (the last update cannot precede the creation)",
        )


@check
def invariants_kept(ctx: Context) -> Iterator[Failure]:
    """An update never changes what it cannot update (message_count, creation, owner...)."""
    chat = _chat(ctx)
    if chat is None or ctx.snapshot is None:
        return
    for name in ctx.provider.invariant:
        if name in chat and name in ctx.snapshot and chat[name] != ctx.snapshot[name]:
            yield Failure(
                f"{name} changed from {ctx.snapshot[name]!r} to {chat[name]!r}; an update cannot change it",
                ctx.clause(f"/components/schemas/{_chat_schema_name(ctx.provider)}/properties/{name}"),
            )


@check
def field_applied(ctx: Context) -> Iterator[Failure]:
    """Every field sent and answered 2xx shows in the response as sent (null included)."""
    chat = _chat(ctx)
    if chat is None:
        return
    for name, sent in ctx.case.sent_fields.items():
        expected = _expected_after(ctx, name, sent)
        if expected is _UNCHECKED:
            continue
        shown = chat.get(ctx.provider.field(name).response, _ABSENT)
        if shown != expected:
            yield Failure(
                f"{name} was sent as {_clip(sent)} and answered {ctx.exchange.status}, but the response shows "
                f"{_clip(shown)}",
                ctx.clause(
                    ctx.provider.request_schema_pointer + pointer("properties", name), "a field sent must be applied"
                ),
            )


@check
def omitted_fields_kept(ctx: Context) -> Iterator[Failure]:
    """Fields not sent keep their values (PATCH semantics)."""
    chat = _chat(ctx)
    if chat is None or ctx.before is None:
        return
    touched = {ctx.provider.field(name).response for name in ctx.case.sent_fields if name in ctx.provider.field_names}
    for name in ctx.provider.restore:
        if name in touched or name not in ctx.before:
            continue
        if chat.get(name, _ABSENT) != ctx.before[name]:
            yield Failure(
                f"{name} was not sent but changed from {_clip(ctx.before[name])} to {_clip(chat.get(name, _ABSENT))}",
                f"{DECISIONS} (PATCH: only the fields sent change)",
            )


_UNCHECKED: Any = object()
_ABSENT: Any = type("_Absent", (), {"__repr__": lambda self: "(absent)"})()


def _expected_after(ctx: Context, name: str, sent: Any) -> Any:
    """What the response must show for field `name` sent as `sent`, or _UNCHECKED."""
    if name not in ctx.provider.field_names or name in ctx.case.unchecked:
        return _UNCHECKED
    spec = ctx.provider.field(name)
    if spec.response is None:
        return _UNCHECKED  # not observable (current_company_id)
    if sent is not None or spec.on_null == "sets":
        return sent
    return _UNCHECKED  # a null that may keep the value or reset it, or whose meaning is undocumented


def _chat_schema_name(provider: Provider) -> str:
    ref = provider.document.resolve(provider.response_schema_pointer(200)).get("$ref", "")
    return ref.rsplit("/", 1)[-1]


def _clip(value: Any) -> str:
    return clip(repr(value), 60)


def evaluate(ctx: Context) -> list[Violation]:
    return [
        Violation(name, failure.message, failure.clause, ctx.case, ctx.exchange)
        for name, run in CHECKS.items()
        for failure in run(ctx)
    ]
