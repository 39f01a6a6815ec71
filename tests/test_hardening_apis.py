"""The four mocked APIs hardened (issue 12; audit of 2026-11-30, findings M3, M6, L1-L5, L7).

Each test fails on the API code before the hardening: constant-time credentials with the same
work for unknown accounts, world loaders that name the JSON path of a bad value and load in
linear time (indexes, never a walk over every room, user or session), idle sessions and tokens
(``session_idle_timeout``), throttled credential guesses (``auth_failure_limit``), public ids
that are never secret ids, bounded reads, no existence oracles, and BOCCO subscribers released
by a reset. No timed assertion: costs are counted (calls, index-only tables).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import uuid
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import httpx
import pytest
from mock_support import MockClient, assert_documented, assert_error_shape
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.core.worlds import WorldError

APIS = ("gitter", "rocketchat", "lingr", "bocco")
RC_ALICE_ID = "aLiCEx3kPq7RtZ2mW"
RC_ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": RC_ALICE_ID}
RC_BOB = {"X-Auth-Token": "rc-pat-bob", "X-User-Id": "boBy4Nq8HsK2dYe6T"}
RC_BOB_ROOM = "bObPr7vGtK4sQw9Zn"  # bob-private
RC_BOB_MESSAGE = "bPrMsg2xK7pQ4tRzF"  # bob's note in bob-private
BOCCO_KEY = "bocco-api-key"
FAMILY = "FA000000-0000-4000-8000-000000000001"
BOBS_ROOM = "B0B00000-0000-4000-8000-000000000005"
BOBS_NOTE = "1DB34B93-0DFA-4150-AEF5-CBED1F820005"  # unique_id of bob's note in Bob's Room
GITTER_ALICE = {"Authorization": "Bearer gitter-token-alice"}


def module(app: Any, api: str) -> Any:
    return app.state.chatmock.modules[api]


def chatmock(client: TestClient) -> Any:
    app: Any = client.app
    return app.state.chatmock


def bocco_sign_in(client: TestClient, email: str = "alice@example.com", password: str = "alice-password") -> httpx.Response:
    return client.post("/alpha/sessions", data={"apikey": BOCCO_KEY, "email": email, "password": password})


def lingr_login(client: TestClient, user: str = "alice", password: str = "alice-password") -> dict[str, Any]:
    body: dict[str, Any] = client.post("/api/session/create", data={"user": user, "password": password}).json()
    return body


# 1. credentials ----------------------------------------------------------------------------------
def test_bocco_non_ascii_password_is_the_documented_401_for_known_and_unknown_e_mails(mock_client: MockClient) -> None:
    """Audit M6: a known e-mail answered 500 (compare_digest on non-ASCII str), an unknown one 401."""
    client = mock_client("bocco")
    known = bocco_sign_in(client, "alice@example.com", "pässword")
    unknown = bocco_sign_in(client, "nobody@example.com", "pässword")
    assert assert_documented("bocco.sessions.create", known, 401) == assert_documented("bocco.sessions.create", unknown, 401)


def test_bocco_user_with_a_non_ascii_password_signs_in(mock_client: MockClient) -> None:
    seed = {
        "bocco": {
            "apikeys": [BOCCO_KEY],
            "users": [{"name": "zoe", "uuid": "20e00000-0000-4000-8000-000000000001", "email": "zoe@example.com", "password": "pässwörd"}],
        }
    }
    client = mock_client("bocco", seed=seed)
    assert_documented("bocco.sessions.create", bocco_sign_in(client, "zoe@example.com", "pässwörd"), 200)
    assert_documented("bocco.sessions.create", bocco_sign_in(client, "ZOE@example.com", "passwörd"), 401)


def _count_comparisons(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    original = secrets.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls[0] += 1
        return original(a, b)

    monkeypatch.setattr(secrets, "compare_digest", counting)
    return calls


LOGINS: dict[str, Callable[[TestClient, str, str], httpx.Response]] = {
    "rocketchat": lambda client, user, password: client.post("/api/v1/login", json={"user": user, "password": password}),
    "lingr": lambda client, user, password: client.post("/api/session/create", data={"user": user, "password": password}),
    "bocco": lambda client, user, password: bocco_sign_in(client, f"{user}@example.com", password),
}


@pytest.mark.parametrize("api", sorted(LOGINS))
def test_an_unknown_user_costs_the_same_comparisons_as_a_wrong_password(
    mock_client: MockClient, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    """Same answer and same work: one constant-time comparison of bytes either way."""
    client = mock_client(api)
    calls = _count_comparisons(monkeypatch)
    wrong = LOGINS[api](client, "alice", "not-her-password")
    wrong_work, calls[0] = calls[0], 0
    unknown = LOGINS[api](client, "mallory", "not-her-password")
    assert calls[0] == wrong_work >= 1
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())


# 2. world loaders --------------------------------------------------------------------------------
BAD_WORLDS: list[tuple[str, Any, str]] = [
    # the audit's repros (M3)
    ("rocketchat", [], "$"),
    ("lingr", {"users": [1]}, "$.users[0]"),
    ("rocketchat", {"users": [{"username": "x", "createdAt": 5}]}, "$.users[0].createdAt"),
    ("rocketchat", {"settings": {"maxCount": float("inf")}}, "$.settings.maxCount"),
    ("rocketchat", {"settings": {"maxCount": 10**400}}, "$.settings.maxCount"),
    # and more wrong shapes, one per kind of value
    ("rocketchat", {"users": "alice"}, "$.users"),
    ("rocketchat", {"settings": {"maxCount": "100"}}, "$.settings.maxCount"),
    ("rocketchat", {"settings": {"pageSize": 5}}, "$.settings.pageSize"),
    ("rocketchat", {"users": [{"username": "x", "utcOffset": float("nan")}]}, "$.users[0].utcOffset"),
    ("rocketchat", {"users": [{"username": "x", "emails": [{"address": 1}]}]}, "$.users[0].emails[0].address"),
    ("rocketchat", {"users": [{"username": "x"}, {"username": "X"}]}, "$.users[1].username"),
    ("rocketchat", {"users": [{"username": "x", "personalAccessTokens": [7]}]}, "$.users[0].personalAccessTokens[0]"),
    ("rocketchat", {"rooms": [{"t": "c", "members": ["ghost"]}]}, "$.rooms[0].members[0]"),
    ("rocketchat", {"rooms": [{"t": "x"}]}, "$.rooms[0].t"),
    ("rocketchat", {"rooms": [{"name": "a"}], "messages": [{"room": "a", "user": "nobody"}]}, "$.messages[0].user"),
    (
        "rocketchat",
        {
            "users": [{"username": "u"}],
            "rooms": [{"name": "a", "members": ["u"]}],
            "messages": [{"room": "a", "user": "u", "ts": "yesterday"}],
        },
        "$.messages[0].ts",
    ),
    (
        "rocketchat",
        {"users": [{"username": "u"}], "rooms": [{"name": "a"}], "messages": [{"room": "a", "user": "u", "attachments": "x"}]},
        "$.messages[0]",
    ),
    ("rocketchat", {"removedRooms": [{"_id": "r", "at": 5}]}, "$.removedRooms[0].at"),
    ("lingr", [], "$"),
    ("lingr", {"users": [{"username": "a", "password": 5}]}, "$.users[0].password"),
    ("lingr", {"rooms": [{"id": "r", "is_public": "yes"}]}, "$.rooms[0].is_public"),
    ("lingr", {"rooms": [{"id": "bad room!"}]}, "$.rooms[0].id"),
    ("lingr", {"rooms": [{"id": "r", "members": [1]}]}, "$.rooms[0].members[0]"),
    ("lingr", {"bots": [{"id": "b", "status": "asleep"}]}, "$.bots[0].status"),
    (
        "lingr",
        {"users": [{"username": "a", "password": "p"}], "rooms": [{"id": "r", "messages": [{"speaker": "a", "id": "²"}]}]},
        "$.rooms[0].messages[0].id",
    ),
    (
        "lingr",
        {"users": [{"username": "a", "password": "p"}], "rooms": [{"id": "r", "messages": [{"speaker": "a", "timestamp": "today"}]}]},
        "$.rooms[0].messages[0].timestamp",
    ),
    ("lingr", {"users": [{"username": "a", "password": "p"}], "sessions": [{"session": "S1", "user": "b"}]}, "$.sessions[0].user"),
    ("lingr", {"favorites": []}, "$.favorites"),
    ("gitter", [], "$"),
    ("gitter", {"users": [{"username": "a", "staff": "no"}]}, "$.users[0].staff"),
    ("gitter", {"users": [{"username": "a", "displayName": 5}]}, "$.users[0].displayName"),
    ("gitter", {"rooms": [{"uri": "a/b", "githubType": "GUILD"}]}, "$.rooms[0].githubType"),
    ("gitter", {"rooms": [{"uri": "a/b"}, {"uri": "A/B/"}]}, "$.rooms[1].uri"),
    ("gitter", {"rooms": [{"uri": "a/b", "messages": [5]}]}, "$.rooms[0].messages[0]"),
    (
        "gitter",
        {"users": [{"username": "a"}], "rooms": [{"uri": "a/b", "messages": [{"from": "a", "text": "x", "status": 1}]}]},
        "$.rooms[0].messages[0].status",
    ),
    ("bocco", [], "$"),
    ("bocco", {"apikeys": "k"}, "$.apikeys"),
    ("bocco", {"users": [{"name": "a", "uuid": "not-a-uuid"}]}, "$.users[0].uuid"),
    ("bocco", {"tokens": [{"access_token": "t", "user": 5}]}, "$.tokens[0].user"),
    ("bocco", {"rooms": [{"uuid": FAMILY, "name": "F", "members": "alice"}]}, "$.rooms[0].members"),
    ("bocco", {"rooms": [{"uuid": FAMILY, "name": "F", "created_at": 5}]}, "$.rooms[0].created_at"),
    (
        "bocco",
        {"users": [{"name": "a", "uuid": FAMILY}], "rooms": [{"uuid": FAMILY, "name": "F", "messages": [{"user": "a", "dictated": "no"}]}]},
        "$.rooms[0].messages[0].dictated",
    ),
    (
        "bocco",
        {"users": [{"name": "a", "uuid": FAMILY}], "rooms": [{"uuid": FAMILY, "name": "F", "messages": [{"user": "a", "id": 2**60}]}]},
        "$.rooms[0].messages[0].id",
    ),
]


@pytest.mark.parametrize(("api", "world", "path"), BAD_WORLDS)
def test_a_malformed_world_names_the_path_of_the_bad_value(api: str, world: Any, path: str) -> None:
    loader = module(create_app([api]), api)
    with pytest.raises(WorldError) as raised:
        loader.load_world(world)
    assert raised.value.path == path, str(raised.value)


def test_the_audit_seed_repros_answer_400_and_keep_the_world() -> None:
    client = TestClient(create_app(strict=True))
    for seed, where in (
        ({"lingr": {"users": [1]}}, "lingr: $.users[0]: expected an object, got 1"),
        (
            {"rocketchat": {"users": [{"username": "x", "createdAt": 5}]}},
            "rocketchat: $.users[0].createdAt: expected an ISO time string, got 5",
        ),
    ):
        refused = client.post("/__chatmock/seed", json=seed)
        assert refused.status_code == 400
        assert where in refused.text
        assert_documented("gitter.user.me", client.get("/gitter/v1/user/me", headers=GITTER_ALICE), 200)
        assert client.post("/rocketchat/api/v1/login", json={"user": "alice", "password": "alice-password"}).status_code == 200


class Calls:
    """Python function calls (and generator resumptions) made while the block runs."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> Calls:
        def profile(frame: FrameType, event: str, arg: Any) -> None:
            if event in ("call", "c_call"):
                self.count += 1

        sys.setprofile(profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


def gitter_rooms(size: int) -> dict[str, Any]:
    users = [{"username": "alice"}, {"username": "bob"}]
    rooms = [
        {"uri": f"org/room{index}", "members": ["alice", "bob"], "messages": [{"from": "alice", "text": f"m{n}"} for n in range(10)]}
        for index in range(size)
    ]
    return {"users": users, "rooms": rooms}


def test_loading_gitter_rooms_is_linear() -> None:
    """Audit L3 (4,000 Gitter rooms loaded in 8 s): twice the rooms, about twice the calls (a walk
    over every room per id would make it four times). The other APIs' lookups while loading are
    index lookups too (the tests below walk no table)."""
    loader = module(create_app(["gitter"]), "gitter")
    counts = []
    for size in (200, 400):
        world = gitter_rooms(size)
        with Calls() as calls:
            loader.load_world(world)
        counts.append(calls.count)
    assert counts[1] < 2.4 * counts[0], counts


class NoWalk(dict[Any, Any]):
    """A table that may be looked up by key but never walked."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("walked a table that should be looked up by key")

    __iter__ = values = items = keys = _refuse


def test_gitter_lookups_by_id_uri_and_pair_use_indexes() -> None:
    app = create_app(["gitter"])
    world = module(app, "gitter").world
    room = world.room_by_uri("chatmock/chatmock")
    assert room is not None
    world.rooms = NoWalk(world.rooms)
    assert world.has_id(room.id)
    assert world.has_id(room.messages[0].id)
    assert not world.has_id("0" * 24)
    assert world.room_by_uri("/CHATMOCK/chatmock/") is room
    alice, bob = world.user_named("alice"), world.user_named("bob")
    assert alice is not None
    assert bob is not None
    assert world.one_to_one_between(alice.id, bob.id) is not None


def test_rocketchat_lookups_by_name_and_login_use_indexes(mock_client: MockClient) -> None:
    client = mock_client("rocketchat")
    world = module(client.app, "rocketchat").world
    world.users = NoWalk(world.users)
    world.rooms = NoWalk(world.rooms)
    assert world.user_by_login("ALICE@example.com") is world.user_by_name("Alice") is not None
    assert world.room_by_name("general") is not None
    assert client.post("/api/v1/login", json={"user": "alice@example.com", "password": "alice-password"}).status_code == 200
    posted = client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "hi @bob, see #random"}, headers=RC_ALICE)
    message = assert_documented("rocketchat.chat.postMessage", posted)["message"]
    assert [mention["username"] for mention in message["mentions"]] == ["bob"]
    assert [channel["name"] for channel in message["channels"]] == ["random"]


def test_bocco_sign_in_uses_the_e_mail_index(mock_client: MockClient) -> None:
    client = mock_client("bocco")
    world = module(client.app, "bocco").world
    world.users = NoWalk(world.users)
    assert_documented("bocco.sessions.create", bocco_sign_in(client, "Alice@Example.com"), 200)


# 3. sessions and tokens ---------------------------------------------------------------------------
def test_lingr_logins_events_and_rosters_never_walk_the_sessions(mock_client: MockClient) -> None:
    """Audit L1: every login built a set of every session id; presence walked every session."""
    seed = {"lingr": {**module(create_app(["lingr"]), "lingr").default_world()}}
    seed["lingr"]["sessions"] = [{"session": f"S{index:05d}", "user": "bob"} for index in range(500)]
    client = mock_client("lingr", seed=seed)
    world = module(client.app, "lingr").world
    world.sessions = NoWalk(world.sessions)
    world.rooms = NoWalk(world.rooms)
    bob = "S00007"
    assert client.post("/api/room/subscribe", data={"session": bob, "room": "lounge"}).json()["status"] == "ok"
    alice = lingr_login(client)
    assert alice["status"] == "ok"
    said = client.post("/api/room/say", data={"session": alice["session"], "room": "lounge", "text": "hello"}).json()
    assert said["status"] == "ok"
    shown = client.get("/api/room/show", params={"session": bob, "room": "lounge"}).json()
    assert {member["username"]: member["is_online"] for member in shown["rooms"][0]["roster"]["members"]} == {"alice": True, "bob": True}
    assert client.post("/api/session/destroy", data={"session": alice["session"]}).json() == {"status": "ok"}
    observed = client.get("/api/event/observe", params={"session": bob, "counter": "0"}).json()
    assert [event["message"]["text"] for event in observed["events"] if "message" in event] == ["hello"]


def test_idle_lingr_sessions_end_and_used_ones_live(mock_client: MockClient) -> None:
    client = mock_client("lingr", session_idle_timeout=60)
    clock = chatmock(client).clock
    session = lingr_login(client)["session"]
    for _ in range(3):  # used every 50 s: alive
        clock.advance(50)
        assert client.get("/api/session/verify", params={"session": session}).json()["status"] == "ok"
    idle = lingr_login(client)["session"]
    clock.advance(61)
    assert client.get("/api/session/verify", params={"session": idle}).json()["code"] == "invalid_session"
    assert client.get("/api/session/verify", params={"session": session}).json()["code"] == "invalid_session"
    lingr_login(client)  # a login ends every idle session: none is kept
    assert set(module(client.app, "lingr").world.sessions) == set(module(client.app, "lingr").world.last_use._used)


def test_sessions_never_expire_by_default(mock_client: MockClient) -> None:
    client = mock_client("lingr", session_idle_timeout=3600)
    session = lingr_login(client)["session"]
    chatmock(client).clock.advance(3601)
    assert client.get("/api/session/verify", params={"session": session}).json()["code"] == "invalid_session"
    unlimited = mock_client("lingr")
    kept = lingr_login(unlimited)["session"]
    chatmock(unlimited).clock.advance(10**7)
    assert unlimited.get("/api/session/verify", params={"session": kept}).json()["status"] == "ok"


def test_idle_rocketchat_login_tokens_end_but_personal_access_tokens_do_not(mock_client: MockClient) -> None:
    client = mock_client("rocketchat", session_idle_timeout=60)
    clock = chatmock(client).clock
    data = client.post("/api/v1/login", json={"user": "alice", "password": "alice-password"}).json()["data"]
    login = {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}
    clock.advance(50)
    assert_documented("rocketchat.me", client.get("/api/v1/me", headers=login))
    clock.advance(61)
    assert_documented("rocketchat.me", client.get("/api/v1/me", headers=login), 401)
    assert_documented("rocketchat.login", client.post("/api/v1/login", json={"resume": data["authToken"]}), 401)
    assert_documented("rocketchat.me", client.get("/api/v1/me", headers=RC_ALICE))  # a PAT lives on
    assert data["authToken"] not in module(client.app, "rocketchat").world.tokens


def test_idle_bocco_tokens_end(mock_client: MockClient) -> None:
    client = mock_client("bocco", session_idle_timeout=60)
    clock = chatmock(client).clock
    token = assert_documented("bocco.sessions.create", bocco_sign_in(client))["access_token"]
    clock.advance(50)
    assert_documented("bocco.rooms.joined", client.get("/alpha/rooms/joined", params={"access_token": token}))
    clock.advance(61)
    assert_documented("bocco.rooms.joined", client.get("/alpha/rooms/joined", params={"access_token": token}), 401)


THROTTLED: dict[str, tuple[Callable[[TestClient, bool], httpx.Response], int, Callable[[httpx.Response], bool]]] = {
    # api: (a call with a good or a bad credential, the too-many-requests status, is it that answer)
    "gitter": (
        lambda client, good: client.get("/v1/user/me", headers=GITTER_ALICE if good else {"Authorization": "Bearer guess"}),
        429,
        lambda response: response.json() == {"error": "Too Many Requests"},
    ),
    "rocketchat": (
        lambda client, good: client.get("/api/v1/me", headers=RC_ALICE if good else {**RC_ALICE, "X-Auth-Token": "guess"}),
        429,
        lambda response: response.json().get("errorType") == "error-too-many-requests",
    ),
    "lingr": (
        lambda client, good: client.post("/api/session/create", data={"user": "alice", "password": "alice-password" if good else "guess"}),
        200,
        lambda response: response.json().get("code") == "rate_limited",
    ),
    "bocco": (
        lambda client, good: bocco_sign_in(client, password="alice-password" if good else "guess"),
        429,
        lambda response: response.json().get("code") == 429001,
    ),
}


@pytest.mark.parametrize("api", APIS)
def test_credential_guesses_are_throttled(mock_client: MockClient, api: str) -> None:
    """Audit L1 (17,900 invalid-session guesses a second): past auth_failure_limit failures in a
    minute, every credential check answers the API's too-many-requests error, good ones too, until
    the minute ends. Call carries no client address: one count per API."""
    attempt, status, throttled = THROTTLED[api]
    client = mock_client(api, auth_failure_limit=3, strict=False)  # 429 is undocumented on some endpoints
    for _ in range(3):
        refused = attempt(client, False)
        assert refused.status_code != status or not throttled(refused)
    for good in (False, True):
        answer = attempt(client, good)
        assert answer.status_code == status, answer.text
        assert throttled(answer), answer.text
        assert_error_shape(api, answer, status)
    chatmock(client).clock.advance(61)
    assert attempt(client, True).status_code == 200


def test_a_seeded_lingr_session_without_public_id_shows_a_random_one(mock_client: MockClient) -> None:
    """Audit L2: alice's secret session id was shown to bob as her public_session_id: a hijack."""
    seed = {"lingr": module(create_app(["lingr"]), "lingr").default_world()}
    seed["lingr"]["sessions"] = [{"session": "AliceSess1", "user": "alice"}, {"session": "BobSess001", "user": "bob"}]
    client = mock_client("lingr", seed=seed)
    said = client.post("/api/room/say", data={"session": "AliceSess1", "room": "lounge", "text": "hi"}).json()["message"]
    public = said["public_session_id"]
    assert public != "AliceSess1"
    assert len(public) == 6
    assert client.get("/api/session/verify", params={"session": "AliceSess1"}).json()["public_id"] == public
    assert client.get("/api/session/verify", params={"session": public}).json()["code"] == "invalid_session"


@pytest.mark.parametrize(
    ("sessions", "path"),
    [
        ([{"session": "AAA111", "user": "alice", "public_id": "BBB222"}, {"session": "BBB222", "user": "bob"}], "$.sessions[0].public_id"),
        ([{"session": "AlcE01", "user": "alice"}], "$.sessions[0].session"),  # a message of the world shows AlcE01
    ],
)
def test_a_public_id_may_not_be_a_session_id(sessions: list[dict[str, str]], path: str) -> None:
    lingr = module(create_app(["lingr"]), "lingr")
    world = {**lingr.default_world(), "sessions": sessions}
    with pytest.raises(WorldError) as raised:
        lingr.load_world(world)
    assert raised.value.path == path


# 4. bounded reads ----------------------------------------------------------------------------------
def test_lingr_archives_are_capped(mock_client: MockClient) -> None:
    """Audit L4: get_archives?limit=1000000000 returned every message."""
    seed = {"lingr": module(create_app(["lingr"]), "lingr").default_world()}
    lounge = seed["lingr"]["rooms"][0]
    lounge["messages"] = [{"speaker": "alice", "text": f"m{index}"} for index in range(1200)]
    seed["lingr"]["favorites"] = {}
    client = mock_client("lingr", seed=seed)
    session = lingr_login(client)["session"]
    for limit in ("1000000000", "9" * 5000):
        archives = client.get(
            "/api/room/get_archives", params={"session": session, "room": "lounge", "before": "9" * 30, "limit": limit}
        ).json()
        assert archives["status"] == "ok", archives
        assert len(archives["messages"]) == 1000
        assert archives["messages"][-1]["text"] == "m1199"


def test_bocco_subscribe_answers_a_page(mock_client: MockClient) -> None:
    """Audit L4: subscribe?newer_than=0 returned every newer message at once."""
    client = mock_client("bocco", longpoll_timeout=0.2)
    token = bocco_sign_in(client).json()["access_token"]
    for index in range(120):
        data = {"access_token": token, "unique_id": str(uuid.uuid4()), "media": "text", "text": f"n{index}"}
        assert client.post(f"/alpha/rooms/{FAMILY}/messages", data=data).status_code == 201
    seen: list[int] = []
    newer_than = 0
    while True:
        response = client.get(f"/alpha/rooms/{FAMILY}/subscribe", params={"access_token": token, "newer_than": str(newer_than)})
        if response.status_code == 408:
            break
        events = assert_documented("bocco.rooms.subscribe", response)
        assert len(events) <= 50
        seen.extend(event["body"]["id"] for event in events)
        newer_than = seen[-1]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 124  # 4 seeded messages and the 120 posted
    huge = client.get(f"/alpha/rooms/{FAMILY}/messages", params={"access_token": token, "newer_than": "9" * 5000})
    assert assert_documented("bocco.rooms.messages.list", huge) == []


def test_rocketchat_counts_of_any_length_are_read(mock_client: MockClient) -> None:
    client = mock_client("rocketchat")
    for params in ({"count": "9" * 5000}, {"offset": "9" * 5000}):
        response = client.get("/api/v1/channels.messages", params={"roomId": "GENERAL", **params}, headers=RC_ALICE)
        body = assert_documented("rocketchat.channels.messages", response)
        assert body["count"] <= 100


# 5. no existence oracles -----------------------------------------------------------------------------
def test_rocketchat_send_message_with_the_id_of_a_hidden_message_is_an_unused_id(mock_client: MockClient) -> None:
    """Audit L5: "A message with the id … already exists" told alice that bob's private message exists."""
    client = mock_client("rocketchat")
    hidden = {"roomId": RC_BOB_ROOM, "msgId": RC_BOB_MESSAGE, "text": "x"}
    unknown = {"roomId": RC_BOB_ROOM, "msgId": "nOsUcHmEsSaGe2345", "text": "x"}
    answers = [client.post("/api/v1/chat.update", json=body, headers=RC_ALICE) for body in (hidden, unknown)]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json()["error"].replace(RC_BOB_MESSAGE, "?") == answers[1].json()["error"].replace("nOsUcHmEsSaGe2345", "?")
    payload = {"message": {"rid": "GENERAL", "msg": "x", "_id": RC_BOB_MESSAGE}}
    sent = assert_documented("rocketchat.chat.sendMessage", client.post("/api/v1/chat.sendMessage", json=payload, headers=RC_ALICE))
    assert sent["message"]["_id"] == RC_BOB_MESSAGE
    assert sent["message"]["rid"] == "GENERAL"
    again = client.post("/api/v1/chat.sendMessage", json=payload, headers=RC_ALICE)  # now one she can see: taken
    assert "already exists" in assert_documented("rocketchat.chat.sendMessage", again, 400)["error"]
    private = client.get("/api/v1/rooms.get", headers=RC_BOB).json()["update"]
    note = next(room for room in private if room["_id"] == RC_BOB_ROOM)["lastMessage"]
    assert (note["_id"], note["msg"]) == (RC_BOB_MESSAGE, "note to self: buy milk")
    edit = {"roomId": RC_BOB_ROOM, "msgId": RC_BOB_MESSAGE, "text": "note to self: buy oat milk"}
    edited = assert_documented("rocketchat.chat.update", client.post("/api/v1/chat.update", json=edit, headers=RC_BOB))
    assert edited["message"]["rid"] == RC_BOB_ROOM
    mine = {"roomId": "GENERAL", "msgId": RC_BOB_MESSAGE, "text": "mine"}
    assert (
        assert_documented("rocketchat.chat.update", client.post("/api/v1/chat.update", json=mine, headers=RC_ALICE))["message"]["msg"]
        == "mine"
    )


def test_bocco_unique_id_of_a_hidden_message_is_an_unused_one(mock_client: MockClient) -> None:
    """Audit L5: "unique_id is already used by a message of another room" told alice of bob's note."""
    client = mock_client("bocco")
    alice = bocco_sign_in(client).json()["access_token"]
    bob = bocco_sign_in(client, "bob@example.com", "bob-password").json()["access_token"]
    data = {"access_token": alice, "unique_id": BOBS_NOTE, "media": "text", "text": "mine"}
    created = assert_documented("bocco.rooms.messages.create", client.post(f"/alpha/rooms/{FAMILY}/messages", data=data), 201)
    assert created["unique_id"] == BOBS_NOTE
    again = assert_documented("bocco.rooms.messages.create", client.post(f"/alpha/rooms/{FAMILY}/messages", data=data), 200)
    assert again == created
    mine = client.get(f"/alpha/messages/{BOBS_NOTE}.wav", params={"access_token": alice})
    his = client.get(f"/alpha/messages/{BOBS_NOTE}.wav", params={"access_token": bob})
    assert assert_documented("bocco.messages.download", mine) != assert_documented("bocco.messages.download", his)
    listed = client.get(f"/alpha/rooms/{BOBS_ROOM}/messages", params={"access_token": bob}).json()
    assert [message["text"] for message in listed if message["unique_id"] == BOBS_NOTE] != ["mine"]


def test_gitter_joining_a_private_room_of_others_is_an_unknown_uri(mock_client: MockClient) -> None:
    client = mock_client("gitter")
    private = client.post("/v1/rooms", json={"uri": "bob/private"}, headers=GITTER_ALICE)
    unknown = client.post("/v1/rooms", json={"uri": "bob/no-such-room"}, headers=GITTER_ALICE)
    assert assert_documented("gitter.rooms.join", private, 404) == assert_documented("gitter.rooms.join", unknown, 404)


# 6. a reset releases held BOCCO subscribers ------------------------------------------------------------
def test_a_reset_of_the_bocco_api_releases_its_held_subscribers() -> None:
    """Audit L7: 50 of 50 held subscribes were still held a second after a reset (Lingr's observers
    and Gitter's streams were released): the API's own reset now wakes them."""
    app = create_app(["bocco"], strict=True, longpoll_timeout=30)
    bocco = module(app, "bocco")

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            signed = await client.post(
                "/alpha/sessions", data={"apikey": BOCCO_KEY, "email": "alice@example.com", "password": "alice-password"}
            )
            params = {"access_token": signed.json()["access_token"], "newer_than": "999999"}
            held = [asyncio.ensure_future(client.get(f"/alpha/rooms/{FAMILY}/subscribe", params=params)) for _ in range(5)]
            for _ in range(100):
                await asyncio.sleep(0.01)
                if bocco.hub.waiting == len(held):
                    break
            assert bocco.hub.waiting == len(held)
            bocco.reset(None)  # the API's reset (ChatMock's also closes the old hub)
            return list(await asyncio.wait_for(asyncio.gather(*held), 5))

    for answer in asyncio.run(scenario()):
        assert assert_documented("bocco.rooms.subscribe", answer, 408) == {"code": 408001, "message": "Request Timeout"}


def test_a_reset_of_the_lingr_api_releases_observers_of_a_session_the_new_world_also_has() -> None:
    seed = module(create_app(["lingr"]), "lingr").default_world()
    seed["sessions"] = [{"session": "KeptS1", "user": "alice"}]
    app = create_app(["lingr"], strict=True, longpoll_timeout=30, seed={"lingr": seed})
    lingr = module(app, "lingr")

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            counter = (await client.post("/api/room/subscribe", data={"session": "KeptS1", "room": "lounge"})).json()["counter"]
            held = asyncio.ensure_future(client.get("/api/event/observe", params={"session": "KeptS1", "counter": str(counter)}))
            for _ in range(100):
                await asyncio.sleep(0.01)
                if lingr.hub.waiting:
                    break
            lingr.reset(seed)
            return await asyncio.wait_for(held, 5)

    assert asyncio.run(scenario()).json()["code"] == "invalid_session"


@pytest.fixture(autouse=True)
def _no_profile() -> Iterator[None]:
    yield
    sys.setprofile(None)


def test_failed_checks_are_counted_per_client() -> None:
    """With the client's address on every call, one client's bad guesses do not lock out another."""
    from mockserver import create_app

    app = create_app(["lingr"], auth_failure_limit=2)
    mallory = TestClient(app, client=("10.0.0.66", 5000))
    alice = TestClient(app, client=("10.0.0.7", 5000))
    for _ in range(3):
        mallory.post("/api/session/create", data={"user": "alice", "password": "wrong"})
    blocked = mallory.post("/api/session/create", data={"user": "alice", "password": "alice-password"}).json()
    assert blocked["status"] == "error"
    assert alice.post("/api/session/create", data={"user": "alice", "password": "alice-password"}).json()["status"] == "ok"
