"""Rocket.Chat workspace administration and catalogues: permissions.listAll / permissions.update,
statistics, im.list.everyone / dm.list.everyone, commands.list / commands.get / commands.run and
webdav.getMyAccounts (RocketChat/Rocket.Chat apps/meteor/app/api/server/v1/permissions.ts,
stats.ts, im.ts, commands.ts, webdav.ts; the schemas cite each fact)."""

from __future__ import annotations

from typing import Any

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.errors import FORBIDDEN
from mockserver.apis.rocketchat.mixin import Handlers, page_reply
from mockserver.apis.rocketchat.world import Room, User, iso
from mockserver.core.apibase import handles
from mockserver.core.call import ApiError, Call, JsonReply, Reply

# the roles of a stock server (apps/meteor/server/startup/initialData.ts createOrUpdateProtectedRole)
ROLES = frozenset(
    {"admin", "user", "bot", "app", "guest", "anonymous", "owner", "moderator", "leader", "livechat-agent", "livechat-manager"}
)

# the slash commands of a stock server, as miscellaneous.yaml's commands.list example lists them
_PLAIN = ("invite-all-from", "slackbridge-import", "create", "help", "invite", "invite-all-to", "archive", "join", "kick", "leave",
          "part", "msg", "mute", "unmute", "unarchive")  # fmt: skip
_DESCRIBED = {
    "gimme": ("your_message_optional", "Slash_Gimme_Description"),
    "lennyface": ("your_message_optional", "Slash_LennyFace_Description"),
    "shrug": ("your_message_optional", "Slash_Shrug_Description"),
    "tableflip": ("your_message_optional", "Slash_Tableflip_Description"),
    "unflip": ("your_message_optional", "Slash_TableUnflip_Description"),
    "me": ("your_message", "Displays_action_text"),
    "topic": ("Slash_Topic_Params", "Slash_Topic_Description"),
}
# what the emoticon commands append (apps/meteor/app/slashcommands-asciiarts/server/*.ts); gimme prepends
EMOTICONS = {"shrug": "¯\\_(ツ)_/¯", "tableflip": "(╯°□°）╯︵ ┻━┻", "unflip": "┬─┬ ノ( ゜-゜ノ)", "lennyface": "( ͡° ͜ʖ ͡°)"}  # noqa: RUF001 (the emoticons are these characters)
GIMME = "༼ つ ◕_◕ ༽つ"
COMMANDS: dict[str, dict[str, Any]] = {
    **{name: {"command": name, "clientOnly": False} for name in _PLAIN},
    **{name: {"command": name, "params": params, "description": text, "clientOnly": False} for name, (params, text) in _DESCRIBED.items()},
}


class Admin(Handlers):
    # permissions ---------------------------------------------------------------------------------
    def _permission_items(self, since: int | None = None) -> list[dict[str, Any]]:
        world = self.world
        created = world.loaded_ms
        items = []
        for permission, roles in sorted(world.permissions.items()):
            updated = world.permissions_updated.get(permission, created)
            if since is None or updated > since:
                items.append({"_id": permission, "roles": list(roles), "_updatedAt": iso(updated)})
        return items

    @handles("rocketchat.permissions.listAll")
    async def permissions_list_all(self, call: Call) -> Reply:
        try:
            since = self._date(call.params, "updatedSince")
        except ApiError:
            return self.documented(call.endpoint, 400, "error-roomId-param-invalid")
        return JsonReply(200, {"update": self._permission_items(since), "remove": [], "success": True})

    @handles("rocketchat.permissions.update")
    async def permissions_update(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        if not world.can(user, "access-permissions"):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        changes = list(call.params["permissions"])
        known_roles = ROLES | {role for member in world.users.values() for role in member.roles}
        for change in changes:
            if change["_id"] not in world.permissions:
                return self.documented(call.endpoint, 400, "error-invalid-body-params")
            if any(role not in known_roles for role in change["roles"]):
                return self.documented(call.endpoint, 400, "error-invalid-role")
        now = world.now_ms()
        for change in changes:
            world.permissions[change["_id"]] = tuple(dict.fromkeys(change["roles"]))
            world.permissions_updated[change["_id"]] = now
        return JsonReply(200, {"permissions": self._permission_items(), "success": True})

    # statistics ----------------------------------------------------------------------------------
    @handles("rocketchat.statistics")
    async def statistics(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        if not world.can(user, "view-statistics"):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        users = list(world.users.values())
        by_status = {status: sum(1 for item in users if item.status == status) for status in ("online", "away", "busy", "offline")}
        rooms = list(world.rooms.values())
        messages = {kind: sum(len(world.timeline(room.id)) for room in rooms if room.t == kind) for kind in ("c", "p", "d")}
        threads = sum(1 for room in rooms for stored in world.timeline(room.id) if stored.doc.get("tcount"))
        incoming = sum(1 for item in world.integrations.values() if item["type"] == "webhook-incoming")
        now = iso(world.now_ms())
        body: dict[str, Any] = {
            "_id": "chatmockStatistics",
            "uniqueId": "chatmock",
            "installedAt": iso(world.loaded_ms),
            "createdAt": now,
            "version": self._version(),
            "totalUsers": len(users),
            "activeUsers": sum(1 for item in users if item.active),
            "nonActiveUsers": sum(1 for item in users if not item.active),
            "appUsers": sum(1 for item in users if "app" in item.roles),
            "onlineUsers": by_status["online"],
            "awayUsers": by_status["away"],
            "busyUsers": by_status["busy"],
            "offlineUsers": by_status["offline"],
            "totalConnectedUsers": by_status["online"] + by_status["away"] + by_status["busy"],
            "totalRooms": len(rooms),
            "totalChannels": sum(1 for room in rooms if room.t == "c"),
            "totalPrivateGroups": sum(1 for room in rooms if room.t == "p"),
            "totalDirect": sum(1 for room in rooms if room.t == "d"),
            "totalThreads": threads,
            "totalMessages": sum(messages.values()),
            "totalChannelMessages": messages["c"],
            "totalPrivateGroupMessages": messages["p"],
            "totalDirectMessages": messages["d"],
            "totalIntegrations": len(world.integrations),
            "totalIncoming": incoming,
            "uploadsTotal": len(world.uploads),
            "success": True,
        }
        return JsonReply(200, body)

    # every DM (admins) ----------------------------------------------------------------------------
    async def _dm_list_everyone(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        if not world.can(user, "view-room-administration"):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        offset, count = self._page(call.params, world.settings["defaultCount"])
        items = [render.room_info(world, room) for room in world.rooms.values() if room.t == "d"]
        sort = self._sort(call.params)
        return page_reply("ims", self._sorted(items, sort) if sort else items, offset, count)

    @handles("rocketchat.im.list.everyone")
    async def im_list_everyone(self, call: Call) -> Reply:
        return await self._dm_list_everyone(call)

    @handles("rocketchat.dm.list.everyone")
    async def dm_list_everyone(self, call: Call) -> Reply:
        return await self._dm_list_everyone(call)

    # commands, webdav --------------------------------------------------------------------------------
    @handles("rocketchat.commands.list")
    async def commands_list(self, call: Call) -> Reply:
        offset, count = self._page(call.params, self.world.settings["defaultCount"])
        items = list(COMMANDS.values())
        sort = self._sort(call.params)
        return page_reply("commands", self._sorted(items, sort) if sort else items, offset, count)

    @handles("rocketchat.commands.get")
    async def commands_get(self, call: Call) -> Reply:
        if "command" not in call.params:
            return self.documented(call.endpoint, 400, "must be provided.")
        name = str(call.params["command"])
        command = COMMANDS.get(name.lower())
        if command is None:
            return JsonReply(400, {"success": False, "error": f"There is no command in the system by the name of: {name}"})
        return JsonReply(200, {"command": command, "success": True})

    @handles("rocketchat.commands.run")
    async def commands_run(self, call: Call) -> Reply:
        user, params, world, endpoint = principal(call), call.params, self.world, call.endpoint
        name, args, room_id, thread = params.get("command"), params.get("params", ""), params.get("roomId"), params.get("tmid")
        if not isinstance(name, str):
            return self.documented(endpoint, 400, "You must provide a command to run.")
        if not isinstance(args, str):
            return self.documented(endpoint, 400, "must be a single string")
        if not isinstance(room_id, str):
            return self.documented(endpoint, 400, "must be provided and be a string")
        if thread is not None and not isinstance(thread, str):
            return self.documented(endpoint, 400, "The tmid parameter when provided must be a string.")
        command = name.lower()
        if command not in COMMANDS:
            return self.documented(endpoint, 400, "does not exist (or is disabled)")
        room = world.rooms.get(room_id)
        if room is None or (room.t != "c" and user.id not in room.member_set):
            return self.documented(endpoint, 403, "unauthorized")
        if thread and world.message_in(room.id, thread) is None:
            return self.documented(endpoint, 400, "Invalid thread.")
        self._run_command(command, args.strip(), room, user, thread or None)
        return JsonReply(200, {"success": True})

    def _run_command(self, command: str, args: str, room: Room, user: User, thread: str | None) -> None:
        """The built-in slash commands that change state (see the schema's $comment)."""
        world = self.world
        text = {"me": f"_{args}_"} if args else {}
        text.update({name: f"{args} {face}".strip() for name, face in EMOTICONS.items()})
        text["gimme"] = f"{GIMME} {args}".strip()
        if command in text:
            if user.id not in room.member_set:
                return  # the server sends nothing for a non-member (canSendMessage refuses) [inferred]
            fields: dict[str, Any] = {"msg": text[command]}
            if thread:
                fields["tmid"] = thread
            doc = self._new_message(room, user, fields)
            self._check_message(doc)
            self._store(room, doc)
        elif command == "topic" and world.can(user, "edit-room", room):
            room.extra["topic"] = args
            room.updated_ms = max(room.updated_ms, world.now_ms())
        elif command == "join":
            target = world.room_by_name(args.removeprefix("#"))
            if target is not None and target.t == "c" and not target.extra.get("archived"):
                self._join(target, user)
        elif command in ("leave", "part") and user.id in room.member_set and world.holders(room, "owner") != [user.id]:
            world.remove_member(room, user.id)
            room.updated_ms = max(room.updated_ms, world.now_ms())
            self.realtime.subscription_changed(user, room, "removed")

    @handles("rocketchat.webdav.getMyAccounts")
    async def webdav_get_my_accounts(self, call: Call) -> Reply:
        return JsonReply(200, {"accounts": [], "success": True})
