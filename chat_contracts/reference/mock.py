"""Reference implementations of both APIs: stateful, faithful to the contracts, transport-free.

`ReferenceChatAPI.handle()` takes a `MockRequest` and returns a `MockResponse`; the two ways in
(the `provider_mock` fixture through respx, `serve` over HTTP through Starlette) are thin wrappers.
The request pipeline is a row of small stage methods, so a fault (see `faults`) is a mixin that
overrides exactly the stage it breaks.

What differs between providers comes from the registry: paths, fields, timestamp format, whether
errors are documented, the seeded chat and the way errors are written.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

from chat_contracts.core.registry import Provider

DEFAULT_TOKEN = "cc_test_token"
DEFAULT_PORT = 8000  # where `chat-contracts serve` listens unless told otherwise


@dataclass
class MockRequest:
    method: str
    path: str  # relative to the API base URL: "/ai_chats/aich_x", not "/api/v1/ai_chats/aich_x"
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class MockResponse:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[int, dict[str, str], bytes]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.status, headers, self.body
        headers.setdefault("content-type", "application/json")
        return self.status, headers, json.dumps(self.body, ensure_ascii=False).encode()


@dataclass(frozen=True)
class ApiError:
    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None


# --- what differs between providers comes from the registry ---------------------------------------


def _placeholder(template: Any) -> str | None:
    if isinstance(template, str) and len(template) > 2 and template[0] == "{" and template[-1] == "}":
        return template[1:-1]
    return None


def _fill(template: Any, values: dict[str, Any]) -> Any:
    """`template` with each "{name}" string replaced by values[name]; a key whose placeholder is None is left out."""
    name = _placeholder(template)
    if name is not None:
        return values.get(name, template)
    if isinstance(template, dict):
        return {
            key: _fill(value, values)
            for key, value in template.items()
            if (name := _placeholder(value)) is None or values.get(name, value) is not None
        }
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


def seed_chat(provider: Provider, chat_id: str, created: str) -> dict[str, Any]:
    """The chat a reference mock starts with (the registry's `reference.chat`)."""
    return copy.deepcopy(_fill(provider.reference_chat, {"id": chat_id, "created": created}))


def error_body(provider: Provider, error: ApiError) -> Any:
    """An error body as the provider writes it (the registry's `reference.error`)."""
    values = {"type": error.type, "message": error.message, "code": error.code, "param": error.param}
    return _fill(provider.reference_error, values)


def _rfc3339_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


TIMESTAMP_FORMATTERS: dict[str, Callable[[datetime], str]] = {
    "date-time": _rfc3339_ms,
    "http-date": lambda moment: format_datetime(moment, usegmt=True),
}

SEED_CREATED = datetime(2024, 6, 12, 6, 22, 39, 401000, tzinfo=UTC)


class ReferenceChatAPI:
    """A conforming implementation of one provider's update-chat operation, with state."""

    def __init__(
        self,
        provider: Provider,
        *,
        token: str = DEFAULT_TOKEN,
        chat_id: str | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> None:
        self.provider = provider
        self.token = token
        self.chat_id = chat_id or provider.example_id
        self.rate_limit_per_minute = rate_limit_per_minute
        self._format_time = TIMESTAMP_FORMATTERS[provider.timestamp_format]
        self._request_validator = provider.document.validator(provider.request_schema_pointer)
        self._lock = threading.Lock()  # served by uvicorn, handlers may run in a thread pool
        self._recent: deque[float] = deque()
        self._last_update = SEED_CREATED
        self.requests = 0
        self.chats: dict[str, dict[str, Any]] = {}
        self.hidden: dict[str, dict[str, Any]] = {}  # applied but not in the response (current_company_id)
        self.add_chat(self.chat_id)

    # --- state -----------------------------------------------------------------------------------

    def add_chat(self, chat_id: str) -> dict[str, Any]:
        chat = seed_chat(self.provider, chat_id, self._format_time(SEED_CREATED))
        self.chats[chat_id] = chat
        self.hidden[chat_id] = {}
        return chat

    def now(self) -> datetime:
        # Strictly after the previous update, so "updated moved" is observable even within a millisecond.
        moment = max(datetime.now(UTC), self._last_update + timedelta(milliseconds=1))
        self._last_update = moment
        return moment

    # --- the pipeline ----------------------------------------------------------------------------

    def handle(self, request: MockRequest) -> MockResponse:
        with self._lock:
            self.requests += 1
            return self.finish(request, self._dispatch(request))

    def _dispatch(self, request: MockRequest) -> MockResponse:
        match = self.provider.path_pattern.match(request.path)
        if not match:
            return self.fail(ApiError(404, "not_found", "Resource not found"))
        chat_id = unquote(match.group(1))
        if request.method.upper() != self.provider.method:
            return self.other_method(request, chat_id)
        for stage in (self.throttle, self.authenticate, self.check_version):
            refusal = stage(request)
            if refusal is not None:
                return refusal
        chat = self.find_chat(chat_id)
        if chat is None:
            return self.fail(ApiError(404, "not_found", "Resource not found"))
        update = self.parse_body(request)
        if isinstance(update, MockResponse):
            return update
        refusal = self.validate_update(update)
        if refusal is not None:
            return refusal
        self.apply_update(chat_id, chat, update)
        return MockResponse(200, self.render_chat(chat_id, chat))

    def other_method(self, request: MockRequest, chat_id: str) -> MockResponse:
        response = self.fail(ApiError(405, "method_not_allowed", f"{request.method} is not allowed here"))
        response.headers["allow"] = self.provider.method  # RFC 9110: a 405 lists what is allowed
        return response

    def throttle(self, request: MockRequest) -> MockResponse | None:
        if not self.rate_limit_per_minute:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit_per_minute:
            retry_after = max(1, int(60 - (now - self._recent[0])) + 1)
            response = self.fail(ApiError(429, "rate_limit_exceeded", "Too many requests, retry later"))
            response.headers["retry-after"] = str(retry_after)
            return response
        self._recent.append(now)
        return None

    def authenticate(self, request: MockRequest) -> MockResponse | None:
        scheme, _, credentials = (request.header(self.provider.auth_header) or "").partition(" ")
        if scheme.lower() == self.provider.auth_prefix.strip().lower() and credentials.strip('"') == self.token:
            return None
        return self.fail(ApiError(401, "unauthorized", "Invalid or missing API key"))

    def check_version(self, request: MockRequest) -> MockResponse | None:
        """A pinned API version other than the one the contract documents is refused, as Whop does."""
        header = self.provider.version_header
        value = request.header(header.name) if header else None
        if header is None or value is None or value == header.value:
            return None
        message = f"Unknown {header.name} {value!r}; supported versions: {header.value}"
        return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", header.name))

    def find_chat(self, chat_id: str) -> dict[str, Any] | None:
        return self.chats.get(chat_id)

    def parse_body(self, request: MockRequest) -> dict[str, Any] | MockResponse:
        # Parsed as JSON whatever the Content-Type: the Wilson docs' curl example sends none.
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return self.fail(
                ApiError(400, "invalid_request_error", "The request body is not valid JSON", "invalid_json")
            )
        if not isinstance(body, dict):
            return self.fail(
                ApiError(400, "invalid_request_error", "The request body must be a JSON object", "invalid_json")
            )
        return body

    def validate_update(self, update: dict[str, Any]) -> MockResponse | None:
        # The contract's own request schema is the validation; unknown fields are ignored.
        for name, value in update.items():
            if isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
                # The contracts are silent; like many stores, the reference cannot hold a lone surrogate.
                message = f"{name} is not valid Unicode (a lone surrogate)"
                return self.fail(ApiError(400, "invalid_request_error", message, "parameter_invalid", name))
        error = next(iter(sorted(self._request_validator.iter_errors(update), key=lambda e: list(e.path))), None)
        if error is None:
            return None
        param = str(error.path[0]) if error.path else None
        return self.fail(
            ApiError(400, "invalid_request_error", f"Invalid parameter: {error.message}", "parameter_invalid", param)
        )

    def apply_update(self, chat_id: str, chat: dict[str, Any], update: dict[str, Any]) -> None:
        for request_field in self.provider.fields:
            if request_field.name not in update:
                continue
            value = update[request_field.name]
            if value is None and request_field.on_null == "keeps-or-resets":
                continue  # the reference keeps it (resetting to a default would conform too)
            if request_field.response is None:
                self.hidden[chat_id][request_field.name] = value
            else:
                chat[request_field.response] = value
        chat[self.provider.updated_field] = self._format_time(self.now())

    def render_chat(self, chat_id: str, chat: dict[str, Any]) -> dict[str, Any]:
        return dict(chat)

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        """Last look at every response (faults that break headers or bodies hook in here)."""
        return response

    def fail(self, error: ApiError) -> MockResponse:
        return MockResponse(error.status, error_body(self.provider, error))
