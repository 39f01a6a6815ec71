"""Lingr state -> the JSON shapes of the API (Message, Member, Bot, Room, Presence, Event)."""

from __future__ import annotations

from typing import Any

from mockserver.apis.lingr.world import Bot, Event, Message, Room, Session, User, World


def message(item: Message) -> dict[str, Any]:
    return {
        "id": str(item.id),  # message ids are digit strings (seed 002)
        "local_id": item.local_id,
        "nickname": item.nickname,
        "public_session_id": item.public_session_id,
        "room": item.room,
        "speaker_id": item.speaker_id,
        "icon_url": item.icon_url,
        "text": item.text,
        "timestamp": item.timestamp,
        "type": item.type,
    }


def member(world: World, room: Room, user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.name,
        "icon_url": user.icon_url,
        "is_online": world.is_online(user.username),
        "is_owner": user.username == room.owner,
        "pokeable": False,
        "timestamp": room.joined.get(user.username, ""),
    }


def bot(item: Bot) -> dict[str, Any]:
    return {"id": item.id, "name": item.name, "icon_url": item.icon_url, "status": item.status}


def faved(world: World, item: Room, viewer: str) -> list[str]:
    """The viewer's favourites among the room's messages, in the room's order: ascending ids
    (ids increase along each room), found from the favourites, not from every message."""
    favorites = world.favorites.get(viewer, ())
    mine = (message_id for message_id in favorites if message_id in world.messages and world.messages[message_id].room == item.id)
    return [str(message_id) for message_id in sorted(mine)]


def room(world: World, item: Room, viewer: str, latest: int) -> dict[str, Any]:
    """room/show's Room: roster, the ``latest`` newest messages oldest first, the viewer's favourites."""
    return {
        "id": item.id,
        "name": item.name,
        "blurb": item.blurb,
        "is_public": item.is_public,
        "faved_message_ids": faved(world, item, viewer),
        "roster": {
            "bots": [bot(world.bots[name]) for name in item.bots if name in world.bots],
            "members": [member(world, item, world.users[name]) for name in item.members if name in world.users],
        },
        "messages": [message(world.messages[message_id]) for message_id in item.message_ids[-latest:]] if latest > 0 else [],
    }


def session(item: Session, user: User) -> dict[str, Any]:
    """session/create and session/verify."""
    return {
        "status": "ok",
        "session": item.id,
        "public_id": item.public_id,
        "nickname": user.nickname,
        "user": {"name": user.name, "username": user.username},
    }


def presence(item: Session, user: User, room_id: str, status: str, at: str) -> dict[str, Any]:
    return {
        "icon_url": user.icon_url,
        "nickname": user.nickname,
        "public_session_id": item.public_id,
        "room": room_id,
        "status": status,
        "text": f"{user.username} is now {status}",
        "timestamp": at,
        "username": user.username,
    }


def event(item: Event) -> dict[str, Any]:
    return {"event_id": item.event_id, item.kind: item.payload}
