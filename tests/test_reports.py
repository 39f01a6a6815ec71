"""``chatmock validate``: the contract suite against a mock on a free port, as against a live
Lingr server, writing JUnit XML + a self-contained HTML report with no secret in either."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.report import Progress, Scrubber, bar, public_url, read_junit
from contract_tests.server import serve_in_thread
from mockserver.app import create_app

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "alice-password"
# A failing test whose message carries secrets the way a careless assertion would: the
# password from the environment and a session id the suite never saw.
LEAKY_TEST = """
import os

def test_lingr_leaky_failure():
    password = os.environ["CHATMOCK_LINGR_PASSWORD"]
    raise AssertionError(
        f"lingr.room.show: undocumented status 500 (password {password})\\n"
        f"  reproduce: curl -sS -X GET 'http://example.invalid/api/room/show?room=lounge&session=Zk3SeSSioN'\\n"
        f"  {{'session': 'Zk3SeSSioN', 'password': '{password}'}}"
    )
"""


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serve_in_thread(create_app(["lingr"], root=False, longpoll_timeout=0.2)) as server:
        yield server.url


@pytest.fixture(scope="module")
def validated(mock_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("validate")
    leaky = work / "test_leaky.py"
    leaky.write_text(LEAKY_TEST, encoding="utf-8")
    out = work / "out"
    env = {
        **os.environ,
        "CHATMOCK_LINGR_USER": "alice",
        "CHATMOCK_LINGR_PASSWORD": PASSWORD,
        "CHATMOCK_LINGR_OBSERVE_URL": f"{mock_url}/lingr",
        "CHATMOCK_HYPOTHESIS_PROFILE": "live",
        "CHATMOCK_RATE_LIMIT": "0",
    }
    command = [sys.executable, "-m", "mockserver.cli", "validate", "--api", "lingr", "--base-url", f"{mock_url}/lingr", "--out", str(out)]
    command += ["--", str(leaky), "-k", "lingr and (valid_request_succeeds or wrong_credentials or leaky)"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done, out


def test_validate_writes_junit_and_html(validated: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, out = validated
    assert done.returncode == 1, done.stderr[-2000:]  # the leaky test fails, the suite passes
    root = ET.parse(out / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert any("test_valid_request_succeeds[lingr.room.show]" in (case.get("name") or "") for case in cases)
    results = read_junit(out / "junit.xml")
    assert results.tests == len(cases) > 10
    assert [failure.test.rsplit(":", 1)[-1] for failure in results.failed] == ["test_lingr_leaky_failure"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert "http-equiv" not in page
    for endpoint_id in ("lingr.session.create", "lingr.room.show", "lingr.event.observe"):
        assert endpoint_id in page
    assert "Coverage ledger:" in page
    assert "documented responses exercised" in page
    assert "curl -sS -X GET" in page
    assert "session=${SECRET}" in page
    assert (out / "ledger.json").exists()


def test_no_secret_in_any_report(validated: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, out = validated
    for name in ("junit.xml", "report.html", "ledger.json"):
        text = (out / name).read_text(encoding="utf-8")
        for secret in (PASSWORD, "Zk3SeSSioN"):
            assert secret not in text, f"{secret!r} written to {name}"
    assert PASSWORD not in done.stderr
    assert PASSWORD not in done.stdout


def test_progress_bar_one_line_per_test(validated: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, _out = validated
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    total = int(lines[-1].split()[1].split("/")[1])
    assert len(lines) == total
    assert lines[-1].startswith("[" + "#" * 20 + "]")


def test_progress_plugin_and_helpers() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.total = 4
    report = pytest.TestReport("t.py::test_a", ("t.py", 1, "test_a"), {}, "passed", None, "call")
    progress.pytest_runtest_logreport(report)
    assert stream.getvalue() == "[#####...............] 1/4 passed  t.py::test_a\n"
    assert bar(0, 0) == "[####################] 0/0"
    assert public_url("https://user:pw@chat.example.com:8443/base?token=x") == "https://chat.example.com:8443/base"
    scrub = Scrubber(["s3cr3t-value"])
    assert scrub("Authorization: Bearer abc.def X-Auth-Token: tok access_token=q s3cr3t-value") == (
        "Authorization: Bearer ${SECRET} X-Auth-Token: ${SECRET} access_token=${SECRET} ${SECRET}"
    )
    # one vocabulary of secret names (mockserver.core.secrets): JSON keys, headers, query parameters
    assert scrub('{"session": "abc123", "counter": 5} ?refresh_token=zz9&room=lounge Proxy-Authorization: Basic qq8 public_id=P1') == (
        '{"session": "${SECRET}", "counter": 5} ?refresh_token=${SECRET}&room=lounge Proxy-Authorization: Basic ${SECRET} public_id=P1'
    )
