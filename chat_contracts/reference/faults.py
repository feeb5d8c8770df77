"""The catalogue of behaviours a mock can switch on: known faults, and conforming variants.

A *fault* breaks a contract clause; the suite must catch it, with the check the catalogue names. A
*variant* behaves differently from the reference in a way the contract allows (see contracts/README.md);
the suite must pass it. Each is a subclass of `ReferenceChatAPI` that overrides the one pipeline stage
it changes.

Nothing here names a provider or one of its fields. A behaviour is declared once, as a `Family`, with
the fields it is about read from the contract (every integer response field, every request field that
null may clear...) or the registry; the catalogue is what the families make of each provider. So
`title-not-applied` exists for both providers and `message-count-as-string` only where a response
field `message_count` is an integer.
"""

from __future__ import annotations

import gzip
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, ClassVar

from chat_contracts.core.documents import DECISIONS, pointer
from chat_contracts.core.errors import UnknownNameError
from chat_contracts.core.formats import parse_timestamp
from chat_contracts.core.registry import Provider, all_providers
from chat_contracts.reference.mock import (
    SEED_CREATED,
    TIMESTAMP_FORMATTERS,
    ApiError,
    MockRequest,
    MockResponse,
    ReferenceChatAPI,
    seed_chat,
)

Implementation = type[ReferenceChatAPI]


class UnknownBehaviourError(UnknownNameError):
    def __init__(self, name: str, provider: str) -> None:
        super().__init__(
            f"unknown fault {name!r} for provider {provider!r} (list them: chat-contracts faults --provider {provider})"
        )


@dataclass(frozen=True)
class Behaviour:
    """One catalogue entry, as it applies to each provider that has it."""

    name: str
    summary: str
    conforms: bool
    caught_by: str | None  # the suite check that must flag a fault (None for a conforming variant)
    implementations: dict[str, Implementation]  # provider name -> the mock class
    clauses: dict[str, str]  # provider name -> the contract clause it breaks (or the decision it exercises)

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.implementations)


# --- clauses, as functions of the provider ---------------------------------------------------------

Clause = Callable[[Provider, str | None], str]


def in_spec(ptr: str, provider: Provider) -> str:
    return f"{provider.spec_file}#{ptr}"


def operation(*parts: str) -> Clause:
    return lambda p, _field: in_spec(p.operation_pointer + pointer(*parts), p)


def request_field(p: Provider, name: str | None) -> str:
    shape = p.request_shape.properties.get(name or "")
    return in_spec(shape.pointer if shape else p.request_schema_pointer, p)


def request_schema(p: Provider, _field: str | None) -> str:
    return in_spec(p.request_shape.pointer, p)


def response_field(p: Provider, name: str | None) -> str:
    return in_spec(p.response_field_pointer(name or ""), p)


def chat_schema(*parts: str) -> Clause:
    return lambda p, _field: in_spec(p.chat_schema_pointer + pointer(*parts), p)


def error_status(status: str) -> Clause:
    """The documented error `status` where there is one, else the 4XX range."""
    return lambda p, _field: in_spec(p.operation_pointer + pointer("responses", p.response_key(status) or ""), p)


def decision(topic: str) -> Clause:
    return lambda _p, _field: f"{DECISIONS} ({topic})"


def envelope(*parts: str) -> Clause:
    return lambda p, _field: in_spec((p.response_schema_pointer(400) or "") + pointer(*parts), p)


# --- which fields a family is about, read from the contract and the registry -------------------------

Subjects = Callable[[Provider], Iterable[str]]


def _response_fields(test: Callable[[Provider, str], bool]) -> Subjects:
    return lambda p: [name for name in p.chat_shape.properties if test(p, name)]


def _typed(json_type: str) -> Subjects:
    return _response_fields(lambda p, n: p.chat_shape.properties[n].types == {json_type})


def _request_names(p: Provider) -> set[str]:
    return {f.response for f in p.fields if f.response}


OBSERVABLE: Subjects = lambda p: [f.name for f in p.fields if f.response]  # noqa: E731
NULLABLE_REQUEST: Subjects = lambda p: [n for n, s in p.request_shape.properties.items() if s.nullable]  # noqa: E731
NULL_SETS: Subjects = lambda p: [f.name for f in p.fields if f.on_null == "sets"]  # noqa: E731
INVARIANT: Subjects = lambda p: list(p.invariant)  # noqa: E731
RESPONSE_ENUMS = _response_fields(lambda p, n: p.chat_shape.properties[n].enum is not None)
REQUEST_ENUMS: Subjects = lambda p: [n for n, s in p.request_shape.properties.items() if s.enum]  # noqa: E731
REQUIRED_NULLABLE = _response_fields(lambda p, n: n in p.chat_shape.required and p.chat_shape.properties[n].nullable)
REQUIRED_OBJECTS = _response_fields(
    lambda p, n: (
        n in p.chat_shape.required
        and p.chat_shape.properties[n].types == {"object"}
        and not p.chat_shape.properties[n].nullable
    )
)
STRING_REQUEST: Subjects = lambda p: [  # noqa: E731
    n for n, s in p.request_shape.properties.items() if s.types == {"string"} and not s.enum
]
PLAIN_TEXT: Subjects = lambda p: [  # noqa: E731
    f.name for f in p.fields if f.response and not f.references and f.name in STRING_REQUEST(p)
]
EMAIL_ITEMS = _response_fields(lambda p, n: "email" in _item_formats(p, n))
OPTIONAL_REFERENCES: Subjects = lambda p: [  # noqa: E731
    f.name for f in p.fields if f.references and f.response and f.response not in p.chat_shape.required
]


def _item_formats(p: Provider, name: str) -> set[str]:
    items = p.chat_shape.properties[name].items
    if items is None:
        return set()
    schema = p.document.deref(p.document.resolve(items.pointer))
    branches = [p.document.deref(b) for b in schema.get("anyOf", schema.get("oneOf", [schema]))]
    return {str(b["format"]) for b in branches if isinstance(b, dict) and b.get("format")}


def _moves_with_updates(p: Provider) -> list[str]:
    """Date-time response fields that an update leaves alone: not sent, not invariant, not the timestamps."""
    skip = _request_names(p) | set(p.invariant) | {p.created_field, p.updated_field, "id"}
    return [
        n
        for n, s in p.chat_shape.properties.items()
        if n not in skip and s.format == p.timestamp_format and "string" in s.types
    ]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


# --- families ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    name: str  # "{field}" is replaced by the subject, kebab-cased
    base: Implementation
    clause: Clause
    caught_by: str | None = None  # None: a conforming variant
    subjects: Subjects | None = None  # None: one behaviour, about no field in particular
    applies: Callable[[Provider], bool] = lambda _p: True

    def expand(self, provider: Provider) -> Iterator[tuple[str, Implementation, str]]:
        if not self.applies(provider):
            return
        if self.subjects is None:
            yield self.name, self.base, self.clause(provider, None)
            return
        for subject in self.subjects(provider):
            name = self.name.replace("{field}", _kebab(subject))
            implementation = type(self.base.__name__, (self.base,), {"field": subject, "__doc__": self.base.__doc__})
            yield name, implementation, self.clause(provider, subject)


FAMILIES: list[Family] = []


def family(
    name: str,
    clause: Clause,
    *,
    caught_by: str | None = None,
    subjects: Subjects | None = None,
    applies: Callable[[Provider], bool] = lambda _p: True,
) -> Callable[[Implementation], Implementation]:
    def register(cls: Implementation) -> Implementation:
        FAMILIES.append(Family(name, cls, clause, caught_by, subjects, applies))
        return cls

    return register


class _AboutAField(ReferenceChatAPI):
    field: ClassVar[str]


def _errors_documented(p: Provider) -> bool:
    return p.errors_documented


# --- schema breaks ---------------------------------------------------------------------------------


@family("missing-created-timestamp", chat_schema("required"), caught_by="response_schema")
class MissingCreatedTimestamp(ReferenceChatAPI):
    """The 200 response lacks the creation timestamp, a required field."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        body.pop(self.provider.created_field)
        return body


@family("timestamp-as-number", lambda p, _f: response_field(p, p.updated_field), caught_by="response_schema")
class TimestampAsNumber(ReferenceChatAPI):
    """The last-update timestamp is a Unix epoch number instead of a string."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {self.provider.updated_field: 1718173359}


@family("wrong-timestamp-format", lambda p, _f: response_field(p, p.created_field), caught_by="response_schema")
class WrongTimestampFormat(ReferenceChatAPI):
    """Timestamps in another format than the documented one (RFC 1123 for RFC 3339, and the other way)."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        other = next(f for name, f in TIMESTAMP_FORMATTERS.items() if name != self.provider.timestamp_format)
        stamp = other(SEED_CREATED)
        return super().render_chat(chat_id, chat) | {
            self.provider.created_field: stamp,
            self.provider.updated_field: stamp,
        }


@family("unknown-{field}", response_field, caught_by="response_schema", subjects=RESPONSE_ENUMS)
class UnknownEnumValue(_AboutAField):
    """An enum field of the response has a value the enum does not list ("muted")."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {self.field: "muted"}


@family("{field}-as-string", response_field, caught_by="response_schema", subjects=_typed("integer"))
class IntegerAsString(_AboutAField):
    """An integer field of the response is sent as a string ("42")."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {self.field: str(body[self.field])}


@family("{field}-as-string", response_field, caught_by="response_schema", subjects=_typed("boolean"))
class BooleanAsString(_AboutAField):
    """A boolean field of the response is sent as the string "false"/"true"."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {self.field: json.dumps(body[self.field])}


@family("null-{field}", response_field, caught_by="response_schema", subjects=REQUIRED_OBJECTS)
class NullObject(_AboutAField):
    """A required object of the response is null; the schema does not allow it."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {self.field: None}


@family("omits-null-{field}", chat_schema("required"), caught_by="response_schema", subjects=REQUIRED_NULLABLE)
class OmitsNullField(_AboutAField):
    """A required, nullable field is left out instead of being null."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        body.pop(self.field, None)
        return body


@family("{field}-item-invalid", response_field, caught_by="response_schema", subjects=EMAIL_ITEMS)
class ItemNeitherIdNorEmail(_AboutAField):
    """An array of ids or emails holds a display name ("Ana Lopez")."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {self.field: [*body[self.field], "Ana Lopez"]}


@family("{field}-email-with-consecutive-dots", response_field, caught_by="response_schema", subjects=EMAIL_ITEMS)
class EmailWithConsecutiveDots(_AboutAField):
    """An array of ids or emails holds an address with two dots in a row (ops..team@...), invalid by RFC 5322."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {self.field: [*body[self.field], "ops..team@40factory.com"]}


# --- error envelope breaks (where the contract documents one) ----------------------------------------


@family("flat-error-body", envelope(), caught_by="error_envelope", applies=_errors_documented)
class FlatErrorBody(ReferenceChatAPI):
    """Errors come as {"type", "message"} without the documented {"error": {...}} envelope."""

    def fail(self, error: ApiError) -> MockResponse:
        return MockResponse(error.status, {"type": error.type, "message": error.message})


@family("error-code-integer", envelope("properties", "error", "properties", "code"), caught_by="error_envelope",
        applies=_errors_documented)  # fmt: skip
class ErrorCodeInteger(ReferenceChatAPI):
    """error.code is the HTTP status as an integer; the envelope says string or null."""

    def fail(self, error: ApiError) -> MockResponse:
        response = super().fail(error)
        response.body["error"]["code"] = error.status
        return response


@family("error-without-message", envelope("properties", "error", "required"), caught_by="error_envelope",
        applies=_errors_documented)  # fmt: skip
class ErrorWithoutMessage(ReferenceChatAPI):
    """error objects lack the required message."""

    def fail(self, error: ApiError) -> MockResponse:
        response = super().fail(error)
        del response.body["error"]["message"]
        return response


# --- accepting invalid input -----------------------------------------------------------------------


@family("ignores-wrong-types", request_schema, caught_by="invalid_request_rejected")
class IgnoresWrongTypes(ReferenceChatAPI):
    """Fields of the wrong type or an unknown enum value are silently dropped and the update answered 200."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        return None

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        valid = {k: v for k, v in update.items() if ReferenceChatAPI.validate_update(self, {k: v}) is None}
        super().apply_update(chat_id, chat, valid)


@family("accepts-non-object-body", lambda p, f: request_schema(p, f) + "/type", caught_by="invalid_request_rejected")
class AcceptsNonObjectBody(ReferenceChatAPI):
    """A JSON body that is not an object (an array, a string, a number) is taken as an empty update."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return super().parse_body(request)
        return body if isinstance(body, dict) else {}


@family("accepts-malformed-json", error_status("400"), caught_by="invalid_request_rejected")
class AcceptsMalformedJson(ReferenceChatAPI):
    """A body that is not JSON at all is taken as an empty update and answered 200."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        try:
            json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return super().parse_body(request)


@family("{field}-accepts-array", request_field, caught_by="invalid_request_rejected", subjects=STRING_REQUEST)
class AcceptsArrayForString(_AboutAField):
    """A string field sent as an array is accepted (its first item is kept), as a lenient parser does."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if isinstance(update.get(self.field), list):
            items = update.pop(self.field)
            if items and isinstance(items[0], str):
                update[self.field] = items[0]
        return super().validate_update(update)


@family("{field}-accepts-empty", request_field, caught_by="invalid_request_rejected", subjects=REQUEST_ENUMS)
class AcceptsEmptyEnum(_AboutAField):
    """An enum field sent as the empty string is accepted and ignored."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if update.get(self.field) == "":
            del update[self.field]
        return super().validate_update(update)


# --- rejecting valid input -----------------------------------------------------------------------


@family("rejects-null-{field}", request_field, caught_by="valid_request_accepted", subjects=NULLABLE_REQUEST)
class RejectsNull(_AboutAField):
    """A request field set to null is refused with a 400, though the request schema allows null."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if self.field in update and update[self.field] is None:
            message = f"{self.field} must not be null"
            return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", self.field))
        return super().validate_update(update)


@family("{field}-length-limit", request_field, caught_by="valid_request_accepted", subjects=PLAIN_TEXT)
class LengthLimit(_AboutAField):
    """Values longer than 255 characters are refused with a 400; no limit is documented."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        value = update.get(self.field)
        if isinstance(value, str) and len(value) > 255:
            message = f"{self.field} is too long"
            return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", self.field))
        return super().validate_update(update)


@family("rejects-empty-body", operation("requestBody", "required"), caught_by="valid_request_accepted")
class RejectsEmptyBody(ReferenceChatAPI):
    """An update without a field ({} or no body) is refused with a 400; the body and every field are optional."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        parsed = super().parse_body(request)
        if parsed == {}:
            return self.fail(ApiError(400, "invalid_request_error", "Nothing to update", "parameter_missing"))
        return parsed


# --- 5xx on edge input ---------------------------------------------------------------------------


class _ServerErrorWhen(ReferenceChatAPI):
    """Base: a 500 when `crashes_on(update)` is true, as an unhandled exception would give."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        raise NotImplementedError

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if self.crashes_on(update):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return super().validate_update(update)


def _strings(update: dict[str, Any]) -> list[str]:
    return [v for v in update.values() if isinstance(v, str)]


@family(
    "server-error-on-null", request_schema, caught_by="no_server_error", applies=lambda p: bool(NULLABLE_REQUEST(p))
)
class ServerErrorOnNull(_ServerErrorWhen):
    """Any null field value makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(value is None for value in update.values())


@family("server-error-on-unicode", decision("no 5xx for valid input"), caught_by="no_server_error")
class ServerErrorOnUnicode(_ServerErrorWhen):
    """A string with non-ASCII characters makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(not value.isascii() for value in _strings(update))


@family("server-error-on-long-string", decision("length of title"), caught_by="no_server_error")
class ServerErrorOnLongString(_ServerErrorWhen):
    """A string over 1,000 characters makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(len(value) > 1000 for value in _strings(update))


@family("server-error-on-empty-string", decision("no 5xx for valid input"), caught_by="no_server_error")
class ServerErrorOnEmptyString(_ServerErrorWhen):
    """An empty string ("") makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return "" in _strings(update)


@family("server-error-on-256-characters", decision("length of title"), caught_by="no_server_error")
class ServerErrorOn256Characters(_ServerErrorWhen):
    """A string of exactly 256 characters (one past a classic column limit) makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(len(value) == 256 for value in _strings(update))


@family("server-error-on-unknown-reference", decision("fields naming other resources"), caught_by="no_server_error",
        applies=lambda p: bool(p.reference_fields))  # fmt: skip
class ServerErrorOnUnknownReference(_ServerErrorWhen):
    """A reference field (a company, a bot) naming nothing that exists makes the server fail with a 500."""

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = super().add_chat(chat_id)
        self.known = getattr(self, "known", set()) | {v for v in chat.values() if isinstance(v, str)}
        return chat

    def crashes_on(self, update: dict[str, Any]) -> bool:
        values = [update.get(name) for name in self.provider.reference_fields]
        return any(isinstance(v, str) and v not in self.known for v in values)


@family("server-error-on-malformed-json", error_status("400"), caught_by="no_server_error")
class ServerErrorOnMalformedJson(ReferenceChatAPI):
    """A body that is not JSON gives a 500 instead of a 4xx."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        response = super().parse_body(request)
        if isinstance(response, MockResponse):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return response


# --- semantic faults ------------------------------------------------------------------------------


@family("{field}-not-applied", lambda p, f: response_field(p, p.field(f or "").response), caught_by="field_applied",
        subjects=OBSERVABLE)  # fmt: skip
class FieldNotApplied(_AboutAField):
    """A field sent and answered 200 is never stored."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, {k: v for k, v in update.items() if k != self.field})


@family("null-{field}-ignored", response_field, caught_by="field_applied", subjects=NULL_SETS)
class NullIgnored(_AboutAField):
    """null is answered 200 but the old value stays (the response field is nullable: null must be applied)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        kept = {k: v for k, v in update.items() if not (k == self.field and v is None)}
        super().apply_update(chat_id, chat, kept)


@family("omitted-fields-reset", decision("PATCH: only fields sent change"), caught_by="omitted_fields_kept")
class OmittedFieldsReset(ReferenceChatAPI):
    """Fields not sent are reset to their initial values (PUT semantics on a PATCH)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        initial = seed_chat(self.provider, chat_id, chat[self.provider.created_field])
        for name in self.provider.restore:
            if name in initial:
                chat[name] = initial[name]
        super().apply_update(chat_id, chat, update)


@family("{field}-resets-the-others", decision("PATCH: only fields sent change"), caught_by="omitted_fields_kept",
        subjects=OBSERVABLE)  # fmt: skip
class FieldResetsTheOthers(_AboutAField):
    """Sending this field resets the chat's other fields to their initial values (an order-dependent fault)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        if self.field in update:
            initial = seed_chat(self.provider, chat_id, chat[self.provider.created_field])
            for name in self.provider.restore:
                if name in initial and name != self.provider.field(self.field).response:
                    chat[name] = initial[name]
        super().apply_update(chat_id, chat, update)


@family("update-not-persisted", decision("PATCH: only fields sent change"), caught_by="omitted_fields_kept")
class UpdateNotPersisted(ReferenceChatAPI):
    """Every other update is shown in its response but never stored: the next answer shows the old chat."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        self.updates = getattr(self, "updates", 0) + 1
        self._shown = None
        if self.updates % 2 == 0 and update:
            self._shown = dict(chat)
            super().apply_update(chat_id, self._shown, update)
            return
        super().apply_update(chat_id, chat, update)

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        shown, self._shown = getattr(self, "_shown", None), None
        return super().render_chat(chat_id, shown or chat)


@family("response-id-mismatch", lambda p, _f: response_field(p, "id"), caught_by="response_id_matches")
class ResponseIdMismatch(ReferenceChatAPI):
    """The response describes another chat: its id is not the id in the path."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"id": self.provider.unknown_id}


@family("updated-before-created", lambda p, _f: response_field(p, p.updated_field), caught_by="timestamps_ordered")
class UpdatedBeforeCreated(ReferenceChatAPI):
    """The last-update timestamp is a day before the creation timestamp."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        stamp = TIMESTAMP_FORMATTERS[self.provider.timestamp_format](SEED_CREATED - timedelta(days=1))
        return super().render_chat(chat_id, chat) | {self.provider.updated_field: stamp}


@family("updated-goes-backwards", lambda p, _f: response_field(p, p.updated_field),
        caught_by="timestamps_never_go_back")  # fmt: skip
class UpdatedGoesBackwards(ReferenceChatAPI):
    """Two servers with skewed clocks: every other update is stamped an hour earlier than the one before."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        self.updates = getattr(self, "updates", 0) + 1
        if self.updates % 2 == 0:
            fmt = self.provider.timestamp_format
            moment = parse_timestamp(fmt, chat[self.provider.updated_field]) - timedelta(hours=1)
            chat[self.provider.updated_field] = TIMESTAMP_FORMATTERS[fmt](moment)


def _changed(provider: Provider, value: Any) -> Any:
    """Another valid value of the same kind (a timestamp a day later, a list one longer, a number plus one)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        try:
            moment = parse_timestamp(provider.timestamp_format, value)
        except ValueError:
            return value + "-1"
        return TIMESTAMP_FORMATTERS[provider.timestamp_format](moment + timedelta(days=1))
    if isinstance(value, list):
        return [*value, value[0]] if value else ["6564c3d7532e41a123a1b2c3"]
    if isinstance(value, dict):
        return {k: _changed(provider, v) for k, v in value.items()}
    return value


@family("{field}-changes", response_field, caught_by="invariants_kept", subjects=INVARIANT)
class InvariantChanges(_AboutAField):
    """Every update changes a field no update may change (a counter grows, the creation time moves...)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        chat[self.field] = _changed(self.provider, chat[self.field])


@family("{field}-moves", response_field, caught_by="idempotent", subjects=_moves_with_updates)
class MovesWithUpdates(_AboutAField):
    """Every update counts as activity: this timestamp moves, so the same update twice gives two chats."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        chat[self.field] = chat[self.provider.updated_field]


# --- auth faults ----------------------------------------------------------------------------------


def _security(p: Provider, _field: str | None) -> str:
    """The operation's security requirement, or the document's when the operation has none of its own."""
    if "security" in p.operation:
        return in_spec(p.operation_pointer + "/security", p)
    return in_spec("/security", p)


AUTH: Clause = _security


def _credentials(request: MockRequest, provider: Provider) -> tuple[str, str]:
    scheme, _, credentials = (request.header(provider.auth_header) or "").partition(" ")
    return scheme, credentials.strip('"')


@family("no-auth", AUTH, caught_by="auth_enforced")
class NoAuth(ReferenceChatAPI):
    """No token is checked: requests without credentials succeed."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        return None


@family("any-token", AUTH, caught_by="auth_enforced")
class AnyToken(ReferenceChatAPI):
    """Any bearer token is accepted, as long as one is sent."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if _credentials(request, self.provider)[1]:
            return None
        return super().authenticate(request)


@family("token-case-insensitive", AUTH, caught_by="auth_enforced")
class TokenCaseInsensitive(ReferenceChatAPI):
    """The token is compared without regard to letter case."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        scheme, credentials = _credentials(request, self.provider)
        if scheme.lower() == self.provider.auth_scheme.lower() and credentials.lower() == self.token.lower():
            return None
        return super().authenticate(request)


@family("token-prefix-accepted", AUTH, caught_by="auth_enforced")
class TokenPrefixAccepted(ReferenceChatAPI):
    """A token is accepted when it merely starts with the real one (a startswith() check)."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        scheme, credentials = _credentials(request, self.provider)
        if scheme.lower() == self.provider.auth_scheme.lower() and credentials.startswith(self.token):
            return None
        return super().authenticate(request)


@family("any-auth-scheme", AUTH, caught_by="auth_enforced")
class AnyAuthScheme(ReferenceChatAPI):
    """The token is accepted under any scheme ("Token ...", "Basic ..."), not only the documented one."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if _credentials(request, self.provider)[1] == self.token:
            return None
        return super().authenticate(request)


@family("auth-skipped-without-body", AUTH, caught_by="auth_enforced")
class AuthSkippedWithoutBody(ReferenceChatAPI):
    """Requests without a body skip authentication (the check sits in the body parser)."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if not request.body:
            return None
        return super().authenticate(request)


@family("auth-error-without-envelope", error_status("401"), caught_by="error_envelope", applies=_errors_documented)
class AuthErrorWithoutEnvelope(ReferenceChatAPI):
    """A 401 answers with a plain-text body instead of the documented JSON envelope."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        refusal = super().authenticate(request)
        if refusal is not None:
            return MockResponse(401, b"Unauthorized", {"content-type": "text/plain"})
        return None


@family("auth-server-error", error_status("401"), caught_by="no_server_error")
class AuthServerError(ReferenceChatAPI):
    """A request without credentials crashes the server (500) instead of a 401."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if not request.header(self.provider.auth_header):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return super().authenticate(request)


# --- unknown chat ids -----------------------------------------------------------------------------


@family("unknown-id-upsert", error_status("404"), caught_by="unknown_id_not_found")
class UnknownIdUpsert(ReferenceChatAPI):
    """An unknown chat id creates the chat and answers 200."""

    def find_chat(self, chat_id: str) -> dict[str, Any] | None:
        return super().find_chat(chat_id) or self.add_chat(chat_id)


@family("unknown-id-server-error", error_status("404"), caught_by="no_server_error")
class UnknownIdServerError(ReferenceChatAPI):
    """An unknown chat id crashes the server (500)."""

    def _dispatch(self, request: MockRequest) -> MockResponse:
        response = super()._dispatch(request)
        if response.status == 404:
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return response


@family("unknown-id-bad-request", error_status("404"), caught_by="unknown_id_not_found",
        applies=lambda p: "404" in p.documented_statuses())  # fmt: skip
class UnknownIdBadRequest(ReferenceChatAPI):
    """An unknown chat id answers 400 invalid_request_error; the contract documents 404."""

    def _dispatch(self, request: MockRequest) -> MockResponse:
        response = super()._dispatch(request)
        if response.status == 404:
            return self.fail(ApiError(400, "invalid_request_error", "Invalid id", "parameter_invalid", "id"))
        return response


# --- transport faults -----------------------------------------------------------------------------


@family("text-content-type", operation("responses", "200", "content"), caught_by="response_content_type")
class TextContentType(ReferenceChatAPI):
    """Successful responses say Content-Type: text/html though the body is JSON."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        status, headers, body = super().finish(request, response).encoded()
        if status < 300:
            return MockResponse(status, body, headers | {"content-type": "text/html; charset=utf-8"})
        return response


@cache
def _bomb() -> bytes:
    """11 MB of JSON whitespace, gzipped to about 11 KB: over the default body cap once inflated."""
    return gzip.compress(b"{" + b" " * (11 * 1024 * 1024) + b"}", compresslevel=9)


@family("gzip-bomb", decision("bounded responses"), caught_by="response_size")
class GzipBomb(ReferenceChatAPI):
    """Successful responses are a gzip bomb: a few kilobytes on the wire, over 10 MB once inflated."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        response = super().finish(request, response)
        if response.status < 300:
            headers = {"content-type": "application/json", "content-encoding": "gzip"}
            return MockResponse(response.status, _bomb(), headers)
        return response


# --- conforming variants --------------------------------------------------------------------------


@family("rejects-unknown-fields", decision("unknown request fields"))
class RejectsUnknownFields(ReferenceChatAPI):
    """Request properties the contract does not list are refused with a 400."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        unknown = sorted(set(update) - self.provider.field_names)
        if unknown:
            return self.fail(
                ApiError(
                    400, "invalid_request_error", f"Unknown parameter: {unknown[0]}", "parameter_unknown", unknown[0]
                )
            )
        return super().validate_update(update)


@family("rejects-unknown-references", decision("fields naming other resources"),
        applies=lambda p: bool(p.reference_fields))  # fmt: skip
class RejectsUnknownReferences(ReferenceChatAPI):
    """A reference field naming nothing that exists is refused with a 404 (what the chat names exists)."""

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = super().add_chat(chat_id)
        self.existing = getattr(self, "existing", set()) | {v for v in chat.values() if isinstance(v, str)}
        return chat

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        for name in self.provider.reference_fields:
            value = update.get(name)
            if isinstance(value, str) and value not in self.existing:
                return self.fail(ApiError(404, "not_found", f"{name} does not exist", "resource_missing", name))
        return super().validate_update(update)


@family("extra-response-fields", decision("undocumented fields are drift, not violations"))
class ExtraResponseFields(ReferenceChatAPI):
    """Responses carry undocumented fields (as later API versions do)."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"agent_identifier": "general", "object": "chat"}


@family("serves-other-methods", decision("other methods on the path"))
class ServesOtherMethods(ReferenceChatAPI):
    """GET on the chat's path returns it (the contracts are excerpts: other methods may exist)."""

    def other_method(self, request: MockRequest, chat_id: str) -> MockResponse:
        chat = self.find_chat(chat_id)
        if request.method.upper() == "GET" and chat is not None and self.authenticate(request) is None:
            return MockResponse(200, self.render_chat(chat_id, chat))
        return super().other_method(request, chat_id)


@family("rate-limited", decision("429"))
class RateLimited(ReferenceChatAPI):
    """Every fifth request is answered 429 with Retry-After: 0, as a busy provider would."""

    def throttle(self, request: MockRequest) -> MockResponse | None:
        if self.requests % 5 == 0:
            response = self.fail(ApiError(429, "rate_limit_exceeded", "Too many requests, retry later"))
            response.headers["retry-after"] = "0"
            return response
        return super().throttle(request)


@family("forbidden-for-wrong-token", error_status("403"))
class ForbiddenForWrongToken(ReferenceChatAPI):
    """A token that is present but wrong gets 403 forbidden rather than 401."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        refusal = super().authenticate(request)
        if refusal is not None and request.header(self.provider.auth_header):
            return self.fail(ApiError(403, "forbidden", "You do not have permission to access this resource"))
        return refusal


@family("chat-without-{field}", response_field, subjects=OPTIONAL_REFERENCES)
class ChatWithoutReference(_AboutAField):
    """The chat names no such resource yet (no bot): the optional field is left out until one is set."""

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = super().add_chat(chat_id)
        chat.pop(self.provider.field(self.field).response or self.field, None)
        return chat


# Sub-second timestamps only: with one-second resolution an unchanged timestamp cannot be told apart.
@family("updated-only-on-change", decision("absent body / {}"), applies=lambda p: p.timestamp_format == "date-time")
class UpdatedOnlyOnChange(ReferenceChatAPI):
    """An update that changes nothing leaves the last-update timestamp where it was."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        before = dict(chat), dict(self.hidden[chat_id])
        stamp = chat[self.provider.updated_field]
        super().apply_update(chat_id, chat, update)
        if (dict(chat, **{self.provider.updated_field: stamp}), self.hidden[chat_id]) == before:
            chat[self.provider.updated_field] = stamp


@family("echoes-token", decision("undocumented fields are drift, not violations"))
class EchoesToken(ReferenceChatAPI):
    """Every JSON response carries the caller's Authorization header back (a debug field left on)."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        response = super().finish(request, response)
        if isinstance(response.body, dict):
            echo = request.header(self.provider.auth_header) or ""
            response = MockResponse(response.status, response.body | {"debug_authorization": echo}, response.headers)
        return response


@family("trims-whitespace", decision("observed behaviour: trimming and normalisation"))
class TrimsWhitespace(ReferenceChatAPI):
    """Strings are stored with surrounding whitespace trimmed."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, {k: v.strip() if isinstance(v, str) else v for k, v in update.items()})


@family("normalises-unicode", decision("observed behaviour: trimming and normalisation"))
class NormalisesUnicode(ReferenceChatAPI):
    """Strings are stored in Unicode normal form NFC (decomposed accents are composed)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        normalised = {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in update.items()}
        super().apply_update(chat_id, chat, normalised)


@family("refuses-nul", decision("strings a store cannot hold"))
class RefusesNul(ReferenceChatAPI):
    """A string holding U+0000 is refused with a 400 (many databases cannot store it)."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        for name, value in update.items():
            if isinstance(value, str) and "\0" in value:
                message = f"{name} holds U+0000"
                return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", name))
        return super().validate_update(update)


@family("rejects-whitespace-body", decision("absent body / {}"))
class RejectsWhitespaceBody(ReferenceChatAPI):
    """A body of only whitespace is refused with a 400 as malformed JSON (treating it as no body conforms too)."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        if request.body and not request.body.strip():
            message = "The request body is not valid JSON"
            return self.fail(ApiError(400, "invalid_request_error", message, "invalid_json"))
        return super().parse_body(request)


# --- the catalogue -------------------------------------------------------------------------------------


@cache
def catalogue() -> dict[str, Behaviour]:
    """Every behaviour, by name, as the families make it for each provider in the registry."""
    found: dict[str, dict[str, Any]] = {}
    for spec in FAMILIES:
        for provider in all_providers():
            for name, implementation, clause in spec.expand(provider):
                entry = found.setdefault(name, {"family": spec, "implementations": {}, "clauses": {}})
                entry["implementations"][provider.name] = implementation
                entry["clauses"][provider.name] = clause
    return {
        name: Behaviour(
            name=name,
            summary=" ".join((entry["family"].base.__doc__ or "").split()),
            conforms=entry["family"].caught_by is None,
            caught_by=entry["family"].caught_by,
            implementations=entry["implementations"],
            clauses=entry["clauses"],
        )
        for name, entry in found.items()
    }


def faults() -> list[Behaviour]:
    return [b for b in catalogue().values() if not b.conforms]


def variants() -> list[Behaviour]:
    return [b for b in catalogue().values() if b.conforms]


def applies(behaviour: str, provider: Provider) -> bool:
    """Whether every part of `behaviour` ("a" or "a+b") is in the catalogue for `provider`."""
    known = catalogue()
    return all(part in known and provider.name in known[part].implementations for part in behaviour.split("+"))


def build(provider: Provider, behaviour: str | None = None, **options: Any) -> ReferenceChatAPI:
    """The reference implementation for `provider`, or one with catalogue behaviours switched on.

    `behaviour` is a name, or several joined by "+" ("echoes-token+title-not-applied"): each one
    overrides its own stage, so they compose through ordinary inheritance.
    """
    if behaviour is None:
        return ReferenceChatAPI(provider, **options)
    classes = []
    for name in behaviour.split("+"):
        found = catalogue().get(name)
        if found is None or provider.name not in found.implementations:
            raise UnknownBehaviourError(name, provider.name)
        classes.append(found.implementations[provider.name])
    if len(classes) == 1:
        return classes[0](provider, **options)
    composed: Implementation = type("+".join(c.__name__ for c in classes), tuple(classes), {})
    return composed(provider, **options)
