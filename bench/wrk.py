"""wrk as the load generator: a Lua script per call (method, headers, body, a unique field per
request), one bounded run, its output parsed into req/s and latency percentiles."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.calls import BenchCall

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_string(text: str) -> str:
    """A Lua string literal (JSON escapes are valid Lua escapes for these ASCII bodies)."""
    return json.dumps(text)


def lua_script(call: BenchCall) -> str:
    lines = [f"wrk.method = {lua_string(call.method)}"]
    lines += [f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in call.headers.items()]
    if call.unique:  # e.g. BOCCO's unique_id: a UUID per request, never repeated across runs
        run = secrets.token_hex(4)
        lines += [
            "local counter = 0",
            "request = function()",
            "  counter = counter + 1",
            f'  local body = {lua_string(call.body)} .. string.format("{run}-0000-4000-8000-%012x", counter)',
            "  return wrk.format(nil, nil, nil, body)",
            "end",
        ]
    elif call.body:
        lines.append(f"wrk.body = {lua_string(call.body)}")
    return "\n".join(lines) + "\n"


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse(output: str) -> WrkResult:
    """wrk's ``--latency`` report -> :class:`WrkResult`; ValueError when it is not one."""
    percentiles = {match.group(1): _ms(match.group(2), match.group(3)) for match in _PERCENTILE.finditer(output)}
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    if rps is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"not a wrk --latency report: {output[:300]!r}")
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(value) for value in socket.groups()) if socket else 0,
    )


def run(base_url: str, call: BenchCall, duration: float, connections: int, threads: int = 1) -> WrkResult:
    """One wrk run of ``call`` against ``base_url`` (a 127.0.0.1 URL), bounded by ``duration``."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmark traffic stays on 127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="chatmock-wrk-") as folder:
        script = Path(folder) / "call.lua"
        script.write_text(lua_script(call), encoding="utf-8")
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base_url + call.path,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return parse(done.stdout)
