"""``chatmock serve --log`` (``-v``): one line per request as it finishes, secrets redacted."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import httpx
import pytest

from mockserver.background import free_port
from mockserver.cli import build_parser
from mockserver.core.journal import Entry
from mockserver.serve import _core_options, add_command, log_line

# time, API, method, path, status, endpoint id, duration, violations
LINE = re.compile(
    r"^(?P<time>\d\d:\d\d:\d\d\.\d{3}) (?P<api>\S+) +(?P<method>[A-Z]+) +(?P<target>\S+) (?P<status>\d{3}) "
    r"(?P<endpoint>\S+) (?P<ms>\d+\.\d)ms (?P<violations>\d+) violations?$"
)


class Served:
    """``chatmock serve`` in a child process, its stdout read line by line as it comes."""

    def __init__(self, *argv: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(self.port), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/__chatmock/health", timeout=1)
                return
            except httpx.TransportError:
                assert self.process.poll() is None, self.process.communicate()
                assert time.monotonic() < deadline, "chatmock serve did not come up"
                time.sleep(0.05)

    def next_line(self, containing: str, timeout: float = 10) -> str:
        """The next stdout line containing ``containing``, while the server still runs."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            self.seen.append(line)
            if containing in line:
                return line

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=15)
        self._reader.join(timeout=5)  # stdout is read to its end by the reader alone
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        self.process.stderr.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "\n".join(self.seen) + err


@pytest.fixture
def logged() -> Iterator[Served]:
    served = Served("--log")
    try:
        served.wait_ready()
        yield served
    finally:
        if served.process.poll() is None:
            served.stop()


def test_each_request_is_one_line_as_it_happens_and_secrets_are_not_printed(logged: Served) -> None:
    login = httpx.post(f"{logged.url}/lingr/api/session/create", data={"user": "alice", "password": "alice-password"})
    session = login.json()["session"]
    line = logged.next_line("lingr.session.create")
    found = LINE.match(line)
    assert found, line
    assert found["api"] == "lingr"
    assert found["method"] == "POST"
    assert found["target"] == "/lingr/api/session/create"
    assert (found["status"], found["endpoint"], found["violations"]) == ("200", "lingr.session.create", "0")

    token = "gitter-token-alice"
    rooms = httpx.get(f"{logged.url}/gitter/v1/rooms", params={"access_token": token, "page": "1"})
    assert rooms.status_code == 200
    line = logged.next_line("gitter.rooms.list")
    assert "/gitter/v1/rooms?access_token=[REDACTED]&page=1 200 gitter.rooms.list" in line

    httpx.get(f"{logged.url}/lingr/api/session/verify", params={"session": session})
    assert "?session=[REDACTED] 200 lingr.session.verify" in logged.next_line("lingr.session.verify")

    httpx.get(f"{logged.url}/nowhere%0A200%20forged%20line")  # the server decodes the path
    line = logged.next_line("/nowhere")
    assert "\\x0a200 forged line 404 - " in line, "a path cannot start a line of its own"

    output = logged.stop()
    assert "chatmock stopped" in output
    requests = output.split("\nadmin API: ", 1)[1]  # after the banner, which prints the default credentials
    assert "lingr.session.create" in requests
    for secret in (token, session, "alice-password"):
        assert secret not in requests


def test_without_log_nothing_is_printed_per_request() -> None:
    served = Served()
    try:
        served.wait_ready()
        httpx.post(f"{served.url}/lingr/api/session/create", data={"user": "alice", "password": "alice-password"})
    finally:
        output = served.stop()
    assert "lingr.session.create" not in output


def test_no_hook_without_the_flag_and_one_with_either_spelling() -> None:
    def options(*argv: str) -> dict[str, Any]:
        return _core_options(build_parser([add_command]).parse_args(["serve", *argv]))

    assert "on_exchange" not in options()  # zero cost: the dispatcher builds no entry for it
    assert callable(options("--log")["on_exchange"])
    assert callable(options("-v")["on_exchange"])


def test_log_line_fields() -> None:
    entry = Entry(
        time=time.mktime((2026, 11, 30, 12, 34, 56, 0, 0, -1)) + 0.789,
        method="GET",
        path="/rocketchat/api/v1/rooms.get",
        raw_query=b"X-Auth-Token=rc-pat-alice&updatedSince=2026&api_key=k3y&secret_thing=s",
        raw_headers=[(b"x-auth-token", b"rc-pat-alice")],
        params=None,
        status=500,
        endpoint="rocketchat.rooms.get",
        response=b"{}",
        violations=["$.update: required"],
        api="rocketchat",
        duration=0.01234,
    )
    line = log_line(entry)
    assert line == (
        "12:34:56.789 rocketchat GET    /rocketchat/api/v1/rooms.get?X-Auth-Token=[REDACTED]&updatedSince=2026"
        "&api_key=[REDACTED]&secret_thing=[REDACTED] 500 rocketchat.rooms.get 12.3ms 1 violation"
    )
    assert LINE.match(line)


def test_log_line_of_a_path_no_api_serves() -> None:
    entry = Entry(
        time=0.0, method="GET", path="/x\r\ny", raw_query=b"", raw_headers=[], params=None, status=404, endpoint=None, response=b""
    )
    line = log_line(entry)
    assert "\n" not in line
    assert " - " in line
    assert "/x\\x0d\\x0ay 404 - " in line
