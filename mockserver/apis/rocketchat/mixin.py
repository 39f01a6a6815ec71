"""The base of the handler mixins of :class:`~.api.RocketChatApi` (the endpoints added after
``api.py`` grew large live in modules of their own: ``rooms_more``, ``messages_more``,
``directory``, ``admin``, ``hooks``).

A mixin's ``@handles`` methods are collected like the class's own (``BaseApi`` reads
``dir(type(self))``). The helpers they share with ``api.py`` are declared here for the type
checker only; at run time they are :class:`~.api.RocketChatApi`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockserver.apis.rocketchat.world import Room, Stored, User, World
from mockserver.core.apibase import BaseApi
from mockserver.core.call import Call, JsonReply

if TYPE_CHECKING:
    from mockserver.apis.rocketchat.ddp.realtime import Realtime
    from mockserver.apis.rocketchat.errors import Errors
    from mockserver.apis.rocketchat.profile import Profile
    from mockserver.core.guard import FailureLimit


class Handlers(BaseApi[World]):
    if TYPE_CHECKING:
        profile: Profile
        errors: Errors
        realtime: Realtime  # RealtimeApi's: REST changes are recorded for DDP subscribers
        failures: FailureLimit  # failed credential checks per client (settings.auth_failure_limit)

        def _refuse_if_throttled(self, call: Call) -> None: ...

        def _page(self, params: Mapping[str, Any], default: int) -> tuple[int, int]: ...

        @staticmethod
        def _sort(params: Mapping[str, Any]) -> dict[str, Any] | None: ...

        @staticmethod
        def _sorted(items: list[dict[str, Any]], sort: Mapping[str, int]) -> list[dict[str, Any]]: ...

        def _room(self, call: Call, user: User, kind: str) -> Room: ...

        def _room_reply(self, kind: str, room: Room) -> JsonReply: ...

        def _editable(self, call: Call, kind: str) -> Room: ...

        def _messages_reply(self, call: Call, room: Room) -> JsonReply: ...

        def _date(self, params: Mapping[str, Any], name: str) -> int | None: ...

        def _join(self, room: Room, user: User) -> bool: ...

        def _target(self, user: User, target: str) -> Room | None: ...

        def _new_message(self, room: Room, user: User, fields: Mapping[str, Any]) -> dict[str, Any]: ...

        def _check_message(self, doc: dict[str, Any]) -> None: ...

        def _store(self, room: Room, doc: dict[str, Any]) -> Stored: ...

        def _subscription(self, room: Room, user: User) -> dict[str, Any]: ...

        def _version(self) -> str: ...


def page_reply(key: str, items: list[dict[str, Any]], offset: int, count: int, **extra: Any) -> JsonReply:
    """``{key: items[offset:offset+count], count, offset, total, success: true}`` (the shape of
    every paginated Rocket.Chat list)."""
    page = items[offset : offset + count]
    return JsonReply(200, {key: page, "count": len(page), "offset": offset, "total": len(items), **extra, "success": True})
