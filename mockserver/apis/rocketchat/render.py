"""State -> Rocket.Chat JSON shapes (users.list users, login ``me``, rooms.get rooms, messages).

A rendered shape may share lists and dicts with the state (a message is its stored document):
replies are encoded as soon as the handler returns and nothing changes them, so no copy is
made; a caller that wants to change a rendered shape copies it first.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.apis.rocketchat.world import Room, Stored, User, World, iso

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![\w#])#([A-Za-z0-9._-]+)")


def user_ref(user: User) -> dict[str, Any]:
    """The ``u`` of a message or the creator of a room."""
    return {"_id": user.id, "username": user.username, "name": user.name}


def editor(user: User) -> dict[str, Any]:
    return {"_id": user.id, "username": user.username}


def list_user(user: User) -> dict[str, Any]:
    """A users.list item."""
    body: dict[str, Any] = {
        "_id": user.id,
        "username": user.username,
        "type": user.type,
        "status": user.status,
        "active": user.active,
        "roles": list(user.roles),
        "name": user.name,
        "nameInsensitive": user.name.lower(),
    }
    if user.emails:
        body["emails"] = user.emails
    if user.last_login_ms is not None:
        body["lastLogin"] = iso(user.last_login_ms)
    return body


def me(user: User, base_url: str) -> dict[str, Any]:
    """login's ``data.me`` and the body of /me (without ``success``)."""
    body: dict[str, Any] = {
        "_id": user.id,
        "name": user.name,
        "emails": user.emails,
        "status": user.status,
        "statusConnection": "online" if user.status != "offline" else "offline",
        "username": user.username,
        "utcOffset": int(user.utc_offset) if float(user.utc_offset).is_integer() else user.utc_offset,
        "active": user.active,
        "roles": list(user.roles),
        "settings": {"preferences": user.extra.get("preferences", {})},
        "avatarUrl": f"{base_url}/avatar/{user.username}",
    }
    if "customFields" in user.extra:
        body["customFields"] = user.extra["customFields"]
    return body


def message(stored: Stored) -> dict[str, Any]:
    """The stored document itself (see the module docstring)."""
    return stored.doc


def room(world: World, item: Room) -> dict[str, Any]:
    """A rooms.get ``update`` item."""
    timeline = world.timeline(item.id)
    body: dict[str, Any] = {
        "_id": item.id,
        "t": item.t,
        "ts": iso(item.created_ms),
        "_updatedAt": iso(item.updated_ms),
        "msgs": len(timeline),
        "usersCount": len(item.members),
    }
    users = world.users
    members = [users[member] for member in item.members if member in users]
    if item.t == "d":
        body["usernames"] = [member.username for member in members]
        body["uids"] = [member.id for member in members]
    else:
        body["name"] = item.name or item.id
        body["fname"] = str(item.extra.get("fname", body["name"]))
        creator = users.get(item.creator or "")
        if creator is not None:
            body["u"] = user_ref(creator)
    body["default"] = bool(item.extra.get("default", False))
    body["ro"] = bool(item.extra.get("ro", False))
    body["sysMes"] = bool(item.extra.get("sysMes", True))
    for key in ("topic", "description"):
        if key in item.extra:
            body[key] = str(item.extra[key])
    if timeline:
        last = timeline[-1]
        body["lastMessage"] = message(last)
        body["lm"] = iso(last.ms)
    return body


def room_info(world: World, item: Room) -> dict[str, Any]:
    """channels.info / groups.info / *.create / *.list items: the rooms.get shape plus the
    room's settings (announcement, archived, join code, custom fields)."""
    body = room(world, item)
    extra = item.extra
    if "announcement" in extra:
        body["announcement"] = str(extra["announcement"])
    if extra.get("archived"):
        body["archived"] = True
    if item.t != "d":
        body["joinCodeRequired"] = bool(extra.get("joinCode"))
        body["customFields"] = extra.get("customFields", {})
    return body


def user_info(user: User, full: bool) -> dict[str, Any]:
    """A users.info ``user``: e-mails and settings only when ``full`` (the user itself, or a
    caller with view-full-other-user-info)."""
    body = list_user(user)
    body.pop("nameInsensitive", None)
    if not full:
        body.pop("emails", None)
    body["utcOffset"] = int(user.utc_offset) if float(user.utc_offset).is_integer() else user.utc_offset
    body["statusConnection"] = "online" if user.status != "offline" else "offline"
    body["createdAt"] = iso(user.created_ms)
    if full:
        body["settings"] = {"preferences": user.extra.get("preferences", {})}
    return body


def mentions(world: World, text: str) -> list[dict[str, Any]]:
    """@username mentions of known users (and @all / @here) in a message text."""
    found: list[dict[str, Any]] = []
    for name in dict.fromkeys(_MENTION.findall(text)):
        if name in ("all", "here"):
            found.append({"_id": name, "username": name})
            continue
        user = world.user_by_name(name)
        if user is not None:
            found.append({"_id": user.id, "username": user.username, "name": user.name, "type": "user"})
    return found


def channels(world: World, text: str) -> list[dict[str, Any]]:
    """#channel references to known public channels in a message text."""
    found: list[dict[str, Any]] = []
    for name in dict.fromkeys(_CHANNEL.findall(text)):
        item = world.room_by_name(name)
        if item is not None and item.t == "c":
            found.append({"_id": item.id, "name": name})
    return found
