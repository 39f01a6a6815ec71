"""The base of every API: handler registration by endpoint id, the world lifecycle, and the
documented-error lookup, so each API writes only what is its own.

An API subclasses :class:`BaseApi`, marks one async method per endpoint with
``@handles("<endpoint id>")`` (and each WebSocket endpoint with
``@serves_socket("<server name>", "<path>")``) and implements the abstract hooks (its error shapes,
``authenticate``, ``load_world``, ``credentials``, ``secrets``). Creation fails loudly when a hook
is missing, an endpoint of the schemas has no handler, or a handler names an unknown endpoint.
"""

from __future__ import annotations

import abc
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from mockserver.core.call import Call, Handler, JsonReply, Problem, SocketHandler, ViolationSink
from mockserver.core.hub import Hub
from mockserver.core.registry import ANY_CODE, AnyCode, Endpoint, ErrorCode, Registry, thaw
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials, read_world_file

F = TypeVar("F", bound=Callable[..., Any])
W = TypeVar("W")  # the API's state: what load_world builds from a world document
_ENDPOINT_MARK = "__chatmock_endpoint__"
_SOCKET_MARK = "__chatmock_socket__"


def handles(endpoint_id: str) -> Callable[[F], F]:
    """Mark a method as the handler of an endpoint (checked when the API is created)."""

    def mark(function: F) -> F:
        setattr(function, _ENDPOINT_MARK, endpoint_id)
        return function

    return mark


def handled_endpoint(function: object) -> str | None:
    """The endpoint id ``@handles`` marked ``function`` with, if any."""
    endpoint_id = getattr(function, _ENDPOINT_MARK, None)
    return endpoint_id if isinstance(endpoint_id, str) else None


def serves_socket(server: str, path: str) -> Callable[[F], F]:
    """Mark a method ``async def m(self, socket: Socket) -> None`` as the WebSocket handler at
    ``path`` of this API's server named ``server`` (``rest``, ``stream``: the names in its
    ``_api.json``), e.g. ``@serves_socket("rest", "/websocket")``; checked when the API is created."""

    def mark(function: F) -> F:
        setattr(function, _SOCKET_MARK, (server, path))
        return function

    return mark


def served_socket(function: object) -> tuple[str, str] | None:
    """The (server, path) ``@serves_socket`` marked ``function`` with, if any."""
    found = getattr(function, _SOCKET_MARK, None)
    if isinstance(found, tuple) and len(found) == 2 and all(isinstance(part, str) for part in found):
        return found[0], found[1]
    return None


class BaseApi(abc.ABC, Generic[W]):
    """Implements :class:`mockserver.core.call.ApiModule` but for the hooks only an API knows."""

    name = ""  # the API's name: its schemas directory and its part of a seed
    world_file: ClassVar[Path]  # the default world document (world.json beside the API)
    world: W  # the state loaded by the last reset (a plain attribute: handlers read it often)
    violation_sink: ViolationSink = ViolationSink()  # ChatMock hands each instance the app's

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        self.registry = registry
        self.api = registry.api(self.name)
        self.store = store
        self.state = store.namespace(self.name)
        self.hub = hub
        self.settings = settings
        self.handlers: Mapping[str, Handler] = self._collect()
        self.sockets: Mapping[tuple[str, str], SocketHandler] = self._collect_sockets()
        self._loaded: W | None = None  # the world in force, once one is
        self._document: Mapping[str, Any] = {}

    def _collect(self) -> dict[str, Handler]:
        found: dict[str, Handler] = {}
        for attribute in dir(type(self)):
            endpoint_id = handled_endpoint(getattr(type(self), attribute, None))
            if endpoint_id is None:
                continue
            endpoint = self.registry.endpoint(endpoint_id)  # raises for an unknown id
            if endpoint.api != self.name:
                raise RuntimeError(f"{type(self).__name__}.{attribute} handles {endpoint_id}, an endpoint of another API")
            if endpoint_id in found:
                raise RuntimeError(f"{type(self).__name__} has two handlers for {endpoint_id}")
            found[endpoint_id] = getattr(self, attribute)
        missing = sorted(endpoint.id for endpoint in self.registry.endpoints_of(self.name) if endpoint.id not in found)
        if missing:
            raise RuntimeError(
                f"{type(self).__name__} has no handler for {', '.join(missing)}: add a @handles method in {_source_of(type(self))}"
            )
        return found

    def _collect_sockets(self) -> dict[tuple[str, str], SocketHandler]:
        found: dict[tuple[str, str], SocketHandler] = {}
        servers = {server.name for server in self.api.servers}
        for attribute in dir(type(self)):
            place = served_socket(getattr(type(self), attribute, None))
            if place is None:
                continue
            server, path = place
            where = f"{type(self).__name__}.{attribute}"
            if server not in servers:
                raise RuntimeError(f"{where} serves a socket on server {server!r}; {self.name} has {', '.join(sorted(servers))}")
            if not path.startswith("/"):
                raise RuntimeError(f"{where} serves a socket at {path!r}: a path starts with /")
            if place in found:
                raise RuntimeError(f"{type(self).__name__} has two socket handlers for {server} {path}")
            found[place] = getattr(self, attribute)
        return found

    # the world ---------------------------------------------------------------------------
    def default_world(self) -> dict[str, Any]:
        """The default world document (a fresh copy)."""
        return read_world_file(self.world_file)

    def reset(self, world: Mapping[str, Any] | None) -> None:
        """Empty this API's namespace, load ``world`` (or the default world) through
        :meth:`load_world`, then tell :meth:`world_replaced` what was there before."""
        document = self.default_world() if world is None else world
        previous = self._loaded
        self.state.clear()
        self.world = self._loaded = self.load_world(document)
        self._document = document
        self.world_replaced(previous)

    @abc.abstractmethod
    def load_world(self, spec: Mapping[str, Any]) -> W:
        """This API's state built from a world document; ``ValueError`` when it is malformed."""

    def world_replaced(self, previous: W | None) -> None:
        """After a reset: e.g. wake the requests held on the previous world."""
        return None

    def retire(self, successor: object) -> None:
        """This instance was replaced by ``successor`` (``ChatMock`` loads every world into fresh
        instances, then swaps them in). Its held requests still run its code: they now see the
        world in force, as after a reset of this instance, and :meth:`world_replaced` ends them
        (the hub they wait on is then closed, which ends any it does not)."""
        if not isinstance(successor, BaseApi) or successor._loaded is None:
            return
        previous = self._loaded
        self.world = self._loaded = successor._loaded
        self._document = successor._document
        if previous is not None:
            self.world_replaced(previous)

    def world_document(self) -> Mapping[str, Any]:
        return self._document

    @abc.abstractmethod
    def credentials(self) -> Credentials:
        """User name -> credentials in the world in force (see ApiModule.credentials)."""

    @abc.abstractmethod
    def secrets(self) -> list[str]:
        """Every credential this API currently knows."""

    # errors ------------------------------------------------------------------------------
    @abc.abstractmethod
    def error(self, problem: Problem, message: str) -> JsonReply:
        """This API's reply to a problem the core detected."""

    @abc.abstractmethod
    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        """A body of this API's error shape for a status with no documented body."""

    def refine_bad_request(self, call: Call, message: str) -> JsonReply | None:
        return None

    def documented(self, endpoint: Endpoint, status: int, code: ErrorCode | AnyCode = ANY_CODE) -> JsonReply:
        """The documented body of ``endpoint``'s error case with this status and code (``code``
        :data:`ANY_CODE`: the first case of that status; None: the case documented without a
        code). An error case the endpoint does not document answers this API's shape for the
        status and code (:meth:`error_for_status`), never a failure of the mock: strict mode
        then reports a status the endpoint does not document, naming the endpoint."""
        case = endpoint.error_case(status, code)
        if case is not None and case.body is not None:
            return JsonReply(status, thaw(case.body))
        return self.error_for_status(status, None if code is ANY_CODE else code)

    # requests ----------------------------------------------------------------------------
    @abc.abstractmethod
    async def authenticate(self, call: Call) -> None:
        """Set ``call.principal`` (and ``call.credential``) or raise ``ApiError``."""

    def decorate(self, call: Call | None, reply: JsonReply) -> None:
        return None

    # documents ---------------------------------------------------------------------------
    @classmethod
    def asyncapi_document(cls, registry: Registry, base_url: str, root: bool) -> dict[str, Any] | None:
        """The AsyncAPI document of this API's WebSocket protocol; None: it has none."""
        return None


def _source_of(cls: type) -> str:
    """Where ``cls`` is defined, as a path a contributor can open (relative to the checkout)."""
    module = sys.modules.get(cls.__module__)
    found = Path(getattr(module, "__file__", "") or cls.__module__)
    parts = found.parts
    return "/".join(parts[parts.index("mockserver") :]) if "mockserver" in parts else str(found)
