"""One run's connection to one implementation: sends cases over httpx, keeps count, waits out 429s.

Everything the suite sends goes through `Session.send`, so the request cap, the rate-limit handling
and the token redaction hold for every check.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from chat_contracts.registry import Provider

if TYPE_CHECKING:
    from chat_contracts.cases import Case

REDACTED = "***"
MEANINGFUL_HEADERS = ("authorization", "content-type", "accept", "api-version-date")
THROTTLED = (429, 503)  # answered with Retry-After, they mean "later", not "no"


class RunAbortedError(RuntimeError):
    """The run cannot go on; the message is one line for the user."""


class BudgetExhaustedError(RunAbortedError):
    """The run reached its request cap."""


class RateLimitedError(RunAbortedError):
    """The provider kept answering 429/503 past the time the run may wait."""


class ProviderUnreachableError(RunAbortedError):
    """The provider could not be reached at all."""


@dataclass(frozen=True)
class Target:
    """An implementation under test: where it is, how to authenticate, which chat to use."""

    provider: Provider
    base_url: str
    token: str = field(repr=False)  # never in a repr, a traceback or a report
    chat_id: str = ""
    live: bool = False

    @property
    def label(self) -> str:
        return f"{self.provider.name} ({'live' if self.live else 'mock'} {self.base_url})"


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    number: int  # the how-many-th request of the run

    @cached_property
    def json(self) -> Any:
        """The response body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.response_body)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def meaningful_headers(self) -> dict[str, str]:
        """The request headers that matter to the API (not httpx's own host, user-agent...)."""
        return {k: v for k, v in self.request_headers.items() if k in MEANINGFUL_HEADERS}

    def describe(self, limit: int = 600) -> str:
        request = clip((self.request_body or b"").decode("utf-8", "replace"), limit)
        response = clip(self.response_body.decode("utf-8", "replace"), limit)
        headers = ", ".join(f"{k}: {v}" for k, v in self.meaningful_headers.items())
        return (
            f"request #{self.number}: {self.method} {self.url}\n"
            f"  headers: {headers or '(none)'}\n"
            f"  body: {request if self.request_body is not None else '(none)'}\n"
            f"response: {self.status} {self.content_type or '(no Content-Type)'}\n"
            f"  body: {response or '(empty)'}"
        )

    def curl(self, limit: int = 600) -> str:
        """A curl command that sends the same request (token redacted; long bodies clipped, and said so)."""
        parts = ["curl", "-X", self.method, self.url]
        for name, value in self.meaningful_headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.request_body is not None:
            body = self.request_body.decode("utf-8", "replace")
            parts += ["--data-binary", body[:limit]]
        command = " ".join(shlex.quote(p) for p in parts)
        if self.request_body is not None and len(self.request_body.decode("utf-8", "replace")) > limit:
            command += f"  # body clipped to {limit} characters"
        return command


@dataclass
class Session:
    target: Target
    client: httpx.Client
    max_requests: int = 150
    max_wait: float = 60.0  # total seconds the run may spend waiting out throttling
    rate_limit: float | None = None  # requests per second, at most
    exchanges: list[Exchange] = field(default_factory=list)
    requests: int = 0
    waited: float = 0.0
    _last_sent: float = 0.0

    @property
    def provider(self) -> Provider:
        return self.target.provider

    @property
    def remaining(self) -> int:
        return self.max_requests - self.requests

    @cached_property
    def _secrets(self) -> list[str]:
        """The token as it may appear in output: raw, and escaped inside a JSON string."""
        token = self.target.token
        return sorted({token, json.dumps(token)[1:-1]}, key=len, reverse=True) if token else []

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for secret in self._secrets:
            data = data.replace(secret.encode(), REDACTED.encode())
        return data

    def send(self, case: Case) -> Exchange:
        """Send `case`; a 429/503 is waited out and retried, and never reaches a check."""
        request = self._build(case)
        while True:
            if self.requests >= self.max_requests:
                raise BudgetExhaustedError(f"the request cap of {self.max_requests} is reached")
            self._pace()
            self.requests += 1
            try:
                response = self.client.send(request)
            except httpx.TransportError as exc:
                reason = self.redact(str(exc)) or "no answer"
                raise ProviderUnreachableError(
                    f"cannot reach {self.target.base_url}: {exc.__class__.__name__} ({reason})"
                ) from None
            if response.status_code not in THROTTLED or (
                response.status_code == 503 and "retry-after" not in response.headers
            ):
                break
            delay = _retry_after(response.headers.get("retry-after"))
            if self.waited + delay > self.max_wait:
                raise RateLimitedError(
                    f"provider rate-limited: still {response.status_code} after waiting {self.waited:.0f} s "
                    f"(limit {self.max_wait:.0f} s)"
                )
            time.sleep(delay)
            self.waited += delay
        exchange = self._record(request, response)
        self.exchanges.append(exchange)
        return exchange

    def _pace(self) -> None:
        if self.rate_limit:
            wait = self._last_sent + 1 / self.rate_limit - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_sent = time.monotonic()

    def _build(self, case: Case) -> httpx.Request:
        provider = self.provider
        headers = {"accept": "application/json"}
        if case.auth == "valid":
            headers |= provider.auth_headers(self.target.token)
        elif case.auth == "wrong":
            headers |= provider.auth_headers("chat-contracts-invalid-token")
        content = case.content()
        if content is not None:
            headers["content-type"] = "application/json"
        url = self.target.base_url.rstrip("/") + provider.path_for(_quote(case.chat_id or self.target.chat_id))
        return self.client.build_request(provider.method, url, headers=headers, content=content)

    def _record(self, request: httpx.Request, response: httpx.Response) -> Exchange:
        # Redacted once, here: nothing downstream (messages, curl, reports) ever sees the token.
        redact = self.redact
        return Exchange(
            method=request.method,
            url=redact(str(request.url)),
            request_headers={k: redact(v) for k, v in request.headers.items()},
            request_body=self.redact_bytes(request.content) if request.content else None,
            status=response.status_code,
            response_headers={k.lower(): redact(v) for k, v in response.headers.items()},
            response_body=self.redact_bytes(response.content),
            number=self.requests,
        )


def clip(text: str, limit: int) -> str:
    """`text`, cut at `limit` characters with a note of how long it was."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _quote(chat_id: str) -> str:
    return quote(chat_id, safe="")


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (delta-seconds; an HTTP-date or nothing counts as 1 s)."""
    try:
        return max(0.0, min(float(value or 1), 60.0))
    except ValueError:
        return 1.0
