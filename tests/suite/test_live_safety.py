"""Live runs are safe against hostile and broken providers on loopback: the chat is put back after a pass,
a failure, a rate-limit storm, Ctrl-C and SIGTERM; the token appears in no output in any encoding; a
gzip bomb, a 200 MB body or a provider that trickles one byte a second cost bounded memory and time."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from chat_contracts.core.registry import get_provider
from chat_contracts.reference.faults import build
from chat_contracts.reference.mock import MockRequest, MockResponse, ReferenceChatAPI
from chat_contracts.reference.transport import bind, serving

TOKEN = "tok_LIVE-very/secret+token=="  # '/' and '+' are escaped differently by PHP (\/) and .NET (\u002B)
CHAT = "aich_livechat000001"
SEED_TITLE = "Weekly Revenue Analysis"
QUIET = ("-W", "ignore::pytest.PytestAssertRewriteWarning")

pytestmark = pytest.mark.slow


def whop(behaviour: str | None = None, **options: Any) -> ReferenceChatAPI:
    return build(get_provider("whop"), behaviour, token=TOKEN, chat_id=CHAT, **options)


def as_found(api: ReferenceChatAPI) -> bool:
    chat = api.chats[CHAT]
    return chat["title"] == SEED_TITLE and chat["notification_preference"] == "all"


def live_args(base_url: str, *extra: str) -> list[str]:
    return ["--pyargs", "chat_contracts.suite", "--contract-seed", "7", "--contract-provider", "whop",
            "--contract-base-url", base_url, "--contract-chat-id", CHAT, *QUIET, *extra]  # fmt: skip


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONTRACT_PROVIDER", "CONTRACT_BASE_URL", "CONTRACT_CHAT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONTRACT_TOKEN", TOKEN)


def test_restored_after_a_passing_and_after_a_failing_run(pytester: pytest.Pytester) -> None:
    for behaviour, status in ((None, 0), ("message-count-changes", 1)):
        api = whop(behaviour)
        with serving(api) as base_url:
            result = pytester.runpytest_inprocess(*live_args(base_url))
        assert result.ret == status, result.stdout.str()[-2000:]
        assert as_found(api)
        assert api.hidden[CHAT] == {}  # current_company_id, which no response shows, was never set
        result.stdout.fnmatch_lines([f"chat-contracts: whop chat {CHAT} restored: title, notification_preference*"])


class _Storm(ReferenceChatAPI):
    """From request 20 to 140, every request is answered 429 with Retry-After: 0; then it recovers."""

    def throttle(self, request: MockRequest) -> MockResponse | None:
        if 20 <= self.requests <= 140:
            response = MockResponse(429, {"error": {"type": "rate_limit_exceeded", "message": "slow down"}})
            response.headers["retry-after"] = "0"
            return response
        return super().throttle(request)


def test_a_429_storm_then_recovery_leaves_the_chat_restored(pytester: pytest.Pytester) -> None:
    api = _Storm(get_provider("whop"), token=TOKEN, chat_id=CHAT)
    with serving(api) as base_url:
        result = pytester.runpytest_inprocess(*live_args(base_url))
    assert result.ret == 1  # the storm ate the run's requests: it could not complete, and says so
    out = result.stdout.str()
    assert "the run stopped before its end: the request cap of 150 is reached" in out
    assert as_found(api) and f"whop chat {CHAT} restored" in out
    assert api.requests <= 150


class _Interrupted(ReferenceChatAPI):
    """Sends a signal (SIGINT: Ctrl-C; SIGTERM: what CI cancellation and `timeout` send) to the process running
    the suite, mid-run, once the run has changed the chat: the suite runs in-process here, so that is this one."""

    signal_number: int

    def handle(self, request: MockRequest) -> MockResponse:
        response = super().handle(request)
        if self.requests == 30 and self.chats[CHAT]["title"] != SEED_TITLE:
            os.kill(os.getpid(), self.signal_number)
        return response


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_restored_after_an_interruption(pytester: pytest.Pytester, signal_number: int) -> None:
    api = _Interrupted(get_provider("whop"), token=TOKEN, chat_id=CHAT)
    api.signal_number = signal_number
    with serving(api) as base_url:
        result = pytester.runpytest_inprocess(*live_args(base_url), no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()[-2000:]
    assert api.requests < 60  # it stopped there, and put the chat back
    assert as_found(api)
    assert f"whop chat {CHAT} restored" in result.stdout.str()


def test_restored_after_sigterm_to_the_xdist_controller(pytester: pytest.Pytester) -> None:
    """Under `-n`, CI's SIGTERM reaches the controller alone: it passes it on to the worker running the
    provider, which puts the chat back; the session then ends as interrupted."""
    api = whop()
    with serving(api) as base_url:
        command = [sys.executable, "-m", "pytest", *live_args(base_url), "-n", "2", "-p", "no:cacheprovider"]
        process = subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env={**os.environ, "CONTRACT_TOKEN": TOKEN})  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (api.requests >= 30 and api.chats[CHAT]["title"] != SEED_TITLE):
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=90)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert api.requests < 100 and as_found(api), out[-3000:]


# --- the token, echoed back in every encoding, never leaves the tool -----------------------------------

HEADER_SAFE_TOKEN = "tok_live-Header+Safe-Token-0123456789"  # a valid header name too (RFC 9110 tchars)
TCHARS = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def encodings(token: str) -> dict[str, str]:
    return {
        "raw": token,
        "php": token.replace("/", "\\/"),
        "dotnet": "".join(c if c.isalnum() else f"\\u{ord(c):04X}" for c in token),
        "url": quote(token, safe=""),
        "base64": base64.b64encode(token.encode()).decode(),
        "basic": base64.b64encode(f"user:{token}".encode()).decode(),
        "hex": token.encode().hex(),
        "first-half": token[: len(token) // 2],
        "second-half": token[len(token) // 2 :],
    }


class _EchoesEverywhere(ReferenceChatAPI):
    """Echoes the caller's token back in every encoding: in values, as a field name, as a header name and value."""

    def finish(self, request: MockRequest, response: MockResponse) -> MockResponse:
        response = super().finish(request, response)
        token = (request.header("authorization") or "").partition(" ")[2]
        if token != self.token or not isinstance(response.body, dict):
            return response
        forms = encodings(token)
        echoes = {f"echo_{name}": "@@" + name.upper() + "@@" for name in forms}
        body = response.body | echoes | {token: "a field named after the token", "message_count": token}
        text = json.dumps(body)
        for name, encoded in forms.items():  # written as the server writes them, not as json.dumps would
            text = text.replace("@@" + name.upper() + "@@", encoded)
        headers = response.headers | {"x-debug-token": token, "content-type": "application/json"}
        if TCHARS.fullmatch(token):
            headers[token] = "a header named after the token"
        return MockResponse(response.status, text.encode(), headers)


@pytest.mark.parametrize("token", [TOKEN, HEADER_SAFE_TOKEN], ids=["escaped-differently", "header-name"])
def test_the_token_appears_in_no_output_and_no_file_in_any_encoding(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("CONTRACT_TOKEN", token)
    api = _EchoesEverywhere(get_provider("whop"), token=token, chat_id=CHAT)
    with serving(api) as base_url:
        result = pytester.runpytest_inprocess(
            *live_args(
                base_url,
                "--junitxml=reports/junit.xml",
                "--contract-drift-report",
                "reports/drift.md",
                "--contract-har",
                "reports/run.har",
                "--contract-write-baseline",
                "reports/baseline.yaml",
                "--contract-artifacts",
                "reports/bodies",
                "--log-cli-level=DEBUG",  # httpcore logs every header, the echoed token among them
                "--log-file=reports/run.log",
                "--log-file-level=DEBUG",
                "-rA",
                "-l",
                "-vv",
            )
        )
    assert result.ret == 1  # message_count is the token, not an integer: a response_schema violation
    outputs = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    files = [p for p in pytester.path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"junit.xml", "drift.md", "drift.json", "drift.openapi.yaml", "run.har",
                                       "baseline.yaml", "run.log"}  # fmt: skip
    assert "receive_response_headers" in (pytester.path / "reports/run.log").read_text()  # the logs were there
    outputs |= {str(p): p.read_text(encoding="utf-8", errors="replace") for p in files}
    for where, text in outputs.items():
        for name, encoded in encodings(token).items():
            assert encoded not in text, f"the token ({name}) is in {where}"
            assert encoded.lower() not in text.lower(), f"the token ({name}, in another case) is in {where}"
    assert "response_schema" in outputs["stdout"] and "***" in outputs["stdout"]  # it was there, and redacted


# --- bounded memory and time ----------------------------------------------------------------------------


# The run in a process of its own, which reports its own peak RSS (VmHWM, reset by exec: the child's
# RUSAGE_CHILDREN figure would count the copy of this big test process it was forked from).
PEAK = (
    "import pytest, sys; code = pytest.main(sys.argv[1:]); "
    "print('VmHWM', open('/proc/self/status').read().split('VmHWM:')[1].split()[0]); sys.exit(code)"
)


def _peak_rss_of_child(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    # Hypothesis computes its Unicode tables once per machine (some 200 MB, kept in the chat-contracts cache):
    # have them there first, so the figure is the run's own.
    from hypothesis.internal.charmap import charmap

    charmap()
    result = subprocess.run([sys.executable, "-c", PEAK, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "CONTRACT_TOKEN": TOKEN}, check=False)  # fmt: skip
    kilobytes = int(result.stdout.rsplit("VmHWM ", 1)[1].split()[0])
    return result, kilobytes / 1024


HOSTILE = range(5, 31)  # the requests answered with a huge body: after the snapshot, well before the restore


def _huge_body_app(api: ReferenceChatAPI) -> Starlette:
    """The reference mock, but from request 5 to 30 every 2xx is huge: by turns a gzip bomb (some 10 KB on the
    wire, 11 MB inflated) and a 200 MB JSON body, streamed (the server itself stays small)."""
    from chat_contracts.reference.faults import _bomb

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = api.handle(MockRequest(request.method, request.url.path.removeprefix("/api/v1"), headers, body))
        status, out_headers, content = answer.encoded()
        if status >= 300 or api.requests not in HOSTILE:
            return Response(content, status_code=status, headers=out_headers)
        if api.requests % 2:
            return Response(_bomb(), status_code=status, headers={"content-type": "application/json",
                                                                   "content-encoding": "gzip"})  # fmt: skip

        async def stream() -> Any:
            yield content[:-1] + b', "padding": "'
            for _ in range(200):
                yield b"x" * (1024 * 1024)
            yield b'"}'

        return StreamingResponse(stream(), status_code=status, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["PATCH", "GET"])])


def test_gzip_bombs_and_200_mb_bodies_are_findings_in_bounded_memory_and_the_chat_is_restored(tmp_path: Path) -> None:
    api = whop()
    with _serve(api, _huge_body_app(api)) as base_url:
        result, peak = _peak_rss_of_child(live_args(base_url), tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "response_size: the 200 body is larger than 10,485,760 bytes" in result.stdout
    assert f"whop chat {CHAT} restored" in result.stdout
    assert as_found(api)
    print(f"gzip bombs and 200 MB bodies: peak RSS of the run {peak:.0f} MB")
    assert peak < 300


class _Trickle:
    """A loopback server that answers one byte a second, forever (bounded by the test's own clock)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n" + b"{" * 120:
                if self.stop.wait(1.0):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return


def test_a_provider_that_trickles_is_cut_at_the_timeout(pytester: pytest.Pytester) -> None:
    trickle = _Trickle()
    try:
        start = time.monotonic()
        result = pytester.runpytest_inprocess(*live_args(trickle.base_url, "--contract-timeout", "1"))
        elapsed = time.monotonic() - start
    finally:
        trickle.stop.set()
        trickle.sock.close()
    assert result.ret == 4
    assert "no complete answer within 1 s" in result.stdout.str()
    assert elapsed < 6  # one request, ended at its deadline (1 s), plus pytest's own start


class _serve:
    """The mock on 127.0.0.1, or a hostile app around it."""

    def __init__(self, api: ReferenceChatAPI, app: Starlette | None) -> None:
        self.api, self.app = api, app

    def __enter__(self) -> str:
        if self.app is None:
            self.context: Any = serving(self.api)
            return self.context.__enter__()
        self.sock = bind("127.0.0.1", 0)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1"

    def __exit__(self, *exc: object) -> None:
        if self.app is None:
            self.context.__exit__(None, None, None)
            return
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()
