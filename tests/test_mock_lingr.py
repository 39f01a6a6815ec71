"""The Lingr mock: every endpoint's success path and documented errors, the Lingr quirks
(HTTP 200 everywhere, application/javascript, JSONP, room/rooms lists, GET-only observe),
the long-poll counter semantics, and a real-socket bot flow.

Ground truth: schemas/lingr/ (through the registry) and shared/api/lingr.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from mock_support import REGISTRY, MockClient, assert_documented, assert_error_shape, schema_errors
from starlette.testclient import TestClient

from contract_tests.server import serve_in_thread
from mockserver.app import create_app
from mockserver.core.call import Problem
from mockserver.core.registry import thaw

API = REGISTRY.api("lingr")
CONTENT_TYPE = API.content_type
TIMEOUT = 0.5
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
AUTHED = sorted(endpoint.id for endpoint in REGISTRY.endpoints_of("lingr") if endpoint.auth is not None)


def path(endpoint_id: str) -> str:
    return REGISTRY.endpoint(endpoint_id).path


def method(endpoint_id: str) -> str:
    return REGISTRY.endpoint(endpoint_id).method


def documented(endpoint_id: str, code: str) -> Any:
    return next(thaw(case.body) for case in REGISTRY.endpoint(endpoint_id).errors if case.code == code)


@pytest.fixture
def client(mock_client: MockClient) -> TestClient:
    return mock_client("lingr", longpoll_timeout=TIMEOUT)


@pytest.fixture
def app(client: TestClient) -> Any:
    return client.app


def call(client: TestClient, endpoint_id: str, http_method: str | None = None, **params: str) -> httpx.Response:
    """One call the way Lingr clients send it: GET in the query string, POST as a form."""
    verb = http_method or method(endpoint_id)
    if verb == "GET":
        return client.get(path(endpoint_id), params=params)
    return client.post(path(endpoint_id), data=params)


def ok(response: httpx.Response, endpoint_id: str) -> Any:
    body = assert_documented(endpoint_id, response, 200)
    assert body["status"] == "ok", body
    return body


def failed(response: httpx.Response, endpoint_id: str | None, code: str) -> Any:
    """A Lingr error: HTTP 200, the error shape with ``code`` (and the endpoint's schema, when given)."""
    body = assert_error_shape("lingr", response, 200) if endpoint_id is None else assert_documented(endpoint_id, response, 200)
    assert API.error_checker.errors(body) == [], body
    assert body["status"] == "error"
    assert body["code"] == code, body
    return body


def login(client: TestClient, user: str = "alice") -> str:
    body = ok(call(client, "lingr.session.create", user=user, password=PASSWORDS[user]), "lingr.session.create")
    return str(body["session"])


def say(client: TestClient, session: str, room: str, text: str, **extra: str) -> dict[str, Any]:
    body = ok(call(client, "lingr.room.say", session=session, room=room, text=text, **extra), "lingr.room.say")
    return dict(body["message"])


def subscribe(client: TestClient, session: str, room: str, **extra: str) -> int:
    return int(ok(call(client, "lingr.room.subscribe", session=session, room=room, **extra), "lingr.room.subscribe")["counter"])


# sessions --------------------------------------------------------------------------
def test_session_create_by_username_or_email(client: TestClient) -> None:
    for name in ("alice", "alice@example.com"):
        body = ok(call(client, "lingr.session.create", user=name, password="alice-password"), "lingr.session.create")
        assert body["user"] == {"name": "Alice", "username": "alice"}
        assert re.fullmatch(r"[A-Za-z0-9]{6}", body["session"])
        assert re.fullmatch(r"[A-Za-z0-9]{6}", body["public_id"])
        assert body["nickname"] == "alice"


@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("nobody", "alice-password"), ("bob", "alice-password")])
def test_session_create_rejects_bad_credentials(client: TestClient, user: str, password: str) -> None:
    response = call(client, "lingr.session.create", user=user, password=password)
    assert failed(response, "lingr.session.create", "invalid_user_credentials") == documented(
        "lingr.session.create", "invalid_user_credentials"
    )


def test_verify_then_destroy_ends_the_session(client: TestClient) -> None:
    session = login(client)
    body = ok(call(client, "lingr.session.verify", session=session), "lingr.session.verify")
    assert body["session"] == session
    assert body["user"]["username"] == "alice"
    assert ok(call(client, "lingr.session.destroy", session=session), "lingr.session.destroy") == {"status": "ok"}
    for endpoint_id in ("lingr.session.verify", "lingr.session.destroy", "lingr.user.get_rooms"):
        response = call(client, endpoint_id, session=session)
        assert failed(response, endpoint_id, "invalid_session") == documented(endpoint_id, "invalid_session")


@pytest.mark.parametrize("endpoint_id", AUTHED)
def test_every_authenticated_endpoint_rejects_an_unknown_session(client: TestClient, endpoint_id: str) -> None:
    for params in ({}, {"session": "NoSuch"}):
        response = call(client, endpoint_id, **params)
        assert failed(response, endpoint_id, "invalid_session") == documented(endpoint_id, "invalid_session")


# rooms -----------------------------------------------------------------------------
def test_get_rooms_lists_only_joined_rooms(client: TestClient) -> None:
    alice = ok(call(client, "lingr.user.get_rooms", session=login(client, "alice")), "lingr.user.get_rooms")["rooms"]
    bob = ok(call(client, "lingr.user.get_rooms", session=login(client, "bob")), "lingr.user.get_rooms")["rooms"]
    shared = set(alice) & set(bob)
    assert len(shared) >= 2
    assert set(bob) - set(alice), "one room only bob belongs to"
    assert set(alice) <= set(bob)


def test_room_show_roster_messages_and_room_lists(client: TestClient) -> None:
    session = login(client)
    rooms = ok(call(client, "lingr.user.get_rooms", session=session), "lingr.user.get_rooms")["rooms"]
    for key in ("room", "rooms"):
        body = ok(call(client, "lingr.room.show", session=session, **{key: ",".join(rooms)}), "lingr.room.show")
        assert [room["id"] for room in body["rooms"]] == rooms
    shown = {room["id"]: room for room in body["rooms"]}
    assert any(room["roster"]["bots"] for room in shown.values()), "a bot in a roster"
    assert all(room["messages"] for room in shown.values()), "every default room has messages"
    for room in shown.values():
        ids = [int(message["id"]) for message in room["messages"]]
        assert ids == sorted(ids)
        assert {member["username"] for member in room["roster"]["members"]} >= {"alice"}
        online = {member["username"]: member["is_online"] for member in room["roster"]["members"]}
        assert online["alice"] is True


def test_room_show_keeps_the_latest_30_oldest_first(client: TestClient) -> None:
    session = login(client)
    latest = REGISTRY.model("lingr.Room").schema["properties"]["messages"]["maxItems"]
    posted = [say(client, session, "dev", f"message {index}")["id"] for index in range(latest + 5)]
    room = ok(call(client, "lingr.room.show", session=session, room="dev"), "lingr.room.show")["rooms"][0]
    assert [message["id"] for message in room["messages"]] == posted[-latest:]


def test_rooms_of_others_and_unknown_rooms_are_not_found(client: TestClient) -> None:
    session = login(client, "alice")
    bob_only = set(ok(call(client, "lingr.user.get_rooms", session=login(client, "bob")), "lingr.user.get_rooms")["rooms"]) - set(
        ok(call(client, "lingr.user.get_rooms", session=session), "lingr.user.get_rooms")["rooms"]
    )
    for room in (*bob_only, "no_such_room"):
        failed(call(client, "lingr.room.show", session=session, room=f"lounge,{room}"), "lingr.room.show", "not_found")
        failed(call(client, "lingr.room.say", session=session, room=room, text="hi"), "lingr.room.say", "not_found")
        failed(
            call(client, "lingr.room.get_archives", session=session, room=room, before="99999999"), "lingr.room.get_archives", "not_found"
        )
        failed(call(client, "lingr.room.subscribe", session=session, room=room), "lingr.room.subscribe", "not_found")
        failed(call(client, "lingr.room.unsubscribe", session=session, room=room), "lingr.room.unsubscribe", "not_found")


def test_get_archives_is_strictly_older_ascending_and_limited(client: TestClient) -> None:
    session = login(client)
    ids = [say(client, session, "random", f"archive {index}")["id"] for index in range(6)]
    body = ok(call(client, "lingr.room.get_archives", session=session, room="random", before=ids[4], limit="3"), "lingr.room.get_archives")
    assert [message["id"] for message in body["messages"]] == ids[1:4]
    body = ok(call(client, "lingr.room.get_archives", session=session, room="random", before=ids[0]), "lingr.room.get_archives")
    assert body["messages"], "the default world's older messages"
    assert all(int(message["id"]) < int(ids[0]) for message in body["messages"])
    assert [int(m["id"]) for m in body["messages"]] == sorted(int(m["id"]) for m in body["messages"])
    body = ok(call(client, "lingr.room.get_archives", "POST", session=session, room="random", before="1"), "lingr.room.get_archives")
    assert body["messages"] == []


# say -------------------------------------------------------------------------------
def test_say_returns_the_message_and_every_read_endpoint_sees_it(client: TestClient) -> None:
    alice, bob = login(client, "alice"), login(client, "bob")
    first = say(client, alice, "lounge", "hello bob")
    second = say(client, alice, "lounge", "again", local_id="pending-abc-1", nickname="Ally")
    assert re.fullmatch(r"[0-9]+", first["id"])
    assert int(second["id"]) > int(first["id"])
    assert first["local_id"] is None
    assert second["local_id"] == "pending-abc-1"
    assert second["nickname"] == "Ally"
    assert first["speaker_id"] == "alice"
    assert first["type"] == "user"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["timestamp"])
    via_get = ok(call(client, "lingr.room.say", "GET", session=alice, room="lounge", text="by GET"), "lingr.room.say")["message"]
    shown = ok(call(client, "lingr.room.show", session=bob, room="lounge"), "lingr.room.show")["rooms"][0]["messages"]
    assert shown[-3:] == [first, second, via_get]
    archived = ok(
        call(client, "lingr.room.get_archives", session=bob, room="lounge", before=str(int(via_get["id"]) + 1)), "lingr.room.get_archives"
    )
    assert archived["messages"][-3:] == [first, second, via_get]


def test_concurrent_posts_are_all_kept(app: Any) -> None:
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            created = await http.post(path("lingr.session.create"), data={"user": "bob", "password": "bob-password"})
            session = created.json()["session"]
            replies = await asyncio.gather(
                *(http.post(path("lingr.room.say"), data={"session": session, "room": "bobs_den", "text": f"n{i}"}) for i in range(40))
            )
            ids = [reply.json()["message"]["id"] for reply in replies]
            assert len(set(ids)) == 40
            archived = await http.get(
                path("lingr.room.get_archives"), params={"session": session, "room": "bobs_den", "before": "999999999", "limit": "100"}
            )
            kept = [message["id"] for message in archived.json()["messages"]]
            assert set(ids) <= set(kept)
            assert [int(i) for i in kept] == sorted(int(i) for i in kept)

    asyncio.run(scenario())


# favorites -------------------------------------------------------------------------
def test_favorites_are_per_user_and_reflected_in_room_show(client: TestClient) -> None:
    alice, bob = login(client, "alice"), login(client, "bob")
    message = say(client, bob, "dev", "favourite me")
    body = ok(call(client, "lingr.favorite.add", session=alice, message=message["id"]), "lingr.favorite.add")
    assert body["message"]["id"] == message["id"]

    def faved(session: str) -> list[str]:
        room = ok(call(client, "lingr.room.show", session=session, room="dev"), "lingr.room.show")["rooms"][0]
        return [str(value) for value in room["faved_message_ids"]]

    assert message["id"] in faved(alice)
    assert message["id"] not in faved(bob)
    failed(call(client, "lingr.favorite.add", session=alice, message=message["id"]), "lingr.favorite.add", "already_favorited")
    ok(call(client, "lingr.favorite.remove", "GET", session=alice, message=message["id"]), "lingr.favorite.remove")
    assert message["id"] not in faved(alice)
    failed(call(client, "lingr.favorite.remove", session=alice, message=message["id"]), "lingr.favorite.remove", "not_favorited")


def test_favorites_of_unknown_or_foreign_messages_are_not_found(client: TestClient) -> None:
    alice, bob = login(client, "alice"), login(client, "bob")
    private = say(client, bob, "bobs_den", "private")
    for endpoint_id in ("lingr.favorite.add", "lingr.favorite.remove"):
        failed(call(client, endpoint_id, session=alice, message="424242424242"), endpoint_id, "not_found")
        failed(call(client, endpoint_id, session=alice, message=private["id"]), endpoint_id, "not_found")


# subscribe / observe -----------------------------------------------------------------
def test_observe_delivers_events_after_the_counter_and_resumes_without_gaps(client: TestClient) -> None:
    alice, bob = login(client, "alice"), login(client, "bob")
    counter = subscribe(client, bob, "lounge,dev")
    posted = [say(client, alice, room, f"event {room}") for room in ("lounge", "dev", "lounge")]
    say(client, alice, "random", "not subscribed")
    body = ok(call(client, "lingr.event.observe", session=bob, counter=str(counter)), "lingr.event.observe")
    assert [event["message"] for event in body["events"]] == posted
    assert all(event["event_id"] > counter for event in body["events"])
    assert body["counter"] == max(event["event_id"] for event in body["events"])
    later = say(client, alice, "dev", "later")
    again = ok(call(client, "lingr.event.observe", session=bob, counter=str(body["counter"])), "lingr.event.observe")
    assert [event["message"] for event in again["events"]] == [later]
    # from the same counter once more: the same events, no duplicates of earlier ones
    replay = ok(call(client, "lingr.event.observe", session=bob, counter=str(body["counter"])), "lingr.event.observe")
    assert replay == again


def test_observe_times_out_with_the_counter_unchanged(client: TestClient) -> None:
    bob = login(client, "bob")
    counter = subscribe(client, bob, "lounge")
    started = time.monotonic()
    body = ok(call(client, "lingr.event.observe", session=bob, counter=str(counter)), "lingr.event.observe")
    assert time.monotonic() - started >= TIMEOUT * 0.9
    assert body == {"status": "ok", "counter": counter}


def test_subscribe_reset_and_unsubscribe(client: TestClient) -> None:
    alice, bob = login(client, "alice"), login(client, "bob")
    subscribe(client, bob, "lounge,dev")
    counter = subscribe(client, bob, "random", reset="true")
    unsubscribed = ok(call(client, "lingr.room.unsubscribe", session=bob, room="dev"), "lingr.room.unsubscribe")
    assert unsubscribed == {"status": "ok", "counter": 0}
    say(client, alice, "lounge", "dropped by reset")
    kept = say(client, alice, "random", "kept")
    body = ok(call(client, "lingr.event.observe", session=bob, counter=str(counter)), "lingr.event.observe")
    assert [event["message"] for event in body["events"]] == [kept]
    ok(call(client, "lingr.room.unsubscribe", session=bob, room="random"), "lingr.room.unsubscribe")
    say(client, alice, "random", "after unsubscribe")
    assert ok(call(client, "lingr.event.observe", session=bob, counter=str(body["counter"])), "lingr.event.observe") == {
        "status": "ok",
        "counter": body["counter"],
    }


def test_presence_events_on_login_and_logout(client: TestClient) -> None:
    bob = login(client, "bob")
    counter = subscribe(client, bob, "lounge")
    alice = login(client, "alice")
    ok(call(client, "lingr.session.destroy", session=alice), "lingr.session.destroy")
    body = ok(call(client, "lingr.event.observe", session=bob, counter=str(counter)), "lingr.event.observe")
    presences = [event["presence"] for event in body["events"]]
    assert [(item["username"], item["status"], item["room"]) for item in presences] == [
        ("alice", "online", "lounge"),
        ("alice", "offline", "lounge"),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", item["timestamp"]) for item in presences)


def test_a_held_observe_wakes_on_a_post_and_on_destroy(app: Any) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:

            async def login_as(user: str) -> str:
                reply = await http.post(path("lingr.session.create"), data={"user": user, "password": PASSWORDS[user]})
                return str(reply.json()["session"])

            alice, bob = await login_as("alice"), await login_as("bob")
            counter = (await http.post(path("lingr.room.subscribe"), data={"session": bob, "room": "lounge"})).json()["counter"]
            observe = asyncio.create_task(http.get(path("lingr.event.observe"), params={"session": bob, "counter": str(counter)}))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            said = (await http.post(path("lingr.room.say"), data={"session": alice, "room": "lounge", "text": "wake"})).json()
            body = (await observe).json()
            assert time.monotonic() - started < TIMEOUT / 2
            assert body["events"][0]["message"] == said["message"]
            held = asyncio.create_task(http.get(path("lingr.event.observe"), params={"session": bob, "counter": str(body["counter"])}))
            await asyncio.sleep(0.05)
            await http.post(path("lingr.session.destroy"), data={"session": bob})
            reply = await held
            assert reply.json() == documented("lingr.event.observe", "invalid_session")

    asyncio.run(scenario())


# Lingr quirks ----------------------------------------------------------------------------
def test_post_to_observe_answers_the_lingr_error_shape(client: TestClient) -> None:
    session = login(client)
    response = client.post(path("lingr.event.observe"), data={"session": session, "counter": "0"})
    failed(response, None, "method_not_allowed")


def test_jsonp_callback_wraps_successes_and_errors(client: TestClient) -> None:
    session = login(client)
    response = client.get(path("lingr.user.get_rooms"), params={"session": session, "callback": "handle.rooms"})
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    found = re.fullmatch(r"handle\.rooms\((.*)\)", response.text, re.DOTALL)
    assert found is not None
    body = json.loads(found.group(1))
    assert schema_errors("lingr.user.get_rooms", 200, body) == []
    assert body["status"] == "ok"
    response = client.get(path("lingr.session.verify"), params={"session": "NoSuch", "callback": "cb"})
    assert response.headers["content-type"] == CONTENT_TYPE
    assert response.text.startswith("cb(")
    assert response.text.endswith(")")
    assert json.loads(response.text[3:-1]) == documented("lingr.session.verify", "invalid_session")
    failed(client.get(path("lingr.user.get_rooms"), params={"session": session, "callback": "alert(1);x"}), None, "invalid_parameter")


def test_core_problems_answer_in_the_lingr_shape(client: TestClient) -> None:
    session = login(client)
    say_path = path("lingr.room.say")
    cases = [
        (client.get("/api/no/such/method"), "not_found"),
        (client.post(say_path, content=b"session=" + session.encode() + b"&room=lounge&text=\xff", headers=_form()), "invalid_parameter"),
        (client.post(say_path, json={"session": session, "room": "lounge", "text": "json"}), "invalid_parameter"),
        (client.post(say_path, content=b"room=lounge", headers={"content-type": "text/plain"}), "invalid_parameter"),
        (client.post(say_path, data={"session": session, "room": "lounge"}), "invalid_parameter"),  # missing text
        (client.post(say_path, data={"session": session, "room": "not a slug!", "text": "x"}), "invalid_parameter"),  # wrong type
        (client.get(path("lingr.room.get_archives"), params={"session": session, "room": "dev", "before": "abc"}), "invalid_parameter"),
        (client.get(f"{say_path}?session={session}&room=lounge&room=dev&text=x"), "invalid_parameter"),  # repeated
        (client.post(f"{say_path}?room=lounge", data={"session": session, "room": "dev", "text": "x"}), "invalid_parameter"),
        (client.post(say_path, content=b"x" * (1024 * 1024 + 1), headers=_form()), "request_too_large"),
    ]
    for response, code in cases:
        failed(response, None, code)
    assert client.app.state.chatmock.dispatcher.violations == []  # type: ignore[attr-defined]


def _form() -> dict[str, str]:
    return {"content-type": "application/x-www-form-urlencoded"}


def test_every_problem_has_a_lingr_error_body(app: Any) -> None:
    module = app.state.chatmock.modules["lingr"]
    for problem in Problem:
        reply = module.error(problem, "explained")
        assert reply.status == 200
        assert API.error_checker.errors(reply.body) == []
        assert reply.body["detail"] == "explained"


def test_prefer_headers_pick_documented_errors(client: TestClient) -> None:
    session = login(client)
    show = path("lingr.room.show")
    response = client.get(show, params={"session": session, "room": "lounge"}, headers={"Prefer": "error=not_found"})
    failed(response, "lingr.room.show", "not_found")
    response = client.get(show, params={"session": session, "room": "lounge"}, headers={"Prefer": "error=invalid_session"})
    assert failed(response, "lingr.room.show", "invalid_session") == documented("lingr.room.show", "invalid_session")
    failed(
        client.get(show, params={"session": session, "room": "lounge"}, headers={"Prefer": "error=no_such_code"}), None, "invalid_parameter"
    )
    ok(client.get(show, params={"session": session, "room": "lounge"}, headers={"Prefer": "respond-async"}), "lingr.room.show")


def test_real_clients_requests_are_accepted(client: TestClient) -> None:
    response = client.post(
        path("lingr.session.create"), data={"user": "bob", "password": "bob-password", "api_key": "k", "app_key": "a", "api_version": "1"}
    )
    session = ok(response, "lingr.session.create")["session"]
    response = client.get(path("lingr.user.get_rooms"), params={"session": session}, headers={"content-type": "application/json"})
    ok(response, "lingr.user.get_rooms")
    ok(client.post(f"{path('lingr.room.show')}?session={session}", data={"room": "bobs_den", "unknown": "x"}), "lingr.room.show")


def test_combined_app_serves_lingr_under_its_prefix_and_hosts() -> None:
    app = create_app(["lingr"], root=False, strict=True, longpoll_timeout=TIMEOUT)
    with TestClient(app) as client:
        prefix = API.server().prefix
        body = ok(
            client.post(prefix + path("lingr.session.create"), data={"user": "alice", "password": "alice-password"}), "lingr.session.create"
        )
        subscribed = client.post(prefix + path("lingr.room.subscribe"), data={"session": body["session"], "room": "lounge"})
        ok(subscribed, "lingr.room.subscribe")  # alice's own online presence is then waiting
        observe = REGISTRY.endpoint("lingr.event.observe")
        host = observe.server.url.split("://", 1)[1]
        response = client.get(observe.path, params={"session": body["session"], "counter": "0"}, headers={"host": host})
        ok(response, "lingr.event.observe")
        response = client.get(prefix + observe.path, params={"session": body["session"], "counter": "0"})
        ok(response, "lingr.event.observe")


# world, secrets, journal -------------------------------------------------------------------
def test_reset_loads_a_seed_world_and_secrets_lists_credentials(app: Any) -> None:
    mock = app.state.chatmock
    seed = {
        "lingr": {
            "users": [{"username": "carol", "password": "carol-pw", "email": "carol@example.com"}],
            "rooms": [{"id": "solo", "members": ["carol"], "messages": [{"id": "7", "speaker": "carol", "text": "hi"}]}],
            "sessions": [{"session": "CaRoL1", "public_id": "PuBlC1", "user": "carol"}],
            "favorites": {"carol": ["7"]},
        }
    }
    mock.reset(seed)
    assert {"carol-pw", "CaRoL1"} <= set(mock.secrets())
    with TestClient(app) as client:
        room = ok(call(client, "lingr.room.show", session="CaRoL1", room="solo"), "lingr.room.show")["rooms"][0]
        assert room["faved_message_ids"] == ["7"]
        assert say(client, "CaRoL1", "solo", "next")["id"] == "8"
        failed(
            call(client, "lingr.session.create", user="alice", password="alice-password"),
            "lingr.session.create",
            "invalid_user_credentials",
        )
    with pytest.raises(ValueError, match="unknown user"):
        mock.reset({"lingr": {"rooms": [{"id": "x", "members": ["ghost"]}]}})
    mock.reset(None)
    assert {"alice-password", "bob-password"} <= set(mock.secrets())


def test_journal_holds_no_secret_after_a_login_flow(app: Any) -> None:
    with TestClient(app) as client:
        session = login(client)
        say(client, session, "lounge", "journal me")
        client.get(path("lingr.session.verify"), params={"session": session, "callback": "cb"})
        ok(call(client, "lingr.session.destroy", session=session), "lingr.session.destroy")
    journal = json.dumps(app.state.chatmock.journal.entries())
    assert session not in journal
    assert "alice-password" not in journal
    assert "journal me" in journal


# over a real socket -------------------------------------------------------------------------
def waiting(hub: Any) -> int:
    """hub.waiting read from the test's thread while uvicorn's thread may change it."""
    for _ in range(100):
        try:
            return int(hub.waiting)
        except RuntimeError:  # a dict changed size during iteration
            time.sleep(0.001)
    return int(hub.waiting)


def test_bot_flow_over_a_real_socket() -> None:
    app = create_app(["lingr"], strict=True, longpoll_timeout=5)
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        session = http.post(path("lingr.session.create"), data={"user": "alice", "password": "alice-password"}).json()["session"]
        rooms = http.get(path("lingr.user.get_rooms"), params={"session": session}).json()["rooms"]
        shown = http.get(path("lingr.room.show"), params={"session": session, "room": ",".join(rooms)}).json()
        assert [room["id"] for room in shown["rooms"]] == rooms
        counter = http.post(path("lingr.room.subscribe"), data={"session": session, "room": ",".join(rooms)}).json()["counter"]

        async def observe_and_post() -> tuple[dict[str, Any], dict[str, Any]]:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                waiting = asyncio.create_task(client.get(path("lingr.event.observe"), params={"session": session, "counter": str(counter)}))
                await asyncio.sleep(0.1)
                said = await client.post(path("lingr.room.say"), data={"session": session, "room": rooms[0], "text": "bot says hi"})
                return (await waiting).json(), said.json()

        observed, said = asyncio.run(observe_and_post())
        assert observed["events"][0]["message"] == said["message"]
        assert schema_errors("lingr.event.observe", 200, observed) == []
        archived = http.get(
            path("lingr.room.get_archives"), params={"session": session, "room": rooms[0], "before": str(int(said["message"]["id"]) + 1)}
        ).json()
        assert archived["messages"][-1] == said["message"]
        assert http.post(path("lingr.session.destroy"), data={"session": session}).json() == {"status": "ok"}
        response = http.get(path("lingr.user.get_rooms"), params={"session": session})
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPE
        assert response.json() == documented("lingr.user.get_rooms", "invalid_session")


async def hundred_observers(http: httpx.AsyncClient, hub: Any) -> float:
    """20 sessions x 5 held observes of the lounge; one post; the seconds until all 100 replied."""

    async def login_as(user: str) -> str:
        reply = await http.post(path("lingr.session.create"), data={"user": user, "password": PASSWORDS[user]})
        return str(reply.json()["session"])

    sessions = list(await asyncio.gather(*(login_as("bob" if index % 2 else "alice") for index in range(20))))
    subscribed = await asyncio.gather(*(http.post(path("lingr.room.subscribe"), data={"session": s, "room": "lounge"}) for s in sessions))
    counter = max(reply.json()["counter"] for reply in subscribed)
    observers = [
        asyncio.create_task(http.get(path("lingr.event.observe"), params={"session": session, "counter": str(counter)}))
        for session in sessions * 5
    ]
    deadline = time.monotonic() + 5
    while waiting(hub) < 100 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert waiting(hub) == 100
    started = time.monotonic()
    said = (await http.post(path("lingr.room.say"), data={"session": sessions[0], "room": "lounge", "text": "to all"})).json()
    replies = await asyncio.gather(*observers)
    elapsed = time.monotonic() - started
    for reply in replies:
        body = reply.json()
        assert schema_errors("lingr.event.observe", 200, body) == []
        assert [event["message"] for event in body["events"]] == [said["message"]]
    return elapsed


def test_hundred_observers_receive_one_post_within_a_second() -> None:
    app = create_app(["lingr"], strict=True, longpoll_timeout=10)
    hub = app.state.chatmock.hub

    async def scenario() -> float:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=10) as http:
            return await hundred_observers(http, hub)

    assert asyncio.run(scenario()) < 1.0
    assert hub.waiting == 0


def test_hundred_observers_over_a_real_socket() -> None:
    app = create_app(["lingr"], strict=True, longpoll_timeout=10)
    hub = app.state.chatmock.hub
    with serve_in_thread(app) as server:

        async def scenario() -> float:
            limits = httpx.Limits(max_connections=150, max_keepalive_connections=150)
            async with httpx.AsyncClient(base_url=server.url, timeout=10, limits=limits) as http:
                return await hundred_observers(http, hub)

        # server and client share this process (and its GIL); in-process the bound is 1 s
        assert asyncio.run(scenario()) < 3.0
    assert waiting(hub) == 0


def test_a_client_that_disconnects_leaves_no_waiter() -> None:
    app = create_app(["lingr"], strict=True, longpoll_timeout=30)
    hub = app.state.chatmock.hub
    with serve_in_thread(app) as server:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            session = http.post(path("lingr.session.create"), data={"user": "bob", "password": "bob-password"}).json()["session"]
            counter = http.post(path("lingr.room.subscribe"), data={"session": session, "room": "lounge"}).json()["counter"]

        async def hang_up() -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                held = asyncio.create_task(client.get(path("lingr.event.observe"), params={"session": session, "counter": str(counter)}))
                deadline = time.monotonic() + 5
                while waiting(hub) == 0 and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                assert waiting(hub) == 1
                held.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await held

        asyncio.run(hang_up())
        deadline = time.monotonic() + 5
        while waiting(hub) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting(hub) == 0
        journal = app.state.chatmock.journal.entries()
        assert journal[-1]["status"] == 499  # recorded as gone, nothing sent


# untyped bodies ------------------------------------------------------------------------
def test_a_post_body_with_no_content_type_is_read_as_a_form(client: TestClient) -> None:
    """AnyEvent-Lingr ``http_post``s ``session=...&room=...`` with no Content-Type; the server
    reads it as a form (the endpoints declare ``x-chatmock-untyped-body: form``)."""
    created = client.post(path("lingr.session.create"), content=urlencode({"user": "alice", "password": "alice-password"}))
    assert "content-type" not in created.request.headers
    session = ok(created, "lingr.session.create")["session"]
    body = urlencode({"session": session, "room": "lounge", "text": "untyped hello"})
    said = ok(client.post(path("lingr.room.say"), content=body), "lingr.room.say")
    assert said["message"]["text"] == "untyped hello"
    subscribed = client.post(path("lingr.room.subscribe"), content=urlencode({"session": session, "rooms": "lounge", "reset": "1"}))
    assert ok(subscribed, "lingr.room.subscribe")["counter"]
    typed_otherwise = client.post(path("lingr.room.say"), content=body, headers={"Content-Type": "text/plain"})
    assert "text/plain" in failed(typed_otherwise, "lingr.room.say", "invalid_parameter")["detail"]  # a declared other type is not guessed
