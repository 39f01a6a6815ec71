"""The DDP state of one Rocket.Chat API instance: its open sessions, its event feed, the
protocol's timings, and the calls that record changes (from REST handlers and DDP methods)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Protocol

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.ddp.ejson import to_ejson
from mockserver.apis.rocketchat.ddp.feed import ALL_MESSAGES_TOPIC, NOTIFY_ROOM, NOTIFY_USER, ROOM_MESSAGES, Feed, room_topic, user_topic
from mockserver.apis.rocketchat.ddp.host import RestSide
from mockserver.apis.rocketchat.ddp.methods import METHODS
from mockserver.apis.rocketchat.ddp.schemas import Flaw, RealtimeSchemas, realtime_schemas
from mockserver.apis.rocketchat.ddp.streams import Sub
from mockserver.apis.rocketchat.world import Room, User


class Reader(Protocol):
    """An open session, as the feed sees it: how far it has read, and whether it reads at all
    (a session without subscriptions holds no event back)."""

    cursor: int
    index: dict[tuple[str, str], list[Sub]]


BUILT_IN = frozenset({"login", "logout"})  # methods the session itself implements (login state)


class Realtime:
    """The DDP state of one API instance: open sessions, the feed, the protocol's timings."""

    ping_interval = 15.0  # seconds of client silence before the server pings (Meteor's heartbeatInterval)
    ping_timeout = 15.0  # seconds after a ping before a silent client is closed (heartbeatTimeout)
    connect_timeout = 45.0  # seconds a socket may stay silent before its connect (stream_server.js setWebsocketTimeout)
    max_subs = 500  # subscriptions per connection [inferred: the mock's bound against floods]

    def __init__(self, api: RestSide) -> None:
        self.api = api
        self.schemas: RealtimeSchemas = realtime_schemas()
        missing = sorted(set(self.schemas.methods) - set(METHODS) - BUILT_IN)
        unknown = sorted(set(METHODS) - set(self.schemas.methods))
        if missing or unknown:
            raise RuntimeError(
                f"DDP methods and schemas/rocketchat/realtime disagree: no handler for {missing}, no schema for {unknown} "
                "(add @method functions in mockserver/apis/rocketchat/ddp/methods.py or method.<name>.json files)"
            )
        self.strict = api.settings.strict
        self.sessions: set[Reader] = set()  # the open sessions (mockserver.apis.rocketchat.ddp.session)
        self.feed = Feed(self.publish, lambda: (session.cursor for session in self.sessions if session.index))
        self.loops: dict[asyncio.AbstractEventLoop, int] = {}  # the event loops the sessions run on, and how many on each
        self.retired = False

    # sessions and their event loops ---------------------------------------------------------------
    def opened(self, session: Reader, loop: asyncio.AbstractEventLoop) -> None:
        self.sessions.add(session)
        self.loops[loop] = self.loops.get(loop, 0) + 1

    def closed(self, session: Reader, loop: asyncio.AbstractEventLoop) -> None:
        if session in self.sessions:
            self.sessions.discard(session)
            left = self.loops.get(loop, 1) - 1
            if left:
                self.loops[loop] = left
            else:
                self.loops.pop(loop, None)

    def publish(self, topics: Iterable[str]) -> None:
        """Wake the hub's waiters of ``topics`` on the loop each session runs on (a change may
        come from another loop: an in-process client runs each request, and each WebSocket, on
        its own). A session waits on its topics suffixed with its loop's key (:func:`on_loop`),
        so each loop wakes only its own waiters, from its own thread; REST's own unsuffixed
        publish of a room wakes no DDP session."""
        names = tuple(topics)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        hub = self.api.hub
        for loop in list(self.loops):
            keyed = tuple(on_loop(name, loop) for name in names)
            if loop is running:
                _publish_all(hub, keyed)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_publish_all, hub, keyed)

    def report(self, what: str, found: Flaw) -> None:
        """Strict mode: a frame the mock sent broke its schema. Listed with the app's violations
        (``GET /__chatmock/violations``) as ``rocketchat.ddp.<what>`` (``frame.<msg>``,
        ``method.<name>``, ``stream.<name>``) with the JSON pointer of the offending value."""
        self.api.violation_sink.report(f"{self.api.name}.ddp.{what}", [found.text], pointer=found.pointer)

    # changes, from REST handlers and DDP methods ------------------------------------------------
    def message(self, doc: dict[str, Any], inserted: bool = True) -> None:
        """A message was stored (``inserted``) or changed (edit, reaction, star, pin)."""
        if not self.sessions:
            return  # nobody listens: nothing to keep
        room_id = str(doc["rid"])
        shown = to_ejson(doc)
        self.feed.emit(
            ROOM_MESSAGES, room_id, [shown], (room_topic(room_id), ALL_MESSAGES_TOPIC), room=room_id, message=shown, inserted=inserted
        )

    def deleted(self, room_id: str, message_id: str) -> None:
        if self.sessions:
            self.feed.emit(NOTIFY_ROOM, f"{room_id}/deleteMessage", [{"_id": message_id}], (room_topic(room_id),))

    def notify_room(self, room_id: str, event_name: str, args: list[Any], origin: object = None) -> None:
        if self.sessions:
            self.feed.emit(NOTIFY_ROOM, event_name, args, (room_topic(room_id),), origin=origin)

    def subscription_changed(self, user: User, room: Room, action: str) -> None:
        """``<uid>/subscriptions-changed`` and ``<uid>/rooms-changed`` for a user who joined
        (``inserted``) or is leaving (``removed``) a room."""
        if not self.sessions:
            return
        topics = (user_topic(user.id),)
        subscription = to_ejson(self.api._subscription(room, user))
        self.feed.emit(NOTIFY_USER, f"{user.id}/subscriptions-changed", [action, subscription], topics)
        self.feed.emit(NOTIFY_USER, f"{user.id}/rooms-changed", [action, to_ejson(render.room(self.api.world, room))], topics)

    def retire(self) -> None:
        """The world was replaced: every session closes (its pump wakes as the old hub closes)."""
        self.retired = True


def _publish_all(hub: Any, topics: tuple[str, ...]) -> None:
    for topic in topics:
        hub.publish(topic)


def on_loop(topic: str, loop: asyncio.AbstractEventLoop) -> str:
    """A hub topic as the sessions of ``loop`` wait on it."""
    return f"{topic}@{id(loop):x}"
