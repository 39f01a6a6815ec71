"""Unread items and mentions: who has a message unread, and which of them it mentions.

A new message is unread for every member but its sender; a seeded one for the members its
``unreadBy`` lists. An unread message that mentions a member is also one of their unread
mentions, so the text is marked up only when someone has the message unread.
"""

from __future__ import annotations

from mockserver.apis.gitter.markup import MarkupCache
from mockserver.apis.gitter.world import Message, Room, World


def deliver(room: Room, message: Message, unread_by: set[str], markups: MarkupCache) -> None:
    """Count ``message`` as unread for the members in ``unread_by`` (mentions too), read for the others."""
    unread_for = room.receive(message, unread_by)
    if not unread_for:
        return
    mentioned = markups.of(message.text).mentioned_ids
    for member in unread_for:
        if member in mentioned:
            room.unread_mentions.setdefault(member, {})[message.id] = None


def mark_seeded_mentions(world: World, markups: MarkupCache) -> None:
    """After loading a world: each member's unread messages that mention them are also unread mentions."""
    for room in world.rooms.values():
        for member, unread in room.unread.items():
            for message_id in unread:
                if member in markups.of(room.by_id[message_id].text).mentioned_ids:
                    room.unread_mentions.setdefault(member, {})[message_id] = None
