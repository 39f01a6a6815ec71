"""Rocket.Chat's realtime API (DDP on /websocket), in-process: the handshake, heartbeats,
login in every form (tokens shared with REST both ways), subscriptions and their events
(as the server sends them), the methods bots call, and bad input (error frames or a clean
close, never an exception; no subscription left after a disconnect)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from mockserver.apis.rocketchat.ddp.feed import HARD_LIMIT, SOFT_LIMIT, Feed
from mockserver.app import ChatMockApp, create_app
from mockserver.core.validate import Checker

ALICE, BOB = "aLiCEx3kPq7RtZ2mW", "boBy4Nq8HsK2dYe6T"


class Ddp:
    """A minimal DDP client on a TestClient WebSocket: frames in order, calls by id."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []
        self.counter = 0
        self.strict_reports = False
        assert self.recv() == {"server_id": "0"}

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(frame))

    def recv(self) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        return self._read()

    def _read(self) -> dict[str, Any]:
        """The next frame off the socket; a strict-mode report of the mock fails the test
        (unless the test expects one: ``strict_reports``)."""
        frame: dict[str, Any] = json.loads(self.ws.receive_text())
        if not self.strict_reports and frame.get("msg") == "error" and str(frame.get("reason", "")).startswith("chatmock strict mode"):
            raise AssertionError(frame["reason"])
        return frame

    def wait(self, predicate: Any) -> dict[str, Any]:
        """The first frame (queued or new) matching; the others stay queued in order."""
        for index, frame in enumerate(self.pending):
            if predicate(frame):
                return self.pending.pop(index)
        while True:
            frame = self._read()
            if predicate(frame):
                return frame
            self.pending.append(frame)

    def connect(self) -> str:
        self.send({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]})
        connected = self.recv()
        assert connected["msg"] == "connected"
        return str(connected["session"])

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        """The ``result`` frame of a method call (``updated`` comes first, checked)."""
        self.counter += 1
        call_id = f"c{self.counter}"
        self.send({"msg": "method", "method": method, "id": call_id, "params": list(params)})
        result = self.wait(lambda frame: frame.get("msg") == "result" and frame.get("id") == call_id)
        return result

    def result(self, method: str, *params: Any) -> Any:
        reply = self.call(method, *params)
        assert "error" not in reply, reply
        return reply.get("result")

    def sub(self, name: str, *params: Any) -> dict[str, Any]:
        self.counter += 1
        sub_id = f"s{self.counter}"
        self.send({"msg": "sub", "id": sub_id, "name": name, "params": list(params)})
        return self.wait(
            lambda frame: frame.get("msg") in ("ready", "nosub") and (frame.get("id") == sub_id or sub_id in frame.get("subs", ()))
        )

    def login(self, username: str = "alice", password: str = "alice-password") -> dict[str, Any]:
        result: dict[str, Any] = self.result("login", {"user": {"username": username}, "password": password})
        return result

    def event(self, stream: str | None = None) -> dict[str, Any]:
        return self.wait(lambda frame: frame.get("msg") == "changed" and (stream is None or frame["collection"] == stream))


@pytest.fixture
def app() -> Iterator[ChatMockApp]:
    made = create_app(["rocketchat"], strict=True)
    yield made
    assert made.state.chatmock.dispatcher.violations == []


@pytest.fixture
def client(app: ChatMockApp) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def rest_login(client: TestClient, user: str = "bob", password: str = "bob-password") -> dict[str, str]:
    data = client.post("/api/v1/login", json={"user": user, "password": password}).json()["data"]
    return {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}


def realtime(app: ChatMockApp) -> Any:
    return app.state.chatmock.modules["rocketchat"].realtime


# the handshake --------------------------------------------------------------------------------
def test_connect_ping_and_version_negotiation(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.send({"msg": "ping"})
        assert ddp.recv() == {"msg": "error", "reason": "Must connect first", "offendingMessage": {"msg": "ping"}}
        session = ddp.connect()
        assert len(session) == 17
        ddp.send({"msg": "ping", "id": "x"})
        assert ddp.recv() == {"msg": "pong", "id": "x"}
        ddp.send({"msg": "ping"})
        assert ddp.recv() == {"msg": "pong"}
        ddp.send({"msg": "connect", "version": "1", "support": ["1"]})
        assert ddp.recv()["reason"] == "Already connected"
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.send({"msg": "connect", "version": "pre1", "support": ["1", "pre1"]})
        assert ddp.recv() == {"msg": "failed", "version": "1"}
        assert ws.receive()["type"] == "websocket.close"


def test_the_server_pings_a_silent_client_and_closes_it(app: ChatMockApp, client: TestClient) -> None:
    realtime(app).ping_interval = realtime(app).ping_timeout = 0.05
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        assert ddp.recv() == {"msg": "ping"}
        ddp.send({"msg": "pong"})
        assert ddp.recv() == {"msg": "ping"}  # silent again: pinged again, then closed
        assert ws.receive() == {"type": "websocket.close", "code": 1000, "reason": "heartbeat timed out"}


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        ("not json", {"msg": "error", "reason": "Bad request"}),
        ("[1, 2]", {"msg": "error", "reason": "Bad request"}),
        ('{"id": 1}', {"msg": "error", "reason": "Bad request", "offendingMessage": {"id": 1}}),
        ('{"msg": "teleport"}', {"msg": "error", "reason": "Bad request", "offendingMessage": {"msg": "teleport"}}),
        (
            '{"msg": "method", "method": 5, "id": "1"}',
            {"msg": "error", "reason": "Malformed method invocation", "offendingMessage": {"msg": "method", "method": 5, "id": "1"}},
        ),
        (
            '{"msg": "sub", "id": "1", "name": "x", "params": {}}',
            {"msg": "error", "reason": "Malformed subscription", "offendingMessage": {"msg": "sub", "id": "1", "name": "x", "params": {}}},
        ),
        ("[" * 100 + "]" * 100, {"msg": "error", "reason": "Bad request"}),
    ],
)
def test_malformed_frames_get_the_servers_error_frames(
    client: TestClient, raw: str, reply: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ws.send_text(raw)
        assert ddp.recv() == reply
        ws.send_bytes(b"\xff\xfe")
        assert ddp.recv() == {"msg": "error", "reason": "Bad request"}
        ws.send_bytes(b'{"msg": "ping", "id": "b"}')  # a binary frame of JSON is read as text (Node's Buffer)
        assert ddp.recv() == {"msg": "pong", "id": "b"}
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_a_huge_frame_closes_with_1009(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        Ddp(ws).connect()
        ws.send_text(json.dumps({"msg": "ping", "id": "x" * (1024 * 1024)}))
        assert ws.receive()["code"] == 1009


# login ----------------------------------------------------------------------------------------
def test_login_forms_and_tokens_shared_with_rest(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        plain = ddp.login()
        assert plain["id"] == ALICE
        assert plain["type"] == "password"
        assert set(plain["tokenExpires"]) == {"$date"}
        me = client.get("/api/v1/me", headers={"X-Auth-Token": plain["token"], "X-User-Id": ALICE})
        assert me.status_code == 200
        assert me.json()["username"] == "alice"
        digest = hashlib.sha256(b"bob-password").hexdigest()
        assert (
            ddp.result("login", {"user": {"email": "bob@example.com"}, "password": {"digest": digest, "algorithm": "sha-256"}})["id"] == BOB
        )
        headers = rest_login(client)
        resumed = ddp.result("login", {"resume": headers["X-Auth-Token"]})  # a REST token resumes over DDP
        assert resumed["id"] == BOB
        assert resumed["type"] == "resume"
        assert resumed["token"] == headers["X-Auth-Token"]
        assert ddp.result("login", {"resume": "rc-pat-alice"})["id"] == ALICE  # a personal access token is a resume token
        ldap = {"ldap": True, "username": "bob@example.com", "ldapPass": "bob-password", "ldapOptions": {}}  # hubot-rocketchat v1
        assert ddp.result("login", ldap)["id"] == BOB  # LDAP off: the local account system
        assert ddp.result("logout") is None
        assert client.get("/api/v1/me", headers=headers).status_code == 200  # logout ended only the connection's token (alice's PAT)


@pytest.mark.parametrize(
    ("options", "error", "reason"),
    [
        ({"user": {"username": "alice"}, "password": "wrong"}, 403, "Incorrect password"),
        ({"user": {"username": "nobody"}, "password": "x"}, 403, "User not found"),
        ({"user": {"username": "alice"}, "password": {"digest": "0" * 64, "algorithm": "sha-256"}}, 403, "Incorrect password"),
        ({"resume": "no-such-token"}, 403, "You've been logged out by the server. Please log in again."),
        ({"ldap": True, "username": "alice", "ldapPass": "alice-password"}, 400, "Unrecognized options for login request"),
        ({"ldap": True, "username": "alice", "ldapPass": "wrong", "ldapOptions": {}}, 403, "Incorrect password"),
        ({"serviceName": "github", "accessToken": "x"}, 400, "Unrecognized options for login request"),
        ({"user": {"username": "alice"}, "password": {"digest": "x", "algorithm": "md5"}}, 400, "Match failed"),
        ({"user": {"phone": "1"}, "password": "x"}, 400, "Match failed"),
    ],
)
def test_failed_logins_answer_meteor_errors(client: TestClient, options: dict[str, Any], error: Any, reason: str) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        reply = ddp.call("login", options)
        assert reply["error"] == {
            "isClientSafe": True,
            "error": error,
            "reason": reason,
            "message": f"{reason} [{error}]",
            "errorType": "Meteor.Error",
        }


def test_logout_ends_the_token_for_rest_too(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        token = ddp.login()["token"]
        ddp.result("logout")
        assert client.get("/api/v1/me", headers={"X-Auth-Token": token, "X-User-Id": ALICE}).status_code == 401
        assert ddp.call("sendMessage", {"rid": "GENERAL", "msg": "x"})["error"]["error"] == "error-invalid-user"


# methods --------------------------------------------------------------------------------------
def test_unknown_methods_and_wrong_params(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ddp.send({"msg": "method", "method": "nope", "id": "1", "params": []})
        assert ddp.recv() == {
            "msg": "result",
            "id": "1",
            "error": {
                "isClientSafe": True,
                "error": 404,
                "reason": "Method 'nope' not found",
                "message": "Method 'nope' not found [404]",
                "errorType": "Meteor.Error",
            },
        }
        assert ddp.recv() == {"msg": "updated", "methods": ["1"]}
        ddp.login()
        assert ddp.call("sendMessage", "not an object")["error"]["reason"] == "Match failed"
        assert ddp.call("sendMessage", {"msg": "no rid"})["error"]["reason"] == "Match failed"
        assert ddp.call("getRoomIdByNameOrId")["error"]["reason"] == "Match failed"
        assert ddp.call("getRoomIdByNameOrId", "general", 1, 2)["error"]["reason"] == "Match failed"


def test_a_bot_flow_rest_post_reaches_ddp_and_the_answer_reaches_rest(client: TestClient) -> None:
    headers = rest_login(client)
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ddp.login()
        assert ddp.sub("stream-room-messages", "__my_messages__", False) == {"msg": "ready", "subs": ["s2"]}
        posted = client.post("/api/v1/chat.postMessage", headers=headers, json={"channel": "#general", "text": "hi @alice"}).json()[
            "message"
        ]
        event = ddp.event("stream-room-messages")
        assert event["id"] == "id"
        assert event["fields"]["eventName"] == "__my_messages__"
        message, meta = event["fields"]["args"]
        assert message["_id"] == posted["_id"]
        assert message["msg"] == "hi @alice"
        assert set(message["ts"]) == {"$date"}
        assert meta == {"roomParticipant": True, "roomType": "c", "roomName": "general"}
        rid = ddp.result("getRoomIdByNameOrId", "general")
        sent = ddp.result("sendMessage", {"_id": "answer0000000001", "rid": rid, "msg": "hello bob"})
        assert sent["_id"] == "answer0000000001"
        assert sent["u"]["username"] == "alice"
        own = ddp.event("stream-room-messages")  # its own message comes back too
        assert own["fields"]["args"][0]["_id"] == "answer0000000001"
    history = client.get("/api/v1/channels.history", headers=headers, params={"roomId": "GENERAL"}).json()["messages"]
    assert history[0]["_id"] == "answer0000000001"
    assert history[0]["msg"] == "hello bob"


def test_room_streams_edits_reactions_and_deletions(client: TestClient) -> None:
    headers = rest_login(client)
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ddp.login()
        assert ddp.sub("stream-room-messages", "GENERAL", {"useCollection": False, "args": []})["msg"] == "ready"
        assert ddp.sub("stream-notify-room", "GENERAL/deleteMessage", False)["msg"] == "ready"
        posted = client.post("/api/v1/chat.postMessage", headers=headers, json={"roomId": "GENERAL", "text": "one"}).json()["message"]
        first = ddp.event()
        assert first["fields"] == {"eventName": "GENERAL", "args": [first["fields"]["args"][0]]}
        client.post("/api/v1/chat.update", headers=headers, json={"roomId": "GENERAL", "msgId": posted["_id"], "text": "one!"})
        edited = ddp.event()["fields"]["args"][0]
        assert edited["msg"] == "one!"
        assert "editedAt" in edited
        client.post("/api/v1/chat.react", headers=headers, json={"messageId": posted["_id"], "emoji": "smile"})
        assert ddp.event()["fields"]["args"][0]["reactions"] == {":smile:": {"usernames": ["bob"]}}
        ddp.result("setReaction", ":smile:", posted["_id"])
        assert ddp.event()["fields"]["args"][0]["reactions"] == {":smile:": {"usernames": ["bob", "alice"]}}
        client.post("/api/v1/chat.delete", headers=headers, json={"roomId": "GENERAL", "msgId": posted["_id"]})
        deleted = ddp.event("stream-notify-room")
        assert deleted["fields"] == {"eventName": "GENERAL/deleteMessage", "args": [{"_id": posted["_id"]}]}


def test_subscriptions_refused_as_the_server_does(client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        assert ddp.sub("stream-room-messages", "GENERAL", False)["error"]["error"] == "not-allowed"  # not logged in
        ddp.login("bob", "bob-password")
        assert ddp.sub("no-such-stream", "x")["error"]["reason"] == "Subscription 'no-such-stream' not found"
        assert ddp.sub("stream-room-messages", "", False)["error"]["error"] == "invalid-event-name"
        assert ddp.sub("stream-notify-user", f"{ALICE}/message", False)["error"]["error"] == "not-allowed"
        assert ddp.sub("stream-room-messages", "nowhere", False)["error"]["error"] == "not-allowed"
        assert ddp.sub("stream-notify-user", f"{BOB}/rooms-changed", True)["msg"] == "ready"  # useCollection: added first
        assert ddp.pending[-1:] == [
            {"msg": "added", "collection": "stream-notify-user", "id": "id", "fields": {"eventName": f"{BOB}/rooms-changed"}}
        ]


def test_no_subscription_is_left_after_disconnects(app: ChatMockApp, client: TestClient) -> None:
    for _ in range(3):
        with client.websocket_connect("/websocket") as ws:
            ddp = Ddp(ws)
            ddp.connect()
            ddp.login()
            for room in ("GENERAL", "__my_messages__"):
                ddp.sub("stream-room-messages", room, False)
            assert len(realtime(app).sessions) == 1
    hub = app.state.chatmock.hub
    assert realtime(app).sessions == set()
    assert hub.waiting == 0


def test_a_reset_closes_open_connections(app: ChatMockApp, client: TestClient) -> None:
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.connect()
        ddp.login()
        ddp.sub("stream-room-messages", "__my_messages__", False)
        app.state.chatmock.reset()
        assert ws.receive() == {"type": "websocket.close", "code": 1012, "reason": "the world was reset"}
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/nowhere"):
        pass


def test_strict_mode_turns_an_event_that_breaks_its_schema_into_an_error_frame(
    app: ChatMockApp, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    live = realtime(app)
    live.schemas = dataclasses.replace(live.schemas, events={key: Checker({"type": "string"}) for key in live.schemas.events})
    with client.websocket_connect("/websocket") as ws:
        ddp = Ddp(ws)
        ddp.strict_reports = True
        ddp.connect()
        ddp.login()
        ddp.sub("stream-room-messages", "GENERAL", False)
        ddp.result("sendMessage", {"rid": "GENERAL", "msg": "checked"})
        error = ddp.wait(lambda frame: frame.get("msg") == "error")
        assert error["reason"].startswith("chatmock strict mode: an event breaks its schema: ")
    assert "strict mode: a DDP stream-room-messages event breaks its schema" in caplog.text
    findings = app.state.chatmock.dispatcher.violations
    assert [finding["endpoint"] for finding in findings] == ["rocketchat.ddp.stream.stream-room-messages"]
    findings.clear()  # the fixture checks that nothing else was reported


def test_the_event_log_keeps_what_open_sessions_have_not_read_within_its_bound() -> None:
    cursors = [1]
    published: list[tuple[str, ...]] = []
    feed = Feed(lambda topics: published.append(tuple(topics)), lambda: iter(cursors))
    for number in range(SOFT_LIMIT + 10):
        feed.emit("stream-room-messages", "GENERAL", [number], ("rocketchat.room.GENERAL",))
    assert feed.after(1)[0].args == [0]  # the slowest session has read nothing: all kept
    cursors[0] = 1000
    for number in range(SOFT_LIMIT):
        feed.emit("stream-room-messages", "GENERAL", [number], ())
    assert feed.after(1000)[0].seq == 1000  # trimmed up to the slowest cursor, no further
    assert feed.base <= 1000
    for _ in range(HARD_LIMIT):
        feed.emit("stream-room-messages", "GENERAL", [], ())
    assert len(feed.events) <= HARD_LIMIT  # a session that lags this far loses the oldest
    assert published[0] == ("rocketchat.room.GENERAL",)


def test_a_socket_that_never_connects_is_closed(app: ChatMockApp, client: TestClient) -> None:
    realtime(app).connect_timeout = 0.05
    with client.websocket_connect("/websocket") as ws:
        assert ws.receive_json() == {"server_id": "0"}
        assert ws.receive() == {"type": "websocket.close", "code": 1000, "reason": "no connect message"}
    assert realtime(app).sessions == set()


def test_connections_on_several_event_loops_all_get_the_event(app: ChatMockApp) -> None:
    client = TestClient(app)  # not entered: each request and each WebSocket runs on its own event loop
    headers = rest_login(client)
    with client.websocket_connect("/websocket") as first_ws, client.websocket_connect("/websocket") as second_ws:
        listeners = [Ddp(first_ws), Ddp(second_ws)]
        for ddp in listeners:
            ddp.connect()
            ddp.login()
            assert ddp.sub("stream-room-messages", "GENERAL", False)["msg"] == "ready"
        client.post("/api/v1/chat.postMessage", headers=headers, json={"roomId": "GENERAL", "text": "to every loop"})
        assert [ddp.event()["fields"]["args"][0]["msg"] for ddp in listeners] == ["to every loop", "to every loop"]
    assert len(realtime(app).loops) == 0
