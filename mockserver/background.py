"""Run an ASGI app under uvicorn on a free loopback port, in a background thread; and the
socket rules every chatmock server follows.

:class:`BackgroundServer` is used by tests that need a real socket (streams, disconnects, the
HTTP target) and by the pytest plugin. The server is started and stopped by the caller;
nothing leaks.

The rules (``chatmock serve``, ``proxy`` and ``record`` follow them too):

- :func:`bind` binds the listening socket *before* anything says the port is served, and says
  in one line why it cannot (``port 8000 is already in use on 127.0.0.1``).
- :func:`uvicorn_config` bounds the request head (request line and headers) to
  :data:`HEADER_LIMIT` bytes. uvicorn offers a limit only for its h11 implementation
  (``h11_max_incomplete_event_size``); with httptools (what ``uvicorn[standard]`` installs and
  uvicorn then prefers) it has none, so :func:`head_limited_httptools` counts the bytes that
  arrive before the head is complete and answers ``431`` past the limit.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import importlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn

LOOPBACK = ("127.0.0.1", "localhost", "::1")
HEADER_LIMIT = 64 * 1024  # bytes of one request line + headers (nginx: 32 KiB, Node: 16 KiB)
HEAD_TIMEOUT = 30.0  # seconds a client may take to send a request line and headers
BACKLOG = 2048  # uvicorn's default
WS_MAX_SIZE = 16 * 1024 * 1024  # uvicorn's default longest WebSocket message


class BindError(OSError):
    """A port that cannot be served; the message is one line for the user."""


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, bound as uvicorn binds (``SO_REUSEADDR``), to
    hand to ``uvicorn.Server.serve(sockets=...)``; :class:`BindError` says why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise BindError(f"cannot bind {host!r}: {getattr(error, 'strerror', None) or error}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise BindError(f"port {port} is already in use on {host}") from None
        raise BindError(f"cannot bind {host}:{port}: {error.strerror or error}") from None
    return sock


def check_bindable(host: str, port: int) -> None:
    """Raise :class:`BindError` now if ``host:port`` cannot be served (for servers that bind later)."""
    bind(host, port).close()


# the request-head limit ----------------------------------------------------------------------
_TOO_LARGE = b"request line and headers are over the limit of this server\n"


def head_size(seen: int, tail: bytes, data: bytes) -> tuple[int, bool]:
    """The size of a request head so far, ``seen`` bytes of it (ending in ``tail``) before
    ``data``, and whether ``data`` completes it (a blank line, CRLF or lenient LF)."""
    window = tail + data
    ends = [found + len(blank) for blank in (b"\r\n\r\n", b"\n\n") if (found := window.find(blank)) >= 0]
    return seen - len(tail) + (min(ends) if ends else len(window)), bool(ends)


@functools.cache
def head_limited_httptools(limit: int, timeout: float = HEAD_TIMEOUT) -> type[asyncio.Protocol] | None:
    """uvicorn's httptools protocol answering 431 when a request head (request line and
    headers, up to the blank line) is over ``limit`` bytes, and closing a connection whose
    head takes longer than ``timeout`` seconds to arrive (uvicorn times out neither); None
    without httptools. The head is measured before it reaches the parser, so an oversized one
    is never parsed; a body is never counted, and only reads that arrive while a head is
    incomplete are looked at. A head that arrives whole in one read (the usual case) costs one
    search and no timer; one that arrives in pieces gets a deadline timer (so does a new
    connection until its first head); none while a response is written."""
    try:
        base: type[Any] = importlib.import_module("uvicorn.protocols.http.httptools_impl").HttpToolsProtocol
    except (ImportError, AttributeError):
        return None

    class HeadLimitedHttpToolsProtocol(base):
        """Adds one Python call per read and nothing per request: whether a read belongs to a
        request head is read off uvicorn's own request cycle, not tracked by more callbacks."""

        head_limit = limit

        head_timeout = timeout

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_bytes = 0  # bytes of the head arriving in pieces (0: none is)
            self._tail = b""
            self._head_deadline: asyncio.TimerHandle | None = None
            self._timed_cycle: Any = None  # the request cycle in force when the deadline was set

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._start_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None
            super().connection_lost(exc)

        def _in_head(self) -> bool:
            """No request body is being read: what arrives now is (part of) a request head."""
            cycle = self.cycle
            return cycle is None or not cycle.more_body or cycle.response_complete

        def _start_head_deadline(self) -> None:
            if self._head_deadline is None and self.head_timeout > 0:
                self._timed_cycle = self.cycle
                self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self.cycle is self._timed_cycle and self._in_head():
                self.transport.close()  # no request head completed within the deadline: a slow or idle client
            elif self._head_bytes:
                self._start_head_deadline()  # a later head is arriving in pieces: its own deadline

        def data_received(self, data: bytes) -> None:
            # the common case skips this: a whole head, within the limit, in one read
            if (self._head_bytes or len(data) > self.head_limit or b"\r\n\r\n" not in data) and self._in_head():
                size, complete = head_size(self._head_bytes, self._tail, data)
                if size > self.head_limit:
                    self._refuse()
                    return
                if complete:
                    self._head_bytes, self._tail = 0, b""
                else:
                    self._head_bytes, self._tail = size, (self._tail + data)[-3:]
                    self._start_head_deadline()  # the head is arriving in pieces: it has a deadline
            super().data_received(data)

        def _refuse(self) -> None:
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TOO_LARGE), _TOO_LARGE)
            )
            self.transport.close()

    return HeadLimitedHttpToolsProtocol


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    *,
    header_limit: int = HEADER_LIMIT,
    head_timeout: float = HEAD_TIMEOUT,
    lifespan: Literal["auto", "on", "off"] = "off",
    frame_limit: int | None = None,
) -> uvicorn.Config:
    """uvicorn's config for a chatmock server: quiet (no access log: ``chatmock serve --log``
    prints its own lines), request heads bounded to ``header_limit`` bytes with httptools or h11.
    ``frame_limit`` (the app's ``body_limit``): the longest WebSocket frame the mock accepts, in
    characters; uvicorn stops reading a frame past four times that many bytes (the most UTF-8
    needs for it), so a hostile frame is not read whole up to uvicorn's 16 MiB first."""
    protocol = head_limited_httptools(header_limit, head_timeout)
    http: Any = protocol if protocol is not None else "h11"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        h11_max_incomplete_event_size=header_limit,
        ws_max_size=4 * frame_limit if frame_limit else WS_MAX_SIZE,
        log_level="warning",
        access_log=False,
        lifespan=lifespan,
    )


# a server in a thread --------------------------------------------------------------------------
class BackgroundServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(uvicorn_config(app, host, self.port))
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.run, name=f"chatmock-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return origin(self.host, self.port)

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int | None = None) -> Iterator[BackgroundServer]:
    server = BackgroundServer(app, host, port).start()
    try:
        yield server
    finally:
        server.stop()
