"""Long-poll capacity: N Lingr observers held at once (one pre-made session each, subscribed to
``lounge``), the server's RSS per held connection, and the time from one ``room/say`` until
every observer has read its answer.

A minimal HTTP/1.1 client: asyncio streams for set-up calls, one asyncio protocol per observer
connection; every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from dataclasses import dataclass
from typing import Any

from bench.calls import LINGR_ROOM, LINGR_SESSION, observer_session
from bench.servers import HOST, Process

SUBSCRIBE_WORKERS = 64


@dataclass(frozen=True)
class LongPollResult:
    observers: int
    held: int  # what /__chatmock/waiters reported before the post
    rss_before_kb: int
    rss_after_kb: int
    hold_seconds: float  # connecting and sending N observes until all are held
    fanout_seconds: float  # room/say sent -> the last observer has its answer
    delivered: int  # observers whose answer carried the posted message

    @property
    def kb_per_connection(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / max(1, self.observers)


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft open-file limit (children inherit it) towards ``wanted``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _request(method: str, path: str, port: int, body: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    if body:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n" + body).encode()


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return await reader.readexactly(length)


async def _exchange(port: int, requests: list[tuple[str, str, str]], timeout: float) -> list[bytes]:
    """Several requests over one keep-alive connection."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        answers = []
        for method, path, body in requests:
            writer.write(_request(method, path, port, body))
            answers.append(await asyncio.wait_for(_read_response(reader), timeout))
        return answers
    finally:
        writer.close()


async def _subscribe_all(port: int, count: int, timeout: float) -> int:
    """Subscribe every observer session to the room; the event counter afterwards."""
    sessions = [observer_session(index) for index in range(count)]
    chunks = [sessions[start::SUBSCRIBE_WORKERS] for start in range(SUBSCRIBE_WORKERS)]
    jobs = [
        _exchange(port, [("POST", "/lingr/api/room/subscribe", f"session={session}&room={LINGR_ROOM}") for session in chunk], timeout)
        for chunk in chunks
        if chunk
    ]
    answers = [answer for group in await asyncio.gather(*jobs) for answer in group]
    counters = [json.loads(answer).get("counter") for answer in answers]
    if len(counters) != count or any(not isinstance(counter, int) for counter in counters):
        raise RuntimeError("room/subscribe failed for some observers")
    return max(counters)


async def _waiting(port: int, timeout: float) -> int:
    (answer,) = await _exchange(port, [("GET", "/__chatmock/waiters", "")], timeout)
    return int(json.loads(answer)["waiting"])


class _Observer(asyncio.Protocol):
    """One held ``event/observe``: writes its request on connect and resolves ``answered`` with
    (arrival time, body) once the whole response is in. A protocol, not streams, so the
    client's own cost per answer stays small next to the server's."""

    def __init__(self, request: bytes, answered: asyncio.Future[tuple[float, bytes]]) -> None:
        self.request = request
        self.answered = answered
        self.buffer = bytearray()
        self.body_at = -1
        self.end = -1
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.end < 0:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in bytes(self.buffer[:head_end]).split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            self.body_at, self.end = head_end + 4, head_end + 4 + length
        if len(self.buffer) >= self.end and not self.answered.done():
            self.answered.set_result((time.perf_counter(), bytes(self.buffer[self.body_at : self.end])))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.answered.done():
            self.answered.set_exception(ConnectionError(f"observer connection closed before its answer: {exc}"))


async def _open_observers(port: int, count: int, counter: int, timeout: float) -> list[asyncio.Future[tuple[float, bytes]]]:
    """Connect ``count`` observers (at most 500 connecting at once: the listen backlog)."""
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(500)
    answers: list[asyncio.Future[tuple[float, bytes]]] = [loop.create_future() for _ in range(count)]

    async def connect(index: int) -> None:
        request = _request("GET", f"/lingr/api/event/observe?session={observer_session(index)}&counter={counter}", port)
        async with semaphore:
            await asyncio.wait_for(loop.create_connection(lambda: _Observer(request, answers[index]), HOST, port), timeout)

    await asyncio.gather(*(connect(index) for index in range(count)))
    return answers


async def _measure(server: Process, count: int, timeout: float) -> LongPollResult:
    port = server.port
    counter = await _subscribe_all(port, count, timeout)
    await asyncio.sleep(0.5)
    rss_before = server.rss_kb()
    started = time.perf_counter()
    answers = await _open_observers(port, count, counter, timeout)
    held = 0
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        held = await _waiting(port, timeout)
        if held >= count:
            break
        await asyncio.sleep(0.2)
    hold_seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    rss_after = server.rss_kb()
    posted = time.perf_counter()
    (said,) = await _exchange(port, [("POST", "/lingr/api/room/say", f"session={LINGR_SESSION}&room={LINGR_ROOM}&text=fanout")], timeout)
    message_id = json.loads(said)["message"]["id"]
    results = await asyncio.wait_for(asyncio.gather(*answers, return_exceptions=True), timeout)
    finished = [result for result in results if isinstance(result, tuple)]
    delivered = sum(1 for _, body in finished if message_id.encode() in body)
    last = max((at for at, _ in finished), default=posted)
    return LongPollResult(count, held, rss_before, rss_after, hold_seconds, last - posted, delivered)


def measure(server: Process, count: int, timeout: float = 120.0) -> LongPollResult:
    """Run against a mock seeded with ``bench_seed(observers=count)`` and a long --longpoll-timeout.
    The client runs on uvloop when installed, like the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_measure(server, count, timeout))
    return uvloop.run(_measure(server, count, timeout))
