"""A long session with hostile requests leaves the server's memory bounded (issue 12): 30
requests with a 20 MB header, then 15 reads of a 100 MB page, against a served mock. Before
the journal was bounded in bytes these took the process from ~130 to ~740 MB and ~1,700 MB.

The documented bound (README, "Limits and hardening"): after the page reads, the server's RSS
is within 100 MB of what it was once the messages were stored (they are kept by design)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.background import free_port

RC_AUTH = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
MB = 1024 * 1024
BOUND = 100 * MB


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--api", "rocketchat", "--journal-size", "500"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/__chatmock/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("chatmock serve did not start")
    try:
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=10)


def send_big_header(port: int) -> bytes:
    """One request whose header value is 20 MB, sent raw (clients refuse to build such a header)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        head = b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # answered (431) and closed early
            connection.sendall(head + b"v" * (20 * MB) + b"\r\nConnection: close\r\n\r\n")
        try:
            return connection.recv(200)
        except ConnectionResetError:
            return b""


def test_big_headers_and_big_pages_leave_memory_bounded(served: tuple[subprocess.Popen[bytes], str]) -> None:
    server, base = served
    port = int(base.rsplit(":", 1)[1])
    with httpx.Client(base_url=base, headers=RC_AUTH, timeout=60) as client:
        client.get("/api/v1/me").raise_for_status()
        before_headers = rss(server.pid)
        answers = [send_big_header(port) for _ in range(30)]
        assert all(not answer or answer.startswith(b"HTTP/1.1 431") for answer in answers), answers[:1]
        assert rss(server.pid) - before_headers < BOUND
        text = "x" * (MB - 512)
        for _ in range(100):  # 100 messages of ~1 MB: a page of 100 is ~100 MB
            client.post("/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": text}).raise_for_status()
        stored = rss(server.pid)
        for _ in range(15):
            page = client.get("/api/v1/channels.history", params={"roomId": "GENERAL", "count": "100"})
            assert page.status_code == 200
            assert len(page.content) > 95 * MB
        assert rss(server.pid) - stored < BOUND
        assert client.get("/__chatmock/health").status_code == 200
