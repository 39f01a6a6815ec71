"""The command line: schemas list / validate / openapi, serve (and its --cors, head limit, core options), test/validate outputs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from contract_tests.server import free_port
from mockserver import cli, serve
from mockserver.app import create_app
from mockserver.background import HEADER_LIMIT, head_size, serve_in_thread, uvicorn_config
from mockserver.cli import build_parser, main
from mockserver.core.fixtures import fixtures
from mockserver.core.registry import load_registry
from mockserver.serve import with_cors

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
    assert not (tmp_path / ".hypothesis").exists(), "hypothesis' database goes to --out (default reports/), not the cwd"
    assert (tmp_path / "reports" / ".hypothesis").is_dir()


# serve --cors ------------------------------------------------------------------------------------
BROWSER_UI = "http://localhost:3000"


@pytest.fixture(scope="module")
def cors_client() -> Iterator[TestClient]:
    with TestClient(with_cors(create_app(["lingr", "gitter"]))) as client:
        yield client


def test_cors_answers_a_preflight_for_the_apis(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/gitter/v1/rooms",
        headers={"Origin": BROWSER_UI, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_cors_headers_on_a_simple_request(cors_client: TestClient) -> None:
    login = cors_client.post(
        "/lingr/api/session/create", data={"user": "alice", "password": "alice-password"}, headers={"Origin": BROWSER_UI}
    )
    assert login.json()["status"] == "ok"
    assert login.headers["access-control-allow-origin"] == "*"
    assert login.headers["access-control-expose-headers"] == "*"


def test_cors_never_reaches_the_admin_api(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/__chatmock/seed",
        headers={"Origin": BROWSER_UI, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code >= 400
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    health = cors_client.get("/__chatmock/health", headers={"Origin": BROWSER_UI})
    assert not any(name.startswith("access-control-") for name in health.headers)


def test_cors_origin_restricts_the_origins() -> None:
    with TestClient(with_cors(create_app(["lingr"]), [BROWSER_UI])) as client:
        allowed = client.get("/api/session/verify", params={"session": "x"}, headers={"Origin": BROWSER_UI})
        assert allowed.headers["access-control-allow-origin"] == BROWSER_UI
        other = client.get("/api/session/verify", params={"session": "x"}, headers={"Origin": "http://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_without_cors_a_preflight_gets_no_cors_headers() -> None:
    with TestClient(create_app(["lingr"])) as client:
        preflight = client.options("/api/session/create", headers={"Origin": BROWSER_UI, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers


# request heads ------------------------------------------------------------------------------------
def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def test_request_heads_over_the_limit_answer_431() -> None:
    with serve_in_thread(create_app(["gitter"], root=False)) as server:
        fine = raw_request(
            server.port,
            b"GET /gitter/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer gitter-token-alice\r\nX-Pad: "
            + b"a" * 30_000
            + b"\r\n\r\n",
        )
        assert fine.startswith(b"HTTP/1.1 200 ")
        huge = raw_request(server.port, b"GET /gitter/v1/rooms HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (HEADER_LIMIT * 3) + b"\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 431 ")
        many = b"".join(b"X-H%d: %s\r\n" % (index, b"b" * 1000) for index in range(HEADER_LIMIT // 1000 + 10))
        assert raw_request(server.port, b"GET /gitter/v1/rooms HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n").startswith(b"HTTP/1.1 431 ")
        # a large body is not a large head
        body = b"x" * (HEADER_LIMIT * 4)
        posted = raw_request(
            server.port,
            b"POST /gitter/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer gitter-token-alice\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body),
        )
        assert not posted.startswith(b"HTTP/1.1 431 "), posted[:80]


def test_the_head_limit_is_in_force_with_httptools() -> None:
    config = uvicorn_config(create_app(["lingr"]), "127.0.0.1", 1)
    config.load()
    assert config.http_protocol_class.__name__ == "HeadLimitedHttpToolsProtocol", "uvicorn[standard] installs httptools"
    assert config.http_protocol_class.head_limit == HEADER_LIMIT  # type: ignore[attr-defined]
    assert config.h11_max_incomplete_event_size == HEADER_LIMIT  # and with h11, should httptools be missing


# the core's options -------------------------------------------------------------------------------
def test_serve_passes_the_core_options(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    made: list[Any] = []

    def create(*args: Any, **kwargs: Any) -> Any:
        made.append(create_app(*args, **{**kwargs, "freeze_gc": False}))
        return made[-1]

    def no_loop(main: Any) -> None:
        main.close()

    monkeypatch.setattr(serve, "create_app", create)
    monkeypatch.setattr(serve, "run_loop", no_loop)
    monkeypatch.setenv("CHATMOCK_ADMIN_TOKEN", "t0ken-for-this-test")
    argv = ["serve", "--port", str(free_port()), "--api", "lingr", "--admin-host", "Mock.Example", "--admin-host", "ci-runner"]
    argv += ["--session-idle-timeout", "90", "--auth-failure-limit", "5", "--read-timeout", "2.5", "--log"]
    assert main(argv) == 0
    settings = made[0].state.chatmock.settings
    assert settings.admin_hosts == frozenset({"mock.example", "ci-runner"})
    assert (settings.session_idle_timeout, settings.auth_failure_limit, settings.read_timeout) == (90.0, 5, 2.5)
    assert callable(settings.on_exchange)
    assert "logging each request" in capsys.readouterr().out


def test_serve_defaults_leave_the_core_defaults() -> None:
    args = build_parser([serve.add_command]).parse_args(["serve"])
    assert serve._core_options(args) == {}
    args = build_parser([serve.add_command]).parse_args(["serve", "--host", "192.0.2.7"])
    assert serve._core_options(args) == {"admin_hosts": frozenset({"192.0.2.7"})}, "the banner's admin URL answers"


def test_a_seeded_banner_names_the_seeded_users(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def create(*args: Any, **kwargs: Any) -> Any:
        return create_app(*args, **{**kwargs, "freeze_gc": False})

    monkeypatch.setattr(serve, "create_app", create)
    monkeypatch.setattr(serve, "run_loop", lambda main: main.close())
    seed = tmp_path / "world.json"
    seed.write_text(json.dumps({"lingr": {"users": [{"username": "zed", "password": "zed-password", "name": "Zed"}], "rooms": []}}))
    assert main(["serve", "--port", str(free_port()), "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    assert f"world seeded from {seed}" in out
    assert "lingr       zed" in out
    assert "gitter      (none: an empty world)" in out
    assert "default credentials" not in out


# test / validate outputs ------------------------------------------------------------------------
def test_suite_output_goes_to_out(tmp_path: Path) -> None:
    from contract_tests.command import pytest_arguments

    parser = build_parser(cli._extra_commands())
    args = parser.parse_args(["test", "--api", "lingr", "--out", str(tmp_path / "out"), "--", "-q"])
    cli._keep_suite_output_in(args)
    argv = pytest_arguments(args)
    assert argv.count("--out") == 1
    assert argv[argv.index("--out") + 1] == str(tmp_path / "out")
    assert "-q" in argv


def test_head_size_finds_the_blank_line_across_reads() -> None:
    head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    assert head_size(0, b"", head + b"body") == (len(head), True)
    first, rest = head[:-1], head[-1:] + b"body"
    size, complete = head_size(0, b"", first)
    assert (size, complete) == (len(first), False)
    assert head_size(size, first[-3:], rest) == (len(head), True)
    assert head_size(0, b"", b"GET / HTTP/1.1\nHost: x\n\nbody") == (len(b"GET / HTTP/1.1\nHost: x\n\n"), True)
