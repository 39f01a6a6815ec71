"""core/sockets.py and the socket hook: an API declares a WebSocket endpoint with
``@serves_socket(server, path)`` (checked at creation); the app routes a WebSocket by the same
Host and prefix rules as HTTP to it, refuses every other path before accepting, bounds frames,
and closes cleanly when a handler fails or the client vanishes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from test_core_apibase import ALL, ToyBase, make, with_handlers

from mockserver.app import ChatMockApp, create_app
from mockserver.core.apibase import serves_socket
from mockserver.core.call import Socket


async def echo(socket: Socket) -> None:
    while (frame := await socket.receive()) is not None:
        await socket.send(frame if isinstance(frame, str) else b"binary:" + frame)


async def broken(socket: Socket) -> None:
    await socket.receive()
    raise ValueError("a bug in a socket handler")


def app_with(apis: list[str], handlers: dict[tuple[str, str], Any], **options: Any) -> ChatMockApp:
    app = create_app(apis, **options)
    app.state.chatmock.modules["lingr"].sockets = handlers
    return app


def test_a_declared_socket_is_served_at_the_root_and_under_the_prefix() -> None:
    with TestClient(app_with(["lingr"], {("rest", "/echo"): echo})) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"binary:\x00\x01"
    with TestClient(app_with(["lingr", "bocco"], {("rest", "/echo"): echo})) as client, client.websocket_connect("/lingr/echo") as ws:
        ws.send_text("prefixed")
        assert ws.receive_text() == "prefixed"


def test_a_socket_is_routed_by_host_too() -> None:
    app = app_with(["lingr", "bocco"], {("rest", "/echo"): echo})
    with TestClient(app) as client, client.websocket_connect("/echo", headers={"Host": "lingr.com"}) as ws:
        ws.send_text("by host")
        assert ws.receive_text() == "by host"


@pytest.mark.parametrize("path", ["/nothing", "/lingr/nothing", "/__chatmock/journal", "/bocco/echo"])
def test_a_path_no_api_serves_is_refused_before_accept(path: str) -> None:
    app = app_with(["lingr", "bocco"], {("rest", "/echo"): echo})
    with TestClient(app) as client, pytest.raises(WebSocketDisconnect), client.websocket_connect(path):
        pass


def test_a_frame_over_the_body_limit_closes_with_1009() -> None:
    app = app_with(["lingr"], {("rest", "/echo"): echo}, body_limit=1000)
    with TestClient(app) as client, client.websocket_connect("/echo") as ws:
        ws.send_text("x" * 1000)
        assert len(ws.receive_text()) == 1000
        ws.send_text("x" * 1001)
        closing = ws.receive()
        assert closing == {"type": "websocket.close", "code": 1009, "reason": "message too big"}


def test_a_failing_handler_closes_with_1011_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    app = app_with(["lingr"], {("rest", "/bug"): broken})
    with caplog.at_level(logging.ERROR), TestClient(app) as client, client.websocket_connect("/bug") as ws:
        ws.send_text("go")
        assert ws.receive() == {"type": "websocket.close", "code": 1011, "reason": "internal error"}
    [record] = [record for record in caplog.records if record.name == "chatmock"]
    assert "ValueError: a bug in a socket handler" in record.getMessage()
    assert record.exc_info is None


def test_a_vanished_client_makes_send_false_and_receive_none() -> None:
    async def gone_receive() -> dict[str, Any]:
        raise OSError("connection reset")

    async def gone_send(message: Any) -> None:
        raise OSError("connection reset")

    async def run() -> None:
        socket = Socket(gone_receive, gone_send, path="/", query="", headers={}, client="", limit=10)
        assert await socket.send("x") is False
        assert socket.closed
        assert await socket.receive() is None
        await socket.close()  # nothing raised

    asyncio.run(run())


# declaration --------------------------------------------------------------------------------------
class Sockets(with_handlers(ToyBase, ALL)):  # type: ignore[misc]
    @serves_socket("rest", "/websocket")
    async def websocket(self, socket: Socket) -> None:
        await socket.close()


def test_declared_sockets_are_collected_by_server_and_path() -> None:
    api = make(Sockets)
    assert list(api.sockets) == [("rest", "/websocket")]
    assert make(with_handlers(ToyBase, ALL)).sockets == {}


def test_a_socket_on_an_unknown_server_is_refused() -> None:
    class Wrong(Sockets):
        @serves_socket("nowhere", "/x")
        async def other(self, socket: Socket) -> None:
            return None

    with pytest.raises(RuntimeError, match=r"Wrong.other serves a socket on server 'nowhere'; lingr has observe, rest"):
        make(Wrong)


def test_a_relative_path_and_two_handlers_for_one_path_are_refused() -> None:
    class Relative(Sockets):
        @serves_socket("rest", "x")
        async def other(self, socket: Socket) -> None:
            return None

    class Twice(Sockets):
        @serves_socket("rest", "/websocket")
        async def again(self, socket: Socket) -> None:
            return None

    with pytest.raises(RuntimeError, match="a path starts with /"):
        make(Relative)
    with pytest.raises(RuntimeError, match="two socket handlers for rest /websocket"):
        make(Twice)


def test_served_websocket_frames_are_bounded_by_uvicorn_near_the_body_limit() -> None:
    """uvicorn stops reading a frame past four times the body limit (the most UTF-8 takes for
    that many characters), not at its own 16 MiB: a hostile frame is never read whole."""
    from mockserver.background import WS_MAX_SIZE, uvicorn_config

    app = create_app(["rocketchat"])
    assert uvicorn_config(app, "127.0.0.1", 8000, frame_limit=1000).ws_max_size == 4000
    assert uvicorn_config(app, "127.0.0.1", 8000).ws_max_size == WS_MAX_SIZE


def test_chatmock_serve_bounds_frames_by_its_body_limit() -> None:
    """``chatmock serve --body-limit 1000``: a 3,000-character frame is refused by the mock (its
    limit), a 5,000-byte one by uvicorn before it is read whole (four times the limit)."""
    import subprocess
    import sys
    import time

    import httpx
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from mockserver.background import free_port

    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--api", "rocketchat", "--body-limit", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/__chatmock/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "chatmock serve exited"
                assert time.monotonic() < deadline, "chatmock serve did not come up"
                time.sleep(0.1)
        reasons: dict[int, str] = {}
        for size in (3000, 5000):
            with connect(f"ws://127.0.0.1:{port}/websocket") as socket:
                socket.recv(timeout=5)  # {"server_id": "0"}
                socket.send("x" * size)
                with pytest.raises(ConnectionClosed) as closed:
                    socket.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009
            reasons[size] = closed.value.rcvd.reason
        assert reasons[3000] == "message too big"  # core.call.Socket
        assert "4000 bytes" in reasons[5000]  # uvicorn's own bound
    finally:
        process.terminate()
        process.wait(timeout=10)
