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
message, member, sensor or token names must be listed in ``users``. A malformed world raises
``ValueError`` (the admin API answers 400 and keeps the default world).
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
from mockserver.core.worlds import Credentials, entries, first, given

WORLD_FILE = Path(__file__).with_name("world.json")
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
        self.tokens: dict[str, User] = {}
        self.rooms: dict[str, Room] = {}  # by lower-case uuid
        self.messages: dict[int, Message] = {}
        self.unique: dict[str, int] = {}  # lower-case unique_id -> message id
        self.last_id = 0

    # credentials ---------------------------------------------------------------
    def sign_in(self, apikey: str, email: str, password: str) -> User | None:
        if apikey not in self.apikeys:
            return None
        for user in self.users.values():
            if user.email and user.password and user.email.lower() == email.lower() and secrets.compare_digest(user.password, password):
                return user
        return None

    def issue_token(self, user: User) -> str:
        token = secrets.token_hex(32)  # 64 hex chars like the docs' example
        self.tokens[token] = user
        return token

    def user_for_token(self, token: str) -> User | None:
        return self.tokens.get(token)

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

    def newer(self, room: Room, newer_than: int) -> list[Message]:
        ids = room.message_ids
        return [self.messages[message_id] for message_id in ids[bisect.bisect_right(ids, newer_than) :]]

    def by_unique_id(self, unique_id: str) -> Message | None:
        message_id = self.unique.get(unique_id.lower())
        return None if message_id is None else self.messages[message_id]

    def by_id(self, message_id: int) -> Message | None:
        return self.messages.get(message_id)

    def add(self, message: Message) -> Message:
        room = self.rooms[message.room]
        self.messages[message.id] = message
        self.unique[message.unique_id.lower()] = message.id
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
    if not isinstance(value, str):
        raise ValueError(f"{where}: a date is a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: not a date: {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JST)


def _text(spec: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    value = spec.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key}: a string is required")
    return value


def _uuid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        raise ValueError(f"{where}: not a UUID: {value!r}")
    return value


def _blob(spec: Any, where: str) -> Blob:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: a file is an object with ext, content_type and base64")
    ext = _text(spec, "ext", where)
    if not re.match(r"^[a-z0-9]+$", ext):
        raise ValueError(f"{where}.ext: lower-case letters and digits only")
    try:
        content = base64.b64decode(_text(spec, "base64", where), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}.base64: not base64") from None
    return Blob(ext, media.content_type_of(ext, _text(spec, "content_type", where)), content)


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
        raise ValueError(f"{where}: unknown user {ref!r}")

    def load(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping):
            raise ValueError("the bocco world is a JSON object")
        keys = spec.get("apikeys", [])
        if not isinstance(keys, list) or not all(isinstance(key, str) and key for key in keys):
            raise ValueError("apikeys: a list of non-empty strings")
        self.world.apikeys.update(keys)
        for index, item in enumerate(spec.get("users", [])):
            self.load_user(item, f"users[{index}]")
        for index, item in enumerate(spec.get("tokens", [])):
            where = f"tokens[{index}]"
            if not isinstance(item, Mapping):
                raise ValueError(f"{where}: an object with access_token and user")
            self.world.tokens[_text(item, "access_token", where)] = self.user(item.get("user"), where)
        for index, item in enumerate(spec.get("rooms", [])):
            self.load_room(item, f"rooms[{index}]")

    def load_user(self, item: Any, where: str) -> None:
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: a user is an object")
        name = _text(item, "name", where)
        user = User(
            uuid=_uuid(item.get("uuid"), f"{where}.uuid"),
            nickname=_text(item, "nickname", where, name),
            user_type=_text(item, "user_type", where, "human"),
            email=_text(item, "email", where),
            password=_text(item, "password", where),
            icon=_text(item, "icon", where),
            seller=_text(item, "seller", where),
            address=_text(item, "address", where) if "address" in item else None,
        )
        if user.uuid.lower() in self.world.users or (name and name in self.names):
            raise ValueError(f"{where}: duplicate user {name or user.uuid!r}")
        self.world.users[user.uuid.lower()] = user
        if name:
            self.names[name] = user

    def load_room(self, item: Any, where: str) -> None:
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: a room is an object")
        created = parse_date(item["created_at"], f"{where}.created_at") if "created_at" in item else self.now
        room = Room(
            uuid=_uuid(item.get("uuid"), f"{where}.uuid"),
            name=_text(item, "name", where),
            created_at=created,
            background_image=_text(item, "background_image", where),
        )
        if not room.name:
            raise ValueError(f"{where}.name: a room needs a name")
        if room.key in self.world.rooms:
            raise ValueError(f"{where}: duplicate room {room.uuid}")
        self.world.rooms[room.key] = room
        for index, member in enumerate(item.get("members", [])):
            spot = f"{where}.members[{index}]"
            if isinstance(member, str):
                user, joined, read_id = self.user(member, spot), created, 0
            elif isinstance(member, Mapping):
                user = self.user(member.get("user"), spot)
                joined = parse_date(member["joined_at"], f"{spot}.joined_at") if "joined_at" in member else created
                read_id = member.get("read_id", 0)
                if not isinstance(read_id, int) or isinstance(read_id, bool):
                    raise ValueError(f"{spot}.read_id: an integer")
            else:
                raise ValueError(f"{spot}: a user name or an object")
            room.members[user.uuid.lower()] = Member(user, joined, read_id)
        room.sensors = [self.user(ref, f"{where}.sensors[{index}]") for index, ref in enumerate(item.get("sensors", []))]
        for index, message in enumerate(item.get("messages", [])):
            self.load_message(room, message, f"{where}.messages[{index}]")

    def load_message(self, room: Room, item: Any, where: str) -> None:
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: a message is an object")
        message_id = item.get("id", self.world.next_id())
        if not isinstance(message_id, int) or isinstance(message_id, bool) or message_id < 1 or message_id in self.world.messages:
            raise ValueError(f"{where}.id: a new positive integer")
        unique_id = _uuid(item["unique_id"], f"{where}.unique_id") if "unique_id" in item else str(uuid.uuid4()).upper()
        if self.world.by_unique_id(unique_id) is not None:
            raise ValueError(f"{where}.unique_id: duplicate {unique_id}")
        kind = _text(item, "media", where, "text")
        dictated = item.get("dictated", False)
        if not isinstance(dictated, bool):
            raise ValueError(f"{where}.dictated: a boolean")
        message = Message(
            id=message_id,
            unique_id=unique_id,
            room=room.key,
            user=self.user(item.get("user"), f"{where}.user"),
            date=parse_date(item["date"], f"{where}.date") if "date" in item else self.now,
            media=kind,
            text=_text(item, "text", where),
            message_type=_text(item, "message_type", where, "normal"),
            dictated=dictated,
            joined_user=self.user(item["joined_user"], f"{where}.joined_user") if "joined_user" in item else None,
            audio=_blob(item["audio"], f"{where}.audio") if "audio" in item else None,
            image=_blob(item["image"], f"{where}.image") if "image" in item else None,
        )
        if kind == "audio" and message.audio is None:
            message.audio = media.speech(message_id, message.text or "audio")
        if kind == "image" and message.image is None:
            raise ValueError(f"{where}.image: a media=image message needs its image file")
        self.world.add(message)


def load(spec: Mapping[str, Any], now: datetime | None = None) -> World:
    """A world built from its seed description (see the module docstring)."""
    world = World()
    try:
        _Loader(world, now or datetime.now(tz=UTC)).load(spec)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"malformed bocco world: {error}") from None
    return world


def credentials(document: Mapping[str, Any]) -> Credentials:
    """The world's first API key with each user's e-mail and password (POST /alpha/sessions), by name."""
    apikey = first(document.get("apikeys"))
    return {
        str(user["name"]): given({"apikey": apikey, "email": user.get("email"), "password": user.get("password")})
        for user in entries(document, "users")
        if user.get("name")
    }
