"""One run's connection to one implementation: it sends cases, keeps count, paces, and waits out 429s.

Everything the suite sends goes through `Session.send`, so the request cap, the restore reserve, the
pacing and the rate-limit handling hold for every check. The last requests of the cap are kept for the
restore: ordinary requests, and their retries after a 429, never touch them.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import quote

from chat_contracts.core.errors import RunAbortedError, SetupError
from chat_contracts.core.http import BoundedClient, Exchange, TransportFailure, UnsendableRequest, retry_after_seconds
from chat_contracts.core.registry import Provider
from chat_contracts.provider.cases import Case, credentials

THROTTLED = (429, 503)  # answered with Retry-After, they mean "later", not "no"
MAX_RETRY_AFTER = 60.0  # one wait never exceeds this, whatever the provider asks
RESTORE_RESERVE = 4  # requests kept back so the chat can always be put back and read again


class BudgetExhaustedError(RunAbortedError):
    """The run reached its request cap."""


class RateLimitedError(RunAbortedError):
    """The provider kept answering 429/503 past the time the run may wait."""


class ProviderUnreachableError(SetupError):
    """The provider could not be reached, or did not answer in time."""


@dataclass(frozen=True)
class Target:
    """An implementation under test: where it is, how to authenticate, which chat to use."""

    provider: Provider
    base_url: str
    token: str = field(repr=False)  # never in a repr, a traceback or a report
    chat_id: str = ""
    live: bool = False
    api_version: str | None = None  # the version header's value (None: the registry's)

    @property
    def label(self) -> str:
        return f"{self.provider.name} ({'live' if self.live else 'mock'} {self.base_url})"


@dataclass
class Session:
    target: Target
    client: BoundedClient
    max_requests: int = 150
    max_wait: float = 60.0  # seconds the run may spend waiting out throttling, in all
    rate_limit: float | None = None  # requests per second, at most
    per_minute: int | None = None  # the provider's documented limit: never more in any 60 s window
    requests: int = 0
    waited: float = 0.0
    _last_sent: float = field(default=0.0, repr=False)
    _window: deque[float] = field(default_factory=deque, repr=False)

    @property
    def provider(self) -> Provider:
        return self.target.provider

    @property
    def remaining(self) -> int:
        """Requests left for ordinary cases (the restore reserve apart)."""
        return self.max_requests - RESTORE_RESERVE - self.requests

    def send(self, case: Case, *, restoring: bool = False) -> Exchange:
        """Send `case`; a 429/503 is waited out and retried, and never reaches a check.

        Ordinary requests stop at the restore reserve; the restore itself may use it, and waits out
        throttling on a budget of its own, so a rate-limit storm during the run never costs the restore.
        """
        limit = self.max_requests if restoring else self.max_requests - RESTORE_RESERVE
        wait_budget = max(self.max_wait, MAX_RETRY_AFTER) if restoring else self.max_wait
        waited = 0.0
        method, url, headers, content = self.request_for(case)
        while True:
            if self.requests >= limit:
                raise BudgetExhaustedError(
                    f"the request cap of {self.max_requests} is reached ({RESTORE_RESERVE} are kept to restore "
                    "the chat); raise --contract-max-requests or choose a smaller --contract-profile"
                )
            self._pace()
            self.requests += 1
            try:
                exchange = self.client.send(method, url, headers, content)
            except UnsendableRequest:
                self.requests -= 1  # nothing went out
                raise
            except TransportFailure as exc:
                raise ProviderUnreachableError(f"cannot reach {self.target.base_url}: {exc}") from None
            exchange.number = self.requests
            status = exchange.status
            if status not in THROTTLED or (status == 503 and "retry-after" not in exchange.response_headers):
                return exchange
            delay = min(retry_after_seconds(exchange.response_headers.get("retry-after")), MAX_RETRY_AFTER)
            if waited + delay > wait_budget or (not restoring and self.waited + delay > self.max_wait):
                raise RateLimitedError(
                    f"provider rate-limited: still {status} after waiting {self.waited + waited:.0f} s "
                    f"(limit {wait_budget:.0f} s)"
                )
            time.sleep(delay)
            waited += delay
            if not restoring:
                self.waited += delay

    def request_for(self, case: Case) -> tuple[str, str, dict[str, str], bytes | None]:
        """The method, URL, headers and body that `case` becomes."""
        provider = self.provider
        headers = {"accept": "application/json"}
        value = credentials(case.auth, self.target.token, provider.auth_scheme)
        if value is not None:
            headers[provider.auth_header.lower()] = value
        if provider.version_header is not None:
            headers[provider.version_header.name.lower()] = self.target.api_version or provider.version_header.value
        content = case.content()
        if content is not None:
            headers["content-type"] = "application/json"
        chat_id = case.chat_id or self.target.chat_id
        url = self.target.base_url.rstrip("/") + provider.path_for(quote(chat_id, safe=""))
        return provider.method, url, headers, content

    def _pace(self) -> None:
        if self.rate_limit:
            wait = self._last_sent + 1 / self.rate_limit - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if self.per_minute:
            while self._window and time.monotonic() - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.per_minute:
                time.sleep(max(0.0, 60 - (time.monotonic() - self._window[0])))
                self._window.popleft()
            self._window.append(time.monotonic())
        self._last_sent = time.monotonic()
