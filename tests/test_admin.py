"""The admin API's access rules and errors (issue 12; audit finding M2), and its journal
filters: who may call ``/__chatmock/...`` (Host, Origin, admin token by header or cookie),
JSON-only POST bodies, no CORS, every error JSON with a one-line ``error``. Each test fails on
the code before the fix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.admin import ADMIN_COOKIE, ADMIN_HEADER, admin_hostname
from mockserver.app import ChatMockApp, create_app

TOKEN = "admin-4f1c-secret"
GITTER_ALICE = {"Authorization": "Bearer gitter-token-alice"}
ROUTES = ["/health", "/journal", "/waiters", "/violations", "/credentials", "/seed", "/clock", "/docs", "/openapi/gitter.json"]


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error, str)
    assert error
    assert "\n" not in error
    assert "Traceback" not in response.text
    return error


def no_cors(response: httpx.Response) -> None:
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


# Host ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io", "evil.example:8000", "", "localhost.", "127.0.0.2", "[::2]:80", "["])
@pytest.mark.parametrize("path", ["/health", "/journal", "/seed"])
def test_a_host_that_is_no_loopback_name_is_refused(host: str, path: str) -> None:
    """M2 (DNS rebinding): every Host was answered."""
    with TestClient(create_app(["gitter"])) as client:
        response = client.get(f"/__chatmock{path}", headers={"Host": host})
        error = one_line_error(response, 403)
        assert "loopback" in error
        no_cors(response)
        posted = client.post("/__chatmock/reset", headers={"Host": host})
        one_line_error(posted, 403)


def test_loopback_names_are_answered_and_no_other() -> None:
    with TestClient(create_app(["gitter"])) as client:
        for host in ("127.0.0.1", "127.0.0.1:8000", "localhost", "LocalHost:9", "[::1]", "[::1]:8000", "::1", "testserver"):
            assert client.get("/__chatmock/health", headers={"Host": host}).status_code == 200, host
        one_line_error(client.get("/__chatmock/health", headers={"Host": "127.0.0.1.evil.example"}), 403)
        # the APIs themselves answer any Host (they are served by Host too)
        assert client.get("/v1/user/me", headers={**GITTER_ALICE, "Host": "evil.example"}).status_code == 200


def test_a_request_without_host_is_refused() -> None:
    app = create_app(["gitter"])
    status, body = asyncio.run(raw(app, "GET", "/__chatmock/health", []))
    assert status == 403
    assert b"no Host" in body


def test_configured_admin_hosts_are_answered() -> None:
    with TestClient(create_app(["gitter"], admin_hosts=["Mock.Example", "10.0.0.5:8000"])) as client:
        for host in ("mock.example", "MOCK.EXAMPLE:8000", "10.0.0.5", "10.0.0.5:1"):
            assert client.get("/__chatmock/health", headers={"Host": host}).status_code == 200, host
        one_line_error(client.get("/__chatmock/health", headers={"Host": "other.example"}), 403)


def test_admin_hostname() -> None:
    assert admin_hostname("LocalHost:8000") == "localhost"
    assert admin_hostname("[::1]:8000") == "[::1]"
    assert admin_hostname("::1") == "::1"
    assert admin_hostname("[") == ""
    assert admin_hostname(" example.com ") == "example.com"


# Origin ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.nip.io:8000", "file://", "127.0.0.1"])
def test_a_cross_site_origin_is_refused(origin: str) -> None:
    """M2 (CSRF): a page elsewhere could POST /reset, /seed and /clock."""
    with TestClient(create_app(["gitter"])) as client:
        for response in (
            client.post("/__chatmock/reset", headers={"Origin": origin}),
            client.post("/__chatmock/seed", json={"gitter": {}}, headers={"Origin": origin}),
            client.get("/__chatmock/journal", headers={"Origin": origin}),
        ):
            assert "cross-site" in one_line_error(response, 403)
            no_cors(response)
        assert client.get("/v1/user/me", headers=GITTER_ALICE).status_code == 200  # nothing was reset to an empty world
        for loopback in ("http://127.0.0.1:8000", "http://localhost", "https://[::1]:8443"):
            assert client.post("/__chatmock/reset", headers={"Origin": loopback}).status_code == 200, loopback


# POST bodies -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"gitter": {}}'),
        ("application/x-www-form-urlencoded", b'{"gitter": {}}'),
        ("multipart/form-data; boundary=x", b'{"gitter": {}}'),
        (None, b'{"gitter": {}}'),
        ("text/plain", b""),
        ("application/jsonx", b"{}"),
    ],
)
@pytest.mark.parametrize("path", ["/seed", "/clock", "/reset"])
def test_post_bodies_are_json_only(content_type: str | None, body: bytes, path: str) -> None:
    """M2: seed and clock took text/plain bodies, which a browser sends without a preflight."""
    with TestClient(create_app(["gitter"])) as client:
        headers = {"Content-Type": content_type} if content_type is not None else {}
        response = client.post(f"/__chatmock{path}", content=body, headers=headers)
        assert "application/json" in one_line_error(response, 415)
        assert client.get("/v1/user/me", headers=GITTER_ALICE).status_code == 200


def test_json_bodies_and_bodiless_posts_are_taken() -> None:
    with TestClient(create_app(["gitter"])) as client:
        one_line_error(client.post("/__chatmock/seed", content=b"{}", headers={"Content-Type": "text/plain"}), 415)
        seed = b'{"gitter": {"users": [{"username": "carol", "tokens": ["carol-token"]}]}}'
        response = client.post("/__chatmock/seed", content=seed, headers={"Content-Type": "application/json; charset=utf-8"})
        assert response.json() == {"status": "seeded", "apis": ["gitter"]}
        assert client.post("/__chatmock/reset").json() == {"status": "reset", "world": "default"}
        assert client.post("/__chatmock/clock").status_code == 200


def test_no_cors_header_is_ever_sent() -> None:
    with TestClient(create_app(["gitter"])) as client:
        preflight = client.options(
            "/__chatmock/seed",
            headers={
                "Origin": "http://127.0.0.1:8000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        one_line_error(preflight, 405)
        no_cors(preflight)
        for path in ROUTES:
            no_cors(client.get(f"/__chatmock{path}", headers={"Origin": "http://localhost:8000"}))


# the admin token -------------------------------------------------------------------------------
def test_the_token_is_taken_from_the_header_or_the_cookie_a_page_sets() -> None:
    with TestClient(create_app(["gitter"], admin_token=TOKEN), follow_redirects=False) as client:
        for path in ROUTES:
            one_line_error(client.get(f"/__chatmock{path}"), 401)
        assert client.get("/__chatmock/journal", headers={ADMIN_HEADER: TOKEN}).status_code == 200
        one_line_error(client.get("/__chatmock/docs", params={"admin_token": "wrong"}), 401)
        opened = client.get("/__chatmock/docs", params={"admin_token": TOKEN})
        assert opened.status_code == 303
        assert opened.headers["location"] == "/__chatmock/docs"
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith(f"{ADMIN_COOKIE}=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/__chatmock" in cookie
        assert TOKEN not in cookie  # a digest of the token, not the token
        assert client.cookies.get(ADMIN_COOKIE)
        for path in ROUTES:
            assert client.get(f"/__chatmock{path}").status_code == 200, path
        assert client.post("/__chatmock/reset").status_code == 200
        client.cookies.set(ADMIN_COOKIE, "0" * 64, path="/__chatmock")
        one_line_error(client.get("/__chatmock/health"), 401)
        # a token in the address opens pages only
        one_line_error(client.get("/__chatmock/journal", params={"admin_token": TOKEN}), 401)
        one_line_error(client.post("/__chatmock/reset", params={"admin_token": TOKEN}), 401)


def test_without_a_token_a_page_address_with_one_just_redirects() -> None:
    with TestClient(create_app(["gitter"]), follow_redirects=False) as client:
        response = client.get("/__chatmock/docs", params={"admin_token": "anything"})
        assert response.status_code == 303
        assert "set-cookie" not in response.headers


# errors are JSON ---------------------------------------------------------------------------------
def test_unknown_routes_and_methods_are_json() -> None:
    with TestClient(create_app(["gitter"])) as client:
        assert "no admin route" in one_line_error(client.get("/__chatmock/nope"), 404)
        bare = client.get("/__chatmock", follow_redirects=False)  # the console's address has a slash
        assert (bare.status_code, bare.headers["location"]) == (308, "/__chatmock/")
        response = client.delete("/__chatmock/health")
        one_line_error(response, 405)
        assert response.headers["allow"] == "GET"
        one_line_error(client.get("/__chatmock/openapi/slack.json"), 404)
        head = client.head("/__chatmock/health")
        assert head.status_code == 200
        assert head.content == b""


def test_a_failing_route_is_a_json_500_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(["gitter"])
    mock = app.state.chatmock

    def broken() -> Any:
        raise RuntimeError("internal detail 9c2e")

    monkeypatch.setattr(mock, "credentials", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/__chatmock/credentials")
    error = one_line_error(response, 500)
    assert error == "chatmock admin failed: RuntimeError"
    assert "9c2e" not in response.text


def test_an_unreadable_json_body_is_a_400() -> None:
    with TestClient(create_app(["gitter"])) as client:
        for body in (b"{", b"[" * 2000 + b"]" * 2000, b'{"a": 1e400}', b"\xff", b'{"freeze": 1e400}'):
            one_line_error(client.post("/__chatmock/clock", content=body, headers={"Content-Type": "application/json"}), 400)


def test_admin_bodies_are_limited() -> None:
    with TestClient(create_app(["gitter"], seed_limit=100)) as client:
        one_line_error(client.post("/__chatmock/seed", json={"gitter": {"users": [{"username": "x" * 200}]}}), 413)
        one_line_error(client.post("/__chatmock/clock", content=b" " * 100_000, headers={"Content-Type": "application/json"}), 413)


# journal filters -------------------------------------------------------------------------------
def test_the_journal_is_filtered_by_endpoint_since_and_limit() -> None:
    with TestClient(create_app(["gitter"])) as client:
        client.get("/v1/user/me", headers=GITTER_ALICE)
        client.get("/v1/rooms", headers=GITTER_ALICE)
        middle = time.time()
        time.sleep(0.01)
        client.get("/v1/user/me", headers=GITTER_ALICE)
        client.get("/v1/rooms", headers=GITTER_ALICE)

        def endpoints(**query: str) -> list[str]:
            response = client.get("/__chatmock/journal", params=query)
            assert response.status_code == 200, response.text
            return [entry["endpoint"] for entry in response.json()["entries"]]

        assert endpoints() == ["gitter.user.me", "gitter.rooms.list"] * 2
        assert endpoints(endpoint="gitter.user.me") == ["gitter.user.me"] * 2
        assert endpoints(since=str(middle)) == ["gitter.user.me", "gitter.rooms.list"]
        assert endpoints(limit="1") == ["gitter.rooms.list"]
        assert endpoints(limit="0") == []
        assert endpoints(endpoint="gitter.user.me", since=str(middle), limit="5") == ["gitter.user.me"]
        entry = client.get("/__chatmock/journal", params={"limit": "1"}).json()["entries"][0]
        assert entry["api"] == "gitter"
        assert 0 <= entry["duration"] < 5


@pytest.mark.parametrize(
    "query",
    [
        "limit=-1",
        "limit=abc",
        "limit=%C2%B2",
        "limit=1e3",
        "limit=",
        "limit=9999999999999",
        "since=nan",
        "since=inf",
        "since=abc",
        "since=1e400",
        "since=%D9%A4",
        "endpoint=nope",
        "endpoint=",
        "limit=1&limit=2",
        "color=red",
        "since=%ff",
    ],
)
def test_bad_journal_filters_are_a_400(query: str) -> None:
    with TestClient(create_app(["gitter"])) as client:
        one_line_error(client.get(f"/__chatmock/journal?{query}"), 400)


# the raw ASGI request of test_a_request_without_host_is_refused ----------------------------------------
async def raw(app: ChatMockApp, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    status, parts = 0, []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts)
