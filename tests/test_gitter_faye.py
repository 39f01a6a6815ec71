"""Gitter's Faye (Bayeux) realtime on ws.gitter.im: /bayeux and /faye, long-polling and WebSocket.

In-process: the protocol (handshake with ext.token, connect, subscribe with snapshots, the
Gitter channels, ping2, errors as Gitter's extensions word them) and deliveries: a message
posted over REST reaches every subscriber once, in order. Served: the ``faye`` npm client
(CHATMOCK_FAYE_MODULES, as .ci/run installs it) handshakes with the token, subscribes to a
room's chatMessages and receives a REST post, over long-polling and over WebSocket.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from gitter_world import ALICE_ID, ALICE_TOKEN, BOB_ID, BOB_ONLY, BOB_TOKEN, LOBBY, REPO
from mock_support import MockClient, assert_documented
from starlette.testclient import TestClient

from contract_tests.server import serve_in_thread
from mockserver.app import create_app
from mockserver.core.registry import load_registry

BAYEUX = "/ws/bayeux"
ENDPOINT = "gitter.faye.bayeux"
REGISTRY = load_registry()


@pytest.fixture
def client(mock_client: MockClient) -> TestClient:
    return mock_client("gitter", longpoll_timeout=0.3)


def bayeux(client: TestClient, *messages: dict[str, Any], path: str = BAYEUX) -> list[dict[str, Any]]:
    response = client.post(path, json=list(messages))
    replies: list[dict[str, Any]] = assert_documented("gitter.faye.faye" if path.endswith("/faye") else ENDPOINT, response, 200)
    return replies


def handshake(client: TestClient, token: str = ALICE_TOKEN, path: str = BAYEUX) -> str:
    reply = bayeux(
        client,
        {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"], "id": "1", "ext": {"token": token}},
        path=path,
    )[0]
    assert reply["successful"] is True, reply
    return str(reply["clientId"])


def subscribe(client: TestClient, client_id: str, channel: str, **ext: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel, "id": "s"}
    if ext:
        message["ext"] = ext
    return bayeux(client, message)[0]


def connect(client: TestClient, client_id: str) -> list[dict[str, Any]]:
    replies = bayeux(client, {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling", "id": "c"})
    assert replies[-1]["channel"] == "/meta/connect"
    assert replies[-1]["successful"] is True
    return replies[:-1]


def post(client: TestClient, room: str, text: str, token: str = BOB_TOKEN) -> dict[str, Any]:
    response = client.post(f"/v1/rooms/{room}/chatMessages", json={"text": text}, headers={"Authorization": f"Bearer {token}"})
    body: dict[str, Any] = assert_documented("gitter.rooms.chatMessages.create", response, 200)
    return body


# handshake -----------------------------------------------------------------------------------
def test_handshake_needs_a_token_in_ext(client: TestClient) -> None:
    reply = bayeux(client, {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]})[0]
    assert (reply["successful"], reply["error"]) == (False, "401::Access token required")
    wrong = bayeux(client, {"channel": "/meta/handshake", "version": "1.0", "ext": {"token": "nope"}})[0]
    assert wrong["error"] == "401::Invalid access token"
    good = bayeux(
        client,
        {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"], "ext": {"token": ALICE_TOKEN}},
    )[0]
    assert good["ext"]["userId"] == ALICE_ID
    assert "websocket" in good["supportedConnectionTypes"]
    assert good["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 300}


def test_an_unknown_client_is_told_to_handshake_again(client: TestClient) -> None:
    reply = bayeux(client, {"channel": "/meta/connect", "clientId": "gone", "connectionType": "long-polling"})[0]
    assert reply["error"] == "401:gone:Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"
    assert "clientId" not in reply


def test_faye_path_single_messages_and_bad_bodies(client: TestClient) -> None:
    """/faye answers like /bayeux; a body may be one message; what is no Bayeux message gets
    its own error reply with HTTP 200 (as Faye answers it), a body that is not JSON a 400."""
    assert handshake(client, path="/ws/faye")
    single = client.post(BAYEUX, json={"channel": "/meta/handshake", "version": "1.0", "ext": {"token": BOB_TOKEN}})
    assert assert_documented(ENDPOINT, single, 200)[0]["ext"]["userId"] == BOB_ID
    assert assert_documented(ENDPOINT, client.post(BAYEUX, json=[]), 200) == []
    odd = assert_documented(ENDPOINT, client.post(BAYEUX, json=[{"no": "channel"}, 7, {"channel": "/meta/bogus", "id": "b"}]), 200)
    assert [reply.get("error") for reply in odd] == ["405::Invalid channel", "405::Invalid channel", "403:/meta/bogus:Forbidden channel"]
    garbage = client.post(BAYEUX, content=b"{not json", headers={"Content-Type": "application/json"})
    assert "JSON" in assert_documented(ENDPOINT, garbage, 400)["error"]
    form = client.post(BAYEUX, data={"message": "[]"})
    assert "application/json" in assert_documented(ENDPOINT, form, 400)["error"]  # Faye reads forms too; the mock JSON only


# subscriptions -------------------------------------------------------------------------------
def test_subscribe_gives_a_snapshot_unless_told_not_to(client: TestClient) -> None:
    client_id = handshake(client)
    reply = subscribe(client, client_id, f"/api/v1/rooms/{REPO}/chatMessages")
    assert reply["successful"] is True
    texts = [item["text"] for item in reply["ext"]["snapshot"]]
    assert texts[0] == "Welcome to chatmock/chatmock!"
    limited = subscribe(client, client_id, f"/api/v1/rooms/{REPO}/chatMessages", snapshot={"limit": 1})
    assert [item["text"] for item in limited["ext"]["snapshot"]] == texts[-1:]
    assert "ext" not in subscribe(client, client_id, f"/api/v1/rooms/{REPO}/users", snapshot=False)
    users = subscribe(client, client_id, f"/api/v1/rooms/{REPO}/users")
    assert {user["username"] for user in users["ext"]["snapshot"]} == {"alice", "bob"}
    assert "ext" not in subscribe(client, client_id, f"/api/v1/rooms/{REPO}")  # the room itself: only when asked
    assert subscribe(client, client_id, f"/api/v1/rooms/{REPO}", snapshot=True)["ext"]["snapshot"][0]["id"] == REPO


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        (f"/api/v1/rooms/{BOB_ONLY}/chatMessages", "403::Authorisation denied."),  # bob's private room
        ("/api/v1/rooms/0123456789abcdef01234567/chatMessages", "403::Authorisation denied."),
        ("/api/v1/rooms/not_an_id/chatMessages", "400::Invalid ID: not_an_id"),
        (f"/api/v1/user/{BOB_ID}", "403::Authorisation denied."),
        ("/api/v1/elsewhere", "404::Unknown subscription /api/v1/elsewhere"),
    ],
)
def test_subscriptions_refused_as_gitter_words_them(client: TestClient, channel: str, error: str) -> None:
    reply = subscribe(client, handshake(client), channel)
    assert (reply["successful"], reply["error"], reply["subscription"]) == (False, error, channel)


def test_publish_only_to_ping2(client: TestClient) -> None:
    client_id = handshake(client)
    ping, other = bayeux(
        client,
        {"channel": "/api/v1/ping2", "clientId": client_id, "data": {"reason": "ping"}, "id": "p"},
        {"channel": f"/api/v1/rooms/{REPO}/chatMessages", "clientId": client_id, "data": {"text": "hi"}, "id": "q"},
    )
    assert (ping["successful"], ping["id"]) == (True, "p")
    assert (other["successful"], other["error"]) == (False, "403::Push access denied")


# deliveries ----------------------------------------------------------------------------------
def test_a_rest_post_reaches_every_subscriber_once_in_order(client: TestClient) -> None:
    alice, bob = handshake(client), handshake(client, BOB_TOKEN)
    channel = f"/api/v1/rooms/{REPO}/chatMessages"
    for client_id in (alice, bob):
        subscribe(client, client_id, channel, snapshot=False)
    sent = [post(client, REPO, f"realtime {number}")["id"] for number in range(3)]
    for client_id in (alice, bob):
        deliveries = connect(client, client_id)
        assert [item["channel"] for item in deliveries] == [channel] * 3
        assert [item["data"]["operation"] for item in deliveries] == ["create"] * 3
        assert [item["data"]["model"]["id"] for item in deliveries] == sent
        assert connect(client, client_id) == []  # once: the next connect waits out its timeout with nothing
    alice_view = connect_after_post(client, alice, channel)
    assert alice_view["data"]["model"]["unread"] is True  # rendered for the subscriber: bob's message is unread for alice


def connect_after_post(client: TestClient, client_id: str, channel: str) -> dict[str, Any]:
    post(client, REPO, "one more")
    (delivery,) = connect(client, client_id)
    assert delivery["channel"] == channel
    return delivery


def test_edits_users_events_and_the_user_channel(client: TestClient) -> None:
    alice = handshake(client)
    for collection in ("chatMessages", "events", "users"):
        subscribe(client, alice, f"/api/v1/rooms/{LOBBY}/{collection}", snapshot=False)
    subscribe(client, alice, f"/api/v1/user/{ALICE_ID}")
    subscribe(client, alice, f"/api/v1/user/{ALICE_ID}/rooms")
    joined = client.post("/v1/rooms", json={"uri": "chatmock/lobby"}, headers={"Authorization": f"Bearer {ALICE_TOKEN}"})
    assert joined.status_code == 200
    message = post(client, LOBBY, "in the lobby")
    edited = client.put(
        f"/v1/rooms/{LOBBY}/chatMessages/{message['id']}", json={"text": "edited"}, headers={"Authorization": f"Bearer {BOB_TOKEN}"}
    )
    assert edited.status_code == 200
    deliveries = connect(client, alice)
    by_channel: dict[str, list[Any]] = {}
    for item in deliveries:
        by_channel.setdefault(item["channel"], []).append(item["data"])
    assert [(data["operation"], data["model"]["username"]) for data in by_channel[f"/api/v1/rooms/{LOBBY}/users"]] == [("create", "alice")]
    assert [(data["operation"], data["model"]["text"]) for data in by_channel[f"/api/v1/rooms/{LOBBY}/chatMessages"]] == [
        ("create", "in the lobby"),
        ("update", "edited"),
    ]
    assert [data["operation"] for data in by_channel[f"/api/v1/rooms/{LOBBY}/events"]] == ["create", "create", "update"]
    unread = [data for data in by_channel[f"/api/v1/user/{ALICE_ID}"] if data["notification"] == "troupe_unread"]
    assert unread == [{"notification": "troupe_unread", "troupeId": LOBBY, "totalUnreadItems": 1, "DEPRECATED": True}]
    assert by_channel[f"/api/v1/user/{ALICE_ID}/rooms"] == [{"operation": "patch", "model": {"id": LOBBY, "unreadItems": 1, "mentions": 0}}]


def test_leaving_a_private_room_ends_its_subscriptions() -> None:
    from mock_support import default_world

    world = default_world("gitter")
    private = next(room for room in world["rooms"] if room.get("uri") == "bob/private")
    private["members"] = ["alice", "bob"]
    app = create_app(["gitter"], strict=True, longpoll_timeout=0.3, seed={"gitter": world})
    with TestClient(app) as client:
        alice = handshake(client)
        subscribe(client, alice, f"/api/v1/rooms/{BOB_ONLY}/chatMessages", snapshot=False)
        left = client.delete(f"/v1/rooms/{BOB_ONLY}/users/{ALICE_ID}", headers={"Authorization": f"Bearer {ALICE_TOKEN}"})
        assert left.status_code == 200
        post(client, BOB_ONLY, "after alice left")
        assert connect(client, alice) == []


# the WebSocket transport -------------------------------------------------------------------
def test_websocket_transport(client: TestClient) -> None:
    with client.websocket_connect(BAYEUX) as socket:
        socket.send_text(json.dumps([{"channel": "/meta/handshake", "version": "1.0", "ext": {"token": ALICE_TOKEN}, "id": "1"}]))
        (shaken,) = json.loads(socket.receive_text())
        client_id = shaken["clientId"]
        channel = f"/api/v1/rooms/{REPO}/chatMessages"
        socket.send_text(
            json.dumps([{"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel, "ext": {"snapshot": False}}])
        )
        (subscribed,) = json.loads(socket.receive_text())
        assert subscribed["successful"] is True
        socket.send_text(json.dumps([{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket", "id": "c"}]))
        sent = post(client, REPO, "over the socket")
        frame = json.loads(socket.receive_text())
        assert [item["channel"] for item in frame] == [channel, "/meta/connect"]
        assert frame[0]["data"]["model"]["id"] == sent["id"]
        assert REGISTRY.response_errors(ENDPOINT, 200, frame) == []
        socket.send_text("not json")
        assert json.loads(socket.receive_text())[0]["error"].startswith("400::Bad request")


# the faye npm client -----------------------------------------------------------------------
FAYE_SCRIPT = r"""
const faye = require('faye');
const url = process.env.FAYE_URL, token = process.env.GITTER_TOKEN, room = process.env.ROOM_ID;
const client = new faye.Client(url, {timeout: 5, retry: 1});
if (process.env.FAYE_DISABLE) client.disable(process.env.FAYE_DISABLE);
client.addExtension({outgoing(message, callback) {
  if (message.channel === '/meta/handshake') { message.ext = message.ext || {}; message.ext.token = token; }
  callback(message);
}});
let snapshot = null;
client.addExtension({incoming(message, callback) {
  if (message.channel === '/meta/subscribe' && message.ext && message.ext.snapshot) snapshot = message.ext.snapshot.length;
  callback(message);
}});
const timer = setTimeout(() => { process.stderr.write('no message within 20 s'); process.exit(2); }, 20000);
const subscription = client.subscribe('/api/v1/rooms/' + room + '/chatMessages', (data) => {
  clearTimeout(timer);
  process.stdout.write('CHATMOCK-RESULT ' + JSON.stringify({data, snapshot, transport: client._dispatcher._transport && client._dispatcher._transport.connectionType}) + '\n');
  client.disconnect();
  setTimeout(() => process.exit(0), 200);
});
subscription.then(() => process.stdout.write('SUBSCRIBED\n'), (error) => { process.stderr.write('subscribe failed: ' + JSON.stringify(error)); process.exit(1); });
"""


def faye_modules() -> Path | None:
    """The node_modules holding faye: CHATMOCK_FAYE_MODULES (.ci/run), CHATMOCK_NODE_MODULES, or <repo>/node_modules."""
    for name in ("CHATMOCK_FAYE_MODULES", "CHATMOCK_NODE_MODULES"):
        if os.environ.get(name) and (Path(os.environ[name]) / "faye" / "package.json").is_file():
            return Path(os.environ[name])
    root = Path(__file__).resolve().parent.parent / "node_modules"
    return root if (root / "faye" / "package.json").is_file() else None


@pytest.mark.parametrize("disable", ["websocket", ""], ids=["long-polling", "websocket"])
def test_the_faye_npm_client_receives_a_rest_post(disable: str) -> None:
    modules = faye_modules()
    if shutil.which("node") is None or modules is None:
        pytest.skip("the faye npm package is not installed for node (.ci/run installs it; see tests/test_gitter_faye.py faye_modules)")
    app = create_app(["gitter"], longpoll_timeout=1.0)  # the first connect is held: subscribe's reply comes with it
    with serve_in_thread(app) as server:
        env = {
            **os.environ,
            "NODE_PATH": str(modules),
            "FAYE_URL": f"{server.url}{BAYEUX}",
            "GITTER_TOKEN": ALICE_TOKEN,
            "ROOM_ID": REPO,
            "FAYE_DISABLE": disable,
        }
        node = subprocess.Popen(["node", "-e", FAYE_SCRIPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert node.stdout is not None
            line = node.stdout.readline()
            assert line.strip() == "SUBSCRIBED", (line, node.stderr.read() if node.poll() is not None and node.stderr else "")
            sent = httpx.post(
                f"{server.url}/v1/rooms/{REPO}/chatMessages",
                json={"text": "to the faye client"},
                headers={"Authorization": f"Bearer {BOB_TOKEN}"},
                timeout=5,
            ).json()
            out, err = node.communicate(timeout=30)
        finally:
            if node.poll() is None:
                node.kill()
                node.communicate()
    assert node.returncode == 0, err
    result = json.loads(next(line for line in out.splitlines() if line.startswith("CHATMOCK-RESULT ")).removeprefix("CHATMOCK-RESULT "))
    assert result["data"]["operation"] == "create"
    assert result["data"]["model"]["id"] == sent["id"]
    assert result["data"]["model"]["text"] == "to the faye client"
    assert result["snapshot"] >= 3  # the room's messages came with the subscribe reply
    assert result["transport"] == ("long-polling" if disable else "websocket")


def test_the_handshake_token_stays_out_of_the_journal(client: TestClient) -> None:
    handshake(client, BOB_TOKEN)
    journal = client.get("/__chatmock/journal")
    assert journal.status_code == 200, journal.text
    assert "/ws/bayeux" in journal.text
    assert BOB_TOKEN not in journal.text


def test_served_on_the_ws_gitter_im_host_and_under_the_prefix() -> None:
    shake = [{"channel": "/meta/handshake", "version": "1.0", "ext": {"token": ALICE_TOKEN}}]
    with TestClient(create_app(["gitter"], strict=True, longpoll_timeout=0.3)) as alone:
        by_host = alone.post("/bayeux", json=shake, headers={"Host": "ws.gitter.im"})
        assert assert_documented(ENDPOINT, by_host, 200)[0]["successful"] is True
        with alone.websocket_connect("/faye", headers={"Host": "ws.gitter.im"}) as socket:
            socket.send_text(json.dumps(shake))
            assert json.loads(socket.receive_text())[0]["ext"]["userId"] == ALICE_ID
    with TestClient(create_app(strict=True, longpoll_timeout=0.3)) as combined:
        assert assert_documented(ENDPOINT, combined.post("/gitter/ws/bayeux", json=shake), 200)[0]["successful"] is True


def test_a_reset_closes_the_sockets_and_forgets_the_clients(client: TestClient) -> None:
    client_id = handshake(client)
    with client.websocket_connect(BAYEUX) as socket:
        socket.send_text(json.dumps([{"channel": "/meta/handshake", "version": "1.0", "ext": {"token": ALICE_TOKEN}}]))
        socket.receive_text()
        assert client.post("/__chatmock/reset").status_code == 200
        closed = socket.receive()
        assert closed["type"] == "websocket.close"
    reply = bayeux(client, {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"})[0]
    assert reply["error"] == f"401:{client_id}:Unknown client"


def test_strict_mode_checks_each_socket_frame(client: TestClient) -> None:
    """A frame that breaks BayeuxReply is not sent: an error reply and a log line instead."""
    with client.websocket_connect(BAYEUX) as socket:
        socket.send_text(json.dumps([{"channel": "/meta/handshake", "version": "1.0", "ext": {"token": ALICE_TOKEN}}]))
        client_id = json.loads(socket.receive_text())[0]["clientId"]
        realtime = client.app.state.chatmock.modules["gitter"].realtime  # type: ignore[attr-defined]
        realtime.clients[client_id].queue.append({"channel": "/api/v1/ping", "data": {"operation": "explode"}})
        socket.send_text(json.dumps([{"channel": "/meta/connect", "clientId": client_id, "connectionType": "websocket"}]))
        (refused,) = json.loads(socket.receive_text())
        assert refused["successful"] is False
        assert refused["error"].startswith("500::chatmock strict mode:")
