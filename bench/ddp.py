"""Rocket.Chat realtime capacity: N DDP clients subscribed to one room, the server's RSS per
connection, and the time from one REST post until every client has its ``changed`` frame.

Run by hand (not by pytest)::

    python -m bench.ddp                 # 1,000 and 10,000 clients
    python -m bench.ddp --clients 1000  # one size

``chatmock serve --api rocketchat`` runs in its own process (uvicorn, the websockets library);
this client opens N WebSockets to ``/websocket`` (at most 500 connecting at once), each sends
``connect``, logs in with ``{resume: <bob's personal access token>}`` and subscribes to
``stream-room-messages`` of ``GENERAL``, answering the server's DDP pings. RSS per connection is
the server's VmRSS once all are subscribed minus before any connected, divided by N. Fan-out
time runs from just before ``chat.postMessage`` (alice, over REST) is sent until the last client
has read the event carrying that message. **The client runs on the same cores as the server, so
its own reading of N frames is included.**
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench import report
from bench.longpoll import raise_open_files
from bench.servers import HOST, Process, start_mock

ROOM = "GENERAL"
LISTENER_TOKEN = "rc-pat-bob"  # the default world's personal access tokens
POSTER = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
CONNECTING = 500


@dataclass(frozen=True)
class DdpResult:
    clients: int
    subscribed: int
    rss_before_kb: int
    rss_after_kb: int
    subscribe_seconds: float  # connecting N clients until every one is subscribed
    fanout_seconds: float  # the REST post sent -> the last client has its event
    delivered: int

    @property
    def kb_per_connection(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / max(1, self.clients)


class Client:
    """One DDP client: subscribed once ``ready`` is set; ``heard`` resolves with the arrival time
    of the first ``changed`` frame carrying ``wanted`` (the posted text)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ready = asyncio.Event()
        self.wanted: str | None = None
        self.heard: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.socket: Any = None

    async def run(self, semaphore: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        async with semaphore:
            self.socket = await connect(self.url, max_size=2**22, ping_interval=None, compression=None)
            await self.socket.send(json.dumps({"msg": "connect", "version": "1", "support": ["1"]}))
            await self.socket.send(json.dumps({"msg": "method", "method": "login", "id": "1", "params": [{"resume": LISTENER_TOKEN}]}))
            await self.socket.send(json.dumps({"msg": "sub", "id": "s", "name": "stream-room-messages", "params": [ROOM, False]}))
        try:
            async for raw in self.socket:
                if '"ping"' in raw:
                    await self.socket.send('{"msg":"pong"}')
                elif '"ready"' in raw:
                    self.ready.set()
                elif '"changed"' in raw and self.wanted is not None and self.wanted in raw and not self.heard.done():
                    self.heard.set_result(time.perf_counter())
        except Exception as error:
            if not self.heard.done():
                self.heard.set_exception(error)


def post(port: int, text: str) -> str:
    body = json.dumps({"roomId": ROOM, "text": text}).encode()
    request = urllib.request.Request(
        f"http://{HOST}:{port}/api/v1/chat.postMessage", data=body, headers={**POSTER, "Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return str(json.loads(answer.read())["message"]["_id"])


async def _measure(server: Process, count: int, timeout: float) -> DdpResult:
    url = f"ws://{HOST}:{server.port}/websocket"
    await asyncio.sleep(0.5)
    rss_before = server.rss_kb()
    semaphore = asyncio.Semaphore(CONNECTING)
    clients = [Client(url) for _ in range(count)]
    started = time.perf_counter()
    tasks = [asyncio.create_task(client.run(semaphore)) for client in clients]
    await asyncio.wait_for(asyncio.gather(*(client.ready.wait() for client in clients)), timeout)
    subscribe_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_after = server.rss_kb()
    text = f"fanout-{time.time_ns()}"
    for client in clients:
        client.wanted = text
    posted = time.perf_counter()
    await asyncio.get_running_loop().run_in_executor(None, post, server.port, text)
    results = await asyncio.wait_for(asyncio.gather(*(client.heard for client in clients), return_exceptions=True), timeout)
    arrivals = [result for result in results if isinstance(result, float)]
    for client in clients:
        if client.socket is not None:
            await client.socket.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    last = max(arrivals, default=posted)
    return DdpResult(
        count, sum(client.ready.is_set() for client in clients), rss_before, rss_after, subscribe_seconds, last - posted, len(arrivals)
    )


def measure(count: int, timeout: float = 300.0) -> DdpResult:
    raise_open_files(2 * count + 1024)
    server = start_mock(None, timeout=120, extra=["--api", "rocketchat", "--journal-size", "0"])
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(_measure(server, count, timeout))
        return uvloop.run(_measure(server, count, timeout))
    finally:
        server.stop()


def table(results: list[DdpResult]) -> str:
    rows = [
        [
            f"{item.clients:,}",
            f"{item.subscribed:,}",
            f"{item.rss_before_kb / 1024:.0f} -> {item.rss_after_kb / 1024:.0f}",
            f"{item.kb_per_connection:.1f}",
            f"{item.subscribe_seconds:.1f}",
            f"{item.fanout_seconds * 1000:.0f}",
            f"{item.delivered:,}",
        ]
        for item in results
    ]
    headers = ["DDP clients", "subscribed", "server RSS MB", "KB / connection", "s to subscribe all", "fan-out ms", "delivered"]
    return report.table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ddp", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, action="append", help="how many DDP clients (repeatable; default 1000 and 10000)")
    options = parser.parse_args(argv)
    results = []
    for count in options.clients or [1000, 10000]:
        result = measure(count)
        print(f"ddp {count}: {result.kb_per_connection:.1f} KB/conn, fan-out {result.fanout_seconds * 1000:.0f} ms", file=sys.stderr)
        results.append(result)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
