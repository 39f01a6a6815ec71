"""Live runs cannot pass by accident: missing credentials, an unreachable server or a malformed
URL stop the run before any test with one line and exit 2; a live run in which no test ran
fails; tests of APIs not selected are deselected, not skipped; and the suite runs under
pytest-xdist, each worker with its own mock, the ledger merged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract_tests.apis import support
from contract_tests.config import SuiteConfig, from_options
from contract_tests.preflight import live_problem, missing_credentials, unreachable
from mockserver.app import create_app
from mockserver.background import free_port, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]
SUITE = str(ROOT / "contract_tests")
LINGR_LOGIN = {"CHATMOCK_LINGR_USER": "alice", "CHATMOCK_LINGR_PASSWORD": "alice-password"}


def clean_environ(**extra: str) -> dict[str, str]:
    found = {key: value for key, value in os.environ.items() if not key.startswith(("CHATMOCK_", "HYPOTHESIS_", "PYTEST_"))}
    return {**found, **extra}


def suite(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", SUITE, "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=tmp_path, env=clean_environ(**env), capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def lingr_mock() -> Iterator[str]:
    with serve_in_thread(create_app(["lingr"], root=False, longpoll_timeout=0.2)) as server:
        yield f"{server.url}/lingr"


# one line and exit 2, before any test ---------------------------------------------------------------
def test_missing_credentials_stop_the_run_in_one_line(tmp_path: Path, lingr_mock: str) -> None:
    done = suite(tmp_path, "--target", "live", "--api", "lingr", "--base-url", f"lingr={lingr_mock}")
    assert done.returncode == 2
    assert done.stderr == "chatmock: --target live --api lingr needs CHATMOCK_LINGR_USER and CHATMOCK_LINGR_PASSWORD\n"
    assert done.stdout == ""
    assert not (tmp_path / "reports").exists()


def test_an_unreachable_server_stops_the_run_in_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/lingr"
    done = suite(tmp_path, "--target", "live", "--api", "lingr", "--base-url", f"lingr={url}", **LINGR_LOGIN)
    assert done.returncode == 2
    assert done.stderr == f"chatmock: cannot reach {url} (lingr): connection refused\n"
    assert done.stdout == ""


def test_a_malformed_url_stops_the_run_in_one_line(tmp_path: Path) -> None:
    done = suite(tmp_path, "--target", "live", "--api", "lingr", "--base-url", "lingr=not-a-url", **LINGR_LOGIN)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("chatmock: the lingr base URL 'not-a-url' must start with http:// or https://")
    done = suite(tmp_path, "--target", "live", "--api", "lingr", **LINGR_LOGIN)
    assert done.returncode == 2
    assert done.stderr == "chatmock: --target live needs a base URL for lingr (CHATMOCK_<API>_URL or --base-url api=URL)\n"


def test_validate_without_credentials_says_so_and_writes_nothing(tmp_path: Path, lingr_mock: str) -> None:
    command = [
        sys.executable,
        "-m",
        "mockserver.cli",
        "validate",
        "--api",
        "lingr",
        "--base-url",
        lingr_mock,
        "--out",
        str(tmp_path / "out"),
    ]
    done = subprocess.run(command, cwd=tmp_path, env=clean_environ(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr == "chatmock: --target live --api lingr needs CHATMOCK_LINGR_USER and CHATMOCK_LINGR_PASSWORD\n"
    assert done.stdout == ""
    assert not any((tmp_path / "out" / name).exists() for name in ("junit.xml", "report.html", "ledger.json"))


def test_what_each_api_needs_is_named() -> None:
    config = SuiteConfig(target="live", apis=("gitter", "rocketchat", "bocco"), base_urls={}, environ={"CHATMOCK_BOCCO_EMAIL": "a@b.c"})
    assert missing_credentials(config) == (
        "--api gitter needs CHATMOCK_GITTER_TOKEN; "
        "--api rocketchat needs CHATMOCK_ROCKETCHAT_TOKEN and CHATMOCK_ROCKETCHAT_USER_ID, "
        "or CHATMOCK_ROCKETCHAT_USER and CHATMOCK_ROCKETCHAT_PASSWORD; "
        "--api bocco needs CHATMOCK_BOCCO_API_KEY, CHATMOCK_BOCCO_EMAIL and CHATMOCK_BOCCO_PASSWORD"
    )
    given = {"CHATMOCK_ROCKETCHAT_USER": "alice", "CHATMOCK_ROCKETCHAT_PASSWORD": "pw"}
    assert support("rocketchat").missing_live_credentials(given) is None


def test_reachability_is_one_request_and_any_answer_will_do() -> None:
    config = SuiteConfig(target="live", apis=("lingr",), base_urls={"lingr": "http://lingr.invalid"}, environ=LINGR_LOGIN)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(404)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert unreachable(config, client) is None
    assert seen == ["http://lingr.invalid/"]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        assert unreachable(config, client) == "cannot reach http://lingr.invalid (lingr): no answer within 10 s"


def test_the_credentials_are_checked_before_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATMOCK_LINGR_USER", raising=False)
    monkeypatch.delenv("CHATMOCK_LINGR_PASSWORD", raising=False)
    config = from_options("live", ["lingr"], ["lingr=http://127.0.0.1:9"], False)
    assert live_problem(config) == "--target live --api lingr needs CHATMOCK_LINGR_USER and CHATMOCK_LINGR_PASSWORD"


# nothing ran, nothing validated -----------------------------------------------------------------------
def test_a_live_run_where_no_test_ran_fails(tmp_path: Path, lingr_mock: str) -> None:
    # choosing a documented error with Prefer is a mock feature: on a live target these all skip
    done = suite(
        tmp_path, "-q", "--target", "live", "--api", "lingr", "--base-url", f"lingr={lingr_mock}", "-k", "documented_error", **LINGR_LOGIN
    )
    assert done.returncode == 5, done.stdout[-2000:]
    assert "chatmock: no test of lingr ran against the live server (see the skip reasons): nothing was validated" in done.stdout


# deselected, not skipped -------------------------------------------------------------------------------
def test_tests_of_apis_not_selected_are_deselected(tmp_path: Path) -> None:
    done = suite(tmp_path, "--collect-only", "-q", "--api", "bocco")
    assert done.returncode == 0, done.stdout[-2000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected
    assert all("bocco" in line for line in collected), [line for line in collected if "bocco" not in line][:3]
    assert "deselected" in done.stdout
    work = tmp_path / "run"
    work.mkdir()
    done = suite(work, "-q", "--api", "bocco", "-k", "valid_request_succeeds", "--out", str(work / "out"))
    assert done.returncode == 0, done.stdout[-2000:]
    progress = done.stdout.splitlines()[0]
    assert set(progress.split("[")[0].strip()) == {"."}, progress
    assert "skipped" not in done.stdout
    assert json.loads((work / "out" / "ledger.json").read_text()).keys() == {"bocco"}
    assert sorted(path.name for path in work.iterdir()) == ["out"], "with --out nothing is written elsewhere"
    assert (work / "out" / ".hypothesis").is_dir()


# pytest-xdist -----------------------------------------------------------------------------------------
def test_the_suite_runs_under_xdist_with_one_mock_per_worker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for target in ("inprocess", "http"):
        done = suite(tmp_path, "-q", "-n", "2", "--target", target, "--api", "lingr", "--out", str(out))
        assert done.returncode == 0, done.stdout[-3000:]
        assert "failed" not in done.stdout
        ledger = json.loads((out / "ledger.json").read_text(encoding="utf-8"))
        assert ledger["lingr"]["covered"] == ledger["lingr"]["documented"], "the workers' ledgers are merged"
        assert done.stdout.count("chatmock coverage ledger ===") == 1, "only the controller prints the ledger"
