"""What a handler receives (:class:`Call`) and returns (a reply), and the contract an API
module fulfils (:class:`ApiModule`). No API word here."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from starlette.types import Receive, Send

from mockserver.core.registry import ANY_CODE, AnyCode, Endpoint, ErrorCode, Registry

T = TypeVar("T")
P = TypeVar("P")


class ClientGone(Exception):
    """The client of a long poll disconnected; nothing is sent."""


async def wait_for_disconnect(receive: Receive) -> None:
    """Returns when the client goes away (call it after the request body has been read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class Problem(enum.Enum):
    """Failures the core detects before a handler runs; each API answers them in its shape."""

    NOT_FOUND = "not_found"  # no such route
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BAD_REQUEST = "bad_request"  # malformed body, wrong types, missing or repeated parameters
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    TOO_MANY_REQUESTS = "too_many_requests"
    INTERNAL = "internal"  # a handler failed, or (strict mode) the mock's own response broke its schema

    @property
    def http_status(self) -> int:
        """The conventional HTTP status of this problem (an API may answer otherwise: Lingr's 200)."""
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    Problem.NOT_FOUND: 404,
    Problem.METHOD_NOT_ALLOWED: 405,
    Problem.BAD_REQUEST: 400,
    Problem.UNAUTHORIZED: 401,
    Problem.TOO_LARGE: 413,
    Problem.TOO_MANY_REQUESTS: 429,
    Problem.INTERNAL: 500,
}


@dataclass
class JsonReply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # default: the API's


@dataclass
class BinaryReply:
    status: int
    content: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    chunks: AsyncIterator[bytes]
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Reply = JsonReply | BinaryReply | StreamReply


class ApiError(Exception):
    """Raised anywhere in a handler to answer with ``reply`` at once."""

    def __init__(self, reply: JsonReply) -> None:
        super().__init__(reply.status)
        self.reply = reply


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Call:
    """One matched request, parsed: the handler's whole view of it."""

    endpoint: Endpoint
    method: str
    path_params: dict[str, str]
    params: dict[str, Any]
    headers: Mapping[str, str]
    query: Mapping[str, str]
    files: dict[str, Upload]
    base_url: str  # where this API is served, e.g. http://127.0.0.1:8000/bocco
    principal: object = None  # who is calling, set by the API's authenticate(); read it with principal_as
    credential: str = ""  # the secret that authenticated this call (token, session id)
    disconnected: Callable[[], Awaitable[None]] | None = None
    client: str = ""  # the client's address as the server saw it ("" when unknown)

    def principal_as(self, kind: type[P]) -> P:
        """The authenticated principal, of the API's own type (its user, its session)."""
        found = self.principal
        if not isinstance(found, kind):  # a handler of a protected endpoint always has one
            raise TypeError(f"{self.endpoint.id}: no authenticated {kind.__name__} on this call")
        return found

    async def hold(self, waiting: Awaitable[T]) -> T:
        """Await a long-poll wait; raises :class:`ClientGone` as soon as the client disconnects.

        The wait runs in the request's own task; one watcher task cancels it on disconnect
        (no second task and no ``asyncio.wait`` per held request)."""
        if self.disconnected is None:
            return await waiting
        task = asyncio.current_task()
        assert task is not None
        state = {"gone": False, "finished": False}

        def on_disconnect(watcher: asyncio.Future[None]) -> None:
            if watcher.cancelled() or watcher.exception() is not None or state["finished"]:
                return
            state["gone"] = True
            task.cancel()

        watcher = asyncio.ensure_future(self.disconnected())
        watcher.add_done_callback(on_disconnect)
        try:
            return await waiting
        except asyncio.CancelledError:
            if state["gone"]:
                task.uncancel()
                raise ClientGone from None
            raise
        finally:
            state["finished"] = True
            watcher.remove_done_callback(on_disconnect)
            watcher.cancel()


Handler = Callable[[Call], Awaitable[Reply]]


class Socket:
    """One accepted WebSocket, as a socket handler sees it (``@serves_socket``): whole text or
    binary frames in, frames out, a close; nothing here raises when the client has gone.

    :meth:`receive` returns the next frame (``str`` for a text frame, ``bytes`` for a binary
    one) or None once the connection is over: the client closed it or vanished, or sent a
    frame longer than ``limit`` (characters or bytes; the socket is then closed with 1009,
    "message too big"). :meth:`send` returns False instead of raising when the frame could
    not be sent. The runner (:mod:`mockserver.core.sockets`) accepts the socket before the
    handler runs and closes it after."""

    __slots__ = ("_receive", "_send", "client", "close_code", "closed", "headers", "limit", "path", "query")

    def __init__(self, receive: Receive, send: Send, *, path: str, query: str, headers: Mapping[str, str], client: str, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.path = path  # within the API's server (its prefix removed)
        self.query = query  # the raw query string
        self.headers = headers  # lower-case names
        self.client = client  # the client's address ("" when unknown)
        self.limit = limit  # the longest frame accepted
        self.closed = False  # no frame is sent or received any more
        self.close_code: int | None = None  # the code this side closed with (None: the client went first)

    async def receive(self) -> str | bytes | None:
        """The next frame, or None when the connection is over (see the class)."""
        while not self.closed:
            try:
                message = await self._receive()
            except (OSError, RuntimeError):  # the transport is gone
                self.closed = True
                return None
            kind = message.get("type")
            if kind == "websocket.disconnect":
                self.closed = True
                return None
            if kind != "websocket.receive":
                continue
            frame = message.get("text")
            if frame is None:
                frame = message.get("bytes")
            if not isinstance(frame, str | bytes):
                continue
            if len(frame) > self.limit:
                await self.close(1009, "message too big")
                return None
            return frame
        return None

    async def send(self, frame: str | bytes) -> bool:
        """Send one frame; False (and the socket counts as closed) when the client has gone."""
        if self.closed:
            return False
        message = {"type": "websocket.send", "text": frame} if isinstance(frame, str) else {"type": "websocket.send", "bytes": frame}
        try:
            await self._send(message)
        except (OSError, RuntimeError):  # uvicorn's ClientDisconnected is an OSError; a send after close a RuntimeError
            self.closed = True
            return False
        return True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` (once; a gone client is not an error)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        with contextlib.suppress(OSError, RuntimeError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})


SocketHandler = Callable[[Socket], Awaitable[None]]


class ViolationSink:
    """Where an API module reports a strict-mode finding the dispatcher does not see (a frame
    it sent on a WebSocket): the app's list, read by ``GET /__chatmock/violations`` and emptied
    by a reset, in the dispatcher's shape (``endpoint``, ``status``, ``violations``) plus the
    module's own keys (e.g. ``pointer``: the JSON pointer of the offending value).
    :class:`mockserver.mock.ChatMock` hands one to each module (``module.violation_sink``); the
    default keeps nothing (a module built outside an app)."""

    __slots__ = ("found",)

    def __init__(self, found: list[dict[str, Any]] | None = None) -> None:
        self.found = found

    def report(self, endpoint: str, violations: list[str], status: int | None = None, **details: str) -> None:
        """One finding: ``endpoint`` names what broke its schema (an endpoint id, or a realtime
        name such as ``rocketchat.ddp.method.sendMessage``); ``violations`` are safe lines."""
        if self.found is not None:
            self.found.append({"endpoint": endpoint, "status": status, "violations": violations, **details})


class ApiModule(Protocol):
    """What one API (``mockserver.apis.<name>``) provides to the app: every hook the dispatcher
    and the admin API call. :class:`mockserver.core.apibase.BaseApi` implements the plumbing;
    an API implements the hooks marked *API* below.

    How a request becomes this API's reply, in the dispatcher's order:

    1. no route: ``error(Problem.NOT_FOUND)``; a route without this method:
       ``error(Problem.METHOD_NOT_ALLOWED)`` (the dispatcher adds ``Allow``); an unreadable or
       too large body: ``error(Problem.BAD_REQUEST / TOO_LARGE)``;
    2. ``authenticate(call)``;
    3. ``Prefer: code=N`` / ``error=CODE``: ``documented(endpoint, status, code)``;
    4. parameters that break the endpoint's schema, or a ``Prefer`` naming no documented
       response (or a ``code`` that is no three-digit ASCII status):
       ``refine_bad_request(call, message)``, else ``error(Problem.BAD_REQUEST)``;
    5. the handler; an :class:`ApiError` raised anywhere answers its reply; any other exception
       answers ``error(Problem.INTERNAL)`` (logged, never a stack trace in the body);
    6. ``decorate(call, reply)`` on every JSON reply; a reply that cannot be encoded answers
       ``error(Problem.INTERNAL)`` too.

    A body that does not arrive within ``Settings.read_timeout`` answers
    ``error_for_status(408, None)`` (and the connection closes). A reset or seed loads fresh
    instances and swaps them in; the replaced one gets ``retire(successor)``.

    A WebSocket (``mockserver.core.sockets``) is routed by the same Host and prefix rules to
    ``sockets[(server, path)]``, which receives an accepted :class:`Socket` and owns it until
    it returns (then the socket is closed); no other hook runs for it. ``retire`` must end the
    connections the replaced instance still serves.
    """

    name: str
    handlers: Mapping[str, Handler]  # endpoint id -> handler, one for every endpoint of the API
    # (server name, path within that server) -> the WebSocket handler there (``@serves_socket``);
    # a WebSocket to any other path is refused before it is accepted (mockserver.core.sockets)
    sockets: Mapping[tuple[str, str], SocketHandler]
    # where strict-mode findings outside the dispatcher go (set by ChatMock; see ViolationSink)
    violation_sink: ViolationSink

    # shaping errors ----------------------------------------------------------------------
    def error(self, problem: Problem, message: str) -> JsonReply:
        """*API*: this API's error body and status for a problem the core detected (unknown
        route, wrong method, bad request, too large, failed handler)."""
        ...

    def refine_bad_request(self, call: Call, message: str) -> JsonReply | None:
        """*API, optional*: a matched call's bad request as the endpoint documents it (e.g. a
        missing room id as that endpoint's documented 400), or None for ``error(BAD_REQUEST)``."""
        ...

    def documented(self, endpoint: Endpoint, status: int, code: ErrorCode | AnyCode = ANY_CODE) -> JsonReply:
        """The endpoint's documented error case (its documented body), else ``error_for_status``."""
        ...

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        """*API*: a body of this API's error shape for a status (and code) with no documented body."""
        ...

    # requests ------------------------------------------------------------------------------
    async def authenticate(self, call: Call) -> None:
        """*API*: set ``call.principal`` (and ``call.credential``) or raise :class:`ApiError`."""
        ...

    def decorate(self, call: Call | None, reply: JsonReply) -> None:
        """*API, optional*: add per-API headers (e.g. rate-limit headers) to a JSON reply."""
        ...

    # the world -----------------------------------------------------------------------------
    def reset(self, world: Mapping[str, Any] | None) -> None:
        """Empty this API's state and load ``world`` (its part of a seed), or the default world."""
        ...

    def world_document(self) -> Mapping[str, Any]:
        """The world document in force: the default world or the seed part last loaded."""
        ...

    def retire(self, successor: ApiModule) -> None:
        """A reset or seed replaced this instance by ``successor`` (loaded in a scratch copy,
        then swapped in): end this instance's held requests, as a reset of it would."""
        ...

    def credentials(self) -> dict[str, dict[str, str]]:
        """*API*: user name -> that user's credentials in the world in force, keyed by the
        API's own parameter names (credentials the world does not give are left out)."""
        ...

    def secrets(self) -> list[str]:
        """*API*: every credential this API currently knows (for redaction checks)."""
        ...

    # documents -------------------------------------------------------------------------------
    def asyncapi_document(self, registry: Registry, base_url: str, root: bool) -> dict[str, Any] | None:
        """*API, optional*: the AsyncAPI 3.0 document of this API's WebSocket protocol, served
        at ``base_url`` (``root``: one API served alone, prefixes dropped), or None when it has
        none (``/__chatmock/asyncapi/<api>.json`` then answers 404). A class method in
        :class:`mockserver.core.apibase.BaseApi`, so the CLI asks the class."""
        ...
