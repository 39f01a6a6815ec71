"""Rocket.Chat request shapes real clients send (clients.md §3) and the version profiles
(``create_app(api_options={"rocketchat": {"version": ...}})``, clients.md §5)."""

from __future__ import annotations

from typing import Any

import pytest
from mock_support import assert_documented
from starlette.testclient import TestClient

from mockserver.app import create_app

ALICE_ID = "aLiCEx3kPq7RtZ2mW"
ALICE_PAT = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}
NOT_LOGGED_IN = "You must be logged in to do this."


def client_for(version: str | None = None, **options: Any) -> TestClient:
    api_options = {"rocketchat": {"version": version}} if version else {}
    return TestClient(create_app(["rocketchat"], strict=True, api_options=api_options, **options))


@pytest.fixture
def client() -> TestClient:
    return client_for()


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "alice-password"},  # rocketchat_API >= 1.35.1, @rocket.chat/sdk, rocketchat-ruby
        {"user": "alice", "password": "alice-password"},  # rocketchat-node, the PHP client
        {"user": "alice@example.com", "password": "alice-password"},  # the Go SDK
        {"email": "alice@example.com", "password": "alice-password"},
        {"username": "alice", "password": "alice-password", "code": "123456"},
    ],
)
def test_login_names_as_json_and_form(client: TestClient, body: dict[str, str]) -> None:
    for sent in ({"json": body}, {"data": body}):
        reply = assert_documented("rocketchat.login", client.post("/api/v1/login", **sent))
        assert reply["data"]["userId"] == ALICE_ID
        assert "success" not in reply


def test_login_with_2fa_header_and_resume(client: TestClient) -> None:
    first = client.post("/api/v1/login", json={"username": "alice", "password": "alice-password"}, headers={"x-2fa-code": "1"})
    token = assert_documented("rocketchat.login", first)["data"]["authToken"]
    resumed = assert_documented("rocketchat.login", client.post("/api/v1/login", json={"resume": token}))
    assert resumed["data"]["authToken"] == token


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "nope"},
        {"email": "bob@example.com", "password": "alice-password"},
        {"serviceName": "x", "accessToken": "y"},
    ],
)
def test_login_failures_are_the_documented_401(client: TestClient, body: dict[str, str]) -> None:
    reply = assert_documented("rocketchat.login", client.post("/api/v1/login", json=body), 401)
    assert reply["status"] == "error"
    assert reply["error"] in ("Unauthorized", "invalid-params")


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("POST", {"json": {}}),  # rocketchat_API, Rocket.Chat.js.SDK 1.0
        ("POST", {}),  # rocketchat-ruby: no body, no Content-Type
        ("POST", {"content": b"", "headers": {"Content-Type": "application/json"}}),
        ("GET", {}),  # @rocket.chat/sdk, the Go SDK
        ("GET", {"headers": {"Content-Type": "application/json"}}),  # rocketchat-node
    ],
)
def test_logout_by_get_or_post_without_a_body(client: TestClient, method: str, kwargs: dict[str, Any]) -> None:
    login = client.post("/api/v1/login", json={"username": "alice", "password": "alice-password"}).json()["data"]
    auth = {"X-Auth-Token": login["authToken"], "X-User-Id": login["userId"]}
    headers = {**auth, **kwargs.pop("headers", {})}
    reply = assert_documented("rocketchat.logout", client.request(method, "/api/v1/logout", headers=headers, **kwargs))
    assert reply == {"status": "success", "data": {"message": "You've been logged out!"}}
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_json_content_type_on_bodiless_gets(client: TestClient) -> None:
    headers = {**ALICE_PAT, "Content-Type": "application/json"}
    for path in ("/api/v1/me", "/api/v1/users.list?count=1", "/api/v1/channels.history?roomId=GENERAL"):
        assert client.get(path, headers=headers).status_code == 200, path


def many_users(count: int) -> dict[str, Any]:
    users = [{"_id": "aLiCEx3kPq7RtZ2mW", "username": "alice", "password": "alice-password", "personalAccessTokens": ["rc-pat-alice"]}]
    users += [{"username": f"user{index:03d}"} for index in range(count)]
    return {"rocketchat": {"users": users}}


def test_count_defaults_to_50_is_clamped_to_100_and_0_means_all() -> None:
    client = TestClient(create_app(["rocketchat"], strict=True, seed=many_users(150)))

    def page(**params: str) -> dict[str, Any]:
        return assert_documented("rocketchat.users.list", client.get("/api/v1/users.list", params=params, headers=ALICE_PAT))

    assert page()["count"] == 50
    assert page(count="500")["count"] == 100
    assert page(count="100", offset="100")["count"] == 51
    everything = page(count="0")
    assert everything["count"] == everything["total"] == 151


# version profiles ----------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "parsed"), [("7.5.0", True), ("7.5.9", True), ("7.6.0", False), ("8.0.0", False), ("6.13.1", True)])
def test_form_logins_are_parsed_up_to_7_5(version: str, parsed: bool) -> None:
    client = client_for(version)
    form = client.post("/api/v1/login", data={"user": "alice", "password": "alice-password"})
    assert form.status_code == (200 if parsed else 401), form.text
    assert client.post("/api/v1/login", json={"user": "alice", "password": "alice-password"}).status_code == 200


def test_401_bodies_by_version() -> None:
    bodies = {version: client_for(version).get("/api/v1/me").json() for version in ("6.13.0", "7.5.0", "8.0.0")}
    assert bodies["6.13.0"] == {"status": "error", "message": NOT_LOGGED_IN}
    assert bodies["7.5.0"] == {"success": False, "error": NOT_LOGGED_IN, "status": "error", "message": NOT_LOGGED_IN}
    assert bodies["8.0.0"] == {"success": False, "error": NOT_LOGGED_IN}
    assert client_for().get("/api/v1/me").json() == {"status": "error", "message": NOT_LOGGED_IN}
    wrong = {"user": "alice", "password": "wrong"}
    assert client_for("7.6.0").post("/api/v1/login", json=wrong).json() == {
        "success": False,
        "status": "error",
        "error": "Unauthorized",
        "message": "Unauthorized",
    }  # as reported in RocketChat/Rocket.Chat#36073
    assert client_for("8.0.0").post("/api/v1/login", json=wrong).json() == {"success": False, "error": "unauthorized"}
    assert client_for("6.13.0").post("/api/v1/login", json=wrong).json() == {
        "status": "error",
        "error": "Unauthorized",
        "message": "Unauthorized",
    }


def test_login_reply_has_success_from_7() -> None:
    good = {"user": "alice", "password": "alice-password"}
    assert "success" not in client_for("6.13.0").post("/api/v1/login", json=good).json()
    assert assert_documented("rocketchat.login", client_for("7.0.0").post("/api/v1/login", json=good))["success"] is True
    assert "success" not in client_for().post("/api/v1/login", json=good).json()


@pytest.mark.parametrize("options", [{"version": "9.0.0"}, {"version": "2.4.0"}, {"version": "latest"}, {"flavour": "x"}])
def test_unknown_options_and_versions_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"rocketchat option|Rocket\.Chat version"):
        create_app(["rocketchat"], api_options={"rocketchat": options})
