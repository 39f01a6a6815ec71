"""The command line: schemas list / validate / openapi, and serve."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from contract_tests.server import free_port
from mockserver.cli import main
from mockserver.core.fixtures import fixtures
from mockserver.core.registry import load_registry

REGISTRY = load_registry()
SEED_FIXTURES = [fixture for fixture in fixtures() if fixture.source.startswith("seed:") and fixture.part != "request"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_names_every_endpoint_and_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schemas", "list")
    assert code == 0
    listed = {line.split()[0] for line in out.splitlines()}
    assert listed == set(REGISTRY.endpoints) | set(REGISTRY.models)
    assert "POST" in out
    assert "https://api.gitter.im/v1/rooms/{roomId}/chatMessages" in out


@pytest.mark.parametrize("fixture", SEED_FIXTURES, ids=lambda fixture: fixture.name)
def test_validate_accepts_each_seed_example_and_rejects_a_broken_copy(fixture, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status = [] if fixture.part == "model" else ["--status", str(fixture.status)]
    code, out, _ = run(capsys, "schemas", "validate", fixture.id, str(fixture.file), *status)
    assert code == 0, out
    instance = fixture.load()
    broken_file = tmp_path / "broken.json"
    field = _break(instance)
    broken_file.write_text(json.dumps(instance))
    code, out, _ = run(capsys, "schemas", "validate", fixture.id, str(broken_file), *status)
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("invalid:")
    assert field in lines[0], f"the error names {field!r}: {lines[0]}"


def _break(instance: object) -> str:
    """Give the first scalar field of the (first) object a wrong type; return its name."""
    node = instance
    while isinstance(node, list):
        node = node[0]
    assert isinstance(node, dict)
    for key, value in node.items():
        if isinstance(value, str):
            node[key] = 12345
            return key
        if isinstance(value, bool | int):
            node[key] = {"wrong": "type"}
            return key
    for value in node.values():
        if isinstance(value, dict | list) and value:
            return _break(value)
    raise AssertionError("nothing to break")


def test_validate_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text("{}")
    code, _, err = run(capsys, "schemas", "validate", "nope.nothing", str(good))
    assert code == 2
    assert "unknown endpoint id" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "schemas", "validate", "bocco.Message", str(bad))
    assert code == 2
    assert "not JSON" in err
    code, _, err = run(capsys, "schemas", "validate", "bocco.Message", str(tmp_path / "missing.json"))
    assert code == 2
    assert "cannot read" in err
    code, _, err = run(capsys, "schemas", "validate", "gitter.rooms.list", str(good), "--status", "299")
    assert code == 2
    assert "no status 299" in err


def test_validate_request_parameters(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    payload = tmp_path / "say.json"
    payload.write_text(json.dumps({"message": {"msg": "no rid"}}))
    code, out, _ = run(capsys, "schemas", "validate", "rocketchat.chat.sendMessage", str(payload), "--request")
    assert code == 1
    assert "rid" in out


@pytest.mark.parametrize("api", sorted(REGISTRY.apis))
def test_openapi_documents_are_valid(api: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schemas", "openapi", "--api", api)
    assert code == 0
    document = json.loads(out)
    validate(document)
    operations = {operation["operationId"] for item in document["paths"].values() for operation in item.values()}
    assert {endpoint.id for endpoint in REGISTRY.endpoints_of(api)} <= operations


def test_serve_starts_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, observe_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "serve",
            "--port",
            str(port),
            "--longpoll-timeout",
            "1",
            "--lingr-observe-port",
            str(observe_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/__chatmock/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, "chatmock serve exited"
                assert time.monotonic() < deadline, "chatmock serve did not come up"
                time.sleep(0.1)
        assert health.json()["apis"] == ["gitter", "rocketchat", "lingr", "bocco"]
        rooms = httpx.get(f"http://127.0.0.1:{port}/gitter/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
        assert rooms.status_code == 200
        assert rooms.json()
        # Lingr's observe on the second port (like the real :8080), with a session from the first
        session = httpx.post(
            f"http://127.0.0.1:{port}/lingr/api/session/create", data={"user": "alice", "password": "alice-password"}
        ).json()
        counter = httpx.post(
            f"http://127.0.0.1:{port}/lingr/api/room/subscribe", data={"session": session["session"], "room": "lounge"}
        ).json()["counter"]
        observed = httpx.get(
            f"http://127.0.0.1:{observe_port}/lingr/api/event/observe",
            params={"session": session["session"], "counter": counter},
            timeout=10,
        )
        assert observed.headers["content-type"].startswith("application/javascript")
        assert observed.json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/gitter" in output
    assert f"http://127.0.0.1:{port}/bocco" in output
    assert "alice-password" in output  # the documented default credentials are printed
    assert "chatmock stopped" in output


def test_serve_refuses_a_public_bind_without_an_admin_token(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATMOCK_ADMIN_TOKEN", raising=False)
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2
    assert "CHATMOCK_ADMIN_TOKEN" in err


def test_chatmock_test_runs_the_contract_suite(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver.cli",
            "test",
            "--api",
            "lingr",
            "--",
            "-q",
            "-k",
            "valid_request",
            "--ledger-json",
            str(tmp_path / "ledger.json"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.search(r"\b12 passed", result.stdout), result.stdout[-500:]
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert set(ledger) == {"lingr"}
