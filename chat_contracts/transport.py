"""The two ways into a mock: in-process for httpx through respx, and over HTTP on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import respx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chat_contracts.mock import MockRequest, MockResponse, ReferenceChatAPI

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _relative(path: str, prefix: str) -> str | None:
    """`path` below the API prefix, or None when it is outside the API."""
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return None
    return path[len(prefix) :] or "/"


def _dispatch(api: ReferenceChatAPI, prefix: str, method: str, path: str, headers: dict[str, str], body: bytes):
    relative = _relative(path, prefix)
    if relative is None:
        return MockResponse(404, {"error": "not under the API prefix " + prefix}).encoded()
    return api.handle(MockRequest(method, relative, headers, body)).encoded()


# --- in-process: respx -----------------------------------------------------------------------------


def mount(router: respx.MockRouter, api: ReferenceChatAPI, base_url: str) -> respx.Route:
    """Route every httpx request under `base_url` to `api`, in-process."""
    prefix = urlsplit(base_url).path.rstrip("/")

    def side_effect(request: httpx.Request) -> httpx.Response:
        headers = {k.decode().lower(): v.decode() for k, v in request.headers.raw}
        status, out_headers, body = _dispatch(api, prefix, request.method, request.url.path, headers, request.read())
        return httpx.Response(status, headers=out_headers, content=body)

    return router.route(url__startswith=base_url.rstrip("/")).mock(side_effect=side_effect)


def mock_client(api: ReferenceChatAPI, base_url: str) -> httpx.Client:
    """An httpx client whose requests under `base_url` go to `api`, with no global patching."""
    router = respx.MockRouter(assert_all_called=False)
    mount(router, api, base_url)
    return httpx.Client(transport=httpx.MockTransport(router.handler))


# --- over HTTP: Starlette + uvicorn ----------------------------------------------------------------


def asgi_app(api: ReferenceChatAPI, prefix: str) -> Starlette:
    prefix = prefix.rstrip("/")

    async def endpoint(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, out_headers, body = _dispatch(
            api, prefix, request.method, request.url.path, headers, await request.body()
        )
        return Response(body, status_code=status, headers=out_headers)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


class PortInUseError(OSError):
    pass


def bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not 0: asyncio only turns Nagle off (TCP_NODELAY) on sockets that say they are
    # TCP, and with Nagle on every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def base_url_of(sock: socket.socket, prefix: str) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}{prefix.rstrip('/')}"


def server_for(api: ReferenceChatAPI, prefix: str) -> uvicorn.Server:
    config = uvicorn.Config(asgi_app(api, prefix), log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config)


@contextlib.contextmanager
def serving(api: ReferenceChatAPI, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
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
