"""``chatmock validate``: the contract suite against one live API, with reports.

    chatmock validate --api lingr --base-url http://lingr.com [--out reports]

Runs ``pytest contract_tests --target live --api NAME --base-url NAME=URL --out DIR`` in a
fresh interpreter (so pytest's plugins load cleanly; credentials from ``CHATMOCK_<API>_*`` as
the suite reads them), prints a progress bar to stderr, and writes into ``--out``:
``junit.xml`` (pytest's ``--junitxml``), ``ledger.json`` (the coverage ledger, with the
drifting endpoints), ``report.html`` (self-contained: failures grouped by cause with their curl
lines, skip reasons, the endpoint table with its ledger row) and hypothesis' database
(``.hypothesis``). A run that cannot start (no credentials, an unreachable server, a malformed
URL) says why in one line and exits 2, writing nothing.

Secret values never reach a report or the terminal: the suite scrubs every report, the
terminal and so the JUnit XML with the secrets it knows or learns while it runs
(:mod:`contract_tests.vault`), and this command scrubs the child's output, the XML and the
ledger once more with the credentials of the environment before building the HTML from them.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import pytest

from contract_tests.config import SuiteConfig
from contract_tests.vault import SecretVault
from mockserver.apis import API_NAMES

SUITE_DIR = Path(__file__).resolve().parent
BAR_WIDTH = 20
EXIT_USAGE = 2
Scrubber = SecretVault  # the name this module has always given it


def environment_secrets(environ: dict[str, str]) -> list[str]:
    return SuiteConfig(environ=environ).secrets()


def public_url(url: str) -> str:
    """A base URL without user info or query (either may carry a credential)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# progress -------------------------------------------------------------------------------
class Progress:
    """A pytest plugin printing ``[#####.....] n/N outcome test`` to ``stream`` after each test
    (only the selected tests count; under pytest-xdist the total comes from the workers)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = max(self.total, len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if not finished:
            return
        self.done += 1
        self.stream.write(f"{bar(self.done, self.total)} {report.outcome:<7} {report.nodeid}\n")
        self.stream.flush()


def pytest_configure(config: pytest.Config) -> None:
    """Loaded with ``-p contract_tests.report``: show the progress bar (on the controller only)."""
    if not hasattr(config, "workerinput"):
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
    cause: str = ""  # the title of its cause, when it reports one (see contract_tests.causes)
    endpoint: str = ""


@dataclass
class Skip:
    test: str
    reason: str
    blocked_by: str = ""  # the title of the cause that blocked it


@dataclass
class Results:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failed: list[Failure] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    @property
    def blocked(self) -> int:
        return sum(1 for skip in self.skips if skip.blocked_by)


# a curl line in a failure text: after "reproduce:", on a line of its own, or after pytest's "E   " marker
_CURL = re.compile(r"(?m)^(?:E\s+)?\s*(?:reproduce:\s*)?(curl\s.+)$")


def scrub_file(path: Path, scrub: Callable[[str], str]) -> None:
    if path.exists():
        path.write_text(scrub(path.read_text(encoding="utf-8")), encoding="utf-8")


def _properties(case: ET.Element) -> dict[str, str]:
    return {item.get("name", ""): item.get("value", "") for item in case.iter("property")}


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
            properties = _properties(case)
            for kind in ("failure", "error"):
                for element in case.findall(kind):
                    detail = element.text or ""
                    curls = list(dict.fromkeys(found.group(1).strip() for found in _CURL.finditer(detail)))
                    if properties.get("chatmock_curl"):
                        curls = [properties["chatmock_curl"], *(line for line in curls if line != properties["chatmock_curl"])]
                    results.failed.append(
                        Failure(
                            name,
                            kind,
                            element.get("message", ""),
                            detail,
                            curls,
                            cause=properties.get("chatmock_cause", ""),
                            endpoint=properties.get("chatmock_endpoint", ""),
                        )
                    )
            for element in case.findall("skipped"):
                reason = element.get("message", "")
                results.skips.append(Skip(name, reason, properties.get("chatmock_blocked_by", "") or _blocked_by(reason)))
    return results


def _blocked_by(reason: str) -> str:
    """The cause's title in a skip reason ``blocked by <title>: see its failure ...``."""
    if not reason.startswith("blocked by "):
        return ""
    return reason.removeprefix("blocked by ").split(": see its failure", 1)[0]


def read_ledger(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# the command ------------------------------------------------------------------------------
def suite_command(args: argparse.Namespace, junit: Path, out: Path) -> list[str]:
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
        "--out",
        str(out.resolve()),
    ]
    if args.allow_writes:
        argv.append("--allow-writes")
    extra = list(args.pytest_args or ())
    return argv + (extra[1:] if extra[:1] == ["--"] else extra)


def _pump(source: IO[str], sink: TextIO, scrub: SecretVault) -> None:
    for line in source:
        sink.write(scrub(line))
        sink.flush()


def run_scrubbed(command: list[str], scrub: SecretVault) -> int:
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
    code = run_scrubbed(suite_command(args, junit, out), scrub)
    if code == EXIT_USAGE and not junit.exists():
        return code  # the suite said in one line why it could not start
    scrub_file(junit, scrub)
    scrub_file(ledger, scrub.scrub_values)  # JSON: its labels name secrets ("invalid_user_credentials"), its values are counts
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
    blocked = f" ({results.blocked} blocked by a failure's cause)" if results.blocked else ""
    print(
        f"chatmock validate: {results.passed} passed, {results.failures + results.errors} failed, {results.skipped} skipped{blocked}",
        file=sys.stderr,
    )
    print(f"reports: {junit} {ledger if ledger.exists() else '(no ledger)'} {html}", file=sys.stderr)
    return code


def add_command(commands: Any) -> None:
    parser = commands.add_parser("validate", help="run the contract suite against a live API and write JUnit XML + HTML reports")
    parser.add_argument("--api", required=True, choices=API_NAMES, help="the API to validate")
    parser.add_argument("--base-url", required=True, help="the server's base URL, e.g. http://lingr.com (credentials: CHATMOCK_<API>_*)")
    parser.add_argument(
        "--out", default="reports", help="directory for junit.xml, ledger.json, report.html and .hypothesis (default: reports)"
    )
    parser.add_argument("--allow-writes", action="store_true", help="also run tests that post (needs CHATMOCK_<API>_ROOM)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments, after --")
    parser.set_defaults(handler=run_validate)
