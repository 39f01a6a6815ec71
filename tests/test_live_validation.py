"""A live validation end to end: ``chatmock validate`` against a served Lingr mock made to drift
(``room/show`` sends message ids as integers), through ``chatmock record`` (the validating,
recording proxy), with a careless test that prints an issued session id in its assertion.

Every token the mock issued during the run is then looked for in every output: the terminal,
``junit.xml``, ``report.html``, ``ledger.json``, hypothesis' database, the recordings, the
proxy's drift report and output. None may be there. And the one drifting endpoint is reported
once, with its curl line, while the other endpoints' tests pass.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.html_report import _STYLE
from contract_tests.report import read_junit
from mockserver.app import create_app
from mockserver.background import free_port, serve_in_thread
from mockserver.core.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "alice-password"
DRIFTING = "lingr.room.show"
# the suite's library, used as a flow test would; then an assertion that quotes the session
CARELESS_TEST = """
import os

from contract_tests.apis import support
from contract_tests.config import from_options
from contract_tests.targets import open_target


def test_lingr_careless_assertion():
    target = open_target(from_options("live", ["lingr"], None, False))
    try:
        credential = support("lingr").login(target)
        session = credential.values["session"]
        print("logged in with", session, "and", os.environ["CHATMOCK_LINGR_PASSWORD"])
        raise AssertionError(f"lingr said {{'session': {session!r}}}; in a text: hello{session}world")
    finally:
        target.close()
"""
SELECTED = "lingr and (valid_request_succeeds or generated or missing_credentials or careless)"


@dataclass(repr=False)
class Run:
    validate: subprocess.CompletedProcess[str]
    record_out: str
    record_code: int
    out: Path
    recordings: Path
    drift_report: Path
    issued: list[str] = field(default_factory=list)  # every session the mock issued during the run
    known: list[str] = field(default_factory=list)  # the mock's secrets at the end (passwords, live sessions)


def drifting(app: Any, issued: list[str]) -> Any:
    """The mock, with ``room/show``'s message ids sent as integers; every session it issues is noted."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict):
                if isinstance(document.get("session"), str):
                    issued.append(document["session"])
                if scope["path"].endswith("/api/room/show"):
                    for room in document.get("rooms", []):
                        for item in room.get("messages", []):
                            item["id"] = int(item["id"])
                    body = json.dumps(document).encode()
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def _clean_environ() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(("CHATMOCK_", "HYPOTHESIS_"))}


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("live")
    careless = work / "test_careless.py"
    careless.write_text(CARELESS_TEST, encoding="utf-8")
    issued: list[str] = []
    mock = create_app(["lingr"], root=False, longpoll_timeout=0.3)
    with serve_in_thread(drifting(mock, issued)) as upstream:
        port = free_port()
        front = f"http://127.0.0.1:{port}"
        recordings, drift_report = work / "recordings", work / "drift.json"
        record = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockserver.cli",
                "record",
                "--api",
                "lingr",
                "--upstream",
                f"{upstream.url}/lingr",
                "--port",
                str(port),
                "--out",
                str(recordings),
                "--report",
                str(drift_report),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_clean_environ(),
        )
        try:
            _wait_for(front + "/__chatmock/drift", record)
            env = {
                **_clean_environ(),
                "CHATMOCK_LINGR_USER": "alice",
                "CHATMOCK_LINGR_PASSWORD": PASSWORD,
                "CHATMOCK_LINGR_ROOM": "lounge",
                "CHATMOCK_LINGR_URL": front,  # for the careless test, which reads its config as the suite does
                "CHATMOCK_LINGR_OBSERVE_URL": front,
                "CHATMOCK_RATE_LIMIT": "0",
                "CHATMOCK_HYPOTHESIS_PROFILE": "live",
            }
            out = work / "out"
            command = [sys.executable, "-m", "mockserver.cli", "validate", "--api", "lingr", "--base-url", front, "--out", str(out)]
            command += ["--allow-writes", "--", str(careless), "-l", "-k", SELECTED]
            validate = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
        finally:
            record.send_signal(signal.SIGTERM)
            record_out, record_err = record.communicate(timeout=30)
        yield Run(
            validate, record_out + record_err, record.returncode, out, recordings, drift_report, issued, mock.state.chatmock.secrets()
        )


def _outputs(run: Run) -> dict[str, bytes]:
    found = {"terminal": (run.validate.stdout + run.validate.stderr).encode(), "record command": run.record_out.encode()}
    for root in (run.out, run.recordings):
        for file in sorted(root.rglob("*")):
            if file.is_file():
                found[str(file.relative_to(root.parent))] = file.read_bytes()
    found["drift report"] = run.drift_report.read_bytes()
    return found


def test_the_run_fails_on_the_drift_and_the_careless_test(run: Run) -> None:
    assert run.validate.returncode == 1, run.validate.stderr[-3000:]
    assert run.record_code == 0, run.record_out[-2000:]  # the recording's leak check found nothing
    assert {"junit.xml", "report.html", "ledger.json"} <= {file.name for file in run.out.iterdir()}
    assert (run.out / ".hypothesis").is_dir()
    assert not (Path(run.out.parent) / ".hypothesis").exists(), "hypothesis' database belongs in --out"


def test_no_issued_token_or_password_leaves_the_process(run: Run) -> None:
    assert len(set(run.issued)) >= 5, "the run issued sessions (the check below means something)"
    assert all(len(session) == 6 for session in run.issued), "Lingr session ids are 6 characters"
    assert PASSWORD in run.known
    outputs = _outputs(run)
    assert any(name.endswith(".json") and "recordings" in name for name in outputs), "the proxy recorded fixtures"
    secrets = {*run.issued, *run.known}
    leaks = [(secret, name) for secret in secrets for name, data in outputs.items() if secret.encode() in data]
    assert leaks == [], f"{len(leaks)} secret(s) written, e.g. in {sorted({name for _, name in leaks})[:5]}"
    # the careless test's session and password are in its message and output, as placeholders
    terminal = run.validate.stdout
    assert "hello${SECRET}world" in terminal
    assert "logged in with ${SECRET} and ${SECRET}" in terminal


def test_one_drifting_endpoint_is_reported_once(run: Run) -> None:
    results = read_junit(run.out / "junit.xml")
    failed = sorted(failure.test.rsplit("::", 1)[-1] for failure in results.failed)
    assert failed == ["test_lingr_careless_assertion", f"test_valid_request_succeeds[{DRIFTING}]"]
    drift = next(failure for failure in results.failed if DRIFTING in failure.test)
    assert drift.cause == f"{DRIFTING} drift ($.rooms[*].messages[*].id)"
    assert drift.curl
    assert "session=${SECRET}" in drift.curl[0]
    root = ET.parse(run.out / "junit.xml").getroot()
    outcome = {}
    for case in root.iter("testcase"):
        name = case.get("name", "")
        outcome[name] = "failed" if case.find("failure") is not None else "skipped" if case.find("skipped") is not None else "passed"
    others = sorted(endpoint.id for endpoint in load_registry().endpoints_of("lingr") if endpoint.id != DRIFTING)
    assert {endpoint_id: outcome.get(f"test_valid_request_succeeds[{endpoint_id}]") for endpoint_id in others} == dict.fromkeys(
        others, "passed"
    )
    blocked = [skip for skip in results.skips if skip.blocked_by]
    assert blocked
    assert {skip.blocked_by for skip in blocked} == {drift.cause}
    assert all("see its failure in" in skip.reason for skip in blocked)
    ledger = json.loads((run.out / "ledger.json").read_text(encoding="utf-8"))
    assert ledger["lingr"]["drifting"] == [DRIFTING]
    row = next(row for row in ledger["lingr"]["endpoints"] if row["endpoint"] == DRIFTING)
    (entry,) = row["drift"]
    assert entry["instance_path"].endswith(".id")
    assert entry["observed_type"] == "integer"
    assert entry["schema_path"].endswith("/id/type")
    assert entry["blocked"] == len(blocked)
    page = (run.out / "report.html").read_text(encoding="utf-8")
    assert page.count("<div class='cause'>") == 1
    assert page.count(f"{DRIFTING} drift ($.rooms[*].messages[*].id)</h3>") == 1
    assert "session=${SECRET}" in page
    assert "(no curl line)" not in page
    assert "Skipped, by reason" in page
    assert "class=drift" in page
    terminal = run.validate.stdout
    assert terminal.count("chatmock: failures by cause") == 1
    assert f"{DRIFTING} drift ($.rooms[*].messages[*].id): reported by" in terminal


def test_the_proxy_reports_the_drift_too(run: Run) -> None:
    report = json.loads(run.drift_report.read_text(encoding="utf-8"))
    assert report["summary"]["drifting_endpoints"] == [DRIFTING]


def test_the_html_report_wraps_to_the_window() -> None:
    """A 1280-pixel window: the page is at most 1240 px wide, tables share its width, long lines wrap."""
    assert "max-width:1240px" in _STYLE
    assert "table-layout:fixed" in _STYLE
    assert "white-space:pre-wrap" in _STYLE
    assert "overflow-wrap" in _STYLE


def uuids_as_integers(app: Any) -> Any:
    """BOCCO with ``rooms/joined``'s room uuids sent as integers: every test's discovery breaks."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/rooms/joined"):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            document = json.loads(b"".join(chunks))
            if isinstance(document, list):
                for number, room in enumerate(document):
                    room["uuid"] = number
            body = json.dumps(document).encode()
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def test_a_drift_met_in_discovery_is_reported_by_its_own_endpoint(tmp_path: Path) -> None:
    """Every BOCCO test discovers rooms first; the drift in ``rooms/joined`` is reported by
    ``rooms.joined``'s own test, though tests of other endpoints (run before it) broke on it first."""
    with serve_in_thread(uuids_as_integers(create_app(["bocco"], root=False, longpoll_timeout=0.2))) as server:
        env = {
            **_clean_environ(),
            "CHATMOCK_BOCCO_API_KEY": "bocco-api-key",
            "CHATMOCK_BOCCO_EMAIL": "alice@example.com",
            "CHATMOCK_BOCCO_PASSWORD": PASSWORD,
            "CHATMOCK_RATE_LIMIT": "0",
            "CHATMOCK_HYPOTHESIS_PROFILE": "live",
        }
        command = [sys.executable, "-m", "pytest", str(ROOT / "contract_tests"), "-p", "no:cacheprovider", "-q", "--target", "live"]
        command += ["--api", "bocco", "--base-url", f"bocco={server.url}/bocco", "-k", "valid_request_succeeds", "--out", str(tmp_path)]
        command += [f"--junitxml={tmp_path / 'junit.xml'}"]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout[-3000:]
    results = read_junit(tmp_path / "junit.xml")
    assert [failure.test.rsplit("::", 1)[-1] for failure in results.failed] == ["test_valid_request_succeeds[bocco.rooms.joined]"]
    assert results.failed[0].cause == "bocco.rooms.joined drift ($[*].uuid)"
    assert results.passed == 0
    writes = [skip for skip in results.skips if skip.reason == "writes need --allow-writes on a live target"]
    blocked = [skip for skip in results.skips if skip not in writes]
    assert len(writes) == 2
    assert len(blocked) == results.tests - 3
    assert {skip.blocked_by for skip in blocked} == {"bocco.rooms.joined drift ($[*].uuid)"}
    owner = "tests/test_endpoints.py::test_valid_request_succeeds[bocco.rooms.joined]"
    assert all(skip.reason.endswith(owner) for skip in blocked)
    ledger = json.loads((tmp_path / "ledger.json").read_text(encoding="utf-8"))
    assert ledger["bocco"]["drifting"] == ["bocco.rooms.joined"]
    assert "PASSWORD" not in done.stdout
    assert PASSWORD not in done.stdout
