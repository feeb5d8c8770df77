"""The checks: a registry of small functions, each judging one exchange against one part of the contract.

A check returns None when it does not apply to an exchange (an auth check, given a valid request), or
the failures it found, possibly none, when it does. So a run knows, per check, how many exchanges it
judged: a check that judged none was *not exercised*, which is never reported as passing.

Some checks look beyond the one exchange, at what the run knew before it: the chat as last seen, the
chat as first seen (the snapshot), the exchange just before (for a repeated request). `Context` carries
all of it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chat_contracts.core.documents import DECISIONS, describe, pointer
from chat_contracts.core.formats import FORMATS, parse_timestamp
from chat_contracts.core.http import Exchange, is_json_media
from chat_contracts.core.registry import Provider
from chat_contracts.core.text import clip
from chat_contracts.provider.cases import AUTH_STATUSES, Case, Expect


@dataclass(frozen=True)
class Failure:
    message: str
    clause: str


@dataclass
class Context:
    provider: Provider
    case: Case
    exchange: Exchange
    path_id: str
    before: dict[str, Any] | None  # the chat as last seen (None before the first 2xx)
    snapshot: dict[str, Any] | None  # the chat as first seen
    previous: Exchange | None = None  # the exchange just before this one, for a repeated request
    cut: Callable[[str, int], str] = clip  # shortens values shown in messages (`Redactor.clip`: no cut secret)

    @property
    def body(self) -> Any:
        return self.exchange.body

    @property
    def chat(self) -> dict[str, Any] | None:
        """The 2xx body as a chat object, or None (response_schema reports why)."""
        body = self.body
        return body if self.exchange.ok and isinstance(body, dict) else None

    def clause(self, ptr: str, note: str = "") -> str:
        return f"{self.provider.spec_file}#{ptr}" + (f" ({note})" if note else "")

    def status_clause(self, status: int | str) -> str:
        key = self.provider.response_key(status)
        return self.clause(self.provider.operation_pointer + pointer("responses", *([key] if key else [])))


Judge = Callable[[Context], Iterable[Failure] | None]
Applies = Callable[[Provider], str | None]  # why a check can never apply to a provider (None: it can)


def _always(provider: Provider) -> str | None:
    return None


@dataclass(frozen=True)
class Check:
    name: str
    summary: str  # what it requires, one line (README's table)
    needs: str  # what a run must meet for it to be exercised
    judge: Judge
    inapplicable: Applies = _always


CHECKS: dict[str, Check] = {}


def check(needs: str, inapplicable: Applies = _always) -> Callable[[Judge], Judge]:
    def register(fn: Judge) -> Judge:
        CHECKS[fn.__name__] = Check(fn.__name__, " ".join((fn.__doc__ or "").split()), needs, fn, inapplicable)
        return fn

    return register


def _no_error_body(provider: Provider) -> str | None:
    return None if provider.errors_documented else f"{provider.spec_file} documents no error body"


# --- status -----------------------------------------------------------------------------------------


@check(needs="any answer")
def no_server_error(ctx: Context) -> Iterable[Failure]:
    """No request, valid or not, is answered with a 5xx."""
    if ctx.exchange.status >= 500:
        yield Failure(
            f"{ctx.case.expect.value} expected, got {ctx.exchange.status}: "
            + ("a 5xx" if ctx.exchange.status < 600 else "a status past 5xx")
            + " is never a contract answer",
            f"{DECISIONS} (a 5xx on any input is a violation)",
        )


@check(needs="a valid request")
def valid_request_accepted(ctx: Context) -> Iterable[Failure] | None:
    """Valid input is answered 2xx (tolerated input: 2xx or 4xx)."""
    status, expect = ctx.exchange.status, ctx.case.expect
    if expect not in (Expect.SUCCESS, Expect.TOLERATED):
        return None
    if expect is Expect.SUCCESS and 300 <= status < 500:
        return [Failure(f"valid input refused with {status}", ctx.status_clause(200))]
    if expect is Expect.TOLERATED and 300 <= status < 400:
        return [Failure(f"expected 2xx or 4xx, got {status}", ctx.status_clause(200))]
    return []


@check(needs="an invalid request")
def invalid_request_rejected(ctx: Context) -> Iterable[Failure] | None:
    """Invalid input (wrong types, enum values, non-object or malformed bodies) is answered 4xx."""
    if ctx.case.expect is not Expect.INVALID:
        return None
    if ctx.exchange.status < 400:
        return [
            Failure(f"invalid input accepted with {ctx.exchange.status}; a 4xx was expected", ctx.status_clause(400))
        ]
    return []


# RFC 6750 section 3.1: a malformed request (a scheme without credentials, an unsupported scheme) may be a 400.
MALFORMED_AUTH = ("empty", "scheme")


@check(needs="a request with missing or wrong credentials")
def auth_enforced(ctx: Context) -> Iterable[Failure] | None:
    """A missing or wrong token is answered 401 or 403 (a malformed header may be a 400), with a body or without."""
    if ctx.case.expect is not Expect.UNAUTHORIZED:
        return None
    status = ctx.exchange.status
    allowed = (*AUTH_STATUSES, 400) if ctx.case.auth in MALFORMED_AUTH else AUTH_STATUSES
    if status < 500 and status not in allowed:
        wanted = " or ".join(map(str, allowed))
        return [Failure(f"{ctx.case.label}: got {status}, expected {wanted}", ctx.status_clause(401))]
    return []


@check(needs="a request for a chat that does not exist")
def unknown_id_not_found(ctx: Context) -> Iterable[Failure] | None:
    """An id that names no chat is answered 404 where the contract documents it, else any 4xx."""
    if ctx.case.expect is not Expect.MISSING:
        return None
    documented = "404" in ctx.provider.documented_statuses()
    status = ctx.exchange.status
    if status < 500 and ((documented and status != 404) or not 400 <= status < 500):
        wanted = "404" if documented else "a 4xx"
        return [Failure(f"{ctx.case.label}: got {status}, expected {wanted}", ctx.status_clause(404))]
    return []


# --- response shape --------------------------------------------------------------------------------


@check(needs="any answer")
def response_size(ctx: Context) -> Iterable[Failure]:
    """A response body fits the body cap (--contract-max-body, 10 MB by default): a chat is a few hundred bytes."""
    if ctx.exchange.truncated:
        yield Failure(
            f"the {ctx.exchange.status} body is larger than {len(ctx.exchange.response_body):,} bytes "
            "(after Content-Encoding); it was cut there and not judged further",
            f"{DECISIONS} (bounded responses)",
        )


@check(needs="a 2xx answer")
def response_content_type(ctx: Context) -> Iterable[Failure] | None:
    """A 2xx says Content-Type application/json."""
    if not ctx.exchange.ok:
        return None
    if not is_json_media(ctx.exchange.content_type):
        return [
            Failure(
                f"Content-Type is {ctx.exchange.content_type or '(none)'!r}, not application/json",
                ctx.clause(ctx.provider.operation_pointer + "/responses/200/content"),
            )
        ]
    return []


@check(needs="a 2xx answer")
def response_schema(ctx: Context) -> Iterable[Failure] | None:
    """A 2xx has a documented status and a body valid against the schema, formats included."""
    if not ctx.exchange.ok or ctx.exchange.truncated:
        return None
    at = ctx.provider.response_schema_pointer(ctx.exchange.status)
    if at is None:
        documented = ", ".join(ctx.provider.documented_statuses())
        return [
            Failure(
                f"status {ctx.exchange.status} is not documented (documented: {documented})", ctx.status_clause(200)
            )
        ]
    if ctx.body is None and ctx.exchange.response_body.strip() != b"null":
        return [Failure("the body is not JSON", ctx.clause(at))]
    return [
        Failure(describe(error), ctx.clause(at, f"failed at {at + pointer(*error.relative_schema_path)}"))
        for error in ctx.provider.document.errors(ctx.body, at)[:5]
    ]


@check(needs="an error answer with a documented body", inapplicable=_no_error_body)
def error_envelope(ctx: Context) -> Iterable[Failure] | None:
    """An error status the contract documents has its documented JSON body, as the contract shows it."""
    if ctx.exchange.ok or not ctx.provider.errors_documented or ctx.exchange.truncated:
        return None
    at = ctx.provider.response_schema_pointer(ctx.exchange.status)
    if at is None:
        return None  # undocumented status: no envelope was promised
    if not is_json_media(ctx.exchange.content_type) or ctx.body is None:
        return [
            Failure(
                f"{ctx.exchange.status} body is not JSON (Content-Type {ctx.exchange.content_type or '(none)'!r})",
                ctx.clause(at),
            )
        ]
    return [
        Failure(f"{ctx.exchange.status} error body: {describe(error)}", ctx.clause(at))
        for error in ctx.provider.document.errors(ctx.body, at)[:5]
    ]


# --- semantics -------------------------------------------------------------------------------------


@check(needs="a 2xx chat")
def response_id_matches(ctx: Context) -> Iterable[Failure] | None:
    """The chat answered is the chat in the path."""
    chat = ctx.chat
    if chat is None or "id" not in chat:
        return None
    if chat["id"] != ctx.path_id:
        return [
            Failure(
                f"response id {chat['id']!r} is not the path id {ctx.path_id!r}",
                ctx.clause(ctx.provider.id_parameter_pointer, "the id of the chat to update"),
            )
        ]
    return []


def _timestamp(ctx: Context, chat: dict[str, Any] | None, name: str) -> Any:
    """The timestamp `name` of `chat` as a datetime, or None when absent or malformed (response_schema says
    so) or valid but beyond what a datetime holds (the second after 9999-12-31T23:59:59: not compared)."""
    value = (chat or {}).get(name)
    fmt = ctx.provider.timestamp_format
    if not (isinstance(value, str) and FORMATS[fmt](value)):
        return None
    try:
        return parse_timestamp(fmt, value)
    except ValueError:
        return None


@check(needs="a 2xx chat with well-formed timestamps")
def timestamps_ordered(ctx: Context) -> Iterable[Failure] | None:
    """The last update is not before the creation."""
    p = ctx.provider
    created, updated = _timestamp(ctx, ctx.chat, p.created_field), _timestamp(ctx, ctx.chat, p.updated_field)
    if created is None or updated is None:
        return None
    if updated < created:
        chat = ctx.chat or {}
        return [
            Failure(
                f"{p.updated_field} {chat[p.updated_field]!r} is before {p.created_field} {chat[p.created_field]!r}",
                f"{DECISIONS} (the last update cannot precede the creation)",
            )
        ]
    return []


@check(needs="two 2xx chats in a row with well-formed timestamps")
def timestamps_never_go_back(ctx: Context) -> Iterable[Failure] | None:
    """The last-update timestamp never goes backwards from one answer to the next."""
    name = ctx.provider.updated_field
    now, then = _timestamp(ctx, ctx.chat, name), _timestamp(ctx, ctx.before, name)
    if now is None or then is None:
        return None
    if now < then:
        return [
            Failure(
                f"{name} went back from {(ctx.before or {})[name]!r} to {(ctx.chat or {})[name]!r}",
                f"{DECISIONS} (the last update time never goes backwards)",
            )
        ]
    return []


@check(needs="a 2xx chat after the first")
def invariants_kept(ctx: Context) -> Iterable[Failure] | None:
    """An update never changes what it cannot update: the creation time, counters, the owner, members."""
    chat = ctx.chat
    if chat is None or ctx.snapshot is None:
        return None
    return [
        Failure(
            f"{name} changed from {_clip(ctx, ctx.snapshot[name])} to {_clip(ctx, chat[name])}; "
            "an update cannot change it",
            ctx.clause(ctx.provider.response_field_pointer(name)),
        )
        for name in ctx.provider.invariant
        if name in chat and name in ctx.snapshot and chat[name] != ctx.snapshot[name]
    ]


_UNCHECKED: Any = object()
ABSENT: Any = type("_Absent", (), {"__repr__": lambda self: "(absent)"})()


def same_value(provider: Provider, name: str, one: Any, other: Any) -> bool:
    """Equal, or both "nothing" for an optional nullable response field (absent and null say the same there)."""
    if one == other:
        return True
    prop = provider.chat_shape.properties.get(name)
    nothing = (ABSENT, None)
    return (
        prop is not None and prop.nullable and name not in provider.chat_shape.required
        and one in nothing and other in nothing
    )  # fmt: skip


def expected_after(provider: Provider, case: Case, name: str, sent: Any) -> Any:
    """What the response must show for field `name` sent as `sent`, or _UNCHECKED."""
    if name not in provider.field_names or name in case.unchecked:
        return _UNCHECKED
    spec = provider.field(name)
    if spec.response is None:
        return _UNCHECKED  # not observable
    if sent is not None or spec.on_null == "sets":
        return sent
    return _UNCHECKED  # a null that may keep the value or reset it, or whose meaning is undocumented


def observed_change(sent: Any, shown: Any) -> str | None:
    """How a string came back changed in a way the contracts leave open (trimmed, normalised), or None."""
    if not (isinstance(sent, str) and isinstance(shown, str)) or sent == shown:
        return None
    for candidate, how in ((sent, ""), (sent.strip(), "trimmed")):
        if how and candidate == shown:
            return how
        for form in ("NFC", "NFKC"):
            if unicodedata.normalize(form, candidate) == shown:
                return " and ".join(filter(None, (how, f"normalised to {form}")))
    return None


def observed_changes(ctx: Context) -> list[str]:
    """Fields the provider stored changed in a way the contracts allow, described for the summary."""
    chat = ctx.chat or {}
    notes = []
    for name, sent in ctx.case.sent_fields.items():
        expected = expected_after(ctx.provider, ctx.case, name, sent)
        if expected is not _UNCHECKED:
            how = observed_change(expected, chat.get(ctx.provider.field(name).response or name))
            if how:
                notes.append(f"{name}: {how} ({ctx.case.label})")
    return notes


@check(needs="a 2xx to an update of a field the response shows")
def field_applied(ctx: Context) -> Iterable[Failure] | None:
    """Each field sent and answered 2xx shows in the response as sent, null included where the response can be null."""
    chat = ctx.chat
    if chat is None:
        return None
    judged = False
    failures = []
    for name, sent in ctx.case.sent_fields.items():
        expected = expected_after(ctx.provider, ctx.case, name, sent)
        if expected is _UNCHECKED:
            continue
        judged = True
        shown = chat.get(ctx.provider.field(name).response or name, ABSENT)
        if shown != expected and observed_change(expected, shown) is None:
            failures.append(
                Failure(
                    f"{name} was sent as {_clip(ctx, sent)} and answered {ctx.exchange.status}, but the response shows "
                    f"{_clip(ctx, shown)}",
                    ctx.clause(
                        ctx.provider.request_schema_pointer + pointer("properties", name),
                        "a field sent must be applied",
                    ),
                )
            )
    return failures if judged else None


@check(needs="a 2xx chat after the first")
def omitted_fields_kept(ctx: Context) -> Iterable[Failure] | None:
    """Fields not sent keep their values (PATCH semantics), whatever was sent before."""
    chat = ctx.chat
    if chat is None or ctx.before is None:
        return None
    touched = {ctx.provider.field(name).response for name in ctx.case.sent_fields if name in ctx.provider.field_names}
    return [
        Failure(
            f"{name} was not sent but changed from {_clip(ctx, ctx.before[name])} "
            f"to {_clip(ctx, chat.get(name, ABSENT))}",
            f"{DECISIONS} (PATCH: only the fields sent change)",
        )
        for name in ctx.provider.restore
        if name not in touched
        and name in ctx.before
        and not same_value(ctx.provider, name, chat.get(name, ABSENT), ctx.before[name])
    ]


@check(needs="the same update sent twice")
def idempotent(ctx: Context) -> Iterable[Failure] | None:
    """The same update twice gives the same chat (but for the last-update time)."""
    if not ctx.case.repeat or ctx.previous is None or not ctx.previous.ok:
        return None
    first, second = _comparable(ctx, ctx.previous), _comparable(ctx, ctx.exchange)
    if first is None or second is None:
        return None
    if first != second:
        changed = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
        return [
            Failure(
                f"the same update sent twice gave different chats (fields: {', '.join(changed)})",
                f"{DECISIONS} (PATCH sets values: repeating it changes nothing)",
            )
        ]
    return []


def _comparable(ctx: Context, exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.body
    if not exchange.ok or not isinstance(body, dict):
        return None
    return {k: v for k, v in body.items() if k != ctx.provider.updated_field}


def _clip(ctx: Context, value: Any) -> str:
    return ctx.cut(repr(value), 60)


@dataclass(frozen=True)
class Verdict:
    """What one exchange showed: the failures per check, and which checks judged it."""

    judged: tuple[str, ...]
    failures: tuple[tuple[str, Failure], ...]


def evaluate(ctx: Context) -> Verdict:
    judged: list[str] = []
    failures: list[tuple[str, Failure]] = []
    for name, spec in CHECKS.items():
        found = spec.judge(ctx)
        if found is None:
            continue
        found = list(found)
        judged.append(name)
        failures += [(name, failure) for failure in found]
    return Verdict(tuple(judged), tuple(failures))
