"""The catalogue of behaviours a mock can switch on: known faults, and conforming variants.

A *fault* breaks a named contract clause; the suite must catch it. A *variant* behaves differently
from the reference in a way the contract allows (see contracts/README.md); the suite must pass it.
Each is a subclass of `ReferenceChatAPI` that overrides the one pipeline stage it changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chat_contracts.mock import (
    SEED_CREATED,
    TIMESTAMP_FORMATTERS,
    ApiError,
    MockRequest,
    MockResponse,
    ReferenceChatAPI,
)
from chat_contracts.registry import Provider

BOTH = ("whop", "wilson")
WHOP = "whop.openapi.yaml#"
WILSON = "wilson.openapi.yaml#"
WHOP_OP = WHOP + "/paths/~1ai_chats~1{id}/patch"
WILSON_OP = WILSON + "/paths/~1chat~1{chat_id}/patch"
WHOP_CHAT = WHOP + "/components/schemas/AiChat"
WILSON_CHAT = WILSON + "/components/schemas/Chat"
WHOP_REQUEST = WHOP_OP + "/requestBody/content/application~1json/schema"
WILSON_REQUEST = WILSON + "/components/schemas/EditChatRequest"
DECISIONS = "contracts/README.md#decisions-where-the-documents-are-silent"


@dataclass(frozen=True)
class Behaviour:
    name: str
    summary: str
    clause: dict[str, str]  # provider -> the contract clause it breaks (or the decision it exercises)
    conforms: bool
    implementation: type[ReferenceChatAPI]
    caught_by: str | None  # the suite check that must flag a fault (None for a conforming variant)

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.clause)


CATALOGUE: dict[str, Behaviour] = {}


class UnknownBehaviourError(KeyError):
    def __str__(self) -> str:
        name, provider = self.args
        return (
            f"unknown fault {name!r} for provider {provider!r} (list them: chat-contracts faults --provider {provider})"
        )


def _register(
    name: str,
    clause: dict[str, str] | str,
    *,
    caught_by: str | None = None,
    providers: tuple[str, ...] = BOTH,
) -> Callable[[type[ReferenceChatAPI]], type[ReferenceChatAPI]]:
    clauses = clause if isinstance(clause, dict) else dict.fromkeys(providers, clause)

    def register(cls: type[ReferenceChatAPI]) -> type[ReferenceChatAPI]:
        assert name not in CATALOGUE, name
        summary = " ".join((cls.__doc__ or "").split())
        CATALOGUE[name] = Behaviour(name, summary, clauses, caught_by is None, cls, caught_by)
        return cls

    return register


def fault(name: str, *, caught_by: str, clause: dict[str, str] | str, providers: tuple[str, ...] = BOTH) -> Callable:
    return _register(name, clause, caught_by=caught_by, providers=providers)


def variant(name: str, clause: dict[str, str] | str, providers: tuple[str, ...] = BOTH) -> Callable:
    return _register(name, clause, providers=providers)


def faults() -> list[Behaviour]:
    return [b for b in CATALOGUE.values() if not b.conforms]


def variants() -> list[Behaviour]:
    return [b for b in CATALOGUE.values() if b.conforms]


def applies(behaviour: str, provider: Provider) -> bool:
    """Whether every part of `behaviour` ("a" or "a+b") is in the catalogue for `provider`."""
    return all(part in CATALOGUE and provider.name in CATALOGUE[part].providers for part in behaviour.split("+"))


def build(provider: Provider, behaviour: str | None = None, **options: Any) -> ReferenceChatAPI:
    """The reference implementation for `provider`, or one with catalogue behaviours switched on.

    `behaviour` is a name, or several joined by "+" ("echoes-token+title-not-applied"): each one
    overrides its own stage, so they compose through ordinary inheritance.
    """
    if behaviour is None:
        return ReferenceChatAPI(provider, **options)
    classes = []
    for name in behaviour.split("+"):
        found = CATALOGUE.get(name)
        if found is None or provider.name not in found.providers:
            raise UnknownBehaviourError(name, provider.name)
        classes.append(found.implementation)
    if len(classes) == 1:
        return classes[0](provider, **options)
    return type("+".join(c.__name__ for c in classes), tuple(classes), {})(provider, **options)


def _response_clause(whop_field: str | None, wilson_field: str | None) -> dict[str, str]:
    clauses = {}
    if whop_field:
        clauses["whop"] = f"{WHOP_CHAT}/properties/{whop_field}"
    if wilson_field:
        clauses["wilson"] = f"{WILSON_CHAT}/properties/{wilson_field}"
    return clauses


def _title(update: dict[str, Any]) -> Any:
    return update.get("title")


# --- schema breaks ---------------------------------------------------------------------------------


@fault(
    "missing-created-timestamp",
    caught_by="response_schema",
    clause={"whop": f"{WHOP_CHAT}/required", "wilson": f"{WILSON_CHAT}/required"},
)
class MissingCreatedTimestamp(ReferenceChatAPI):
    """The 200 response lacks the creation timestamp, a required field."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        body.pop(self.provider.created_field)
        return body


@fault("timestamp-as-number", caught_by="response_schema", clause=_response_clause("updated_at", "update_at"))
class TimestampAsNumber(ReferenceChatAPI):
    """The last-update timestamp is a Unix epoch number instead of a string."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {self.provider.updated_field: 1718173359}


@fault("wrong-timestamp-format", caught_by="response_schema", clause=_response_clause("created_at", "create_at"))
class WrongTimestampFormat(ReferenceChatAPI):
    """Timestamps in the other provider's format: RFC 1123 for Whop, RFC 3339 for Wilson."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        other = next(f for name, f in TIMESTAMP_FORMATTERS.items() if name != self.provider.timestamp_format)
        stamp = other(SEED_CREATED)
        return super().render_chat(chat_id, chat) | {
            self.provider.created_field: stamp,
            self.provider.updated_field: stamp,
        }


@fault(
    "unknown-notification-preference",
    caught_by="response_schema",
    clause=WHOP + "/components/schemas/AiChatNotificationPreferences/enum",
    providers=("whop",),
)
class UnknownNotificationPreference(ReferenceChatAPI):
    """The response's notification_preference is "muted", not one of the documented enum values."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"notification_preference": "muted"}


@fault(
    "message-count-as-string",
    caught_by="response_schema",
    clause=_response_clause("message_count", None),
    providers=("whop",),
)
class MessageCountAsString(ReferenceChatAPI):
    """message_count is the string "42" instead of an integer."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {"message_count": str(body["message_count"])}


@fault("null-user", caught_by="response_schema", clause=_response_clause("user", None), providers=("whop",))
class NullUser(ReferenceChatAPI):
    """The owning user is null; the schema requires an object."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"user": None}


@fault("omits-null-last-message-at", caught_by="response_schema", clause=f"{WHOP_CHAT}/required", providers=("whop",))
class OmitsNullLastMessageAt(ReferenceChatAPI):
    """last_message_at is left out instead of being null: it is required (and nullable)."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        body.pop("last_message_at")
        return body


@fault(
    "archived-as-string", caught_by="response_schema", clause=_response_clause(None, "archived"), providers=("wilson",)
)
class ArchivedAsString(ReferenceChatAPI):
    """archived is the string "false"/"true" instead of a boolean."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {"archived": str(body["archived"]).lower()}


@fault(
    "member-not-id-or-email",
    caught_by="response_schema",
    clause=WILSON + "/components/schemas/Member",
    providers=("wilson",),
)
class MemberNotIdOrEmail(ReferenceChatAPI):
    """members holds a display name, neither an ObjectId nor an email."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        body = super().render_chat(chat_id, chat)
        return body | {"members": [*body["members"], "Ana Lopez"]}


# --- error envelope breaks (Whop documents one) --------------------------------------------------

_ENVELOPE = f"{WHOP_OP}/responses/400/content/application~1json/schema"


@fault("flat-error-body", caught_by="error_envelope", clause=_ENVELOPE, providers=("whop",))
class FlatErrorBody(ReferenceChatAPI):
    """Errors come as {"type", "message"} without the documented {"error": {...}} envelope."""

    def fail(self, error: ApiError) -> MockResponse:
        return MockResponse(error.status, {"type": error.type, "message": error.message})


@fault(
    "error-code-integer",
    caught_by="error_envelope",
    clause=f"{_ENVELOPE}/properties/error/properties/code",
    providers=("whop",),
)
class ErrorCodeInteger(ReferenceChatAPI):
    """error.code is the HTTP status as an integer; the envelope says string or null."""

    def fail(self, error: ApiError) -> MockResponse:
        response = super().fail(error)
        response.body["error"]["code"] = error.status
        return response


@fault(
    "error-without-message",
    caught_by="error_envelope",
    clause=f"{_ENVELOPE}/properties/error/required",
    providers=("whop",),
)
class ErrorWithoutMessage(ReferenceChatAPI):
    """error objects lack the required message."""

    def fail(self, error: ApiError) -> MockResponse:
        response = super().fail(error)
        del response.body["error"]["message"]
        return response


# --- accepting invalid input ---------------------------------------------------------------------


@fault(
    "ignores-wrong-types",
    caught_by="invalid_request_rejected",
    clause={"whop": WHOP_REQUEST, "wilson": WILSON_REQUEST},
)
class IgnoresWrongTypes(ReferenceChatAPI):
    """Fields of the wrong type or an unknown enum value are silently dropped and the update answered 200."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        return None

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        valid = {k: v for k, v in update.items() if ReferenceChatAPI.validate_update(self, {k: v}) is None}
        super().apply_update(chat_id, chat, valid)


@fault(
    "accepts-non-object-body",
    caught_by="invalid_request_rejected",
    clause={"whop": f"{WHOP_REQUEST}/type", "wilson": f"{WILSON_REQUEST}/type"},
)
class AcceptsNonObjectBody(ReferenceChatAPI):
    """A JSON body that is not an object (an array, a string, a number) is taken as an empty update."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return super().parse_body(request)
        return body if isinstance(body, dict) else {}


@fault(
    "accepts-malformed-json",
    caught_by="invalid_request_rejected",
    clause={"whop": f"{WHOP_OP}/responses/400", "wilson": f"{WILSON_OP}/responses/4XX"},
)
class AcceptsMalformedJson(ReferenceChatAPI):
    """A body that is not JSON at all is taken as an empty update and answered 200."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        try:
            json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return super().parse_body(request)


# --- rejecting valid input -----------------------------------------------------------------------


class _RejectsNull(ReferenceChatAPI):
    """Base: `field: null` is refused with a 400, though the request schema allows null."""

    field: str

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if self.field in update and update[self.field] is None:
            message = f"{self.field} must not be null"
            return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", self.field))
        return super().validate_update(update)


@fault(
    "rejects-null-title",
    caught_by="valid_request_accepted",
    clause=f"{WHOP_REQUEST}/properties/title",
    providers=("whop",),
)
class RejectsNullTitle(_RejectsNull):
    """title: null is refused with a 400, though the request schema allows it."""

    field = "title"


@fault(
    "rejects-null-notification-preference",
    caught_by="valid_request_accepted",
    clause=f"{WHOP_REQUEST}/properties/notification_preference",
    providers=("whop",),
)
class RejectsNullNotificationPreference(_RejectsNull):
    """notification_preference: null is refused with a 400, though the request schema allows it."""

    field = "notification_preference"


@fault(
    "title-length-limit",
    caught_by="valid_request_accepted",
    clause={"whop": f"{WHOP_REQUEST}/properties/title", "wilson": f"{WILSON_REQUEST}/properties/title"},
)
class TitleLengthLimit(ReferenceChatAPI):
    """Titles longer than 255 characters are refused with a 400; no limit is documented."""

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        title = _title(update)
        if isinstance(title, str) and len(title) > 255:
            return self.fail(ApiError(400, "invalid_request_error", "title is too long", "parameter_invalid", "title"))
        return super().validate_update(update)


@fault(
    "rejects-empty-body",
    caught_by="valid_request_accepted",
    clause={"whop": f"{WHOP_OP}/requestBody/required", "wilson": f"{WILSON_OP}/requestBody/required"},
)
class RejectsEmptyBody(ReferenceChatAPI):
    """A request without a body is refused with a 400; the body is optional."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        if not request.body.strip():
            return self.fail(ApiError(400, "invalid_request_error", "A request body is required", "parameter_missing"))
        return super().parse_body(request)


# --- 5xx on edge input ---------------------------------------------------------------------------


class _ServerErrorWhen(ReferenceChatAPI):
    """Base: a 500 when `crashes_on(update)` is true, as an unhandled exception would give."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        raise NotImplementedError

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        if self.crashes_on(update):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return super().validate_update(update)


@fault("server-error-on-null", caught_by="no_server_error", clause=WHOP_REQUEST, providers=("whop",))
class ServerErrorOnNull(_ServerErrorWhen):
    """Any null field value makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(value is None for value in update.values())


@fault("server-error-on-unicode", caught_by="no_server_error", clause=DECISIONS + " (no 5xx for valid input)")
class ServerErrorOnUnicode(_ServerErrorWhen):
    """A title with non-ASCII characters makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        title = _title(update)
        return isinstance(title, str) and not title.isascii()


@fault("server-error-on-long-title", caught_by="no_server_error", clause=DECISIONS + " (length of title)")
class ServerErrorOnLongTitle(_ServerErrorWhen):
    """A title over 1,000 characters makes the server fail with a 500."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        title = _title(update)
        return isinstance(title, str) and len(title) > 1000


@fault(
    "server-error-on-unknown-reference",
    caught_by="no_server_error",
    clause=DECISIONS + " (fields naming other resources)",
)
class ServerErrorOnUnknownReference(_ServerErrorWhen):
    """A current_company_id / bot_id that names nothing makes the server fail with a 500 instead of a 4xx."""

    def crashes_on(self, update: dict[str, Any]) -> bool:
        return any(isinstance(update.get(name), str) for name in self.provider.reference_fields)


@fault(
    "server-error-on-malformed-json",
    caught_by="no_server_error",
    clause={"whop": f"{WHOP_OP}/responses/400", "wilson": f"{WILSON_OP}/responses/4XX"},
)
class ServerErrorOnMalformedJson(ReferenceChatAPI):
    """A body that is not JSON gives a 500 instead of a 4xx."""

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        response = super().parse_body(request)
        if isinstance(response, MockResponse):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return response


# --- semantic faults ------------------------------------------------------------------------------


class _FieldNotApplied(ReferenceChatAPI):
    """Base: `field` is accepted with a 200 but never stored."""

    field: str

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, {k: v for k, v in update.items() if k != self.field})


@fault("title-not-applied", caught_by="field_applied", clause=_response_clause("title", "title"))
class TitleNotApplied(_FieldNotApplied):
    """A title sent and answered 200 is not applied."""

    field = "title"


@fault(
    "notification-preference-not-applied",
    caught_by="field_applied",
    clause=_response_clause("notification_preference", None),
    providers=("whop",),
)
class NotificationPreferenceNotApplied(_FieldNotApplied):
    """A notification_preference sent and answered 200 is not applied."""

    field = "notification_preference"


@fault(
    "archived-not-applied", caught_by="field_applied", clause=_response_clause(None, "archived"), providers=("wilson",)
)
class ArchivedNotApplied(_FieldNotApplied):
    """archived sent and answered 200 is not applied."""

    field = "archived"


@fault("bot-id-not-applied", caught_by="field_applied", clause=_response_clause(None, "bot_id"), providers=("wilson",))
class BotIdNotApplied(_FieldNotApplied):
    """A bot_id sent and answered 200 is not applied."""

    field = "bot_id"


@fault("null-title-ignored", caught_by="field_applied", clause=_response_clause("title", None), providers=("whop",))
class NullTitleIgnored(ReferenceChatAPI):
    """title: null is answered 200 but the old title stays (the response title is nullable: null must be applied)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, {k: v for k, v in update.items() if not (k == "title" and v is None)})


@fault("omitted-fields-reset", caught_by="omitted_fields_kept", clause=DECISIONS + " (PATCH: only fields sent change)")
class OmittedFieldsReset(ReferenceChatAPI):
    """Fields not sent are reset to their initial values (PUT semantics on a PATCH)."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        initial = self.dialect.seed(chat_id, chat[self.provider.created_field])
        for name in self.provider.restore:
            chat[name] = initial.get(name)
        super().apply_update(chat_id, chat, update)


@fault("response-id-mismatch", caught_by="response_id_matches", clause=_response_clause("id", "id"))
class ResponseIdMismatch(ReferenceChatAPI):
    """The response describes another chat: its id is not the id in the path."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"id": self.provider.unknown_id}


@fault("updated-before-created", caught_by="timestamps_ordered", clause=_response_clause("updated_at", "update_at"))
class UpdatedBeforeCreated(ReferenceChatAPI):
    """The last-update timestamp is a day before the creation timestamp."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        stamp = TIMESTAMP_FORMATTERS[self.provider.timestamp_format](SEED_CREATED - timedelta(days=1))
        return super().render_chat(chat_id, chat) | {self.provider.updated_field: stamp}


@fault(
    "message-count-changes",
    caught_by="invariants_kept",
    clause=_response_clause("message_count", None),
    providers=("whop",),
)
class MessageCountChanges(ReferenceChatAPI):
    """Every update counts as a message: message_count grows with each PATCH."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        chat["message_count"] += 1


@fault(
    "last-message-at-moves",
    caught_by="idempotent",
    clause=_response_clause("last_message_at", None),
    providers=("whop",),
)
class LastMessageAtMoves(ReferenceChatAPI):
    """Every update counts as a message: last_message_at moves, so the same update twice gives two chats."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        chat["last_message_at"] = chat[self.provider.updated_field]


@fault("members-grow", caught_by="invariants_kept", clause=_response_clause(None, "members"), providers=("wilson",))
class MembersGrow(ReferenceChatAPI):
    """Every update adds the caller to members again: an update changes who is in the chat."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        super().apply_update(chat_id, chat, update)
        chat["members"] = [*chat["members"], chat["members"][0]]


# --- auth faults ----------------------------------------------------------------------------------

_AUTH = {"whop": f"{WHOP_OP}/security", "wilson": WILSON + "/security"}


@fault("no-auth", caught_by="auth_enforced", clause=_AUTH)
class NoAuth(ReferenceChatAPI):
    """No token is checked: requests without credentials succeed."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        return None


@fault("any-token", caught_by="auth_enforced", clause=_AUTH)
class AnyToken(ReferenceChatAPI):
    """Any bearer token is accepted, as long as one is sent."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if request.header(self.provider.auth_header):
            return None
        return super().authenticate(request)


@fault(
    "auth-error-without-envelope", caught_by="error_envelope", clause=f"{WHOP_OP}/responses/401", providers=("whop",)
)
class AuthErrorWithoutEnvelope(ReferenceChatAPI):
    """A 401 answers with a plain-text body instead of the documented JSON envelope."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        refusal = super().authenticate(request)
        if refusal is not None:
            return MockResponse(401, b"Unauthorized", {"content-type": "text/plain"})
        return None


@fault(
    "auth-server-error",
    caught_by="no_server_error",
    clause={"whop": f"{WHOP_OP}/responses/401", "wilson": f"{WILSON_OP}/responses/4XX"},
)
class AuthServerError(ReferenceChatAPI):
    """A request without credentials crashes the server (500) instead of a 401."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        if not request.header(self.provider.auth_header):
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return super().authenticate(request)


# --- unknown chat ids -----------------------------------------------------------------------------


@fault(
    "unknown-id-upsert",
    caught_by="unknown_id_not_found",
    clause={"whop": f"{WHOP_OP}/responses/404", "wilson": f"{WILSON_OP}/responses/4XX"},
)
class UnknownIdUpsert(ReferenceChatAPI):
    """An unknown chat id creates the chat and answers 200."""

    def find_chat(self, chat_id: str) -> dict[str, Any] | None:
        return super().find_chat(chat_id) or self.add_chat(chat_id)


@fault(
    "unknown-id-server-error",
    caught_by="no_server_error",
    clause={"whop": f"{WHOP_OP}/responses/404", "wilson": f"{WILSON_OP}/responses/4XX"},
)
class UnknownIdServerError(ReferenceChatAPI):
    """An unknown chat id crashes the server (500)."""

    def _dispatch(self, request: MockRequest) -> MockResponse:
        response = super()._dispatch(request)
        if response.status == 404:
            return self.fail(ApiError(500, "internal_server_error", "An unexpected error occurred"))
        return response


@fault(
    "unknown-id-bad-request", caught_by="unknown_id_not_found", clause=f"{WHOP_OP}/responses/404", providers=("whop",)
)
class UnknownIdBadRequest(ReferenceChatAPI):
    """An unknown chat id answers 400 invalid_request_error; Whop documents 404 not_found."""

    def _dispatch(self, request: MockRequest) -> MockResponse:
        response = super()._dispatch(request)
        if response.status == 404:
            return self.fail(ApiError(400, "invalid_request_error", "Invalid id", "parameter_invalid", "id"))
        return response


# --- transport faults -----------------------------------------------------------------------------


@fault(
    "text-content-type",
    caught_by="response_content_type",
    clause={"whop": f"{WHOP_OP}/responses/200/content", "wilson": f"{WILSON_OP}/responses/200/content"},
)
class TextContentType(ReferenceChatAPI):
    """Successful responses say Content-Type: text/html though the body is JSON."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        status, headers, body = super().finish(request, response).encoded()
        if status < 300:
            return MockResponse(status, body, headers | {"content-type": "text/html; charset=utf-8"})
        return response


# --- conforming variants --------------------------------------------------------------------------


@variant("rejects-unknown-fields", DECISIONS + " (unknown request fields)")
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


@variant("rejects-unknown-references", DECISIONS + " (fields naming other resources)")
class RejectsUnknownReferences(ReferenceChatAPI):
    """A current_company_id / bot_id naming nothing that exists is refused with a 404 (the chat's own bot exists)."""

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = super().add_chat(chat_id)
        # What the seeded chats name exists (their company, their bot); anything else does not.
        self.existing = getattr(self, "existing", set()) | {v for v in chat.values() if isinstance(v, str)}
        return chat

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        existing = self.existing
        for name in self.provider.reference_fields:
            value = update.get(name)
            if isinstance(value, str) and value not in existing:
                return self.fail(ApiError(404, "not_found", f"{name} does not exist", "resource_missing", name))
        return super().validate_update(update)


@variant("extra-response-fields", DECISIONS + " (undocumented fields are drift, not violations)")
class ExtraResponseFields(ReferenceChatAPI):
    """Responses carry undocumented fields (as later API versions do)."""

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return super().render_chat(chat_id, chat) | {"agent_identifier": "general", "object": "chat"}


@variant("serves-other-methods", DECISIONS + " (other methods on the path)")
class ServesOtherMethods(ReferenceChatAPI):
    """GET on the chat's path returns it (real Whop serves GET and DELETE there)."""

    def other_method(self, request: MockRequest, chat_id: str) -> MockResponse:
        chat = self.find_chat(chat_id)
        if request.method.upper() == "GET" and chat is not None and self.authenticate(request) is None:
            return MockResponse(200, self.render_chat(chat_id, chat))
        return super().other_method(request, chat_id)


@variant("rate-limited", DECISIONS + " (429)")
class RateLimited(ReferenceChatAPI):
    """Every fifth request is answered 429 with Retry-After: 0, as a busy provider would."""

    def throttle(self, request: MockRequest) -> MockResponse | None:
        if self.requests % 5 == 0:
            response = self.fail(ApiError(429, "rate_limit_exceeded", "Too many requests, retry later"))
            response.headers["retry-after"] = "0"
            return response
        return super().throttle(request)


@variant("forbidden-for-wrong-token", f"{WHOP_OP}/responses/403", providers=("whop",))
class ForbiddenForWrongToken(ReferenceChatAPI):
    """A token that is present but wrong gets 403 forbidden rather than 401."""

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        refusal = super().authenticate(request)
        if refusal is not None and request.header(self.provider.auth_header):
            return self.fail(ApiError(403, "forbidden", "You do not have permission to access this resource"))
        return refusal


@variant("chat-without-bot", _response_clause(None, "bot_id"), ("wilson",))
class ChatWithoutBot(ReferenceChatAPI):
    """The chat has no bot: bot_id is left out of responses until one is set."""

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = super().add_chat(chat_id)
        chat.pop("bot_id")
        return chat


# Whop only: Wilson's timestamps have one-second resolution, so there the difference cannot show.
@variant("updated-only-on-change", DECISIONS + " (absent body / {})", ("whop",))
class UpdatedOnlyOnChange(ReferenceChatAPI):
    """An update that changes nothing leaves the last-update timestamp where it was."""

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        before = dict(chat), dict(self.hidden[chat_id])
        stamp = chat[self.provider.updated_field]
        super().apply_update(chat_id, chat, update)
        if (dict(chat, **{self.provider.updated_field: stamp}), self.hidden[chat_id]) == before:
            chat[self.provider.updated_field] = stamp


@variant("echoes-token", DECISIONS + " (undocumented fields are drift, not violations)")
class EchoesToken(ReferenceChatAPI):
    """Every JSON response carries the caller's Authorization header back (a debug field left on)."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        response = super().finish(request, response)
        if isinstance(response.body, dict):
            echo = request.header(self.provider.auth_header) or ""
            response = MockResponse(response.status, response.body | {"debug_authorization": echo}, response.headers)
        return response
