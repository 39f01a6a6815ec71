"""State -> the JSON shapes BOCCO sends (User, RoomUser, Room, Message, Event).

Dates are rendered in Japan time with an explicit offset, ``2015-07-31T21:47:46+09:00``, the
form of every date in the API's own examples [public: api-docs reference]; the other formats
the docs show (``...Z`` on system messages, the seed doctests' ``2016-03-02 11:00:59``) are
accepted in seeds but never sent [inferred: one format is enough for every client parser].
Media URLs are built from the base URL the client used: ``<base>/1/messages/<id>.<ext>``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from mockserver.apis.bocco import media
from mockserver.apis.bocco.world import JST, Member, Message, Room, User, World


@functools.lru_cache(maxsize=4096)
def date(value: datetime) -> str:
    """Cached: rooms/joined renders the same join, update and message dates on every call
    (equal instants render alike whatever their time zone, so they may share an entry)."""
    return value.astimezone(JST).replace(microsecond=0).isoformat()


def user(value: User) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "uuid": value.uuid,
        "user_type": value.user_type,
        "nickname": value.nickname,
        "icon": value.icon,
        "seller": value.seller,
    }
    if value.address is not None:
        shape["address"] = value.address
    return shape


def member(value: Member) -> dict[str, Any]:
    return {"user": user(value.user), "joined_at": date(value.joined_at), "read_id": value.read_id}


def media_url(base_url: str, message_id: int, ext: str) -> str:
    return f"{base_url}/1/messages/{message_id}.{ext}"


def message(value: Message, base_url: str) -> dict[str, Any]:
    if value.audio is not None:
        audio = media_url(base_url, value.id, value.audio.ext)
    elif value.media in ("text", "image"):
        audio = media_url(base_url, value.id, media.SPEECH_EXT)
    else:
        audio = ""
    image = media_url(base_url, value.id, value.image.ext) if value.image is not None else ""
    return {
        "id": value.id,
        "unique_id": value.unique_id,
        "date": date(value.date),
        "media": value.media,
        "message_type": value.message_type,
        "user": user(value.user),
        "dictated": value.dictated,
        "text": value.text,
        "audio": audio,
        "image": image,
        "sender": value.user.uuid,
        "detail": None if value.joined_user is None else {"joined_user": user(value.joined_user)},
    }


def room(value: Room, world: World, base_url: str) -> dict[str, Any]:
    """A room as GET /rooms/joined sends it; ``messages`` holds the latest message
    [inferred: the doc example shows one recent message]."""
    recent = world.page(value, None, None, 1)
    return {
        "uuid": value.uuid,
        "name": value.name,
        "updated_at": date(world.updated_at(value)),
        "background_image": value.background_image,
        "members": [member(item) for item in value.members.values()],
        "messages": [message(item, base_url) for item in recent],
        "sensors": [user(item) for item in value.sensors],
    }


def message_event(value: Message, base_url: str) -> dict[str, Any]:
    return {"event": "message", "body": message(value, base_url)}
