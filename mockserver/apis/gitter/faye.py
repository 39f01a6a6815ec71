"""Gitter's Faye (Bayeux 1.0) realtime, shared by the long-polling endpoints (``POST /bayeux``,
``/faye`` on ``ws.gitter.im``) and the WebSocket at the same paths.

The protocol as Faye's server and Gitter's extensions answer it (zero804/gitter
``server/web/bayeux/*.js``, faye ``src/protocol/server.js``):

* ``/meta/handshake`` needs ``ext.token``, a Gitter token (``401::Access token required``,
  ``401::Invalid access token``); the reply carries a ``clientId`` and ``ext.userId``.
* ``/meta/connect`` of a known client is held until a delivery is due or ``timeout`` passes
  (long-polling); an unknown client gets ``401:<clientId>:Unknown client`` with advice to
  handshake again.
* ``/meta/subscribe`` follows the authorisor's routes: room channels need read access to the
  room (a member, or a public room), user channels the caller's own id; an unknown channel is
  ``404::Unknown subscription <channel>``. Its reply carries ``ext.snapshot`` for a room's
  ``chatMessages``, ``users`` and ``events`` unless the request's ``ext.snapshot`` is false
  (and for the room itself, or the user's ``rooms``, only when it is true).
* A publish is allowed to ``/api/v1/ping2`` only (push-only.js: ``403::Push access denied``).

Deliveries: the REST handlers call :meth:`Realtime.deliver` with a channel and a function
rendering the payload for each subscriber (a message shows its unread flags per viewer); every
subscribed client gets it once, appended to its queue in the order of the calls, and its
waiting connect is woken through the hub. A client that does not connect for
:data:`CLIENT_IDLE_SECONDS` is dropped with its queue; a queue holds at most
:data:`MAX_QUEUE` deliveries (the oldest go first), so a client that never connects costs
bounded memory.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.apis.gitter import paging, render
from mockserver.apis.gitter.markup import MarkupCache
from mockserver.apis.gitter.world import PRIVATE, Room, World

BAYEUX_VERSION = "1.0"
CONNECTION_TYPES = ["long-polling", "cross-origin-long-polling", "callback-polling", "websocket", "eventsource", "in-process"]
CLIENT_IDLE_SECONDS = 120.0  # [inferred] Faye drops a client that has not connected for about this long
MAX_QUEUE = 1000  # deliveries kept for a client that does not collect them [mock choice]
SNAPSHOT_LIMIT = 50  # chat-messages default page [chat-messages.js]; also users and events [inferred]
APP_VERSION = "chatmock"  # Gitter's authenticator sends its own version in ext.appVersion
PING = "/api/v1/ping2"
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_ROOM = re.compile(r"^/api/v1/rooms/(\w+)$")
_ROOM_COLLECTION = re.compile(r"^/api/v1/rooms/(\w+)/(\w+)$")
_ROOM_SUB_COLLECTION = re.compile(r"^/api/v1/rooms/(\w+)/(\w+)/(\w+)/(\w+)$")
_USER_COLLECTION = re.compile(r"^/api/v1/user/(\w+)/(\w+)$")
_USER_UNREAD = re.compile(r"^/api/v1/user/(\w+)/rooms/(\w+)/unreadItems$")
_USER = re.compile(r"^/api/v1/user/(\w+)$")
_TOKEN = re.compile(r"^/api/v1/token/(\w+)$")
_PING_CHANNEL = re.compile(r"^/api/v1/ping(/\w+)?$|^/api/private/diagnostics$")


def room_channel(room_id: str, collection: str) -> str:
    return f"/api/v1/rooms/{room_id}/{collection}"


def user_channel(user_id: str, collection: str = "") -> str:
    return f"/api/v1/user/{user_id}" + (f"/{collection}" if collection else "")


@dataclass
class FayeClient:
    id: str
    user_id: str
    token: str
    subscriptions: dict[str, None] = field(default_factory=dict)  # an ordered set
    queue: list[dict[str, Any]] = field(default_factory=list)  # deliveries not yet collected, oldest first
    seen: float = 0.0  # time.monotonic() of its last message


class Denied(Exception):
    """A Bayeux message refused: ``error`` is its ``<code>:<args>:<message>`` text."""

    def __init__(self, error: str, advice: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.advice = advice


def can_read(room: Room, user_id: str) -> bool:
    """Gitter's policy canRead, as the mock keeps rooms: a member, or anyone for a public room."""
    return room.is_member(user_id) or (room.security != PRIVATE and not room.one_to_one)


def refused(message: Any, problem: str) -> dict[str, Any]:
    """The reply to a message that is no Bayeux message (faye server.js _handle): an invalid
    channel, or what else is wrong with it."""
    reply: dict[str, Any] = {}
    channel = message.get("channel") if isinstance(message, Mapping) else None
    if isinstance(channel, str):
        reply["channel"] = channel
    if isinstance(message, Mapping) and isinstance(message.get("id"), str):
        reply["id"] = message["id"]
    reply["successful"] = False
    reply["error"] = (
        "405::Invalid channel" if not (isinstance(channel, str) and channel.startswith("/")) else f"400::Bad request: {problem}"
    )
    return reply


class Realtime:
    """The Faye clients of one API instance (a reset starts with none: clients handshake again)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout  # how long a connect is held (advice.timeout)
        self.clients: dict[str, FayeClient] = {}
        self.channels: dict[str, dict[str, None]] = {}  # channel -> subscribed client ids
        self._ids = itertools.count(1)

    @staticmethod
    def topic(client_id: str) -> str:
        return f"gitter:faye:{client_id}"

    def advice(self) -> dict[str, Any]:
        return {"reconnect": "retry", "interval": 0, "timeout": int(self.timeout * 1000)}

    # deliveries ------------------------------------------------------------------------------
    def subscribed(self, channel: str) -> bool:
        return bool(self.channels.get(channel))

    def deliver(self, channel: str, data_for: Callable[[str], Any | None]) -> list[str]:
        """Queue ``data_for(user id)`` for every client subscribed to ``channel`` (None: not for
        that user); returns the ids of the clients to wake."""
        woken = []
        for client_id in self.channels.get(channel, ()):
            client = self.clients.get(client_id)
            if client is None:
                continue
            data = data_for(client.user_id)
            if data is None:
                continue
            client.queue.append({"channel": channel, "data": data, "id": str(next(self._ids))})
            if len(client.queue) > MAX_QUEUE:
                del client.queue[0]
            woken.append(client_id)
        return woken

    def take(self, client: FayeClient) -> list[dict[str, Any]]:
        taken, client.queue = client.queue, []
        return taken

    def unsubscribe_user(self, user_id: str, prefix: str) -> None:
        """Gitter's onUserRemovedFromTroupe: the user's clients leave the channels under ``prefix``."""
        for client in self.clients.values():
            if client.user_id != user_id:
                continue
            for channel in [name for name in client.subscriptions if name == prefix or name.startswith(prefix + "/")]:
                self._unsubscribe(client, channel)

    # clients ---------------------------------------------------------------------------------
    def _new_client(self, user_id: str, token: str) -> FayeClient:
        self.sweep()
        client = FayeClient(id=secrets.token_hex(16), user_id=user_id, token=token, seen=time.monotonic())
        self.clients[client.id] = client
        return client

    def sweep(self) -> None:
        """Drop the clients idle for longer than :data:`CLIENT_IDLE_SECONDS`."""
        limit = time.monotonic() - max(CLIENT_IDLE_SECONDS, 3 * self.timeout)
        for client in [client for client in self.clients.values() if client.seen < limit]:
            self.drop(client)

    def drop(self, client: FayeClient) -> None:
        for channel in list(client.subscriptions):
            self._unsubscribe(client, channel)
        self.clients.pop(client.id, None)

    def _unsubscribe(self, client: FayeClient, channel: str) -> None:
        client.subscriptions.pop(channel, None)
        members = self.channels.get(channel)
        if members is not None:
            members.pop(client.id, None)
            if not members:
                del self.channels[channel]

    def client_of(self, message: Mapping[str, Any]) -> FayeClient:
        client_id = message.get("clientId")
        client = self.clients.get(client_id) if isinstance(client_id, str) else None
        if client is None:
            raise Denied(f"401:{client_id if isinstance(client_id, str) else ''}:Unknown client", {"reconnect": "handshake", "interval": 0})
        client.seen = time.monotonic()
        return client

    # the protocol ----------------------------------------------------------------------------
    def handle(self, world: World, markups: MarkupCache, message: Mapping[str, Any]) -> tuple[dict[str, Any], FayeClient | None]:
        """The reply to one message, and the client when it is a connect to hold (its reply is
        then sent after the deliveries)."""
        channel = str(message.get("channel", ""))
        reply: dict[str, Any] = {"channel": channel}
        if "id" in message:
            reply["id"] = message["id"]
        try:
            if channel == "/meta/handshake":
                reply.update(self._handshake(world, message))
                return reply, None
            if channel == "/meta/connect":
                client = self.client_of(message)
                reply.update({"clientId": client.id, "successful": True, "advice": self.advice()})
                return reply, client
            if channel == "/meta/subscribe":
                reply.update(self._subscribe(world, markups, message))
                return reply, None
            if channel == "/meta/unsubscribe":
                client = self.client_of(message)
                subscription = str(message.get("subscription", ""))
                self._unsubscribe(client, subscription)
                reply.update({"clientId": client.id, "subscription": subscription, "successful": True})
                return reply, None
            if channel == "/meta/disconnect":
                client = self.client_of(message)
                self.drop(client)
                reply.update({"clientId": client.id, "successful": True})
                return reply, None
            if channel.startswith("/meta/"):
                raise Denied(f"403:{channel}:Forbidden channel")
            if channel != PING:
                raise Denied("403::Push access denied")
            client = self.client_of(message)
            if "data" not in message:
                raise Denied("402:data:Missing required parameter")
            reply.update({"clientId": client.id, "successful": True})
            return reply, None
        except Denied as denied:
            reply["successful"] = False
            reply["error"] = denied.error
            if isinstance(message.get("clientId"), str) and channel not in ("/meta/connect", "/meta/disconnect"):
                reply["clientId"] = message["clientId"]  # faye server.js: a failed connect or disconnect names no client
            if denied.advice is not None:
                reply["advice"] = denied.advice
            if channel == "/meta/handshake":
                reply.update({"version": BAYEUX_VERSION, "supportedConnectionTypes": CONNECTION_TYPES})
            if channel in ("/meta/subscribe", "/meta/unsubscribe") and isinstance(message.get("subscription"), str):
                reply["subscription"] = message["subscription"]
            return reply, None

    def _handshake(self, world: World, message: Mapping[str, Any]) -> dict[str, Any]:
        ext = message.get("ext")
        token = ext.get("token") if isinstance(ext, Mapping) else None
        if not isinstance(token, str) or not token:
            raise Denied("401::Access token required")
        user_id = world.tokens.get(token)
        if user_id is None or user_id not in world.users:
            raise Denied("401::Invalid access token")
        client = self._new_client(user_id, token)
        return {
            "version": BAYEUX_VERSION,
            "supportedConnectionTypes": CONNECTION_TYPES,
            "clientId": client.id,
            "successful": True,
            "advice": self.advice(),
            "ext": {"appVersion": APP_VERSION, "userId": user_id},
        }

    def _subscribe(self, world: World, markups: MarkupCache, message: Mapping[str, Any]) -> dict[str, Any]:
        client = self.client_of(message)
        subscription = message.get("subscription")
        if not isinstance(subscription, str) or not subscription:
            raise Denied("402:subscription:Missing required parameter")
        ext = message.get("ext")
        wanted = ext.get("snapshot") if isinstance(ext, Mapping) else None
        snapshot = self._authorise(world, markups, client, subscription, wanted)
        client.subscriptions[subscription] = None
        self.channels.setdefault(subscription, {})[client.id] = None
        reply: dict[str, Any] = {"clientId": client.id, "subscription": subscription, "successful": True}
        if snapshot is not None:
            reply["ext"] = {"snapshot": snapshot}
        return reply

    def _authorise(self, world: World, markups: MarkupCache, client: FayeClient, channel: str, wanted: Any) -> list[Any] | None:
        """Gitter's authorisor: Denied, or the snapshot to send (None: none)."""
        me = client.user_id
        found = _ROOM.match(channel) or _ROOM_COLLECTION.match(channel) or _ROOM_SUB_COLLECTION.match(channel)
        if found:
            room = self._readable_room(world, found.group(1), me)
            if _ROOM.match(channel):
                return [render.room(world, room, me, full=True)] if wanted is True else None
            if _ROOM_COLLECTION.match(channel) and wanted is not False:
                return self._room_snapshot(world, markups, room, found.group(2), me, wanted)
            return None
        found = _USER_UNREAD.match(channel) or _USER_COLLECTION.match(channel) or _USER.match(channel)
        if found:
            if found.group(1) != me:
                raise Denied("403::Authorisation denied.")
            if _USER_COLLECTION.match(channel) and found.group(2) == "rooms" and wanted is True:
                return [render.room(world, room, me, full=True) for room in world.rooms.values() if room.is_member(me)]
            return None
        found = _TOKEN.match(channel)
        if found:
            if found.group(1) != client.token:
                raise Denied("403::Authorisation denied.")
            return None
        if _PING_CHANNEL.match(channel):
            return None
        raise Denied(f"404::Unknown subscription {channel}")

    @staticmethod
    def _readable_room(world: World, room_id: str, user_id: str) -> Room:
        if not _OBJECT_ID.match(room_id):
            raise Denied(f"400::Invalid ID: {room_id}")
        room = world.rooms.get(room_id)
        if room is None or not can_read(room, user_id):
            raise Denied("403::Authorisation denied.")
        return room

    @staticmethod
    def _room_snapshot(world: World, markups: MarkupCache, room: Room, collection: str, viewer: str, wanted: Any) -> list[Any] | None:
        options = wanted if isinstance(wanted, Mapping) else {}
        limit = paging.number(options.get("limit"), SNAPSHOT_LIMIT, paging.MAX_LIMIT)
        if collection == "chatMessages":
            return [render.message(world, room, item, viewer, markups) for item in room.messages[-limit:]]
        if collection == "users":
            return [
                render.user(world.users[member], role="admin" if member in room.admins else None)
                for member in list(room.members)[:limit]
                if member in world.users
            ]
        if collection == "events":
            items = (render.event(world, room, entry, viewer, markups) for entry in room.event_log[-limit:])
            return [item for item in items if item is not None]
        return None  # authorisor.js: no snapshot for another collection
