"""The representative calls of each API (a GET list and a POST message, valid credentials) and
the seed world the benchmark mock is started with.

The seed is the default world of every API plus what a load test needs: Gitter's rate limit
raised out of the way, a pre-made Lingr session and BOCCO access token (no login round trip),
optionally ``messages`` stored messages in the room each POST writes to, and optionally
``observers`` pre-made Lingr sessions for the long-poll benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.apis import API_NAMES, api_class
from mockserver.core.worlds import read_world_file

ROOT = Path(__file__).resolve().parent.parent

# Credentials of the seeded world (mock-only values, see README "The default world").
GITTER_TOKEN = "gitter-token-alice"
GITTER_ROOM = "5f2000000000000000000002"  # chatmock/chatmock, alice and bob
RC_TOKEN, RC_USER = "rc-pat-alice", "aLiCEx3kPq7RtZ2mW"
LINGR_SESSION = "BnchS1"
LINGR_ROOM = "lounge"
BOCCO_TOKEN = "bench-bocco-token"
BOCCO_ROOM = "FA000000-0000-4000-8000-000000000001"  # Happy Family
OBSERVER_PREFIX = "Ob"  # Lingr observer sessions: Ob000001, Ob000002, ...
SEED_TIMESTAMP = "2024-05-01T09:00:00"


@dataclass(frozen=True)
class BenchCall:
    """One HTTP request as wrk sends it. ``unique`` names a body field that must differ per
    request (BOCCO's ``unique_id``); the wrk script fills it in."""

    api: str
    kind: str  # "GET" list or "POST" message
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""
    unique: str = ""

    @property
    def label(self) -> str:
        return f"{self.api} {self.kind}"


def representative_calls() -> list[BenchCall]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    as_json = {"Content-Type": "application/json"}
    gitter_auth = {"Authorization": f"Bearer {GITTER_TOKEN}"}
    rc_auth = {"X-Auth-Token": RC_TOKEN, "X-User-Id": RC_USER}
    return [
        BenchCall("gitter", "GET", "GET", "/gitter/v1/rooms", gitter_auth),
        BenchCall(
            "gitter",
            "POST",
            "POST",
            f"/gitter/v1/rooms/{GITTER_ROOM}/chatMessages",
            {**gitter_auth, **as_json},
            json.dumps({"text": "bench message"}),
        ),
        BenchCall("rocketchat", "GET", "GET", "/rocketchat/api/v1/rooms.get", rc_auth),
        BenchCall(
            "rocketchat",
            "POST",
            "POST",
            "/rocketchat/api/v1/chat.postMessage",
            {**rc_auth, **as_json},
            json.dumps({"channel": "#general", "text": "bench message"}),
        ),
        BenchCall("lingr", "GET", "GET", f"/lingr/api/user/get_rooms?session={LINGR_SESSION}"),
        BenchCall("lingr", "POST", "POST", "/lingr/api/room/say", form, f"session={LINGR_SESSION}&room={LINGR_ROOM}&text=bench+message"),
        BenchCall("bocco", "GET", "GET", f"/bocco/alpha/rooms/joined?access_token={BOCCO_TOKEN}"),
        BenchCall(
            "bocco",
            "POST",
            "POST",
            f"/bocco/alpha/rooms/{BOCCO_ROOM}/messages",
            form,
            f"access_token={BOCCO_TOKEN}&media=text&text=bench+message&unique_id=",
            unique="unique_id",
        ),
    ]


def default_world(api: str) -> dict[str, Any]:
    """The API's default world document (a fresh copy: the seed changes it)."""
    return read_world_file(api_class(api).world_file)


def _stamps(count: int) -> Iterator[tuple[int, str, str]]:
    """(index, date, time) with increasing times, one second apart from 2020-01-01."""
    for index in range(count):
        day, second = divmod(index, 86400)
        hours, rest = divmod(second, 3600)
        minutes, seconds = divmod(rest, 60)
        year, day_of_year = 2020 + day // 360, day % 360
        yield index, f"{year:04d}-{day_of_year // 30 + 1:02d}-{day_of_year % 30 + 1:02d}", f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def bench_seed(messages: int = 0, observers: int = 0, heavy: tuple[str, ...] = API_NAMES) -> dict[str, Any]:
    """The seed document (see README "The default world"; each part's format is in its world.py)."""
    seed = {api: default_world(api) for api in API_NAMES}
    gitter, lingr, bocco = seed["gitter"], seed["lingr"], seed["bocco"]
    gitter["rateLimit"] = 1_000_000  # the highest rate limit a Gitter world accepts
    lingr.setdefault("sessions", []).append({"session": LINGR_SESSION, "public_id": "BnchP1", "user": "alice"})
    lingr["sessions"].extend(
        {"session": observer_session(index), "public_id": f"Op{index:06d}", "user": "bob" if index % 2 else "alice"}
        for index in range(observers)
    )
    bocco.setdefault("tokens", []).append({"access_token": BOCCO_TOKEN, "user": "alice"})
    if messages:
        stamps = list(_stamps(messages))
        for api in heavy:
            _ADD_MESSAGES[api](seed[api], stamps)
    return seed


def observer_session(index: int) -> str:
    return f"{OBSERVER_PREFIX}{index:06d}"


Stamps = list[tuple[int, str, str]]


# ``count`` messages in each POST's room, older than the default world's own messages (which stay
# last, so ids and timestamps keep increasing) or, for BOCCO, after them with higher ids.
def _add_gitter(gitter: dict[str, Any], stamps: Stamps) -> None:
    room = next(room for room in gitter["rooms"] if room.get("id") == GITTER_ROOM)
    room["messages"] = [
        {"from": "bob", "text": f"seeded {index}", "sent": f"{date}T{time}.000Z"} for index, date, time in stamps
    ] + room.get("messages", [])


def _add_rocketchat(rocketchat: dict[str, Any], stamps: Stamps) -> None:
    rocketchat["messages"] = [
        {"room": "general", "user": "bob", "msg": f"seeded {index}", "ts": f"{date}T{time}.000Z"} for index, date, time in stamps
    ] + rocketchat.get("messages", [])


def _add_lingr(lingr: dict[str, Any], stamps: Stamps) -> None:
    lounge = next(room for room in lingr["rooms"] if room["id"] == LINGR_ROOM)
    seeded = [int(message["id"]) for room in lingr["rooms"] for message in room.get("messages", [])]
    start = min(seeded) - len(stamps) - 1  # ids are global and increase along each room
    if start < 1:
        raise ValueError("too many Lingr messages for the default ids")
    lounge["messages"] = [
        {"id": str(start + index), "speaker": "bob", "text": f"seeded {index}", "timestamp": f"{date}T{time}Z"}
        for index, date, time in stamps
    ] + lounge.get("messages", [])


def _add_bocco(bocco: dict[str, Any], stamps: Stamps) -> None:
    family = next(room for room in bocco["rooms"] if room["uuid"] == BOCCO_ROOM)
    highest = max((int(message["id"]) for room in bocco["rooms"] for message in room.get("messages", []) if "id" in message), default=0)
    family["messages"] = family.get("messages", []) + [  # ids are global; dates 2020 > the default 2015
        {"id": highest + 1 + index, "user": "bob", "text": f"seeded {index}", "date": f"{date}T{time}+09:00"}
        for index, date, time in stamps
    ]


_ADD_MESSAGES = {"gitter": _add_gitter, "rocketchat": _add_rocketchat, "lingr": _add_lingr, "bocco": _add_bocco}
