"""The realtime event log of one Rocket.Chat world: what changed, in order, once.

A REST handler or a DDP method records a change here (a message inserted or updated, a
message deleted, a notify event) and publishes a hub topic; every DDP session waiting on that
topic wakes (:meth:`mockserver.core.hub.Hub.wait_for`, no polling), reads the events after
its cursor and sends what its subscriptions match. Each session reads each event once and
in order, so delivery is exactly once per subscription and ordered per room.

The log keeps the events no open session has read yet (trimmed when it grows, to the slowest
cursor), and at most :data:`HARD_LIMIT` events whatever the sessions. A session's cursor lags
only while nothing wakes it, that is while no event concerns it; so what a trim drops past a
lagging cursor concerns no one who has not read it, unless over ``HARD_LIMIT / 2`` events of
its rooms came before its task ran once (not seen in any flood the tests make).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

ROOM_MESSAGES = "stream-room-messages"
NOTIFY_ROOM = "stream-notify-room"
NOTIFY_USER = "stream-notify-user"
ALL_MESSAGES_TOPIC = "rocketchat.messages"  # every message change (the __my_messages__ subscribers)
SOFT_LIMIT = 1024  # past this many events the log is trimmed to the slowest open session
HARD_LIMIT = 4096  # whatever the sessions, at most this many events are kept (half of them after a trim)


def room_topic(room_id: str) -> str:
    return f"rocketchat.room.{room_id}"  # the REST module's topic of a room (api.topic)


def user_topic(user_id: str) -> str:
    return f"rocketchat.user.{user_id}"


@dataclass(slots=True, eq=False)
class Event:
    """One change. ``stream``/``name``/``args`` as the streamer sends them; a message event
    (``message`` set) is also matched per subscriber (``__my_messages__``, rooms-changed,
    notification). ``origin``: the session that wrote a notify event (not sent back to it)."""

    seq: int
    stream: str
    name: str
    args: list[Any]
    room: str | None = None
    message: dict[str, Any] | None = None
    inserted: bool = False
    origin: object = None
    frames: dict[object, str] = field(default_factory=dict)  # encoded frames, by variant (built once)


class Feed:
    def __init__(self, publish: Callable[[Iterable[str]], None], cursors: Callable[[], Iterable[int]]) -> None:
        self._publish = publish  # wakes the hub's waiters of these topics
        self._cursors = cursors  # the cursors of the open sessions
        self.events: list[Event] = []
        self.base = 1  # the seq of events[0]
        self.next_seq = 1
        self._check_at = SOFT_LIMIT  # the log length at which the next trim is tried

    def emit(
        self,
        stream: str,
        name: str,
        args: list[Any],
        topics: Iterable[str],
        *,
        room: str | None = None,
        message: dict[str, Any] | None = None,
        inserted: bool = False,
        origin: object = None,
    ) -> Event:
        event = Event(self.next_seq, stream, name, args, room, message, inserted, origin)
        self.next_seq += 1
        self.events.append(event)
        if len(self.events) >= self._check_at:
            self._trim()
        self._publish(topics)
        return event

    def after(self, cursor: int) -> list[Event]:
        """The events from ``cursor`` (a seq) on."""
        start = max(cursor - self.base, 0)
        return self.events[start:] if start < len(self.events) else []

    def _trim(self) -> None:
        """Drop what every open session has read (at most HARD_LIMIT / 2 events stay when one
        lags further); tried again SOFT_LIMIT events later, so the cost is amortised."""
        slowest = min(self._cursors(), default=self.next_seq)
        if len(self.events) >= HARD_LIMIT:
            slowest = max(slowest, self.next_seq - HARD_LIMIT // 2)
        drop = min(max(slowest - self.base, 0), len(self.events))
        del self.events[:drop]
        self.base += drop
        self._check_at = len(self.events) + SOFT_LIMIT
