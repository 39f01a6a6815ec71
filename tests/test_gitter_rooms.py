"""Gitter room membership and room state endpoints (issue 15, build point 2): join by id, leave,
and the room and user resources real clients call (research/clients.md 2, 6)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mock_support import assert_documented
from starlette.testclient import TestClient

from mockserver.app import create_app

ALICE_TOKEN = "gitter-token-alice"
BOB_TOKEN = "gitter-token-bob"
ALICE_ID = "5f1a11ce0000000000000001"
BOB_ID = "5f1b0b000000000000000002"
ONE_TO_ONE = "5f2000000000000000000001"
REPO = "5f2000000000000000000002"
ORG = "5f2000000000000000000003"
LOBBY = "5f2000000000000000000004"
BOB_ONLY = "5f2000000000000000000005"
UNKNOWN_ID = "0123456789abcdef01234567"


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
