"""Rocket.Chat rooms, users and messages on real state: create, invite, roles and permissions,
settings, lists, leaving, DMs, reactions and deletion; what one endpoint writes every read
endpoint sees."""

from __future__ import annotations

from typing import Any

import pytest
from mock_support import assert_documented
from starlette.testclient import TestClient

from mockserver.app import create_app

ALICE_ID = "aLiCEx3kPq7RtZ2mW"
BOB_ID = "boBy4Nq8HsK2dYe6T"
ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}  # the workspace admin
BOB = {"X-Auth-Token": "rc-pat-bob", "X-User-Id": BOB_ID}  # a plain user


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(["rocketchat"], strict=True))


def call(client: TestClient, endpoint: str, headers: dict[str, str], status: int = 200, **params: Any) -> Any:
    method = (
        "GET"
        if endpoint.rsplit(".", maxsplit=1)[-1] in ("info", "list", "joined", "members", "history", "getPresence", "getMessage", "get")
        else "POST"
    )
    path = f"/api/v1/{endpoint}"
    response = client.get(path, params=params, headers=headers) if method == "GET" else client.post(path, json=params, headers=headers)
    return assert_documented(f"rocketchat.{endpoint}", response, status)


def test_bob_creates_a_channel_invites_and_owns_it(client: TestClient) -> None:
    room = call(client, "channels.create", BOB, name="bobs", members=["alice", "nobody"])["channel"]
    assert room["usersCount"] == 2
    assert room["u"]["username"] == "bob"
    assert call(client, "channels.info", ALICE, roomName="bobs")["channel"]["_id"] == room["_id"]
    assert "bobs" in [item["name"] for item in call(client, "channels.list.joined", ALICE)["channels"]]
    assert call(client, "channels.create", ALICE, 400, name="bobs")["errorType"] == "error-duplicate-channel-name"
    assert call(client, "channels.create", ALICE, 400, name="no spaces")["errorType"] == "error-invalid-room-name"
    # the owner may rename, set a topic, moderate; a plain member may not
    assert call(client, "channels.setTopic", BOB, roomId=room["_id"], topic="t1")["topic"] == "t1"
    refused = call(client, "channels.setTopic", BOB, 400, roomId="GENERAL", topic="x")
    assert refused["errorType"] == "error-action-not-allowed"
    assert call(client, "channels.info", BOB, roomId=room["_id"])["channel"]["topic"] == "t1"


def test_invite_needs_the_permission_and_a_real_user(client: TestClient) -> None:
    assert call(client, "channels.invite", BOB, 400, roomId="GENERAL", userId=ALICE_ID)["errorType"] == "error-not-allowed"
    group = call(client, "groups.create", ALICE, name="secret")["group"]
    assert call(client, "groups.info", BOB, 400, roomId=group["_id"])["errorType"] == "error-room-not-found"
    assert call(client, "groups.invite", ALICE, 400, roomId=group["_id"], userId="nobody")["errorType"] == "error-invalid-user"
    assert call(client, "groups.invite", ALICE, roomName="secret", username="bob")["group"]["usersCount"] == 2
    assert [item["name"] for item in call(client, "groups.list", BOB)["groups"]] == ["bob-private", "secret"]
    members = call(client, "groups.members", BOB, roomId=group["_id"])
    assert {item["username"] for item in members["members"]} == {"alice", "bob"}


def test_room_roles_and_the_last_owner(client: TestClient) -> None:
    room = call(client, "channels.create", BOB, name="roles", members=["alice"])["channel"]["_id"]
    assert call(client, "channels.leave", BOB, 400, roomId=room)["errorType"] == "error-you-are-last-owner"
    assert call(client, "channels.removeOwner", BOB, 400, roomId=room, userId=BOB_ID)["errorType"] == "error-remove-last-owner"
    call(client, "channels.addModerator", BOB, roomId=room, userId=ALICE_ID)
    assert call(client, "channels.addModerator", BOB, 400, roomId=room, userId=ALICE_ID)["errorType"] == "error-user-already-moderator"
    call(client, "channels.addOwner", BOB, roomId=room, userId=ALICE_ID)
    assert call(client, "channels.leave", BOB, roomId=room)["channel"]["usersCount"] == 1
    assert call(client, "channels.kick", ALICE, 400, roomId=room, userId=BOB_ID)["errorType"] == "error-user-not-in-room"
    assert call(client, "channels.removeLeader", ALICE, 400, roomId=room, userId=ALICE_ID)["errorType"] == "error-user-not-leader"


def test_kick_archive_rename_delete(client: TestClient) -> None:
    room = call(client, "channels.create", ALICE, name="old", members=["bob"])["channel"]["_id"]
    assert call(client, "channels.kick", BOB, 400, roomId=room, userId=ALICE_ID)["errorType"] == "error-not-allowed"
    assert call(client, "channels.kick", ALICE, roomId=room, userId=BOB_ID)["channel"]["usersCount"] == 1
    assert call(client, "channels.rename", ALICE, roomId=room, name="new")["channel"]["name"] == "new"
    assert call(client, "channels.info", ALICE, 400, roomName="old")["errorType"] == "error-room-not-found"
    call(client, "channels.archive", ALICE, roomId=room)
    assert call(client, "channels.archive", ALICE, 400, roomId=room)["errorType"] == "error-room-archived"
    assert call(client, "channels.info", ALICE, roomId=room)["channel"]["archived"] is True
    assert call(client, "channels.join", BOB, 400, roomId=room)["errorType"] == "error-room-archived"
    call(client, "channels.unarchive", ALICE, roomId=room)
    assert call(client, "channels.setReadOnly", ALICE, roomId=room, readOnly=True)["channel"]["ro"] is True
    assert call(client, "channels.setReadOnly", ALICE, 400, roomId=room, readOnly=True)["errorType"] == "error-room-readonly-unchanged"
    assert call(client, "channels.delete", BOB, 403, roomId="GENERAL")["success"] is False
    call(client, "channels.delete", ALICE, roomId=room)
    assert call(client, "channels.info", ALICE, 400, roomId=room)["errorType"] == "error-room-not-found"
    removed = client.get("/api/v1/rooms.get", params={"updatedSince": "2020-01-01"}, headers=ALICE).json()["remove"]
    assert {"_id": room} in removed


def test_join_code(client: TestClient) -> None:
    room = call(client, "channels.create", ALICE, name="locked")["channel"]["_id"]
    assert call(client, "channels.setJoinCode", ALICE, roomId=room, joinCode="sesame")["channel"]["joinCodeRequired"] is True
    assert call(client, "channels.join", BOB, 400, roomId=room, joinCode="nope")["errorType"] == "error-code-invalid"
    assert call(client, "channels.join", BOB, roomId=room, joinCode="sesame")["channel"]["usersCount"] == 2


def test_lists_count_and_users(client: TestClient) -> None:
    listed = call(client, "channels.list", BOB, count="1")
    assert (listed["count"], listed["total"]) == (1, 2)
    assert call(client, "users.info", BOB, username="alice")["user"].get("emails") is None  # not bob's to see
    assert call(client, "users.info", ALICE, userId=BOB_ID)["user"]["emails"][0]["address"] == "bob@example.com"
    assert call(client, "users.info", BOB, 400, userId="nobody") == {"success": False, "error": "User not found."}
    assert call(client, "users.info", BOB, 400)["errorType"] == "invalid-params"
    assert call(client, "users.getPresence", BOB, userId=ALICE_ID)["presence"] == "online"
    assert call(client, "users.getPresence", BOB)["presence"] == "offline"


def test_dm_create_react_get_delete(client: TestClient) -> None:
    dm = call(client, "im.create", ALICE, username="bob")["room"]
    assert dm["rid"] == ALICE_ID + BOB_ID
    assert call(client, "dm.create", ALICE, 400, username="nobody")["errorType"] == "error-invalid-user"
    posted = client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "react to me"}, headers=BOB).json()["message"]
    call(client, "chat.react", ALICE, messageId=posted["_id"], emoji=":tada:")
    call(client, "chat.react", BOB, messageId=posted["_id"], reaction="tada", shouldReact=True)
    got = call(client, "chat.getMessage", ALICE, msgId=posted["_id"])["message"]
    assert got["reactions"] == {":tada:": {"usernames": ["alice", "bob"]}}
    call(client, "chat.react", ALICE, messageId=posted["_id"], emoji="tada")  # toggles off
    assert call(client, "chat.getMessage", ALICE, msgId=posted["_id"])["message"]["reactions"] == {":tada:": {"usernames": ["bob"]}}
    assert call(client, "chat.react", ALICE, 400, messageId="nope", emoji="x")["errorType"] == "error-message-not-found"
    assert call(client, "chat.getMessage", ALICE, 400) == {"success": False, "error": 'The "msgId" query parameter must be provided.'}
    alice_post = client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "mine"}, headers=ALICE).json()["message"]
    assert call(client, "chat.delete", BOB, 400, roomId="GENERAL", msgId=alice_post["_id"])["errorType"] == "error-action-not-allowed"
    call(client, "chat.delete", ALICE, roomId="GENERAL", msgId=posted["_id"])  # an admin deletes anyone's
    history = [item["_id"] for item in call(client, "channels.history", ALICE, roomId="GENERAL")["messages"]]
    assert posted["_id"] not in history
    assert alice_post["_id"] in history


def test_server_info_by_profile() -> None:
    assert TestClient(create_app(["rocketchat"], strict=True)).get("/api/v1/info").json() == {"version": "7.5.0"}
    old = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "3.18.0"}}))
    assert old.get("/api/v1/info").json() == {"version": "3.18.0"}
    new = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "4.0.0"}}))
    assert new.get("/api/v1/info").status_code == 404
    assert new.get("/api/info").json() == {"version": "4.0.0", "success": True}


def test_users_administration(client: TestClient) -> None:
    new: dict[str, Any] = {"name": "Carol", "username": "carol", "email": "carol@example.com", "password": "carol-password"}
    assert call(client, "users.create", BOB, 400, **new)["errorType"] == "error-action-not-allowed"
    carol = call(client, "users.create", ALICE, **new)["user"]
    assert call(client, "users.create", ALICE, 400, **new)["errorType"] == "error-field-unavailable"
    assert "carol" in {
        item["username"] for item in call(client, "channels.members", ALICE, roomId="GENERAL")["members"]
    }  # joined the default channel
    login = client.post("/api/v1/login", json={"username": "carol", "password": "carol-password"})
    assert login.status_code == 200
    assert call(client, "users.update", BOB, 400, userId=carol["_id"], data={"name": "x"})["errorType"] == "error-action-not-allowed"
    updated = call(client, "users.update", ALICE, userId=carol["_id"], data={"name": "Carol C", "username": "carolc"})["user"]
    assert (updated["name"], updated["username"]) == ("Carol C", "carolc")
    assert call(client, "users.info", BOB, username="carolc")["user"]["_id"] == carol["_id"]
    call(client, "users.setAvatar", BOB, avatarUrl="https://example.com/bob.png")
    assert (
        call(client, "users.setAvatar", BOB, 400, userId="alice", avatarUrl="https://example.com/x.png")["errorType"] == "error-not-allowed"
    )
    assert call(client, "users.createToken", BOB, 400, userId=carol["_id"])["errorType"] == "error-not-authorized"
    token = call(client, "users.createToken", ALICE, username="carolc")["data"]
    assert (
        client.get("/api/v1/me", headers={"X-Auth-Token": token["authToken"], "X-User-Id": token["userId"]}).json()["username"] == "carolc"
    )
    assert call(client, "users.delete", BOB, 403, userId=carol["_id"]) == {"success": False, "error": "unauthorized"}
    call(client, "users.delete", ALICE, userId=carol["_id"])
    assert client.get("/api/v1/me", headers={"X-Auth-Token": token["authToken"], "X-User-Id": token["userId"]}).status_code == 401
    assert call(client, "users.info", ALICE, 400, userId=carol["_id"])["error"] == "User not found."


def test_register_only_when_the_form_is_public() -> None:
    body = {"username": "dave", "email": "dave@example.com", "pass": "dave-password", "name": "Dave"}
    open_client = TestClient(create_app(["rocketchat"], strict=True))
    assert (
        assert_documented("rocketchat.users.register", open_client.post("/api/v1/users.register", json=body))["user"]["username"] == "dave"
    )
    closed = TestClient(
        create_app(["rocketchat"], strict=True, seed={"rocketchat": {"serverSettings": {"Accounts_RegistrationForm": "Disabled"}}})
    )
    refused = assert_documented("rocketchat.users.register", closed.post("/api/v1/users.register", json=body), 400)
    assert refused["errorType"] == "error-user-registration-disabled"


def test_create_token_needs_the_secret_from_8() -> None:
    client = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "8.0.0"}}))
    no_secret = client.post("/api/v1/users.createToken", json={"userId": BOB_ID}, headers=ALICE)
    assert assert_documented("rocketchat.users.createToken", no_secret, 400)["errorType"] == "error-not-authorized"
    good = client.post("/api/v1/users.createToken", json={"userId": BOB_ID, "secret": "chatmock-token-secret"}, headers=ALICE)
    assert assert_documented("rocketchat.users.createToken", good)["data"]["userId"] == BOB_ID
    old = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "7.5.0"}}))
    assert old.post("/api/v1/users.createToken", data={"userId": BOB_ID}, headers=ALICE).status_code == 200  # the Go SDK's form


def test_subscriptions_count_unread_until_read(client: TestClient) -> None:
    def general() -> dict[str, Any]:
        subs = call(client, "subscriptions.get", ALICE)["update"]
        return next(sub for sub in subs if sub["rid"] == "GENERAL")

    before = general()["unread"]
    client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "hey @alice"}, headers=BOB)
    after = general()
    assert after["unread"] == before + 1
    assert after["alert"] is True
    assert after["userMentions"] >= 1
    call(client, "subscriptions.read", ALICE, rid="GENERAL")
    assert general()["unread"] == 0
    assert call(client, "subscriptions.read", BOB, 400, roomId="bObPr7vGtK4sQw9Zn" + "x")["errorType"] == "error-invalid-subscription"


def test_rooms_info_leave_and_direct_messages(client: TestClient) -> None:
    assert call(client, "rooms.info", BOB, roomId="bObPr7vGtK4sQw9Zn")["room"]["t"] == "p"
    assert call(client, "rooms.info", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn")["errorType"] == "error-room-not-found"
    call(client, "rooms.leave", ALICE, roomId="GENERAL")
    assert "general" not in [item["name"] for item in call(client, "channels.list.joined", ALICE)["channels"]]
    ims = call(client, "im.list", ALICE)["ims"]
    assert [item["_id"] for item in ims] == [ALICE_ID + BOB_ID]
    client.post("/api/v1/chat.postMessage", json={"channel": "@bob", "text": "direct"}, headers=ALICE)
    assert call(client, "dm.history", BOB, roomId=ALICE_ID + BOB_ID)["messages"][0]["msg"] == "direct"
    assert call(client, "im.history", BOB, 400, roomId="GENERAL")["errorType"] == "error-room-not-found"


def test_settings_by_id(client: TestClient) -> None:
    assert client.get("/api/v1/settings/Site_Name", headers=BOB).status_code == 403
    got = assert_documented("rocketchat.settings.get", client.get("/api/v1/settings/Site_Name", headers=ALICE))
    assert got == {"_id": "Site_Name", "value": "Rocket.Chat", "success": True}
    assert_documented("rocketchat.settings.update", client.post("/api/v1/settings/Site_Name", json={"value": "Mock"}, headers=ALICE))
    assert client.get("/api/v1/settings/Site_Name", headers=ALICE).json()["value"] == "Mock"
    wrong_type = client.post("/api/v1/settings/Site_Name", json={"value": 5}, headers=ALICE)
    assert assert_documented("rocketchat.settings.update", wrong_type, 400)["errorType"] == "error-setting-value-type"
    missing = client.get("/api/v1/settings/No_Such", headers=ALICE)
    assert assert_documented("rocketchat.settings.get", missing, 400)["errorType"] == "error-setting-not-found"
    assert client.post("/api/v1/settings/Site_Name", json={"value": "x"}, headers=BOB).status_code == 403


def test_uploads_download_and_are_messages(client: TestClient) -> None:
    sent = client.post(
        "/api/v1/rooms.upload/GENERAL",
        files={"file": ("a b.txt", b"hello", "text/plain")},
        data={"msg": "a file", "description": "d"},
        headers=BOB,
    )
    message = assert_documented("rocketchat.rooms.upload", sent)["message"]
    assert message["file"]["name"] == "a b.txt"
    link = message["attachments"][0]["title_link"]
    assert link == f"/file-upload/{message['file']['_id']}/a%20b.txt"
    download = client.get(link, headers=ALICE)
    assert assert_documented("rocketchat.fileUpload", download) == b"hello"
    assert client.get(link).status_code == 401
    assert message["_id"] in [item["_id"] for item in call(client, "channels.history", ALICE, roomId="GENERAL")["messages"]]
    no_file = client.post("/api/v1/rooms.upload/GENERAL", data={"msg": "x"}, files={"other": ("x", b"x", "text/plain")}, headers=BOB)
    assert assert_documented("rocketchat.rooms.upload", no_file, 400) == {"success": False, "error": "File required"}
    private = client.post("/api/v1/rooms.media/bObPr7vGtK4sQw9Zn", files={"file": ("p.png", b"\x89PNG", "image/png")}, headers=BOB)
    file_id = assert_documented("rocketchat.rooms.media", private)["file"]["_id"]
    assert client.get(f"/file-upload/{file_id}/p.png", headers=ALICE).status_code == 404  # not alice's room
    confirmed = client.post(f"/api/v1/rooms.mediaConfirm/bObPr7vGtK4sQw9Zn/{file_id}", json={"msg": "pic"}, headers=BOB)
    assert assert_documented("rocketchat.rooms.mediaConfirm", confirmed)["message"]["attachments"][0]["image_type"] == "image/png"
    again = client.post(f"/api/v1/rooms.mediaConfirm/bObPr7vGtK4sQw9Zn/{file_id}", json={}, headers=BOB)
    assert assert_documented("rocketchat.rooms.mediaConfirm", again, 400)["errorType"] == "error-file-not-found"


def test_rooms_upload_is_gone_in_8() -> None:
    client = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "8.0.0"}}))
    gone = client.post("/api/v1/rooms.upload/GENERAL", files={"file": ("a.txt", b"x", "text/plain")}, headers=ALICE)
    assert gone.status_code == 404
    media = client.post("/api/v1/rooms.media/GENERAL", files={"file": ("a.txt", b"x", "text/plain")}, headers=ALICE)
    assert media.status_code == 200
    old = TestClient(create_app(["rocketchat"], strict=True, api_options={"rocketchat": {"version": "7.10.0"}}))
    assert old.post("/api/v1/rooms.upload/GENERAL", files={"file": ("a.txt", b"x", "text/plain")}, headers=ALICE).status_code == 200


def test_a_message_posted_anywhere_is_read_everywhere(client: TestClient) -> None:
    """chat.postMessage, chat.sendMessage and rooms.upload write; channels.history,
    channels.messages, chat.getMessage, rooms.get (lastMessage) and subscriptions.get read."""
    ids = [
        client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": "one"}, headers=BOB).json()["message"]["_id"],
        client.post("/api/v1/chat.sendMessage", json={"message": {"rid": "GENERAL", "msg": "two"}}, headers=BOB).json()["message"]["_id"],
        client.post("/api/v1/rooms.upload/GENERAL", files={"file": ("t.txt", b"3", "text/plain")}, headers=BOB).json()["message"]["_id"],
    ]
    history = [item["_id"] for item in call(client, "channels.history", ALICE, roomId="GENERAL")["messages"]]
    messages = [
        item["_id"] for item in client.get("/api/v1/channels.messages", params={"roomId": "GENERAL"}, headers=ALICE).json()["messages"]
    ]
    assert history[:3] == messages[:3] == ids[::-1]
    for message_id in ids:
        assert call(client, "chat.getMessage", ALICE, msgId=message_id)["message"]["_id"] == message_id
    rooms = client.get("/api/v1/rooms.get", headers=ALICE).json()["update"]
    assert next(room for room in rooms if room["_id"] == "GENERAL")["lastMessage"]["_id"] == ids[-1]
    subs = call(client, "subscriptions.get", ALICE)["update"]
    assert next(sub for sub in subs if sub["rid"] == "GENERAL")["unread"] >= 3


def test_users_update_with_an_empty_email_keeps_the_address(client: TestClient) -> None:
    """Found by tests/test_rocketchat_openapi.py (a 500 in strict mode: an empty address was
    stored): saveUser changes the address only when one is given."""
    user = call(client, "users.update", ALICE, userId=BOB_ID, data={"email": "", "name": "Bobby"})["user"]
    assert user["emails"][0]["address"] == "bob@example.com"
    assert user["name"] == "Bobby"
