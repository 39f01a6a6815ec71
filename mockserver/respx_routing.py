"""Send httpx requests aimed at the real API hosts into an in-process chatmock app, with respx.

``route_to_mock(router, app)`` adds one respx route (named ``"chatmock"``) that matches every
host the app serves (``api.gitter.im``, ``stream.gitter.im``, ``lingr.com`` on any port,
``api.bocco.me`` and the Rocket.Chat host named with ``rocketchat_host``), on any scheme, and
answers it from the app, which routes by the ``Host`` header. Code under test keeps its
production URLs. Other hosts stay unmocked, so a router with ``assert_all_mocked`` (respx's
default) refuses them, except the ``allow`` hosts, which pass through to the network.

Every routed request, from a sync or an async client and from any thread, runs on one event
loop in a daemon thread, so a held long poll and the post that wakes it meet, and response
bodies stream as the app sends them (a Gitter stream can be read line by line).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload
from urllib.parse import unquote, urlsplit

import httpx
import respx
from respx.patterns import M

from mockserver.core.dispatch import LOOPBACK_HOSTS

ROUTE_NAME = "chatmock"
SCHEME_PORTS = {"http": 80, "https": 443}
R = TypeVar("R", bound=respx.Router)


# the hosts ----------------------------------------------------------------------------
def mock_hosts(app: Any) -> list[str]:
    """The real host names ``app`` answers for: its APIs' real servers (and their aliases) and its named extra hosts."""
    mock = _chatmock_of(app)
    hosts: list[str] = []
    for name in mock.modules:
        for server in mock.registry.api(name).servers:
            for url in (server.url, *server.aliases):
                host = (urlsplit(url).hostname or "").lower()
                if host not in LOOPBACK_HOSTS and host not in hosts:
                    hosts.append(host)
    hosts.extend(host for host in mock.settings.extra_hosts if host not in hosts)
    return hosts


def _chatmock_of(app: Any) -> Any:
    mock = getattr(getattr(app, "state", None), "chatmock", None)
    if mock is None:
        raise TypeError("route_to_mock needs an app made by mockserver.create_app(...)")
    return mock


def _split_host(spec: str) -> tuple[str, int | None]:
    parsed = urlsplit(spec if "//" in spec else f"//{spec}")
    return (parsed.hostname or spec).lower(), parsed.port


# the one call -----------------------------------------------------------------------------
@overload
def route_to_mock(
    router: None = None, app: Any = None, *, rocketchat_host: str | None = None, allow: Iterable[str] = ()
) -> respx.MockRouter: ...
@overload
def route_to_mock(router: R, app: Any = None, *, rocketchat_host: str | None = None, allow: Iterable[str] = ()) -> R: ...
def route_to_mock(
    router: respx.Router | None = None, app: Any = None, *, rocketchat_host: str | None = None, allow: Iterable[str] = ()
) -> respx.Router:
    """Route requests for the real API hosts into ``app`` and return the router.

    ``router``: a respx router to add the routes to (e.g. the ``respx_mock`` fixture); ``None``
    makes a ``respx.MockRouter`` (all requests must match, not all routes be called) that you
    start with ``with``. ``app``: from ``mockserver.create_app``; ``None`` makes one with every
    API. ``rocketchat_host``: the Rocket.Chat workspace host your code calls (a port, if given,
    is ignored: every port of a routed host goes to the mock); an ``app`` you pass must have
    been made with the same ``rocketchat_host``. ``allow``: hosts (``"host"`` or
    ``"host:port"``) whose requests pass through to the real network.
    """
    rc_host = _split_host(rocketchat_host)[0] if rocketchat_host else None
    if app is None:
        from mockserver.app import create_app

        app = create_app(rocketchat_host=rc_host)
    elif rc_host is not None and rc_host not in _chatmock_of(app).settings.extra_hosts:
        raise ValueError(f"this app does not serve Rocket.Chat at {rc_host!r}: make it with create_app(rocketchat_host={rc_host!r})")
    target: respx.Router = router if router is not None else respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    target.route(M(host__in=tuple(mock_hosts(app))), name=ROUTE_NAME).mock(side_effect=_Forwarder(app))
    for spec in allow:
        host, port = _split_host(spec)
        pattern = M(host=host) if port is None else M(host=host, port=port)
        target.route(pattern, name=f"chatmock-allow:{host}:{port or '*'}").pass_through()
    return target


# forwarding --------------------------------------------------------------------------------
class _Forwarder:
    """respx side effect: a Response for a sync client, an awaitable one for an async client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = request.read()
        if _in_async_resolve():
            return self._forward_async(request, body)
        started = BRIDGE.run(_start(self.app, request, body)).result()
        return _response(started)

    async def _forward_async(self, request: httpx.Request, body: bytes) -> httpx.Response:
        started = await asyncio.wrap_future(BRIDGE.run(_start(self.app, request, body)))
        return _response(started)


_ARESOLVE_CODE = getattr(getattr(respx.Router, "aresolve", None), "__code__", None)


def _in_async_resolve() -> bool:
    """Whether respx is resolving this request for an async client (its ``aresolve`` is on the stack)."""
    if _ARESOLVE_CODE is None:  # pragma: no cover - a respx without aresolve: fall back to the loop
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True
    frame = sys._getframe(1)
    for _ in range(16):
        if frame is None:
            return False
        if frame.f_code is _ARESOLVE_CODE:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _response(started: _Started) -> httpx.Response:
    return httpx.Response(started.status, headers=started.headers, stream=_BridgedStream(started))


class _Bridge:
    """One event loop in a daemon thread, started on first use, shared by every routing."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="chatmock-respx", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)


BRIDGE = _Bridge()


@dataclass
class _Started:
    """An exchange running on the bridge loop whose response has started."""

    status: int
    headers: list[tuple[bytes, bytes]]
    messages: asyncio.Queue[MutableMapping[str, Any]]
    gone: asyncio.Event
    task: asyncio.Task[None]
    finished: bool = False

    async def next_chunk(self) -> bytes | None:
        while not self.finished:
            message = await self.messages.get()
            if message["type"] == "http.response.body":
                self.finished = not message.get("more_body", False)
                chunk: bytes = message.get("body", b"")
                if chunk:
                    return chunk
            elif message["type"] == "chatmock.error":
                self.finished = True
                raise message["error"]
            elif message["type"] == "chatmock.done":
                self.finished = True
        return None

    def close(self) -> None:
        self.gone.set()


async def _start(app: Any, request: httpx.Request, body: bytes) -> _Started:
    """Run ``app`` on ``request`` as a task on this loop; return once the response has started."""
    url = request.url
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(key.lower(), value) for key, value in request.headers.raw],
        "scheme": url.scheme,
        "path": unquote(url.path),
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "server": (url.host, url.port or SCHEME_PORTS.get(url.scheme, 80)),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }
    messages: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    gone = asyncio.Event()
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if not gone.is_set():
            messages.put_nowait(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception as error:
            messages.put_nowait({"type": "chatmock.error", "error": error})
        finally:
            messages.put_nowait({"type": "chatmock.done"})

    task = asyncio.get_running_loop().create_task(run())
    message = await messages.get()
    if message["type"] == "chatmock.error":
        raise message["error"]
    if message["type"] != "http.response.start":
        raise RuntimeError(f"the chatmock app ended without a response to {request.method} {url}")
    headers = [(bytes(key), bytes(value)) for key, value in message.get("headers", [])]
    return _Started(message["status"], headers, messages, gone, task)


class _BridgedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body read from the bridge loop as the app sends it; closing it disconnects."""

    def __init__(self, started: _Started) -> None:
        self._started = started

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := BRIDGE.run(self._started.next_chunk()).result()) is not None:
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await asyncio.wrap_future(BRIDGE.run(self._started.next_chunk()))) is not None:
            yield chunk

    def close(self) -> None:
        BRIDGE.loop.call_soon_threadsafe(self._started.close)

    async def aclose(self) -> None:
        self.close()
