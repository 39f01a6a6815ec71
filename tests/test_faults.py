"""Fault injection (``mockserver.core.faults``), API by API, through the admin API: every
fault type against every API, matching by API / endpoint / method / user, counting,
probability, listing, removal and reset. Socket-level faults (drop, truncate, a stream cut
mid-message) run against a real server; the others in-process."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver.app import ChatMockApp, create_app
from mockserver.background import serve_in_thread
from mockserver.core.call import Problem
from mockserver.core.faults import ConnectionDropped

APIS = ("gitter", "rocketchat", "lingr", "bocco")
LONGPOLL = 0.4
RC_IDS = {"alice": "aLiCEx3kPq7RtZ2mW", "bob": "boBy4Nq8HsK2dYe6T"}
BOCCO_FAMILY = "FA000000-0000-4000-8000-000000000001"
GITTER_ROOM = "5f2000000000000000000002"  # chatmock/chatmock: alice and bob


def make_app() -> ChatMockApp:
    return create_app(strict=True, longpoll_timeout=LONGPOLL, stream_keepalive=0.1)


@dataclass(frozen=True)
class Probe:
    """One authenticated list call of an API, as ``user``."""

    api: str
    endpoint: str
    method: str
    path: str

    def auth(self, client: httpx.Client | TestClient, user: str = "alice") -> dict[str, Any]:
        """Request keyword arguments carrying ``user``'s credentials."""
        if self.api == "gitter":
            return {"headers": {"Authorization": f"Bearer gitter-token-{user}"}}
        if self.api == "rocketchat":
            return {"headers": {"X-Auth-Token": f"rc-pat-{user}", "X-User-Id": RC_IDS[user]}}
        if self.api == "lingr":
            body = client.post("/lingr/api/session/create", data={"user": user, "password": f"{user}-password"}).json()
            return {"params": {"session": body["session"]}}
        signed = client.post(
            "/bocco/alpha/sessions", data={"apikey": "bocco-api-key", "email": f"{user}@example.com", "password": f"{user}-password"}
        )
        return {"params": {"access_token": signed.json()["access_token"]}}

    def send(self, client: httpx.Client | TestClient, user: str = "alice", auth: dict[str, Any] | None = None) -> httpx.Response:
        return client.request(self.method, self.path, **(auth if auth is not None else self.auth(client, user)))


PROBES = {
    "gitter": Probe("gitter", "gitter.rooms.list", "GET", "/gitter/v1/rooms"),
    "rocketchat": Probe("rocketchat", "rocketchat.rooms.get", "GET", "/rocketchat/api/v1/rooms.get"),
    "lingr": Probe("lingr", "lingr.user.get_rooms", "GET", "/lingr/api/user/get_rooms"),
    "bocco": Probe("bocco", "bocco.rooms.joined", "GET", "/bocco/alpha/rooms/joined"),
}


@pytest.fixture
def app() -> Iterator[ChatMockApp]:
    made = make_app()
    yield made
    assert made.state.chatmock.dispatcher.violations == []
    assert made.state.chatmock.dispatcher._faulted == {}  # no rule outlives its exchange


@pytest.fixture
def client(app: ChatMockApp) -> Iterator[TestClient]:
    with TestClient(app) as opened:
        yield opened


def add(client: httpx.Client | TestClient, **rule: Any) -> dict[str, Any]:
    response = client.post("/__chatmock/faults", json=rule)
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()["fault"]
    return added


def journal_faults(client: httpx.Client | TestClient) -> list[str | None]:
    return [entry["fault"] for entry in client.get("/__chatmock/journal").json()["entries"]]


def read_all(response: httpx.Response, into: bytearray | None = None) -> bytes:
    """Read a streamed body chunk by chunk into ``into`` (kept when the read fails)."""
    received = into if into is not None else bytearray()
    for chunk in response.iter_raw():
        received.extend(chunk)
    return bytes(received)


def module(app: ChatMockApp, api: str) -> Any:
    return app.state.chatmock.modules[api]


# answers made to order ----------------------------------------------------------------------
@pytest.mark.parametrize("api", APIS)
def test_documented_error_is_the_endpoints_documented_body(api: str, client: TestClient, app: ChatMockApp) -> None:
    probe = PROBES[api]
    endpoint = app.state.chatmock.registry.endpoint(probe.endpoint)
    case = endpoint.errors[0]
    auth = probe.auth(client)
    rule = add(
        client, action="error", endpoint=probe.endpoint, status=case.status, **({"code": case.code} if case.code is not None else {})
    )
    assert (rule["status"], rule.get("code")) == (case.status, case.code)
    faulted = probe.send(client, auth=auth)
    expected = module(app, api).documented(endpoint, case.status, case.code)
    assert (faulted.status_code, faulted.json()) == (expected.status, expected.body)
    assert probe.send(client, auth=auth).status_code == 200  # once by default
    assert journal_faults(client)[-2:] == [f"#{rule['id']} error", None]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("status", [500, 503])
def test_server_error_in_the_apis_shape(api: str, status: int, client: TestClient, app: ChatMockApp) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    add(client, action="server_error", api=api, status=status)
    faulted = probe.send(client, auth=auth)
    shaped = module(app, api)
    expected = shaped.error(Problem.INTERNAL, "x") if status == 500 else shaped.error_for_status(status, None)
    assert faulted.status_code == expected.status
    assert set(faulted.json()) == set(expected.body)  # the API's error shape (Lingr: HTTP 200, status error)
    assert "Traceback" not in faulted.text


@pytest.mark.parametrize("api", APIS)
def test_rate_limit_answers_with_retry_after(api: str, client: TestClient, app: ChatMockApp) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    add(client, action="rate_limit", endpoint=probe.endpoint, retry_after=7, times=2)
    expected = module(app, api).error(Problem.TOO_MANY_REQUESTS, "x")
    for _ in range(2):
        faulted = probe.send(client, auth=auth)
        assert faulted.status_code == expected.status
        assert faulted.headers["retry-after"] == "7"
        assert set(faulted.json()) == set(expected.body)
    assert probe.send(client, auth=auth).status_code == 200
    listed = client.get("/__chatmock/faults").json()["faults"]
    assert [(rule["applied"], rule["left"]) for rule in listed] == [(2, 0)]


# timing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("api", APIS)
def test_fixed_and_random_delay(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    add(client, action="delay", endpoint=probe.endpoint, seconds=0.25)
    started = time.monotonic()
    assert probe.send(client, auth=auth).status_code == 200
    assert time.monotonic() - started >= 0.25
    add(client, action="delay", endpoint=probe.endpoint, seconds=0.1, max_seconds=0.2)
    started = time.monotonic()
    assert probe.send(client, auth=auth).status_code == 200
    assert 0.1 <= time.monotonic() - started < 2
    started = time.monotonic()
    assert probe.send(client, auth=auth).status_code == 200
    assert time.monotonic() - started < 0.1  # both rules spent
    assert journal_faults(client)[-3:] == ["#1 delay", "#2 delay", None]


def _post_message(api: str) -> Callable[[httpx.AsyncClient, dict[str, Any]], Any]:
    async def lingr(client: httpx.AsyncClient, auth: dict[str, Any]) -> Any:
        return await client.post("/lingr/api/room/say", data={**auth["params"], "room": "lounge", "text": "late news"})

    async def bocco(client: httpx.AsyncClient, auth: dict[str, Any]) -> Any:
        data = {**auth["params"], "unique_id": str(uuid.uuid4()).upper(), "media": "text", "text": "late news"}
        return await client.post(f"/bocco/alpha/rooms/{BOCCO_FAMILY}/messages", data=data)

    return {"lingr": lingr, "bocco": bocco}[api]


@pytest.mark.parametrize("api", ["lingr", "bocco"])
def test_hold_keeps_a_long_poll_to_its_timeout_and_then_delivers(api: str, app: ChatMockApp) -> None:
    """A message posted meanwhile would answer the poll at once; held, it comes after the timeout."""
    with TestClient(app) as sync:
        alice, bob = PROBES[api].auth(sync, "alice"), PROBES[api].auth(sync, "bob")
        if api == "lingr":
            counter = sync.post("/lingr/api/room/subscribe", data={**bob["params"], "room": "lounge"}).json()["counter"]
            poll_path, poll_params, endpoint = "/lingr/api/event/observe", {**bob["params"], "counter": str(counter)}, "lingr.event.observe"
        else:
            listed = sync.get(f"/bocco/alpha/rooms/{BOCCO_FAMILY}/messages", params=bob["params"]).json()
            newest = max(message["id"] for message in listed)
            poll_path, poll_params = f"/bocco/alpha/rooms/{BOCCO_FAMILY}/subscribe", {**bob["params"], "newer_than": str(newest)}
            endpoint = "bocco.rooms.subscribe"
        add(sync, action="hold", endpoint=endpoint, seconds=0.5)

    async def scenario() -> tuple[float, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            started = time.monotonic()
            poll = asyncio.ensure_future(client.get(poll_path, params=poll_params))
            await asyncio.sleep(0.05)
            posted = await _post_message(api)(client, alice)
            assert posted.status_code in (200, 201)
            answer = await poll
            return time.monotonic() - started, answer

    elapsed, answer = asyncio.run(scenario())
    assert 0.5 <= elapsed < 3
    assert answer.status_code == 200
    assert "late news" in answer.text


@pytest.mark.parametrize("api", ["gitter", "rocketchat"])
def test_hold_on_a_plain_call_delays_it_by_the_long_poll_timeout(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    add(client, action="hold", endpoint=probe.endpoint)
    started = time.monotonic()
    assert probe.send(client, auth=auth).status_code == 200
    assert time.monotonic() - started >= LONGPOLL


# the connection ---------------------------------------------------------------------------
@pytest.fixture
def served() -> Iterator[httpx.Client]:
    app = make_app()
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        yield http
    assert app.state.chatmock.dispatcher._faulted == {}


@pytest.mark.parametrize("api", APIS)
def test_drop_closes_the_connection_without_an_answer(api: str, served: httpx.Client) -> None:
    probe = PROBES[api]
    auth = probe.auth(served)
    rule = add(served, action="drop", endpoint=probe.endpoint)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        probe.send(served, auth=auth)
    assert probe.send(served, auth=auth).status_code == 200
    entries = served.get("/__chatmock/journal").json()["entries"]
    dropped = [entry for entry in entries if entry["fault"] == f"#{rule['id']} drop"]
    assert [entry["status"] for entry in dropped] == [0]


@pytest.mark.parametrize("api", APIS)
def test_drop_in_process_raises_connection_dropped(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    add(client, action="drop", api=api)
    with pytest.raises(ConnectionDropped):
        probe.send(client, auth=auth)
    assert probe.send(client, auth=auth).status_code == 200


@pytest.mark.parametrize("api", APIS)
def test_truncate_sends_part_of_the_body_then_closes(api: str, served: httpx.Client) -> None:
    probe = PROBES[api]
    auth = probe.auth(served)
    whole = probe.send(served, auth=auth).content
    add(served, action="truncate", endpoint=probe.endpoint, fraction=0.5)
    received = bytearray()
    with served.stream(probe.method, probe.path, **auth) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(whole)
        with pytest.raises(httpx.RemoteProtocolError):
            read_all(response, received)
    assert bytes(received) == whole[: len(whole) // 2]


@pytest.mark.parametrize("api", APIS)
def test_truncate_in_process_cuts_the_body(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    whole = probe.send(client, auth=auth).content
    add(client, action="truncate", api=api, fraction=0.25)
    assert probe.send(client, auth=auth).content == whole[: len(whole) // 4]


def test_cut_stream_sends_whole_messages_then_half_of_the_next(served: httpx.Client) -> None:
    auth = {"Authorization": "Bearer gitter-token-alice"}
    add(served, action="cut_stream", endpoint="gitter.stream.chatMessages", after=1)
    received = bytearray()
    with served.stream(
        "GET", f"/gitter/stream/v1/rooms/{GITTER_ROOM}/chatMessages", headers={"Authorization": "Bearer gitter-token-bob"}
    ) as stream:
        assert stream.status_code == 200
        first = served.post(f"/gitter/v1/rooms/{GITTER_ROOM}/chatMessages", json={"text": "first whole"}, headers=auth)
        second = served.post(f"/gitter/v1/rooms/{GITTER_ROOM}/chatMessages", json={"text": "second cut"}, headers=auth)
        assert first.status_code == second.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            read_all(stream, received)
    items = [item for item in bytes(received).split(b"\r") if item.strip()]  # Gitter's stream delimiter
    assert len(items) == 2
    assert b"first whole" in items[0]
    assert items[0].strip().endswith(b"}")
    assert b"second cut" in items[1]
    assert not items[1].strip().endswith(b"}")
    with pytest.raises(json.JSONDecodeError):
        json.loads(items[1])


@pytest.mark.parametrize("api", ["rocketchat", "lingr", "bocco"])
def test_cut_stream_on_an_api_without_streams_truncates(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    auth = probe.auth(client)
    whole = probe.send(client, auth=auth).content
    add(client, action="cut_stream", endpoint=probe.endpoint)
    assert probe.send(client, auth=auth).content == whole[: len(whole) // 2]


# matching and bookkeeping -----------------------------------------------------------------
@pytest.mark.parametrize("api", APIS)
def test_user_rule_applies_to_that_user_only(api: str, client: TestClient) -> None:
    probe = PROBES[api]
    alice, bob = probe.auth(client, "alice"), probe.auth(client, "bob")
    add(client, action="server_error", api=api, user="bob", times=None)
    assert probe.send(client, auth=alice).status_code == 200
    assert probe.send(client, auth=alice).json() == probe.send(client, auth=alice).json()
    bobs = probe.send(client, auth=bob)
    assert bobs.status_code != 200 or bobs.json().get("status") == "error"
    assert client.get("/__chatmock/faults").json()["faults"][0]["applied"] == 1


def test_method_and_endpoint_and_api_filters(client: TestClient) -> None:
    probe = PROBES["lingr"]
    auth = probe.auth(client)
    add(client, action="rate_limit", endpoint="lingr.user.get_rooms", method="POST", times=None)
    add(client, action="rate_limit", api="gitter", times=None)
    assert probe.send(client, auth=auth).json()["status"] == "ok"  # a GET: the POST rule does not match
    posted = client.post("/lingr/api/user/get_rooms", data=auth["params"])
    assert posted.json()["status"] == "error"
    assert posted.headers["retry-after"] == "30"


def test_probability_zero_never_one_always(client: TestClient) -> None:
    probe = PROBES["gitter"]
    auth = probe.auth(client)
    add(client, action="server_error", api="gitter", probability=0.0, times=None)
    assert all(probe.send(client, auth=auth).status_code == 200 for _ in range(20))
    add(client, action="server_error", api="gitter", probability=1.0, times=3)
    assert [probe.send(client, auth=auth).status_code for _ in range(4)] == [500, 500, 500, 200]
    counts = [rule["applied"] for rule in client.get("/__chatmock/faults").json()["faults"]]
    assert counts == [0, 3]


def test_probability_half_applies_about_half_the_time(client: TestClient, app: ChatMockApp) -> None:
    app.state.chatmock.faults.rng.seed(7)
    probe = PROBES["gitter"]
    auth = probe.auth(client)
    add(client, action="server_error", api="gitter", probability=0.5, times=None)
    failed = sum(probe.send(client, auth=auth).status_code == 500 for _ in range(60))
    assert 15 <= failed <= 45


def test_rules_listed_removed_cleared_and_reset(client: TestClient) -> None:
    first = add(client, action="drop", api="gitter")
    add(client, action="delay", api="lingr", seconds=1)
    listed = client.get("/__chatmock/faults").json()["faults"]
    assert [rule["action"] for rule in listed] == ["drop", "delay"]
    assert client.get(f"/__chatmock/faults/{first['id']}").json()["fault"]["action"] == "drop"
    assert client.delete(f"/__chatmock/faults/{first['id']}").status_code == 200
    assert client.get(f"/__chatmock/faults/{first['id']}").status_code == 404
    assert client.delete("/__chatmock/faults").json() == {"status": "cleared"}
    assert client.get("/__chatmock/faults").json()["faults"] == []
    several = client.post("/__chatmock/faults", json=[{"action": "drop"}, {"action": "truncate", "api": "bocco"}])
    assert several.status_code == 201
    assert len(several.json()["faults"]) == 2
    assert client.post("/__chatmock/reset").status_code == 200
    assert client.get("/__chatmock/faults").json()["faults"] == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"action": "explode"}, "action must be one of"),
        ({"action": "delay"}, "delay needs seconds"),
        ({"action": "delay", "seconds": -1}, "seconds must be a number"),
        ({"action": "drop", "api": "nope"}, "api 'nope' is not served"),
        ({"action": "drop", "endpoint": "gitter.nope"}, "no such endpoint"),
        ({"action": "drop", "endpoint": "gitter.rooms.list", "api": "lingr"}, "not an endpoint of lingr"),
        ({"action": "error", "endpoint": "gitter.rooms.list", "status": 418}, "documents no such error"),
        ({"action": "error"}, "error needs a status or a code"),
        ({"action": "server_error", "status": 404}, "status must be a number from 500"),
        ({"action": "drop", "times": 0}, "times must be a number"),
        ({"action": "drop", "probability": 2}, "probability must be"),
        ({"action": "drop", "seconds": 1}, "unknown key 'seconds'"),
        ([{"action": "drop"}, {"action": "bad"}], "[1]: action must be"),
        ("drop", "a fault rule is a JSON object"),
    ],
)
def test_bad_rules_are_400_and_add_nothing(rule: Any, message: str, client: TestClient) -> None:
    response = client.post("/__chatmock/faults", json=rule)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert client.get("/__chatmock/faults").json()["faults"] == []


def test_fault_posts_are_json_only(client: TestClient) -> None:
    assert client.post("/__chatmock/faults", content=b'{"action":"drop"}', headers={"content-type": "text/plain"}).status_code == 415


def test_no_rule_no_fault_field(client: TestClient) -> None:
    probe = PROBES["gitter"]
    probe.send(client)
    assert journal_faults(client) == [None]
