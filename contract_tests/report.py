"""``chatmock validate``: the contract suite against one live API, with reports.

    chatmock validate --api lingr --base-url http://lingr.com [--out reports]

Runs ``pytest contract_tests --target live --api NAME --base-url NAME=URL`` in a fresh
interpreter (so pytest's plugins load cleanly; credentials from ``CHATMOCK_<API>_*`` as the suite reads them), prints a progress bar to
stderr, and writes into ``--out``: ``junit.xml`` (pytest's ``--junitxml``), ``ledger.json``
(the suite's ``--ledger-json``) and ``report.html`` (self-contained: endpoint table, coverage
ledger, failures with their curl lines). Secret values never reach a report or the terminal:
the child's output is scrubbed line by line, the JUnit XML and ledger after pytest writes
them, and the HTML is built from the scrubbed XML.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import pytest

from contract_tests.checks import PLACEHOLDER
from contract_tests.config import SuiteConfig
from mockserver.apis import API_NAMES
from mockserver.core.secrets import is_secret_name

SUITE_DIR = Path(__file__).resolve().parent
BAR_WIDTH = 20
# a value after a name (``name=value``, ``name: Basic value``, ``"name": "value"``): replaced when the name is a secret's
_NAMED_VALUE = re.compile(r"(?i)(\b([\w-]+)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?+)(?!\$\{SECRET\})([^\s\"'&,;)}\]]+)")
_BEARER = re.compile(r"(?i)(\bbearer\s+)(?!\$\{SECRET\})[^\s\"']+")


# secrets --------------------------------------------------------------------------------
class Scrubber:
    """Replaces every configured secret value, and any value after a secret-named key, with ``${SECRET}``."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({value for value in secrets if len(value) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.secrets:
            text = text.replace(value, PLACEHOLDER)
        text = _BEARER.sub(lambda found: found.group(1) + PLACEHOLDER, text)
        return _NAMED_VALUE.sub(lambda found: found.group(1) + PLACEHOLDER if is_secret_name(found.group(2)) else found.group(0), text)


def environment_secrets(environ: dict[str, str]) -> list[str]:
    return SuiteConfig(environ=environ).secrets()


def public_url(url: str) -> str:
    """A base URL without user info or query (either may carry a credential)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# progress -------------------------------------------------------------------------------
class Progress:
    """A pytest plugin printing ``[#####.....] n/N outcome test`` to ``stream`` after each test."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if not finished:
            return
        self.done += 1
        self.stream.write(f"{bar(self.done, self.total)} {report.outcome:<7} {report.nodeid}\n")
        self.stream.flush()


def pytest_configure(config: pytest.Config) -> None:
    """Loaded with ``-p contract_tests.report``: show the progress bar."""
    config.pluginmanager.register(Progress(), "chatmock-progress")


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = width if total <= 0 else min(width, done * width // total)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


# the JUnit XML ----------------------------------------------------------------------------
@dataclass
class Failure:
    test: str
    kind: str  # failure | error
    message: str
    detail: str
    curl: list[str] = field(default_factory=list)


@dataclass
class Results:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failed: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


_CURL = re.compile(r"(?m)^\s*(?:reproduce:\s*)?(curl\s.+)$")


def scrub_file(path: Path, scrub: Scrubber) -> None:
    if path.exists():
        path.write_text(scrub(path.read_text(encoding="utf-8")), encoding="utf-8")


def read_junit(path: Path) -> Results:
    results = Results()
    if not path.exists():
        return results
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        results.tests += int(suite.get("tests", 0))
        results.failures += int(suite.get("failures", 0))
        results.errors += int(suite.get("errors", 0))
        results.skipped += int(suite.get("skipped", 0))
        results.seconds += float(suite.get("time", 0) or 0)
        for case in suite.iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
            for kind in ("failure", "error"):
                for element in case.findall(kind):
                    detail = element.text or ""
                    curls = list(dict.fromkeys(found.group(1).strip() for found in _CURL.finditer(detail)))
                    results.failed.append(Failure(name, kind, element.get("message", ""), detail, curls))
    return results


def read_ledger(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# the command ------------------------------------------------------------------------------
def suite_command(args: argparse.Namespace, junit: Path, ledger: Path) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE_DIR),
        "-p",
        "no:cacheprovider",
        "-p",
        "contract_tests.report",
        "--rootdir",
        str(SUITE_DIR),
        "-q",
        "--target",
        "live",
        "--api",
        args.api,
        "--base-url",
        f"{args.api}={args.base_url.rstrip('/')}",
        f"--junitxml={junit}",
        "-o",
        "junit_logging=no",
        "--ledger-json",
        str(ledger),
    ]
    if args.allow_writes:
        argv.append("--allow-writes")
    extra = list(args.pytest_args or ())
    return argv + (extra[1:] if extra[:1] == ["--"] else extra)


def _pump(source: IO[str], sink: TextIO, scrub: Scrubber) -> None:
    for line in source:
        sink.write(scrub(line))
        sink.flush()


def run_scrubbed(command: list[str], scrub: Scrubber) -> int:
    """Run ``command``, passing its stdout and stderr through ``scrub`` line by line."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace") as child:
        assert child.stdout is not None
        assert child.stderr is not None
        errors = threading.Thread(target=_pump, args=(child.stderr, sys.stderr, scrub), daemon=True)
        errors.start()
        _pump(child.stdout, sys.stdout, scrub)
        errors.join()
        return child.wait()


def run_validate(args: argparse.Namespace) -> int:
    from contract_tests.html_report import write_html

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    junit, ledger, html = out / "junit.xml", out / "ledger.json", out / "report.html"
    for stale in (junit, ledger, html):
        stale.unlink(missing_ok=True)
    scrub = Scrubber(environment_secrets(dict(os.environ)))
    started = time.time()
    code = run_scrubbed(suite_command(args, junit, ledger), scrub)
    scrub_file(junit, scrub)
    scrub_file(ledger, scrub)
    results = read_junit(junit)
    write_html(
        html,
        api=args.api,
        base_url=scrub(public_url(args.base_url)),
        started=started,
        exit_code=code,
        results=results,
        ledger=read_ledger(ledger),
        scrub=scrub,
    )
    print(
        f"chatmock validate: {results.passed} passed, {results.failures + results.errors} failed, {results.skipped} skipped",
        file=sys.stderr,
    )
    print(f"reports: {junit} {ledger if ledger.exists() else '(no ledger)'} {html}", file=sys.stderr)
    return code


def add_command(commands: Any) -> None:
    parser = commands.add_parser("validate", help="run the contract suite against a live API and write JUnit XML + HTML reports")
    parser.add_argument("--api", required=True, choices=API_NAMES, help="the API to validate")
    parser.add_argument("--base-url", required=True, help="the server's base URL, e.g. http://lingr.com (credentials: CHATMOCK_<API>_*)")
    parser.add_argument("--out", default="reports", help="directory for junit.xml, ledger.json and report.html (default: reports)")
    parser.add_argument("--allow-writes", action="store_true", help="also run tests that post (needs CHATMOCK_<API>_ROOM)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments, after --")
    parser.set_defaults(handler=run_validate)
