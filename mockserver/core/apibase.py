"""A small base for API modules: handler registration by endpoint id and common wiring.

An API module subclasses :class:`BaseApi`, marks one async method per endpoint with
``@handles("<endpoint id>")`` and implements the error, auth and world hooks of
:class:`mockserver.core.call.ApiModule`. Creation fails loudly when an endpoint of the
schemas has no handler or a handler names an unknown endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mockserver.core.call import Call, Handler, JsonReply
from mockserver.core.dispatch import Settings
from mockserver.core.hub import Hub
from mockserver.core.registry import Endpoint, Registry, thaw
from mockserver.core.store import Store

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__chatmock_endpoint__"


def handles(endpoint_id: str) -> Callable[[F], F]:
    def mark(function: F) -> F:
        setattr(function, _MARK, endpoint_id)
        return function

    return mark


class BaseApi:
    name = ""

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        self.registry = registry
        self.api = registry.api(self.name)
        self.store = store
        self.state = store.namespace(self.name)
        self.hub = hub
        self.settings = settings
        self.handlers: Mapping[str, Handler] = self._collect()

    def _collect(self) -> dict[str, Handler]:
        found: dict[str, Handler] = {}
        for attribute in dir(type(self)):
            function = getattr(type(self), attribute, None)
            endpoint_id = getattr(function, _MARK, None)
            if endpoint_id is None:
                continue
            self.registry.endpoint(endpoint_id)  # raises for an unknown id
            found[endpoint_id] = getattr(self, attribute)
        missing = sorted(endpoint.id for endpoint in self.registry.endpoints_of(self.name) if endpoint.id not in found)
        if missing:
            raise RuntimeError(f"{type(self).__name__} has no handler for {', '.join(missing)}")
        return found

    # defaults of the ApiModule hooks ------------------------------------------------
    def decorate(self, call: Call | None, reply: JsonReply) -> None:
        return None

    def documented_error(self, endpoint: Endpoint, status: int, code: str | int | None) -> JsonReply:
        """The documented body of that error case when there is one."""
        for case in endpoint.errors:
            if case.status == status and (code is None or case.code == code) and case.body is not None:
                return JsonReply(status, thaw(case.body))
        return self.error_for_status(status, code)

    def error_for_status(self, status: int, code: str | int | None) -> JsonReply:
        raise NotImplementedError
