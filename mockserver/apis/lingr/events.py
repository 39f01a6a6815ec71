"""Lingr's event log and its fan-out: every event gets the next integer event_id (the
counter); each session that subscribed to the event's room is woken through its own hub
topic, so an ``event/observe`` held for that session re-runs its check at once."""

from __future__ import annotations

from typing import Any

from mockserver.apis.lingr.world import Event, Session, World
from mockserver.core.hub import Hub

MAX_EVENTS_PER_REPLY = 100  # inferred: not documented; the oldest first so a client resumes with no gap


def topic(session_id: str) -> str:
    return f"lingr:session:{session_id}"


def emit(world: World, hub: Hub, room: str, kind: str, payload: dict[str, Any]) -> Event:
    """Append an event of ``room`` and wake every observer subscribed to it."""
    event = world.add_event(room, kind, payload)
    for session_id in list(world.subscribers.get(room, ())):  # the room's subscribers: no pass over every session
        hub.publish(topic(session_id))
    return event


def after(world: World, session: Session, counter: int) -> list[Event]:
    """The session's events with event_id > ``counter``, oldest first (at most MAX_EVENTS_PER_REPLY)."""
    newer: list[Event] = []
    for event in reversed(world.events):
        if event.event_id <= counter:
            break
        if event.room in session.subscriptions:
            newer.append(event)
    newer.reverse()
    return newer[:MAX_EVENTS_PER_REPLY]
