"""Gitter's state: users, tokens, rooms, memberships, messages, unread items, stream logs.

World format (the ``"gitter"`` part of a seed file; ``world.json`` beside this module is the
default world). Every key is optional except where noted::

    {
      "rateLimit": 100,                  # requests per token per 60 s window (429 beyond)
      "users": [
        {"id": "5f1a11ce0000000000000001",   # 24 lower-case hex chars; generated when absent
         "username": "alice",                # required, unique (case-insensitive)
         "displayName": "Alice Example",     # default: the username
         "email": "alice@example.com", "password": "alice-password",   # kept as credentials only
         "tokens": ["gitter-token-alice"],   # personal access tokens (Bearer or ?access_token=)
         "avatarUrl": "https://...", "staff": false, "providers": ["github"]}
      ],
      "orphanTokens": ["..."],           # tokens that resolve to no usable user: 401 loginRequired
      "rooms": [
        {"id": "5f2000000000000000000002",   # generated when absent
         "githubType": "REPO",               # ORG, REPO, ONETOONE, ORG_CHANNEL, REPO_CHANNEL, USER_CHANNEL
         "uri": "chatmock/chatmock",         # required except for ONETOONE rooms, which have none
         "name": "chatmock/chatmock",        # default: the uri (ONETOONE: the other user's displayName)
         "topic": "", "tags": [], "security": "PUBLIC",   # PRIVATE rooms refuse joins by non-members
         "members": ["alice", "bob"],        # usernames; ONETOONE rooms have exactly two
         "admins": ["alice"],                # role "admin" in the room's user list
         "messages": [                       # oldest first
           {"id": "...", "from": "alice", "text": "hello", "sent": "2024-05-01T09:00:00.000Z",
            "editedAt": null, "status": false, "unreadBy": ["bob"]}]}
      ]
    }

``reset(None)`` loads the default world; ``reset({})`` (a seed file without a ``"gitter"``
part) loads an empty one. Seeded messages are read by every member except those listed in
``unreadBy`` (an unread message that mentions a member also counts as a mention: the API marks
those after loading, see :mod:`.unread`). A malformed world raises ``ValueError`` (the admin
seed endpoint answers 400 and loads the default world).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from mockserver.core.store import Clock, epoch_millis, iso_millis
from mockserver.core.worlds import Credentials, entries, first, given

WORLD_FILE = Path(__file__).with_name("world.json")
DEFAULT_RATE_LIMIT = 100
ONETOONE = "ONETOONE"
PRIVATE = "PRIVATE"
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")


def timestamp(clock: Clock) -> str:
    """ISO-8601 UTC with milliseconds and Z, e.g. 2014-03-25T11:51:32.289Z."""
    return iso_millis(epoch_millis(clock.timestamp()))


@dataclass
class User:
    id: str
    username: str
    display_name: str
    email: str = ""
    password: str = ""
    avatar_url: str = ""
    staff: bool = False
    providers: tuple[str, ...] = ("github",)
    v: int = 1


@dataclass
class Message:
    id: str
    room_id: str
    user_id: str
    text: str
    sent: str
    edited_at: str | None = None
    status: bool = False
    v: int = 1
    read_by: set[str] = field(default_factory=set)


@dataclass
class Room:
    id: str
    github_type: str
    uri: str | None
    name: str
    topic: str = ""
    security: str = "PUBLIC"
    tags: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # user ids, in join order
    admins: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)  # oldest first
    by_id: dict[str, Message] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)  # message id -> its index in messages
    # user id -> unread message ids, oldest first (a dict as an ordered set: O(1) lookups and removals)
    unread: dict[str, dict[str, None]] = field(default_factory=dict)
    unread_mentions: dict[str, dict[str, None]] = field(default_factory=dict)
    last_access: dict[str, str] = field(default_factory=dict)
    message_log: list[str] = field(default_factory=list)  # stream chatMessages: new message ids
    event_log: list[tuple[str, str, str]] = field(default_factory=list)  # stream events: (operation, resource, id)
    v: int = 1

    @property
    def one_to_one(self) -> bool:
        return self.github_type == ONETOONE

    def is_member(self, user_id: str) -> bool:
        return user_id in self.members

    def add_member(self, user_id: str, when: str) -> None:
        if user_id not in self.members:
            self.members.append(user_id)
        self.unread.setdefault(user_id, {})
        self.unread_mentions.setdefault(user_id, {})
        self.last_access.setdefault(user_id, when)

    def add_message(self, message: Message) -> None:
        self.positions[message.id] = len(self.messages)
        self.messages.append(message)
        self.by_id[message.id] = message

    def receive(self, message: Message, unread_by: set[str]) -> list[str]:
        """Count ``message`` as unread for the members in ``unread_by`` and read for the others
        (its sender aside); returns the members it is unread for (mentions: see ``unread``)."""
        unread_for = []
        for member in self.members:
            if member == message.user_id:
                continue
            if member in unread_by:
                self.unread.setdefault(member, {})[message.id] = None
                unread_for.append(member)
            else:
                message.read_by.add(member)
        return unread_for


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)  # lower-case username -> user id
    tokens: dict[str, str | None] = field(default_factory=dict)  # token -> user id (None: no usable user)
    rooms: dict[str, Room] = field(default_factory=dict)  # in world order
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_windows: dict[str, list[float]] = field(default_factory=dict)  # token -> [window start, count]

    def user_named(self, username: str) -> User | None:
        user_id = self.usernames.get(username.lower())
        return self.users.get(user_id) if user_id else None

    def room_by_uri(self, uri: str) -> Room | None:
        wanted = uri.strip("/").lower()
        return next((room for room in self.rooms.values() if room.uri is not None and room.uri.lower() == wanted), None)

    def one_to_one_between(self, first: str, second: str) -> Room | None:
        pair = {first, second}
        return next((room for room in self.rooms.values() if room.one_to_one and set(room.members) == pair), None)

    def has_id(self, value: str) -> bool:
        """Whether a user, room or message already has this id (no set of all ids is built)."""
        return value in self.users or value in self.rooms or any(value in room.by_id for room in self.rooms.values())


class IdMaker:
    """ObjectId-like ids: 8 hex of the clock's seconds, then a per-kind counter."""

    def __init__(self, clock: Clock, counter: Callable[[str], int]) -> None:
        self._clock = clock
        self._counter = counter

    def __call__(self, world: World, kind: str) -> str:
        while True:
            seconds = int(self._clock.timestamp()) & 0xFFFFFFFF
            candidate = f"{seconds:08x}{kind_tag(kind):04x}{self._counter(kind):012x}"
            if not world.has_id(candidate):
                return candidate


@functools.lru_cache(maxsize=64)
def kind_tag(kind: str) -> int:
    return sum(kind.encode()) & 0xFFFF


# loading ----------------------------------------------------------------------------
def credentials(document: Mapping[str, Any]) -> Credentials:
    """Each user's first personal access token, by username."""
    return {
        str(user["username"]): given({"token": first(user.get("tokens"))}) for user in entries(document, "users") if user.get("username")
    }


def _need(condition: bool, message: str) -> None:
    if not condition:
        _fail(message)


def _fail(message: str) -> NoReturn:
    raise ValueError(f"gitter world: {message}")


def _object_id(value: Any, what: str, make: IdMaker, world: World, kind: str) -> str:
    if value is None:
        return make(world, kind)
    _need(isinstance(value, str) and bool(_OBJECT_ID.match(value)), f"{what} id {value!r} is not 24 lower-case hex chars")
    _need(not world.has_id(value), f"{what} id {value!r} is used twice")
    return str(value)


def _strings(value: Any, what: str) -> list[str]:
    _need(isinstance(value, list) and all(isinstance(item, str) for item in value), f"{what} must be a list of strings")
    return list(value)


def load(spec: Mapping[str, Any], clock: Clock, make: IdMaker) -> World:
    """A fresh :class:`World` from its JSON description."""
    _need(isinstance(spec, Mapping), "a world is a JSON object")
    world = World()
    rate = spec.get("rateLimit", DEFAULT_RATE_LIMIT)
    _need(isinstance(rate, int) and not isinstance(rate, bool) and rate > 0, "rateLimit must be a positive integer")
    world.rate_limit = rate
    for raw in spec.get("users", []):
        _load_user(world, raw, make)
    for token in _strings(spec.get("orphanTokens", []), "orphanTokens"):
        _need(token not in world.tokens, f"token {token!r} is given twice")
        world.tokens[token] = None
    now = timestamp(clock)
    for raw in spec.get("rooms", []):
        _load_room(world, raw, make, now)
    return world


def _load_user(world: World, raw: Any, make: IdMaker) -> None:
    _need(isinstance(raw, Mapping), "each user is an object")
    username = raw.get("username")
    _need(isinstance(username, str) and bool(username.strip()), "each user needs a username")
    _need(username.lower() not in world.usernames, f"username {username!r} is given twice")
    user = User(
        id=_object_id(raw.get("id"), f"user {username}", make, world, "user"),
        username=username,
        display_name=str(raw.get("displayName", username)),
        email=str(raw.get("email", "")),
        password=str(raw.get("password", "")),
        avatar_url=str(raw.get("avatarUrl", f"https://avatars.example.com/gitter/{username}")),
        staff=bool(raw.get("staff", False)),
        providers=tuple(_strings(raw.get("providers", ["github"]), f"user {username} providers")),
    )
    world.users[user.id] = user
    world.usernames[username.lower()] = user.id
    for token in _strings(raw.get("tokens", []), f"user {username} tokens"):
        _need(bool(token) and token not in world.tokens, f"token of {username} is empty or given twice")
        world.tokens[token] = user.id


def _member_ids(world: World, names: list[str], what: str) -> list[str]:
    ids = []
    for name in names:
        user = world.user_named(name)
        _need(user is not None, f"{what}: unknown user {name!r}")
        assert user is not None
        if user.id not in ids:
            ids.append(user.id)
    return ids


def _load_room(world: World, raw: Any, make: IdMaker, now: str) -> None:
    _need(isinstance(raw, Mapping), "each room is an object")
    github_type = raw.get("githubType", "REPO")
    _need(isinstance(github_type, str), "githubType must be a string")
    uri = raw.get("uri")
    label = str(uri or raw.get("name") or github_type)
    members = _member_ids(world, _strings(raw.get("members", []), f"room {label} members"), f"room {label}")
    if github_type == ONETOONE:
        _need(uri is None, f"ONETOONE room {label} must not have a uri")
        _need(len(members) == 2, f"ONETOONE room {label} needs exactly two members")
    else:
        _need(isinstance(uri, str) and bool(uri.strip("/")), f"room {label} needs a uri")
        _need(world.room_by_uri(str(uri)) is None, f"room uri {uri!r} is given twice")
    room = Room(
        id=_object_id(raw.get("id"), f"room {label}", make, world, "room"),
        github_type=github_type,
        uri=str(uri).strip("/") if uri is not None else None,
        name=str(raw.get("name", uri or "")),
        topic=str(raw.get("topic", "")),
        security=str(raw.get("security", "PUBLIC")),
        tags=_strings(raw.get("tags", []), f"room {label} tags"),
    )
    world.rooms[room.id] = room
    for member in members:
        room.add_member(member, now)
    room.admins = set(_member_ids(world, _strings(raw.get("admins", []), f"room {label} admins"), f"room {label} admins"))
    for message in raw.get("messages", []):
        _load_message(world, room, message, make, now)


def _load_message(world: World, room: Room, raw: Any, make: IdMaker, now: str) -> None:
    # messages can be many: error texts are built only on failure
    _need(isinstance(raw, Mapping), "each message is an object")
    sender = world.user_named(str(raw.get("from", "")))
    if sender is None:
        _fail(f"message in room {room.uri or room.id}: unknown sender {raw.get('from')!r}")
    text = raw.get("text")
    _need(isinstance(text, str), "each message needs a text")
    sent = raw.get("sent", now)
    edited = raw.get("editedAt")
    for value, what in ((sent, "sent"), (edited, "editedAt")):
        if not (value is None or (isinstance(value, str) and _TIMESTAMP.match(value))):
            _fail(f"message {what} {value!r} is not like 2014-03-25T11:51:32.289Z")
    message = Message(
        id=_object_id(raw.get("id"), "message", make, world, "message"),
        room_id=room.id,
        user_id=sender.id,
        text=text,
        sent=str(sent),
        edited_at=edited,
        status=bool(raw.get("status", False)),
        v=2 if edited else 1,
    )
    room.add_message(message)
    unread_by = set(_member_ids(world, _strings(raw["unreadBy"], "unreadBy"), "unreadBy")) if "unreadBy" in raw else set()
    room.receive(message, unread_by)
