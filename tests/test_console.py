"""The console's admin routes (``mockserver.console``), without a browser: the page and its
files, rooms and messages of every API read through the API itself, talking as a user,
traffic pages and filters over a large journal, exchange details without secrets, strict
mode, the catalogue, the token rule, and the server-sent events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.app import ChatMockApp, create_app
from mockserver.background import serve_in_thread
from mockserver.core.journal import Entry

APIS = ("gitter", "rocketchat", "lingr", "bocco")


@pytest.fixture
def app() -> ChatMockApp:
    return create_app(strict=True, longpoll_timeout=2.0)


@pytest.fixture
def client(app: ChatMockApp) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def test_the_page_and_its_files_ship_in_the_package_and_name_no_outside_resource(client: TestClient) -> None:
    page = client.get("/__chatmock/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for name in ("app.js", "app.css"):
        asset = client.get(f"/__chatmock/console/static/{name}")
        assert asset.status_code == 200
        assert "http://" not in asset.text
        assert "https://" not in asset.text
    assert "https://" not in page.text
    assert client.get("/__chatmock/console/static/..%2Fadmin.py").status_code == 404
    assert client.get("/__chatmock/console/static/nope.js").status_code == 404
    assert client.get("/__chatmock/docs").status_code == 200  # the old page stays


def test_with_a_token_the_page_answers_but_its_data_needs_the_token() -> None:
    with TestClient(create_app(admin_token="s3cret-admin")) as client:
        assert client.get("/__chatmock/").status_code == 200
        assert client.get("/__chatmock/console/static/app.js").status_code == 200
        for path in ("/console/rooms?api=gitter", "/console/traffic", "/console/events", "/faults", "/strict"):
            assert client.get(f"/__chatmock{path}").status_code == 401, path
        assert client.get("/__chatmock/console/session").json() == {"token": True, "authorized": False}
        login = client.get("/__chatmock/?admin_token=s3cret-admin", follow_redirects=False)
        assert login.status_code == 303
        assert login.headers["location"] == "/__chatmock/"
        assert "s3cret-admin" not in login.headers["set-cookie"]
        assert client.get("/__chatmock/console/traffic").status_code == 200  # the cookie now
        assert client.get("/__chatmock/console/session").json() == {"token": True, "authorized": True}
        assert client.get("/__chatmock/", headers={"host": "evil.example"}).status_code == 403


@pytest.mark.parametrize("api", APIS)
def test_rooms_messages_and_talk_through_the_api(api: str, client: TestClient, app: ChatMockApp) -> None:
    rooms = client.get("/__chatmock/console/rooms", params={"api": api}).json()
    assert set(rooms["users"]) >= {"alice", "bob"}
    assert rooms["rooms"]
    room = rooms["rooms"][0]
    assert room["id"]
    assert room["name"]
    before = client.get("/__chatmock/console/messages", params={"api": api, "room": room["id"]}).json()["messages"]
    assert before
    assert all(set(message) == {"id", "user", "text", "time"} for message in before)
    assert client.get("/__chatmock/journal").json()["entries"] == []  # reads are quiet
    said = client.post("/__chatmock/console/talk", json={"api": api, "room": room["id"], "user": "bob", "text": "from the console"})
    assert said.status_code == 200
    assert said.json()["status"] in (200, 201)
    after = client.get("/__chatmock/console/messages", params={"api": api, "room": room["id"]}).json()["messages"]
    assert after[-1]["text"] == "from the console"
    assert after[-1]["user"] in ("bob", "Bob")
    entries = client.get("/__chatmock/journal").json()["entries"]
    assert len(entries) == 1  # the message was an API call, journaled
    assert entries[0]["api"] == api
    assert entries[0]["user"] is not None


@pytest.mark.parametrize("api", ["gitter", "rocketchat"])
def test_edit_where_the_api_can(api: str, client: TestClient) -> None:
    room = client.get("/__chatmock/console/rooms", params={"api": api}).json()["rooms"][1]["id"]
    said = client.post("/__chatmock/console/talk", json={"api": api, "room": room, "user": "alice", "text": "typo"}).json()
    message_id = said["response"]["id"] if api == "gitter" else said["response"]["message"]["_id"]
    edited = client.post("/__chatmock/console/talk", json={"api": api, "room": room, "user": "alice", "text": "fixed", "edit": message_id})
    assert edited.json()["status"] == 200
    texts = [
        message["text"] for message in client.get("/__chatmock/console/messages", params={"api": api, "room": room}).json()["messages"]
    ]
    assert "fixed" in texts
    assert "typo" not in texts


def test_delete_where_the_api_can(client: TestClient) -> None:
    rooms = client.get("/__chatmock/console/rooms", params={"api": "rocketchat"}).json()
    assert rooms["can_delete"] is True
    room = rooms["rooms"][1]["id"]
    said = client.post("/__chatmock/console/talk", json={"api": "rocketchat", "room": room, "user": "alice", "text": "regret"}).json()
    message_id = said["response"]["message"]["_id"]
    gone = client.post(
        "/__chatmock/console/talk", json={"api": "rocketchat", "room": room, "user": "alice", "text": "", "delete": message_id}
    )
    assert gone.json()["status"] == 200
    shown = client.get("/__chatmock/console/messages", params={"api": "rocketchat", "room": room}).json()["messages"]
    assert message_id not in [message["id"] for message in shown]
    assert client.get("/__chatmock/console/rooms", params={"api": "gitter"}).json()["can_delete"] is False


def test_talk_refusals(client: TestClient) -> None:
    for body, status in [
        ({"api": "lingr", "room": "lounge", "user": "alice", "text": "x", "edit": "1"}, 400),
        ({"api": "gitter", "room": "5f2000000000000000000002", "user": "alice", "text": "", "delete": "1"}, 400),
        ({"api": "rocketchat", "room": "GENERAL", "user": "alice", "text": "", "edit": "1", "delete": "1"}, 400),
        ({"api": "lingr", "room": "lounge", "user": "mallory", "text": "x"}, 400),
        ({"api": "nope", "room": "r", "user": "alice", "text": "x"}, 404),
        ({"api": "lingr", "room": "lounge"}, 400),
    ]:
        assert client.post("/__chatmock/console/talk", json=body).status_code == status, body


def test_room_messages_page_back_by_the_apis_cursor(client: TestClient) -> None:
    room = "5f2000000000000000000002"
    for index in range(7):
        client.post("/__chatmock/console/talk", json={"api": "gitter", "room": room, "user": "alice", "text": f"m{index}"})
    seen: list[str] = []
    before = None
    for _ in range(10):
        params = {"api": "gitter", "room": room, "limit": "3", **({"before": before} if before else {})}
        page = client.get("/__chatmock/console/messages", params=params).json()
        seen = [message["id"] for message in page["messages"]] + seen
        before = page["before"]
        if before is None:
            break
    assert len(seen) == len(set(seen)) >= 7


def fill_journal(app: ChatMockApp, count: int) -> None:
    journal = app.state.chatmock.journal
    journal.size = count
    for index in range(count):
        journal.record(
            Entry(
                time=1.0 + index,
                method="GET" if index % 10 else "POST",
                path=f"/lingr/api/x/{index}",
                raw_query=b"",
                raw_headers=[(b"host", b"127.0.0.1")],
                params=None,
                status=500 if index % 1000 == 0 else 200,
                endpoint="lingr.room.say" if index % 10 == 0 else "lingr.user.get_rooms",
                response=b"{}",
                api="lingr",
                violations=["bad"] if index == 5 else [],
            )
        )


def test_traffic_pages_a_journal_of_100000_quickly(client: TestClient, app: ChatMockApp) -> None:
    fill_journal(app, 100_000)
    started = time.perf_counter()
    page = client.get("/__chatmock/console/traffic").json()
    assert time.perf_counter() - started < 0.5
    assert page["held"] == 100_000
    assert [exchange["seq"] for exchange in page["exchanges"]][:2] == [100_000, 99_999]
    assert len(page["exchanges"]) == 100
    older = client.get("/__chatmock/console/traffic", params={"before": str(page["before"]), "limit": "500"}).json()
    assert older["exchanges"][0]["seq"] == page["exchanges"][-1]["seq"] - 1
    assert len(older["exchanges"]) == 500
    started = time.perf_counter()
    errors = client.get("/__chatmock/console/traffic", params={"status": "5xx"}).json()
    assert time.perf_counter() - started < 2
    assert len(errors["exchanges"]) == 100
    assert all(exchange["status"] == 500 for exchange in errors["exchanges"])
    violations = client.get("/__chatmock/console/traffic", params={"violations": "1"}).json()["exchanges"]
    assert [exchange["seq"] for exchange in violations] == [6]
    endpoint = client.get("/__chatmock/console/traffic", params={"endpoint": "lingr.room.say", "limit": "5"}).json()["exchanges"]
    assert {exchange["method"] for exchange in endpoint} == {"POST"}
    assert client.get("/__chatmock/console/traffic", params={"status": "abc"}).status_code == 400
    assert client.get("/__chatmock/console/traffic", params={"nope": "1"}).status_code == 400


def test_exchange_detail_has_a_curl_line_and_no_secret(client: TestClient, app: ChatMockApp) -> None:
    login = client.post("/lingr/api/session/create", data={"user": "alice", "password": "alice-password"}).json()
    session = login["session"]
    client.get("/lingr/api/user/get_rooms", params={"session": session})
    client.get("/gitter/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
    traffic = client.get("/__chatmock/console/traffic", params={"user": "alice"}).json()["exchanges"]
    assert len(traffic) >= 2
    secrets = [*app.state.chatmock.secrets(), session, "alice-password", "gitter-token-alice"]
    for exchange in client.get("/__chatmock/console/traffic").json()["exchanges"]:
        detail = client.get(f"/__chatmock/console/exchange/{exchange['seq']}")
        assert detail.status_code == 200
        for secret in secrets:
            assert secret not in detail.text
        assert detail.json()["curl"].startswith("curl -X ")
    gitter = next(exchange for exchange in traffic if exchange["api"] == "gitter")
    curl = client.get(f"/__chatmock/console/exchange/{gitter['seq']}").json()["curl"]
    assert '"authorization: ${SECRET}"' in curl
    assert client.get("/__chatmock/console/exchange/999999").status_code == 404


def test_strict_mode_switches_at_run_time(client: TestClient, app: ChatMockApp) -> None:
    assert client.get("/__chatmock/strict").json() == {"strict": True}
    assert client.post("/__chatmock/strict", json={"strict": False}).json() == {"strict": False}
    assert app.state.chatmock.settings.strict is False
    assert client.post("/__chatmock/strict", json={"strict": "yes"}).status_code == 400
    assert client.post("/__chatmock/strict", content=b'{"strict": true}', headers={"content-type": "text/plain"}).status_code == 415


def test_catalogue_and_endpoint_detail(client: TestClient) -> None:
    catalogue = client.get("/__chatmock/console/catalogue").json()["endpoints"]
    assert {endpoint["api"] for endpoint in catalogue} == set(APIS)
    detail = client.get("/__chatmock/console/endpoint/lingr.room.say").json()
    assert detail["params"]["type"] == "object"
    assert "200" in detail["responses"]
    assert detail["examples"]
    assert client.get("/__chatmock/console/endpoint/nope.nope").status_code == 404


def read_events(stream: Iterator[str], wanted: str, deadline: float) -> list[Any]:
    """The data of server-sent events named ``wanted`` until one arrives (or the deadline)."""
    name = None
    found: list[Any] = []
    for line in stream:
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name == wanted:
            found.append(json.loads(line[len("data: ") :]))
            return found
        if time.monotonic() > deadline:
            break
    return found


def test_events_follow_the_journal_and_cost_nothing_when_closed() -> None:
    app = create_app(strict=True)
    journal = app.state.chatmock.journal
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        assert journal.watchers == 0
        with http.stream("GET", "/__chatmock/console/events") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = events.iter_lines()
            assert read_events(lines, "hello", time.monotonic() + 5) == [{"last": 0, "strict": True}]
            assert journal.watchers == 1
            http.get("/gitter/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
            news = read_events(lines, "exchanges", time.monotonic() + 5)
            assert news[0][0]["endpoint"] == "gitter.rooms.list"
            assert news[0][0]["user"] == "alice"
            http.post("/__chatmock/reset")
            assert read_events(lines, "reset", time.monotonic() + 5)
        deadline = time.monotonic() + 5
        while journal.watchers and time.monotonic() < deadline:
            time.sleep(0.02)
        assert journal.watchers == 0


def test_a_stream_ends_after_its_lifetime_and_the_next_one_resumes_by_event_id(monkeypatch: pytest.MonkeyPatch) -> None:
    import mockserver.admin

    monkeypatch.setattr(mockserver.admin, "STREAM_LIFETIME", 0.3)
    app = create_app()
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        with http.stream("GET", "/__chatmock/console/events") as events:
            text = "".join(events.iter_text())  # ends by itself
        assert "event: hello" in text
        last_id = [line for line in text.splitlines() if line.startswith("id: ")][-1][len("id: ") :]
        http.get("/gitter/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})  # while no stream is open
        with http.stream("GET", "/__chatmock/console/events", headers={"Last-Event-ID": last_id}) as events:
            news = read_events(events.iter_lines(), "exchanges", time.monotonic() + 5)
        assert [exchange["endpoint"] for exchange in news[0]] == ["gitter.rooms.list"]
        http.post("/__chatmock/reset")
        with http.stream("GET", "/__chatmock/console/events", headers={"Last-Event-ID": last_id}) as events:
            assert read_events(events.iter_lines(), "reset", time.monotonic() + 5)


def test_console_reads_are_neither_journaled_nor_faulted(client: TestClient) -> None:
    client.post("/__chatmock/faults", json={"action": "server_error", "times": None})
    for api in APIS:
        rooms = client.get("/__chatmock/console/rooms", params={"api": api}).json()["rooms"]
        page = client.get("/__chatmock/console/messages", params={"api": api, "room": rooms[0]["id"]})
        assert page.status_code == 200
        assert page.json()["messages"]
    assert client.get("/__chatmock/faults").json()["faults"][0]["applied"] == 0
    assert client.get("/__chatmock/journal").json()["entries"] == []
    said = client.post("/__chatmock/console/talk", json={"api": "lingr", "room": "lounge", "user": "alice", "text": "hi"}).json()
    assert said["response"]["status"] == "error"  # talking is an API call: the rule applies
    assert client.get("/__chatmock/journal").json()["entries"][0]["fault"] == "#1 server_error"


def test_a_drop_rule_on_a_console_message_is_shown_not_a_failure(client: TestClient) -> None:
    client.post("/__chatmock/faults", json={"action": "drop", "api": "lingr", "endpoint": "lingr.room.say"})
    said = client.post("/__chatmock/console/talk", json={"api": "lingr", "room": "lounge", "user": "alice", "text": "lost"})
    assert said.status_code == 200
    assert said.json()["status"] == 0
    assert client.get("/__chatmock/journal").json()["entries"][0]["fault"] == "#1 drop"
