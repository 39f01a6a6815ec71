"""Rocket.Chat message reads beyond history: chat.getMentionedMessages, chat.syncMessages,
chat.getThreadsList and chat.getThreadMessages (RocketChat/Rocket.Chat apps/meteor/app/api/
server/v1/chat.ts; the schemas cite each fact). Every message any endpoint stored (REST,
uploads, incoming webhooks) is read here from the same timelines."""

from __future__ import annotations

from typing import Any

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.mixin import Handlers, page_reply
from mockserver.apis.rocketchat.world import Room, User, iso
from mockserver.core.apibase import handles
from mockserver.core.call import ApiError, Call, JsonReply, Reply


class MessagesMore(Handlers):
    def _readable_room(self, call: Call, user: User, room_id: str, code: str) -> Room:
        """A room the user can read (a public channel, or one the user is in), else the documented ``code``."""
        room = self.world.rooms.get(room_id)
        if room is None or (room.t != "c" and user.id not in room.member_set):
            raise ApiError(self.documented(call.endpoint, 400, code))
        return room

    def _ordered(self, call: Call, items: list[dict[str, Any]], default: dict[str, int]) -> list[dict[str, Any]]:
        return self._sorted(items, self._sort(call.params) or default)

    @handles("rocketchat.chat.getMentionedMessages")
    async def chat_get_mentioned_messages(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        if not str(params.get("roomId", "")).strip():
            return self.documented(call.endpoint, 400, "error-invalid-params")
        room = self._readable_room(call, user, str(params["roomId"]), "error-not-allowed")
        offset, count = self._page(params, self.world.settings["defaultCount"])
        found = [
            render.message(stored)
            for stored in reversed(self.world.timeline(room.id))
            if any(item.get("username") == user.username for item in stored.doc.get("mentions", ()))
        ]
        return page_reply("messages", self._ordered(call, found, {"ts": -1}), offset, count)

    @handles("rocketchat.chat.syncMessages")
    async def chat_sync_messages(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        raw = params.get("lastUpdate")
        if raw is None and params.get("type") is None:
            return self.documented(call.endpoint, 400, "error-param-required")
        since = 0
        if raw is not None:
            try:
                since = self._date(params, "lastUpdate") or 0
            except ApiError:
                return self.documented(call.endpoint, 400, "error-roomId-param-invalid")
        elif str(params.get("next") or params.get("previous") or "").isdigit():
            since = int(str(params.get("next") or params.get("previous")))
        room = self._readable_room(call, user, str(params["roomId"]), "error-not-allowed")
        offset, count = self._page(params, self.world.settings["defaultCount"])
        wanted = params.get("type")
        updated: list[dict[str, Any]] = []
        if wanted in (None, "UPDATED"):
            updated = [
                render.message(stored)
                for stored in reversed(self.world.timeline(room.id))
                if stored.ms > since or str(stored.doc.get("_updatedAt", "")) > iso(since)
            ][offset : offset + count]
        deleted: list[dict[str, Any]] = []
        if wanted in (None, "DELETED"):
            gone = [(message_id, ms) for message_id, ms in reversed(self.world.deleted.get(room.id, [])) if ms > since]
            deleted = [{"_id": message_id, "_deletedAt": iso(ms)} for message_id, ms in gone[offset : offset + count]]
        return JsonReply(200, {"result": {"updated": updated, "deleted": deleted}, "success": True})

    @handles("rocketchat.chat.getThreadsList")
    async def chat_get_threads_list(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        room = self._readable_room(call, user, str(params["rid"]), "error-not-allowed")
        offset, count = self._page(params, self.world.settings["defaultCount"])
        following = params.get("type") in ("following", "unread")
        text = str(params.get("text") or "").lower()
        threads = []
        for stored in reversed(self.world.timeline(room.id)):
            doc = stored.doc
            if not doc.get("tcount"):
                continue
            if following and user.id not in doc.get("replies", ()) and doc.get("u", {}).get("_id") != user.id:
                continue
            if text and text not in str(doc.get("msg", "")).lower():
                continue
            threads.append(render.message(stored))
        return page_reply("threads", self._ordered(call, threads, {"tlm": -1}), offset, count)

    @handles("rocketchat.chat.getThreadMessages")
    async def chat_get_thread_messages(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        thread_id = str(params["tmid"])
        parent = self.world.visible_message(thread_id, user.id)
        if parent is None:
            return self.documented(call.endpoint, 400, "error-invalid-message")
        offset, count = self._page(params, self.world.settings["defaultCount"])
        replies = [render.message(stored) for stored in self.world.timeline(str(parent.doc["rid"])) if stored.doc.get("tmid") == thread_id]
        return page_reply("messages", self._ordered(call, replies, {"ts": 1}), offset, count)
