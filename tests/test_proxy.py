"""The validating proxy: forwards to an upstream over HTTP and reports drift per endpoint."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from contract_tests.server import free_port, serve_in_thread
from mockserver import create_app
from mockserver.cli import _extra_commands as extra_commands
from mockserver.cli import build_parser
from mockserver.proxy.app import DRIFT_PATH, create_proxy_app
from mockserver.proxy.command import finish

Transform = Callable[[str, Any], Any]


def planted(app: Any, transform: Transform) -> Any:
    """An ASGI middleware that rewrites JSON response bodies: a deviation from the contract."""

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
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            with contextlib.suppress(ValueError):  # not JSON: unchanged
                body = json.dumps(transform(scope["path"], json.loads(body))).encode()
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def drop_public_id_and_break_counter(path: str, body: Any) -> Any:
    if path.endswith("/api/session/create") and isinstance(body, dict):
        body.pop("public_id", None)
    if path.endswith("/api/room/subscribe") and isinstance(body, dict):
        body["counter"] = str(body.get("counter"))
    return body


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(create_app(strict=True)) as server:
        yield server.url


@pytest.fixture(scope="module")
def drifting_upstream() -> Iterator[str]:
    with serve_in_thread(planted(create_app(), drop_public_id_and_break_counter)) as server:
        yield server.url


def lingr_session(client: TestClient) -> str:
    login = client.post("/api/session/create", data={"user": "alice", "password": "alice-password"})
    assert login.status_code == 200, login.text
    session = login.json()["session"]
    assert client.get("/api/user/get_rooms", params={"session": session}).json()["status"] == "ok"
    assert client.post("/api/room/subscribe", data={"session": session, "room": "lounge"}).status_code == 200
    said = client.post("/api/room/say", data={"session": session, "room": "lounge", "nickname": "alice", "text": "hi"})
    assert said.json()["status"] == "ok"
    assert client.get("/api/room/show", params={"session": session, "room": "lounge"}).status_code == 200
    return str(session)


def test_conforming_traffic_passes_through_with_no_drift(upstream: str) -> None:
    app = create_proxy_app("lingr", upstream + "/lingr")
    with TestClient(app) as client:
        lingr_session(client)
        wrong = client.get("/api/session/verify", params={"session": "nope"})
        assert wrong.json()["code"] == "invalid_session"  # an error passes through as it came
        report = client.get(DRIFT_PATH).json()
    assert report["summary"]["drifting_endpoints"] == []
    assert report["summary"]["findings"] == 0
    endpoints = report["endpoints"]
    assert set(endpoints) >= {"lingr.session.create", "lingr.user.get_rooms", "lingr.room.say", "lingr.room.show", "lingr.session.verify"}
    assert all(entry["requests"] == entry["conforming"] for entry in endpoints.values())


def test_planted_deviation_is_reported_by_endpoint_and_field(drifting_upstream: str, capsys: pytest.CaptureFixture[str]) -> None:
    app = create_proxy_app("lingr", drifting_upstream + "/lingr")
    with TestClient(app) as client:
        session = lingr_session(client)
        report = client.get(DRIFT_PATH).json()
    assert sorted(report["summary"]["drifting_endpoints"]) == ["lingr.room.subscribe", "lingr.session.create"]
    (missing,) = report["endpoints"]["lingr.session.create"]["drift"]
    assert missing["field"] == "$.public_id"
    assert missing["instance_path"] == "$"
    assert "public_id" in missing["problem"]
    assert missing["schema_path"].endswith("/required")
    assert missing["status"] == 200
    assert missing["count"] == 1
    (wrong_type,) = report["endpoints"]["lingr.room.subscribe"]["drift"]
    assert wrong_type["field"] == "$.counter"
    assert "expected type integer, got string" in wrong_type["problem"]
    assert wrong_type["example"].startswith('"')
    assert wrong_type["example"].strip('"').isdigit()
    # neither the JSON report nor the table printed at exit holds a secret of the session
    text = json.dumps(report)
    assert session not in text
    assert "alice-password" not in text
    assert finish(app.state.proxy.report, None, None) == 0
    table = capsys.readouterr().out
    assert "lingr.session.create" in table
    assert "$.public_id" in table
    assert "required field 'public_id' missing" in table
    assert session not in table
    assert "alice-password" not in table


def test_example_values_are_redacted() -> None:
    def leak_token_as_number(path: str, body: Any) -> Any:
        if isinstance(body, dict) and "data" in body:
            body["data"]["authToken"] = 12345  # wrong type: the example must still not show the value
            body["data"]["me"]["emails"] = "alice@example.com"
        return body

    with serve_in_thread(planted(create_app(), leak_token_as_number)) as server:
        app = create_proxy_app("rocketchat", server.url + "/rocketchat")
        with TestClient(app) as client:
            client.post("/api/v1/login", data={"user": "alice", "password": "alice-password"})
            report = client.get(DRIFT_PATH).json()
    drift = {item["field"]: item for item in report["endpoints"]["rocketchat.login"]["drift"]}
    assert "$.data.authToken" in drift
    assert "$.data.me.emails" in drift
    assert "12345" not in json.dumps(report)
    assert "alice@example.com" not in json.dumps(report)
    assert drift["$.data.authToken"]["example"] == "0"
    assert re.fullmatch(r'"redacted[0-9]+@example\.com"', drift["$.data.me.emails"]["example"])


def test_undocumented_paths_are_forwarded_and_listed(upstream: str) -> None:
    with TestClient(create_proxy_app("lingr", upstream + "/lingr")) as client:
        response = client.get("/api/no/such/thing")
        report = client.get(DRIFT_PATH).json()
    direct = httpx.get(upstream + "/lingr/api/no/such/thing")
    assert (response.status_code, response.content) == (direct.status_code, direct.content)  # the upstream's answer
    assert report["unmatched"] == [{"method": "GET", "path": "/api/no/such/thing", "count": 1}]


def test_binary_bodies_stream_through_unchanged(upstream: str) -> None:
    with TestClient(create_proxy_app("bocco", upstream + "/bocco")) as proxied, TestClient(create_app()) as direct:
        token = proxied.post(
            "/alpha/sessions", data={"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
        )
        access_token = token.json()["access_token"]
        rooms = proxied.get("/alpha/rooms/joined", params={"access_token": access_token}).json()
        audio = next(message["audio"] for room in rooms for message in room["messages"] if message["audio"])
        path = audio.split("/bocco", 1)[1]
        through = proxied.get(path, params={"access_token": access_token})
        report = proxied.get(DRIFT_PATH).json()
        direct_token = direct.post(
            "/bocco/alpha/sessions", data={"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
        ).json()["access_token"]
        expected = direct.get("/bocco" + path, params={"access_token": direct_token})
    assert through.status_code == 200
    assert through.content == expected.content
    assert len(through.content) > 0
    assert report["summary"]["findings"] == 0, report


def test_cli_offers_proxy_and_record() -> None:
    parser = build_parser(extra_commands())
    proxy = parser.parse_args(["proxy", "--api", "lingr", "--upstream", "http://lingr.com", "--record", "out", "--report", "r.json"])
    assert (proxy.port, proxy.host, proxy.record, proxy.report) == (8001, "127.0.0.1", "out", "r.json")
    record = parser.parse_args(["record", "--api", "rocketchat", "--upstream", "http://localhost:3000", "--out", "dir", "--port", "9"])
    assert (record.out, record.port) == ("dir", 9)


def test_unknown_api_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.cli import main

    assert main(["proxy", "--api", "nope", "--upstream", "http://127.0.0.1:9"]) == 2
    assert "nope" in capsys.readouterr().err


def test_command_prints_the_table_at_exit_and_writes_the_report(upstream: str, tmp_path: Path) -> None:
    port = free_port()
    report_file = tmp_path / "drift.json"
    command = [sys.executable, "-m", "mockserver.cli", "proxy", "--api", "lingr", "--upstream", upstream + "/lingr"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--report", str(report_file), "--record", str(tmp_path / "rec")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}{DRIFT_PATH}")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.05)
        login = httpx.post(f"http://127.0.0.1:{port}/api/session/create", data={"user": "alice", "password": "alice-password"})
        session = login.json()["session"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "lingr.session.create" in out
    assert report_file.exists()
    written = out + err + report_file.read_text() + "".join(file.read_text() for file in (tmp_path / "rec").rglob("*.json"))
    assert session not in written
    assert "alice-password" not in written


# the checks behind the report (mockserver.core.conformance, rendered without secrets) ----------
def test_header_and_stream_item_drift_is_reported_by_field() -> None:
    from mockserver.core.paths import fixtures_dir
    from mockserver.core.registry import load_registry
    from mockserver.proxy.check import check_response, check_stream_item
    from mockserver.proxy.redact import Redactor

    registry = load_registry()
    endpoint = registry.endpoint("gitter.rooms.chatMessages.get")
    message = json.loads((fixtures_dir() / "gitter" / "gitter.rooms.chatMessages.get.200.docs.json").read_text(encoding="utf-8"))
    headers = {"content-type": "application/json; charset=utf-8", "X-RateLimit-Limit": "lots"}
    findings = check_response(endpoint, 200, headers, json.dumps(message).encode(), Redactor())
    by_field = {finding.field: finding for finding in findings}
    assert by_field["header X-RateLimit-Remaining"].problem == "header X-RateLimit-Remaining missing"
    assert by_field["header X-RateLimit-Limit"].problem == "header X-RateLimit-Limit: does not match the pattern ^[0-9]+$"
    assert by_field["header X-RateLimit-Reset"].problem == "header X-RateLimit-Reset missing"
    assert [finding.kind for finding in findings] == ["header", "header", "header"]
    stream = registry.endpoint("gitter.stream.chatMessages")
    assert check_stream_item(stream, 200, json.dumps(message).encode(), Redactor()) == []
    assert check_stream_item(stream, 200, b"  ", Redactor()) == []
    (broken,) = check_stream_item(stream, 200, json.dumps({**message, "text": 5}).encode(), Redactor())
    assert (broken.kind, broken.field, broken.problem, broken.example) == (
        "stream-item",
        "$.text",
        "expected type string, got integer",
        "5",
    )


# binding and CORS, as chatmock serve ------------------------------------------------------------
def test_proxy_binds_as_serve_does(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.cli import main

    monkeypatch.delenv("CHATMOCK_ADMIN_TOKEN", raising=False)
    for command in ("proxy", "record"):
        extra = ["--out", "unused"] if command == "record" else []
        assert main([command, "--api", "lingr", "--upstream", "http://127.0.0.1:9", "--host", "0.0.0.0", *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "CHATMOCK_ADMIN_TOKEN" in err
    with serve_in_thread(create_app(["lingr"])) as busy:
        assert main(["proxy", "--api", "lingr", "--upstream", "http://127.0.0.1:9", "--port", str(busy.port)]) == 2
    assert f"port {busy.port} is already in use" in capsys.readouterr().err


def test_proxy_cors_answers_preflights_and_keeps_admin_out(upstream: str) -> None:
    from mockserver.proxy.command import served_app

    app = served_app(create_proxy_app("lingr", upstream + "/lingr"), cors=True, origins=None)
    with TestClient(app) as client:
        preflight = client.options("/api/session/create", headers={"Origin": "http://bot.example", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
        login = client.post(
            "/api/session/create", data={"user": "alice", "password": "alice-password"}, headers={"Origin": "http://bot.example"}
        )
        assert login.json()["status"] == "ok"
        assert login.headers["access-control-allow-origin"] == "*"
        drift = client.get(DRIFT_PATH, headers={"Origin": "http://bot.example"})
        assert "access-control-allow-origin" not in drift.headers


def test_the_drift_report_needs_the_admin_token_when_one_is_set(upstream: str) -> None:
    with TestClient(create_proxy_app("lingr", upstream + "/lingr", admin_token="s3cret-admin")) as client:
        assert client.get(DRIFT_PATH).status_code == 401
        assert client.get(DRIFT_PATH, headers={"x-chatmock-admin-token": "wrong"}).status_code == 401
        assert client.get(DRIFT_PATH, headers={"x-chatmock-admin-token": "s3cret-admin"}).json()["api"] == "lingr"


def test_the_drift_report_hides_a_short_session_in_an_unmatched_path(upstream: str) -> None:
    with TestClient(create_proxy_app("lingr", upstream + "/lingr")) as client:
        session = lingr_session(client)
        client.get(f"/api/nosuch/{session}")
        report = client.get(DRIFT_PATH).json()
    assert report["unmatched"]
    assert session not in json.dumps(report)
