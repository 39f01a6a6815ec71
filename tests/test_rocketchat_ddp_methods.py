"""The DDP methods bots call, each on the same world as the REST API: what it answers, what it
changes (read back over REST), and its documented errors in Meteor's shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_rocketchat_ddp import ALICE, BOB, Ddp, rest_login

from mockserver.app import ChatMockApp, create_app


@pytest.fixture
def app() -> Iterator[ChatMockApp]:
    made = create_app(["rocketchat"], strict=True)
    yield made
    assert made.state.chatmock.dispatcher.violations == []


@pytest.fixture
def client(app: ChatMockApp) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def alice(client: TestClient) -> Iterator[Ddp]:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ddp.login()
        yield ddp


def error_of(ddp: Ddp, method: str, *params: Any) -> Any:
    reply = ddp.call(method, *params)
    assert "result" not in reply
    error = reply["error"]
    assert error["isClientSafe"] is True
    assert error["errorType"] == "Meteor.Error"
    return error["error"]


def test_every_method_but_public_settings_needs_a_login(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        calls: list[tuple[str, list[Any]]] = [
            ("sendMessage", [{"rid": "GENERAL", "msg": "x"}]),
            ("rooms/get", []),
            ("joinRoom", ["GENERAL"]),
        ]
        for method, params in calls:
            reply = ddp.call(method, *params)
            assert reply["error"]["error"] == "error-invalid-user"
            assert reply["error"]["details"] == {"method": method}
        assert ddp.result("public-settings/get")[0] == {"_id": "Site_Name", "value": "Rocket.Chat"}


def test_messages_edit_delete_star_pin_and_read(client: TestClient, alice: Ddp) -> None:
    bob = rest_login(client)
    sent = alice.result("sendMessage", {"rid": "GENERAL", "msg": "draft"})
    assert alice.result("updateMessage", {"_id": sent["_id"], "rid": "GENERAL", "msg": "final @bob"}) is None
    found = client.get("/api/v1/chat.getMessage", headers=bob, params={"msgId": sent["_id"]}).json()["message"]
    assert found["msg"] == "final @bob"
    assert found["mentions"][0]["username"] == "bob"
    assert found["editedBy"]["username"] == "alice"
    assert alice.result("starMessage", {"_id": sent["_id"], "rid": "GENERAL", "starred": True}) is True
    pinned = alice.result("pinMessage", {"_id": sent["_id"], "rid": "GENERAL"})
    assert pinned["pinned"] is True
    assert set(pinned["pinnedAt"]) == {"$date"}
    assert alice.result("setReaction", "tada", sent["_id"], True) is None
    assert client.get("/api/v1/chat.getMessage", headers=bob, params={"msgId": sent["_id"]}).json()["message"]["reactions"] == {
        ":tada:": {"usernames": ["alice"]}
    }
    assert alice.result("readMessages", "GENERAL") is None
    assert alice.result("deleteMessage", {"_id": sent["_id"]}) is None
    assert client.get("/api/v1/chat.getMessage", headers=bob, params={"msgId": sent["_id"]}).status_code == 400
    assert error_of(alice, "deleteMessage", {"_id": sent["_id"]}) == "error-invalid-message"
    assert error_of(alice, "setReaction", ":x:", "nosuchmessage") == "error-not-allowed"
    theirs = client.post("/api/v1/chat.postMessage", headers=bob, json={"roomId": "GENERAL", "text": "bob's"}).json()["message"]
    assert alice.result("updateMessage", {"_id": theirs["_id"], "msg": "alice is admin"}) is None  # edit-message: admin
    with client.websocket_connect("/websocket") as ws:
        other = Ddp(ws)
        other.connect()
        other.login("bob", "bob-password")
        mine = alice.result("sendMessage", {"rid": "GENERAL", "msg": "alice's"})
        assert error_of(other, "updateMessage", {"_id": mine["_id"], "msg": "no"}) == "error-action-not-allowed"
        assert error_of(other, "deleteMessage", {"_id": mine["_id"]}) == "error-action-not-allowed"
        assert error_of(other, "sendMessage", {"rid": "nowhere", "msg": "x"}) == "error-not-allowed"
        assert error_of(other, "sendMessage", {"_id": mine["_id"], "rid": "GENERAL", "msg": "x"}) == "error-duplicate-message"


def test_rooms_joining_leaving_creating_and_reading(client: TestClient, alice: Ddp) -> None:
    bob = rest_login(client)
    created = alice.result("createChannel", "ddp-room", ["bob"], False)
    assert created["name"] == "ddp-room"
    info = client.get("/api/v1/channels.info", headers=bob, params={"roomName": "ddp-room"}).json()["channel"]
    assert info["_id"] == created["rid"]
    assert info["usersCount"] == 2
    assert error_of(alice, "createChannel", "ddp-room", []) == "error-duplicate-channel-name"
    assert error_of(alice, "createChannel", "bad name!", []) == "error-invalid-room-name"
    group = alice.result("createPrivateGroup", "ddp-secret", [])
    assert alice.result("getRoomIdByNameOrId", "ddp-secret") == group["rid"]
    assert alice.result("getRoomNameById", created["rid"]) == "ddp-room"
    with client.websocket_connect("/websocket") as ws:
        other = Ddp(ws)
        other.connect()
        other.login("bob", "bob-password")
        assert error_of(other, "getRoomIdByNameOrId", "ddp-secret") == "error-not-allowed"  # a private group bob is not in
        assert error_of(other, "joinRoom", group["rid"]) == "error-not-allowed"
        assert error_of(other, "joinRoom", "nosuchroom") == "error-invalid-room"
        assert other.result("leaveRoom", created["rid"]) is True
        assert error_of(other, "leaveRoom", created["rid"]) == "error-user-not-in-room"
        assert other.result("joinRoom", created["rid"]) is True
        dm = other.result("createDirectMessage", "alice")
        assert dm["t"] == "d"
        assert sorted(dm["usernames"]) == ["alice", "bob"]
        assert error_of(other, "createDirectMessage", "nobody") == "error-invalid-user"
        assert other.result("loadHistory", group["rid"]) is False  # no access: false, as the server answers
    assert error_of(alice, "leaveRoom", group["rid"]) == "error-you-are-last-owner"
    rooms = alice.result("rooms/get")
    assert {room["_id"] for room in rooms} >= {"GENERAL", created["rid"], group["rid"]}
    since = alice.result("rooms/get", {"$date": 4102444800000})
    assert since == {"update": [], "remove": []}
    subs = alice.result("subscriptions/get")
    assert {sub["rid"] for sub in subs} >= {"GENERAL", created["rid"]}


def test_history_members_presence_and_permissions(client: TestClient, alice: Ddp) -> None:
    for text in ("one", "two", "three"):
        alice.result("sendMessage", {"rid": "GENERAL", "msg": text})
    history = alice.result("loadHistory", "GENERAL", None, 2)
    assert [message["msg"] for message in history["messages"]] == ["three", "two"]
    older = alice.result("loadHistory", "GENERAL", history["messages"][-1]["ts"], 1)
    assert [message["msg"] for message in older["messages"]] == ["one"]
    members = alice.result("getUsersOfRoom", "GENERAL", True)
    assert members["total"] == 3
    assert {record["username"] for record in members["records"]} == {"rocket.cat", "alice", "bob"}
    assert alice.result("getUsersOfRoom", "GENERAL", False)["total"] == 2  # bob is offline
    assert alice.result("UserPresence:setDefaultStatus", "busy") is True
    me = client.get("/api/v1/users.info", headers=rest_login(client), params={"userId": ALICE}).json()["user"]
    assert me["status"] == "busy"
    assert alice.call("UserPresence:setDefaultStatus", "sleeping")["error"]["reason"] == "Match failed"
    assert {"_id": "create-c", "roles": ["admin", "user", "bot", "app"]} in alice.result("permissions/get")
    assert alice.result("loadHistory", BOB + "x") is False


def test_typing_reaches_the_other_members_not_the_typist(client: TestClient, alice: Ddp) -> None:
    with client.websocket_connect("/websocket") as ws:
        other = Ddp(ws)
        other.connect()
        other.login("bob", "bob-password")
        assert other.sub("stream-notify-room", "GENERAL/user-activity", False)["msg"] == "ready"
        assert other.sub("stream-notify-room", "GENERAL/typing", False)["msg"] == "ready"
        assert alice.sub("stream-notify-room", "GENERAL/typing", False)["msg"] == "ready"
        assert alice.result("stream-notify-room", "GENERAL/user-activity", "alice", ["user-typing"], {}) is None
        first, second = other.event(), other.event()
        assert {first["fields"]["eventName"], second["fields"]["eventName"]} == {"GENERAL/typing", "GENERAL/user-activity"}
        typing = first if first["fields"]["eventName"] == "GENERAL/typing" else second
        assert typing["fields"]["args"] == ["alice", True]
        assert alice.result("stream-notify-room", "GENERAL/user-activity", "bob", ["user-typing"], {}) is None  # not its name: dropped
        alice.send({"msg": "ping", "id": "last"})
        assert alice.wait(lambda frame: frame.get("msg") in ("pong", "changed")) == {"msg": "pong", "id": "last"}


def test_rest_joins_and_leaves_stream_to_the_user(client: TestClient) -> None:
    alice = rest_login(client, "alice", "alice-password")
    created = client.post("/api/v1/channels.create", headers=alice, json={"name": "joined-over-rest"}).json()["channel"]
    with client.websocket_connect("/websocket") as ws:
        bob = Ddp(ws)
        bob.connect()
        bob.login("bob", "bob-password")
        assert bob.sub("stream-notify-user", f"{BOB}/subscriptions-changed", False)["msg"] == "ready"
        assert bob.sub("stream-notify-user", f"{BOB}/rooms-changed", False)["msg"] == "ready"
        client.post("/api/v1/channels.invite", headers=alice, json={"roomId": created["_id"], "userId": BOB})
        inserted = [bob.event(), bob.event()]
        assert {frame["fields"]["eventName"] for frame in inserted} == {f"{BOB}/subscriptions-changed", f"{BOB}/rooms-changed"}
        assert all(frame["fields"]["args"][0] == "inserted" for frame in inserted)
        client.post("/api/v1/channels.kick", headers=alice, json={"roomId": created["_id"], "userId": BOB})
        removed = [bob.event(), bob.event()]
        assert all(frame["fields"]["args"][0] == "removed" for frame in removed)
        assert removed[0]["fields"]["args"][1]["rid" if "subscriptions" in removed[0]["fields"]["eventName"] else "_id"] == created["_id"]
