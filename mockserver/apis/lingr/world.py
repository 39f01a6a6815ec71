"""The Lingr state model and how a world (seed) is loaded into it.

One :class:`World` per app holds every user, bot, room, message, session, favourite and
event of the Lingr API, so a message posted through ``room/say`` is read back by
``room/show``, ``room/get_archives`` and ``event/observe`` alike.

World format (the ``"lingr"`` part of a seed file; ``world.json`` beside this module is the
default world). Every key is optional; unknown keys are ignored::

    {
      "users": [
        {"username": "alice",                  # required; also the speaker_id of messages
         "password": "alice-password",         # required; session/create checks it
         "email": "alice@example.com",         # optional; session/create also accepts it as `user`
         "name": "Alice",                      # optional, default: the username (roster `name`, user.name)
         "nickname": "alice",                  # optional, default: the username (session nickname)
         "icon_url": "https://..."}            # optional, default: https://example.com/lingr/icons/<username>.png
      ],
      "bots": [
        {"id": "echobot", "name": "Echo Bot",  # id required, name defaults to the id
         "status": "production",               # "production" or "offline" (default production)
         "icon_url": "https://..."}            # optional
      ],
      "rooms": [
        {"id": "lounge",                       # required: the room slug
         "name": "Lounge", "blurb": "...",     # optional (name defaults to the id, blurb to "")
         "is_public": true,                    # optional, default true
         "owner": "alice",                     # optional: a member (is_owner in the roster)
         "members": ["alice", "bob"],          # usernames; only members see and write the room
         "bots": ["echobot"],                  # bot ids shown in the roster
         "messages": [                         # oldest first
           {"id": "1000001",                   # optional digit string; default: previous id + 1
            "speaker": "alice",                # a user or a bot id (a bot's messages have type "bot")
            "text": "hello",
            "timestamp": "2024-05-01T09:00:00Z",  # optional, default: the load time
            "nickname": "alice",               # optional, default: the speaker's nickname
            "public_session_id": "Ab12Cd",     # optional, default: random 6-char base62
            "local_id": null}                  # optional
         ]}
      ],
      "sessions": [{"session": "AbC123",     # pre-made logins; session: the secret id
                    "public_id": "XyZ789",     # optional, default: random 6-char base62 (never the session id)
                    "user": "alice"}],
      "favorites": {"alice": ["1000001"]}      # username -> favourited message ids
    }

Message ids are global across rooms and must increase along each room's list; new
messages get the next id after the highest one loaded. The event counter starts at 0.
A public id (a session's ``public_id``, a message's ``public_session_id``) is shown to every
room member, so it may not be a session id. A malformed world raises
:class:`~mockserver.core.worlds.WorldError` (a ``ValueError``) naming the JSON path of the bad value, e.g.
``lingr.users[0]: expected an object, got 1``. Loading is linear in the size of the world.
"""

from __future__ import annotations

import re
import string
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mockserver.core.guard import (
    LastUse,
    expect_list,
    expect_object,
    fail,
    field_bool,
    field_choice,
    field_list,
    field_objects,
    field_text,
    field_texts,
)
from mockserver.core.store import RandomText
from mockserver.core.worlds import Credentials, WorldError, entries, given

BASE62 = string.ascii_letters + string.digits
PUBLIC_ID_LENGTH = 6  # session / public ids are 6-char base62 ("ExHqgY"; seed 002_0f8f93cf6b7fe958.txt)
EVENT_LOG_SIZE = 5000  # events kept for observers resuming from an older counter (inferred)
WORLD_FILE = Path(__file__).with_name("world.json")
ROOT = "$"
BOT_STATUSES = frozenset({"production", "offline"})  # _defs.json Bot.status
Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"
_ROOM_ID = re.compile(r"^[A-Za-z0-9_-]+$")  # _defs.json roomId
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")  # _defs.json timestampZ


random_base62 = RandomText(BASE62)


@dataclass
class User:
    username: str
    password: str
    email: str
    name: str
    nickname: str
    icon_url: str


@dataclass
class Bot:
    id: str
    name: str
    icon_url: str
    status: str


@dataclass
class Room:
    id: str
    name: str
    blurb: str
    is_public: bool
    owner: str
    members: list[str]  # usernames, in roster order (rooms do not change after loading)
    bots: list[str]
    joined: dict[str, str]  # username -> roster timestamp
    message_ids: list[int] = field(default_factory=list)
    member_set: frozenset[str] = field(init=False)  # the members, for membership checks

    def __post_init__(self) -> None:
        self.member_set = frozenset(self.members)


@dataclass
class Message:
    id: int
    room: str
    speaker_id: str
    nickname: str
    public_session_id: str
    icon_url: str
    text: str
    timestamp: str
    type: str
    local_id: str | None = None


@dataclass
class Session:
    id: str
    public_id: str
    username: str
    subscriptions: set[str] = field(default_factory=set)


@dataclass
class Event:
    event_id: int
    room: str
    kind: str  # "message" | "presence"
    payload: dict[str, Any]


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    bots: dict[str, Bot] = field(default_factory=dict)
    rooms: dict[str, Room] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    favorites: dict[str, set[int]] = field(default_factory=dict)
    events: deque[Event] = field(default_factory=lambda: deque(maxlen=EVENT_LOG_SIZE))
    counter: int = 0
    last_message_id: int = 0
    # indexes: no request walks every session, user or room
    emails: dict[str, User] = field(default_factory=dict)  # lower-case e-mail -> user
    member_rooms: dict[str, list[str]] = field(default_factory=dict)  # username -> its room ids
    public_ids: dict[str, str] = field(default_factory=dict)  # public id of a live session -> session id
    shown: set[str] = field(default_factory=set)  # public ids in messages (a new session id is none of them)
    subscribers: dict[str, set[str]] = field(default_factory=dict)  # room id -> subscribed session ids
    online: dict[str, int] = field(default_factory=dict)  # username -> its live sessions
    last_use: LastUse = field(default_factory=LastUse)  # session id -> last use (session_idle_timeout)
    _speaker_ids: dict[str, str] = field(default_factory=dict)

    # lookups ---------------------------------------------------------------------
    def find_user(self, login: str) -> User | None:
        """By username, or by e-mail (case-insensitive)."""
        user = self.users.get(login)
        return user if user is not None else self.emails.get(login.strip().lower())

    def rooms_of(self, username: str) -> list[str]:
        return list(self.member_rooms.get(username, ()))

    def is_online(self, username: str) -> bool:
        return self.online.get(username, 0) > 0

    def new_public_id(self) -> str:
        """A random id that is no session id and no public id shown anywhere (index lookups:
        the same cost however many sessions there are). New session ids are made this way too."""
        while True:
            candidate = random_base62(PUBLIC_ID_LENGTH)
            if candidate not in self.sessions and candidate not in self.public_ids and candidate not in self.shown:
                return candidate

    def speaker_public_id(self, speaker: str) -> str:
        """The public id a seeded message of ``speaker`` shows when the seed gives none: one random
        id per speaker and world (as if each had spoken from one session)."""
        found = self._speaker_ids.get(speaker)
        if found is None:
            found = self._speaker_ids[speaker] = self.new_public_id()
        return found

    # sessions --------------------------------------------------------------------
    def add_session(self, session: Session, now: float) -> None:
        self.sessions[session.id] = session
        self.public_ids[session.public_id] = session.id
        self.online[session.username] = self.online.get(session.username, 0) + 1
        self.last_use.touch(session.id, now)
        for room_id in session.subscriptions:
            self.subscribers.setdefault(room_id, set()).add(session.id)

    def drop_session(self, session_id: str) -> Session | None:
        """Remove a session and every index entry of it (destroyed, or idle too long)."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return None
        self.public_ids.pop(session.public_id, None)
        left = self.online.get(session.username, 1) - 1
        if left > 0:
            self.online[session.username] = left
        else:
            self.online.pop(session.username, None)
        self.last_use.forget(session_id)
        self.subscribe(session, set(), replace=True)
        return session

    def subscribe(self, session: Session, rooms: set[str], *, replace: bool = False) -> None:
        """Add ``rooms`` to the session's subscriptions (``replace``: they become its subscriptions)."""
        dropped = session.subscriptions - rooms if replace else set()
        for room_id in dropped:
            self.unsubscribe(session, {room_id})
        for room_id in rooms - session.subscriptions:
            self.subscribers.setdefault(room_id, set()).add(session.id)
        session.subscriptions |= rooms

    def unsubscribe(self, session: Session, rooms: set[str]) -> None:
        for room_id in rooms & session.subscriptions:
            subscribed = self.subscribers.get(room_id)
            if subscribed is not None:
                subscribed.discard(session.id)
                if not subscribed:
                    del self.subscribers[room_id]
        session.subscriptions -= rooms

    # messages and events -----------------------------------------------------------
    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def add_event(self, room: str, kind: str, payload: dict[str, Any]) -> Event:
        self.counter += 1
        event = Event(self.counter, room, kind, payload)
        self.events.append(event)
        return event

    def secrets(self) -> list[str]:
        return [user.password for user in self.users.values()] + list(self.sessions)


# loading -------------------------------------------------------------------------
def credentials(document: Mapping[str, Any]) -> Credentials:
    """The ``user`` and ``password`` of session/create, by username."""
    return {
        str(user["username"]): given({"user": user.get("username"), "password": user.get("password")})
        for user in entries(document, "users")
        if user.get("username")
    }


def _icon(kind: str, name: str) -> str:
    return f"https://example.com/lingr/icons/{kind}/{name}.png"


def load(data: Mapping[str, Any], now: datetime) -> World:
    """A world built from ``data`` (see the module docstring); raises WorldError on bad input."""
    expect_object(data, ROOT)
    world = World()
    stamp = now.strftime(Z_FORMAT)
    for where, item in field_objects(data, "users", ROOT):
        _load_user(world, item, where)
    for where, item in field_objects(data, "bots", ROOT):
        bot_id = field_text(item, "id", where, nonempty=True)
        if bot_id in world.bots:
            raise WorldError(f"{where}.id", f"bot {bot_id!r} is given twice")
        world.bots[bot_id] = Bot(
            bot_id,
            field_text(item, "name", where, bot_id),
            field_text(item, "icon_url", where, _icon("bots", bot_id)),
            field_choice(item, "status", where, "production", BOT_STATUSES),
        )
    for where, item in field_objects(data, "rooms", ROOT):
        _load_room(world, item, where, stamp)
    _load_sessions(world, data, now.timestamp())
    favorites = data.get("favorites", {})
    expect_object(favorites, f"{ROOT}.favorites")
    for username, ids in favorites.items():
        where = f"{ROOT}.favorites.{username}"
        if username not in world.users:
            raise WorldError(where, f"unknown user {username!r}")
        chosen = world.favorites[username] = set()
        for index, value in enumerate(expect_list(ids, where)):
            message_id = _message_id(value, f"{where}[{index}]")
            if message_id not in world.messages:
                raise WorldError(f"{where}[{index}]", f"unknown message {value!r}")
            chosen.add(message_id)
    return world


def _load_user(world: World, item: Mapping[str, Any], where: str) -> None:
    username = field_text(item, "username", where, nonempty=True)
    if username in world.users:
        raise WorldError(f"{where}.username", f"{username!r} is given twice")
    user = User(
        username=username,
        password=field_text(item, "password", where, nonempty=True),
        email=field_text(item, "email", where, ""),
        name=field_text(item, "name", where, username),
        nickname=field_text(item, "nickname", where, username),
        icon_url=field_text(item, "icon_url", where, _icon("users", username)),
    )
    if user.email:
        if user.email.strip().lower() in world.emails:
            raise WorldError(f"{where}.email", f"{user.email!r} is already the e-mail of another user")
        world.emails[user.email.strip().lower()] = user
    world.users[username] = user
    world.member_rooms[username] = []


def _load_sessions(world: World, data: Mapping[str, Any], now: float) -> None:
    """The seeded sessions, once the messages are loaded: a public id is never a session id."""
    listed = field_objects(data, "sessions", ROOT)
    secret: set[str] = set()
    for where, item in listed:
        session_id = field_text(item, "session", where, nonempty=True)
        if session_id in secret:
            raise WorldError(f"{where}.session", "this session id is given twice")
        if session_id in world.shown:
            raise WorldError(f"{where}.session", "a message shows this id as its public_session_id (every room member sees it)")
        secret.add(session_id)
    chosen: set[str] = set()
    for where, item in listed:
        if field_text(item, "user", where) not in world.users:
            raise WorldError(f"{where}.user", f"unknown user {item['user']!r}")
        public_id = field_text(item, "public_id", where, "")
        if public_id in secret:
            raise WorldError(f"{where}.public_id", "a session id cannot be a public id (every room member sees it)")
        if public_id in chosen:
            raise WorldError(f"{where}.public_id", f"{public_id!r} is given twice")
        if public_id:
            chosen.add(public_id)
    for _, item in listed:
        public_id = item.get("public_id") or ""
        while not public_id or public_id in secret:  # none given: a random one, as session/create makes
            public_id = world.new_public_id()
            if public_id in chosen:
                public_id = ""
        world.add_session(Session(item["session"], public_id, item["user"]), now)


def _message_id(value: Any, where: str) -> int:
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        fail(where, "a message id (a digit string)", value)
    return int(text)


def _load_room(world: World, item: Mapping[str, Any], where: str, stamp: str) -> None:
    room_id = field_text(item, "id", where, nonempty=True)
    if not _ROOM_ID.match(room_id):
        fail(f"{where}.id", "a room id of letters, digits, - and _", room_id)
    if room_id in world.rooms:
        raise WorldError(f"{where}.id", f"room {room_id!r} is given twice")
    members = list(dict.fromkeys(field_texts(item, "members", where)))
    bots = list(dict.fromkeys(field_texts(item, "bots", where)))
    for index, name in enumerate(field_texts(item, "members", where)):
        if name not in world.users:
            raise WorldError(f"{where}.members[{index}]", f"unknown user {name!r}")
    for index, name in enumerate(field_texts(item, "bots", where)):
        if name not in world.bots:
            raise WorldError(f"{where}.bots[{index}]", f"unknown bot {name!r}")
    owner = field_text(item, "owner", where, members[0] if members else "")
    room = Room(
        id=room_id,
        name=field_text(item, "name", where, room_id),
        blurb=field_text(item, "blurb", where, ""),
        is_public=field_bool(item, "is_public", where, True),
        owner=owner,
        members=members,
        bots=bots,
        joined=dict.fromkeys(members, stamp),
    )
    world.rooms[room_id] = room
    for name in members:
        world.member_rooms[name].append(room_id)
    for index, entry in enumerate(field_list(item, "messages", where)):
        _load_message(world, room, entry, f"{where}.messages[{index}]", stamp)


def _load_message(world: World, room: Room, entry: Any, where: str, stamp: str) -> None:
    expect_object(entry, where)
    speaker = field_text(entry, "speaker", where)
    user = world.users.get(speaker)
    bot = world.bots.get(speaker)
    if user is None and bot is None:
        raise WorldError(f"{where}.speaker", f"unknown user or bot {speaker!r}")
    message_id = _message_id(entry["id"], f"{where}.id") if "id" in entry else world.last_message_id + 1
    if message_id in world.messages or (room.message_ids and message_id <= room.message_ids[-1]):
        raise WorldError(f"{where}.id", f"message id {message_id} is not new and greater than the room's previous one")
    world.last_message_id = max(world.last_message_id, message_id)
    local_id = entry.get("local_id")
    if local_id is not None and not isinstance(local_id, str):
        fail(f"{where}.local_id", "a string or null", local_id)
    public_id = field_text(entry, "public_session_id", where, "") or world.speaker_public_id(speaker)
    world.shown.add(public_id)
    timestamp = field_text(entry, "timestamp", where, stamp)
    if not _TIMESTAMP.match(timestamp):
        fail(f"{where}.timestamp", "a time like 2014-04-15T16:17:10Z", timestamp)
    world.messages[message_id] = Message(
        id=message_id,
        room=room.id,
        speaker_id=speaker,
        nickname=field_text(entry, "nickname", where, user.nickname if user else bot.name if bot else speaker),
        public_session_id=public_id,
        icon_url=user.icon_url if user else bot.icon_url if bot else "",
        text=field_text(entry, "text", where, ""),
        timestamp=timestamp,
        type="user" if user is not None else "bot",
        local_id=local_id,
    )
    room.message_ids.append(message_id)
