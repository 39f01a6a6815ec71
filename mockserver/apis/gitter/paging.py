"""Message-list paging of GET /v1/rooms/:roomId/chatMessages (gitterHQ/docs 05; chat-messages.js).

Oldest first within a page; ``beforeId``/``afterId`` exclusive, ``aroundId`` inclusive;
``limit`` default 50 and at most 100 (``parseInt(limit) || 50``), ``skip`` at most 5000;
``q`` searches the texts (every word, case-insensitive) instead of the whole timeline.
An anchor id that is not a message of the room gives an empty page [inferred].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.apis.gitter.world import Message

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_SKIP = 5000


def number(value: Any, default: int, most: int) -> int:
    try:
        parsed = int(str(value))
    except (TypeError, ValueError):
        return default
    return min(parsed or default, most) if parsed >= 0 else default


def _position(messages: Sequence[Message], ident: str) -> int | None:
    return next((index for index, item in enumerate(messages) if item.id == ident), None)


def page(messages: Sequence[Message], params: Mapping[str, Any]) -> list[Message]:
    limit = number(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    skip = number(params.get("skip"), 0, MAX_SKIP)
    query = str(params.get("q") or "").strip()
    timeline = list(messages)
    if query:
        words = query.lower().split()
        timeline = [item for item in timeline if all(word in item.text.lower() for word in words)]
    around = params.get("aroundId")
    if around:
        index = _position(timeline, str(around))
        if index is None:
            return []
        before = (limit - 1) // 2
        start = max(0, index - before)
        return timeline[start : start + limit]
    before_id, after_id = params.get("beforeId"), params.get("afterId")
    if before_id:
        index = _position(timeline, str(before_id))
        if index is None:
            return []
        timeline = timeline[:index]
    if after_id:
        index = _position(timeline, str(after_id))
        if index is None:
            return []
        timeline = timeline[index + 1 :]
        if not before_id:  # forward paging: the oldest messages after the anchor
            return timeline[skip : skip + limit]
    end = max(0, len(timeline) - skip)
    return timeline[max(0, end - limit) : end]
