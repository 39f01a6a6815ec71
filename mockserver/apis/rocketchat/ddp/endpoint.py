"""The realtime endpoint of the Rocket.Chat API: ``/websocket`` (DDP), mixed into the REST module.

``RealtimeApi`` is a mixin of :class:`mockserver.apis.rocketchat.api.RocketChatApi`: it serves
the socket (``@serves_socket("rest", "/websocket")``), owns a :class:`Realtime` per API
instance (the open sessions and the event feed) and closes every session when a reset or seed
retires the instance (close code 1012; clients reconnect and log in again on the new world).

The REST handlers record their changes with one call each (``self.realtime.message(doc)``,
``self.realtime.deleted(rid, id)``); DDP methods do the same, so both transports feed one log.
"""

from __future__ import annotations

from typing import cast

from mockserver.apis.rocketchat.ddp.host import RestSide
from mockserver.apis.rocketchat.ddp.realtime import Realtime
from mockserver.apis.rocketchat.ddp.session import Session
from mockserver.core.apibase import serves_socket
from mockserver.core.call import Socket
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store


class RealtimeApi:
    """The mixin: ``/websocket`` on the API's REST server, and the sessions' lifecycle."""

    realtime: Realtime

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)  # type: ignore[call-arg]
        self.realtime = Realtime(cast(RestSide, self))

    @serves_socket("rest", "/websocket")
    async def websocket(self, socket: Socket) -> None:
        await Session(self.realtime, socket).run()

    def retire(self, successor: object) -> None:
        self.realtime.retire()
        super().retire(successor)  # type: ignore[misc]
