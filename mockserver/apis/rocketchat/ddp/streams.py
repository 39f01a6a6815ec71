"""Subscriptions: which streams exist, who may read which event name, and which frames an event
becomes for one subscriber.

As Rocket.Chat's streamers (``apps/meteor/server/modules/streamer/streamer.module.ts`` and the
read rules of ``server/modules/notifications/notifications.module.ts``):

* ``sub`` params are ``[eventName, options]``; options ``true``/``false`` or
  ``{useCollection, args}``; with ``useCollection: true`` an ``added`` frame
  (``{collection: <stream>, id: "id", fields: {eventName}}``) comes before ``ready``;
  an empty event name is ``invalid-event-name``, a refused one ``not-allowed`` (both a
  ``nosub`` carrying the error);
* ``stream-room-messages``: a room id the user can access (a member, or any public channel),
  or ``__my_messages__`` (anyone): every message of every room the user can access, with
  ``args = [message, {roomParticipant, roomType, roomName}]``; a room id's events carry
  ``args = [message]``;
* ``stream-notify-room``: ``<rid>/<event>`` for members of the room (``deleteMessage``,
  ``typing``, ``user-activity``, ...); ``stream-notify-user``: ``<uid>/<event>`` for that user
  only (``rooms-changed``, ``subscriptions-changed``, ``notification``, ``message``, ...);
  ``stream-notify-all``, ``stream-notify-logged``, ``stream-user-presence``, ``stream-roles``
  are accepted (the mock emits nothing on them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.ddp import frames
from mockserver.apis.rocketchat.ddp.ejson import to_ejson
from mockserver.apis.rocketchat.ddp.feed import (
    ALL_MESSAGES_TOPIC,
    NOTIFY_ROOM,
    NOTIFY_USER,
    ROOM_MESSAGES,
    Event,
    room_topic,
    user_topic,
)
from mockserver.apis.rocketchat.ddp.frames import MeteorError
from mockserver.apis.rocketchat.world import Room, User, World

MY_MESSAGES = "__my_messages__"
QUIET_STREAMS = frozenset({"stream-notify-all", "stream-notify-logged", "stream-user-presence", "stream-roles"})
# publications of the Meteor app a client may ask for: ready at once, no documents [inferred]
PLAIN_PUBLICATIONS = frozenset({"meteor.loginServiceConfiguration", "meteor_autoupdate_clientVersions", "userData", "activeUsers", "roles"})
STREAMS = frozenset({ROOM_MESSAGES, NOTIFY_ROOM, NOTIFY_USER}) | QUIET_STREAMS


@dataclass(slots=True, eq=False)
class Sub:
    """One live subscription of a session. ``kind``: room | my | exact | quiet."""

    id: str
    stream: str
    name: str
    since: int  # the first event seq it may receive
    kind: str
    topics: tuple[str, ...]  # the hub topics that wake its session for it (none: nothing is emitted for it)


def can_access(world: World, room: Room, user: User) -> bool:
    """canAccessRoom: a member, or a public channel for a user with view-c-room."""
    return user.id in room.member_set or (room.t == "c" and world.can(user, "view-c-room"))


def open_sub(world: World, user: User | None, sub_id: str, stream: str, params: list[Any], since: int) -> Sub:
    """The subscription ``sub`` asks for, or MeteorError (not-allowed, invalid-event-name)."""
    event_name = params[0] if params else None
    if event_name == "":
        raise MeteorError("invalid-event-name")
    if stream in PLAIN_PUBLICATIONS:
        return Sub(sub_id, stream, str(event_name or ""), since, "quiet", ())
    if not isinstance(event_name, str):
        raise MeteorError("not-allowed")  # [inferred: no room or user has such an id]
    if stream in QUIET_STREAMS:
        if stream != "stream-notify-all" and user is None:
            raise MeteorError("not-allowed")
        return Sub(sub_id, stream, event_name, since, "quiet", ())
    if stream == ROOM_MESSAGES:
        if event_name == MY_MESSAGES:
            return Sub(sub_id, stream, event_name, since, "my", (ALL_MESSAGES_TOPIC,))
        room = world.rooms.get(event_name)
        if user is None or room is None or not can_access(world, room, user):
            raise MeteorError("not-allowed")
        return Sub(sub_id, stream, event_name, since, "room", (room_topic(room.id),))
    target, _, event = event_name.partition("/")
    if stream == NOTIFY_ROOM:
        room = world.rooms.get(target)
        if event != "webrtc" and (user is None or room is None or user.id not in room.member_set):
            raise MeteorError("not-allowed")
        return Sub(sub_id, stream, event_name, since, "exact", (room_topic(target),))
    if stream == NOTIFY_USER:
        if event != "webrtc" and (user is None or user.id != target):
            raise MeteorError("not-allowed")
        derived = event in ("rooms-changed", "notification")  # also made from message events (every message wakes it)
        topics = (user_topic(target), ALL_MESSAGES_TOPIC) if derived else (user_topic(target),)
        return Sub(sub_id, stream, event_name, since, "exact", topics)
    raise MeteorError(404, f"Subscription '{stream}' not found")


def use_collection(params: list[Any]) -> bool:
    options = params[1] if len(params) > 1 else False
    if isinstance(options, bool):
        return options
    return isinstance(options, dict) and options.get("useCollection") is True


def frames_for(world: World, user: User | None, origin: object, subs: dict[tuple[str, str], list[Sub]], event: Event) -> Iterator[str]:
    """The frames ``event`` becomes for a session with these subscriptions (by (stream, name))."""
    if event.origin is not None and event.origin is origin:
        return  # retransmitToSelf is false: a client's own notify event is not sent back to it
    for sub in subs.get((event.stream, event.name), ()):
        if sub.since <= event.seq and _still_readable(world, user, sub, event):
            yield _frame(event, "plain", lambda: frames.changed(event.stream, event.name, event.args))
    if event.message is None or event.room is None or user is None:
        return
    room = world.rooms.get(event.room)
    if room is None:
        return
    message = event.message
    mine = subs.get((ROOM_MESSAGES, MY_MESSAGES), ())
    if mine and can_access(world, room, user):
        participant = user.id in room.member_set
        for sub in mine:
            if sub.since <= event.seq:
                yield _frame(event, participant, lambda: frames.changed(ROOM_MESSAGES, MY_MESSAGES, [message, _meta(room, participant)]))
    if not event.inserted or user.id not in room.member_set:
        return
    changed = subs.get((NOTIFY_USER, f"{user.id}/rooms-changed"), ())
    for sub in changed:
        if sub.since <= event.seq:
            yield frames.encode(frames.changed(NOTIFY_USER, sub.name, ["updated", to_ejson(render.room(world, room))]))
    noticed = subs.get((NOTIFY_USER, f"{user.id}/notification"), ())
    if noticed and message.get("u", {}).get("_id") != user.id and _notifies(room, message, user):
        for sub in noticed:
            if sub.since <= event.seq:
                yield frames.encode(frames.changed(NOTIFY_USER, sub.name, [_notification(room, message)]))


def _frame(event: Event, variant: object, build: Any) -> str:
    found = event.frames.get(variant)
    if found is None:
        found = event.frames[variant] = frames.encode(build())
    return found


def _still_readable(world: World, user: User | None, sub: Sub, event: Event) -> bool:
    """A room's messages stop when the user can no longer access it (left a private room)."""
    if sub.kind != "room" or user is None:
        return True
    room = world.rooms.get(sub.name)
    return room is not None and can_access(world, room, user)


def _meta(room: Room, participant: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"roomParticipant": participant, "roomType": room.t}
    if room.name is not None:
        meta["roomName"] = room.name
    return meta


def _notifies(room: Room, message: dict[str, Any], user: User) -> bool:
    """A desktop notification: direct messages, and mentions of the user (or @all/@here)."""
    if room.t == "d":
        return True
    return any(item.get("_id") in (user.id, "all", "here") for item in message.get("mentions", ()))


def _notification(room: Room, message: dict[str, Any]) -> dict[str, Any]:
    sender = message.get("u", {})
    name = room.name or ""
    payload: dict[str, Any] = {
        "_id": message.get("_id"),
        "rid": room.id,
        "sender": sender,
        "type": room.t,
        "message": {"msg": message.get("msg", "")},
    }
    if room.t != "d":
        payload["name"] = name
    return {
        "title": f"@{sender.get('username', '')}" if room.t == "d" else f"#{name}",
        "text": str(message.get("msg", "")) if room.t == "d" else f"{sender.get('username', '')}: {message.get('msg', '')}",
        "payload": payload,
    }
