"""Rocket.Chat rooms: open/close (a subscription's open flag), channels.addAll,
channels.setType, groups.messages and rooms.cleanHistory (RocketChat/Rocket.Chat apps/meteor/
app/api/server/v1/channels.ts, groups.ts and rooms.ts; the schemas cite each fact)."""

from __future__ import annotations

from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.errors import failure
from mockserver.apis.rocketchat.mixin import Handlers
from mockserver.apis.rocketchat.world import Room, Stored, User, iso, parse_iso
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
        self.realtime.subscription_changed(user, room, "updated")

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
        return await self._set_type(call, "c", "The channel type is the same as what it would be changed to.")

    @handles("rocketchat.groups.setType")
    async def groups_set_type(self, call: Call) -> Reply:
        return await self._set_type(call, "p", "The private group type is the same as what it would be changed to.")

    async def _set_type(self, call: Call, kind: str, same: str) -> Reply:
        """Change the type of a room found as ``kind`` (c: channels.setType, p: groups.setType);
        the reply names it as it was found (channel / group)."""
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        wanted = str(call.params["type"]).strip()
        if wanted == room.t:
            return self.documented(call.endpoint, 400, same)
        if wanted not in ("c", "p"):
            return self.documented(call.endpoint, 400, "error-invalid-room-type")
        if not world.can(user, "edit-room", room) or not world.can(user, f"create-{wanted}"):
            return self.documented(call.endpoint, 400, "error-action-not-allowed")
        room.t = wanted
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return self._room_reply(kind, room)

    @handles("rocketchat.groups.messages")
    async def groups_messages(self, call: Call) -> Reply:
        return self._messages_reply(call, self._room(call, principal(call), "p"))

    # rooms.cleanHistory ----------------------------------------------------------------------------
    @handles("rocketchat.rooms.cleanHistory")
    async def rooms_clean_history(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        room = world.rooms.get(str(params["roomId"]))
        if room is None or (room.t != "c" and user.id not in room.member_set):
            return self.documented(call.endpoint, 400, "error-room-not-found")
        if not world.can(user, "clean-channel-history", room):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        try:
            latest, oldest = parse_iso(str(params["latest"])), parse_iso(str(params["oldest"]))
        except (ValueError, OverflowError):
            return self.documented(call.endpoint, 400, "error-invalid-date")
        inclusive = params.get("inclusive") is True
        senders = {str(name).lower() for name in params.get("users") or ()}
        limit = int(params.get("limit") or 0)
        found: list[Stored] = []
        for stored in list(world.timeline(room.id)):  # oldest first
            doc = stored.doc
            inside = oldest <= stored.ms <= latest if inclusive else oldest < stored.ms < latest
            if not inside or (params.get("excludePinned") and doc.get("pinned")):
                continue
            if params.get("ignoreThreads", True) and doc.get("tmid"):
                continue
            if senders and str(doc.get("u", {}).get("username", "")).lower() not in senders:
                continue
            if params.get("filesOnly") and not doc.get("file"):
                continue
            found.append(stored)
            if limit and len(found) >= limit:
                break
        for stored in found:
            message_id = str(stored.doc["_id"])
            if params.get("filesOnly"):
                self._drop_files(stored)
                self.realtime.message(stored.doc, inserted=False)
            else:
                world.remove_message(room.id, message_id)
                self.realtime.deleted(room.id, message_id)
        if found:
            room.updated_ms = max(room.updated_ms, world.now_ms())
            self.hub.publish(f"rocketchat.room.{room.id}")
        return JsonReply(200, {"_id": room.id, "count": len(found), "success": True})

    def _drop_files(self, stored: Stored) -> None:
        """filesOnly: the message stays, its files go (the upload and its file attachment)."""
        doc = dict(stored.doc)
        for item in doc.pop("files", None) or [doc.get("file") or {}]:
            self.world.uploads.pop(str(item.get("_id", "")), None)
        doc.pop("file", None)
        attachments = [item for item in doc.get("attachments", ()) if item.get("type") != "file"]
        doc["attachments"] = attachments
        doc["_updatedAt"] = iso(self.world.now_ms())
        stored.doc = doc
