"""Per-request cost of the app alone, without a server: each representative call is sent
straight to the ASGI app (mock, then the bare Starlette reference with the same bodies) in a
tight loop, and the mean microseconds per request are printed.

``python -m bench.inprocess [--requests N]`` (best of 5 rounds of N/5). It isolates what the mock adds over Starlette
from uvicorn's and the kernel's share, which wrk figures mix in.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import bare_app
from bench.calls import BenchCall, bench_seed, representative_calls
from mockserver.app import create_app

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
_unique = itertools.count(1)


def _scope(call: BenchCall) -> tuple[dict[str, Any], bytes]:
    path, _, query = call.path.partition("?")
    body = call.body + (f"00000000-0000-4000-8000-{next(_unique):012x}" if call.unique else "")
    headers = [(b"host", b"127.0.0.1:8000")] + [(key.lower().encode(), value.encode()) for key, value in call.headers.items()]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": call.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    return scope, body.encode()


async def one(app: App, call: BenchCall) -> tuple[int, bytes]:
    scope, body = _scope(call)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    return status, b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


async def per_request(app: App, call: BenchCall, requests: int, rounds: int = 5) -> float:
    """Microseconds per request: the best of ``rounds`` rounds (like ``timeit``: the least
    disturbed by other work on the machine)."""
    for _ in range(min(200, requests)):
        await one(app, call)
    each = max(1, requests // rounds)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(each):
            await one(app, call)
        best = min(best, (time.perf_counter() - started) / each)
    return best * 1e6


async def main_async(requests: int) -> None:
    mock = create_app(seed=bench_seed())
    calls = representative_calls()
    specs = []
    for call in calls:
        status, body = await one(mock, call)
        if not 200 <= status < 300:
            raise SystemExit(f"{call.label}: the mock answered {status}: {body[:200]!r}")
        specs.append(
            {"method": call.method, "path": call.path, "status": status, "content_type": "application/json", "body": body.decode()}
        )
    bare = bare_app.build(specs)
    print(f"{'call':<16} {'mock µs':>9} {'bare µs':>9} {'added µs':>9}")
    for call in calls:
        mock_us = await per_request(mock, call, requests)
        bare_us = await per_request(bare, call, requests)
        print(f"{call.label:<16} {mock_us:9.1f} {bare_us:9.1f} {mock_us - bare_us:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(args.requests))
    else:
        uvloop.run(main_async(args.requests))


if __name__ == "__main__":
    main()
