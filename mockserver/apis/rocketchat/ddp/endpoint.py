"""The realtime endpoint of the Rocket.Chat API: ``/websocket`` (DDP), mixed into the REST module.

``RealtimeApi`` is a mixin of :class:`mockserver.apis.rocketchat.api.RocketChatApi`: it serves
the socket (``@serves_socket("rest", "/websocket")``), owns a :class:`Realtime` per API
instance (the open sessions and the event feed) and closes every session when a reset or seed
retires the instance (close code 1012; clients reconnect and log in again on the new world).

The REST handlers record their changes with one call each (``self.realtime.message(doc)``,
``self.realtime.deleted(rid, id)``); DDP methods do the same, so both transports feed one log.
"""

from __future__ import annotations

from typing import Any, cast

from mockserver.apis.rocketchat.ddp.asyncapi import asyncapi_document
from mockserver.apis.rocketchat.ddp.host import RestSide
from mockserver.apis.rocketchat.ddp.realtime import Realtime
from mockserver.apis.rocketchat.ddp.schemas import realtime_schemas
from mockserver.apis.rocketchat.ddp.session import Session
from mockserver.core.apibase import serves_socket
from mockserver.core.call import Socket
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store

SERVER, PATH = "rest", "/websocket"  # where the socket is: the REST server's /websocket


class RealtimeApi:
    """The mixin: ``/websocket`` on the API's REST server, the sessions' lifecycle, and the
    realtime API's AsyncAPI document (the ``asyncapi_document`` hook of ``ApiModule``)."""

    realtime: Realtime
    name: str

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)  # type: ignore[call-arg]
        self.realtime = Realtime(cast(RestSide, self))

    @serves_socket(SERVER, PATH)
    async def websocket(self, socket: Socket) -> None:
        await Session(self.realtime, socket).run()

    @classmethod
    def asyncapi_document(cls, registry: Registry, base_url: str, root: bool) -> dict[str, Any] | None:
        """The AsyncAPI 3.0 document of ``/websocket`` (:mod:`.asyncapi`), from the realtime files."""
        api = registry.api(cls.name)
        server = next(server for server in api.servers if server.name == SERVER)
        pathname = server.prefix.removeprefix(api.servers[0].prefix) if root else server.prefix
        return asyncapi_document(realtime_schemas(), registry, title="Rocket.Chat", base_url=base_url, pathname=pathname, address=PATH)

    def retire(self, successor: object) -> None:
        self.realtime.retire()
        super().retire(successor)  # type: ignore[misc]
