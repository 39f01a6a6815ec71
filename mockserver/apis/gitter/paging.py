"""Message-list paging of GET /v1/rooms/:roomId/chatMessages (gitterHQ/docs 05; chat-messages.js).

Oldest first within a page; ``beforeId``/``afterId`` exclusive, ``aroundId`` inclusive;
``limit`` default 50 and at most 100 (``parseInt(limit) || 50``), ``skip`` at most 5000;
``q`` searches the texts (every word, case-insensitive) instead of the whole timeline.
An anchor id that is not a message of the room gives an empty page [inferred].

Without ``q`` a page costs the same however many messages the room holds: anchors are found
through the room's id -> position index and only the page is sliced. A search reads every text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def page(messages: Sequence[Message], params: Mapping[str, Any], positions: Mapping[str, int] | None = None) -> list[Message]:
    """One page of ``messages`` (oldest first). ``positions`` maps each message id to its index
    in ``messages``; without it (or with a search) anchors are looked up by scanning."""
    limit = number(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    skip = number(params.get("skip"), 0, MAX_SKIP)
    query = str(params.get("q") or "").strip()
    timeline = messages
    if query:
        words = query.lower().split()
        timeline = [item for item in messages if all(word in item.text.lower() for word in words)]
        positions = None
    return _window(timeline, params, limit, skip, _locator(timeline, positions))


def _locator(timeline: Sequence[Message], positions: Mapping[str, int] | None) -> Callable[[str], int | None]:
    if positions is None:
        return lambda ident: next((index for index, item in enumerate(timeline) if item.id == ident), None)
    return positions.get


def _window(
    timeline: Sequence[Message], params: Mapping[str, Any], limit: int, skip: int, find: Callable[[str], int | None]
) -> list[Message]:
    """The page as index arithmetic over ``timeline[low:high]``, slicing nothing but the page."""
    around = params.get("aroundId")
    if around:
        index = find(str(around))
        if index is None:
            return []
        start = max(0, index - (limit - 1) // 2)
        return list(timeline[start : start + limit])
    low, high = 0, len(timeline)
    before_id, after_id = params.get("beforeId"), params.get("afterId")
    if before_id:
        index = find(str(before_id))
        if index is None:
            return []
        high = index
    if after_id:
        index = find(str(after_id))
        if index is None or index >= high:  # not in the timeline before the beforeId anchor
            return []
        low = index + 1
        if not before_id:  # forward paging: the oldest messages after the anchor
            return list(timeline[low + skip : min(high, low + skip + limit)])
    end = max(low, high - skip)
    return list(timeline[max(low, end - limit) : end])
