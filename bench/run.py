"""chatmock benchmarks: ``python bench/run.py [--quick]``. See BENCHMARKS.md.

Sections (each can be skipped with ``--skip NAME``):

- ``http``: req/s and p50/p99 of a GET list and a POST message per API on ``chatmock serve``
  against a bare Starlette app with bodies of the same size on the same server (uvicorn),
  both in their own process, loaded by wrk, runs alternated;
- ``prism``: the same GETs on Prism's static mock of our exported OpenAPI document;
- ``heavy``: the POSTs (and GETs) again on a mock seeded with ``--messages`` stored messages;
- ``posted``: the POSTs again after ``--messages`` messages were posted to each API through HTTP
  (what a long bot session does; unlike seeded ones these are created while serving);
- ``longpoll``: N held Lingr observers: RSS per connection, fan-out time of one room/say;
- ``ddp``: N Rocket.Chat DDP clients subscribed to one room: RSS per connection, fan-out time of
  one REST post (:mod:`bench.ddp`; as many clients as ``longpoll`` observers);
- ``suite``: contract-suite examples per second (in-process mock);
- ``serve``: ``chatmock serve`` time to ready.

Everything stays on 127.0.0.1; every run and wait has a count and a time limit.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import calls as bench_calls
from bench import ddp, longpoll, servers, suite, wrk
from bench import profile as spy
from bench.calls import BenchCall, bench_seed, representative_calls
from bench.report import Target, fmt_number, fmt_ratio, median, ratio, section, table
from mockserver.apis import API_NAMES

SECTIONS = ("http", "prism", "heavy", "posted", "longpoll", "ddp", "suite", "serve")


@dataclass
class Config:
    duration: float = 5.0  # seconds per wrk run
    repeats: int = 3  # alternated runs per server and call; medians reported
    connections: int = 10
    messages: int = 500_000  # stored messages for the heavy run (per API, in each POST's room)
    observers: list[int] = field(default_factory=lambda: [1_000, 10_000])
    prism_apis: list[str] = field(default_factory=lambda: list(API_NAMES))
    suite_apis: list[str] = field(default_factory=list)  # empty: all
    serve_repeats: int = 5
    profile_seconds: float = 0.0
    skip: list[str] = field(default_factory=list)
    mock_args: list[str] = field(default_factory=list)  # more `chatmock serve` options for the http/prism/heavy mocks


QUICK = Config(
    duration=1.0,
    repeats=1,
    messages=2_000,
    observers=[1_000],
    prism_apis=["gitter"],
    suite_apis=["lingr"],
    serve_repeats=1,
)


@dataclass(frozen=True)
class Measured:
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    errors: int = 0  # non-2xx answers and socket errors over all runs

    @classmethod
    def of(cls, results: Sequence[wrk.WrkResult]) -> Measured:
        return cls(
            median([result.rps for result in results]),
            median([result.p50_ms for result in results]),
            median([result.p99_ms for result in results]),
            sum(result.non_2xx + result.socket_errors for result in results),
        )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# plumbing ------------------------------------------------------------------------
def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 600.0
) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.headers.get("content-type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def send(base_url: str, call: BenchCall) -> tuple[int, str, bytes]:
    body = call.body + (str(uuid.uuid4()) if call.unique else "")
    return http(call.method, base_url + call.path, body.encode() if call.body else None, dict(call.headers))


def write_seed(folder: Path, name: str, messages: int = 0, observers: int = 0, heavy: tuple[str, ...] = API_NAMES) -> Path:
    path = folder / name
    path.write_text(json.dumps(bench_seed(messages, observers, heavy)), encoding="utf-8")
    return path


def reseed(mock: servers.Process, seed: Path) -> None:
    status, _, _ = http("POST", mock.url + "/__chatmock/seed", seed.read_bytes(), {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"reseeding the mock failed with {status}")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@contextlib.contextmanager
def running(start: Callable[[], servers.Process]) -> Iterator[servers.Process]:
    server = start()
    try:
        yield server
    finally:
        server.stop()


def load(server: servers.Process, call: BenchCall, config: Config) -> wrk.WrkResult:
    return wrk.run(server.url, call, config.duration, config.connections)


# sections ------------------------------------------------------------------------
@dataclass
class Results:
    mock: dict[str, Measured] = field(default_factory=dict)
    bare: dict[str, Measured] = field(default_factory=dict)
    prism: dict[str, Measured] = field(default_factory=dict)
    mock_vs_prism: dict[str, Measured] = field(default_factory=dict)
    heavy: dict[str, Measured] = field(default_factory=dict)
    heavy_sizes: dict[str, int] = field(default_factory=dict)
    heavy_load_seconds: float | None = None
    posted: dict[str, Posted] = field(default_factory=dict)
    prism_note: str = ""
    longpoll: list[longpoll.LongPollResult] = field(default_factory=list)
    ddp: list[ddp.DdpResult] = field(default_factory=list)
    suite: suite.SuiteResult | None = None
    serve_ready: list[float] = field(default_factory=list)
    hotspots: list[spy.Hotspot] = field(default_factory=list)
    own: list[spy.Hotspot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def capture_bodies(mock: servers.Process, chosen: Sequence[BenchCall], folder: Path) -> Path:
    """The mock's answer to each call (status, type, body) for the bare app to repeat."""
    specs = []
    for call in chosen:
        status, content_type, body = send(mock.url, call)
        if status >= 400:
            raise RuntimeError(f"{call.label}: the mock answered {status}; the benchmark needs a valid call")
        specs.append({"method": call.method, "path": call.path, "status": status, "content_type": content_type, "body": body.decode()})
    path = folder / "bare-bodies.json"
    path.write_text(json.dumps(specs), encoding="utf-8")
    return path


def alternate(
    first: servers.Process, second: servers.Process, call: BenchCall, config: Config, before: Callable[[], None] | None = None
) -> tuple[Measured, Measured]:
    """``config.repeats`` runs of ``call`` on each server in turn (``before`` ahead of each pair)."""
    ours: list[wrk.WrkResult] = []
    theirs: list[wrk.WrkResult] = []
    for _ in range(config.repeats):
        if before is not None:
            before()
        ours.append(load(first, call, config))
        theirs.append(load(second, call, config))
    return Measured.of(ours), Measured.of(theirs)


def run_http(config: Config, folder: Path, results: Results, mock: servers.Process, seed: Path) -> None:
    chosen = representative_calls()
    bodies = capture_bodies(mock, chosen, folder)
    start_bare = functools.partial(servers.start_bare, bodies, log=folder / "bare.log")
    with running(start_bare) as bare:
        for call in chosen:
            before = functools.partial(reseed, mock, seed) if call.kind == "POST" else None  # each POST run: the same small world
            results.mock[call.label], results.bare[call.label] = alternate(mock, bare, call, config, before)
            log(
                f"http {call.label}: mock {fmt_number(results.mock[call.label].rps)} req/s, bare {fmt_number(results.bare[call.label].rps)}"
            )
    reseed(mock, seed)


def run_profile(config: Config, folder: Path, results: Results, mock: servers.Process, seed: Path) -> None:
    if not spy.available():
        results.notes.append("profile: py-spy not installed (pip install py-spy)")
        return
    chosen = representative_calls()
    each = max(1.0, config.profile_seconds / len(chosen))
    output = folder / "profile.txt"
    recorder = spy.start(mock.pid, each * len(chosen) + 2, output)
    time.sleep(1.0)
    for call in chosen:
        wrk.run(mock.url, call, each, config.connections)
    try:
        _, errors = recorder.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        recorder.kill()
        errors = b"timed out"
    reseed(mock, seed)
    if not output.exists():
        results.notes.append(f"profile: py-spy failed: {errors.decode(errors='replace').strip()[:200]}")
        return
    collapsed = output.read_text(encoding="utf-8", errors="replace")
    root = str(bench_calls.ROOT) + "/"
    results.hotspots = spy.hotspots(collapsed, root, top=60)
    results.own = spy.own_top(collapsed, root, top=12)


def run_prism(config: Config, folder: Path, results: Results, mock: servers.Process) -> None:
    if servers.prism_command() is None:
        results.prism_note = "Prism not installed (npm install -g @stoplight/prism-cli)"
        log(results.prism_note)
        return
    for call in representative_calls():
        if call.kind != "GET" or call.api not in config.prism_apis:
            continue
        port = servers.free_port()
        document = folder / f"openapi-{call.api}.json"
        exported = subprocess.run(
            [sys.executable, "-m", "mockserver.cli", "schemas", "openapi", "--api", call.api, "--base-url", f"http://127.0.0.1:{port}"],
            cwd=bench_calls.ROOT,
            capture_output=True,
            timeout=60,
            check=True,
        )
        document.write_bytes(exported.stdout)
        try:
            prism = servers.start_prism(document, call.path, log=folder / f"prism-{call.api}.log")
        except RuntimeError as error:
            results.notes.append(f"prism {call.api}: {error}")
            continue
        try:
            status, _, _ = send(prism.url, call)
            if status >= 400:
                results.notes.append(f"prism {call.api}: answered {status} to the benchmark GET")
            wrk.run(prism.url, call, max(2.0, config.duration / 2), config.connections)  # warm-up: Node's JIT
            results.mock_vs_prism[call.label], results.prism[call.label] = alternate(mock, prism, call, config)
            log(
                f"prism {call.label}: mock {fmt_number(results.mock_vs_prism[call.label].rps)}, prism {fmt_number(results.prism[call.label].rps)}"
            )
        finally:
            prism.stop()


def run_heavy(config: Config, folder: Path, results: Results) -> None:
    """One mock with ``messages`` stored messages in each API's POST room; the POST and GET of
    each measured."""
    size = config.messages
    if size <= 0:
        return
    seed = write_seed(folder, f"seed-heavy-{size}.json", messages=size)
    log(f"heavy: starting a mock with {size:,} stored messages per API")
    started = time.perf_counter()
    with running(functools.partial(servers.start_mock, seed, timeout=3600, log=folder / "mock-heavy.log", extra=config.mock_args)) as mock:
        results.heavy_load_seconds = time.perf_counter() - started
        for call in representative_calls():
            runs = [load(mock, call, config) for _ in range(config.repeats)]
            results.heavy[call.label] = Measured.of(runs)
            results.heavy_sizes[call.label] = size
            log(f"heavy {call.label}: p99 {fmt_number(results.heavy[call.label].p99_ms)} ms")
    seed.unlink()


@dataclass(frozen=True)
class Posted:
    count: int  # 2xx answers to the POSTs before the measurement
    fill_seconds: float
    worst_fill_p99_ms: float  # the worst p99 of the filling runs
    after: Measured


def fill_run_seconds(messages: int) -> float:
    """wrk runs of up to 20 s while posting (1 s for a quick run's few messages)."""
    return max(1.0, min(20.0, messages / 10_000))


def run_posted(config: Config, folder: Path, results: Results) -> None:
    """One mock from the small world; each API's POST is sent until ``messages`` were accepted,
    then measured like in the ``http`` section (the messages of earlier APIs stay stored)."""
    if config.messages <= 0:
        return
    seed = write_seed(folder, "seed-posted.json")
    with running(functools.partial(servers.start_mock, seed, log=folder / "mock-posted.log", extra=config.mock_args)) as mock:
        for call in representative_calls():
            if call.kind != "POST":
                continue
            count, worst, started = 0, 0.0, time.perf_counter()
            while count < config.messages:
                run = wrk.run(mock.url, call, fill_run_seconds(config.messages), config.connections)
                if run.non_2xx or run.socket_errors:
                    raise RuntimeError(f"posted {call.label}: {run.non_2xx} non-2xx answers, {run.socket_errors} socket errors")
                count += run.requests
                worst = max(worst, run.p99_ms)
            fill_seconds = time.perf_counter() - started
            after = Measured.of([load(mock, call, config) for _ in range(config.repeats)])
            results.posted[call.label] = Posted(count, fill_seconds, worst, after)
            log(
                f"posted {call.label}: {count:,} in {fill_seconds:.0f} s (worst p99 {worst:.1f} ms), then p99 {fmt_number(after.p99_ms)} ms"
            )


def posted_table(results: Results) -> str:
    rows = [
        [
            label,
            f"{item.count:,}",
            f"{item.fill_seconds:.0f}",
            fmt_number(item.worst_fill_p99_ms),
            fmt_number(item.after.rps),
            fmt_number(item.after.p50_ms),
            fmt_number(item.after.p99_ms),
            str(item.after.errors),
        ]
        for label, item in results.posted.items()
    ]
    headers = ["call", "posted before", "s to post", "worst p99 ms while posting", "req/s after", "p50 ms after", "p99 ms after", "errors"]
    return table(headers, rows)


def run_longpoll(config: Config, folder: Path, results: Results) -> None:
    largest = max(config.observers, default=0)
    limit = longpoll.raise_open_files(largest + 1024)
    for count in config.observers:
        if limit < count + 200:
            results.notes.append(f"longpoll {count}: open-file limit {limit} is too low")
            continue
        seed = write_seed(folder, f"seed-observers-{count}.json", observers=count)
        start = functools.partial(servers.start_mock, seed, longpoll_timeout=600, timeout=300, log=folder / "mock-longpoll.log")
        with running(start) as mock:
            result = longpoll.measure(mock, count, timeout=max(60.0, count / 50))
        results.longpoll.append(result)
        log(f"longpoll {count}: {result.kb_per_connection:.1f} KB/conn, fan-out {result.fanout_seconds * 1000:.0f} ms")


def run_ddp(config: Config, results: Results) -> None:
    for count in config.observers:
        result = ddp.measure(count, timeout=max(120.0, count / 20))
        results.ddp.append(result)
        log(f"ddp {count}: {result.kb_per_connection:.1f} KB/conn, fan-out {result.fanout_seconds * 1000:.0f} ms")


def run_suite(config: Config, results: Results) -> None:
    results.suite = suite.run(config.suite_apis)
    log(f"suite: {results.suite.examples} examples, {results.suite.outcome}")


def run_serve(config: Config, results: Results) -> None:
    for _ in range(config.serve_repeats):
        with running(functools.partial(servers.start_mock, None, timeout=30)) as mock:
            if mock.ready_seconds is not None:
                results.serve_ready.append(mock.ready_seconds)


# the report ----------------------------------------------------------------------
def http_table(results: Results) -> str:
    rows = []
    for label, mine in results.mock.items():
        bare = results.bare.get(label)
        rows.append(
            [
                label,
                fmt_number(mine.rps),
                fmt_number(bare.rps if bare else None),
                fmt_ratio(ratio(mine.rps, bare.rps if bare else None)),
                f"{fmt_number(mine.p50_ms)} / {fmt_number(mine.p99_ms)}",
                f"{fmt_number(bare.p50_ms if bare else None)} / {fmt_number(bare.p99_ms if bare else None)}",
                str(mine.errors + (bare.errors if bare else 0)),
            ]
        )
    headers = ["call", "mock req/s", "bare req/s", "mock/bare", "mock p50/p99 ms", "bare p50/p99 ms", "errors"]
    return table(headers, rows)


def prism_table(results: Results) -> str:
    if not results.prism:
        return results.prism_note or "not run"
    rows = []
    for label, theirs in results.prism.items():
        mine = results.mock_vs_prism[label]
        rows.append(
            [
                label,
                fmt_number(mine.rps),
                fmt_number(theirs.rps),
                fmt_ratio(ratio(mine.rps, theirs.rps)),
                f"{fmt_number(mine.p50_ms)} / {fmt_number(mine.p99_ms)}",
                f"{fmt_number(theirs.p50_ms)} / {fmt_number(theirs.p99_ms)}",
                str(theirs.errors),
            ]
        )
    return table(["call", "mock req/s", "Prism req/s", "mock/Prism", "mock p50/p99 ms", "Prism p50/p99 ms", "Prism errors"], rows)


def heavy_table(results: Results) -> str:
    rows = [
        [
            label,
            f"{results.heavy_sizes[label]:,}",
            fmt_number(measured.rps),
            fmt_number(measured.p50_ms),
            fmt_number(measured.p99_ms),
            fmt_number(results.mock[label].p99_ms) if label in results.mock else "-",
            str(measured.errors),
        ]
        for label, measured in results.heavy.items()
    ]
    return table(["call", "stored messages", "req/s", "p50 ms", "p99 ms", "p99 ms (default world)", "errors"], rows)


def longpoll_table(results: Results) -> str:
    rows = [
        [
            f"{item.observers:,}",
            f"{item.held:,}",
            f"{item.rss_before_kb / 1024:.0f} -> {item.rss_after_kb / 1024:.0f}",
            f"{item.kb_per_connection:.1f}",
            f"{item.hold_seconds:.1f}",
            f"{item.fanout_seconds * 1000:.0f}",
            f"{item.delivered:,}",
        ]
        for item in results.longpoll
    ]
    return table(["observers", "held", "server RSS MB", "KB / held conn", "s to hold all", "fan-out ms", "delivered"], rows)


def suite_text(results: Results) -> str:
    found = results.suite
    if found is None:
        return "not run"
    return table(
        ["examples", "pytest s", "wall s", "examples/s (pytest)", "examples/s (wall)", "outcome"],
        [
            [
                str(found.examples),
                fmt_number(found.phase_seconds),
                fmt_number(found.wall_seconds),
                fmt_number(found.per_second_phases),
                fmt_number(found.per_second_wall),
                found.outcome,
            ]
        ],
    )


def hotspot_text(results: Results) -> str:
    if not results.hotspots:
        return "not run (--profile SECONDS)"
    inclusive = table(
        ["function (file)", "on stack %", "own %"],
        [
            [spot.function, f"{spot.inclusive * 100:.1f}", f"{spot.own * 100:.1f}"]
            for spot in results.hotspots
            if "(mockserver/" in spot.function
        ],
    )
    own = table(["function (file)", "own %"], [[spot.function, f"{spot.own * 100:.1f}"] for spot in results.own])
    return f"Inclusive (busy samples):\n\n{inclusive}\n\nSelf time:\n\n{own}"


def targets(results: Results) -> list[Target]:
    found: list[Target] = []
    for label, mine in results.mock.items():
        bare = results.bare.get(label)
        kind = label.split()[-1]
        limit = 0.7 if kind == "GET" else 0.6
        found.append(Target(f"{label} mock/bare req/s", ratio(mine.rps, bare.rps if bare else None), limit, True, "x"))
    for label, theirs in results.prism.items():
        if theirs.errors:  # Prism's req/s of error answers compare nothing
            found.append(Target(f"{label} mock/Prism req/s", None, 3.0, True, "x", f"Prism answered {theirs.errors:,} errors"))
        else:
            found.append(Target(f"{label} mock/Prism req/s", ratio(results.mock_vs_prism[label].rps, theirs.rps), 3.0, True, "x"))
    if not results.prism:
        found.append(Target("GET mock/Prism req/s", None, 3.0, True, "x", results.prism_note))
    for label, measured in results.heavy.items():
        if label.endswith("POST"):
            size = results.heavy_sizes[label]
            note = f"after {size:,} stored messages" + ("" if size >= 500_000 else "; target is after 500,000")
            found.append(Target(f"{label} p99", measured.p99_ms, 50.0, False, " ms", note, provisional=size < 500_000))
    for label, posted in results.posted.items():
        note = f"after {posted.count:,} posted messages" + ("" if posted.count >= 500_000 else "; target is after 500,000")
        worst = max(posted.worst_fill_p99_ms, posted.after.p99_ms or 0.0)
        found.append(
            Target(f"{label} p99 (posted)", worst, 50.0, False, " ms", note + "; worst of all runs", provisional=posted.count < 500_000)
        )
    for item in results.longpoll:
        if item.observers < 1_000:
            found.append(Target(f"fan-out to {item.observers:,}", item.fanout_seconds * 1000, 100.0, False, " ms", provisional=True))
        if item.observers >= 10_000:
            found.append(Target(f"{item.observers:,} held observers, RSS per connection", item.kb_per_connection, 25.0, False, " KB"))
            found.append(Target(f"fan-out to {item.observers:,}", item.fanout_seconds * 1000, 1000.0, False, " ms"))
        elif item.observers >= 1_000:
            found.append(Target(f"fan-out to {item.observers:,}", item.fanout_seconds * 1000, 100.0, False, " ms"))
        if item.delivered != item.observers:
            found.append(Target(f"observers answered of {item.observers:,}", float(item.delivered), float(item.observers), True))
    for clients_run in results.ddp:
        if clients_run.clients >= 10_000:
            found.append(
                Target(f"{clients_run.clients:,} DDP clients, RSS per connection", clients_run.kb_per_connection, 25.0, False, " KB")
            )
            found.append(Target(f"DDP fan-out to {clients_run.clients:,}", clients_run.fanout_seconds * 1000, 1000.0, False, " ms"))
        if clients_run.delivered != clients_run.clients:
            found.append(
                Target(f"DDP clients served of {clients_run.clients:,}", float(clients_run.delivered), float(clients_run.clients), True)
            )
    if results.serve_ready:
        ready = median(results.serve_ready)
        found.append(Target("chatmock serve ready (median)", ready, 1.0, False, " s", f"{len(results.serve_ready)} starts"))
    return found


def render(config: Config, results: Results, started_load: str) -> str:
    parts = [
        "# chatmock benchmark run",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S')}; Python {platform.python_version()}; {os.cpu_count()} CPUs",
        f"- load average before / after: {started_load} / {load_average()}",
        "- servers: chatmock serve and the bare app run the same way: `uvicorn.Server(config).serve()` on the loop `chatmock serve`"
        " picks (uvloop when installed), httptools, no access log",
        f"- wrk: 1 thread, {config.connections} connections, {config.duration:g} s per run, {config.repeats} alternated run(s), medians",
        f"- chatmock serve options: {' '.join(config.mock_args) or '(defaults)'}",
    ]
    if "http" not in config.skip:
        parts.append(section("Mock vs bare Starlette (same uvicorn, same body size)", http_table(results)))
    if "prism" not in config.skip:
        parts.append(section("Mock vs Prism static mock (same GET, exported OpenAPI)", prism_table(results)))
    if "heavy" not in config.skip:
        load_note = f"\n\nmock start with the heavy seed: {fmt_number(results.heavy_load_seconds)} s" if results.heavy_load_seconds else ""
        parts.append(section("Many stored messages", heavy_table(results) + load_note))
    if "posted" not in config.skip:
        parts.append(section("Many posted messages (POST after N accepted POSTs, one mock)", posted_table(results)))
    if "longpoll" not in config.skip:
        parts.append(section("Long-poll capacity (Lingr event/observe)", longpoll_table(results)))
    if "ddp" not in config.skip:
        parts.append(section("Realtime capacity (Rocket.Chat DDP, one room)", ddp.table(results.ddp)))
    if "suite" not in config.skip:
        parts.append(section("Contract suite throughput (pytest -k generated, in-process)", suite_text(results)))
    if "serve" not in config.skip:
        ready = ", ".join(f"{value:.2f}" for value in results.serve_ready) or "-"
        parts.append(section("chatmock serve time to ready", f"seconds from spawn to the first answer: {ready}"))
    if config.profile_seconds:
        parts.append(section("Where the mock spends its time (py-spy under wrk load)", hotspot_text(results)))
    parts.append(section("Targets", "\n".join(f"- {item.line()}" for item in targets(results))))
    if results.notes:
        parts.append(section("Notes", "\n".join(f"- {note}" for note in results.notes)))
    return "\n".join(parts)


# entry point ---------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: short runs, small N (under a minute)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, help="alternated runs per server and call")
    parser.add_argument("--connections", type=int, help="wrk connections")
    parser.add_argument("--messages", type=int, help="stored messages for the heavy run (0: skip)")
    parser.add_argument("--observers", type=int, action="append", help="held observers (repeatable)")
    parser.add_argument("--profile", type=float, metavar="SECONDS", help="py-spy the mock for SECONDS under wrk load")
    parser.add_argument("--skip", action="append", choices=SECTIONS, default=[], help="leave a section out (repeatable)")
    parser.add_argument("--output", type=Path, help="also write the report (Markdown) here")
    parser.add_argument(
        "--mock-arg", action="append", default=[], metavar="ARG", help="pass ARG to `chatmock serve` (e.g. --mock-arg=--journal-size=0)"
    )
    args = parser.parse_args(argv)
    config = replace(QUICK) if args.quick else Config()
    overrides = {
        "duration": args.duration,
        "repeats": args.repeats,
        "connections": args.connections,
        "messages": args.messages,
        "observers": args.observers,
        "profile_seconds": args.profile,
    }
    config = replace(
        config, **{key: value for key, value in overrides.items() if value is not None}, skip=list(args.skip), mock_args=list(args.mock_arg)
    )
    return config, args.output


def main(argv: Sequence[str] | None = None) -> int:
    config, output = parse_args(argv)
    if not wrk.available() and {"http", "prism", "heavy"} - set(config.skip):
        print("wrk not found: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    started_load = load_average()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="chatmock-bench-") as name:
        folder = Path(name)
        if {"http", "prism"} - set(config.skip) or config.profile_seconds:
            seed = write_seed(folder, "seed.json")
            with running(lambda: servers.start_mock(seed, log=folder / "mock.log", extra=config.mock_args)) as mock:
                if "http" not in config.skip:
                    run_http(config, folder, results, mock, seed)
                if "prism" not in config.skip:
                    run_prism(config, folder, results, mock)
                if config.profile_seconds:
                    run_profile(config, folder, results, mock, seed)
        if "heavy" not in config.skip:
            run_heavy(config, folder, results)
        if "posted" not in config.skip:
            run_posted(config, folder, results)
        if "longpoll" not in config.skip:
            run_longpoll(config, folder, results)
        if "ddp" not in config.skip:
            run_ddp(config, results)
        if "suite" not in config.skip:
            run_suite(config, results)
        if "serve" not in config.skip:
            run_serve(config, results)
    report = render(config, results, started_load)
    print(report)
    if output is not None:
        output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
