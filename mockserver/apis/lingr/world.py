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
      "sessions": [{"session": "AbC123", "public_id": "XyZ789", "user": "alice"}],  # pre-made logins
      "favorites": {"alice": ["1000001"]}      # username -> favourited message ids
    }

Message ids are global across rooms and must increase along each room's list; new
messages get the next id after the highest one loaded. The event counter starts at 0.
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mockserver.core.store import RandomText
from mockserver.core.worlds import Credentials, entries, given

BASE62 = string.ascii_letters + string.digits
PUBLIC_ID_LENGTH = 6  # session / public ids are 6-char base62 ("ExHqgY"; seed 002_0f8f93cf6b7fe958.txt)
EVENT_LOG_SIZE = 5000  # events kept for observers resuming from an older counter (inferred)
WORLD_FILE = Path(__file__).with_name("world.json")
Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"


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
    members: list[str]
    bots: list[str]
    joined: dict[str, str]  # username -> roster timestamp
    message_ids: list[int] = field(default_factory=list)


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

    # lookups ---------------------------------------------------------------------
    def find_user(self, login: str) -> User | None:
        """By username, or by e-mail (case-insensitive)."""
        user = self.users.get(login)
        if user is not None:
            return user
        wanted = login.strip().lower()
        return next((user for user in self.users.values() if user.email and user.email.lower() == wanted), None)

    def rooms_of(self, username: str) -> list[str]:
        return [room.id for room in self.rooms.values() if username in room.members]

    def is_online(self, username: str) -> bool:
        return any(session.username == username for session in self.sessions.values())

    def new_public_id(self) -> str:
        taken = {session.public_id for session in self.sessions.values()} | set(self.sessions)
        while True:
            candidate = random_base62(PUBLIC_ID_LENGTH)
            if candidate not in taken:
                return candidate

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


def _text(item: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise ValueError(f"lingr world: {key!r} must be a non-empty string in {dict(item)!r}")
    return value


def _list(item: Mapping[str, Any], key: str) -> list[Any]:
    value = item.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"lingr world: {key!r} must be a list")
    return value


def _icon(kind: str, name: str) -> str:
    return f"https://example.com/lingr/icons/{kind}/{name}.png"


def load(data: Mapping[str, Any], now: datetime) -> World:
    """A world built from ``data`` (see the module docstring); raises ValueError on bad input."""
    if not isinstance(data, Mapping):
        raise ValueError("the lingr world must be a JSON object")
    world = World()
    stamp = now.strftime(Z_FORMAT)
    for item in _list(data, "users"):
        username = _text(item, "username")
        world.users[username] = User(
            username=username,
            password=_text(item, "password"),
            email=_text(item, "email", ""),
            name=_text(item, "name", username),
            nickname=_text(item, "nickname", username),
            icon_url=_text(item, "icon_url", _icon("users", username)),
        )
    for item in _list(data, "bots"):
        bot_id = _text(item, "id")
        world.bots[bot_id] = Bot(
            bot_id, _text(item, "name", bot_id), _text(item, "icon_url", _icon("bots", bot_id)), _text(item, "status", "production")
        )
    for item in _list(data, "rooms"):
        _load_room(world, item, stamp)
    for item in _list(data, "sessions"):
        username = _text(item, "user")
        if username not in world.users:
            raise ValueError(f"lingr world: session of unknown user {username!r}")
        session_id = _text(item, "session")
        world.sessions[session_id] = Session(session_id, _text(item, "public_id", session_id), username)
    favorites = data.get("favorites", {})
    if not isinstance(favorites, Mapping):
        raise ValueError("lingr world: 'favorites' must map usernames to message ids")
    for username, ids in favorites.items():
        if username not in world.users or not isinstance(ids, list):
            raise ValueError(f"lingr world: favorites of unknown user {username!r} or not a list")
        world.favorites[username] = {_message_id(value) for value in ids}
        unknown = world.favorites[username] - set(world.messages)
        if unknown:
            raise ValueError(f"lingr world: {username} favourites unknown messages {sorted(unknown)}")
    return world


def _message_id(value: Any) -> int:
    text = str(value)
    if not text.isdigit():
        raise ValueError(f"lingr world: message id {value!r} is not a digit string")
    return int(text)


def _load_room(world: World, item: Mapping[str, Any], stamp: str) -> None:
    room_id = _text(item, "id")
    if room_id in world.rooms:
        raise ValueError(f"lingr world: duplicate room {room_id!r}")
    members = [str(name) for name in _list(item, "members")]
    bots = [str(name) for name in _list(item, "bots")]
    for name in members:
        if name not in world.users:
            raise ValueError(f"lingr world: room {room_id!r} lists unknown user {name!r}")
    for name in bots:
        if name not in world.bots:
            raise ValueError(f"lingr world: room {room_id!r} lists unknown bot {name!r}")
    owner = _text(item, "owner", members[0] if members else "")
    room = Room(
        id=room_id,
        name=_text(item, "name", room_id),
        blurb=_text(item, "blurb", ""),
        is_public=bool(item.get("is_public", True)),
        owner=owner,
        members=members,
        bots=bots,
        joined=dict.fromkeys(members, stamp),
    )
    world.rooms[room_id] = room
    for entry in _list(item, "messages"):
        speaker = _text(entry, "speaker")
        user = world.users.get(speaker)
        bot = world.bots.get(speaker)
        if user is None and bot is None:
            raise ValueError(f"lingr world: message in {room_id!r} by unknown speaker {speaker!r}")
        message_id = _message_id(entry["id"]) if "id" in entry else world.last_message_id + 1
        if message_id in world.messages or (room.message_ids and message_id <= room.message_ids[-1]):
            raise ValueError(f"lingr world: message id {message_id} in {room_id!r} is not new and increasing")
        world.last_message_id = max(world.last_message_id, message_id)
        local_id = entry.get("local_id")
        world.messages[message_id] = Message(
            id=message_id,
            room=room_id,
            speaker_id=speaker,
            nickname=_text(entry, "nickname", user.nickname if user else bot.name if bot else speaker),
            public_session_id=_text(entry, "public_session_id", random_base62(PUBLIC_ID_LENGTH)),
            icon_url=user.icon_url if user else bot.icon_url if bot else "",
            text=_text(entry, "text", ""),
            timestamp=_text(entry, "timestamp", stamp),
            type="user" if user is not None else "bot",
            local_id=None if local_id is None else str(local_id),
        )
        room.message_ids.append(message_id)
