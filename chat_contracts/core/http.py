"""HTTP exchanges, bounded: one wall-clock deadline per request and a cap on every response body.

A provider under test may be hostile or broken: it may trickle one byte a second, send a gzip bomb or
a 200 MB body. `BoundedClient.send` therefore streams the response, inflates it itself with a limit on
every step, stops reading at `max_body` bytes (the exchange says it was `truncated`), and gives up
on the whole request, connect and send and every read, at `timeout` seconds: the request runs in a
worker thread that is abandoned, its connections closed, when the deadline passes.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC
from functools import cached_property
from typing import Any

import httpx

from chat_contracts.core.errors import ChatContractsError

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BODY = 10 * 1024 * 1024
CHUNK = 64 * 1024


class TransportFailure(ChatContractsError):
    """No HTTP answer: the provider could not be reached, or did not answer within the deadline."""


class UnsendableRequest(ChatContractsError):
    """The HTTP client itself refuses to send the request (a header value HTTP/1.1 does not allow)."""


@dataclass
class Exchange:
    """One request and its response, as sent and received (raw: redaction happens where text leaves)."""

    method: str
    url: str
    request_headers: dict[str, str]  # lower-case names
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]  # lower-case names
    response_body: bytes
    number: int = 0  # the how-many-th request of the run
    truncated: bool = False  # the body was larger than the cap: only its first bytes are here
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # how the body was read, when it matters

    @cached_property
    def json(self) -> Any:
        """The response body parsed as JSON; raises ValueError when it is not JSON (or was cut)."""
        if self.truncated:
            raise ValueError("the body was cut at the size limit")
        try:
            return json.loads(self.response_body)
        except RecursionError:  # nested deeper than Python parses: no JSON we can judge, like a broken one
            raise ValueError("the body is nested too deeply to parse") from None

    @property
    def body(self) -> Any:
        """The JSON body, or None when there is none."""
        try:
            return self.json
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def is_json_media(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _Inflater:
    """Content-Encoding gzip or deflate, inflated a bounded amount at a time (a bomb stays a small read)."""

    def __init__(self, encoding: str) -> None:
        # 47 = 32 + 15: zlib or gzip, detected from the header; deflate servers often send raw deflate.
        self._raw_fallback = encoding == "deflate"
        self._inflate = zlib.decompressobj(47)

    def feed(self, chunk: bytes, room: int) -> bytes:
        try:
            out = self._inflate.decompress(chunk, room)
        except zlib.error:
            if not self._raw_fallback:
                raise
            self._raw_fallback = False
            self._inflate = zlib.decompressobj(-15)
            out = self._inflate.decompress(chunk, room)
        return out


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool
    notes: list[str]


class BoundedClient:
    """An httpx client whose every request ends by its deadline and reads at most `max_body` bytes."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int = DEFAULT_MAX_BODY,
        transport_factory: Callable[[], httpx.BaseTransport] | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self._transport_factory = transport_factory
        self._client: httpx.Client | None = None  # made on first use: planning a run needs no connection
        self._workers: list[threading.Thread] = []  # requests in flight in threads of their own
        self._abandoned: list[threading.Thread] = []

    def _new_client(self) -> httpx.Client:
        transport = self._transport_factory() if self._transport_factory else None
        return httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            transport=transport,
            follow_redirects=False,  # a redirect is an answer to judge, not a place to send the token
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Exchange:
        """Send one request; TransportFailure when there is no complete answer by the deadline."""
        started = time.monotonic()
        deadline = started + self.timeout
        client = self._client = self._client or self._new_client()
        late = TransportFailure(f"no complete answer within {self.timeout:g} s (--contract-timeout)")
        try:
            if self._transport_factory is not None:  # in-process: nothing can trickle, and a thread only costs time
                answer = self._fetch(client, method, url, headers, content, deadline)
            else:
                answer = self._fetch_in_thread(client, method, url, headers, content, deadline)
        except TimeoutError:
            self._abandon(client)
            raise late from None
        except KeyboardInterrupt:
            self._abandon(client)
            raise
        except httpx.LocalProtocolError as exc:
            raise UnsendableRequest(f"the HTTP client refuses to send it ({exc.__class__.__name__})") from None
        except httpx.TimeoutException:
            raise late from None
        except httpx.HTTPError as exc:
            raise TransportFailure(f"{exc.__class__.__name__} ({_reason(exc)})") from None
        except zlib.error:
            raise TransportFailure("the body could not be inflated (a broken Content-Encoding)") from None
        return self._exchange(method, url, headers, content, started, answer)

    def _fetch_in_thread(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        deadline: float,
    ) -> _Answer:
        """`_fetch` in a worker thread, waited for until the deadline (TimeoutError after it)."""
        future: Future[_Answer] = Future()

        def work() -> None:
            try:
                future.set_result(self._fetch(client, method, url, headers, content, deadline))
            except BaseException as exc:  # handed to the waiting thread, which decides
                future.set_exception(exc)

        worker = threading.Thread(target=work, name="chat-contracts-request", daemon=True)
        worker.start()
        self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        return future.result(timeout=max(deadline - time.monotonic(), 0) + 0.05)

    @staticmethod
    def _exchange(
        method: str, url: str, headers: dict[str, str], content: bytes | None, started: float, answer: _Answer
    ) -> Exchange:
        return Exchange(
            method=method,
            url=url,
            request_headers={k.lower(): v for k, v in headers.items()},
            request_body=content,
            status=answer.status,
            response_headers=answer.headers,
            response_body=answer.body,
            truncated=answer.truncated,
            seconds=time.monotonic() - started,
            notes=answer.notes,
        )

    def _abandon(self, client: httpx.Client) -> None:
        """Give up on an in-flight request: close its connections (the worker then fails) and start afresh."""
        self._client = self._new_client()
        closing = threading.Thread(target=client.close, daemon=True)
        closing.start()
        self._abandoned.append(closing)

    def settle(self) -> None:
        """Wait, at most one timeout, for requests given up on to end: one still in flight could reach the
        provider after a later one (the restore), and undo it."""
        deadline = time.monotonic() + self.timeout
        for worker in [*self._abandoned, *self._workers]:
            worker.join(timeout=max(deadline - time.monotonic(), 0))
        self._abandoned = [w for w in self._abandoned if w.is_alive()]
        self._workers = [w for w in self._workers if w.is_alive()]

    def _fetch(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        deadline: float,
    ) -> _Answer:
        # Only the encodings `_Inflater` reads: httpx would also offer br/zstd when their packages are installed.
        headers = {"accept-encoding": "gzip, deflate", **headers}
        request = client.build_request(method, url, headers=headers, content=content)
        response = client.send(request, stream=True)
        try:
            notes: list[str] = []
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            inflater = _Inflater(encoding) if encoding in ("gzip", "x-gzip", "deflate") else None
            if inflater is None and encoding not in ("identity", ""):
                notes.append(f"Content-Encoding {encoding!r} is not decoded")
            pieces: list[bytes] = []
            size = 0
            truncated = False
            # A transport that built its response from bytes (a test's MockTransport) has read it already.
            chunks = [response.content] if response.is_stream_consumed else response.iter_raw(CHUNK)
            if response.is_stream_consumed:
                inflater = None  # and decoded it
            for chunk in chunks:  # pieces, joined once: no buffer regrown and copied at every chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the deadline passed while reading the body")
                room = self.max_body + 1 - size
                piece = inflater.feed(chunk, room) if inflater else chunk[:room]
                pieces.append(piece)
                size += len(piece)
                if size > self.max_body:
                    truncated = True
                    break
            body = b"".join(pieces)[: self.max_body] if truncated else b"".join(pieces)
            headers_out: dict[str, str] = {}
            for name, value in response.headers.multi_items():
                key = name.lower()
                headers_out[key] = f"{headers_out[key]}, {value}" if key in headers_out else value
            return _Answer(response.status_code, headers_out, body, truncated, notes)
        finally:
            response.close()


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else "no answer"


def retry_after_seconds(value: str | None, *, now: float | None = None, default: float = 1.0) -> float:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if value is None or not value.strip():
        return default
    value = value.strip()
    if value.isascii() and value.isdigit():  # delay-seconds = 1*DIGIT ("²" and "٣" are digits to Python)
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return default
    if moment.tzinfo is None:  # the asctime() form, which a recipient must accept, is in GMT without saying so
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
