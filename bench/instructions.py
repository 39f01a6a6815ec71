"""Per-request cost through uvicorn's HTTP protocol, without sockets: what the hot path costs
in CPU time and, under valgrind, in instructions (a count that does not move with the load
of a shared machine, so a 1 % change shows where wrk's req/s move by 10 %).

Each representative call (``bench.calls``) is fed as raw bytes to the HTTP protocol class
``chatmock serve`` uses (head limit included) over an in-memory transport, and the app is built
as ``chatmock serve`` builds it (the benchmark seed, journal, frozen garbage collector).

    python -m bench.instructions                     # µs of CPU per request (best of 5)
    python -m bench.instructions --count             # instructions per request (valgrind)
    python -m bench.instructions --count --baseline DIR
                                                     # the same for another checkout, side by side

``--baseline`` takes a checkout of another commit (``git worktree add /tmp/base <commit>``):
its ``mockserver`` is measured with this file's driver. ``--count`` needs valgrind
(``apt-get install valgrind``); a run takes about a minute per call.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WARMUP = 2000
ROUNDS = 5
_COUNTED = (400, 1600)  # requests per round of the two valgrind runs; the difference is counted


# the driver: runs in its own process, with the measured checkout first on sys.path ----------
class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += data

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def _config(app: Any) -> Any:
    import uvicorn

    try:
        from mockserver.background import uvicorn_config  # what chatmock serve runs
    except ImportError:  # an older checkout: uvicorn's httptools protocol, as it served then
        config = uvicorn.Config(app, http="httptools", log_level="warning", access_log=False, lifespan="off")
    else:
        config = uvicorn_config(app, "127.0.0.1", 8000)
    config.ws = "none"  # no upgrade here; and loads whatever websockets version is installed
    config.load()
    return config


def _request(call: dict[str, Any], number: int) -> bytes:
    body = call["body"] + (f"00000000-0000-4000-8000-{number:012x}" if call["unique"] else "")
    head = f"{call['method']} {call['path']} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in call["headers"].items())
    if body:
        head += f"Content-Length: {len(body.encode())}\r\n"
    return (head + "\r\n" + body).encode()


async def _drive(config: Any, call: dict[str, Any], per_round: int) -> float:
    from uvicorn.server import ServerState

    protocol = config.http_protocol_class(config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop())
    transport = _Transport()
    protocol.connection_made(transport)
    numbers = iter(range(1, 10**9))
    fixed = None if call["unique"] else _request(call, 0)

    async def one() -> None:
        transport.written.clear()
        protocol.data_received(fixed or _request(call, next(numbers)))
        while not protocol.cycle.response_complete:
            await asyncio.sleep(0)

    for _ in range(WARMUP):
        await one()
    if not transport.written.startswith(b"HTTP/1.1 2"):
        raise SystemExit(f"{call['label']}: not a 2xx answer: {bytes(transport.written[:300])!r}")
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(per_round):
            await one()
        best = min(best, (time.process_time() - started) / per_round)
    return best * 1e6


def _worker(spec_file: str, label: str, per_round: int) -> None:
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    call = next(call for call in spec["calls"] if call["label"] == label)
    from mockserver.app import create_app

    options: dict[str, Any] = {"seed": spec["seed"]}
    if "freeze_gc" in inspect.signature(create_app).parameters:
        options["freeze_gc"] = True
    config = _config(create_app(**options))
    try:
        import uvloop
    except ImportError:
        micros = asyncio.run(_drive(config, call, per_round))
    else:
        micros = uvloop.run(_drive(config, call, per_round))
    print(f"{micros:.2f}")


# the runner --------------------------------------------------------------------------------
def _spec(directory: Path) -> Path:
    from bench.calls import bench_seed, representative_calls

    calls = [
        {"label": c.label, "method": c.method, "path": c.path, "headers": dict(c.headers), "body": c.body, "unique": bool(c.unique)}
        for c in representative_calls()
    ]
    spec = directory / "calls.json"
    spec.write_text(json.dumps({"calls": calls, "seed": bench_seed()}), encoding="utf-8")
    return spec


def _run(checkout: Path, spec: Path, label: str, per_round: int, valgrind: bool) -> str:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec), label, str(per_round)]
    if valgrind:
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *command]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{label} in {checkout}: {(done.stdout + done.stderr).strip()[-800:]}")
    return done.stdout + done.stderr


def _instructions(checkout: Path, spec: Path, label: str) -> int:
    counts = []
    for per_round in _COUNTED:
        found = re.search(r"I\s+refs:\s+([\d,]+)", _run(checkout, spec, label, per_round, valgrind=True))
        if found is None:
            raise SystemExit("valgrind printed no instruction count")
        counts.append(int(found.group(1).replace(",", "")))
    return (counts[1] - counts[0]) // (ROUNDS * (_COUNTED[1] - _COUNTED[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", action="store_true", help="instructions per request, under valgrind (deterministic)")
    parser.add_argument("--baseline", metavar="DIR", help="another checkout to measure the same way, side by side")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per round of the CPU-time run (default 10000)")
    parser.add_argument("--only", metavar="LABEL", action="append", help='only this call, e.g. "lingr GET" (repeatable)')
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0
    if args.count and shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    here = Path(__file__).resolve().parent.parent
    checkouts = [("this checkout", here)] + ([("baseline", Path(args.baseline).resolve())] if args.baseline else [])
    unit = "instructions" if args.count else "µs CPU"
    with tempfile.TemporaryDirectory() as scratch:
        spec = _spec(Path(scratch))
        labels = [call["label"] for call in json.loads(spec.read_text(encoding="utf-8"))["calls"]]
        labels = [label for label in labels if not args.only or label in args.only]
        print(f"| call | {' | '.join(name for name, _ in checkouts)} |{' ratio |' if args.baseline else ''}")
        print(f"|---|{'---|' * len(checkouts)}{'---|' if args.baseline else ''}")
        for label in labels:
            figures: list[float] = []
            for name, checkout in checkouts:
                print(f"{label}: {name} ...", file=sys.stderr)
                if args.count:
                    figures.append(_instructions(checkout, spec, label))
                else:
                    figures.append(float(_run(checkout, spec, label, args.requests, valgrind=False).split()[-1]))
            cells = [f"{figure:,.0f} {unit}" if args.count else f"{figure:.2f} {unit}" for figure in figures]
            ratio = f" {figures[0] / figures[1]:.3f}x |" if args.baseline and figures[1] else ""
            print(f"| {label} | {' | '.join(cells)} |{ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
