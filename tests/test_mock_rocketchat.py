"""The Rocket.Chat mock: every endpoint's success path and documented errors, in-process and
over a real socket, against the schemas (strict mode: a reply that broke its schema is a 500)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mock_support import REGISTRY, MockClient, assert_documented, assert_error_shape
from starlette.testclient import TestClient

from contract_tests.server import serve_in_thread
from mockserver.app import create_app
from mockserver.core.registry import load_registry, thaw

ALICE_ID = "aLiCEx3kPq7RtZ2mW"
BOB_ID = "boBy4Nq8HsK2dYe6T"
DM_ID = ALICE_ID + BOB_ID  # sorted, concatenated
ALICE_PAT = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}
BOB_PAT = {"X-Auth-Token": "rc-pat-bob", "X-User-Id": BOB_ID}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rocketchat"
NOT_LOGGED_IN = {"status": "error", "message": "You must be logged in to do this."}
LOGIN_FAILED = {"status": "error", "error": "Unauthorized", "message": "Unauthorized"}


def make_app(**options: Any) -> Any:
    options.setdefault("strict", True)
    options.setdefault("longpoll_timeout", 0.5)
    return create_app(["rocketchat"], **options)


@pytest.fixture
def client(mock_client: MockClient) -> TestClient:
    return mock_client("rocketchat", longpoll_timeout=0.5)


@pytest.fixture
def app(client: TestClient) -> Any:
    return client.app


def login(client: TestClient | httpx.Client, **params: str) -> dict[str, str]:
    body = assert_documented("rocketchat.login", client.post("/api/v1/login", json=params))
    data = body["data"]
    return {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}


def history(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/channels.history", params=params, headers=ALICE_PAT)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


# auth -----------------------------------------------------------------------------------
def test_login_by_json_form_email_and_resume(client: TestClient) -> None:
    body = assert_documented("rocketchat.login", client.post("/api/v1/login", json={"user": "alice", "password": "alice-password"}))
    data = body["data"]
    assert body["status"] == "success"
    assert data["userId"] == data["me"]["_id"] == ALICE_ID
    assert data["me"]["username"] == "alice"
    assert data["me"]["emails"][0]["address"] == "alice@example.com"
    form = client.post("/api/v1/login", data={"user": "bob", "password": "bob-password"})
    assert assert_documented("rocketchat.login", form)["data"]["userId"] == BOB_ID
    by_mail = client.post("/api/v1/login", json={"user": "Alice@Example.com", "password": "alice-password"})
    assert assert_documented("rocketchat.login", by_mail)["data"]["userId"] == ALICE_ID
    resumed = assert_documented("rocketchat.login", client.post("/api/v1/login", json={"resume": data["authToken"]}))
    assert resumed["data"]["authToken"] == data["authToken"]
    assert resumed["data"]["me"]["_id"] == ALICE_ID


@pytest.mark.parametrize(
    "params",
    [
        {"user": "alice", "password": "wrong"},
        {"user": "nobody", "password": "alice-password"},
        {"user": "rocket.cat", "password": "x"},
        {"resume": "no-such-token"},
    ],
)
def test_login_failure_is_the_login_401(client: TestClient, params: dict[str, str]) -> None:
    assert assert_documented("rocketchat.login", client.post("/api/v1/login", json=params), 401) == LOGIN_FAILED


@pytest.mark.parametrize("body", [{}, {"user": "alice"}, {"user": 5, "password": "alice-password"}, {"password": "x"}])
def test_login_with_bad_parameters_fails_in_the_login_shape(client: TestClient, body: dict[str, Any]) -> None:
    reply = assert_documented("rocketchat.login", client.post("/api/v1/login", json=body), 401)
    assert reply["status"] == "error"


def test_tokens_survive_a_second_login_and_logout_ends_one(client: TestClient) -> None:
    first = login(client, user="alice", password="alice-password")
    second = login(client, user="alice", password="alice-password")
    assert first != second
    assert_documented("rocketchat.me", client.get("/api/v1/me", headers=first))
    body = assert_documented("rocketchat.logout", client.post("/api/v1/logout", headers=first))
    assert body == {"status": "success", "data": {"message": "You've been logged out!"}}
    assert assert_documented("rocketchat.me", client.get("/api/v1/me", headers=first), 401) == NOT_LOGGED_IN
    assert assert_documented("rocketchat.logout", client.post("/api/v1/logout", headers=first), 401) == NOT_LOGGED_IN
    assert assert_documented("rocketchat.me", client.get("/api/v1/me", headers=second))["_id"] == ALICE_ID
    assert assert_documented("rocketchat.login", client.post("/api/v1/login", json={"resume": first["X-Auth-Token"]}), 401) == LOGIN_FAILED


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Auth-Token": "rc-pat-alice"},
        {"X-User-Id": ALICE_ID},
        {"X-Auth-Token": "rc-pat-alice", "X-User-Id": BOB_ID},
        {"X-Auth-Token": "nope", "X-User-Id": ALICE_ID},
    ],
)
@pytest.mark.parametrize("endpoint_id", ["rocketchat.me", "rocketchat.users.list", "rocketchat.rooms.get", "rocketchat.logout"])
def test_protected_endpoints_need_both_headers_of_one_user(client: TestClient, headers: dict[str, str], endpoint_id: str) -> None:
    endpoint = REGISTRY.endpoint(endpoint_id)
    response = client.request(endpoint.method, endpoint.path, headers=headers)
    assert assert_documented(endpoint_id, response, 401) == NOT_LOGGED_IN


def test_personal_access_token_works_without_login(client: TestClient) -> None:
    me = assert_documented("rocketchat.me", client.get("/api/v1/me", headers=ALICE_PAT))
    assert me["_id"] == ALICE_ID
    assert me["success"] is True
    assert me["avatarUrl"].endswith("/avatar/alice")
    assert assert_documented("rocketchat.me", client.get("/api/v1/me", headers=BOB_PAT))["username"] == "bob"


# users and rooms ------------------------------------------------------------------------
def crowd(size: int) -> dict[str, Any]:
    users = [{"username": f"user{index:03d}", "email": f"user{index:03d}@example.com"} for index in range(size)]
    return {"rocketchat": {"users": [*users, {"_id": ALICE_ID, "username": "alice", "personalAccessTokens": ["rc-pat-alice"]}]}}


def test_users_list_pages_with_default_count_50() -> None:
    with TestClient(make_app(seed=crowd(60))) as client:
        first = assert_documented("rocketchat.users.list", client.get("/api/v1/users.list", headers=ALICE_PAT))
        assert (first["count"], first["offset"], first["total"]) == (50, 0, 61)
        page = assert_documented("rocketchat.users.list", client.get("/api/v1/users.list?count=10&offset=55", headers=ALICE_PAT))
        assert (page["count"], page["offset"], page["total"]) == (6, 55, 61)
        assert [user["username"] for user in page["users"]] == [user["username"] for user in first["users"] + page["users"]][50:56]
        found = assert_documented("rocketchat.users.list", client.get("/api/v1/users.list?email=USER007@example.com", headers=ALICE_PAT))
        assert [user["username"] for user in found["users"]] == ["user007"]


def test_users_list_default_world(client: TestClient) -> None:
    body = assert_documented("rocketchat.users.list", client.get("/api/v1/users.list", headers=BOB_PAT))
    assert {"alice", "bob"} <= {user["username"] for user in body["users"]}
    assert body["total"] == len(body["users"])


def test_rooms_get_lists_only_the_users_rooms(client: TestClient) -> None:
    alice = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", headers=ALICE_PAT))
    bob = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", headers=BOB_PAT))
    alice_rooms = {room["_id"]: room for room in alice["update"]}
    bob_rooms = {room.get("name", room["_id"]) for room in bob["update"]}
    assert "GENERAL" in alice_rooms
    assert alice_rooms["GENERAL"]["name"] == "general"
    assert alice_rooms["GENERAL"]["t"] == "c"
    assert alice_rooms[DM_ID]["t"] == "d"
    assert sorted(alice_rooms[DM_ID]["uids"]) == sorted([ALICE_ID, BOB_ID])
    assert "bob-private" not in {room.get("name") for room in alice["update"]}
    assert {"general", "random", "bob-private", DM_ID} <= bob_rooms
    assert alice["remove"] == []


def test_rooms_get_updated_since(client: TestClient) -> None:
    rooms = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", headers=ALICE_PAT))["update"]
    since = max(room["_updatedAt"] for room in rooms)
    quiet = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", params={"updatedSince": since}, headers=ALICE_PAT))
    assert quiet["update"] == []
    client.post("/api/v1/chat.postMessage", json={"channel": "#random", "text": "bump"}, headers=ALICE_PAT)
    changed = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", params={"updatedSince": since}, headers=ALICE_PAT))
    assert [room["name"] for room in changed["update"]] == ["random"]
    assert changed["update"][0]["lastMessage"]["msg"] == "bump"


def test_rooms_get_lists_removed_rooms() -> None:
    world = {
        "users": [{"_id": ALICE_ID, "username": "alice", "personalAccessTokens": ["rc-pat-alice"]}],
        "rooms": [{"_id": "GENERAL", "name": "general", "members": ["alice"], "ts": "2024-01-01T00:00:00.000Z"}],
        "removedRooms": [{"_id": "oLdRoOm2345678901", "members": ["alice"], "at": "2024-03-01T00:00:00.000Z"}],
    }
    with TestClient(make_app(seed={"rocketchat": world})) as client:
        body = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get?updatedSince=2024-02-01", headers=ALICE_PAT))
        assert body["update"] == []
        assert body["remove"] == [{"_id": "oLdRoOm2345678901"}]


# sending --------------------------------------------------------------------------------
def test_send_message_keeps_client_id_and_attachments(client: TestClient) -> None:
    request = json.loads((FIXTURES / "rocketchat.chat.sendMessage.request.seed001.json").read_text(encoding="utf-8"))
    request["message"]["_id"] = "cLiEnTcHoSeN12345"
    body = assert_documented("rocketchat.chat.sendMessage", client.post("/api/v1/chat.sendMessage", json=request, headers=ALICE_PAT))
    message = body["message"]
    assert message["_id"] == "cLiEnTcHoSeN12345"
    assert message["rid"] == "GENERAL"
    assert message["u"]["_id"] == ALICE_ID
    assert message["attachments"] == request["message"]["attachments"]
    assert message["alias"] == "Gruggy"
    assert history(client, roomId="GENERAL")[0] == message
    again = client.post("/api/v1/chat.sendMessage", json=request, headers=ALICE_PAT)
    assert assert_documented("rocketchat.chat.sendMessage", again, 400)["success"] is False


def test_send_message_generates_meteor_ids_and_iso_timestamps(client: TestClient) -> None:
    payload = {"message": {"rid": DM_ID, "msg": "line one\nline two"}}
    message = assert_documented("rocketchat.chat.sendMessage", client.post("/api/v1/chat.sendMessage", json=payload, headers=BOB_PAT))[
        "message"
    ]
    assert len(message["_id"]) == 17
    assert message["ts"].endswith("Z")
    assert len(message["ts"]) == len("2016-12-09T12:50:51.555Z")
    assert message["msg"] == "line one\nline two"


@pytest.mark.parametrize(
    ("payload", "code", "headers"),
    [
        ({}, "error-invalid-params", ALICE_PAT),
        ({"message": {"msg": "no room"}}, None, ALICE_PAT),
        ({"message": {"rid": "", "msg": "empty room"}}, None, ALICE_PAT),
        ({"message": {"rid": "nOsUcHrOoM2345678", "msg": "x"}}, "error-invalid-room", ALICE_PAT),
        ({"message": {"rid": "bObPr7vGtK4sQw9Zn", "msg": "not a member"}}, "error-invalid-room", ALICE_PAT),
    ],
)
def test_send_message_documented_errors(client: TestClient, payload: dict[str, Any], code: str | None, headers: dict[str, str]) -> None:
    body = assert_documented("rocketchat.chat.sendMessage", client.post("/api/v1/chat.sendMessage", json=payload, headers=headers), 400)
    endpoint = REGISTRY.endpoint("rocketchat.chat.sendMessage")
    documented = [case.body for case in endpoint.errors if case.status == 400 and case.code == code]
    assert thaw(documented[0]) == body


def test_post_message_by_room_id_channel_and_user(client: TestClient) -> None:
    body = assert_documented(
        "rocketchat.chat.postMessage",
        client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "one"}, headers=ALICE_PAT),
    )
    message = body["message"]
    assert isinstance(body["ts"], int)
    assert body["ts"] % 1000 == int(message["ts"][-4:-1])
    assert body["channel"] == "GENERAL"
    assert message["rid"] == "GENERAL"
    by_name = assert_documented(
        "rocketchat.chat.postMessage",
        client.post("/api/v1/chat.postMessage", json={"channel": "#random", "text": "two"}, headers=ALICE_PAT),
    )
    assert by_name["message"]["rid"] == "rNd3vKq8PzT5mWx2Y"
    direct = assert_documented(
        "rocketchat.chat.postMessage",
        client.post("/api/v1/chat.postMessage", json={"channel": "@bob", "text": "three"}, headers=ALICE_PAT),
    )
    assert direct["message"]["rid"] == DM_ID
    rooms = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", headers=BOB_PAT))["update"]
    dm = next(room for room in rooms if room["_id"] == DM_ID)
    assert dm["lastMessage"]["msg"] == "three"
    assert history(client, roomId="GENERAL")[0]["_id"] == message["_id"]
    messages = assert_documented(
        "rocketchat.channels.messages", client.get("/api/v1/channels.messages?roomId=rNd3vKq8PzT5mWx2Y", headers=BOB_PAT)
    )
    assert messages["messages"][0]["msg"] == "two"


def test_post_message_opens_a_new_direct_room() -> None:
    world = {
        "users": [
            {"_id": "zZzUser2345678901", "username": "zed", "personalAccessTokens": ["pat-zed"]},
            {"_id": "aAaUser2345678901", "username": "ann"},
        ]
    }
    with TestClient(make_app(seed={"rocketchat": world})) as client:
        headers = {"X-Auth-Token": "pat-zed", "X-User-Id": "zZzUser2345678901"}
        body = assert_documented(
            "rocketchat.chat.postMessage",
            client.post("/api/v1/chat.postMessage", json={"channel": "@ann", "text": "hi"}, headers=headers),
        )
        assert body["message"]["rid"] == "aAaUser2345678901zZzUser2345678901"
        rooms = assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get", headers=headers))["update"]
        assert [room["_id"] for room in rooms] == ["aAaUser2345678901zZzUser2345678901"]


def test_post_message_to_several_rooms(client: TestClient) -> None:
    body = assert_documented(
        "rocketchat.chat.postMessage",
        client.post("/api/v1/chat.postMessage", json={"channel": ["#general", "#random"], "text": "both"}, headers=BOB_PAT),
    )
    assert body["channel"] == "#general"
    assert history(client, roomId="GENERAL")[0]["msg"] == "both"
    assert history(client, roomName="random")[0]["msg"] == "both"


@pytest.mark.parametrize(
    "payload",
    [
        {"channel": "#bob-private", "text": "x"},
        {"channel": "#nowhere", "text": "x"},
        {"channel": "@nobody", "text": "x"},
        {"roomId": "bObPr7vGtK4sQw9Zn", "text": "x"},
        {"channel": "", "text": "empty"},
        {"channel": [], "text": "empty list"},
        {"roomId": ["GENERAL", "#nowhere"], "text": "one unknown in a list"},
    ],
)
def test_post_message_invalid_channel(client: TestClient, payload: dict[str, Any]) -> None:
    body = assert_documented("rocketchat.chat.postMessage", client.post("/api/v1/chat.postMessage", json=payload, headers=ALICE_PAT), 400)
    assert body == {"success": False, "error": "[invalid-channel]", "errorType": "invalid-channel"}


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "no target"},
        {"roomId": "GENERAL", "channel": "#general", "text": "both targets"},
        {"roomId": "GENERAL", "text": "x", "parseUrls": False},
        {"roomId": "GENERAL", "text": "x", "unknown": 1},
        {"roomId": 5, "text": "x"},
    ],
)
def test_post_message_invalid_params(client: TestClient, payload: dict[str, Any]) -> None:
    """The server's ChatPostMessageSchema: exactly one target, no other keys."""
    response = client.post("/api/v1/chat.postMessage", json=payload, headers=ALICE_PAT)
    body = assert_documented("rocketchat.chat.postMessage", response, 400)
    assert body["errorType"] == "error-invalid-params"
    assert body["success"] is False


def test_post_message_targets_every_shape(client: TestClient) -> None:
    """#name, @user, a bare name, a room id, a user id (a DM) and a list; a public channel the
    sender is not in is joined."""
    for target, room in [("#general", "GENERAL"), ("general", "GENERAL"), ("GENERAL", "GENERAL"), ("@bob", DM_ID), (BOB_ID, DM_ID)]:
        body = assert_documented(
            "rocketchat.chat.postMessage",
            client.post("/api/v1/chat.postMessage", json={"channel": target, "text": target}, headers=ALICE_PAT),
        )
        assert body["message"]["rid"] == room
        assert body["channel"] == target
    listed = client.post("/api/v1/chat.postMessage", json={"roomId": ["#general", "@bob"], "text": "to both"}, headers=ALICE_PAT)
    assert assert_documented("rocketchat.chat.postMessage", listed)["message"]["rid"] == "GENERAL"
    seed = {
        "rocketchat": {**json.loads(Path(__file__).resolve().parent.parent.joinpath("mockserver/apis/rocketchat/world.json").read_text())}
    }
    seed["rocketchat"]["rooms"][1]["members"] = ["bob"]  # random: alice is not a member
    fresh = TestClient(make_app(seed=seed))
    joined = fresh.post("/api/v1/chat.postMessage", json={"channel": "#random", "text": "hi"}, headers=ALICE_PAT)
    assert assert_documented("rocketchat.chat.postMessage", joined)["message"]["rid"] == "rNd3vKq8PzT5mWx2Y"
    assert fresh.get("/api/v1/channels.history", params={"roomName": "random"}, headers=ALICE_PAT).status_code == 200


# reading --------------------------------------------------------------------------------
def busy_world(count: int) -> dict[str, Any]:
    messages = [
        {
            "_id": f"mSg{index:014d}",
            "room": "general",
            "user": "alice",
            "msg": f"m{index}",
            "ts": f"2024-01-01T00:{index // 60:02d}:{index % 60:02d}.000Z",
        }
        for index in range(count)
    ]
    return {
        "rocketchat": {
            "users": [{"_id": ALICE_ID, "username": "alice", "personalAccessTokens": ["rc-pat-alice"]}],
            "rooms": [{"_id": "GENERAL", "name": "general", "members": ["alice"], "ts": "2023-12-31T00:00:00.000Z"}],
            "messages": messages,
        }
    }


def test_channels_history_paging_matches_channels_messages() -> None:
    with TestClient(make_app(seed=busy_world(45))) as client:
        default = history(client, roomId="GENERAL")
        assert len(default) == 20
        assert [item["msg"] for item in default[:3]] == ["m44", "m43", "m42"]
        everything = assert_documented(
            "rocketchat.channels.messages", client.get("/api/v1/channels.messages?roomId=GENERAL&count=100", headers=ALICE_PAT)
        )
        assert everything["total"] == 45
        assert everything["count"] == 45
        ids = [item["_id"] for item in everything["messages"]]
        assert [item["_id"] for item in default] == ids[:20]
        assert [item["_id"] for item in history(client, roomId="GENERAL", count=10, offset=5)] == ids[5:15]
        page = assert_documented(
            "rocketchat.channels.messages", client.get("/api/v1/channels.messages?roomId=GENERAL&count=10&offset=5", headers=ALICE_PAT)
        )
        assert [item["_id"] for item in page["messages"]] == ids[5:15]
        assert (page["count"], page["offset"], page["total"]) == (10, 5, 45)
        # page backwards by passing the oldest ts seen as latest
        walked: list[str] = []
        latest: str | None = None
        while True:
            params: dict[str, Any] = {"roomId": "GENERAL", "count": 7}
            if latest is not None:
                params["latest"] = latest
            chunk = history(client, **params)
            if not chunk:
                break
            walked.extend(item["_id"] for item in chunk)
            latest = chunk[-1]["ts"]
        assert walked == ids
        ascending = assert_documented(
            "rocketchat.channels.messages",
            client.get('/api/v1/channels.messages?roomId=GENERAL&count=3&sort={"ts":1}', headers=ALICE_PAT),
        )
        assert [item["msg"] for item in ascending["messages"]] == ["m0", "m1", "m2"]


def test_channels_history_latest_oldest_inclusive() -> None:
    with TestClient(make_app(seed=busy_world(10))) as client:
        window = history(client, roomId="GENERAL", oldest="2024-01-01T00:00:02.000Z", latest="2024-01-01T00:00:05.000Z")
        assert [item["msg"] for item in window] == ["m4", "m3"]
        closed = history(client, roomName="general", oldest="2024-01-01T00:00:02.000Z", latest="2024-01-01T00:00:05.000Z", inclusive="true")
        assert [item["msg"] for item in closed] == ["m5", "m4", "m3", "m2"]
        assert history(client, roomId="GENERAL", latest="2023-01-01") == []
        bad = client.get("/api/v1/channels.history?roomId=GENERAL&latest=2024-13-45", headers=ALICE_PAT)
        assert assert_documented("rocketchat.channels.history", bad, 400)["success"] is False


@pytest.mark.parametrize("endpoint_id", ["rocketchat.channels.history", "rocketchat.channels.messages"])
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("roomId=bObPr7vGtK4sQw9Zn", "error-room-not-found"),  # a private group, alice is no member
        ("roomId=nOsUcHrOoM2345678", "error-room-not-found"),
        (f"roomId={DM_ID}", "error-room-not-found"),  # not a channel
        ("", "error-roomid-param-not-provided"),
        ("roomId=", "error-roomid-param-not-provided"),
    ],
)
def test_channel_reads_documented_errors(client: TestClient, endpoint_id: str, query: str, code: str) -> None:
    path = REGISTRY.endpoint(endpoint_id).path
    body = assert_documented(endpoint_id, client.get(f"{path}?{query}", headers=ALICE_PAT), 400)
    assert body["errorType"] == code


def test_non_member_cannot_read_a_public_channel() -> None:
    world = {
        "users": [{"_id": ALICE_ID, "username": "alice", "personalAccessTokens": ["rc-pat-alice"]}, {"username": "carol"}],
        "rooms": [{"_id": "GENERAL", "name": "general", "members": ["carol"]}],
    }
    with TestClient(make_app(seed={"rocketchat": world})) as client:
        body = assert_documented(
            "rocketchat.channels.history", client.get("/api/v1/channels.history?roomName=general", headers=ALICE_PAT), 400
        )
        assert body["errorType"] == "error-room-not-found"
        post = client.post("/api/v1/chat.sendMessage", json={"message": {"rid": "GENERAL", "msg": "x"}}, headers=ALICE_PAT)
        assert assert_documented("rocketchat.chat.sendMessage", post, 400) == {"success": False, "error": "error-invalid-room"}


def test_channels_messages_filters_and_bad_sort(client: TestClient) -> None:
    client.post("/api/v1/chat.postMessage", json={"channel": "#general", "text": "ping @bob"}, headers=ALICE_PAT)
    mentioned = assert_documented(
        "rocketchat.channels.messages", client.get(f"/api/v1/channels.messages?roomId=GENERAL&mentionIds={BOB_ID}", headers=ALICE_PAT)
    )
    assert [item["msg"] for item in mentioned["messages"]] == ["ping @bob"]
    pinned = assert_documented(
        "rocketchat.channels.messages", client.get("/api/v1/channels.messages?roomId=GENERAL&pinned=true", headers=ALICE_PAT)
    )
    assert pinned["total"] == 0
    bad = client.get("/api/v1/channels.messages?roomId=GENERAL&sort=nope", headers=ALICE_PAT)
    assert assert_documented("rocketchat.channels.messages", bad, 400)["errorType"] == "error-invalid-sort"


# editing --------------------------------------------------------------------------------
def test_chat_update_edits_own_messages_only(client: TestClient) -> None:
    sent = client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "typo"}, headers=ALICE_PAT).json()["message"]
    edit = {"roomId": "GENERAL", "msgId": sent["_id"], "text": "fixed"}
    body = assert_documented("rocketchat.chat.update", client.post("/api/v1/chat.update", json=edit, headers=ALICE_PAT))
    assert body["message"]["msg"] == "fixed"
    assert body["message"]["editedBy"] == {"_id": ALICE_ID, "username": "alice"}
    assert body["message"]["editedAt"] >= sent["ts"]
    assert body["message"]["ts"] == sent["ts"]
    assert history(client, roomId="GENERAL")[0] == body["message"]
    others = client.post("/api/v1/chat.update", json=edit, headers=BOB_PAT)
    assert assert_documented("rocketchat.chat.update", others, 400)["errorType"] == "error-action-not-allowed"
    wrong_room = client.post("/api/v1/chat.update", json={**edit, "roomId": "rNd3vKq8PzT5mWx2Y"}, headers=ALICE_PAT)
    assert assert_documented("rocketchat.chat.update", wrong_room, 400)["success"] is False
    missing = client.post("/api/v1/chat.update", json={**edit, "msgId": "nOsUcHmEsSaGe2345"}, headers=ALICE_PAT)
    assert "No message found" in assert_documented("rocketchat.chat.update", missing, 400)["error"]
    hidden = client.post(
        "/api/v1/chat.update", json={"roomId": "bObPr7vGtK4sQw9Zn", "msgId": "bPrMsg2xK7pQ4tRzF", "text": "x"}, headers=ALICE_PAT
    )
    assert "No message found" in assert_documented("rocketchat.chat.update", hidden, 400)["error"]


def test_chat_update_without_msg_id_is_the_documented_error(client: TestClient) -> None:
    response = client.post("/api/v1/chat.update", json={"roomId": "GENERAL", "text": "x"}, headers=ALICE_PAT)
    assert assert_documented("rocketchat.chat.update", response, 400)["errorType"] == "error-messageid-param-not-provided"


# malformed requests ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/chat.sendMessage", {"content": b'{"message": {', "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/v1/chat.sendMessage", {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/v1/chat.sendMessage", {"content": b"message=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
        ("POST", "/api/v1/chat.sendMessage", {"content": b"hello", "headers": {"Content-Type": "text/plain"}}),
        ("POST", "/api/v1/chat.sendMessage", {"json": {"message": "not an object"}}),
        ("POST", "/api/v1/chat.sendMessage", {"json": {"message": {"rid": 5}}}),
        ("POST", "/api/v1/chat.postMessage", {"json": {"roomId": "GENERAL", "text": 5}}),
        ("POST", "/api/v1/chat.postMessage", {"json": {"roomId": "GENERAL", "attachments": [{"fields": [{"title": "no value"}]}]}}),
        (
            "POST",
            "/api/v1/login",
            {"content": b"user=alice&user=bob&password=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        ),
        ("POST", "/api/v1/login", {"content": b"{nope", "headers": {"Content-Type": "application/json"}}),
        ("GET", "/api/v1/channels.history?roomId=GENERAL&roomId=GENERAL", {}),
        ("GET", "/api/v1/channels.history?roomId=GENERAL&count=ten", {}),
        ("GET", "/api/v1/channels.messages?roomId=GENERAL&offset=-1", {}),
        ("POST", "/api/v1/chat.update", {"json": {"roomId": "GENERAL", "msgId": "x"}}),
        ("POST", "/api/v1/chat.postMessage?channel=%23general", {"json": {"channel": "#general", "text": "twice"}}),
    ],
)
def test_malformed_requests_answer_in_the_api_shape(client: TestClient, method: str, path: str, kwargs: dict[str, Any]) -> None:
    headers = {**ALICE_PAT, **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kwargs)
    body = assert_error_shape("rocketchat", response)
    assert body.get("success") is False or body.get("status") == "error"


def test_json_content_type_on_a_get_and_unknown_parameters_are_fine(client: TestClient) -> None:
    headers = {**ALICE_PAT, "Content-Type": "application/json"}
    assert_documented("rocketchat.rooms.get", client.get("/api/v1/rooms.get?whatever=1", headers=headers))
    assert_documented("rocketchat.me", client.get("/api/v1/me", headers=headers))
    assert_documented("rocketchat.channels.history", client.get("/api/v1/channels.history?roomId=GENERAL", headers=headers))
    extra = {"roomId": "GENERAL", "text": "hi", "somethingNew": {"a": 1}}  # postMessage's schema has additionalProperties false
    assert_documented("rocketchat.chat.postMessage", client.post("/api/v1/chat.postMessage", json=extra, headers=ALICE_PAT), 400)


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    missing = client.get("/api/v1/channels.nothing", headers=ALICE_PAT)
    assert missing.status_code == 404
    assert assert_error_shape("rocketchat", missing) == {"status": "error", "message": "API endpoint does not exist"}
    wrong = client.get("/api/v1/chat.postMessage", headers=ALICE_PAT)
    assert wrong.status_code == 405
    assert "POST" in wrong.headers["allow"]
    assert assert_error_shape("rocketchat", wrong)["status"] == "error"
    assert client.delete("/api/v1/login").status_code == 405


def test_too_large_body() -> None:
    with TestClient(make_app(body_limit=1000)) as client:
        response = client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "x" * 5000}, headers=ALICE_PAT)
        assert response.status_code == 413
        assert assert_error_shape("rocketchat", response)["success"] is False


def test_module_answers_every_problem_in_its_shape(app: Any) -> None:
    from mockserver.core.call import Problem

    module = app.state.chatmock.modules["rocketchat"]
    checker = REGISTRY.api("rocketchat").error_checker
    for problem in Problem:
        reply = module.error(problem, "something")
        module.decorate(None, reply)
        assert checker.errors(reply.body) == [], problem
        assert 400 <= reply.status <= 500
        assert not reply.headers
    assert module.error_for_status(429, "error-too-many-requests").body["errorType"] == "error-too-many-requests"


@pytest.mark.parametrize("endpoint_id", sorted(endpoint.id for endpoint in load_registry().endpoints_of("rocketchat")))
def test_prefer_picks_each_documented_error(client: TestClient, endpoint_id: str) -> None:
    endpoint = REGISTRY.endpoint(endpoint_id)
    for case in endpoint.errors:
        prefer = f"code={case.status}" + (f"; error={case.code}" if case.code is not None else "")
        response = client.request(endpoint.method, endpoint.path, headers={**ALICE_PAT, "Prefer": prefer})
        body = assert_documented(endpoint_id, response, case.status)
        if case.code is not None and case.body is not None:
            assert thaw(case.body) == body


# state, journal, world ------------------------------------------------------------------
def test_journal_holds_no_secret_after_a_login_flow(app: Any, client: TestClient) -> None:
    headers = login(client, user="alice", password="alice-password")
    client.post("/api/v1/login", data={"user": "bob", "password": "bob-password"})
    client.post("/api/v1/login", json={"resume": headers["X-Auth-Token"]})
    client.get("/api/v1/me", headers=headers)
    client.get("/api/v1/users.list", headers=BOB_PAT)
    client.post("/api/v1/logout", headers=headers)
    mock = app.state.chatmock
    secrets = mock.secrets()
    assert {"alice-password", "bob-password", "rc-pat-alice", "rc-pat-bob"} <= set(secrets)
    journal = json.dumps(mock.journal.entries())
    for secret in [*secrets, headers["X-Auth-Token"]]:
        assert secret not in journal


def test_reset_restores_the_default_world(app: Any, client: TestClient) -> None:
    headers = login(client, user="bob", password="bob-password")
    client.post("/api/v1/chat.postMessage", json={"channel": "#general", "text": "gone after reset"}, headers=BOB_PAT)
    app.state.chatmock.reset(None)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "gone after reset" not in [item["msg"] for item in history(client, roomId="GENERAL")]
    assert headers["X-Auth-Token"] not in app.state.chatmock.secrets()


def test_a_broken_seed_is_refused(app: Any, client: TestClient) -> None:
    broken = {"rocketchat": {"rooms": [{"name": "general", "members": ["nobody"]}]}}
    assert client.post("/__chatmock/seed", json=broken).status_code == 400
    assert client.get("/api/v1/me", headers=ALICE_PAT).status_code == 200  # back to the default world
    no_sender = {"rocketchat": {"rooms": [{"name": "general"}], "messages": [{"room": "general", "msg": "who?"}]}}
    assert client.post("/__chatmock/seed", json=no_sender).status_code == 400


# over a real socket ---------------------------------------------------------------------
def test_bot_flow_over_a_socket() -> None:
    application = create_app(["rocketchat"], root=False, strict=True, longpoll_timeout=0.5)
    with serve_in_thread(application) as server, httpx.Client(base_url=f"{server.url}/rocketchat", timeout=5) as http:
        # seed 004: login form-encoded, rooms.get, chat.sendMessage, logout
        answer = http.post("/api/v1/login", data={"user": "alice", "password": "alice-password"})
        data = assert_documented("rocketchat.login", answer)["data"]
        headers = {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}
        rooms = assert_documented("rocketchat.rooms.get", http.get("/api/v1/rooms.get", headers=headers))["update"]
        rid = next(room["_id"] for room in rooms if room.get("name") == "general")
        sent = assert_documented(
            "rocketchat.chat.sendMessage",
            http.post("/api/v1/chat.sendMessage", json={"message": {"rid": rid, "msg": "from the bot"}}, headers=headers),
        )
        posted = assert_documented(
            "rocketchat.chat.postMessage",
            http.post("/api/v1/chat.postMessage", json={"channel": "#general", "text": "again"}, headers=headers),
        )
        read = assert_documented(
            "rocketchat.channels.history", http.get("/api/v1/channels.history", params={"roomId": rid, "count": 2}, headers=headers)
        )
        assert [item["_id"] for item in read["messages"]] == [posted["message"]["_id"], sent["message"]["_id"]]
        as_bob = assert_documented("rocketchat.channels.messages", http.get(f"/api/v1/channels.messages?roomId={rid}", headers=BOB_PAT))
        assert as_bob["messages"][1]["msg"] == "from the bot"
        assert_documented("rocketchat.logout", http.post("/api/v1/logout", headers=headers))
        assert assert_documented("rocketchat.rooms.get", http.get("/api/v1/rooms.get", headers=headers), 401) == NOT_LOGGED_IN
        assert application.state.chatmock.dispatcher.violations == []
