"""Gitter room membership and room state endpoints (issue 15, build point 2): join by id, leave,
and the room and user resources real clients call (research/clients.md 2, 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gitter_world import ALICE_ID, ALICE_TOKEN, BOB_ID, BOB_ONLY, BOB_TOKEN, LOBBY, ORG, REPO, UNKNOWN_ID
from mock_support import assert_documented
from starlette.testclient import TestClient

from mockserver.app import create_app


def auth(token: str = ALICE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(["gitter"], strict=True)) as opened:
        yield opened


def room_ids(client: TestClient, token: str = ALICE_TOKEN) -> set[str]:
    return {room["id"] for room in client.get("/v1/rooms", headers=auth(token)).json()}


# join by id -------------------------------------------------------------------------------------------
def test_join_by_id_json_or_form(client: TestClient) -> None:
    joined = client.post(f"/v1/user/{ALICE_ID}/rooms", json={"id": LOBBY}, headers=auth())
    assert assert_documented("gitter.user.rooms.join", joined, 200)["id"] == LOBBY
    assert LOBBY in room_ids(client)
    again = client.post("/v1/user/me/rooms", data={"id": LOBBY, "source": "~roomlist"}, headers=auth())
    assert assert_documented("gitter.user.rooms.join", again, 200)["userCount"] == 2


def test_join_by_id_with_a_whole_room_struct(client: TestClient) -> None:
    """go-gitter JoinRoom marshals its whole Room struct with only id filled (gitter.go:248-252)."""
    struct = {"id": LOBBY, "name": "", "topic": "", "uri": "", "oneToOne": False, "userCount": 0, "unreadItems": 0, "tags": None}
    joined = client.post(f"/v1/user/{ALICE_ID}/rooms", json=struct, headers=auth())
    assert assert_documented("gitter.user.rooms.join", joined, 200)["id"] == LOBBY


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        (f"/v1/user/{ALICE_ID}/rooms", {"id": "lobby"}, 400, "id"),
        (f"/v1/user/{ALICE_ID}/rooms", {}, 400, "id"),
        (f"/v1/user/{ALICE_ID}/rooms", {"id": UNKNOWN_ID}, 404, "Not Found"),
        (f"/v1/user/{ALICE_ID}/rooms", {"id": BOB_ONLY}, 404, "Not Found"),  # private: no existence oracle
        (f"/v1/user/{BOB_ID}/rooms", {"id": LOBBY}, 403, "Forbidden"),
    ],
)
def test_join_by_id_refusals(client: TestClient, path: str, body: dict[str, str], status: int, error: str) -> None:
    response = client.post(path, json=body, headers=auth())
    assert error in assert_documented("gitter.user.rooms.join", response, status)["error"]


# leave ------------------------------------------------------------------------------------------------
def test_leave_and_join_again(client: TestClient) -> None:
    left = client.delete(f"/v1/rooms/{REPO}/users/{ALICE_ID}", headers=auth())
    assert assert_documented("gitter.rooms.users.remove", left, 200) == {"success": True}
    assert REPO not in room_ids(client)
    again = client.delete(f"/v1/rooms/{REPO}/users/{ALICE_ID}", headers=auth())
    assert_documented("gitter.rooms.users.remove", again, 404)
    assert_documented("gitter.user.rooms.join", client.post("/v1/user/me/rooms", json={"id": REPO}, headers=auth()), 200)
    assert REPO in room_ids(client)


def test_only_a_room_admin_removes_someone_else(client: TestClient) -> None:
    refused = client.delete(f"/v1/rooms/{ORG}/users/{BOB_ID}", headers=auth())  # bob is ORG's admin, not alice
    assert assert_documented("gitter.rooms.users.remove", refused, 403) == {"error": "Forbidden"}
    removed = client.delete(f"/v1/rooms/{ORG}/users/{ALICE_ID}", headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.rooms.users.remove", removed, 200) == {"success": True}
    assert ORG not in room_ids(client)


def test_leave_refusals(client: TestClient) -> None:
    assert_documented("gitter.rooms.users.remove", client.delete(f"/v1/rooms/{UNKNOWN_ID}/users/{ALICE_ID}", headers=auth()), 404)
    assert_documented("gitter.rooms.users.remove", client.delete(f"/v1/rooms/{BOB_ONLY}/users/{BOB_ID}", headers=auth()), 404)
    stranger = client.delete(f"/v1/rooms/{REPO}/users/{UNKNOWN_ID}", headers=auth())  # alice is REPO's admin
    assert_documented("gitter.rooms.users.remove", stranger, 404)
    json_header = client.delete(f"/v1/rooms/{LOBBY}/users/{BOB_ID}", headers={**auth(BOB_TOKEN), "Content-Type": "application/json"})
    assert_documented("gitter.rooms.users.remove", json_header, 200)  # go-gitter: Content-Type on a DELETE


# a room by id, its update and deletion ------------------------------------------------------------------
def test_room_by_id(client: TestClient) -> None:
    room = assert_documented("gitter.rooms.get", client.get(f"/v1/rooms/{REPO}", headers=auth()), 200)
    assert (room["id"], room["uri"], room["userCount"]) == (REPO, "chatmock/chatmock", 2)
    assert_documented("gitter.rooms.get", client.get(f"/v1/rooms/{BOB_ONLY}", headers=auth()), 404)
    assert_documented("gitter.rooms.get", client.get(f"/v1/rooms/{UNKNOWN_ID}", headers=auth()), 404)


def test_room_update_applies_only_the_fields_present(client: TestClient) -> None:
    """gitterpy's Rooms.update sends form topic (noindex and tags only when not None)."""
    updated = client.put(f"/v1/rooms/{REPO}", data={"topic": "new topic"}, headers=auth())
    body = assert_documented("gitter.rooms.update", updated, 200)
    assert (body["topic"], body["tags"], body.get("noindex", False)) == ("new topic", ["python", "testing"], False)
    tagged = client.put(f"/v1/rooms/{REPO}", json={"tags": "a, b", "noindex": True}, headers=auth())
    body = assert_documented("gitter.rooms.update", tagged, 200)
    assert (body["topic"], body["tags"], body["noindex"]) == ("new topic", ["a", "b"], True)
    assert client.get(f"/v1/rooms/{REPO}", headers=auth(BOB_TOKEN)).json()["topic"] == "new topic"
    refused = client.put(f"/v1/rooms/{ORG}", json={"topic": "not mine"}, headers=auth())
    assert assert_documented("gitter.rooms.update", refused, 403) == {"error": "Forbidden"}
    bad = client.put(f"/v1/rooms/{REPO}", json={"noindex": "maybe"}, headers=auth())
    assert "noindex" in assert_documented("gitter.rooms.update", bad, 400)["error"]


def test_room_delete_by_an_admin(client: TestClient) -> None:
    refused = client.delete(f"/v1/rooms/{ORG}", headers=auth())
    assert assert_documented("gitter.rooms.delete", refused, 403) == {"error": "Forbidden"}
    deleted = client.delete(f"/v1/rooms/{REPO}", headers=auth())
    assert assert_documented("gitter.rooms.delete", deleted, 200) == {"success": True}
    assert REPO not in room_ids(client) | room_ids(client, BOB_TOKEN)
    assert_documented("gitter.rooms.get", client.get(f"/v1/rooms/{REPO}", headers=auth()), 404)
    gone = client.post("/v1/rooms", json={"uri": "chatmock/chatmock"}, headers=auth())
    assert_documented("gitter.rooms.join", gone, 404)


# the user's own settings of a room ---------------------------------------------------------------------
def test_favourite_and_mode(client: TestClient) -> None:
    path = f"/v1/user/{ALICE_ID}/rooms"
    first = client.patch(f"{path}/{REPO}", json={"favourite": True}, headers=auth())
    assert assert_documented("gitter.user.rooms.update", first, 200)["favourite"] == 1
    second = client.put(f"{path}/{ORG}", data={"favourite": "1"}, headers=auth())  # the deprecated PUT, form-encoded
    assert assert_documented("gitter.user.rooms.update", second, 200)["favourite"] == 1
    assert client.get(f"/v1/rooms/{REPO}", headers=auth()).json()["favourite"] == 2  # moved down
    assert "favourite" not in client.get(f"/v1/rooms/{REPO}", headers=auth(BOB_TOKEN)).json()  # alice's own
    off = client.patch(f"{path}/{REPO}", json={"favourite": False, "mode": "mute"}, headers=auth())
    body = assert_documented("gitter.user.rooms.update", off, 200)
    assert ("favourite" not in body, body["lurk"]) == (True, True)
    back = client.patch(f"{path}/{REPO}", json={"mode": "all"}, headers=auth())
    assert assert_documented("gitter.user.rooms.update", back, 200)["lurk"] is False
    bad = client.patch(f"{path}/{REPO}", json={"mode": "loud"}, headers=auth())
    assert "mode" in assert_documented("gitter.user.rooms.update", bad, 400)["error"]
    assert_documented("gitter.user.rooms.update", client.patch(f"{path}/{BOB_ONLY}", json={"mode": "all"}, headers=auth()), 404)
    other = client.patch(f"/v1/user/{BOB_ID}/rooms/{REPO}", json={"mode": "all"}, headers=auth())
    assert_documented("gitter.user.rooms.update", other, 403)


def test_mark_all_read(client: TestClient) -> None:
    path = f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems"
    client.post(f"/v1/rooms/{REPO}/chatMessages", json={"text": "hi @bob"}, headers=auth())
    before = client.get(path, headers=auth(BOB_TOKEN)).json()
    assert before["chat"]
    assert before["mention"]
    marked = client.delete(f"{path}/all", headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.user.unreadItems.markAllRead", marked, 200) == {"success": True}
    assert client.get(path, headers=auth(BOB_TOKEN)).json() == {"chat": [], "mention": []}
    room = next(room for room in client.get("/v1/rooms", headers=auth(BOB_TOKEN)).json() if room["id"] == REPO)
    assert (room["unreadItems"], room["mentions"]) == (0, 0)
    other = client.delete(f"/v1/user/{ALICE_ID}/rooms/{REPO}/unreadItems/all", headers=auth(BOB_TOKEN))
    assert_documented("gitter.user.unreadItems.markAllRead", other, 403)
    hidden = client.delete(f"/v1/user/{ALICE_ID}/rooms/{BOB_ONLY}/unreadItems/all", headers=auth())
    assert_documented("gitter.user.unreadItems.markAllRead", hidden, 404)


# user resources ------------------------------------------------------------------------------------------
def test_user_by_id_and_channels(client: TestClient) -> None:
    me = assert_documented("gitter.user.show", client.get(f"/v1/user/{ALICE_ID}", headers=auth()), 200)
    assert (me["id"], me["username"], me["providers"]) == (ALICE_ID, "alice", ["github"])
    assert assert_documented("gitter.user.me", client.get("/v1/user/me", headers=auth()), 200)["id"] == ALICE_ID
    assert_documented("gitter.user.show", client.get(f"/v1/user/{BOB_ID}", headers=auth()), 403)
    channels = assert_documented("gitter.user.channels", client.get(f"/v1/user/{BOB_ID}/channels", headers=auth(BOB_TOKEN)), 200)
    assert [room["uri"] for room in channels] == ["bob/private"]
    assert assert_documented("gitter.user.channels", client.get("/v1/user/me/channels", headers=auth()), 200) == []


# search ----------------------------------------------------------------------------------------------------
def search(client: TestClient, path: str, endpoint_id: str, token: str = ALICE_TOKEN, **params: str) -> list[str]:
    found = assert_documented(endpoint_id, client.get(path, params=params, headers=auth(token)), 200)
    assert set(found) == {"results"}
    return [item.get("uri") or item.get("username") for item in found["results"]]


def test_room_search_finds_public_rooms_and_own_ones(client: TestClient) -> None:
    assert search(client, "/v1/rooms", "gitter.rooms.list", q="chatmock") == ["chatmock/chatmock", "chatmock", "chatmock/lobby"]
    assert search(client, "/v1/rooms", "gitter.rooms.list", q="CHATMOCK lobby") == ["chatmock/lobby"]
    assert search(client, "/v1/rooms", "gitter.rooms.list", q="chatmock", limit="1", skip="1") == ["chatmock"]
    assert search(client, "/v1/rooms", "gitter.rooms.list", q="private") == []  # bob's private channel
    assert search(client, "/v1/rooms", "gitter.rooms.list", BOB_TOKEN, q="private") == ["bob/private"]
    client.put(f"/v1/rooms/{LOBBY}", json={"noindex": True}, headers=auth(BOB_TOKEN))
    assert search(client, "/v1/rooms", "gitter.rooms.list", q="lobby") == []  # hidden from search
    assert isinstance(client.get("/v1/rooms", params={"q": ""}, headers=auth()).json(), list)  # no q: the user's rooms


def test_user_search(client: TestClient) -> None:
    assert search(client, "/v1/user", "gitter.user.get", q="bob") == ["bob"]
    assert search(client, "/v1/user", "gitter.user.get", q="example", type="gitter") == ["alice", "bob"]
    assert search(client, "/v1/user", "gitter.user.get", q="example", limit="1") == ["alice"]
    assert search(client, "/v1/user", "gitter.user.get", q="nobody") == []
    bad = client.get("/v1/user", params={"q": "bob", "limit": "ten"}, headers=auth())
    assert "limit" in assert_documented("gitter.user.get", bad, 400)["error"]


# communities ---------------------------------------------------------------------------------------------
def test_groups_and_their_rooms(client: TestClient) -> None:
    groups = assert_documented("gitter.groups.list", client.get("/v1/groups", headers=auth()), 200)
    assert [group["uri"] for group in groups] == ["chatmock"]
    bobs = assert_documented("gitter.groups.list", client.get("/v1/groups", headers=auth(BOB_TOKEN)), 200)
    assert [group["uri"] for group in bobs] == ["chatmock", "bob"]
    admin = client.get("/v1/groups", params={"type": "admin"}, headers=auth())
    assert [group["uri"] for group in assert_documented("gitter.groups.list", admin, 200)] == ["chatmock"]
    rooms = client.get(f"/v1/groups/{groups[0]['id']}/rooms", headers=auth())
    assert [room["uri"] for room in assert_documented("gitter.groups.rooms", rooms, 200)] == [
        "chatmock/chatmock",
        "chatmock",
        "chatmock/lobby",
    ]
    private = client.get(f"/v1/groups/{bobs[1]['id']}/rooms", headers=auth())
    assert assert_documented("gitter.groups.rooms", private, 200) == []  # bob's private channel is not alice's to see
    assert_documented("gitter.groups.rooms", client.get(f"/v1/groups/{UNKNOWN_ID}/rooms", headers=auth()), 404)


# message list parameters ------------------------------------------------------------------------------------
def test_message_list_parameters(client: TestClient) -> None:
    path = f"/v1/rooms/{REPO}/chatMessages"
    posted = [client.post(path, json={"text": f"paging {n}"}, headers=auth()).json()["id"] for n in range(4)]
    lean = client.get(path, params={"lean": "true", "limit": "2"}, headers=auth())
    assert [item["id"] for item in assert_documented("gitter.rooms.chatMessages.list", lean, 200)] == posted[2:]
    before = client.get(path, params={"beforeId": posted[3], "limit": "2"}, headers=auth()).json()
    assert [item["id"] for item in before] == posted[1:3]
    after = client.get(path, params={"afterId": posted[0], "limit": "2"}, headers=auth()).json()
    assert [item["id"] for item in after] == posted[1:3]
    around = client.get(path, params={"aroundId": posted[1], "limit": "3"}, headers=auth()).json()
    assert [item["id"] for item in around] == posted[0:3]
    skipped = client.get(path, params={"skip": "1", "limit": "1"}, headers=auth()).json()
    assert [item["id"] for item in skipped] == posted[2:3]
    found = client.get(path, params={"q": "PAGING 2"}, headers=auth()).json()
    assert [item["id"] for item in found] == [posted[2]]
    status = client.post(path, json={"text": "waves", "status": True}, headers=auth()).json()
    assert status["status"] is True
