"""Rocket.Chat search: spotlight and directory (RocketChat/Rocket.Chat apps/meteor/server/lib/
spotlight.ts, app/api/server/v1/misc.ts and server/methods/browseChannels.ts; the schemas cite
each fact)."""

from __future__ import annotations

import json
from typing import Any

from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.mixin import Handlers, page_reply
from mockserver.apis.rocketchat.world import Room, User, iso
from mockserver.core.apibase import handles
from mockserver.core.call import Call, JsonReply, Reply

SPOTLIGHT_LIMIT = 10  # [inferred: the server's spotlight limits each list; the mock keeps 10]


def _matches(text: str, *values: str) -> bool:
    return not text or any(text in value.lower() for value in values)


class Directory(Handlers):
    def _searchable_rooms(self, user: User) -> list[Room]:
        """Public channels and the user's private groups (not DMs), by name."""
        rooms = [room for room in self.world.rooms.values() if room.t == "c" or (room.t == "p" and user.id in room.member_set)]
        return sorted(rooms, key=lambda room: room.name or room.id)

    @handles("rocketchat.spotlight")
    async def spotlight(self, call: Call) -> Reply:
        user = principal(call)
        query = str(call.params["query"]).strip()
        kind, text = (query[:1], query[1:].lower()) if query[:1] in ("@", "#") else ("", query.lower())
        users: list[dict[str, Any]] = []
        if kind != "#":
            for other in sorted(self.world.users.values(), key=lambda item: item.username):
                if other is not user and other.active and _matches(text, other.username, other.name):
                    item: dict[str, Any] = {"_id": other.id, "name": other.name, "username": other.username, "status": other.status}
                    if "avatarETag" in other.extra:
                        item["avatarETag"] = str(other.extra["avatarETag"])
                    users.append(item)
        rooms: list[dict[str, Any]] = []
        if kind != "@":
            for room in self._searchable_rooms(user):
                name = room.name or room.id
                if _matches(text, name, str(room.extra.get("fname", name))):
                    rooms.append({"_id": room.id, "name": name, "fname": str(room.extra.get("fname", name)), "t": room.t})
        return JsonReply(200, {"users": users[:SPOTLIGHT_LIMIT], "rooms": rooms[:SPOTLIGHT_LIMIT], "success": True})

    @handles("rocketchat.directory")
    async def directory(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        text, kind = params.get("text"), params.get("type")
        if params.get("query") is not None:  # the older form: {"text", "type", "workspace"} as JSON
            try:
                query = json.loads(str(params["query"]))
            except ValueError:
                query = None
            if not isinstance(query, dict):
                return self.documented(call.endpoint, 400, "Please verify the parameters")
            text, kind = query.get("text", text), query.get("type", kind)
        wanted, kind = str(text or "").lower(), str(kind or "channels")
        sort = self._sort(params)
        if sort is not None and len(sort) > 1:
            return self.documented(call.endpoint, 400, "This method support only one")
        offset, count = self._page(params, world.settings["defaultCount"])
        items: list[dict[str, Any]]
        if kind == "channels":
            items = []
            for room in self._searchable_rooms(user):
                name = room.name or room.id
                if _matches(wanted, name):
                    item = {"_id": room.id, "name": name, "fname": str(room.extra.get("fname", name)), "t": room.t,
                            "ts": iso(room.created_ms), "usersCount": len(room.members)}  # fmt: skip
                    if "topic" in room.extra:
                        item["topic"] = str(room.extra["topic"])
                    items.append(item)
            items = self._sorted(items, sort or {"name": 1})
        elif kind == "users":
            full = world.can(user, "view-full-other-user-info")
            items = []
            for other in world.users.values():
                if other.active and _matches(wanted, other.username, other.name):
                    item = {"_id": other.id, "username": other.username, "name": other.name, "createdAt": iso(other.created_ms)}
                    if full and other.emails:
                        item["emails"] = other.emails
                    items.append(item)
            items = self._sorted(items, sort or {"username": 1})
        else:
            return self.documented(call.endpoint, 400, "Please verify the parameters")
        return page_reply("result", items, offset, count)
