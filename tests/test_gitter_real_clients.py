"""A real Gitter client against a served mock: gitterpy 0.1.7 (PyPI), the client Home Assistant's
gitter sensor uses (research/clients.md 2).

gitterpy sends every write form-encoded (``requests``' ``data=``) and builds its URLs from the
module constants ``GITTER_BASE_URL`` and ``GITTER_STREAM_URL`` (imported into
``gitterpy.client``); it has no base-URL option, and it uses ``requests`` (so respx cannot route
it). A user points it at the mock the only way it allows: by setting those two names in
``gitterpy.client`` (pytest's ``monkeypatch``), here to a mock on a free loopback port.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

gitterpy = pytest.importorskip("gitterpy.client", reason="gitterpy is not installed: pip install 'gitterpy==0.1.7'")

from mockserver.app import create_app  # noqa: E402
from mockserver.background import serve_in_thread  # noqa: E402

ALICE_TOKEN = "gitter-token-alice"
BOB_TOKEN = "gitter-token-bob"
ALICE_ID = "5f1a11ce0000000000000001"
LOBBY_URI = "chatmock/lobby"
LOBBY = "5f2000000000000000000004"
REPO_NAME = "chatmock/chatmock"
REPO = "5f2000000000000000000002"


@pytest.fixture
def mock_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    app = create_app(["gitter"], strict=True, stream_keepalive=0.2)
    with serve_in_thread(app) as server:
        monkeypatch.setattr(gitterpy, "GITTER_BASE_URL", f"{server.url}/v1/")
        monkeypatch.setattr(gitterpy, "GITTER_STREAM_URL", f"{server.url}/stream/v1/")
        yield server.url


def bob_posts(url: str, room: str, *texts: str) -> list[str]:
    ids = []
    with httpx.Client(base_url=url, timeout=5) as http:
        for text in texts:
            response = http.post(f"/v1/rooms/{room}/chatMessages", json={"text": text}, headers={"Authorization": f"Bearer {BOB_TOKEN}"})
            assert response.status_code == 200, response.text
            ids.append(str(response.json()["id"]))
    return ids


def test_gitterpy_bot_flow(mock_url: str) -> None:
    client = gitterpy.GitterClient(ALICE_TOKEN)
    # who am I (GET /v1/user, twice: gitterpy asks once per field)
    assert client.auth.get_my_id == {"name": "alice", "user_id": ALICE_ID}
    assert repr(client) == f"GitterClient(name: alice, user_id: {ALICE_ID})"
    # list rooms and communities
    assert [group["uri"] for group in client.groups.list] == ["chatmock"]
    names = {room["name"] for room in client.rooms.rooms_list}
    assert REPO_NAME in names
    assert LOBBY_URI not in names
    # join by URI: POST /v1/rooms uri=..., then POST /v1/user/:id/rooms id=... (both form-encoded)
    joined: dict[str, Any] = client.rooms.join(LOBBY_URI)
    assert joined["id"] == LOBBY
    assert LOBBY_URI in {room["name"] for room in client.rooms.rooms_list}
    # post (form text=...), read back, edit
    sent = client.messages.send(LOBBY_URI, "hello from gitterpy")
    assert sent["text"] == "hello from gitterpy"
    assert sent["fromUser"]["id"] == ALICE_ID
    assert client.messages.list(LOBBY_URI)[-1]["id"] == sent["id"]
    assert client.messages.get_message(LOBBY_URI, sent["id"])["text"] == "hello from gitterpy"
    edited = client.messages.put(client.messages.get_and_update_msg_url(LOBBY_URI, sent["id"]), data={"text": "edited by gitterpy"})
    assert (edited["id"], edited["text"], edited["v"]) == (sent["id"], "edited by gitterpy", 2)
    # unread items, and mark read with one unread message: requests sends chat=<id> once, which
    # the server's parser makes a string, and unread-items.js refuses it (400); gitterpy returns
    # the error body (the mock's says it takes JSON only here, see test_gitter_bodies)
    bob_posts(mock_url, LOBBY, "one for alice")
    unread = client.user.unread_items(LOBBY_URI)
    assert len(unread["chat"]) == 1
    refused = client.user.mark_as_read(LOBBY_URI)
    assert isinstance(refused["error"], str)
    assert client.user.unread_items(LOBBY_URI)["chat"] == unread["chat"]
    # room users and the user's rooms
    assert "alice" in {user["username"] for user in client.rooms.sub_resource(LOBBY_URI)}
    assert LOBBY in {room["id"] for room in client.user.sub_resource}
    # leave: DELETE /v1/rooms/:id/users/:userId
    assert client.rooms.leave(LOBBY_URI) == {"success": True}
    assert LOBBY_URI not in {room["name"] for room in client.rooms.rooms_list}


def test_gitterpy_stream(mock_url: str) -> None:
    client = gitterpy.GitterClient(ALICE_TOKEN)
    response = client.stream.chat_messages(REPO_NAME, timeout=5)
    try:
        assert response.status_code == 200
        lines = response.iter_lines()
        bob_posts(mock_url, REPO, "streamed to gitterpy")
        item = next(line for line in lines if line.strip())
    finally:
        response.close()
    assert b"streamed to gitterpy" in item


def test_gitterpy_marks_several_messages_read(mock_url: str) -> None:
    client = gitterpy.GitterClient(ALICE_TOKEN)
    bob_posts(mock_url, REPO, "first unread", "second unread")
    assert client.user.mark_as_read(REPO_NAME) == {"success": True}
    assert client.user.unread_items(REPO_NAME)["chat"] == []
