"""The Rocket.Chat endpoints of the mixin modules (rooms_more, messages_more, directory, admin,
hooks) on real state: each success path, each documented error, and what one endpoint writes
every read endpoint sees (a webhook's message included)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mock_support import assert_documented
from starlette.testclient import TestClient

from mockserver.app import create_app

ALICE_ID = "aLiCEx3kPq7RtZ2mW"
BOB_ID = "boBy4Nq8HsK2dYe6T"
ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}  # the workspace admin
BOB = {"X-Auth-Token": "rc-pat-bob", "X-User-Id": BOB_ID}  # a plain user
GETS = ("messages", "getMentionedMessages", "syncMessages", "getThreadsList", "getThreadMessages", "spotlight", "directory",
        "statistics", "listAll", "everyone", "list", "get", "getMyAccounts", "info", "history", "getMessage")  # fmt: skip


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(["rocketchat"], strict=True))


def call(client: TestClient, endpoint: str, headers: dict[str, str], status: int = 200, **params: Any) -> Any:
    """One documented exchange (GET for reads, POST with JSON otherwise); the body."""
    path = f"/api/v1/{endpoint}"
    if endpoint.rsplit(".", 1)[-1] in GETS or endpoint in ("spotlight", "directory", "statistics"):
        response = client.get(path, params=params, headers=headers)
    else:
        response = client.post(path, json=params, headers=headers)
    return assert_documented(f"rocketchat.{endpoint}", response, status)


def subscription(client: TestClient, headers: dict[str, str], room_id: str) -> dict[str, Any]:
    subs = call(client, "subscriptions.get", headers)["update"]
    found: dict[str, Any] = next(item for item in subs if item["rid"] == room_id)
    return found


# open / close ------------------------------------------------------------------------------------
def test_close_hides_a_room_until_someone_else_writes(client: TestClient) -> None:
    assert call(client, "channels.open", ALICE, 400, roomId="GENERAL")["error"] == "The channel, general, is already open to the sender"
    call(client, "channels.close", ALICE, roomId="GENERAL")
    assert subscription(client, ALICE, "GENERAL")["open"] is False
    again = call(client, "channels.close", ALICE, 400, roomName="general")
    assert again == {"success": False, "error": "The channel, general, is already closed to the sender"}
    call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="my own message keeps it closed")
    assert subscription(client, ALICE, "GENERAL")["open"] is False
    call(client, "chat.postMessage", BOB, roomId="GENERAL", text="bob's opens it")
    assert subscription(client, ALICE, "GENERAL")["open"] is True
    call(client, "channels.close", ALICE, roomId="GENERAL")
    call(client, "channels.open", ALICE, roomId="GENERAL")
    assert subscription(client, ALICE, "GENERAL")["open"] is True


def test_close_refusals(client: TestClient) -> None:
    room = call(client, "channels.create", BOB, name="bobs-only")["channel"]
    refused = call(client, "channels.close", ALICE, 400, roomId=room["_id"])
    assert refused == {"success": False, "error": 'The user/callee is not in the channel "bobs-only.'}
    assert call(client, "channels.close", ALICE, 400, roomId="nope")["errorType"] == "error-room-not-found"
    assert call(client, "channels.open", ALICE, 400)["errorType"] == "error-roomid-param-not-provided"
    call(client, "groups.close", BOB, roomName="bob-private")
    assert subscription(client, BOB, "bObPr7vGtK4sQw9Zn")["open"] is False
    assert "already closed to the sender" in call(client, "groups.close", BOB, 400, roomId="bObPr7vGtK4sQw9Zn")["error"]
    call(client, "groups.open", BOB, roomId="bObPr7vGtK4sQw9Zn")
    assert "already open for the sender" in call(client, "groups.open", BOB, 400, roomId="bObPr7vGtK4sQw9Zn")["error"]
    assert call(client, "groups.open", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn")["errorType"] == "error-room-not-found"
    assert call(client, "groups.close", ALICE, 400)["errorType"] == "error-room-param-not-provided"


# addAll, setType, groups.messages ---------------------------------------------------------------
def test_add_all_needs_the_permission_and_adds_everyone(client: TestClient) -> None:
    room = call(client, "channels.create", ALICE, name="everyone")["channel"]
    assert room["usersCount"] == 1
    assert call(client, "channels.addAll", BOB, 400, roomId=room["_id"])["errorType"] == "error-not-allowed"
    assert call(client, "channels.addAll", ALICE, roomId=room["_id"], activeUsersOnly=True)["channel"]["usersCount"] == 3
    assert call(client, "channels.addAll", ALICE, 400, roomId="nope")["errorType"] == "error-room-not-found"


def test_set_type_makes_a_channel_private(client: TestClient) -> None:
    changed = call(client, "channels.setType", ALICE, roomName="random", type="p")["channel"]
    assert changed["t"] == "p"
    assert call(client, "groups.info", BOB, roomName="random")["group"]["_id"] == changed["_id"]
    assert call(client, "channels.info", BOB, 400, roomName="random")["errorType"] == "error-room-not-found"
    same = call(client, "channels.setType", ALICE, 400, roomId="GENERAL", type="c")
    assert same == {"success": False, "error": "The channel type is the same as what it would be changed to."}
    assert call(client, "channels.setType", ALICE, 400, roomId="GENERAL", type="x")["errorType"] == "error-invalid-room-type"
    assert call(client, "channels.setType", BOB, 400, roomId="GENERAL", type="p")["errorType"] == "error-action-not-allowed"
    assert call(client, "channels.setType", ALICE, 400, roomId="nope", type="p")["errorType"] == "error-room-not-found"


def test_group_set_type_makes_it_public(client: TestClient) -> None:
    assert call(client, "groups.setType", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn", type="c")["errorType"] == "error-room-not-found"
    same = call(client, "groups.setType", BOB, 400, roomName="bob-private", type="p")
    assert same == {"success": False, "error": "The private group type is the same as what it would be changed to."}
    assert call(client, "groups.setType", BOB, 400, type="c")["errorType"] == "error-room-param-not-provided"
    assert call(client, "groups.setType", BOB, roomName="bob-private", type="c")["group"]["t"] == "c"
    assert call(client, "channels.info", ALICE, roomName="bob-private")["channel"]["_id"] == "bObPr7vGtK4sQw9Zn"
    call(client, "permissions.update", ALICE, permissions=[{"_id": "create-c", "roles": ["admin"]}])
    group = call(client, "groups.create", BOB, name="stays-private")["group"]
    refused = call(client, "groups.setType", BOB, 400, roomId=group["_id"], type="c")  # create-c needed for a public room
    assert refused["errorType"] == "error-action-not-allowed"


def test_groups_messages_for_members_only(client: TestClient) -> None:
    page = call(client, "groups.messages", BOB, roomName="bob-private")
    assert [item["msg"] for item in page["messages"]] == ["note to self: buy milk"]
    assert page["total"] == 1
    assert call(client, "groups.messages", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn")["errorType"] == "error-room-not-found"
    assert call(client, "groups.messages", BOB, 400)["errorType"] == "invalid-params"


# message reads ----------------------------------------------------------------------------------------
def test_mentioned_messages(client: TestClient) -> None:
    call(client, "chat.postMessage", BOB, roomId="GENERAL", text="@alice look at this")
    call(client, "chat.postMessage", BOB, roomId="GENERAL", text="no mention")
    found = call(client, "chat.getMentionedMessages", ALICE, roomId="GENERAL")["messages"]
    assert [item["msg"] for item in found] == ["@alice look at this"]
    assert call(client, "chat.getMentionedMessages", BOB, roomId="GENERAL")["total"] == 0
    assert call(client, "chat.getMentionedMessages", ALICE, 400)["errorType"] == "error-invalid-params"
    assert call(client, "chat.getMentionedMessages", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn")["errorType"] == "error-not-allowed"


def test_sync_messages_lists_updates_and_deletions(client: TestClient) -> None:
    since = call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="before")["message"]["ts"]
    kept = call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="kept")["message"]
    gone = call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="gone")["message"]
    call(client, "chat.delete", ALICE, roomId="GENERAL", msgId=gone["_id"])
    result = call(client, "chat.syncMessages", ALICE, roomId="GENERAL", lastUpdate=since)["result"]
    assert [item["_id"] for item in result["updated"]] == [kept["_id"]]
    assert [item["_id"] for item in result["deleted"]] == [gone["_id"]]
    everything = call(client, "chat.syncMessages", ALICE, roomId="GENERAL", lastUpdate="2020-01-01")["result"]
    assert len(everything["updated"]) == 5  # three seeded, "before" and "kept"
    only_deleted = call(client, "chat.syncMessages", ALICE, roomId="GENERAL", type="DELETED", next="0")["result"]
    assert (only_deleted["updated"], [item["_id"] for item in only_deleted["deleted"]]) == ([], [gone["_id"]])
    assert call(client, "chat.syncMessages", ALICE, 400, roomId="GENERAL")["errorType"] == "error-param-required"
    bad = call(client, "chat.syncMessages", ALICE, 400, roomId="GENERAL", lastUpdate="yesterday")
    assert bad["errorType"] == "error-roomId-param-invalid"
    refused = call(client, "chat.syncMessages", ALICE, 400, roomId="bObPr7vGtK4sQw9Zn", lastUpdate="2020-01-01")
    assert refused["errorType"] == "error-not-allowed"


def test_threads(client: TestClient) -> None:
    parent = call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="a thread")["message"]
    call(client, "chat.postMessage", BOB, roomId="GENERAL", text="reply 1", tmid=parent["_id"])
    call(client, "chat.sendMessage", ALICE, message={"rid": "GENERAL", "msg": "reply 2", "tmid": parent["_id"]})
    threads = call(client, "chat.getThreadsList", BOB, rid="GENERAL")["threads"]
    assert [(item["_id"], item["tcount"]) for item in threads] == [(parent["_id"], 2)]
    assert call(client, "chat.getThreadsList", BOB, rid="GENERAL", type="following")["total"] == 1
    assert call(client, "chat.getThreadsList", BOB, rid="GENERAL", text="nothing like it")["total"] == 0
    replies = call(client, "chat.getThreadMessages", BOB, tmid=parent["_id"])["messages"]
    assert [item["msg"] for item in replies] == ["reply 1", "reply 2"]
    assert call(client, "chat.getThreadMessages", BOB, 400, tmid="nope")["errorType"] == "error-invalid-message"
    assert call(client, "chat.getThreadsList", ALICE, 400, rid="bObPr7vGtK4sQw9Zn")["errorType"] == "error-not-allowed"
    history = call(client, "channels.history", BOB, roomId="GENERAL", showThreadMessages="false")["messages"]
    assert "reply 1" not in [item["msg"] for item in history]


# search -------------------------------------------------------------------------------------------
def test_spotlight(client: TestClient) -> None:
    found = call(client, "spotlight", ALICE, query="@bo")
    assert ([item["username"] for item in found["users"]], found["rooms"]) == (["bob"], [])
    rooms = call(client, "spotlight", ALICE, query="#gen")
    assert (rooms["users"], [item["name"] for item in rooms["rooms"]]) == ([], ["general"])
    assert "bob-private" not in [item["name"] for item in call(client, "spotlight", ALICE, query="private")["rooms"]]
    assert "bob-private" in [item["name"] for item in call(client, "spotlight", BOB, query="private")["rooms"]]


def test_directory(client: TestClient) -> None:
    channels = call(client, "directory", ALICE)["result"]
    assert [item["name"] for item in channels] == ["general", "random"]
    users = call(client, "directory", BOB, type="users", text="ali")["result"]
    assert [item["username"] for item in users] == ["alice"]
    assert "emails" not in users[0]
    assert "emails" in call(client, "directory", ALICE, type="users", text="bob")["result"][0]
    old = call(client, "directory", ALICE, query=json.dumps({"text": "rand", "type": "channels"}))
    assert [item["name"] for item in old["result"]] == ["random"]
    assert call(client, "directory", ALICE, 400, type="teams")["error"] == "Please verify the parameters"
    assert call(client, "directory", ALICE, 400, query="[1]")["error"] == "Please verify the parameters"
    assert "only one" in call(client, "directory", ALICE, 400, sort=json.dumps({"name": 1, "ts": -1}))["error"]


# administration, catalogues ------------------------------------------------------------------------
def test_statistics_for_admins(client: TestClient) -> None:
    stats = call(client, "statistics", ALICE)
    assert (stats["totalUsers"], stats["totalChannels"], stats["totalPrivateGroups"], stats["totalDirect"]) == (3, 2, 1, 1)
    assert stats["totalMessages"] == 7
    assert call(client, "statistics", BOB, 400) == {"success": False, "error": "error-not-allowed"}


def test_permissions_list_and_update(client: TestClient) -> None:
    listed = {item["_id"]: item["roles"] for item in call(client, "permissions.listAll", BOB)["update"]}
    assert "user" in listed["create-c"]
    stamp = call(client, "permissions.listAll", BOB)["update"][0]["_updatedAt"]
    mine = [{"_id": "create-c", "roles": ["user"]}]
    assert call(client, "permissions.update", BOB, 403, permissions=mine)["error"].endswith("[error-unauthorized]")
    updated = call(client, "permissions.update", ALICE, permissions=[{"_id": "create-c", "roles": ["admin"]}])["permissions"]
    assert {item["_id"]: item["roles"] for item in updated}["create-c"] == ["admin"]
    assert call(client, "channels.create", BOB, 403, name="not-any-more")["success"] is False
    changed = call(client, "permissions.listAll", BOB, updatedSince=stamp)["update"]
    assert [item["_id"] for item in changed] == ["create-c"]
    unknown = call(client, "permissions.update", ALICE, 400, permissions=[{"_id": "no-such", "roles": ["admin"]}])
    assert unknown["errorType"] == "error-invalid-body-params"
    bad_role = call(client, "permissions.update", ALICE, 400, permissions=[{"_id": "create-c", "roles": ["wizard"]}])
    assert bad_role["errorType"] == "error-invalid-role"
    assert call(client, "permissions.listAll", BOB, 400, updatedSince="never")["errorType"] == "error-roomId-param-invalid"


def test_every_dm_for_admins(client: TestClient) -> None:
    for endpoint in ("im.list.everyone", "dm.list.everyone"):
        assert [item["t"] for item in call(client, endpoint, ALICE)["ims"]] == ["d"]
        assert call(client, endpoint, BOB, 403)["success"] is False


def test_commands_and_webdav(client: TestClient) -> None:
    listed = call(client, "commands.list", BOB, count="5")
    assert (listed["count"], listed["total"]) == (5, 22)
    assert call(client, "commands.get", BOB, command="ME")["command"]["params"] == "your_message"
    assert call(client, "commands.get", BOB, 400, command="nope")["error"] == "There is no command in the system by the name of: nope"
    assert call(client, "commands.get", BOB, 400) == {"success": False, "error": 'The query param "command" must be provided.'}
    assert call(client, "webdav.getMyAccounts", BOB) == {"accounts": [], "success": True}


def test_commands_run(client: TestClient) -> None:
    def newest() -> str:
        return str(call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]["msg"])

    assert call(client, "commands.run", ALICE, command="me", params="waves", roomId="GENERAL") == {"success": True}
    assert newest() == "_waves_"
    call(client, "commands.run", ALICE, command="SHRUG", params="well", roomId="GENERAL")
    assert newest() == "well ¯\\_(ツ)_/¯"
    call(client, "commands.run", ALICE, command="topic", params="new topic", roomId="GENERAL")
    assert call(client, "channels.info", BOB, roomId="GENERAL")["channel"]["topic"] == "new topic"
    call(client, "commands.run", BOB, command="topic", params="not allowed", roomId="GENERAL")  # nothing changes, success
    assert call(client, "channels.info", BOB, roomId="GENERAL")["channel"]["topic"] == "new topic"
    room = call(client, "channels.create", ALICE, name="joinable")["channel"]
    call(client, "commands.run", BOB, command="join", params="#joinable", roomId="GENERAL")
    assert call(client, "channels.info", BOB, roomId=room["_id"])["channel"]["usersCount"] == 2
    call(client, "commands.run", BOB, command="leave", roomId=room["_id"])
    assert call(client, "channels.info", BOB, roomId=room["_id"])["channel"]["usersCount"] == 1
    assert call(client, "commands.run", ALICE, 400, roomId="GENERAL")["error"] == "You must provide a command to run."
    assert "single string" in call(client, "commands.run", ALICE, 400, command="me", params=1, roomId="GENERAL")["error"]
    assert "be a string" in call(client, "commands.run", ALICE, 400, command="me")["error"]
    assert "tmid" in call(client, "commands.run", ALICE, 400, command="me", roomId="GENERAL", tmid=5)["error"]
    assert "does not exist" in call(client, "commands.run", ALICE, 400, command="nope", roomId="GENERAL")["error"]
    assert call(client, "commands.run", ALICE, 403, command="me", roomId="bObPr7vGtK4sQw9Zn") == {"success": False, "error": "unauthorized"}
    assert call(client, "commands.run", ALICE, 400, command="me", roomId="GENERAL", tmid="nope")["error"] == "Invalid thread."


# integrations and the incoming webhook ------------------------------------------------------------------
HOOK: dict[str, Any] = {
    "type": "webhook-incoming",
    "name": "CI",
    "enabled": True,
    "username": "rocket.cat",
    "channel": "#general",
    "scriptEnabled": False,
}


def hook(client: TestClient, integration: dict[str, Any], status: int = 200, **kwargs: Any) -> Any:
    response = client.post(f"/hooks/{integration['_id']}/{integration['token']}", **kwargs)
    return assert_documented("rocketchat.hooks", response, status)


def test_webhook_message_is_read_everywhere(client: TestClient) -> None:
    integration = call(client, "integrations.create", ALICE, **HOOK, alias="CI bot", emoji=":robot:")["integration"]
    assert (integration["channel"], integration["userId"]) == (["#general"], "rocket.cat")
    assert hook(client, integration, json={"text": "build passed"}) == {"success": True}
    newest = call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]
    assert (newest["msg"], newest["alias"], newest["emoji"], newest["bot"]) == (
        "build passed",
        "CI bot",
        ":robot:",
        {"i": integration["_id"]},
    )
    assert newest["u"]["username"] == "rocket.cat"
    assert call(client, "channels.history", BOB, roomId="GENERAL", count="1")["messages"][0]["_id"] == newest["_id"]
    assert call(client, "chat.getMessage", BOB, msgId=newest["_id"])["message"]["msg"] == "build passed"
    assert newest["_id"] in [
        item["_id"] for item in call(client, "chat.syncMessages", BOB, roomId="GENERAL", lastUpdate="2020-01-01")["result"]["updated"]
    ]
    rooms = call(client, "rooms.get", BOB)["update"]
    assert next(item for item in rooms if item["_id"] == "GENERAL")["lastMessage"]["_id"] == newest["_id"]
    assert subscription(client, BOB, "GENERAL")["unread"] >= 1
    # a Slack-style form body; an empty body posts nothing
    hook(client, integration, data={"payload": json.dumps({"text": "from a form", "username": "Jenkins"})})
    newest = call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]
    assert (newest["msg"], newest["alias"]) == ("from a form", "Jenkins")
    raw = client.post(  # curl -d '{"text": ...}' without a JSON Content-Type: a form of one field, read as JSON
        f"/hooks/{integration['_id']}/{integration['token']}",
        content=b'{"text": "curl default"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert assert_documented("rocketchat.hooks", raw) == {"success": True}
    assert call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]["msg"] == "curl default"
    newest = call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]
    assert hook(client, integration, json={}) == {"success": True}
    assert call(client, "channels.messages", BOB, roomId="GENERAL", count="1")["messages"][0]["_id"] == newest["_id"]


def test_webhook_refusals(
    client: TestClient,
) -> None:
    integration = call(client, "integrations.create", ALICE, **HOOK)["integration"]
    wrong = {**integration, "token": "not-the-token"}
    assert hook(client, wrong, 400, json={"text": "x"}) == {"success": False, "error": "Invalid integration id or token provided."}
    assert hook(client, {**integration, "_id": "nope"}, 400, json={"text": "x"})["success"] is False
    override = hook(client, integration, 400, json={"text": "x", "channel": "#random"})
    assert override["error"] == "overriding destination channel is disabled for this integration"
    assert hook(client, integration, 400, data={"payload": "not json"})["success"] is False
    assert hook(client, integration, 400, data={"text": "x"})["success"] is False  # one field: JSON.parse("text=x") fails
    assert hook(client, integration, data={"text": "two fields", "alias": "form"}) == {"success": True}  # a plain form
    free = call(client, "integrations.create", ALICE, **{**HOOK, "overrideDestinationChannelEnabled": True})["integration"]
    hook(client, free, json={"text": "elsewhere", "channel": "#random"})
    assert call(client, "channels.messages", BOB, roomId="rNd3vKq8PzT5mWx2Y", count="1")["messages"][0]["msg"] == "elsewhere"
    assert hook(client, free, 400, json={"text": "x", "channel": "#nowhere"}) == {"success": False, "error": "invalid-channel"}
    disabled = call(client, "integrations.create", ALICE, **{**HOOK, "enabled": False})["integration"]
    assert hook(client, disabled, 503, json={"text": "x"}) == {"success": False, "error": "Service Unavailable"}


def test_integrations_create_refusals_and_list(client: TestClient) -> None:
    assert call(client, "integrations.create", BOB, 400, **HOOK)["errorType"] == "not_authorized"
    for channel, code in (("  ", "error-invalid-channel"), ("general", "error-invalid-channel-start-with-chars"),
                          ("#nowhere", "error-invalid-room"), ("@nobody", "error-invalid-user")):  # fmt: skip
        assert call(client, "integrations.create", ALICE, 400, **{**HOOK, "channel": channel})["errorType"] == code
    assert call(client, "integrations.create", ALICE, 400, **{**HOOK, "username": " "})["errorType"] == "error-invalid-username"
    assert call(client, "integrations.create", ALICE, 400, **{**HOOK, "username": "nobody"})["errorType"] == "error-invalid-user"
    outgoing = {**HOOK, "type": "webhook-outgoing", "event": "sendMessage", "urls": ["http://127.0.0.1:9/never"]}
    assert call(client, "integrations.create", ALICE, **outgoing)["integration"]["urls"] == ["http://127.0.0.1:9/never"]
    assert call(client, "integrations.create", ALICE, 400, **{**outgoing, "urls": []})["errorType"] == "invalid-params"
    call(client, "integrations.create", ALICE, **HOOK)
    listed = call(client, "integrations.list", ALICE, type="webhook-incoming")
    assert (listed["items"], listed["total"]) == (1, 1)
    assert call(client, "integrations.list", ALICE)["total"] == 2
    assert call(client, "integrations.list", BOB, 403)["success"] is False
    assert "bot" in call(client, "users.info", ALICE, username="rocket.cat")["user"]["roles"]


def seeded_world() -> dict[str, Any]:
    world = {
        "users": [{"_id": "aLiCEx3kPq7RtZ2mW", "username": "alice", "personalAccessTokens": ["rc-pat-alice"], "roles": ["admin"]},
                  {"username": "ci"}],
        "rooms": [{"_id": "GENERAL", "name": "general", "members": ["alice"]}],
        "integrations": [{"_id": "hookId1", "name": "CI", "token": "seeded-hook-token-1", "username": "ci", "channel": "#general"},
                         {"_id": "hookId2", "token": "seeded-hook-token-2", "username": "ci", "channel": "@alice", "enabled": False}],
    }  # fmt: skip
    return world


def test_seeded_integrations_post_or_refuse() -> None:
    world = seeded_world()
    app = create_app(["rocketchat"], strict=True, seed={"rocketchat": world})
    client = TestClient(app)
    assert hook(client, {"_id": "hookId1", "token": "seeded-hook-token-1"}, json={"text": "seeded hook"}) == {"success": True}
    messages = call(client, "channels.messages", ALICE, roomId="GENERAL")["messages"]
    assert [(item["msg"], item["u"]["username"]) for item in messages] == [("seeded hook", "ci")]
    assert hook(client, {"_id": "hookId2", "token": "seeded-hook-token-2"}, 503, json={"text": "x"})["error"] == "Service Unavailable"
    assert {"seeded-hook-token-1", "seeded-hook-token-2"} <= set(app.state.chatmock.secrets())
    broken = {"rocketchat": {**world, "integrations": [{"username": "nobody", "channel": "#general"}]}}
    assert client.post("/__chatmock/seed", json=broken).status_code == 400


def test_webhook_token_stays_out_of_the_journal() -> None:
    app = create_app(["rocketchat"], strict=True, seed={"rocketchat": seeded_world()})
    client = TestClient(app)
    hook(client, {"_id": "hookId1", "token": "seeded-hook-token-1"}, json={"text": "seeded hook"})
    call(client, "integrations.list", ALICE)
    entries = app.state.chatmock.journal.entries()
    assert "seeded-hook-token-1" not in json.dumps(entries)
    assert "/hooks/hookId1/[REDACTED]" in [entry["path"] for entry in entries]  # the id stays: which hook was called


def test_clean_history(client: TestClient) -> None:
    kept = call(client, "chat.postMessage", BOB, roomId="GENERAL", text="pinned one")["message"]
    call(client, "chat.postMessage", BOB, roomId="GENERAL", text="bob's")
    call(client, "chat.postMessage", ALICE, roomId="GENERAL", text="alice's")
    span: dict[str, Any] = {"oldest": "2025-01-01T00:00:00.000Z", "latest": "2100-01-01T00:00:00.000Z"}
    assert call(client, "rooms.cleanHistory", BOB, 400, roomId="GENERAL", **span)["errorType"] == "error-not-allowed"
    assert call(client, "rooms.cleanHistory", ALICE, 400, roomId="nope", **span)["errorType"] == "error-room-not-found"
    bad = call(client, "rooms.cleanHistory", ALICE, 400, roomId="GENERAL", oldest="then", latest="now")
    assert bad["errorType"] == "error-invalid-date"
    assert call(client, "rooms.cleanHistory", ALICE, roomId="GENERAL", users=["bob"], limit=1, **span)["count"] == 1
    texts = [item["msg"] for item in call(client, "channels.history", ALICE, roomId="GENERAL")["messages"]]
    assert "pinned one" not in texts
    assert "bob's" in texts
    assert call(client, "rooms.cleanHistory", ALICE, roomId="GENERAL", **span) == {"_id": "GENERAL", "count": 2, "success": True}
    texts = [item["msg"] for item in call(client, "channels.history", ALICE, roomId="GENERAL")["messages"]]
    assert texts == ["Hi alice!", "Hello everyone", "Welcome to the general channel!"]  # the seeded ones are older
    deleted = call(client, "chat.syncMessages", ALICE, roomId="GENERAL", lastUpdate="2020-01-01")["result"]["deleted"]
    assert kept["_id"] in [item["_id"] for item in deleted]


def test_clean_history_files_only(client: TestClient) -> None:
    uploaded = client.post(
        "/api/v1/rooms.upload/GENERAL", files={"file": ("a.txt", b"x", "text/plain")}, data={"msg": "a file"}, headers=ALICE
    )
    message = assert_documented("rocketchat.rooms.upload", uploaded)["message"]
    span: dict[str, Any] = {"oldest": "2025-01-01T00:00:00.000Z", "latest": "2100-01-01T00:00:00.000Z", "filesOnly": True}
    assert call(client, "rooms.cleanHistory", ALICE, roomId="GENERAL", **span)["count"] == 1
    kept = call(client, "chat.getMessage", ALICE, msgId=message["_id"])["message"]
    assert (kept["msg"], "file" in kept, kept["attachments"]) == ("a file", False, [])
    download = message["attachments"][0]["title_link"]
    assert client.get(download, headers=ALICE).status_code == 404


def test_webhook_token_guesses_are_throttled() -> None:
    """The token in the path is a credential: past auth_failure_limit failures a client is
    answered 429 (undocumented on most endpoints, as on the others: not strict here)."""
    client = TestClient(create_app(["rocketchat"], auth_failure_limit=2))
    integration = call(client, "integrations.create", ALICE, **HOOK)["integration"]
    wrong = {**integration, "token": "guess"}
    assert [client.post(f"/hooks/{wrong['_id']}/{wrong['token']}", json={"text": "x"}).status_code for _ in range(3)] == [400, 400, 429]
    assert client.post(f"/hooks/{integration['_id']}/{integration['token']}", json={"text": "x"}).status_code == 429
