"""The two ways into a mock: in-process for httpx through respx, and over HTTP on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import respx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chat_contracts.core.errors import ChatContractsError
from chat_contracts.core.registry import Provider
from chat_contracts.reference.mock import MockRequest, MockResponse

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Handler(Protocol):
    """What can stand in for a provider: the reference mock, a faulty one, the consumer side's ContractMock."""

    provider: Provider

    def handle(self, request: MockRequest) -> MockResponse: ...


def _relative(path: str, prefix: str) -> str | None:
    """`path` below the API prefix, or None when it is outside the API."""
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return None
    return path[len(prefix) :] or "/"


def _dispatch(
    api: Handler, prefix: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    relative = _relative(path, prefix)
    if relative is None:
        return MockResponse(404, {"error": "not under the API prefix " + prefix}).encoded()
    return api.handle(MockRequest(method, relative, headers, body)).encoded()


# --- in-process: respx -----------------------------------------------------------------------------


class _Chunks(httpx.SyncByteStream):
    """A body handed over in chunks, as a socket would: clients read it raw, still encoded, bounded by their
    own rules (respx reads an `httpx.ByteStream` whole before the client sees it; this it leaves alone)."""

    def __init__(self, body: bytes, size: int = 64 * 1024) -> None:
        self._body, self._size = body, size

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._body), self._size):
            yield self._body[start : start + self._size]


def _answerer(api: Handler, base_url: str) -> Callable[[httpx.Request], httpx.Response]:
    """An httpx request handler that asks `api` (the API's paths are relative to `base_url`)."""
    prefix = urlsplit(base_url).path.rstrip("/")

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {k.decode().lower(): v.decode() for k, v in request.headers.raw}
        status, out_headers, body = _dispatch(api, prefix, request.method, request.url.path, headers, request.read())
        headers = out_headers | {"content-length": str(len(body))}
        return httpx.Response(status, headers=headers, stream=_Chunks(body))

    return answer


def mount(router: respx.MockRouter, api: Handler, base_url: str) -> respx.Route:
    """Route every httpx request under `base_url` to `api`, in-process (respx patches every httpx client)."""
    return router.route(url__startswith=base_url.rstrip("/")).mock(side_effect=_answerer(api, base_url))


def mock_transport(api: Handler, base_url: str) -> httpx.MockTransport:
    """An httpx transport that answers from `api`, for one client: no global patching, no routing to pay for."""
    answer = _answerer(api, base_url)
    outside = base_url.rstrip("/")

    def handle(request: httpx.Request) -> httpx.Response:
        if not str(request.url).startswith(outside):  # never sent anywhere: as if no one were there
            raise httpx.ConnectError(f"{request.url} is not under {outside}", request=request)
        return answer(request)

    return httpx.MockTransport(handle)


def mock_client(api: Handler, base_url: str) -> httpx.Client:
    """An httpx client whose requests under `base_url` go to `api`."""
    return httpx.Client(transport=mock_transport(api, base_url))


# --- over HTTP: Starlette + uvicorn ----------------------------------------------------------------


def asgi_app(api: Handler, prefix: str) -> Starlette:
    prefix = prefix.rstrip("/")

    async def endpoint(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, out_headers, body = _dispatch(
            api, prefix, request.method, request.url.path, headers, await request.body()
        )
        return Response(body, status_code=status, headers=out_headers)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


class PortInUseError(ChatContractsError):
    """The address to serve on is taken (or cannot be bound)."""


def bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not 0: asyncio only turns Nagle off (TCP_NODELAY) on sockets that say they are
    # TCP, and with Nagle on every response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def base_url_of(sock: socket.socket, prefix: str) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}{prefix.rstrip('/')}"


def server_for(api: Handler, prefix: str) -> uvicorn.Server:
    config = uvicorn.Config(asgi_app(api, prefix), log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config)


@contextlib.contextmanager
def serving(api: Handler, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `api` over HTTP in a background thread; yields its base URL (API prefix included)."""
    prefix = urlsplit(api.provider.server).path
    sock = bind(host, port)
    server = server_for(api, prefix)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):  # up to 5 s for the server to come up
            if server.started:
                break
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("the mock server did not start within 5 s")
        yield base_url_of(sock, prefix)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
