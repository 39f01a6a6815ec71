"""Recording through the proxy: redacted, schema-valid fixtures, and the leak check."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contract_tests.server import serve_in_thread
from mockserver import create_app
from mockserver.core import paths
from mockserver.core.fixtures import load_fixtures
from mockserver.core.registry import load_registry
from mockserver.proxy.app import create_proxy_app
from mockserver.proxy.leaks import find_leaks, main
from mockserver.proxy.redact import Redactor

REGISTRY = load_registry()
PLACEHOLDER_UUID = re.compile(r"^00000000-0000-4000-8000-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(create_app(strict=True)) as server:
        yield server.url


def recorded_text(out: Path) -> str:
    return "\n".join(file.read_text(encoding="utf-8") for file in sorted(out.rglob("*.json")))


def assert_fixtures_valid(out: Path, api: str, expected: set[str]) -> None:
    fixtures = load_fixtures(out)
    assert {fixture.id for fixture in fixtures} >= expected
    for fixture in fixtures:
        assert fixture.api == api
        assert fixture.part == "response"
        assert fixture.source.startswith("recorded: ")
        assert fixture.status is not None
        errors = REGISTRY.response_errors(fixture.id, fixture.status, fixture.load())
        assert errors == [], f"{fixture.name}: {errors[:3]}"


def record_lingr(upstream: str, out: Path) -> dict[str, str]:
    with TestClient(create_proxy_app("lingr", upstream + "/lingr", record_dir=str(out))) as client:
        login = client.post("/api/session/create", data={"user": "alice", "password": "alice-password"}).json()
        session = login["session"]
        client.get("/api/user/get_rooms", params={"session": session})
        client.get("/api/room/show", params={"session": session, "room": "lounge"})
        client.post("/api/room/say", data={"session": session, "room": "lounge", "nickname": "alice", "text": "hello"})
        client.get("/api/room/get_archives", params={"session": session, "room": "lounge", "before": "1000009"})
        client.get("/api/session/verify", params={"session": session})
    return {"session": session, "public_id": login["public_id"], "password": "alice-password"}


def record_rocketchat(upstream: str, out: Path) -> tuple[dict[str, str], dict[str, Any]]:
    with TestClient(create_proxy_app("rocketchat", upstream + "/rocketchat", record_dir=str(out))) as client:
        login = client.post("/api/v1/login", data={"user": "alice@example.com", "password": "alice-password"}).json()["data"]
        headers = {"X-Auth-Token": login["authToken"], "X-User-Id": login["userId"]}
        client.get("/api/v1/rooms.get", headers=headers)
        posted = client.post("/api/v1/chat.postMessage", headers=headers, json={"channel": "#general", "text": "hello"}).json()
        client.get("/api/v1/channels.messages", headers=headers, params={"roomId": "GENERAL"})
        client.get("/api/v1/channels.history", headers=headers, params={"roomId": "GENERAL"})
        client.get("/api/v1/me", headers=headers)
        client.get("/api/v1/users.list", headers=headers)
        # a personal access token, as a bot would use
        client.get("/api/v1/me", headers={"X-Auth-Token": "rc-pat-alice", "X-User-Id": login["userId"]})
    secrets = {
        "authToken": login["authToken"],
        "userId": login["userId"],
        "bob": "boBy4Nq8HsK2dYe6T",
        "email": "alice@example.com",
        "bob-email": "bob@example.com",
        "password": "alice-password",
        "pat": "rc-pat-alice",
    }
    return secrets, posted


def test_lingr_session_is_recorded_without_secrets(upstream: str, tmp_path: Path) -> None:
    secrets = record_lingr(upstream, tmp_path)
    text = recorded_text(tmp_path)
    for name, value in secrets.items():
        assert value not in text, f"the session's {name} survived in the recording"
    assert_fixtures_valid(
        tmp_path, "lingr", {"lingr.session.create", "lingr.user.get_rooms", "lingr.room.show", "lingr.room.say", "lingr.room.get_archives"}
    )
    login = json.loads((tmp_path / "lingr" / "lingr.session.create.200.json").read_text())
    verify = json.loads((tmp_path / "lingr" / "lingr.session.verify.200.json").read_text())
    assert login["session"].startswith("redacted")
    assert login["session"] == verify["session"]
    said = json.loads((tmp_path / "lingr" / "lingr.room.say.200.json").read_text())["message"]
    assert said["speaker_id"].startswith("user")
    assert said["public_session_id"] == login["public_id"]
    assert find_leaks(tmp_path) == []


def test_rocketchat_session_is_recorded_without_secrets(upstream: str, tmp_path: Path) -> None:
    secrets, posted = record_rocketchat(upstream, tmp_path)
    text = recorded_text(tmp_path)
    for name, value in secrets.items():
        assert value not in text, f"the session's {name} survived in the recording"
    assert "@" not in text.replace("@example.com", "")
    assert_fixtures_valid(
        tmp_path,
        "rocketchat",
        {"rocketchat.login", "rocketchat.rooms.get", "rocketchat.chat.postMessage", "rocketchat.channels.messages", "rocketchat.me"},
    )
    directory = tmp_path / "rocketchat"
    login = json.loads((directory / "rocketchat.login.200.json").read_text())["data"]
    me = json.loads((directory / "rocketchat.me.200.json").read_text())
    message = json.loads((directory / "rocketchat.chat.postMessage.200.json").read_text())["message"]
    # the same user id gets the same placeholder in every file; shapes are kept
    assert login["userId"] == login["me"]["_id"] == me["_id"] == message["u"]["_id"]
    assert len(login["userId"]) == len(secrets["userId"])
    assert len(login["authToken"]) == len(secrets["authToken"])
    assert message["msg"] == posted["message"]["msg"] == "hello"  # content that is not personal data is kept
    index = json.loads((directory / "index.json").read_text())
    assert {key: value for key, value in index[-1].items() if key != "source"} == {
        "file": "rocketchat.me.200.2.json",
        "id": "rocketchat.me",
        "part": "response",
        "status": 200,
    }
    assert index[-1]["source"] == "recorded: GET /api/v1/me"
    assert find_leaks(tmp_path) == []


def test_bocco_and_gitter_placeholders_keep_id_shapes(upstream: str, tmp_path: Path) -> None:
    credentials = {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
    with TestClient(create_proxy_app("bocco", upstream + "/bocco", record_dir=str(tmp_path))) as client:
        session = client.post("/alpha/sessions", data=credentials).json()
        rooms = client.get("/alpha/rooms/joined", params={"access_token": session["access_token"]}).json()
        room = rooms[0]["uuid"]
        client.post(f"/alpha/rooms/{room}/messages", data={"access_token": session["access_token"], "text": "hi", "media": "text"})
        client.get(f"/alpha/rooms/{room}/messages", params={"access_token": session["access_token"]})
    with TestClient(create_proxy_app("gitter", upstream + "/gitter", record_dir=str(tmp_path))) as client:
        bearer = {"Authorization": "Bearer gitter-token-alice"}
        user = client.get("/v1/user", headers=bearer).json()[0]
        gitter_rooms = client.get("/v1/rooms", headers=bearer).json()
        client.post(f"/v1/rooms/{gitter_rooms[0]['id']}/chatMessages", headers=bearer, json={"text": "hi"})
    text = recorded_text(tmp_path)
    for value in (session["access_token"], session["uuid"], user["id"], "gitter-token-alice", "alice@example.com", "bocco-api-key"):
        assert value not in text
    for fixture in load_fixtures(tmp_path):
        assert REGISTRY.response_errors(fixture.id, fixture.status or 0, fixture.load()) == [], fixture.name
    recorded_session = json.loads((tmp_path / "bocco" / "bocco.sessions.create.200.json").read_text())
    assert PLACEHOLDER_UUID.match(recorded_session["uuid"])
    assert re.fullmatch(r"0+[1-9a-f][0-9a-f]*", recorded_session["access_token"])
    assert len(recorded_session["access_token"]) == 64
    recorded_user = json.loads((tmp_path / "gitter" / "gitter.user.get.200.json").read_text())[0]
    assert re.fullmatch(r"[0-9a-f]{24}", recorded_user["id"])
    assert recorded_user["id"].startswith("0000")
    assert find_leaks(tmp_path) == []


def test_leak_check_catches_planted_secrets(upstream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets, _ = record_rocketchat(upstream, tmp_path)
    assert main([str(tmp_path)]) == 0
    planted = tmp_path / "rocketchat" / "rocketchat.login.200.json"
    document = json.loads(planted.read_text())
    document["data"]["authToken"] = secrets["authToken"]
    planted.write_text(json.dumps(document))
    (tmp_path / "rocketchat" / "extra.json").write_text(
        json.dumps({"note": "Authorization: Bearer gitter-token-alice", "users": [{"mail": "someone@gmail.com"}], "password": "hunter2"})
    )
    leaks = find_leaks(tmp_path)
    found = {(leak.file.name, leak.path) for leak in leaks}
    assert found == {
        ("rocketchat.login.200.json", "$.data.authToken"),
        ("extra.json", "$.note"),
        ("extra.json", "$.users[0].mail"),
        ("extra.json", "$.password"),
    }
    capsys.readouterr()
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "rocketchat.login.200.json: $.data.authToken" in out
    assert "extra.json: $.users[0].mail" in out
    assert secrets["authToken"] not in out
    assert "hunter2" not in out
    assert "gitter-token-alice" not in out


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0123456789abcdef" * 4, "64-hex"),
        ("Bearer abc.def", "Bearer"),
        ("aB3" * 14 + "x", "43-character"),
        ("alice-password", "default secret"),
        ("rc-pat-bob", "default secret"),
        ("contact: jane@corp.io", "e-mail"),
    ],
)
def test_leak_shapes(tmp_path: Path, value: str, reason: str) -> None:
    (tmp_path / "one.json").write_text(json.dumps({"text": value}))
    (leak,) = find_leaks(tmp_path)
    assert leak.path == "$.text"
    assert reason in leak.reason
    assert value not in str(leak)


def test_placeholders_pass_the_leak_check(tmp_path: Path) -> None:
    redactor = Redactor()
    redacted = redactor.redact(
        {"authToken": "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSx", "access_token": "ab" * 32, "password": "pw", "email": "x@corp.io"}
    )
    (tmp_path / "one.json").write_text(json.dumps(redacted))
    assert find_leaks(tmp_path) == []
    assert redactor.redact({"token": "ab" * 32}) == {"token": redacted["access_token"]}  # the same value, the same placeholder


def test_the_repository_fixtures_pass_the_leak_check() -> None:
    assert find_leaks(paths.fixtures_dir()) == []
