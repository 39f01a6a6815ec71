"""Slow clients are timed out (issue 12): a request head that does not arrive within the read
timeout closes the connection (uvicorn times out neither a slow head nor an idle new
connection), and a complete request in time is answered as usual."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import uvicorn

from mockserver import create_app
from mockserver.background import bind, free_port, head_limited_httptools, uvicorn_config
from mockserver.serve import run_loop

pytest.importorskip("httptools", reason="the head deadline is built on uvicorn's httptools protocol")


@pytest.fixture
def port() -> Iterator[int]:
    import threading

    port = free_port()
    sock = bind("127.0.0.1", port)
    server = uvicorn.Server(uvicorn_config(create_app(["lingr"]), "127.0.0.1", port, head_timeout=0.5))
    thread = threading.Thread(target=lambda: run_loop(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def closed_within(connection: socket.socket, seconds: float) -> bool:
    connection.settimeout(seconds)
    try:
        return connection.recv(100) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def read_response(connection: socket.socket) -> bytes:
    """One whole response (head and Content-Length body)."""
    connection.settimeout(3)
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(4096)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += connection.recv(4096)
    return head + b"\r\n\r\n" + body


def test_a_slow_request_head_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /api/session/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        for _ in range(3):  # keeps trickling: the deadline is for the whole head, not per read
            time.sleep(0.2)
            connection.sendall(b"a")
        assert closed_within(connection, 3)
        assert time.monotonic() - started < 3


def test_an_idle_new_connection_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        assert closed_within(connection, 3)


def test_a_request_in_time_is_answered_and_the_connection_kept(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        for _ in range(2):
            connection.sendall(b"GET /api/session/verify?session=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_response(connection).startswith(b"HTTP/1.1 200")
            time.sleep(0.7)  # longer than the head deadline, shorter than uvicorn's keep-alive


def test_the_deadline_is_a_protocol_setting() -> None:
    protocol = head_limited_httptools(1024, 2.5)
    assert protocol is not None
    assert protocol.head_timeout == 2.5  # type: ignore[attr-defined]


def test_a_slow_head_after_an_answered_request_is_cut_off(port: int) -> None:
    """The deadline follows each head on a kept connection, not only the first one."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /api/session/verify?session=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(connection).startswith(b"HTTP/1.1 200")
        connection.sendall(b"GET /api/session/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        time.sleep(0.1)
        connection.sendall(b"a")  # then silence: the head never completes
        assert closed_within(connection, 3)
        assert time.monotonic() - started < 3


def test_a_body_in_many_reads_is_not_counted_as_a_head(port: int) -> None:
    """Reads of a request body never count toward the head limit, however many arrive."""
    body = b"message=" + b"x" * 200_000
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            b"POST /api/room/say HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        for start in range(0, len(body), 16_384):
            connection.sendall(body[start : start + 16_384])
        assert not read_response(connection).startswith(b"HTTP/1.1 431")
