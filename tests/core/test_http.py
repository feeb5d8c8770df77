"""Bounded HTTP against hostile providers on loopback: a trickle ends at the deadline, a gzip bomb and a
200 MB body stop at the cap, and Retry-After is read as RFC 9110 says."""

from __future__ import annotations

import gzip
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path

import httpx
import pytest

from chat_contracts.core.http import BoundedClient, TransportFailure, retry_after_seconds

MB = 1024 * 1024


Behaviour = Callable[["Hostile", socket.socket], None]


class Hostile:
    """A TCP server on 127.0.0.1 that reads each request's head and then runs `behave` on the connection.

    Every behaviour is bounded (a byte count, a number of steps) and waits on `stop`, so closing the
    server ends it at once; `sent` counts the bytes the kernel accepted from it.
    """

    def __init__(self, behave: Behaviour) -> None:
        self.behave = behave
        self.stop = threading.Event()
        self.client_gone = threading.Event()
        self.sent = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/api/chat/1"
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:  # the accept timed out, or the socket is closed
                continue
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.behave(self, conn)
        except OSError:
            self.client_gone.set()

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.stop.set()
        self._sock.close()
        for conn in self._conns:
            conn.close()
        for thread in self._threads:
            thread.join(timeout=2)


Start = Callable[[Behaviour], Hostile]


@pytest.fixture
def hostile() -> Iterator[Start]:
    started: list[Hostile] = []

    def start(behave: Behaviour) -> Hostile:
        started.append(Hostile(behave))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- the deadline -------------------------------------------------------------------------------------


def _trickle(data: bytes, every: float = 1.0) -> Behaviour:
    def behave(server: Hostile, conn: socket.socket) -> None:
        for byte in data[:120]:  # two minutes at most, and `stop` ends it sooner
            if server.stop.wait(every):
                return
            server.send(conn, bytes([byte]))

    return behave


def _headers_then_trickle(server: Hostile, conn: socket.socket) -> None:
    server.send(conn, _head(content_type="application/json", content_length=100))
    _trickle(b" " * 100)(server, conn)


def _silent(server: Hostile, conn: socket.socket) -> None:
    server.stop.wait(30)


TRICKLES = {
    "headers-one-byte-a-second": _trickle(_head(content_length=2) + b"{}"),
    "body-one-byte-a-second": _headers_then_trickle,
    "never-answers": _silent,
}


def test_trickling_providers_are_given_up_on_at_the_deadline(hostile: Start) -> None:
    """Each behaviour against its own client, all at once (one deadline's wait for the lot)."""
    results: dict[str, tuple[float, BaseException | None, int]] = {}

    def attempt(name: str, server: Hostile) -> None:
        client = BoundedClient(timeout=2)
        started = time.monotonic()
        try:
            client.send("PATCH", server.url, {"content-type": "application/json"}, b"{}")
            failure = None
        except BaseException as exc:  # judged below, in the test's thread
            failure = exc
        results[name] = (time.monotonic() - started, failure, server.sent)
        client.close()

    threads = [threading.Thread(target=attempt, args=(name, hostile(behave))) for name, behave in TRICKLES.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    for name, (elapsed, failure, sent) in sorted(results.items()):
        print(f"{name}: {type(failure).__name__} after {elapsed:.2f} s (timeout 2 s), {sent} bytes received")
    assert set(results) == set(TRICKLES)
    for name, (elapsed, failure, _) in results.items():
        assert isinstance(failure, TransportFailure), (name, failure)
        assert "no complete answer within 2 s" in str(failure), (name, failure)
        assert 1.9 < elapsed < 2 + 1.5, (name, elapsed)


def test_the_client_works_again_after_giving_up(hostile: Start) -> None:
    slow = hostile(_silent)
    fine = hostile(lambda server, conn: server.send(conn, _head(content_length=2) + b"{}"))
    client = BoundedClient(timeout=0.5)
    with pytest.raises(TransportFailure):
        client.send("GET", slow.url, {}, None)
    assert client.send("GET", fine.url, {}, None).json == {}
    client.close()


def test_an_unreachable_provider_fails_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        started = time.monotonic()
        with pytest.raises(TransportFailure, match="ConnectError"):
            BoundedClient(timeout=5).send("GET", f"http://127.0.0.1:{port}/x", {}, None)
    assert time.monotonic() - started < 2


# --- the body cap -------------------------------------------------------------------------------------

GIB_ZEROS_CRC32 = 0x5B64C2B0  # zlib.crc32 of 2**30 zero bytes


@cache
def _gzip_bomb() -> bytes:
    """A gzip of 1 GiB of zeros, about 1 MB: deflate blocks ended by a full flush compress the same megabyte
    to the same bytes, so one is made and repeated."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    megabyte = bytes(MB)
    first = deflate.compress(megabyte) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(megabyte) + deflate.flush(zlib.Z_FULL_FLUSH)
    final_block = b"\x03\x00"  # an empty, final fixed-Huffman block
    return first + again * 1023 + final_block + struct.pack("<II", GIB_ZEROS_CRC32, 0)


def _peak_rss_reset() -> Callable[[], int]:
    """Reset the process's peak RSS (Linux clear_refs); returns a function giving the peak since, in bytes."""

    def status(field: str) -> int:
        text = Path("/proc/self/status").read_text(encoding="ascii")
        return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024  # type: ignore[union-attr]

    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        return lambda: status("VmHWM")
    except OSError:  # not allowed: sample the current RSS while the exchange runs
        samples = [status("VmRSS")]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.005) and len(samples) < 100_000:
                samples.append(status("VmRSS"))

        threading.Thread(target=sample, daemon=True).start()

        def peak() -> int:
            done.set()
            return max(samples)

        return peak


def test_the_bomb_really_is_one() -> None:
    bomb = _gzip_bomb()
    assert len(bomb) < 1.1 * MB
    inflated = zlib.decompressobj(47).decompress(bomb[: 16 * 1024], 64 * MB)
    assert len(inflated) > 10 * MB and inflated.count(0) == len(inflated)  # the cap, from one 16 KB read


def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory(hostile: Start) -> None:
    bomb = _gzip_bomb()

    def behave(server: Hostile, conn: socket.socket) -> None:
        head = _head(content_type="application/json", content_encoding="gzip", content_length=len(bomb))
        server.send(conn, head + bomb)

    server = hostile(behave)
    client = BoundedClient(timeout=10)  # the default cap: 10 MB
    peak = _peak_rss_reset()
    started = time.monotonic()
    exchange = client.send("PATCH", server.url, {}, b"{}")
    seconds, peak_rss = time.monotonic() - started, peak()
    print(f"gzip bomb ({len(bomb) / MB:.1f} MB for 1 GiB): truncated at {len(exchange.response_body) / MB:.0f} MB "
          f"in {seconds:.2f} s, peak RSS {peak_rss / MB:.0f} MB")  # fmt: skip
    assert exchange.truncated and len(exchange.response_body) == client.max_body
    assert exchange.response_body.count(0) == client.max_body
    assert peak_rss < 300 * MB and seconds < 5
    with pytest.raises(ValueError, match="cut at the size limit"):
        _ = exchange.json
    client.close()


def test_a_200_mb_body_stops_at_the_cap_without_being_read_whole(hostile: Start) -> None:
    size, chunk = 200 * MB, bytes(64 * 1024)

    def behave(server: Hostile, conn: socket.socket) -> None:
        server.send(conn, _head(content_type="application/octet-stream", content_length=size))
        while server.sent < size and not server.stop.is_set():
            server.send(conn, chunk)

    server = hostile(behave)
    client = BoundedClient(timeout=10, max_body=MB)
    started = time.monotonic()
    exchange = client.send("GET", server.url, {}, None)
    seconds = time.monotonic() - started
    server.client_gone.wait(5)
    print(f"200 MB body: truncated at 1 MB in {seconds:.2f} s; the provider got {server.sent / MB:.1f} MB out")
    assert exchange.truncated and len(exchange.response_body) == MB
    assert server.client_gone.is_set() and server.sent < 50 * MB
    client.close()


@pytest.mark.parametrize("encoding", ["gzip", "deflate-zlib", "deflate-raw", "identity"])
def test_bodies_under_the_cap_arrive_whole_and_inflated(hostile: Start, encoding: str) -> None:
    body = b'{"title": "' + b"x" * 200_000 + b'"}'
    wire = {
        "gzip": gzip.compress(body),
        "deflate-zlib": zlib.compress(body),
        "deflate-raw": zlib.compress(body)[2:-4],
        "identity": body,
    }[encoding]
    name = encoding.split("-")[0]
    server = hostile(lambda s, conn: s.send(conn, _head(content_encoding=name, content_length=len(wire)) + wire))
    exchange = BoundedClient(timeout=5).send("GET", server.url, {}, None)
    assert not exchange.truncated and exchange.response_body == body and exchange.json["title"] == "x" * 200_000


def test_a_broken_gzip_body_is_a_transport_failure(hostile: Start) -> None:
    wire = b"\x1f\x8b\x08\x00" + b"not really gzip" * 10
    server = hostile(lambda s, conn: s.send(conn, _head(content_encoding="gzip", content_length=len(wire)) + wire))
    with pytest.raises(TransportFailure, match="could not be inflated"):
        BoundedClient(timeout=5).send("GET", server.url, {}, None)


def test_a_cap_through_an_in_process_transport_too() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"y" * 5000))
    exchange = BoundedClient(max_body=1000, transport_factory=lambda: transport).send("GET", "http://x.test/", {}, None)
    assert exchange.truncated and exchange.response_body == b"y" * 1000


# --- Retry-After (RFC 9110 section 10.2.3) ------------------------------------------------------------

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),  # IMF-fixdate
        ("Thursday, 15-Jan-26 12:00:30 GMT", 30.0),  # obsolete RFC 850 form, which a recipient must accept
        ("Thu Jan 15 12:01:00 2026", 60.0),  # obsolete asctime() form: GMT without saying so
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # a date passed: no wait
    ],
)
def test_retry_after_delta_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, now=NOW.timestamp()) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "\u00b2", "\u0663", "2026-01-15T12:00:00Z"])
def test_retry_after_that_is_neither_is_the_default(value: str | None) -> None:
    assert retry_after_seconds(value, now=NOW.timestamp(), default=1.5) == 1.5
