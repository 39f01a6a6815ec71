"""The fast paths of the API modules answer exactly what the straightforward code they replaced
answered: Gitter's message paging (index arithmetic instead of list copies and scans), Rocket.Chat's
channels.history walk and unfiltered channels.messages page, Lingr's favourites of a room, and
the random ids and tokens (one ``secrets.token_bytes`` per string instead of a choice per character).
Each reference below is the code before the change, kept here as the oracle."""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.apis.gitter import paging
from mockserver.apis.gitter.world import Message
from mockserver.apis.lingr import render as lingr_render
from mockserver.apis.lingr import world as lingr_world
from mockserver.apis.rocketchat import world as rc_world
from mockserver.apis.rocketchat.api import RocketChatApi
from mockserver.apis.rocketchat.world import Stored
from mockserver.core.store import RandomText

UNKNOWN = "0123456789abcdef01234567"


# Gitter paging -------------------------------------------------------------------------------
def _reference_position(messages: Sequence[Message], ident: str) -> int | None:
    return next((index for index, item in enumerate(messages) if item.id == ident), None)


def _reference_page(messages: Sequence[Message], params: Mapping[str, Any]) -> list[Message]:
    limit = paging.number(params.get("limit"), paging.DEFAULT_LIMIT, paging.MAX_LIMIT)
    skip = paging.number(params.get("skip"), 0, paging.MAX_SKIP)
    query = str(params.get("q") or "").strip()
    timeline = list(messages)
    if query:
        words = query.lower().split()
        timeline = [item for item in timeline if all(word in item.text.lower() for word in words)]
    around = params.get("aroundId")
    if around:
        index = _reference_position(timeline, str(around))
        if index is None:
            return []
        start = max(0, index - (limit - 1) // 2)
        return timeline[start : start + limit]
    before_id, after_id = params.get("beforeId"), params.get("afterId")
    if before_id:
        index = _reference_position(timeline, str(before_id))
        if index is None:
            return []
        timeline = timeline[:index]
    if after_id:
        index = _reference_position(timeline, str(after_id))
        if index is None:
            return []
        timeline = timeline[index + 1 :]
        if not before_id:
            return timeline[skip : skip + limit]
    end = max(0, len(timeline) - skip)
    return timeline[max(0, end - limit) : end]


def _gitter_messages(count: int) -> list[Message]:
    words = ("alpha", "Beta", "gamma", "delta")
    return [
        Message(f"{index:024x}", "room", "user", f"{words[index % 4]} {words[index % 3]} {index}", "sent") for index in range(1, count + 1)
    ]


@st.composite
def _gitter_case(draw: st.DrawFn) -> tuple[list[Message], dict[str, Any]]:
    messages = _gitter_messages(draw(st.integers(0, 40)))
    anchor = st.one_of(st.sampled_from([item.id for item in messages] or [UNKNOWN]), st.just(UNKNOWN), st.just(""))
    number = st.one_of(st.integers(-3, 120).map(str), st.sampled_from(["", "x", "0", "5000", "9999"]))
    params: dict[str, Any] = {}
    for key, values in (("limit", number), ("skip", number), ("beforeId", anchor), ("afterId", anchor), ("aroundId", anchor)):
        if draw(st.booleans()):
            params[key] = draw(values)
    if draw(st.integers(0, 4)) == 0:
        params["q"] = draw(st.sampled_from(["alpha", "BETA gamma", "1", "  ", "zeta"]))
    return messages, params


@settings(max_examples=400, deadline=None)
@given(_gitter_case())
def test_gitter_page_matches_the_list_based_reference(case: tuple[list[Message], dict[str, Any]]) -> None:
    messages, params = case
    positions = {item.id: index for index, item in enumerate(messages)}
    expected = [item.id for item in _reference_page(messages, params)]
    assert [item.id for item in paging.page(messages, params, positions)] == expected
    assert [item.id for item in paging.page(messages, params)] == expected


# Rocket.Chat history and messages --------------------------------------------------------------
def _reference_history(
    timeline: Sequence[Stored], latest: int | None, oldest: int | None, inclusive: bool, hide_threads: bool
) -> list[Stored]:
    found = []
    for stored in reversed(timeline):
        if latest is not None and (stored.ms > latest or (stored.ms == latest and not inclusive)):
            continue
        if oldest is not None and (stored.ms < oldest or (stored.ms == oldest and not inclusive)):
            continue
        if hide_threads and stored.doc.get("tmid") and not stored.doc.get("tshow"):
            continue
        found.append(stored)
    return found


@st.composite
def _rc_timeline(draw: st.DrawFn) -> list[Stored]:
    stamps = sorted(draw(st.lists(st.integers(0, 30), max_size=40)))
    timeline = []
    for seq, ms in enumerate(stamps):
        doc: dict[str, Any] = {"_id": f"m{seq}"}
        if draw(st.integers(0, 3)) == 0:
            doc["tmid"] = "parent"
            doc["tshow"] = draw(st.booleans())
        timeline.append(Stored(ms=ms, seq=seq, doc=doc))
    return timeline


@settings(max_examples=400, deadline=None)
@given(
    _rc_timeline(),
    st.none() | st.integers(-1, 31),
    st.none() | st.integers(-1, 31),
    st.booleans(),
    st.booleans(),
    st.integers(-2, 45),
    st.integers(-2, 45),
)
def test_rocketchat_history_matches_the_full_walk(
    timeline: list[Stored], latest: int | None, oldest: int | None, inclusive: bool, hide_threads: bool, offset: int, count: int
) -> None:
    expected = _reference_history(timeline, latest, oldest, inclusive, hide_threads)[offset : offset + count]
    wanted = offset + count if offset >= 0 and count >= 0 else None
    found = RocketChatApi._history(timeline, latest, oldest, inclusive, hide_threads, wanted)
    assert [stored.doc["_id"] for stored in found[offset : offset + count]] == [stored.doc["_id"] for stored in expected]


@settings(max_examples=200, deadline=None)
@given(_rc_timeline(), st.integers(0, 45), st.integers(0, 45))
def test_rocketchat_unfiltered_messages_page_matches_the_full_list(timeline: list[Stored], offset: int, count: int) -> None:
    newest_first = [stored.doc for stored in reversed(timeline)]
    page = newest_first[offset : offset + count]
    expected = {"messages": page, "count": len(page), "offset": offset, "total": len(newest_first), "success": True}
    assert RocketChatApi._newest_page(timeline, offset, count).body == expected


# Lingr favourites ------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["lounge", "dev"]), max_size=30), st.sets(st.integers(0, 40)))
def test_lingr_faved_ids_follow_the_room_order(rooms: list[str], favorites: set[int]) -> None:
    world = lingr_world.World()
    for name in ("lounge", "dev"):
        world.rooms[name] = lingr_world.Room(name, name, "", True, "alice", ["alice"], [], {})
    for message_id, room_id in enumerate(rooms, start=1):
        world.messages[message_id] = lingr_world.Message(message_id, room_id, "alice", "alice", "Ab12Cd", "", "hi", "t", "user")
        world.rooms[room_id].message_ids.append(message_id)
    world.favorites["alice"] = favorites
    for room in world.rooms.values():
        expected = [str(message_id) for message_id in room.message_ids if message_id in favorites]
        assert lingr_render.faved(world, room, "alice") == expected
        assert lingr_render.faved(world, room, "bob") == []


# random ids and tokens ---------------------------------------------------------------------------
def test_random_ids_keep_their_alphabets_and_lengths() -> None:
    ids = [rc_world.new_id() for _ in range(2000)]
    tokens = [rc_world.new_token() for _ in range(500)]
    public = [lingr_world.random_base62(lingr_world.PUBLIC_ID_LENGTH) for _ in range(2000)]
    assert all(len(item) == 17 and set(item) <= set(rc_world.METEOR_ALPHABET) for item in ids)
    assert all(len(item) == 43 and set(item) <= set(rc_world.TOKEN_ALPHABET) for item in tokens)
    assert all(len(item) == 6 and set(item) <= set(string.ascii_letters + string.digits) for item in public)
    assert len(set(ids)) == len(ids)
    assert len(set(tokens)) == len(tokens)
    # every character of each alphabet turns up (34,000 / 21,500 / 12,000 draws over 55 / 64 / 62 letters)
    assert set("".join(ids)) == set(rc_world.METEOR_ALPHABET)
    assert set("".join(tokens)) == set(rc_world.TOKEN_ALPHABET)
    assert set("".join(public)) == set(lingr_world.BASE62)


def test_random_text_has_no_modulo_bias() -> None:
    """55 letters: bytes 220..255 are dropped, so each letter has 4 of the 220 kept byte values."""
    text = RandomText(rc_world.METEOR_ALPHABET)
    counts = Counter("".join(text(1000) for _ in range(110)))  # 110,000 letters, 2,000 expected each
    assert set(counts) == set(rc_world.METEOR_ALPHABET)
    # chi-square, 54 degrees of freedom: about 54 when uniform (above 130 about once in a million
    # runs); ``byte % 55`` over all 256 bytes (5/256 for 36 letters, 4/256 for 19) gives about 1,100
    chi_square = sum((found - 2000) ** 2 / 2000 for found in counts.values())
    assert chi_square < 130
    assert text(0) == ""
    assert len(text(5000)) == 5000
