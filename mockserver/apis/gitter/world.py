"""Gitter's state: users, tokens, rooms, memberships, messages, unread items, stream logs.

World format (the ``"gitter"`` part of a seed file; ``world.json`` beside this module is the
default world). Every key is optional except where noted::

    {
      "rateLimit": 100,                  # requests per token per 60 s window (429 beyond); 1 to 10**9
      "users": [
        {"id": "5f1a11ce0000000000000001",   # 24 lower-case hex chars; generated when absent
         "username": "alice",                # required, unique (case-insensitive)
         "displayName": "Alice Example",     # default: the username
         "email": "alice@example.com", "password": "alice-password",   # kept as credentials only
         "tokens": ["gitter-token-alice"],   # personal access tokens (Bearer or ?access_token=)
         "avatarUrl": "https://...", "staff": false, "providers": ["github"],
         "orgs": [{"id": 1001, "name": "chatmock"}],                  # GET /v1/user/:id/orgs (GitHub ids)
         "repos": [{"id": 2001, "name": "chatmock/chatmock", "private": false, "admin": true}]}   # /repos
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
those after loading, see :mod:`.unread`). A malformed world raises :class:`~mockserver.core.worlds.WorldError`
(a ``ValueError``) naming the JSON path of the bad value, e.g. ``gitter.rooms[2].uri: ...``
(the admin seed endpoint answers 400). Loading is linear in the size of the world: ids, uris
and one-to-one pairs are indexed as they are read.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.core.guard import (
    expect_object,
    fail,
    field_bool,
    field_choice,
    field_int,
    field_list,
    field_objects,
    field_text,
    field_texts,
)
from mockserver.core.store import Clock, epoch_millis, iso_millis
from mockserver.core.worlds import Credentials, WorldError, entries, first, given

WORLD_FILE = Path(__file__).with_name("world.json")
DEFAULT_RATE_LIMIT = 100
ONETOONE = "ONETOONE"
USER_CHANNEL = "USER_CHANNEL"
PRIVATE = "PRIVATE"
GITHUB_TYPES = frozenset({"ORG", "REPO", ONETOONE, "ORG_CHANNEL", "REPO_CHANNEL", "USER_CHANNEL"})  # _defs.json Room.githubType
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")


def group_of(uri: str) -> str:
    """A room's community: the first segment of its uri (``chatmock/lobby`` -> ``chatmock``)."""
    return uri.split("/", 1)[0]


def group_id(name: str) -> str:
    """A stable ObjectId-like id for a community name (the mock keeps no group records)."""
    return hashlib.sha1(f"gitter-group:{name.lower()}".encode()).hexdigest()[:24]


def timestamp(clock: Clock) -> str:
    """ISO-8601 UTC with milliseconds and Z, e.g. 2014-03-25T11:51:32.289Z."""
    return iso_millis(epoch_millis(clock.timestamp()))


@dataclass(frozen=True)
class GithubOrg:
    """A GitHub organisation of a user (GET /v1/user/:id/orgs); its room: the room whose uri is its name."""

    id: int
    name: str
    avatar_url: str


@dataclass(frozen=True)
class GithubRepo:
    """A GitHub repository of a user (GET /v1/user/:id/repos); its room: the room whose uri is its name."""

    id: int
    name: str
    private: bool = False
    admin: bool = False


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
    orgs: tuple[GithubOrg, ...] = ()
    repos: tuple[GithubRepo, ...] = ()


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
    members: dict[str, None] = field(default_factory=dict)  # user ids in join order (an ordered set)
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
    noindex: bool = False  # hidden from room search (PUT /v1/rooms/:id noindex)
    favourites: dict[str, int] = field(default_factory=dict)  # user id -> favourite position (1 first)
    modes: dict[str, str] = field(default_factory=dict)  # user id -> notification mode other than "all"

    @property
    def one_to_one(self) -> bool:
        return self.github_type == ONETOONE

    def is_member(self, user_id: str) -> bool:
        return user_id in self.members

    def add_member(self, user_id: str, when: str) -> None:
        self.members.setdefault(user_id)
        self.unread.setdefault(user_id, {})
        self.unread_mentions.setdefault(user_id, {})
        self.last_access.setdefault(user_id, when)

    def remove_member(self, user_id: str) -> None:
        """``user_id`` leaves: membership, admin role, unread state and settings go; messages stay."""
        self.favourites.pop(user_id, None)
        self.modes.pop(user_id, None)
        self.members.pop(user_id, None)
        self.admins.discard(user_id)
        self.unread.pop(user_id, None)
        self.unread_mentions.pop(user_id, None)
        self.last_access.pop(user_id, None)

    def add_message(self, message: Message) -> None:
        """Append ``message`` (use :meth:`World.add_message`, which also indexes its id)."""
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
    # indexes, kept by add_room / add_message: every user, room and message id; lower-case uri ->
    # room id; the two member ids of a one-to-one room -> its id
    ids: set[str] = field(default_factory=set)
    uris: dict[str, str] = field(default_factory=dict)
    pairs: dict[frozenset[str], str] = field(default_factory=dict)

    def user_named(self, username: str) -> User | None:
        user_id = self.usernames.get(username.lower())
        return self.users.get(user_id) if user_id else None

    def room_by_uri(self, uri: str) -> Room | None:
        room_id = self.uris.get(uri.strip("/").lower())
        return self.rooms.get(room_id) if room_id is not None else None

    def one_to_one_between(self, first: str, second: str) -> Room | None:
        room_id = self.pairs.get(frozenset((first, second)))
        return self.rooms.get(room_id) if room_id is not None else None

    def has_id(self, value: str) -> bool:
        """Whether a user, room or message already has this id (an index: no room is visited)."""
        return value in self.ids

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.usernames[user.username.lower()] = user.id
        self.ids.add(user.id)

    def add_room(self, room: Room) -> None:
        """Store ``room`` and index its id, uri and (one-to-one) member pair."""
        self.rooms[room.id] = room
        self.ids.add(room.id)
        if room.uri is not None:
            self.uris[room.uri.lower()] = room.id
        if room.one_to_one and len(room.members) == 2:
            self.pairs[frozenset(room.members)] = room.id

    def remove_room(self, room: Room) -> None:
        """Delete ``room`` (its ids stay taken: an id is never given twice)."""
        self.rooms.pop(room.id, None)
        if room.uri is not None and self.uris.get(room.uri.lower()) == room.id:
            del self.uris[room.uri.lower()]
        pair = frozenset(room.members)
        if self.pairs.get(pair) == room.id:
            del self.pairs[pair]

    def add_message(self, room: Room, message: Message) -> None:
        room.add_message(message)
        self.ids.add(message.id)


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
ROOT = "$"
MAX_GITHUB_ID = 2**53 - 1  # a JSON number every client reads exactly
MAX_RATE_LIMIT = 10**9  # a mock maximum: benchmarks that post flat out seed 10**9 (bench/calls.py)


def credentials(document: Mapping[str, Any]) -> Credentials:
    """Each user's first personal access token, by username."""
    return {
        str(user["username"]): given({"token": first(user.get("tokens"))}) for user in entries(document, "users") if user.get("username")
    }


def _object_id(raw: Mapping[str, Any], where: str, make: IdMaker, world: World, kind: str) -> str:
    value = raw.get("id")
    if value is None:
        return make(world, kind)
    if not isinstance(value, str) or not _OBJECT_ID.match(value):
        fail(f"{where}.id", "24 lower-case hex characters", value)
    if world.has_id(value):
        raise WorldError(f"{where}.id", f"{value!r} is already the id of another user, room or message")
    return value


def _timestamp(raw: Mapping[str, Any], key: str, where: str, default: str | None) -> str | None:
    value = raw.get(key, default)
    if not (value is None or (isinstance(value, str) and _TIMESTAMP.match(value))):
        fail(f"{where}.{key}", "a time like 2014-03-25T11:51:32.289Z", value)
    return value


def load(spec: Mapping[str, Any], clock: Clock, make: IdMaker) -> World:
    """A fresh :class:`World` from its JSON description (see the module docstring)."""
    expect_object(spec, ROOT)
    world = World()
    world.rate_limit = field_int(spec, "rateLimit", ROOT, DEFAULT_RATE_LIMIT, 1, MAX_RATE_LIMIT)
    for where, raw in field_objects(spec, "users", ROOT):
        _load_user(world, raw, where, make)
    for index, token in enumerate(field_texts(spec, "orphanTokens", ROOT, nonempty=True)):
        if token in world.tokens:
            raise WorldError(f"{ROOT}.orphanTokens[{index}]", "this token is given twice")
        world.tokens[token] = None
    now = timestamp(clock)
    for where, raw in field_objects(spec, "rooms", ROOT):
        _load_room(world, raw, where, make, now)
    return world


def _load_user(world: World, raw: Mapping[str, Any], where: str, make: IdMaker) -> None:
    username = field_text(raw, "username", where)
    if not username.strip():
        fail(f"{where}.username", "a non-empty string", username)
    if username.lower() in world.usernames:
        raise WorldError(f"{where}.username", f"{username!r} is given twice")
    user = User(
        id=_object_id(raw, where, make, world, "user"),
        username=username,
        display_name=field_text(raw, "displayName", where, username),
        email=field_text(raw, "email", where, ""),
        password=field_text(raw, "password", where, ""),
        avatar_url=field_text(raw, "avatarUrl", where, f"https://avatars.example.com/gitter/{username}"),
        staff=field_bool(raw, "staff", where, False),
        providers=tuple(field_texts(raw, "providers", where) if "providers" in raw else ("github",)),
        orgs=tuple(
            GithubOrg(
                id=field_int(org, "id", place, -1, 0, MAX_GITHUB_ID),
                name=_github_name(org, place),
                avatar_url=field_text(org, "avatarUrl", place, f"https://avatars.example.com/github/{org.get('name')}"),
            )
            for place, org in field_objects(raw, "orgs", where)
        ),
        repos=tuple(
            GithubRepo(
                id=field_int(repo, "id", place, -1, 0, MAX_GITHUB_ID),
                name=_github_name(repo, place),
                private=field_bool(repo, "private", place, False),
                admin=field_bool(repo, "admin", place, False),
            )
            for place, repo in field_objects(raw, "repos", where)
        ),
    )
    world.add_user(user)
    for index, token in enumerate(field_texts(raw, "tokens", where, nonempty=True)):
        if token in world.tokens:
            raise WorldError(f"{where}.tokens[{index}]", "this token is given twice")
        world.tokens[token] = user.id


def _github_name(raw: Mapping[str, Any], where: str) -> str:
    name = field_text(raw, "name", where).strip("/")
    if not name:
        fail(f"{where}.name", "a GitHub name like chatmock or chatmock/chatmock", raw.get("name"))
    return name


def _member_ids(world: World, raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    """The user ids of the usernames listed under ``raw[key]``, each once, in order."""
    ids: dict[str, None] = {}
    for index, name in enumerate(field_texts(raw, key, where)):
        user = world.user_named(name)
        if user is None:
            raise WorldError(f"{where}.{key}[{index}]", f"unknown user {name!r}")
        ids[user.id] = None
    return list(ids)


def _load_room(world: World, raw: Mapping[str, Any], where: str, make: IdMaker, now: str) -> None:
    github_type = field_choice(raw, "githubType", where, "REPO", GITHUB_TYPES)
    members = _member_ids(world, raw, "members", where)
    uri: str | None = None
    if github_type == ONETOONE:
        if raw.get("uri") is not None:
            fail(f"{where}.uri", "no uri on a ONETOONE room", raw["uri"])
        if len(members) != 2:
            raise WorldError(f"{where}.members", f"a ONETOONE room has exactly two members, got {len(members)}")
        if frozenset(members) in world.pairs:
            raise WorldError(f"{where}.members", "these two users already have a ONETOONE room")
    else:
        uri = field_text(raw, "uri", where).strip("/")
        if not uri:
            fail(f"{where}.uri", "a room uri like org/repo", raw.get("uri"))
        if uri.lower() in world.uris:
            raise WorldError(f"{where}.uri", f"{uri!r} is given twice")
    room = Room(
        id=_object_id(raw, where, make, world, "room"),
        github_type=github_type,
        uri=uri,
        name=field_text(raw, "name", where, uri or ""),
        topic=field_text(raw, "topic", where, ""),
        security=field_text(raw, "security", where, "PUBLIC"),
        tags=field_texts(raw, "tags", where),
    )
    for member in members:
        room.add_member(member, now)
    world.add_room(room)
    room.admins = set(_member_ids(world, raw, "admins", where))
    for index, message in enumerate(field_list(raw, "messages", where)):
        _load_message(world, room, message, f"{where}.messages[{index}]", make, now)


def _load_message(world: World, room: Room, raw: Any, where: str, make: IdMaker, now: str) -> None:
    expect_object(raw, where)
    sender_name = field_text(raw, "from", where)
    sender = world.user_named(sender_name)
    if sender is None:
        raise WorldError(f"{where}.from", f"unknown user {sender_name!r}")
    text = field_text(raw, "text", where)
    sent = _timestamp(raw, "sent", where, now)
    edited = _timestamp(raw, "editedAt", where, None)
    message = Message(
        id=_object_id(raw, where, make, world, "message"),
        room_id=room.id,
        user_id=sender.id,
        text=text,
        sent=str(sent),
        edited_at=edited,
        status=field_bool(raw, "status", where, False),
        v=2 if edited else 1,
    )
    world.add_message(room, message)
    unread_by = set(_member_ids(world, raw, "unreadBy", where)) if "unreadBy" in raw else set()
    room.receive(message, unread_by)
