"""The realtime API over a real socket (uvicorn, as ``chatmock serve`` runs it): clients that
vanish mid-subscription, floods of subscriptions and frames, a huge frame, a reset: the server's
error frames or a clean close, nothing in the server's log, no session, subscription or hub
waiter left behind. Also the routes: the prefix (several APIs) and a Rocket.Chat Host."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mockserver.app import ChatMockApp, create_app
from mockserver.background import serve_in_thread


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[Records]:
    """Warnings and errors of chatmock's and uvicorn's loggers (uvicorn's do not propagate)."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("chatmock", "uvicorn", "uvicorn.error", "uvicorn.asgi")]
    for item in loggers:
        item.addHandler(handler)
    yield handler
    for item in loggers:
        item.removeHandler(handler)


@pytest.fixture
def served() -> Iterator[tuple[ChatMockApp, str]]:
    app = create_app(["rocketchat"], strict=True, body_limit=64 * 1024)
    with serve_in_thread(app) as server:
        yield app, server.url.replace("http://", "ws://") + "/websocket"
    assert app.state.chatmock.dispatcher.violations == []


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as opened:
        yield opened


def ddp(stack: contextlib.ExitStack, url: str) -> ClientConnection:
    socket = stack.enter_context(connect(url, open_timeout=5))
    assert json.loads(socket.recv(timeout=5)) == {"server_id": "0"}
    socket.send(json.dumps({"msg": "connect", "version": "1", "support": ["1"]}))
    assert json.loads(socket.recv(timeout=5))["msg"] == "connected"
    socket.send(json.dumps({"msg": "method", "method": "login", "id": "l", "params": [{"resume": "rc-pat-bob"}]}))
    return socket


def until(frames: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(frames.recv(timeout=5))
        if wanted(frame):
            return frame


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_vanished_clients_leave_no_session_subscription_or_waiter(
    served: tuple[ChatMockApp, str], logged: Records, stack: contextlib.ExitStack
) -> None:
    app, url = served
    realtime = app.state.chatmock.modules["rocketchat"].realtime
    sockets = []
    for index in range(20):
        socket = ddp(stack, url)
        for number, room in enumerate(("GENERAL", "__my_messages__")):
            socket.send(json.dumps({"msg": "sub", "id": f"{index}-{number}", "name": "stream-room-messages", "params": [room, False]}))
        until(socket, lambda frame: frame.get("msg") == "ready" and frame["subs"][0].endswith("-1"))
        sockets.append(socket)
    assert len(realtime.sessions) == 20
    for socket in sockets[:10]:
        socket.socket.close()  # vanish: no close frame, the TCP connection just ends
    for socket in sockets[10:]:
        socket.close()
    assert eventually(lambda: not realtime.sessions)
    assert eventually(lambda: app.state.chatmock.hub.waiting == 0)
    assert realtime.loops == {}
    headers = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
    posted = httpx.post(
        url.replace("ws://", "http://").removesuffix("/websocket") + "/api/v1/chat.postMessage",
        headers=headers,
        json={"roomId": "GENERAL", "text": "nobody listens"},
    )
    assert posted.status_code == 200
    assert logged.records == []


def test_floods_get_error_frames_and_the_connection_lives(
    served: tuple[ChatMockApp, str], logged: Records, stack: contextlib.ExitStack
) -> None:
    app, url = served
    realtime = app.state.chatmock.modules["rocketchat"].realtime
    socket = ddp(stack, url)
    limit = realtime.max_subs
    for index in range(limit + 20):
        socket.send(json.dumps({"msg": "sub", "id": f"s{index}", "name": "stream-room-messages", "params": ["GENERAL", False]}))
    answers = [until(socket, lambda frame: frame.get("msg") in ("ready", "nosub")) for _ in range(limit + 20)]
    assert sum(frame["msg"] == "ready" for frame in answers) == limit
    refused = [frame for frame in answers if frame["msg"] == "nosub"]
    assert len(refused) == 20
    assert refused[0]["error"]["error"] == "too-many-requests"
    for index in range(limit):
        socket.send(json.dumps({"msg": "unsub", "id": f"s{index}"}))
    assert [until(socket, lambda frame: frame.get("msg") == "nosub")["id"] for _ in range(limit)][-1] == f"s{limit - 1}"
    (session,) = realtime.sessions
    assert session.subs == {}
    assert session.index == {}
    for index in range(2000):
        socket.send("{" if index % 2 else json.dumps({"msg": "ping", "id": str(index)}))
    replies = [json.loads(socket.recv(timeout=5)) for _ in range(2000)]
    assert sum(frame == {"msg": "error", "reason": "Bad request"} for frame in replies) == 1000
    assert replies[-2] == {"msg": "pong", "id": "1998"}
    socket.close()
    assert eventually(lambda: app.state.chatmock.hub.waiting == 0)
    assert logged.records == []


def test_a_huge_frame_closes_cleanly(served: tuple[ChatMockApp, str], logged: Records, stack: contextlib.ExitStack) -> None:
    _, url = served
    socket = ddp(stack, url)
    socket.send(json.dumps({"msg": "ping", "id": "x" * 100_000}))
    with pytest.raises(ConnectionClosed) as closed:
        until(socket, lambda frame: False)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    assert logged.records == []


def test_a_reset_over_the_admin_api_closes_connections_and_the_new_world_serves(
    served: tuple[ChatMockApp, str], logged: Records, stack: contextlib.ExitStack
) -> None:
    _, url = served
    socket = ddp(stack, url)
    socket.send(json.dumps({"msg": "sub", "id": "s", "name": "stream-room-messages", "params": ["__my_messages__", False]}))
    until(socket, lambda frame: frame.get("msg") == "ready")
    assert httpx.post(url.replace("ws://", "http://").removesuffix("/websocket") + "/__chatmock/reset").status_code == 200
    with pytest.raises(ConnectionClosed) as closed:
        until(socket, lambda frame: False)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1012
    again = ddp(stack, url)
    assert until(again, lambda frame: frame.get("msg") == "result")["result"]["id"] == "boBy4Nq8HsK2dYe6T"
    again.close()
    assert logged.records == []


def test_the_socket_is_served_under_the_prefix_and_by_host() -> None:
    app = create_app(["rocketchat", "lingr"], rocketchat_host="chat.example.org")
    with TestClient(app) as client:
        for path, headers in (("/rocketchat/websocket", {}), ("/websocket", {"Host": "chat.example.org"})):
            with client.websocket_connect(path, headers=headers) as ws:
                assert ws.receive_json() == {"server_id": "0"}
