"""Servers under test, each in its own process on 127.0.0.1: ``chatmock serve``, the bare
Starlette reference under uvicorn, Prism. Started, polled until they answer, stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bench.bare_app import BODIES_ENV
from bench.calls import ROOT

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Process:
    """A server process; ``ready_seconds`` is the time from spawn to its first answer."""

    def __init__(self, name: str, command: Sequence[str], port: int, env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.name = name
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.ready_seconds: float | None = None
        self._log = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(command), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, probe_path: str, timeout: float, headers: dict[str, str] | None = None) -> float:
        """Poll ``probe_path`` until any HTTP answer comes; the seconds since spawn."""
        deadline = self._started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before answering")
            request = urllib.request.Request(self.url + probe_path, headers=headers or {})
            try:
                with urllib.request.urlopen(request, timeout=2):
                    pass
            except urllib.error.HTTPError:
                pass  # an HTTP error is an answer
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
                continue
            self.ready_seconds = time.perf_counter() - self._started
            return self.ready_seconds
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")

    def rss_kb(self) -> int:
        """Resident set size of the server process (kB, from /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        if self._log is not subprocess.DEVNULL:
            with contextlib.suppress(OSError):
                self._log.close()  # type: ignore[union-attr]


def start_mock(
    seed: Path | None, longpoll_timeout: float = 30.0, timeout: float = 60.0, log: Path | None = None, extra: Sequence[str] = ()
) -> Process:
    """``chatmock serve`` on a free port; ``extra`` are more of its options (e.g. ``--journal-size 0``)."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", str(port)]
    command += ["--longpoll-timeout", str(longpoll_timeout), *extra]
    if seed is not None:
        command += ["--seed", str(seed)]
    server = Process("chatmock serve", command, port, log=log)
    server.wait_ready("/__chatmock/health", timeout)
    return server


def start_bare(bodies: Path, timeout: float = 30.0, log: Path | None = None) -> Process:
    """The bare app under uvicorn, started the way ``chatmock serve`` starts the mock (same
    event loop choice, httptools, no access log, no lifespan)."""
    port = free_port()
    command = [sys.executable, "-m", "bench.bare_app", str(port)]
    server = Process("bare Starlette", command, port, env={BODIES_ENV: str(bodies)}, log=log)
    server.wait_ready("/", timeout)
    return server


def prism_command() -> list[str] | None:
    """``prism`` when installed (npm install -g @stoplight/prism-cli), else None."""
    found = shutil.which("prism")
    return [found] if found else None


def start_prism(document: Path, probe_path: str, timeout: float = 60.0, log: Path | None = None) -> Process:
    """Prism's static mock (the default without ``-d``) of an exported OpenAPI document."""
    command = prism_command()
    if command is None:
        raise RuntimeError("Prism not installed")
    port = free_port()
    server = Process("Prism", [*command, "mock", "-h", HOST, "-p", str(port), str(document)], port, log=log)
    server.wait_ready(probe_path, timeout)
    return server
