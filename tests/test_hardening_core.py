"""The core's hardening (issue 12; the repros of the 2026-11-30 security audit): strict header
parsing (``Prefer``, ``Content-Length``), replies encoded by a path that cannot raise, seeds
and resets as transactions, the checked clock, resets releasing every held request, the body
read deadline, ``on_exchange`` and ``create_app``'s options. Each test fails on the code
before the fix."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from mock_support import REGISTRY, assert_error_shape, default_world
from starlette.testclient import TestClient

from mockserver.apis import API_NAMES, api_class
from mockserver.app import ChatMockApp, create_app
from mockserver.core.call import Call, JsonReply, Problem, Reply
from mockserver.core.dispatch import encode, header_bytes
from mockserver.core.hub import Hub
from mockserver.core.journal import Entry
from mockserver.core.settings import Settings
from mockserver.core.store import LATEST, Clock, ClockError
from mockserver.mock import SeedError

GITTER_ALICE = {"Authorization": "Bearer gitter-token-alice"}
RC_ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
FAMILY = "FA000000-0000-4000-8000-000000000001"

# one request per API that succeeds in the default world (no login round trip)
PROBES: dict[str, tuple[str, str, dict[str, str], dict[str, str]]] = {
    "gitter": ("GET", "/gitter/v1/user/me", GITTER_ALICE, {}),
    "rocketchat": ("GET", "/rocketchat/api/v1/me", RC_ALICE, {}),
    "lingr": ("POST", "/lingr/api/session/create", {}, {"user": "alice", "password": "alice-password"}),
    "bocco": ("POST", "/bocco/alpha/sessions", {}, {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}),
}


# one request per API that sends a body (for Content-Length and the read deadline)
BODY_PROBES: dict[str, tuple[str, dict[str, str], bytes, str]] = {
    "gitter": ("/gitter/v1/rooms/5f2000000000000000000002/chatMessages", GITTER_ALICE, b'{"text": "hi"}', "application/json"),
    "rocketchat": ("/rocketchat/api/v1/chat.postMessage", RC_ALICE, b'{"roomId": "GENERAL", "text": "hi"}', "application/json"),
    "lingr": ("/lingr/api/session/create", {}, b"user=alice&password=alice-password", "application/x-www-form-urlencoded"),
    "bocco": (
        "/bocco/alpha/sessions",
        {},
        b"apikey=bocco-api-key&email=alice%40example.com&password=alice-password",
        "application/x-www-form-urlencoded",
    ),
}


def probe(client: TestClient, api: str, headers: dict[str, Any] | None = None) -> httpx.Response:
    method, path, auth, data = PROBES[api]
    return client.request(method, path, headers={**auth, **(headers or {})}, data=data or None)


def raw_call(app: ChatMockApp, method: str, path: str, headers: dict[str, Any], content: bytes | None = None) -> httpx.Response:
    """One request with header values sent byte for byte (Starlette's TestClient re-encodes
    them as UTF-8: ``\\xb2`` would arrive as ``\\xc2\\xb2``)."""

    async def one() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            return await http.request(method, path, headers=headers, content=content)

    return asyncio.run(one())


def raw_probe(app: ChatMockApp, api: str, headers: dict[str, Any]) -> httpx.Response:
    method, path, auth, data = PROBES[api]
    form = {"Content-Type": "application/x-www-form-urlencoded"} if data else {}
    return raw_call(app, method, path, {**auth, **form, **headers}, urlencode(data).encode() if data else None)


def works(client: TestClient, api: str) -> bool:
    """Whether alice's default-world request of ``api`` succeeds."""
    response = probe(client, api)
    return response.status_code == 200 and (api != "lingr" or response.json()["status"] == "ok")


@pytest.fixture
def client() -> Iterable[TestClient]:
    app = create_app(strict=True, longpoll_timeout=30, stream_keepalive=30)
    with TestClient(app) as opened:
        yield opened
    assert app.state.chatmock.dispatcher.violations == []


# headers ---------------------------------------------------------------------------------------
def raw_header(text: str) -> bytes:
    """As a client sends it: latin-1 when it can (``²`` is the byte 0xb2), else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


@pytest.mark.parametrize("api", API_NAMES)
def test_a_prefer_code_that_is_no_ascii_status_is_a_400_in_the_apis_shape(api: str) -> None:
    """M5: ``Prefer: code=²`` was a 500 on every endpoint (``str.isdigit`` is true for ``²``)."""
    app = create_app(strict=True)
    for code in ("²", "³", "¹", "٤٠٤", "\uff14\uff10\uff14", "4O4", "-1", "99999", "4" * 5000):
        response = raw_probe(app, api, {"Prefer": raw_header(f"code={code}")})
        assert_error_shape(api, response, 200 if api == "lingr" else None)
    assert app.state.chatmock.dispatcher.violations == []


def test_prefer_takes_comma_and_semicolon_separated_preferences(client: TestClient) -> None:
    response = client.get("/gitter/v1/rooms", headers={**GITTER_ALICE, "Prefer": "return=minimal, code=401"})
    assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})
    response = client.get("/gitter/v1/rooms", headers={**GITTER_ALICE, "Prefer": "return=minimal; wait=5"})
    assert response.status_code == 200


def test_rocketchat_login_with_a_bad_prefer_needs_no_credentials_and_is_no_500() -> None:
    body = b'{"user": "alice", "password": "x"}'
    headers = {"Prefer": b"code=\xb2", "Content-Type": "application/json"}
    response = raw_call(create_app(["rocketchat"], strict=True), "POST", "/api/v1/login", headers, body)
    assert response.status_code < 500
    assert response.json()["status"] == "error"


@pytest.mark.parametrize("api", API_NAMES)
def test_a_content_length_that_is_no_number_is_a_400_in_the_apis_shape(api: str) -> None:
    app = create_app(strict=True)
    path, auth, body, content_type = BODY_PROBES[api]
    for length in ("²", "-1", "1 2", "0x10", "abc", "9" * 5000):
        headers = {**auth, "Content-Type": content_type, "Content-Length": raw_header(length)}
        response = raw_call(app, "POST", path, headers, body)
        assert_error_shape(api, response, 200 if api == "lingr" else 413 if length == "9" * 5000 else None)


# replies that cannot be encoded -------------------------------------------------------------------
def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_encode_never_raises() -> None:
    assert encode({"big": 2**70}) == b'{"big":1180591620717411303424}'
    assert encode({"lone": "\ud800"}) == b'{"lone":"\\ud800"}'
    assert encode({1: "non-string key"}) == b'{"1":"non-string key"}'
    assert json.loads(encode(deep(500)) or b"") == deep(500)  # orjson stops at 254 levels
    assert encode(deep(100_000)) is None  # past the interpreter's recursion limit
    assert encode({"big": 2**70, "nan": math.nan}) is None
    assert encode({"when": object()}) is None


@pytest.mark.parametrize("api", API_NAMES)
@pytest.mark.parametrize(
    "body", [deep(100_000), {"big": 2**70, "nan": math.nan}, {"x": object()}], ids=["recursion", "nan-and-bigint", "object"]
)
def test_a_reply_that_cannot_be_encoded_is_the_apis_500(api: str, body: Any) -> None:
    """H1: a reply the encoder could not write was a plain-text 500 with a traceback."""
    app = create_app([api])
    module: Any = app.state.chatmock.modules[api]
    endpoint_id = {
        "gitter": "gitter.user.me",
        "rocketchat": "rocketchat.me",
        "lingr": "lingr.session.create",
        "bocco": "bocco.sessions.create",
    }[api]

    async def unencodable(call: Call) -> Reply:
        return JsonReply(200, body)

    module.handlers[endpoint_id] = unencodable
    method, path, auth, data = PROBES[api]
    with TestClient(app) as client:
        response = client.request(method, path.removeprefix(f"/{api}"), headers=auth, data=data or None)
    expected = module.error(Problem.INTERNAL, "chatmock could not encode its reply")
    assert (response.status_code, response.json()) == (expected.status, expected.body)
    assert "Traceback" not in response.text


def test_header_values_are_sent_without_control_characters_and_as_latin1() -> None:
    assert header_bytes("a\r\nSet-Cookie: x") == b"a  Set-Cookie: x"
    assert header_bytes("caf\u00e9 \u20ac") == b"caf\xe9 ?"
    assert header_bytes("\x00tab\tok") == b" tab\tok"
    assert header_bytes(42) == b"42"
    app = create_app(["gitter"])
    module: Any = app.state.chatmock.modules["gitter"]

    async def hostile_headers(call: Call) -> Reply:
        return JsonReply(200, {}, headers={"X-Echo": "a\r\nInjected: yes", "X-Euro": "\u20ac", "Bad Name": "x", "X-Num": 7})  # type: ignore[dict-item]

    module.handlers["gitter.user.me"] = hostile_headers
    with TestClient(app) as client:
        response = client.get("/v1/user/me", headers=GITTER_ALICE)
    assert response.status_code == 200
    assert response.headers["x-echo"] == "a  Injected: yes"
    assert "injected" not in response.headers
    assert response.headers["x-euro"] == "?"
    assert response.headers["x-num"] == "7"
    assert "bad name" not in response.headers


# seeds -----------------------------------------------------------------------------------------
BAD_SEEDS: list[tuple[Any, str]] = [
    ({"rocketchat": []}, "bad seed: rocketchat: $: a world is a JSON object, not list"),
    ({"lingr": {"users": [1]}}, "bad seed: lingr: $."),
    ({"rocketchat": {"users": [{"username": "x", "createdAt": 5}]}}, "bad seed: rocketchat: $."),
    ({"slack": {}}, "bad seed: 'slack': no such API"),
    ([], "bad seed: $: a seed is a JSON object"),
    ("gitter", "bad seed: $: a seed is a JSON object"),
    ({"gitter": None}, "bad seed: gitter: $: a world is a JSON object, not NoneType"),
]


def seeded_carol() -> dict[str, Any]:
    """A Gitter world with carol only: a world in force that is not the default one."""
    return {"gitter": {"users": [{"username": "carol", "tokens": ["carol-token"]}]}}


@pytest.mark.parametrize(("seed", "error"), BAD_SEEDS, ids=[json.dumps(seed)[:40] for seed, _ in BAD_SEEDS])
def test_a_bad_seed_is_a_400_and_changes_nothing(client: TestClient, seed: Any, error: str) -> None:
    """M3: a malformed seed answered a plain-text 500 and left every API empty."""
    assert client.post("/__chatmock/seed", json=seeded_carol()).status_code == 200
    before = client.get("/__chatmock/seed").json()
    response = client.post("/__chatmock/seed", json=seed)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(error), response.json()
    assert "\n" not in response.json()["error"]
    assert client.get("/__chatmock/seed").json() == before
    assert client.get("/gitter/v1/user/me", headers={"Authorization": "Bearer carol-token"}).status_code == 200
    assert client.get("/gitter/v1/user/me", headers=GITTER_ALICE).status_code == 401


def test_a_seed_that_is_no_json_document_is_a_400_and_changes_nothing(client: TestClient) -> None:
    for body in (
        b'{"rocketchat":{"settings":{"maxCount":1e400}}}',
        b'{"gitter":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}",
        b'{"gitter":' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"gitter": {"users": [{"username": "\\ud800"}]}}',
        b"{",
        b"",
    ):
        response = client.post("/__chatmock/seed", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (body[:60], response.text)
        assert response.json()["error"].startswith("bad seed: ")
        assert all(works(client, api) for api in API_NAMES)


@pytest.mark.parametrize(
    "failure", [AttributeError("'list' object has no attribute 'get'"), RecursionError("maximum recursion depth"), KeyError("x")]
)
def test_a_loader_that_fails_anyhow_leaves_the_world_in_force(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    app = create_app(strict=True)
    with TestClient(app) as client:
        assert client.post("/__chatmock/seed", json={**seeded_carol(), "lingr": default_world("lingr")}).status_code == 200
        lingr_class: Any = api_class("lingr")

        def broken(self: Any, spec: Any) -> Any:
            raise failure

        monkeypatch.setattr(lingr_class, "load_world", broken)
        response = client.post("/__chatmock/seed", json={"gitter": {}, "lingr": default_world("lingr")})
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"bad seed: lingr: $: {type(failure).__name__}: ")
        monkeypatch.undo()
        assert client.get("/gitter/v1/user/me", headers={"Authorization": "Bearer carol-token"}).status_code == 200
        assert works(client, "lingr")


def test_chatmock_reset_raises_seed_error_and_keeps_the_world() -> None:
    app = create_app(["gitter"])
    mock = app.state.chatmock
    modules, store, hub = dict(mock.modules), mock.store, mock.hub
    with pytest.raises(SeedError, match=r"^gitter: \$\.users"):
        mock.reset({"gitter": {"users": [{"username": 5}]}})
    assert (mock.modules, mock.store, mock.hub) == (modules, store, hub)


def test_the_seed_body_has_a_size_limit() -> None:
    with TestClient(create_app(seed_limit=1000)) as client:
        big = {"gitter": {"users": [{"username": f"user{index}"} for index in range(200)]}}
        response = client.post("/__chatmock/seed", json=big)
        assert response.status_code == 413
        assert "1000-byte limit" in response.json()["error"]
        assert all(works(client, api) for api in API_NAMES)
    with TestClient(create_app(["gitter"])) as client:  # an API chatmock knows but this app does not serve is ignored
        assert client.post("/__chatmock/seed", json={"lingr": {}, **seeded_carol()}).status_code == 200
        assert client.get("/v1/user/me", headers={"Authorization": "Bearer carol-token"}).status_code == 200


# the clock -------------------------------------------------------------------------------------
BAD_CLOCKS: list[Any] = [
    {"advance": 1e20},
    {"advance": -1e15},
    {"freeze": 1e300},
    {"freeze": "nan"},
    {"freeze": "inf"},
    {"freeze": -1e15},
    {"freeze": -1},
    {"freeze": True},
    {"advance": "60"},
    {"advance": None},
    {"freeze": "yesterday"},
    {"freeze": "10000-01-01T00:00:00Z"},
    {"freeze": 0, "advance": -1},
    {"freeze": 1700000000, "advance": 1e20},
    {"rewind": 5},
    [1],
]


def test_a_bad_clock_request_is_a_400_and_leaves_the_clock(client: TestClient) -> None:
    """M4: {"advance": 1e20} and friends broke the clock, reset and every timestamped call."""
    for spec in BAD_CLOCKS:
        frozen = client.post("/__chatmock/clock", json={"freeze": 1_700_000_000}).json()
        response = client.post("/__chatmock/clock", json=spec)
        assert response.status_code == 400, (spec, response.text)
        assert response.json()["error"].startswith("bad clock request: ")
        assert client.get("/__chatmock/clock").json() == frozen
        assert all(works(client, api) for api in API_NAMES)
        assert client.post("/__chatmock/reset").status_code == 200


@pytest.mark.parametrize("body", [b'{"advance": NaN}', b'{"advance": 1e400}', b'{"advance": Infinity}'])
def test_non_finite_numbers_are_no_json(client: TestClient, body: bytes) -> None:
    response = client.post("/__chatmock/clock", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert works(client, "rocketchat")


def test_the_clock_takes_iso_times_and_reset_restores_the_real_clock(client: TestClient) -> None:
    assert client.post("/__chatmock/clock", json={"freeze": "2024-05-01T12:00:00Z"}).json() == {
        "now": "2024-05-01T12:00:00+00:00",
        "frozen": True,
    }
    assert client.post("/__chatmock/clock", json={"advance": 90}).json()["now"] == "2024-05-01T12:01:30+00:00"
    assert client.post("/__chatmock/clock", json={"freeze": "2024-05-01T14:00:00+02:00"}).json()["now"] == "2024-05-01T12:00:00+00:00"
    assert client.post("/__chatmock/clock", json={"freeze": "2024-05-01T12:00:00"}).json()["now"] == "2024-05-01T12:00:00+00:00"
    assert client.post("/__chatmock/reset").status_code == 200
    now = client.get("/__chatmock/clock").json()
    assert now["frozen"] is False
    assert abs(time.time() - _epoch(now["now"])) < 5
    client.post("/__chatmock/clock", json={"advance": 3600})
    assert client.post("/__chatmock/clock", json={"freeze": None}).json()["frozen"] is False  # null: the real clock again
    assert abs(time.time() - _epoch(client.get("/__chatmock/clock").json()["now"])) < 5


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def test_the_clock_refuses_what_it_cannot_show() -> None:
    clock = Clock()
    bad: object
    for bad in (math.inf, -math.inf, math.nan, 10**400, True, "x", None, [], -0.5, LATEST + 1):
        with pytest.raises(ClockError):
            clock.freeze(bad) if bad is not None else clock.advance(bad)
    clock.freeze(LATEST - 10)
    with pytest.raises(ClockError):
        clock.advance(20)
    assert clock.timestamp() == LATEST - 10
    clock.advance(-(LATEST - 10))
    assert clock.timestamp() == 0.0
    with pytest.raises(ClockError):
        clock.advance(-1e-3)


# held requests are released by a reset or a seed -----------------------------------------------
async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_release_all_ends_every_waiter_as_on_a_timeout() -> None:
    hub = Hub()

    async def scenario() -> list[Any]:
        waits = [asyncio.ensure_future(hub.wait_for([f"topic-{index}"], lambda: None, 30)) for index in range(3)]
        waits.append(asyncio.ensure_future(hub.wait_for([], lambda: None, 30)))  # no topic at all
        await until(lambda: hub.waiting == 4)
        assert hub.release_all() == 4
        return await asyncio.wait_for(asyncio.gather(*waits), 2)

    assert asyncio.run(scenario()) == [None] * 4
    assert hub.waiting == 0


def test_a_closed_hub_does_not_wait() -> None:
    hub = Hub()
    hub.close()

    async def scenario() -> Any:
        return await asyncio.wait_for(hub.wait_for(["t"], lambda: None, 30), 1)

    assert asyncio.run(scenario()) is None


@pytest.mark.parametrize("how", ["reset", "seed"])
def test_a_reset_releases_the_held_requests_of_every_api(how: str) -> None:
    """L7: held BOCCO subscribes stayed held across a reset and answered from the new world."""
    app = create_app(strict=True, longpoll_timeout=30, stream_keepalive=30)

    async def scenario() -> tuple[list[httpx.Response], float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=20) as http:
            session = (await http.post("/lingr/api/session/create", data={"user": "alice", "password": "alice-password"})).json()["session"]
            counter = (await http.post("/lingr/api/room/subscribe", data={"session": session, "room": "lounge"})).json()["counter"]
            token = (
                await http.post(
                    "/bocco/alpha/sessions", data={"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
                )
            ).json()["access_token"]
            held = [
                asyncio.ensure_future(http.get("/lingr/api/event/observe", params={"session": session, "counter": str(counter)})),
                asyncio.ensure_future(
                    http.get(f"/bocco/alpha/rooms/{FAMILY}/subscribe", params={"access_token": token, "newer_than": "999999"})
                ),
                asyncio.ensure_future(http.get("/gitter/stream/v1/rooms/5f2000000000000000000002/chatMessages", headers=GITTER_ALICE)),
            ]
            hub = app.state.chatmock.hub
            await until(lambda: hub.waiting == len(held))
            started = time.monotonic()
            if how == "reset":
                assert (await http.post("/__chatmock/reset")).status_code == 200
            else:
                seed = {name: default_world(name) for name in API_NAMES}
                assert (await http.post("/__chatmock/seed", json=seed)).status_code == 200
            answers = await asyncio.wait_for(asyncio.gather(*held), 5)
            return list(answers), time.monotonic() - started

    answers, elapsed = asyncio.run(scenario())
    assert elapsed < 2
    observe, subscribe, stream = answers
    assert observe.status_code == 200
    assert observe.json()["status"] in ("ok", "error")
    assert subscribe.status_code == 408
    assert stream.status_code == 200
    assert stream.content.strip() == b""
    assert app.state.chatmock.hub.waiting == 0
    assert app.state.chatmock.dispatcher.violations == []


# the body read deadline ---------------------------------------------------------------------------
async def slow_request(
    app: ChatMockApp, path: str, headers: list[tuple[bytes, bytes]], first: bytes | None, method: str = "POST"
) -> tuple[int, dict[bytes, bytes], bytes, float]:
    """A client that declares a body and sends ``first`` (None: nothing) and then nothing more."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    given = False
    forever = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal given
        if first is not None and not given:
            given = True
            return {"type": "http.request", "body": first, "more_body": True}
        await forever.wait()  # never set: the client sends nothing more
        return {"type": "http.disconnect"}

    status, response_headers, parts = 0, {}, []

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, response_headers
        if message["type"] == "http.response.start":
            status, response_headers = message["status"], dict(message["headers"])
        else:
            parts.append(message.get("body", b""))

    started = time.monotonic()
    await asyncio.wait_for(app(scope, receive, send), 5)
    return status, response_headers, b"".join(parts), time.monotonic() - started


@pytest.mark.parametrize("first", [None, b"user=al"], ids=["nothing", "a-first-chunk"])
@pytest.mark.parametrize("api", API_NAMES)
def test_a_body_not_received_in_time_is_dropped_with_408(api: str, first: bytes | None) -> None:
    """L8: slow-body clients were held for ever."""
    app = create_app(strict=True, read_timeout=0.2)
    path, auth, _, content_type = BODY_PROBES[api]
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"100")]
    headers += [(key.lower().encode(), value.encode()) for key, value in auth.items()]
    status, response_headers, body, elapsed = asyncio.run(slow_request(app, path, headers, first))
    assert 0.15 < elapsed < 1.5
    assert response_headers[b"connection"] == b"close"
    reply = json.loads(body)
    assert REGISTRY.api(api).error_checker.errors(reply) == []
    assert status == (200 if api == "lingr" else 408)
    entry = app.state.chatmock.journal.entries()[-1]
    assert (entry["status"], entry["path"]) == (status, path)
    assert app.state.chatmock.dispatcher.violations == []


def test_an_admin_body_not_received_in_time_is_a_408() -> None:
    app = create_app(read_timeout=0.2)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
    status, response_headers, body, elapsed = asyncio.run(slow_request(app, "/__chatmock/seed", headers, b'{"gitter"'))
    assert (status, response_headers[b"connection"]) == (408, b"close")
    assert "did not arrive within 0.2 s" in json.loads(body)["error"]
    assert elapsed < 1.5


def test_a_body_that_came_with_the_headers_is_not_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline costs nothing on the hot path: only a read that has to wait is registered."""
    app = create_app(read_timeout=0.5)
    deadlines = app.state.chatmock.dispatcher.deadlines
    registered: list[object] = []
    monkeypatch.setattr(deadlines, "begin", lambda: registered.append(1))
    with TestClient(app) as client:
        assert client.get("/gitter/v1/user/me", headers=GITTER_ALICE).status_code == 200
        for api in API_NAMES:
            path, auth, body, content_type = BODY_PROBES[api]
            assert client.post(path, headers={**auth, "Content-Type": content_type}, content=body).status_code == 200
    assert registered == []


# on_exchange and the options of create_app ----------------------------------------------------------------
@pytest.mark.parametrize("journal_size", [0, 500])
def test_on_exchange_sees_every_finished_exchange(journal_size: int) -> None:
    seen: list[Entry] = []
    app = create_app(journal_size=journal_size, on_exchange=seen.append)
    with TestClient(app) as client:
        client.get("/gitter/v1/user/me", headers=GITTER_ALICE)
        client.get("/nowhere")
        client.get("/__chatmock/health")  # the admin API is no exchange of an API
    assert [(entry.api, entry.method, entry.path, entry.status, entry.endpoint) for entry in seen] == [
        ("gitter", "GET", "/gitter/v1/user/me", 200, "gitter.user.me"),
        (None, "GET", "/nowhere", 404, None),
    ]
    assert all(0 <= entry.duration < 5 and entry.violations == [] for entry in seen)
    assert len(app.state.chatmock.journal.entries()) == (2 if journal_size else 0)
    assert app.state.chatmock.journal.entries()[-1:] == [seen[-1].public()][: 1 if journal_size else 0]


def test_a_failing_on_exchange_hook_fails_no_request(caplog: pytest.LogCaptureFixture) -> None:
    def broken(entry: Entry) -> None:
        raise RuntimeError("hook bug")

    with TestClient(create_app(["gitter"], on_exchange=broken)) as client:
        assert client.get("/v1/user/me", headers=GITTER_ALICE).status_code == 200
    assert "on_exchange" in caplog.text


def test_create_app_takes_every_setting_with_its_type() -> None:
    signature = inspect.signature(create_app)
    for name in ("admin_hosts", "seed_limit", "session_idle_timeout", "auth_failure_limit", "read_timeout", "on_exchange"):
        parameter = signature.parameters[name]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default == getattr(Settings(), name) or name == "admin_hosts"
    hook: Callable[[Entry], None] = lambda entry: None  # noqa: E731
    app = create_app(
        admin_hosts=["Mock.Example:8000", "[::2]"],
        seed_limit=123,
        session_idle_timeout=60.0,
        auth_failure_limit=5,
        read_timeout=2.5,
        on_exchange=hook,
    )
    settings = app.state.chatmock.settings
    assert settings.admin_hosts == frozenset({"mock.example", "[::2]"})
    assert (settings.seed_limit, settings.session_idle_timeout, settings.auth_failure_limit, settings.read_timeout) == (123, 60.0, 5, 2.5)
    assert settings.on_exchange is hook
    with pytest.raises(TypeError):
        create_app(admin_hosts=[b"bytes.example"])  # type: ignore[list-item]
