"""The Rocket.Chat state model and how a world is loaded into it.

World format (the ``"rocketchat"`` part of a seed file; the default world is ``world.json``
beside this module)::

    {
      "version": "6.0.0",                           # optional: the version profile while this world is in force
      "settings": {"defaultCount": 50, "maxCount": 100, "historyCount": 20},
      "users": [
        {"_id": "aLiCEx3kPq7RtZ2mW", "username": "alice", "name": "Alice",
         "email": "alice@example.com",            # or "emails": [{"address", "verified"}]
         "password": "alice-password",            # omit: the user cannot log in with a password
         "personalAccessTokens": ["rc-pat-alice"],  # work in X-Auth-Token with X-User-Id
         "authTokens": [],                         # login tokens already issued (optional)
         "type": "user", "status": "online", "active": true, "roles": ["user"], "utcOffset": 0}
      ],
      "rooms": [
        {"_id": "GENERAL", "t": "c", "name": "general", "members": ["alice", "bob"],
         "creator": "rocket.cat", "owners": ["rocket.cat"], "moderators": [], "leaders": [],  # default owner: the creator
         "default": true, "ro": false, "topic": "...", "description": "...",
         "ts": "2024-01-01T00:00:00.000Z"},
        {"t": "d", "members": ["alice", "bob"]}   # a DM: its _id is the two user ids, sorted, concatenated
      ],
      "messages": [
        {"_id": "...", "room": "general",          # or "rid": a room _id
         "user": "alice",                          # the sender's username (or "u": {"_id", ...})
         "msg": "Hello", "ts": "2024-01-05T10:00:00.000Z",
         ...any other Message field (attachments, alias, emoji, tmid, pinned, starred) kept verbatim}
      ],
      "removedRooms": [{"_id": "...", "members": ["alice"], "at": "2024-01-09T00:00:00.000Z"}],
      "serverSettings": {"Accounts_RegistrationForm": "Public", ...},  # settings/:_id; merged over the defaults
      "integrations": [                            # incoming webhooks: POST /hooks/<_id>/<token>
        {"_id": "...", "type": "webhook-incoming", "name": "CI", "token": "...",
         "username": "rocket.cat",                 # who posts (the integration's user)
         "channel": "#general",                    # or "@user", or several: "#a,#b"
         "enabled": true, "alias": "", "emoji": "", "avatar": "",
         "overrideDestinationChannelEnabled": false}
      ],
      "permissions": {"create-c": ["admin", "user"]}  # permission -> roles, over the defaults
    }

Rooms may name ``owners``, ``moderators`` and ``leaders`` (usernames); without ``owners`` the
creator owns the room. ``serverSettings`` (see :data:`DEFAULT_SERVER_SETTINGS`) are what
``settings/:_id`` reads and writes; ``Accounts_RegistrationForm`` "Public" opens users.register.
``integrations`` are incoming webhooks (``_id`` and ``token`` generated when left out; the
token is a secret: never logged); ``permissions`` replace the roles of the permissions named
(what ``permissions.update`` changes).

``version`` picks the server version profile (see :mod:`.profile`) for as long as the world is
in force, over ``--rocketchat-version`` / the pytest ini option; a reset to the default world
goes back to that option's profile. An unknown version is refused (``$.version``).

Every key is optional. ``settings`` not given fall back to the default world's (Rocket.Chat's
"Default Count" 50, "Max Record Amount" 100, channels.history's 20). Ids left out are generated
(17-character Meteor ids); members, creators and senders are usernames. ``removedRooms`` are
rooms a user has left or that were deleted: ``rooms.get?updatedSince=`` lists them in ``remove``.
Settings are integers from 1 to :data:`MAX_COUNT`; ``maxCount`` caps every ``count``.

A malformed world raises :class:`~mockserver.core.worlds.WorldError` (a ``ValueError``) naming the JSON path of
the bad value, e.g. ``$.users[0].createdAt: expected an ISO time string, got 5``. Loading is
linear in the size of the world (users, e-mails, room names and message ids are indexed).

Message ids are unique within a room. A client-chosen ``_id`` (chat.sendMessage) that a message
of a room the sender cannot see already has is free for the sender's room (no existence oracle:
the answer is the one an unused id gets); the seed's own ids are unique world-wide.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockserver.apis.rocketchat.permissions import DEFAULT_PERMISSIONS, holds
from mockserver.core.guard import (
    LastUse,
    expect_object,
    fail,
    field_bool,
    field_choice,
    field_int,
    field_number,
    field_objects,
    field_text,
    field_texts,
)
from mockserver.core.store import RandomText, Store, iso_millis
from mockserver.core.worlds import Credentials, WorldError, entries, first, given, read_world_file

WORLD_FILE = Path(__file__).with_name("world.json")
METEOR_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PAT = "personal"
LOGIN = "login"
ROOT = "$"
SETTINGS = ("defaultCount", "maxCount", "historyCount")
# the largest a setting may be: a mock maximum on every page [inferred: Rocket.Chat's "Max Record
# Amount" (API_Upper_Count_Limit) has no documented ceiling; its default is 100]
MAX_COUNT = 10_000
ROOM_TYPES = frozenset({"c", "p", "d"})  # the mock serves channels, private groups and DMs (_defs.json Room.t)
USER_TYPES = frozenset({"user", "bot"})  # _defs.json User.type
USER_STATUSES = frozenset({"online", "offline", "away", "busy"})  # _defs.json userStatus
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")  # _defs.json token: an authToken is sent back by a resume login


# settings/:_id: Rocket.Chat's defaults for the settings the mock reads or clients ask for
# (apps/meteor/server/settings/*.ts); CREATE_TOKENS_FOR_USERS_SECRET stands in for the
# environment variable users.createToken checks from 8.0 [inferred].
DEFAULT_SERVER_SETTINGS: dict[str, Any] = {
    "Site_Name": "Rocket.Chat",
    "Site_Url": "http://localhost:3000",
    "Accounts_RegistrationForm": "Public",
    "API_Default_Count": 50,
    "API_Upper_Count_Limit": 100,
    "API_Allow_Infinite_Count": True,
    "Message_AllowEditing": True,
    "Message_AllowDeleting": True,
    "Message_MaxAllowedSize": 5000,
    "UTF8_Channel_Names_Validation": "[0-9a-zA-Z-_.]+",
    "CREATE_TOKENS_FOR_USERS_SECRET": "chatmock-token-secret",
}

_meteor_text = RandomText(METEOR_ALPHABET)
_token_text = RandomText(TOKEN_ALPHABET)


def new_id() -> str:
    """A Meteor ``Random.id()``: 17 characters of the unambiguous alphabet."""
    return _meteor_text(17)


def new_token() -> str:
    """An authToken like Meteor's ``Random.secret()``: 43 base64url characters."""
    return _token_text(43)


def iso(ms: int) -> str:
    """Epoch milliseconds -> ``2016-12-09T12:50:51.555Z`` (``iso_millis`` caches each second's text)."""
    return iso_millis(ms)


def parse_iso(text: str) -> int:
    """An ISO date (``2017-11-25``, ``...T15:08``, ``...Z``, ``...+09:00``) -> epoch ms; naive means UTC.

    Raises ValueError for anything else."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def dm_id(user_ids: Iterable[str]) -> str:
    """A direct-message room id: the member ids, sorted, concatenated."""
    return "".join(sorted(set(user_ids)))


def reacted(doc: Mapping[str, Any], emoji: str, username: str, should: bool | None) -> dict[str, Any]:
    """A copy of a message document with ``username``'s reaction ``emoji`` set (``should``
    True), removed (False) or toggled (None), as chat.react and the setReaction method do; a
    reaction nobody holds any more is dropped, and so is an empty ``reactions``. Replies already
    sent share the stored document, so it is never changed in place."""
    key = ":" + emoji.strip(":") + ":"
    copy = dict(doc)
    reactions = {name: {**entry, "usernames": list(entry.get("usernames", []))} for name, entry in copy.get("reactions", {}).items()}
    usernames = reactions.setdefault(key, {"usernames": []})["usernames"]
    present = username in usernames
    react = (not present) if should is None else should
    if react and not present:
        usernames.append(username)
    elif not react and present:
        usernames.remove(username)
    reactions = {name: entry for name, entry in reactions.items() if entry["usernames"]}
    if reactions:
        copy["reactions"] = reactions
    else:
        copy.pop("reactions", None)
    return copy


def default_world() -> dict[str, Any]:
    return read_world_file(WORLD_FILE)


def credentials(document: Mapping[str, Any]) -> Credentials:
    """Login name, password, user id and first personal access token, by username."""
    return {
        str(user["username"]): given(
            {
                "user": user.get("username"),
                "password": user.get("password"),
                "user_id": user.get("_id"),
                "token": first(user.get("personalAccessTokens")),
            }
        )
        for user in entries(document, "users")
        if user.get("username")
    }


@dataclass
class User:
    id: str
    username: str
    name: str
    emails: list[dict[str, Any]]
    password: str | None
    type: str
    status: str
    active: bool
    roles: list[str]
    utc_offset: float
    created_ms: int
    last_login_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Room:
    id: str
    t: str
    name: str | None
    members: list[str]  # user ids, in joining order (rooms keep their members)
    creator: str | None  # user id
    created_ms: int
    updated_ms: int
    extra: dict[str, Any] = field(default_factory=dict)  # default, ro, topic, description, fname, ...
    member_set: frozenset[str] = field(init=False)  # the members, for membership checks

    def __post_init__(self) -> None:
        self.member_set = frozenset(self.members)


@dataclass
class Stored:
    """One message: its JSON document and the keys that order it."""

    ms: int
    seq: int
    doc: dict[str, Any]


class World:
    """The Rocket.Chat state of one loaded world (built by :meth:`load`, nothing shared)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.users: dict[str, User] = {}  # by user id
        self.usernames: dict[str, User] = {}  # lower-case username -> user
        self.emails: dict[str, User] = {}  # lower-case address -> user
        self.tokens: dict[str, tuple[str, str]] = {}  # token -> (user id, kind: personal | login)
        self.last_use = LastUse()  # login token -> last use (settings.session_idle_timeout)
        self.rooms: dict[str, Room] = {}
        self.room_names: dict[str, Room] = {}
        self.timelines: dict[str, list[Stored]] = {}  # room id -> its messages, oldest first
        self.messages: dict[tuple[str, str], Stored] = {}  # (room id, message id) -> message
        self.message_rooms: dict[str, list[str]] = {}  # message id -> the rooms with a message of that id
        self.removed: list[dict[str, Any]] = []
        self.settings: dict[str, int] = {}
        self.room_roles: dict[str, dict[str, list[str]]] = {}  # room id -> user id -> owner / moderator / leader
        self.permissions: dict[str, tuple[str, ...]] = dict(DEFAULT_PERMISSIONS)
        self.server_settings: dict[str, Any] = dict(DEFAULT_SERVER_SETTINGS)
        self.last_seen: dict[tuple[str, str], int] = {}  # (room id, user id) -> ms the user last read the room
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> {rid, name, type, content, user, confirmed}
        self.closed: dict[str, set[str]] = {}  # room id -> users whose subscription is closed (hidden)
        self.deleted: dict[str, list[tuple[str, int]]] = {}  # room id -> (message id, ms) of deleted messages
        self.integrations: dict[str, dict[str, Any]] = {}  # integration id -> its document (token included)
        self.permissions_updated: dict[str, int] = {}  # permission -> ms of its last change (permissions.update)
        self._last_ms = 0
        self.loaded_ms = 0  # when the world was loaded (statistics' installedAt, the permissions' first _updatedAt)
        self._seq = itertools.count(1)

    # time ------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The mock clock in ms, strictly increasing across calls so ts orders every post."""
        now = max(int(self.store.clock.timestamp() * 1000), self._last_ms + 1)
        self._last_ms = now
        return now

    # lookups ---------------------------------------------------------------------
    def user_by_name(self, username: str) -> User | None:
        return self.usernames.get(username.lower())

    def user_by_login(self, login: str) -> User | None:
        """Username or e-mail address (both case-insensitive)."""
        found = self.usernames.get(login.lower())
        return found if found is not None else self.emails.get(login.lower())

    def room_by_name(self, name: str) -> Room | None:
        return self.room_names.get(name)

    def rooms_of(self, user_id: str) -> list[Room]:
        return [room for room in self.rooms.values() if user_id in room.member_set]

    def timeline(self, room_id: str) -> list[Stored]:
        return self.timelines.setdefault(room_id, [])

    def message_in(self, room_id: str, message_id: str) -> Stored | None:
        return self.messages.get((room_id, message_id))

    def visible_message(self, message_id: str, user_id: str) -> Stored | None:
        """The message with this id in a room the user belongs to (messages of other rooms look
        like no message at all)."""
        for room_id in self.message_rooms.get(message_id, ()):
            room = self.rooms.get(room_id)
            if room is not None and user_id in room.member_set:
                return self.messages[room_id, message_id]
        return None

    # changes ---------------------------------------------------------------------
    def issue_token(self, user_id: str, kind: str = LOGIN, token: str | None = None, now: float = 0.0) -> str:
        token = token or new_token()
        self.tokens[token] = (user_id, kind)
        if kind == LOGIN:
            self.last_use.touch(token, now)
        return token

    def end_token(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.last_use.forget(token)

    def roles_in(self, user: User, room: Room | None) -> list[str]:
        """The user's global roles and, in ``room``, its room roles."""
        if room is None:
            return user.roles
        return user.roles + self.room_roles.get(room.id, {}).get(user.id, [])

    def can(self, user: User, permission: str, room: Room | None = None) -> bool:
        return holds(self.permissions, permission, self.roles_in(user, room))

    def set_room_role(self, room: Room, user_id: str, role: str, on: bool) -> bool:
        """Give or take a room role (False: nothing changed)."""
        held = self.room_roles.setdefault(room.id, {}).setdefault(user_id, [])
        if on == (role in held):
            return False
        if on:
            held.append(role)
        else:
            held.remove(role)
        return True

    def holders(self, room: Room, role: str) -> list[str]:
        return [uid for uid, roles in self.room_roles.get(room.id, {}).items() if role in roles and uid in room.member_set]

    def remove_message(self, room_id: str, message_id: str) -> Stored | None:
        stored = self.messages.pop((room_id, message_id), None)
        if stored is None:
            return None
        self.deleted.setdefault(room_id, []).append((message_id, self.now_ms()))  # chat.syncMessages' deleted
        self.timeline(room_id).remove(stored)
        rooms = self.message_rooms.get(message_id, [])
        if room_id in rooms:
            rooms.remove(room_id)
        if not rooms:
            self.message_rooms.pop(message_id, None)
        return stored

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        self.usernames[user.username.lower()] = user
        for mail in user.emails:
            self.emails[str(mail["address"]).lower()] = user

    def rename_user(self, user: User, username: str | None, address: str | None) -> None:
        if username is not None:
            self.usernames.pop(user.username.lower(), None)
            user.username = username
            self.usernames[username.lower()] = user
        if address is not None:
            for mail in user.emails:
                self.emails.pop(str(mail["address"]).lower(), None)
            user.emails = [{"address": address, "verified": False}]
            self.emails[address.lower()] = user

    def delete_user(self, user: User) -> None:
        self.users.pop(user.id, None)
        self.usernames.pop(user.username.lower(), None)
        for mail in user.emails:
            self.emails.pop(str(mail["address"]).lower(), None)
        for token, (owner, _) in list(self.tokens.items()):
            if owner == user.id:
                self.end_token(token)
        for room in self.rooms_of(user.id):
            self.remove_member(room, user.id)

    def add_member(self, room: Room, user_id: str) -> bool:
        """Add a member (False: already one)."""
        if user_id in room.member_set:
            return False
        room.members.append(user_id)
        room.member_set = frozenset(room.members)
        return True

    def remove_member(self, room: Room, user_id: str) -> bool:
        """Remove a member (False: not one)."""
        if user_id not in room.member_set:
            return False
        room.members.remove(user_id)
        room.member_set = frozenset(room.members)
        self.room_roles.get(room.id, {}).pop(user_id, None)
        return True

    def add_room(self, room: Room) -> None:
        self.rooms[room.id] = room
        if room.name is not None:
            self.room_names.setdefault(room.name, room)

    def add_message(self, doc: dict[str, Any], *, loading: bool = False) -> Stored:
        """Store a message document (with ``_id``, ``rid`` and ``ts``) in its room, in ts order
        (``loading``: appended; :meth:`load` sorts every timeline once at the end)."""
        ts = str(doc["ts"])
        ms = parse_iso(ts)
        stored = Stored(ms=ms, seq=next(self._seq), doc=doc)
        room_id, message_id = str(doc["rid"]), str(doc["_id"])
        timeline = self.timeline(room_id)
        if loading or not timeline or timeline[-1].ms <= ms:  # the usual case: the newest (seq only grows)
            timeline.append(stored)
        else:
            bisect.insort(timeline, stored, key=_order)
        self.messages[room_id, message_id] = stored
        self.message_rooms.setdefault(message_id, []).append(room_id)
        closed = self.closed.get(room_id)
        if closed:  # a new message opens the room again for everyone but its sender (setOpenForRoomIdExcludingUserId)
            closed.intersection_update({str(doc.get("u", {}).get("_id", ""))})
        room = self.rooms.get(room_id)
        if room is not None:
            updated = str(doc.get("_updatedAt", ts))
            room.updated_ms = max(room.updated_ms, ms if updated == ts else parse_iso(updated))
        return stored

    # loading ---------------------------------------------------------------------
    def load(self, world: Mapping[str, Any], check: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        """Fill this (empty) world from a world document; ``check`` finds what is wrong with a
        stored message document (None: nothing). Raises :class:`WorldError`."""
        expect_object(world, ROOT)
        now_seconds = self.store.clock.timestamp()
        now = int(now_seconds * 1000)
        self.loaded_ms = now
        self._load_settings(world)
        self.server_settings.update(expect_object(world.get("serverSettings", {}), f"{ROOT}.serverSettings"))
        for where, spec in field_objects(world, "users", ROOT):
            self._load_user(spec, where, now, now_seconds)
        for where, spec in field_objects(world, "rooms", ROOT):
            self._load_room(spec, where, now)
        for where, spec in field_objects(world, "messages", ROOT):
            doc = self._world_message(spec, where, now)
            problem = check(doc) if check is not None else None
            if problem is not None:
                raise WorldError(where, f"not a Rocket.Chat message: {problem}")
            self.add_message(doc, loading=True)
        for timeline in self.timelines.values():
            timeline.sort(key=_order)  # one sort (nearly in order: linear) instead of an insort each
        for where, spec in field_objects(world, "integrations", ROOT):
            self._load_integration(spec, where, now)
        where = f"{ROOT}.permissions"
        for permission, roles in expect_object(world.get("permissions", {}), where).items():
            self.permissions[permission] = tuple(field_texts({permission: roles}, permission, where))
            self.permissions_updated[permission] = now
        for where, spec in field_objects(world, "removedRooms", ROOT):
            self.removed.append(
                {
                    "_id": field_text(spec, "_id", where, nonempty=True),
                    "members": [
                        self._user(name, f"{where}.members[{index}]").id for index, name in enumerate(field_texts(spec, "members", where))
                    ],
                    "ms": _time(spec, "at", where, now),
                }
            )

    def _load_settings(self, world: Mapping[str, Any]) -> None:
        where = f"{ROOT}.settings"
        given_settings = expect_object(world.get("settings", {}), where)
        unknown = sorted(set(given_settings) - set(SETTINGS))
        if unknown:
            fail(f"{where}.{unknown[0]}", "a setting among " + ", ".join(SETTINGS), given_settings[unknown[0]])
        defaults = default_world().get("settings", {})
        for key in SETTINGS:
            self.settings[key] = field_int(given_settings, key, where, int(defaults[key]), 1, MAX_COUNT)

    def _user(self, username: str, where: str) -> User:
        user = self.user_by_name(username)
        if user is None:
            raise WorldError(where, f"unknown user {username!r}")
        return user

    def _load_user(self, spec: Mapping[str, Any], where: str, now: int, now_seconds: float) -> None:
        username = field_text(spec, "username", where, nonempty=True)
        if username.lower() in self.usernames:
            raise WorldError(f"{where}.username", f"{username!r} is given twice")
        addressed: list[tuple[str, dict[str, Any]]] = []  # (path, e-mail)
        for path, mail in field_objects(spec, "emails", where):
            address = field_text(mail, "address", path, nonempty=True)
            addressed.append((f"{path}.address", {**mail, "address": address, "verified": field_bool(mail, "verified", path, False)}))
        if "email" in spec:
            address = field_text(spec, "email", where, nonempty=True)
            addressed.append((f"{where}.email", {"address": address, "verified": field_bool(spec, "verified", where, True)}))
        emails = [mail for _, mail in addressed]
        password = spec.get("password")
        if password is not None:
            field_text(spec, "password", where)
        for key in ("preferences", "customFields"):
            if key in spec:
                expect_object(spec[key], f"{where}.{key}")
        known = {
            "_id", "username", "name", "email", "emails", "verified", "password", "personalAccessTokens", "authTokens",
            "type", "status", "active", "roles", "utcOffset", "createdAt", "lastLogin",
        }  # fmt: skip
        user = User(
            id=field_text(spec, "_id", where, "", nonempty=False) or new_id(),
            username=username,
            name=field_text(spec, "name", where, username),
            emails=emails,
            password=password,
            type=field_choice(spec, "type", where, "user", USER_TYPES),
            status=field_choice(spec, "status", where, "offline", USER_STATUSES),
            active=field_bool(spec, "active", where, True),
            roles=field_texts(spec, "roles", where) if "roles" in spec else ["user"],
            utc_offset=field_number(spec, "utcOffset", where, 0, -24, 24),
            created_ms=_time(spec, "createdAt", where, now),
            last_login_ms=_time(spec, "lastLogin", where, None),
            extra={key: value for key, value in spec.items() if key not in known},
        )
        if user.id in self.users:
            raise WorldError(f"{where}._id", f"{user.id!r} is given twice")
        for path, mail in addressed:
            address = str(mail["address"]).lower()
            if address in self.emails:
                raise WorldError(path, f"{mail['address']!r} is already the address of another user")
            self.emails[address] = user
        self.users[user.id] = user
        self.usernames[username.lower()] = user
        for key, kind in (("personalAccessTokens", PAT), ("authTokens", LOGIN)):
            for index, token in enumerate(field_texts(spec, key, where, nonempty=True)):
                if token in self.tokens:
                    raise WorldError(f"{where}.{key}[{index}]", "this token is given twice")
                if kind == LOGIN and not _TOKEN.match(token):
                    fail(f"{where}.{key}[{index}]", "a token of letters, digits, - and _", token)
                self.issue_token(user.id, kind, token, now_seconds)

    def _load_room(self, spec: Mapping[str, Any], where: str, now: int) -> None:
        kind = field_choice(spec, "t", where, "c", ROOM_TYPES)
        members = [self._user(name, f"{where}.members[{index}]").id for index, name in enumerate(field_texts(spec, "members", where))]
        room_id = field_text(spec, "_id", where, "") or (dm_id(members) if kind == "d" else new_id())
        if room_id in self.rooms:
            raise WorldError(f"{where}._id", f"room {room_id!r} is given twice")
        name = None if kind == "d" else field_text(spec, "name", where, room_id, nonempty=True)
        if name is not None and name in self.room_names:
            raise WorldError(f"{where}.name", f"room name {name!r} is given twice")
        for key in ("default", "ro", "sysMes"):
            field_bool(spec, key, where, False)
        for key in ("topic", "description", "fname"):
            field_text(spec, key, where, "")
        created = _time(spec, "ts", where, now)
        known = {"_id", "t", "name", "members", "creator", "ts", "_updatedAt", "owners", "moderators", "leaders"}
        creator = field_text(spec, "creator", where, "")
        room_roles: dict[str, list[str]] = {}
        for key, role in (("owners", "owner"), ("moderators", "moderator"), ("leaders", "leader")):
            for index, name in enumerate(field_texts(spec, key, where)):
                room_roles.setdefault(self._user(name, f"{where}.{key}[{index}]").id, []).append(role)
        room = Room(
            id=room_id,
            t=kind,
            name=name,
            members=list(dict.fromkeys(members)),
            creator=self._user(creator, f"{where}.creator").id if creator else None,
            created_ms=created,
            updated_ms=_time(spec, "_updatedAt", where, created),
            extra={key: value for key, value in spec.items() if key not in known},
        )
        if "owners" not in spec and room.creator is not None and kind != "d":
            room_roles.setdefault(room.creator, []).insert(0, "owner")  # a room's creator is its owner
        if room_roles:
            self.room_roles[room.id] = room_roles
        self.add_room(room)

    def _load_integration(self, spec: Mapping[str, Any], where: str, now: int) -> None:
        """A seeded incoming webhook, in the shape integrations.create answers."""
        kind = field_choice(spec, "type", where, "webhook-incoming", frozenset({"webhook-incoming"}))
        username = field_text(spec, "username", where, nonempty=True)
        user = self._user(username, f"{where}.username")
        channel = field_text(spec, "channel", where, nonempty=True)
        doc: dict[str, Any] = {
            "_id": field_text(spec, "_id", where, "") or new_id(),
            "type": kind,
            "name": field_text(spec, "name", where, username),
            "enabled": field_bool(spec, "enabled", where, True),
            "username": username,
            "userId": user.id,
            "channel": [item.strip() for item in channel.split(",") if item.strip()],
            "token": field_text(spec, "token", where, "") or new_token(),
            "scriptEnabled": False,
            "overrideDestinationChannelEnabled": field_bool(spec, "overrideDestinationChannelEnabled", where, False),
            "_createdAt": iso(now),
            "_createdBy": {"_id": user.id, "username": username},
            "_updatedAt": iso(now),
        }
        for key in ("alias", "emoji", "avatar"):
            doc[key] = field_text(spec, key, where, "")
        if doc["_id"] in self.integrations:
            raise WorldError(f"{where}._id", f"integration {doc['_id']!r} is given twice")
        self.integrations[doc["_id"]] = doc

    def _world_message(self, spec: Mapping[str, Any], where: str, now: int) -> dict[str, Any]:
        """A seeded message as stored (one index lookup per room and sender)."""
        doc = {key: value for key, value in spec.items() if key not in ("room", "user")}
        if "room" in spec:
            name = field_text(spec, "room", where)
            room = self.room_by_name(name)
            if room is None:
                raise WorldError(f"{where}.room", f"unknown room {name!r}")
            doc["rid"] = room.id
        elif field_text(spec, "rid", where) not in self.rooms:
            raise WorldError(f"{where}.rid", f"unknown room {spec['rid']!r}")
        if "user" in spec:
            user = self._user(field_text(spec, "user", where), f"{where}.user")
            doc["u"] = {"_id": user.id, "username": user.username, "name": user.name}
        else:
            sender = expect_object(spec.get("u"), f"{where}.u")
            field_text(sender, "_id", f"{where}.u", nonempty=True)
            field_text(sender, "username", f"{where}.u", nonempty=True)
        message_id = doc.setdefault("_id", new_id())
        if not isinstance(message_id, str) or not message_id:
            fail(f"{where}._id", "a non-empty string", message_id)
        if message_id in self.message_rooms:
            raise WorldError(f"{where}._id", f"message id {message_id!r} is given twice")
        doc["msg"] = field_text(spec, "msg", where, "")
        _time(spec, "ts", where, None)
        _time(spec, "_updatedAt", where, None)
        doc.setdefault("ts", iso(now))
        doc.setdefault("_updatedAt", doc["ts"])
        return doc


def _order(stored: Stored) -> tuple[int, int]:
    return stored.ms, stored.seq


def _time(spec: Mapping[str, Any], key: str, where: str, default: Any) -> Any:
    """``spec[key]``, an ISO time, as epoch ms (absent: ``default``)."""
    if key not in spec:
        return default
    value = spec[key]
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except (ValueError, OverflowError):
            pass
    fail(f"{where}.{key}", "an ISO time string", value)
