"""What the realtime API uses of the Rocket.Chat REST module (one world, both transports).

The DDP package never imports ``mockserver.apis.rocketchat.api`` (that module mixes the
realtime endpoint in): it sees the API through this protocol, so a DDP method changes the world
through the very helpers the REST handlers use (message documents, storing, joining, DMs,
subscriptions) and its change reaches REST readers and DDP subscribers alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mockserver.apis.rocketchat.world import Room, Stored, User, World
from mockserver.core.call import ViolationSink
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store


class RestSide(Protocol):
    name: str
    world: World
    hub: Hub
    store: Store
    settings: Settings
    registry: Registry
    idle: float | None
    violation_sink: ViolationSink

    def _new_message(self, room: Room, user: User, fields: Mapping[str, Any]) -> dict[str, Any]: ...

    def _check_message(self, doc: dict[str, Any]) -> None: ...

    def _store(self, room: Room, doc: dict[str, Any]) -> Stored: ...

    def _join(self, room: Room, user: User) -> bool: ...

    def _direct_room(self, user: User, other: User) -> Room: ...

    def _subscription(self, room: Room, user: User) -> dict[str, Any]: ...
