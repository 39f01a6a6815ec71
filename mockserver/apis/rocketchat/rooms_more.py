"""Rocket.Chat rooms: open/close (a subscription's open flag), channels.addAll,
channels.setType and groups.messages (RocketChat/Rocket.Chat apps/meteor/app/api/server/v1/
channels.ts and groups.ts; the schemas cite each fact)."""

from __future__ import annotations

from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.errors import failure
from mockserver.apis.rocketchat.mixin import Handlers
from mockserver.apis.rocketchat.world import Room, User
from mockserver.core.apibase import handles
from mockserver.core.call import Call, JsonReply, Reply


class RoomsMore(Handlers):
    # open / close ----------------------------------------------------------------------------
    def _is_open(self, room: Room, user: User) -> bool:
        return user.id not in self.world.closed.get(room.id, ())

    def _set_open(self, room: Room, user: User, on: bool) -> None:
        closed = self.world.closed.setdefault(room.id, set())
        if on:
            closed.discard(user.id)
        else:
            closed.add(user.id)
        room.updated_ms = max(room.updated_ms, self.world.now_ms())

    async def _open_close(self, call: Call, kind: str, on: bool) -> Reply:
        user = principal(call)
        room = self._room(call, user, kind)
        name = room.name or room.id
        if kind == "c" and user.id not in room.member_set:
            return failure(f'The user/callee is not in the channel "{name}.')
        if self._is_open(room, user) == on:
            if kind == "c":
                return failure(f"The channel, {name}, is already {'open to' if on else 'closed to'} the sender")
            return failure(f"The private group, {name}, is already {'open for' if on else 'closed to'} the sender")
        self._set_open(room, user, on)
        return JsonReply(200, {"success": True})

    @handles("rocketchat.channels.open")
    async def channels_open(self, call: Call) -> Reply:
        return await self._open_close(call, "c", True)

    @handles("rocketchat.channels.close")
    async def channels_close(self, call: Call) -> Reply:
        return await self._open_close(call, "c", False)

    @handles("rocketchat.groups.open")
    async def groups_open(self, call: Call) -> Reply:
        return await self._open_close(call, "p", True)

    @handles("rocketchat.groups.close")
    async def groups_close(self, call: Call) -> Reply:
        return await self._open_close(call, "p", False)

    # channels.addAll, channels.setType, groups.messages ---------------------------------------------
    @handles("rocketchat.channels.addAll")
    async def channels_add_all(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, "c")
        if not world.can(user, "add-all-to-room"):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        active_only = call.params.get("activeUsersOnly") is True
        for member in list(world.users.values()):
            if member.active or not active_only:
                self._join(room, member)
        return self._room_reply("c", room)

    @handles("rocketchat.channels.setType")
    async def channels_set_type(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, "c")
        wanted = str(call.params["type"]).strip()
        if wanted == room.t:
            return self.documented(call.endpoint, 400, "The channel type is the same as what it would be changed to.")
        if wanted not in ("c", "p"):
            return self.documented(call.endpoint, 400, "error-invalid-room-type")
        if not world.can(user, "edit-room", room) or not world.can(user, f"create-{wanted}"):
            return self.documented(call.endpoint, 400, "error-action-not-allowed")
        room.t = wanted
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return self._room_reply("c", room)

    @handles("rocketchat.groups.messages")
    async def groups_messages(self, call: Call) -> Reply:
        return self._messages_reply(call, self._room(call, principal(call), "p"))
