"""Rocket.Chat integrations: integrations.create / integrations.list and the incoming webhook
``POST /hooks/:integrationId/:token`` (RocketChat/Rocket.Chat apps/meteor/app/integrations/
server/api/api.ts, methods/incoming/addIncomingIntegration.ts and app/lib/server/functions/
processWebhookMessage.ts; the schemas cite each fact).

A webhook's message is stored like any other (``_store``): history, messages, getMessage,
syncMessages, rooms.get and subscriptions.get read it. The token in the path is the credential:
compared in constant time, throttled like every credential check, and listed in the API's
``secrets()``. The journal redacts it in integrations.create / integrations.list replies (a
``token`` field) and in a webhook's recorded path (a path parameter named like a secret:
``/hooks/<id>/[REDACTED]``, by the dispatcher).
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.apis.rocketchat.auth import principal
from mockserver.apis.rocketchat.mixin import Handlers
from mockserver.apis.rocketchat.world import Room, User, iso, new_id, new_token
from mockserver.core.apibase import handles
from mockserver.core.call import Call, JsonReply, Reply
from mockserver.core.guard import client_of, same_secret
from mockserver.core.parse import FORM, media_type

INCOMING, OUTGOING = "webhook-incoming", "webhook-outgoing"


class Hooks(Handlers):
    def _may_manage(self, user: User, kind: str) -> bool:
        word = "incoming" if kind == INCOMING else "outgoing"
        return self.world.can(user, f"manage-{word}-integrations") or self.world.can(user, f"manage-own-{word}-integrations")

    @handles("rocketchat.integrations.create")
    async def integrations_create(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        kind = str(params["type"])
        if not self._may_manage(user, kind):
            return self.documented(call.endpoint, 400, "not_authorized")
        channel = str(params["channel"])
        if not channel.strip():
            return self.documented(call.endpoint, 400, "error-invalid-channel")
        channels = [item.strip() for item in channel.split(",") if item.strip()]
        if any(item[:1] not in ("@", "#") for item in channels):
            return self.documented(call.endpoint, 400, "error-invalid-channel-start-with-chars")
        username = str(params["username"]).strip()
        if not username:
            return self.documented(call.endpoint, 400, "error-invalid-username")
        for item in channels:
            if item[0] == "#" and world.room_by_name(item[1:]) is None and item[1:] not in world.rooms:
                return self.documented(call.endpoint, 400, "error-invalid-room")
            if item[0] == "@" and world.user_by_name(item[1:]) is None:
                return self.documented(call.endpoint, 400, "error-invalid-user")
        owner = world.user_by_name(username)
        if owner is None:
            return self.documented(call.endpoint, 400, "error-invalid-user")
        if kind == OUTGOING and (not params.get("event") or not params.get("urls")):
            return self.documented(call.endpoint, 400, "invalid-params")
        now = iso(world.now_ms())
        doc: dict[str, Any] = {
            "_id": new_id(), "type": kind, "name": str(params["name"]), "enabled": bool(params["enabled"]),
            "username": owner.username, "userId": owner.id, "channel": channels, "token": new_token(),
            "scriptEnabled": bool(params["scriptEnabled"]),
            "overrideDestinationChannelEnabled": bool(params.get("overrideDestinationChannelEnabled", False)),
            "_createdAt": now, "_createdBy": {"_id": user.id, "username": user.username}, "_updatedAt": now,
        }  # fmt: skip
        for key in ("alias", "emoji", "avatar", "script", "event"):
            if isinstance(params.get(key), str):
                doc[key] = params[key]
        if kind == OUTGOING:
            doc["urls"] = [str(url) for url in params["urls"]]
            doc["triggerWords"] = [word.strip() for word in str(params.get("triggerWords") or "").split(",") if word.strip()]
        if kind == INCOMING and "bot" not in owner.roles:
            owner.roles = [*owner.roles, "bot"]  # addIncomingIntegration gives the integration's user the bot role
        world.integrations[doc["_id"]] = doc
        return JsonReply(200, {"integration": doc, "success": True})

    @handles("rocketchat.integrations.list")
    async def integrations_list(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        if not (self._may_manage(user, INCOMING) or self._may_manage(user, OUTGOING)):
            return self.documented(call.endpoint, 403)
        offset, count = self._page(params, world.settings["defaultCount"])
        name, kind = str(params.get("name") or "").lower(), params.get("type")
        items = [
            item
            for item in world.integrations.values()
            if (kind is None or item["type"] == kind)
            and (not name or name in str(item["name"]).lower())
            and self._may_manage(user, str(item["type"]))
        ]
        page = items[offset : offset + count]
        return JsonReply(200, {"integrations": page, "offset": offset, "items": len(page), "total": len(items), "success": True})

    # the incoming webhook --------------------------------------------------------------------------
    @handles("rocketchat.hooks")
    async def hooks(self, call: Call) -> Reply:
        world, endpoint = self.world, call.endpoint
        if self.failures.limit is not None:
            self._refuse_if_throttled(call)  # the path's token is a credential: guessing it is throttled too
        integration = world.integrations.get(call.path_params["integrationId"])
        known = str(integration["token"]) if integration is not None else None
        if not same_secret(call.path_params["token"], known) or integration is None or integration["type"] != INCOMING:
            self.failures.failed(client_of(call), self.store.clock.timestamp())
            return self.documented(endpoint, 400, "Invalid integration id or token provided.")
        sender = world.users.get(str(integration["userId"]))
        if sender is None:  # the integration's user was deleted [inferred: the router finds no user]
            return self.documented(endpoint, 400, "Invalid integration id or token provided.")
        if integration["enabled"] is not True:
            return self.documented(endpoint, 503, "Service Unavailable")
        params: dict[str, Any] = dict(call.params)
        body: dict[str, Any] | None = params
        raw = self._form_json(call, params)
        if raw is not None:  # the server's middleware: a form of one field is JSON (payload=<JSON>, or the JSON itself)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return self.documented(endpoint, 400, "invalid-params")
        if not body:
            return JsonReply(200, {"success": True})  # nothing to post, as the server answers
        if (body.get("channel") or body.get("roomId")) and not integration["overrideDestinationChannelEnabled"]:
            return self.documented(endpoint, 400, "overriding destination channel is disabled for this integration")
        destination = body.get("channel") or body.get("roomId") or integration["channel"]
        targets = [str(item) for item in (destination if isinstance(destination, list) else [destination])]
        rooms: list[Room] = []
        for target in targets:
            room = self._target(sender, target)
            if room is None:
                return self.documented(endpoint, 400, "invalid-channel")
            rooms.append(room)
        fields = self._webhook_fields(body, integration)
        docs = [self._new_message(room, sender, fields) for room in rooms]
        for doc in docs:
            self._check_message(doc)
        for room, doc in zip(rooms, docs, strict=True):
            self._store(room, doc)
        return JsonReply(200, {"success": True})

    @staticmethod
    def _form_json(call: Call, body: dict[str, Any]) -> str | None:
        """The JSON text of a one-field form body: ``payload``'s value, or (``curl -d '{...}'``,
        sent as a form) the field itself; None for JSON bodies and other forms."""
        if media_type(call.headers.get("content-type", "")) != FORM or len(body) != 1:
            return None
        key, value = next(iter(body.items()))
        if key == "payload":
            return str(value)
        return key if value == "" else f"{key}={value}"

    @staticmethod
    def _webhook_fields(body: dict[str, Any], integration: dict[str, Any]) -> dict[str, Any]:
        """processWebhookMessage's message: the body's text, alias (or username), emoji (or
        icon_emoji), avatar (or icon_url) and attachments over the integration's defaults."""
        attachments = body.get("attachments")
        fields: dict[str, Any] = {
            "alias": str(body.get("username") or body.get("alias") or integration.get("alias") or ""),
            "msg": str(body.get("text") or body.get("msg") or "").strip(),
            "attachments": attachments if isinstance(attachments, list) else [],
            "parseUrls": not attachments,
            "bot": {"i": integration["_id"]},
            "groupable": False,
        }
        emoji = body.get("icon_emoji") or body.get("emoji") or integration.get("emoji")
        avatar = body.get("icon_url") or body.get("avatar") or integration.get("avatar")
        if emoji:
            fields["emoji"] = str(emoji)
        elif avatar:
            fields["avatar"] = str(avatar)
        if isinstance(body.get("tmid"), str) and body["tmid"]:
            fields["tmid"] = body["tmid"]
        return fields
