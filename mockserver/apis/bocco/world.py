"""The BOCCO world: users, API keys, access tokens, rooms with members and sensors, messages
and their media files; and loading one from a seed.

World format (the ``"bocco"`` part of a seed file; ``world.json`` beside this module is the
default world)::

    {
      "apikeys": ["bocco-api-key"],            # keys accepted by POST /alpha/sessions
      "users": [                               # people, BOCCO robots and sensors
        {"name": "alice",                      # key used to refer to the user inside the seed
         "uuid": "a11ce000-0000-4000-8000-000000000001",
         "nickname": "alice",                  # default: name
         "user_type": "human",                 # human | bocco | sensor_door | sensor_lock | ... (default human)
         "email": "alice@example.com",         # optional: with a password, the user can sign in
         "password": "alice-password",
         "icon": "", "seller": "",             # optional, default ""
         "address": "00:11:22:33:44:55"}       # optional (BOCCO units, sensors)
      ],
      "tokens": [{"access_token": "<any string>", "user": "alice"}],   # optional: pre-issued tokens
      "rooms": [
        {"uuid": "FA000000-0000-4000-8000-000000000001",   # upper or lower case, kept as given
         "name": "Happy Family",
         "created_at": "2015-05-11T23:52:39+09:00",        # optional; default: now
         "background_image": "",                           # optional URL or ""
         "members": ["alice", {"user": "bob", "joined_at": "...", "read_id": 0}],
         "sensors": ["door"],                              # users shown in the room's sensors
         "messages": [                                     # ascending; ids default to max + 1
           {"id": 1001, "unique_id": "<UUID>",              # unique_id optional (generated)
            "user": "alice",                                # name or uuid of the sender
            "date": "2015-07-31T21:47:46+09:00",            # optional; default: now
            "media": "text",                                # text | audio | image (default text)
            "text": "hoge",
            "message_type": "normal",                       # or system.human_joined / system.sensor_joined
            "joined_user": "alice",                         # system.*_joined: detail.joined_user
            "dictated": false,
            "audio": {"ext": "ogg", "content_type": "audio/ogg", "base64": "..."},
            "image": {"ext": "png", "content_type": "image/png", "base64": "..."}}
         ]}
      ]
    }

``audio``/``image`` files are optional; a ``media: audio`` message without one gets a
generated WAV. Dates accept the four formats BOCCO uses (``...+09:00``, ``...Z``,
``YYYY-MM-DD HH:MM:SS`` and ``YYYY-MM-DD``, the last two read as Japan time). Every user a
message, member, sensor or token names must be listed in ``users``; users who can sign in (an
e-mail and a password) have distinct e-mail addresses. A malformed world raises
:class:`~mockserver.core.worlds.WorldError` (a ``ValueError``) naming the JSON path of the bad value, e.g.
``$.rooms[0].messages[2].date: ...`` (the admin API answers 400). Loading is linear in the size
of the world.

A ``unique_id`` is unique within a room; the seed's are unique world-wide. A client reusing
one that only a message of a room it cannot see has is answered as for an unused one (no
existence oracle).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mockserver.apis.bocco import media
from mockserver.apis.bocco.media import Blob
from mockserver.core.guard import (
    LastUse,
    expect_object,
    fail,
    field_bool,
    field_list,
    field_objects,
    field_text,
    field_texts,
    same_secret,
)
from mockserver.core.worlds import Credentials, WorldError, entries, first, given

WORLD_FILE = Path(__file__).with_name("world.json")
ROOT = "$"
MAX_MESSAGE_ID = 2**53 - 1  # message ids stay exact in every JSON reader
JST = timezone(timedelta(hours=9))
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


@dataclass
class User:
    uuid: str
    nickname: str
    user_type: str = "human"
    email: str = ""
    password: str = ""
    icon: str = ""
    seller: str = ""
    address: str | None = None


@dataclass
class Member:
    user: User
    joined_at: datetime
    read_id: int = 0


@dataclass
class Message:
    id: int
    unique_id: str
    room: str  # the room's key (lower-case uuid)
    user: User
    date: datetime
    media: str
    text: str
    message_type: str = "normal"
    dictated: bool = False
    joined_user: User | None = None
    audio: Blob | None = None
    image: Blob | None = None


@dataclass
class Room:
    uuid: str
    name: str
    created_at: datetime
    background_image: str = ""
    members: dict[str, Member] = field(default_factory=dict)  # by user uuid (lower-case)
    sensors: list[User] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)  # ascending

    @property
    def key(self) -> str:
        return self.uuid.lower()


class World:
    """All of BOCCO's state; handlers read and change it only through these methods."""

    def __init__(self) -> None:
        self.apikeys: set[str] = set()
        self.users: dict[str, User] = {}  # by lower-case uuid
        self.emails: dict[str, User] = {}  # lower-case e-mail -> the user who signs in with it
        self.tokens: dict[str, User] = {}
        self.last_use = LastUse()  # access token -> last use (settings.session_idle_timeout)
        self.rooms: dict[str, Room] = {}  # by lower-case uuid
        self.messages: dict[int, Message] = {}
        self.unique: dict[str, list[int]] = {}  # lower-case unique_id -> ids of the messages with it (one per room)
        self.last_id = 0

    # credentials ---------------------------------------------------------------
    def sign_in(self, apikey: str, email: str, password: str) -> User | None:
        """The user of these credentials. The same work whatever is wrong: every API key is
        compared, then the password, as bytes in constant time, with the account's or none."""
        key_known = False
        for known in self.apikeys:
            key_known |= same_secret(apikey, known)
        user = self.emails.get(email.lower())
        password_right = same_secret(password, user.password if user is not None else None)
        return user if key_known and password_right else None

    def issue_token(self, user: User, now: float = 0.0) -> str:
        token = secrets.token_hex(32)  # 64 hex chars like the docs' example
        self.tokens[token] = user
        self.last_use.touch(token, now)
        return token

    def user_for_token(self, token: str, now: float, idle: float | None) -> User | None:
        """The token's user; with ``idle``, a token unused for longer has ended (None)."""
        user = self.tokens.get(token)
        if user is not None and idle is not None and not self.last_use.fresh(token, now, idle):
            self.end_token(token)
            return None
        return user

    def end_token(self, token: str) -> None:
        self.tokens.pop(token, None)
        self.last_use.forget(token)

    def end_idle_tokens(self, now: float, idle: float) -> None:
        for token in self.last_use.idle(now, idle):
            self.tokens.pop(token, None)

    def secrets(self) -> list[str]:
        found = [*self.apikeys, *self.tokens]
        found.extend(user.password for user in self.users.values() if user.password)
        return found

    # rooms -----------------------------------------------------------------------
    def room_of(self, room_id: str, user: User) -> Room | None:
        """The room if ``user`` belongs to it (unknown and foreign rooms look the same)."""
        room = self.rooms.get(room_id.lower())
        if room is None or user.uuid.lower() not in room.members:
            return None
        return room

    def joined(self, user: User) -> list[Room]:
        return [room for room in self.rooms.values() if user.uuid.lower() in room.members]

    def updated_at(self, room: Room) -> datetime:
        if room.message_ids:
            return max(room.created_at, self.messages[room.message_ids[-1]].date)
        return room.created_at

    # messages ----------------------------------------------------------------------
    def page(self, room: Room, newer_than: int | None, older_than: int | None, limit: int) -> list[Message]:
        """Messages with newer_than < id < older_than, ascending. With newer_than, the oldest
        ``limit`` of them (read forward without gaps); otherwise the newest ``limit``."""
        ids = room.message_ids
        start = bisect.bisect_right(ids, newer_than) if newer_than is not None else 0
        stop = bisect.bisect_left(ids, older_than) if older_than is not None else len(ids)
        if newer_than is not None:
            stop = min(stop, start + limit)
        else:
            start = max(start, stop - limit)
        return [self.messages[message_id] for message_id in ids[start:stop]]  # slices only the page

    def newer(self, room: Room, newer_than: int, limit: int) -> list[Message]:
        """The oldest ``limit`` messages with id > newer_than (a client reads on from the last)."""
        return self.page(room, newer_than, None, limit)

    def by_unique_id(self, unique_id: str, user: User) -> Message | None:
        """The message with this unique_id in a room ``user`` belongs to (others look unknown)."""
        for message_id in self.unique.get(unique_id.lower(), ()):
            message = self.messages[message_id]
            if self.can_see(message, user):
                return message
        return None

    def by_id(self, message_id: int) -> Message | None:
        return self.messages.get(message_id)

    def add(self, message: Message, *, loading: bool = False) -> Message:
        """Store ``message`` (``loading``: appended to its room; :func:`load` sorts each room once)."""
        room = self.rooms[message.room]
        self.messages[message.id] = message
        self.unique.setdefault(message.unique_id.lower(), []).append(message.id)
        if loading or not room.message_ids or room.message_ids[-1] < message.id:
            room.message_ids.append(message.id)
        else:
            bisect.insort(room.message_ids, message.id)
        self.last_id = max(self.last_id, message.id)
        return message

    def next_id(self) -> int:
        return self.last_id + 1

    def mark_read(self, room: Room, user: User, message_id: int) -> None:
        member = room.members.get(user.uuid.lower())
        if member is not None:
            member.read_id = max(member.read_id, message_id)

    def can_see(self, message: Message, user: User) -> bool:
        room = self.rooms.get(message.room)
        return room is not None and user.uuid.lower() in room.members


# loading ---------------------------------------------------------------------------
def parse_date(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JST)
    fail(where, "a date like 2015-07-31T21:47:46+09:00", value)


def _date(spec: Mapping[str, Any], key: str, where: str, default: datetime) -> datetime:
    return parse_date(spec[key], f"{where}.{key}") if key in spec else default


def _uuid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        fail(where, "a UUID", value)
    return value


def _blob(spec: Any, where: str) -> Blob:
    expect_object(spec, where)
    ext = field_text(spec, "ext", where)
    if not re.match(r"^[a-z0-9]+$", ext):
        fail(f"{where}.ext", "lower-case letters and digits", ext)
    encoded = field_text(spec, "base64", where)
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        fail(f"{where}.base64", "base64 text", encoded)
    return Blob(ext, media.content_type_of(ext, field_text(spec, "content_type", where, "")), content)


class _Loader:
    def __init__(self, world: World, now: datetime) -> None:
        self.world = world
        self.now = now
        self.names: dict[str, User] = {}

    def user(self, ref: Any, where: str) -> User:
        if isinstance(ref, str):
            found = self.names.get(ref) or self.world.users.get(ref.lower())
            if found is not None:
                return found
        raise WorldError(
            where, f"unknown user {ref!r}" if isinstance(ref, str) else f"expected a user name or uuid, got {type(ref).__name__}"
        )

    def load(self, spec: Any) -> None:
        expect_object(spec, ROOT)
        self.world.apikeys.update(field_texts(spec, "apikeys", ROOT, nonempty=True))
        for where, item in field_objects(spec, "users", ROOT):
            self.load_user(item, where)
        for where, item in field_objects(spec, "tokens", ROOT):
            token = field_text(item, "access_token", where, nonempty=True)
            self.world.tokens[token] = self.user(item.get("user"), f"{where}.user")
            self.world.last_use.touch(token, self.now.timestamp())
        for where, item in field_objects(spec, "rooms", ROOT):
            self.load_room(item, where)
        for room in self.world.rooms.values():
            room.message_ids.sort()  # once, not an insort per message

    def load_user(self, item: Mapping[str, Any], where: str) -> None:
        name = field_text(item, "name", where)
        user = User(
            uuid=_uuid(item.get("uuid"), f"{where}.uuid"),
            nickname=field_text(item, "nickname", where, name),
            user_type=field_text(item, "user_type", where, "human"),
            email=field_text(item, "email", where, ""),
            password=field_text(item, "password", where, ""),
            icon=field_text(item, "icon", where, ""),
            seller=field_text(item, "seller", where, ""),
            address=field_text(item, "address", where) if "address" in item else None,
        )
        if user.uuid.lower() in self.world.users:
            raise WorldError(f"{where}.uuid", f"user {user.uuid} is given twice")
        if name and name in self.names:
            raise WorldError(f"{where}.name", f"user {name!r} is given twice")
        if user.email and user.password:
            if user.email.lower() in self.world.emails:
                raise WorldError(f"{where}.email", f"{user.email!r} is already the e-mail of another user who signs in")
            self.world.emails[user.email.lower()] = user
        self.world.users[user.uuid.lower()] = user
        if name:
            self.names[name] = user

    def load_room(self, item: Mapping[str, Any], where: str) -> None:
        created = _date(item, "created_at", where, self.now)
        room = Room(
            uuid=_uuid(item.get("uuid"), f"{where}.uuid"),
            name=field_text(item, "name", where, nonempty=True),
            created_at=created,
            background_image=field_text(item, "background_image", where, ""),
        )
        if room.key in self.world.rooms:
            raise WorldError(f"{where}.uuid", f"room {room.uuid} is given twice")
        self.world.rooms[room.key] = room
        for index, member in enumerate(field_list(item, "members", where)):
            spot = f"{where}.members[{index}]"
            if isinstance(member, str):
                user, joined, read_id = self.user(member, spot), created, 0
            elif isinstance(member, Mapping):
                user = self.user(member.get("user"), f"{spot}.user")
                joined = _date(member, "joined_at", spot, created)
                read_id = member.get("read_id", 0)
                if not isinstance(read_id, int) or isinstance(read_id, bool) or read_id < 0:
                    fail(f"{spot}.read_id", "a message id (an integer of 0 or more)", read_id)
            else:
                fail(spot, "a user name or an object", member)
            room.members[user.uuid.lower()] = Member(user, joined, read_id)
        room.sensors = [self.user(ref, f"{where}.sensors[{index}]") for index, ref in enumerate(field_list(item, "sensors", where))]
        for index, message in enumerate(field_list(item, "messages", where)):
            self.load_message(room, message, f"{where}.messages[{index}]")

    def load_message(self, room: Room, item: Any, where: str) -> None:
        expect_object(item, where)
        message_id = item.get("id", self.world.next_id())
        if not isinstance(message_id, int) or isinstance(message_id, bool) or not 1 <= message_id <= MAX_MESSAGE_ID:
            fail(f"{where}.id", f"a message id (an integer from 1 to {MAX_MESSAGE_ID})", message_id)
        if message_id in self.world.messages:
            raise WorldError(f"{where}.id", f"message id {message_id} is given twice")
        unique_id = _uuid(item["unique_id"], f"{where}.unique_id") if "unique_id" in item else str(uuid.uuid4()).upper()
        if unique_id.lower() in self.world.unique:
            raise WorldError(f"{where}.unique_id", f"{unique_id} is given twice")
        kind = field_text(item, "media", where, "text")
        message = Message(
            id=message_id,
            unique_id=unique_id,
            room=room.key,
            user=self.user(item.get("user"), f"{where}.user"),
            date=_date(item, "date", where, self.now),
            media=kind,
            text=field_text(item, "text", where, ""),
            message_type=field_text(item, "message_type", where, "normal"),
            dictated=field_bool(item, "dictated", where, False),
            joined_user=self.user(item["joined_user"], f"{where}.joined_user") if "joined_user" in item else None,
            audio=_blob(item["audio"], f"{where}.audio") if "audio" in item else None,
            image=_blob(item["image"], f"{where}.image") if "image" in item else None,
        )
        if kind == "audio" and message.audio is None:
            message.audio = media.speech(message_id, message.text or "audio")
        if kind == "image" and message.image is None:
            fail(f"{where}.image", "the image file of a media=image message")
        self.world.add(message, loading=True)


def load(spec: Mapping[str, Any], now: datetime | None = None) -> World:
    """A world built from its seed description (see the module docstring); raises
    :class:`WorldError` naming the JSON path of the first bad value."""
    world = World()
    _Loader(world, now or datetime.now(tz=UTC)).load(spec)
    return world


def credentials(document: Mapping[str, Any]) -> Credentials:
    """The world's first API key with each user's e-mail and password (POST /alpha/sessions), by name."""
    apikey = first(document.get("apikeys"))
    return {
        str(user["name"]): given({"apikey": apikey, "email": user.get("email"), "password": user.get("password")})
        for user in entries(document, "users")
        if user.get("name")
    }
