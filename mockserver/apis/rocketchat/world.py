"""The Rocket.Chat state model and how a world is loaded into it.

World format (the ``"rocketchat"`` part of a seed file; the default world is ``world.json``
beside this module)::

    {
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
         "creator": "rocket.cat", "default": true, "ro": false, "topic": "...", "description": "...",
         "ts": "2024-01-01T00:00:00.000Z"},
        {"t": "d", "members": ["alice", "bob"]}   # a DM: its _id is the two user ids, sorted, concatenated
      ],
      "messages": [
        {"_id": "...", "room": "general",          # or "rid": a room _id
         "user": "alice",                          # the sender's username (or "u": {"_id", ...})
         "msg": "Hello", "ts": "2024-01-05T10:00:00.000Z",
         ...any other Message field (attachments, alias, emoji, tmid, pinned, starred) kept verbatim}
      ],
      "removedRooms": [{"_id": "...", "members": ["alice"], "at": "2024-01-09T00:00:00.000Z"}]
    }

Every key is optional. ``settings`` not given fall back to the default world's (Rocket.Chat's
"Default Count" 50, "Max Record Amount" 100, channels.history's 20). Ids left out are generated
(17-character Meteor ids); members, creators and senders are usernames. ``removedRooms`` are
rooms a user has left or that were deleted: ``rooms.get?updatedSince=`` lists them in ``remove``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockserver.core.store import Namespace, RandomText, Store, iso_millis
from mockserver.core.worlds import Credentials, entries, first, given, read_world_file

WORLD_FILE = Path(__file__).with_name("world.json")
METEOR_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
PAT = "personal"
LOGIN = "login"


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
    members: list[str]  # user ids, in joining order
    creator: str | None  # user id
    created_ms: int
    updated_ms: int
    extra: dict[str, Any] = field(default_factory=dict)  # default, ro, topic, description, fname, ...


@dataclass
class Stored:
    """One message: its JSON document and the keys that order it."""

    ms: int
    seq: int
    doc: dict[str, Any]


class World:
    """Typed access to the Rocket.Chat tables of a :class:`Namespace`."""

    def __init__(self, state: Namespace, store: Store) -> None:
        self.state = state
        self.store = store

    # tables ----------------------------------------------------------------------
    @property
    def users(self) -> dict[str, User]:
        users: dict[str, User] = self.state.table("users")
        return users

    @property
    def tokens(self) -> dict[str, tuple[str, str]]:
        """token -> (user id, kind: personal | login)."""
        tokens: dict[str, tuple[str, str]] = self.state.table("tokens")
        return tokens

    @property
    def rooms(self) -> dict[str, Room]:
        rooms: dict[str, Room] = self.state.table("rooms")
        return rooms

    @property
    def timelines(self) -> dict[str, list[Stored]]:
        """room id -> its messages, oldest first."""
        timelines: dict[str, list[Stored]] = self.state.table("timelines")
        return timelines

    @property
    def messages(self) -> dict[str, Stored]:
        """message id -> message."""
        messages: dict[str, Stored] = self.state.table("messages")
        return messages

    @property
    def removed(self) -> list[dict[str, Any]]:
        removed: list[dict[str, Any]] = self.state.table("removed", list)
        return removed

    @property
    def settings(self) -> dict[str, int]:
        settings: dict[str, int] = self.state.table("settings")
        return settings

    # time ------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The mock clock in ms, strictly increasing across calls so ts orders every post."""
        clock: dict[str, int] = self.state.table("clock")
        now = int(self.store.clock.timestamp() * 1000)
        now = max(now, clock.get("last", 0) + 1)
        clock["last"] = now
        return now

    # lookups ---------------------------------------------------------------------
    def user_by_name(self, username: str) -> User | None:
        wanted = username.lower()
        return next((user for user in self.users.values() if user.username.lower() == wanted), None)

    def user_by_login(self, login: str) -> User | None:
        """Username or e-mail address (both case-insensitive)."""
        found = self.user_by_name(login)
        if found is not None:
            return found
        wanted = login.lower()
        return next(
            (user for user in self.users.values() if any(str(mail.get("address", "")).lower() == wanted for mail in user.emails)),
            None,
        )

    def room_by_name(self, name: str) -> Room | None:
        return next((room for room in self.rooms.values() if room.name is not None and room.name == name), None)

    def rooms_of(self, user_id: str) -> list[Room]:
        return [room for room in self.rooms.values() if user_id in room.members]

    def timeline(self, room_id: str) -> list[Stored]:
        return self.timelines.setdefault(room_id, [])

    # changes ---------------------------------------------------------------------
    def issue_token(self, user_id: str, kind: str = LOGIN, token: str | None = None) -> str:
        token = token or new_token()
        self.tokens[token] = (user_id, kind)
        return token

    def add_user(self, spec: Mapping[str, Any], now: int) -> User:
        username = str(spec["username"])
        emails = [dict(mail) for mail in spec.get("emails", ())]
        if "email" in spec:
            emails.append({"address": str(spec["email"]), "verified": bool(spec.get("verified", True))})
        known = {
            "_id", "username", "name", "email", "emails", "verified", "password", "personalAccessTokens", "authTokens",
            "type", "status", "active", "roles", "utcOffset", "createdAt", "lastLogin",
        }  # fmt: skip
        user = User(
            id=str(spec.get("_id") or new_id()),
            username=username,
            name=str(spec.get("name", username)),
            emails=emails,
            password=None if spec.get("password") is None else str(spec["password"]),
            type=str(spec.get("type", "user")),
            status=str(spec.get("status", "offline")),
            active=bool(spec.get("active", True)),
            roles=[str(role) for role in spec.get("roles", ["user"])],
            utc_offset=float(spec.get("utcOffset", 0)),
            created_ms=parse_iso(spec["createdAt"]) if "createdAt" in spec else now,
            last_login_ms=parse_iso(spec["lastLogin"]) if "lastLogin" in spec else None,
            extra={key: value for key, value in spec.items() if key not in known},
        )
        self.users[user.id] = user
        for token in spec.get("personalAccessTokens", ()):
            self.issue_token(user.id, PAT, str(token))
        for token in spec.get("authTokens", ()):
            self.issue_token(user.id, LOGIN, str(token))
        return user

    def _user_id(self, username: str) -> str:
        user = self.user_by_name(username)
        if user is None:
            raise ValueError(f"rocketchat world: unknown user {username!r}")
        return user.id

    def add_room(self, spec: Mapping[str, Any], now: int) -> Room:
        kind = str(spec.get("t", "c"))
        members = [self._user_id(str(name)) for name in spec.get("members", ())]
        room_id = str(spec.get("_id") or (dm_id(members) if kind == "d" else new_id()))
        created = parse_iso(spec["ts"]) if "ts" in spec else now
        known = {"_id", "t", "name", "members", "creator", "ts", "_updatedAt"}
        room = Room(
            id=room_id,
            t=kind,
            name=None if kind == "d" else str(spec.get("name", room_id)),
            members=list(dict.fromkeys(members)),
            creator=self._user_id(str(spec["creator"])) if spec.get("creator") else None,
            created_ms=created,
            updated_ms=parse_iso(spec["_updatedAt"]) if "_updatedAt" in spec else created,
            extra={key: value for key, value in spec.items() if key not in known},
        )
        self.rooms[room.id] = room
        return room

    def add_message(self, doc: dict[str, Any]) -> Stored:
        """Store a message document (with ``_id``, ``rid`` and ``ts``) in its room, in ts order."""
        ts = str(doc["ts"])
        ms = parse_iso(ts)
        stored = Stored(ms=ms, seq=self.state.next_id("message-seq"), doc=doc)
        room_id = str(doc["rid"])
        timeline = self.timeline(room_id)
        if not timeline or timeline[-1].ms <= ms:  # the usual case: the newest (seq only grows)
            timeline.append(stored)
        else:
            bisect.insort(timeline, stored, key=lambda item: (item.ms, item.seq))
        self.messages[str(doc["_id"])] = stored
        room = self.rooms.get(room_id)
        if room is not None:
            updated = str(doc.get("_updatedAt", ts))
            room.updated_ms = max(room.updated_ms, ms if updated == ts else parse_iso(updated))
        return stored

    # loading ---------------------------------------------------------------------
    def load(self, world: Mapping[str, Any]) -> None:
        now = int(self.store.clock.timestamp() * 1000)
        defaults = default_world().get("settings", {})
        self.settings.update({key: int(value) for key, value in {**defaults, **dict(world.get("settings", {}))}.items()})
        for spec in world.get("users", ()):
            self.add_user(spec, now)
        for spec in world.get("rooms", ()):
            self.add_room(spec, now)
        known: dict[tuple[str, str], Any] = {}  # (room | user, name) -> Room | User: one lookup per name
        for spec in world.get("messages", ()):
            self.add_message(self._world_message(spec, now, known))
        for spec in world.get("removedRooms", ()):
            self.removed.append(
                {
                    "_id": str(spec["_id"]),
                    "members": [self._user_id(str(name)) for name in spec.get("members", ())],
                    "ms": parse_iso(spec["at"]) if "at" in spec else now,
                }
            )

    def _world_message(self, spec: Mapping[str, Any], now: int, known: dict[tuple[str, str], Any]) -> dict[str, Any]:
        """A seeded message as stored; ``known`` remembers the rooms and senders already looked up
        (rooms and users do not change while messages load)."""
        doc = {key: value for key, value in spec.items() if key not in ("room", "user")}
        if "room" in spec:
            name = str(spec["room"])
            room = known.get(("room", name)) or self.room_by_name(name)
            if room is None:
                raise ValueError(f"rocketchat world: unknown room {spec['room']!r}")
            known["room", name] = room
            doc["rid"] = room.id
        if str(doc.get("rid")) not in self.rooms:
            raise ValueError(f"rocketchat world: message {spec!r} names no known room")
        if "user" in spec:
            name = str(spec["user"])
            user = known.get(("user", name)) or self.users[self._user_id(name)]
            known["user", name] = user
            doc["u"] = {"_id": user.id, "username": user.username, "name": user.name}
        if not isinstance(doc.get("u"), dict):
            raise ValueError(f"rocketchat world: message {spec!r} names no sender (user)")
        doc.setdefault("_id", new_id())
        doc.setdefault("msg", "")
        doc.setdefault("ts", iso(now))
        doc.setdefault("_updatedAt", doc["ts"])
        return doc
