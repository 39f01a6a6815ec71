"""No request reads every stored message: the per-room message sequences of each API are replaced
by probes that count the elements a request touches (iteration, slices, lookups), and each
request of the everyday paths -- lists, pages by anchor, posts, edits, unread items, rooms with
their last message -- must touch at most about one page, however many messages the room holds.

Searches and filtered or sorted listings (Gitter ``q``, Rocket.Chat channels.messages with a
filter or ``sort``) read the whole room by nature and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, SupportsIndex

import pytest
from starlette.testclient import TestClient

from mockserver.apis.bocco import world as bocco_world
from mockserver.apis.gitter import world as gitter_world
from mockserver.apis.lingr import world as lingr_world
from mockserver.apis.rocketchat import world as rocketchat_world
from mockserver.app import create_app
from mockserver.core.worlds import read_world_file

STORED = 3000  # messages seeded into one room of each API
MOST = 250  # elements one request may touch: a page (at most 100) plus anchors and bisection

GITTER_ROOM = "5f2000000000000000000002"
GITTER_ALICE = {"Authorization": "Bearer gitter-token-alice"}
GITTER_BOB = {"Authorization": "Bearer gitter-token-bob"}
BOB_ID = "5f1b0b000000000000000002"
RC_ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
LINGR_SESSION = "PerfS1"
BOCCO_ROOM = "FA000000-0000-4000-8000-000000000001"
BOCCO_TOKEN = "perf-bocco-token"


class Probe(list[Any]):
    """A list that counts the elements read through it."""

    touched = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            Probe.touched += 1
            yield item

    def __reversed__(self) -> Iterator[Any]:
        for item in super().__reversed__():
            Probe.touched += 1
            yield item

    def __getitem__(self, index: Any) -> Any:
        found = super().__getitem__(index)
        Probe.touched += len(found) if isinstance(index, slice) else 1
        return found

    def __contains__(self, item: object) -> bool:
        Probe.touched += len(self)
        return super().__contains__(item)

    def index(self, value: Any, start: SupportsIndex = 0, stop: SupportsIndex = 2**62) -> int:
        Probe.touched += len(self)
        return super().index(value, start, stop)

    def copy(self) -> list[Any]:
        Probe.touched += len(self)
        return super().copy()


def _stamps(count: int) -> Iterable[tuple[int, str]]:
    for index in range(count):
        minutes, seconds = divmod(index, 60)
        hours, minutes = divmod(minutes, 60)
        yield index, f"2020-01-01T{hours:02d}:{minutes:02d}:{seconds:02d}"


def _seed() -> dict[str, Any]:
    gitter, rocketchat, lingr, bocco = (
        read_world_file(module.WORLD_FILE) for module in (gitter_world, rocketchat_world, lingr_world, bocco_world)
    )
    room = next(room for room in gitter["rooms"] if room.get("id") == GITTER_ROOM)
    room["messages"] = [{"from": "bob", "text": f"old {index}", "sent": f"{at}.000Z"} for index, at in _stamps(STORED)] + room["messages"]
    old = [{"room": "general", "user": "bob", "msg": f"old {index}", "ts": f"{at}.000Z"} for index, at in _stamps(STORED)]
    rocketchat["messages"] = old + rocketchat["messages"]
    lounge = next(room for room in lingr["rooms"] if room["id"] == "lounge")
    first = min(int(message["id"]) for room in lingr["rooms"] for message in room.get("messages", []))
    lounge["messages"] = [
        {"id": str(first - STORED - 1 + index), "speaker": "bob", "text": f"old {index}", "timestamp": f"{at}Z"}
        for index, at in _stamps(STORED)
    ] + lounge["messages"]
    lingr["sessions"] = [{"session": LINGR_SESSION, "public_id": "PerfP1", "user": "alice"}]
    family = next(room for room in bocco["rooms"] if room["uuid"] == BOCCO_ROOM)
    family["messages"] = family["messages"] + [
        {"id": 5000 + index, "user": "bob", "text": f"new {index}", "date": f"{at}+09:00"} for index, at in _stamps(STORED)
    ]
    bocco["tokens"] = [*bocco.get("tokens", []), {"access_token": BOCCO_TOKEN, "user": "alice"}]
    return {"gitter": gitter, "rocketchat": rocketchat, "lingr": lingr, "bocco": bocco}


@pytest.fixture(scope="module")
def probed() -> tuple[TestClient, dict[str, str]]:
    app = create_app(strict=True, seed=_seed(), longpoll_timeout=0.2)
    modules = app.state.chatmock.modules
    gitter_room = modules["gitter"].world.rooms[GITTER_ROOM]
    timelines = modules["rocketchat"].world.timelines
    lounge = modules["lingr"].world.rooms["lounge"]
    family = modules["bocco"].world.rooms[BOCCO_ROOM.lower()]
    middle = {
        "gitter": gitter_room.messages[STORED // 2].id,
        "rocketchat": timelines["GENERAL"][STORED // 2].doc["ts"],
        "lingr": str(lounge.message_ids[STORED // 2]),
        "bocco": str(family.message_ids[STORED // 2]),
    }
    assert min(len(gitter_room.messages), len(timelines["GENERAL"]), len(lounge.message_ids), len(family.message_ids)) > STORED
    gitter_room.messages = Probe(gitter_room.messages)
    timelines["GENERAL"] = Probe(timelines["GENERAL"])
    lounge.message_ids = Probe(lounge.message_ids)
    family.message_ids = Probe(family.message_ids)
    return TestClient(app), middle


def _touches(request: Callable[[], Any]) -> int:
    Probe.touched = 0
    response = request()
    assert 200 <= response.status_code < 300, response.text
    return Probe.touched


def _over(requests: list[Callable[[], Any]]) -> list[tuple[int, int]]:
    """(index, elements touched) of each request that touched more than ``MOST``."""
    return [(index, touched) for index, request in enumerate(requests) if (touched := _touches(request)) > MOST]


def test_gitter_requests_touch_one_page(probed: tuple[TestClient, dict[str, str]]) -> None:
    client, middle = probed
    path = f"/gitter/v1/rooms/{GITTER_ROOM}/chatMessages"
    posted = client.post(path, json={"text": "hi @bob #1 https://example.com"}, headers=GITTER_ALICE).json()["id"]
    requests: list[Callable[[], Any]] = [
        lambda: client.get("/gitter/v1/rooms", headers=GITTER_ALICE),
        lambda: client.post(path, json={"text": "hello @bob"}, headers=GITTER_ALICE),
        lambda: client.get(path, headers=GITTER_BOB),
        lambda: client.get(path, params={"limit": "100", "skip": "40"}, headers=GITTER_ALICE),
        lambda: client.get(path, params={"beforeId": middle["gitter"], "limit": "100"}, headers=GITTER_ALICE),
        lambda: client.get(path, params={"afterId": middle["gitter"], "limit": "100"}, headers=GITTER_ALICE),
        lambda: client.get(path, params={"aroundId": middle["gitter"]}, headers=GITTER_ALICE),
        lambda: client.get(f"{path}/{middle['gitter']}", headers=GITTER_BOB),
        lambda: client.put(f"{path}/{posted}", json={"text": "edited"}, headers=GITTER_ALICE),
        lambda: client.get(f"/gitter/v1/user/{BOB_ID}/rooms/{GITTER_ROOM}/unreadItems", headers=GITTER_BOB),
        lambda: client.post(f"/gitter/v1/user/{BOB_ID}/rooms/{GITTER_ROOM}/unreadItems", json={"chat": [posted]}, headers=GITTER_BOB),
        lambda: client.get(f"/gitter/v1/user/{BOB_ID}/rooms", headers=GITTER_BOB),
    ]
    assert _over(requests) == []


def test_rocketchat_requests_touch_one_page(probed: tuple[TestClient, dict[str, str]]) -> None:
    client, middle = probed
    base = "/rocketchat/api/v1"
    sent = client.post(f"{base}/chat.postMessage", json={"roomId": "GENERAL", "text": "first"}, headers=RC_ALICE).json()["message"]["_id"]
    requests: list[Callable[[], Any]] = [
        lambda: client.get(f"{base}/rooms.get", headers=RC_ALICE),
        lambda: client.post(f"{base}/chat.postMessage", json={"channel": "#general", "text": "hi @bob"}, headers=RC_ALICE),
        lambda: client.post(
            f"{base}/chat.sendMessage", json={"message": {"rid": "GENERAL", "msg": "sent", "tmid": sent}}, headers=RC_ALICE
        ),
        lambda: client.post(f"{base}/chat.update", json={"roomId": "GENERAL", "msgId": sent, "text": "edited"}, headers=RC_ALICE),
        lambda: client.get(f"{base}/channels.history", params={"roomId": "GENERAL"}, headers=RC_ALICE),
        lambda: client.get(f"{base}/channels.history", params={"roomId": "GENERAL", "count": "100", "offset": "50"}, headers=RC_ALICE),
        lambda: client.get(f"{base}/channels.history", params={"roomId": "GENERAL", "latest": middle["rocketchat"]}, headers=RC_ALICE),
        lambda: client.get(f"{base}/channels.messages", params={"roomId": "GENERAL", "offset": "20"}, headers=RC_ALICE),
    ]
    assert _over(requests) == []


def test_lingr_requests_touch_one_page(probed: tuple[TestClient, dict[str, str]]) -> None:
    client, middle = probed
    base = "/lingr/api"
    said = client.post(f"{base}/room/say", data={"session": LINGR_SESSION, "room": "lounge", "text": "hi"}).json()["message"]["id"]
    assert client.post(f"{base}/favorite/add", data={"session": LINGR_SESSION, "message": said}).json()["status"] == "ok"
    requests: list[Callable[[], Any]] = [
        lambda: client.get(f"{base}/user/get_rooms", params={"session": LINGR_SESSION}),
        lambda: client.post(f"{base}/room/say", data={"session": LINGR_SESSION, "room": "lounge", "text": "again"}),
        lambda: client.get(f"{base}/room/show", params={"session": LINGR_SESSION, "room": "lounge"}),
        lambda: client.get(f"{base}/room/get_archives", params={"session": LINGR_SESSION, "room": "lounge", "before": middle["lingr"]}),
    ]
    assert _over(requests) == []


def test_bocco_requests_touch_one_page(probed: tuple[TestClient, dict[str, str]]) -> None:
    client, middle = probed
    base = f"/bocco/alpha/rooms/{BOCCO_ROOM}"
    token = {"access_token": BOCCO_TOKEN}
    requests: list[Callable[[], Any]] = [
        lambda: client.get("/bocco/alpha/rooms/joined", params=token),
        lambda: client.post(
            f"{base}/messages", data={**token, "media": "text", "text": "hi", "unique_id": "00000000-0000-4000-8000-00000000beef"}
        ),
        lambda: client.get(f"{base}/messages", params={**token, "read": "1"}),
        lambda: client.get(f"{base}/messages", params={**token, "newer_than": middle["bocco"]}),
        lambda: client.get(f"{base}/messages", params={**token, "older_than": middle["bocco"]}),
        lambda: client.get(f"{base}/subscribe", params={**token, "newer_than": str(int(middle["bocco"]) + STORED // 2 - 5)}),
    ]
    assert _over(requests) == []
