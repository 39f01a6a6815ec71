"""The Gitter mock: real state behind every endpoint, Gitter's error shapes, rate limit, streams.

In-process tests use starlette's TestClient on ``create_app(["gitter"], strict=True)``, so a
reply that breaks its schema would come back as a 500; stream and bot-flow tests run the app
under uvicorn on a loopback port.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from gitter_world import ALICE_ID, ALICE_TOKEN, BOB_ID, BOB_ONLY, BOB_TOKEN, LOBBY, ONE_TO_ONE, ORG, REPO, REPO_MESSAGES, UNKNOWN_ID
from mock_support import REGISTRY, MockClient, assert_documented, assert_error_shape, default_world, schema_errors
from starlette.testclient import TestClient

from contract_tests.server import serve_in_thread
from mockserver.app import create_app


def auth(token: str = ALICE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(mock_client: MockClient) -> TestClient:
    return mock_client("gitter", longpoll_timeout=0.5, stream_keepalive=0.2)


@pytest.fixture
def app(client: TestClient) -> Any:
    return client.app


def post_message(client: TestClient, room: str, text: str, token: str = ALICE_TOKEN) -> dict[str, Any]:
    response = client.post(f"/v1/rooms/{room}/chatMessages", json={"text": text}, headers=auth(token))
    body: dict[str, Any] = assert_documented("gitter.rooms.chatMessages.create", response, 200)
    return body


def seeded(world: dict[str, Any], **settings: Any) -> Any:
    return create_app(["gitter"], strict=True, longpoll_timeout=0.5, seed={"gitter": world}, **settings)


# users ----------------------------------------------------------------------------------
def test_user_is_a_one_element_array_and_me_an_object(client: TestClient) -> None:
    users = assert_documented("gitter.user.get", client.get("/v1/user", headers=auth()), 200)
    assert [user["username"] for user in users] == ["alice"]
    assert users[0]["id"] == ALICE_ID
    me = assert_documented("gitter.user.me", client.get("/v1/user/me", headers=auth(BOB_TOKEN)), 200)
    assert me["id"] == BOB_ID
    assert me["username"] == "bob"
    assert me["url"] == "/bob"


def test_access_token_query_parameter_is_accepted(client: TestClient) -> None:
    me = assert_documented("gitter.user.me", client.get("/v1/user/me", params={"access_token": ALICE_TOKEN}), 200)
    assert me["username"] == "alice"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {ALICE_TOKEN}"}, {"Authorization": "Bearer"}],
)
def test_missing_or_invalid_token_is_401_unauthorized(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/rooms", headers=headers)
    assert assert_documented("gitter.rooms.list", response, 401) == {"error": "Unauthorized"}


def test_token_without_a_usable_user_is_login_required() -> None:
    world = default_world("gitter")
    world["orphanTokens"] = ["orphan-token"]
    with TestClient(seeded(world)) as client:
        response = client.get("/v1/user", headers=auth("orphan-token"))
        assert assert_documented("gitter.user.get", response, 401) == {"error": True, "loginRequired": True}


# rooms ----------------------------------------------------------------------------------
def test_rooms_list_has_the_one_to_one_room_without_uri(client: TestClient) -> None:
    rooms = assert_documented("gitter.rooms.list", client.get("/v1/rooms", headers=auth()), 200)
    by_id = {room["id"]: room for room in rooms}
    assert set(by_id) == {ONE_TO_ONE, REPO, ORG}
    direct = by_id[ONE_TO_ONE]
    assert direct["githubType"] == "ONETOONE"
    assert direct["oneToOne"] is True
    assert "uri" not in direct
    assert direct["user"]["username"] == "bob"
    assert direct["name"] == "Bob Example"
    assert by_id[REPO]["uri"] == "chatmock/chatmock"
    assert by_id[REPO]["oneToOne"] is False
    # what the seed client does: index the non-ONETOONE rooms by uri
    assert {room["uri"]: room["id"] for room in rooms if room["githubType"] != "ONETOONE"} == {"chatmock/chatmock": REPO, "chatmock": ORG}


def test_rooms_list_search(client: TestClient) -> None:
    found = assert_documented("gitter.rooms.list", client.get("/v1/rooms", params={"q": "ORGANISATION"}, headers=auth()), 200)
    assert [room["id"] for room in found["results"]] == [ORG]


def test_user_rooms_include_one_to_one_counts(client: TestClient) -> None:
    for user_id in (ALICE_ID, "me"):
        rooms = assert_documented("gitter.user.rooms.list", client.get(f"/v1/user/{user_id}/rooms", headers=auth()), 200)
        direct = next(room for room in rooms if room["id"] == ONE_TO_ONE)
        assert direct["userCount"] == 2
        assert "lastAccessTime" in direct


def test_another_users_resources_are_refused(client: TestClient) -> None:
    endpoint = REGISTRY.endpoint("gitter.user.rooms.list")
    response = client.get(f"/v1/user/{BOB_ID}/rooms", headers=auth())
    assert response.status_code in endpoint.error_statuses
    body = assert_error_shape("gitter", response)
    assert response.status_code != 200
    assert body in [case.body for case in endpoint.errors if case.status == response.status_code]


def test_a_user_sees_and_writes_only_their_rooms(client: TestClient) -> None:
    for endpoint_id, method, path, kwargs in [
        ("gitter.rooms.chatMessages.list", "GET", f"/v1/rooms/{BOB_ONLY}/chatMessages", {}),
        ("gitter.rooms.chatMessages.get", "GET", f"/v1/rooms/{BOB_ONLY}/chatMessages/5f3000000000000000000501", {}),
        ("gitter.rooms.chatMessages.create", "POST", f"/v1/rooms/{BOB_ONLY}/chatMessages", {"json": {"text": "let me in"}}),
        ("gitter.rooms.chatMessages.update", "PUT", f"/v1/rooms/{BOB_ONLY}/chatMessages/5f3000000000000000000501", {"json": {"text": "x"}}),
        ("gitter.rooms.users.list", "GET", f"/v1/rooms/{BOB_ONLY}/users", {}),
        ("gitter.stream.chatMessages", "GET", f"/stream/v1/rooms/{BOB_ONLY}/chatMessages", {}),
        ("gitter.stream.events", "GET", f"/stream/v1/rooms/{BOB_ONLY}/events", {}),
        ("gitter.rooms.chatMessages.create", "POST", "/v1/rooms/None/chatMessages", {"json": {"text": "seed quirk"}}),
    ]:
        response = client.request(method, path, headers=auth(), **kwargs)
        assert assert_documented(endpoint_id, response, 404) == {"error": "Not Found"}, path
    # bob still has exactly his message
    messages = assert_documented(
        "gitter.rooms.chatMessages.list", client.get(f"/v1/rooms/{BOB_ONLY}/chatMessages", headers=auth(BOB_TOKEN)), 200
    )
    assert [message["text"] for message in messages] == ["Notes to self."]
    assert BOB_ONLY not in {room["id"] for room in client.get("/v1/rooms", headers=auth()).json()}


def test_join_by_uri(client: TestClient) -> None:
    joined = assert_documented("gitter.rooms.join", client.post("/v1/rooms", json={"uri": "chatmock/lobby"}, headers=auth()), 200)
    assert joined["id"] == LOBBY
    assert joined["userCount"] == 2
    assert LOBBY in {room["id"] for room in client.get("/v1/rooms", headers=auth()).json()}
    post_message(client, LOBBY, "hello lobby")
    again = assert_documented("gitter.rooms.join", client.post("/v1/rooms", json={"uri": "CHATMOCK/LOBBY"}, headers=auth()), 200)
    assert again["userCount"] == 2
    private = client.post("/v1/rooms", json={"uri": "bob/private"}, headers=auth())  # not an existence oracle
    assert assert_documented("gitter.rooms.join", private, 404) == {"error": "Not Found"}
    unknown = client.post("/v1/rooms", json={"uri": "no/such-room"}, headers=auth())
    assert assert_documented("gitter.rooms.join", unknown, 404) == {"error": "Not Found"}
    missing = client.post("/v1/rooms", json={}, headers=auth())
    assert_documented("gitter.rooms.join", missing, 400)


def test_join_by_username_gives_the_one_to_one_room(client: TestClient) -> None:
    room = assert_documented("gitter.rooms.join", client.post("/v1/rooms", json={"uri": "bob"}, headers=auth()), 200)
    assert room["id"] == ONE_TO_ONE
    assert "uri" not in room


def test_room_users_with_skip_and_limit(client: TestClient) -> None:
    path = f"/v1/rooms/{REPO}/users"
    users = assert_documented("gitter.rooms.users.list", client.get(path, headers=auth()), 200)
    assert [(user["username"], user.get("role")) for user in users] == [("alice", "admin"), ("bob", None)]
    page = assert_documented("gitter.rooms.users.list", client.get(path, params={"skip": "1", "limit": "1"}, headers=auth()), 200)
    assert [user["username"] for user in page] == ["bob"]
    found = assert_documented("gitter.rooms.users.list", client.get(path, params={"q": "BOB"}, headers=auth()), 200)
    assert [user["username"] for user in found] == ["bob"]


# messages ---------------------------------------------------------------------------------
def test_post_is_readable_through_every_read_endpoint(client: TestClient) -> None:
    sent = post_message(client, REPO, "Hello @bob, see https://example.com/x and #12")
    assert sent["editedAt"] is None
    assert sent["v"] == 1
    assert sent["unread"] is False
    assert sent["fromUser"]["id"] == ALICE_ID
    assert sent["mentions"] == [{"screenName": "bob", "userId": BOB_ID}]
    assert sent["urls"] == [{"url": "https://example.com/x"}]
    assert sent["issues"] == [{"number": "12"}]
    assert sent["sent"].endswith("Z")
    listed = assert_documented("gitter.rooms.chatMessages.list", client.get(f"/v1/rooms/{REPO}/chatMessages", headers=auth(BOB_TOKEN)), 200)
    assert listed[-1]["id"] == sent["id"]
    assert listed[-1]["unread"] is True
    one = assert_documented("gitter.rooms.chatMessages.get", client.get(f"/v1/rooms/{REPO}/chatMessages/{sent['id']}", headers=auth()), 200)
    assert one["text"] == sent["text"]
    missing = client.get(f"/v1/rooms/{REPO}/chatMessages/{UNKNOWN_ID}", headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.get", missing, 404) == {"error": "Not Found"}


def test_status_messages(client: TestClient) -> None:
    response = client.post(f"/v1/rooms/{ORG}/chatMessages", json={"text": "waves", "status": True}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.create", response, 200)["status"] is True


def test_unread_items_are_per_user(client: TestClient) -> None:
    path = f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems"
    before = assert_documented("gitter.user.unreadItems.list", client.get(path, headers=auth(BOB_TOKEN)), 200)
    assert before == {"chat": [REPO_MESSAGES[2]], "mention": []}
    sent = post_message(client, REPO, "ping @bob")
    after = assert_documented("gitter.user.unreadItems.list", client.get(path, headers=auth(BOB_TOKEN)), 200)
    assert after == {"chat": [REPO_MESSAGES[2], sent["id"]], "mention": [sent["id"]]}
    mine = assert_documented("gitter.user.unreadItems.list", client.get(f"/v1/user/me/rooms/{REPO}/unreadItems", headers=auth()), 200)
    assert mine == {"chat": [], "mention": []}
    room = next(room for room in client.get("/v1/rooms", headers=auth(BOB_TOKEN)).json() if room["id"] == REPO)
    assert (room["unreadItems"], room["mentions"]) == (2, 1)
    marked = client.post(path, json={"chat": [sent["id"]]}, headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.user.unreadItems.markRead", marked, 200) == {"success": True}
    assert client.get(path, headers=auth(BOB_TOKEN)).json() == {"chat": [REPO_MESSAGES[2]], "mention": []}
    read = client.get(f"/v1/rooms/{REPO}/chatMessages/{sent['id']}", headers=auth(BOB_TOKEN)).json()
    assert (read["unread"], read["readBy"]) == (False, 1)
    empty = client.post(path, json={"chat": []}, headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.user.unreadItems.markRead", empty, 400) == {"error": "No chat or mention items"}
    nobody = client.post(path, headers={**auth(BOB_TOKEN), "Content-Type": "application/json"})
    assert assert_documented("gitter.user.unreadItems.markRead", nobody, 400) == {"error": "No body"}
    wrong = client.post(path, json={"chat": "not-a-list"}, headers=auth(BOB_TOKEN))
    assert "chat must be an array" in assert_documented("gitter.user.unreadItems.markRead", wrong, 400)["error"]


def test_edit_sets_edited_at_and_bumps_v(client: TestClient) -> None:
    sent = post_message(client, ORG, "typo")
    path = f"/v1/rooms/{ORG}/chatMessages/{sent['id']}"
    edited = assert_documented("gitter.rooms.chatMessages.update", client.put(path, json={"text": "fixed"}, headers=auth()), 200)
    assert (edited["id"], edited["sent"], edited["text"], edited["v"]) == (sent["id"], sent["sent"], "fixed", 2)
    assert edited["editedAt"] is not None
    assert client.get(path, headers=auth(BOB_TOKEN)).json()["text"] == "fixed"
    refused = client.put(path, json={"text": "bob was here"}, headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.rooms.chatMessages.update", refused, 403) == {"error": "Forbidden"}
    assert client.get(path, headers=auth()).json()["text"] == "fixed"
    unknown = client.put(f"/v1/rooms/{ORG}/chatMessages/{UNKNOWN_ID}", json={"text": "x"}, headers=auth())
    assert_documented("gitter.rooms.chatMessages.update", unknown, 404)


def many_messages_world(count: int) -> dict[str, Any]:
    world = default_world("gitter")
    room = next(room for room in world["rooms"] if room["id"] == ORG)
    room["messages"] = [
        {"id": f"{index:024x}", "from": "alice" if index % 2 else "bob", "text": f"message {index}", "sent": "2024-05-02T07:30:00.000Z"}
        for index in range(1, count + 1)
    ]
    return world


def test_message_paging() -> None:
    ids = [f"{index:024x}" for index in range(1, 131)]
    with TestClient(seeded(many_messages_world(130))) as client:

        def page(**params: str) -> list[str]:
            response = client.get(f"/v1/rooms/{ORG}/chatMessages", params=params, headers=auth())
            return [message["id"] for message in assert_documented("gitter.rooms.chatMessages.list", response, 200)]

        assert page() == ids[-50:]  # default 50, oldest first
        assert page(limit="100") == ids[-100:]
        assert page(limit="500") == ids[-100:]  # at most 100
        assert page(limit="10", beforeId=ids[20]) == ids[10:20]  # exclusive
        assert page(limit="10", afterId=ids[20]) == ids[21:31]  # exclusive, forward
        around = page(limit="5", aroundId=ids[60])
        assert ids[60] in around  # inclusive
        assert around == ids[58:63]
        assert page(limit="10", skip="5") == ids[-15:-5]
        assert page(skip="9999") == []  # skip is capped at 5000: beyond the 130 messages anyway
        assert page(limit="3", beforeId=ids[0]) == []
        assert page(beforeId=UNKNOWN_ID) == []
        assert page(q="MESSAGE 12") == [ids[11], ids[111], *ids[119:129]]  # every word, any case
        # pagination as documented: next older page = beforeId of the first element
        seen: list[str] = []
        before: dict[str, str] = {}
        while batch := page(limit="40", **before):
            seen = batch + seen
            before = {"beforeId": batch[0]}
        assert seen == ids


# rate limit -----------------------------------------------------------------------------
def test_rate_limit_headers_count_down(client: TestClient, app: Any) -> None:
    app.state.chatmock.store.clock.freeze(time.time())  # the 60 s window is measured on the store's clock
    first = client.get("/v1/user", headers=auth())
    second = client.get(f"/v1/rooms/{REPO}/chatMessages/{UNKNOWN_ID}", headers=auth())
    assert first.headers["X-RateLimit-Limit"] == "100"
    assert int(first.headers["X-RateLimit-Remaining"]) - 1 == int(second.headers["X-RateLimit-Remaining"])
    assert second.status_code == 404
    other = client.get("/v1/user", headers=auth(BOB_TOKEN))
    assert other.headers["X-RateLimit-Remaining"] == "99"  # per token


def test_seeded_low_limit_gives_429_until_the_window_passes() -> None:
    world = default_world("gitter")
    world["rateLimit"] = 3
    app = seeded(world)
    app.state.chatmock.store.clock.freeze(time.time())
    with TestClient(app) as client:
        remaining = [client.get("/v1/rooms", headers=auth()).headers["X-RateLimit-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        limited = client.get("/v1/rooms", headers=auth())
        assert assert_documented("gitter.rooms.list", limited, 429) == {"error": "Too Many Requests"}
        assert (limited.headers["X-RateLimit-Limit"], limited.headers["X-RateLimit-Remaining"]) == ("3", "0")
        assert client.get("/v1/user", headers=auth(BOB_TOKEN)).status_code == 200
        app.state.chatmock.store.clock.advance(61)
        assert client.get("/v1/rooms", headers=auth()).status_code == 200


# errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"json": {"text": 5}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"json": {"text": ""}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"json": {"status": True}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"data": {"text": ""}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"data": {"text": "x" * 4097}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"content": b"text=plain", "headers": {"Content-Type": "text/plain"}}, 400),
        ("POST", f"/v1/rooms/{REPO}/chatMessages?text=a", {"json": {"text": "b"}}, 400),
        ("PUT", f"/v1/rooms/{REPO}/chatMessages/{REPO_MESSAGES[0]}", {"json": {"text": ["x"]}}, 400),
        ("GET", "/v1/rooms?q=a&q=b", {}, 400),
        ("GET", "/v1/no/such/route", {}, 404),
        ("GET", "/", {}, 404),
        ("DELETE", "/v1/rooms", {}, 405),
        ("PATCH", f"/v1/rooms/{REPO}/chatMessages", {}, 405),
    ],
)
def test_malformed_requests_get_gitter_errors(client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int) -> None:
    kwargs = copy.deepcopy(kwargs)
    headers = {**auth(), **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == REGISTRY.api("gitter").content_type
    body = assert_error_shape("gitter", response)
    assert isinstance(body["error"], str)
    assert "Traceback" not in response.text


def test_list_endpoints_reject_bad_query_values(client: TestClient) -> None:
    """A malformed limit, skip or anchor id is the documented 400 {"error": ...} (not a 500)."""
    messages = client.get(f"/v1/rooms/{REPO}/chatMessages", params={"limit": "abc", "beforeId": "zz", "skip": "-1"}, headers=auth())
    assert_documented("gitter.rooms.chatMessages.list", messages, 400)
    users = client.get(f"/v1/rooms/{REPO}/users", params={"limit": "1.5", "skip": "x"}, headers=auth())
    assert_documented("gitter.rooms.users.list", users, 400)
    hidden = client.get(f"/v1/rooms/{BOB_ONLY}/chatMessages", params={"limit": "abc"}, headers=auth())
    assert hidden.status_code in (400, 404)


def test_method_not_allowed_names_the_allowed_methods(client: TestClient) -> None:
    response = client.delete("/v1/rooms", headers=auth())
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_too_large_body() -> None:
    with TestClient(create_app(["gitter"], strict=True, body_limit=64)) as client:
        response = client.post(f"/v1/rooms/{REPO}/chatMessages", json={"text": "x" * 200}, headers=auth())
        assert response.status_code == 413
        assert_error_shape("gitter", response)


def test_json_content_type_on_a_get_and_unknown_parameters(client: TestClient) -> None:
    headers = {**auth(), "Content-Type": "application/json"}
    response = client.get(f"/v1/rooms/{REPO}/chatMessages", params={"limit": "2", "foo": "bar"}, headers=headers)
    assert len(assert_documented("gitter.rooms.chatMessages.list", response, 200)) == 2
    extra = client.post(f"/v1/rooms/{REPO}/chatMessages", json={"text": "extra", "unknown": {"a": 1}}, headers=auth())
    assert_documented("gitter.rooms.chatMessages.create", extra, 200)


def test_prefer_answers_documented_errors(client: TestClient) -> None:
    path = f"/v1/rooms/{REPO}/chatMessages"
    for prefer, status, body in [
        ("code=429", 429, {"error": "Too Many Requests"}),
        ("code=500", 500, {"error": "An unknown error occurred"}),
        ("error=loginRequired", 401, {"error": True, "loginRequired": True}),
        ("code=404", 404, {"error": "Not Found"}),
    ]:
        response = client.get(path, headers={**auth(), "Prefer": prefer})
        assert assert_documented("gitter.rooms.chatMessages.list", response, status) == body
    module = client.app.state.chatmock.modules["gitter"]  # type: ignore[attr-defined]
    for endpoint in REGISTRY.endpoints_of("gitter"):
        for case in endpoint.errors:
            reply = module.documented(endpoint, case.status, case.code)
            assert (reply.status, reply.body) == (case.status, case.body)
            assert schema_errors(endpoint.id, case.status, reply.body) == []
        for status in endpoint.responses:
            if status >= 400:
                reply = module.error_for_status(status, None)
                assert schema_errors(endpoint.id, status, reply.body) == []


def test_every_success_reply_passes_strict_mode(client: TestClient) -> None:
    """Every endpoint's success path, once, with no schema violation recorded."""
    post_message(client, REPO, "strict")
    for path in ["/v1/rooms", "/v1/user", "/v1/user/me", f"/v1/user/{ALICE_ID}/rooms", f"/v1/rooms/{REPO}/users"]:
        assert client.get(path, headers=auth()).status_code == 200
    assert client.app.state.chatmock.dispatcher.violations == []  # type: ignore[attr-defined]


# world, reset, secrets ----------------------------------------------------------------------
def test_reset_loads_a_world_and_secrets_lists_credentials(app: Any) -> None:
    mock = app.state.chatmock
    assert {"gitter-token-alice", "gitter-token-bob", "alice-password", "bob-password"} <= set(mock.secrets())
    world = {
        "rateLimit": 7,
        "users": [{"username": "carol", "tokens": ["carol-token"], "password": "carol-password"}],
        "rooms": [{"uri": "carol/room", "members": ["carol"], "messages": [{"from": "carol", "text": "hi"}]}],
    }
    mock.reset({"gitter": world})
    assert set(mock.secrets()) == {"carol-token", "carol-password"}
    with TestClient(app) as client:
        assert client.get("/v1/user", headers=auth()).status_code == 401
        rooms = assert_documented("gitter.rooms.list", client.get("/v1/rooms", headers=auth("carol-token")), 200)
        assert [room["uri"] for room in rooms] == ["carol/room"]
        assert client.get("/v1/rooms", headers=auth("carol-token")).headers["X-RateLimit-Limit"] == "7"
        messages = client.get(f"/v1/rooms/{rooms[0]['id']}/chatMessages", headers=auth("carol-token")).json()
        assert [message["text"] for message in messages] == ["hi"]
    mock.reset(None)
    assert "gitter-token-alice" in mock.secrets()


@pytest.mark.parametrize(
    ("world", "path"),
    [
        ({"users": [{"username": "a"}, {"username": "A"}]}, "$.users[1].username"),
        ({"users": [{"username": "a", "id": "xyz"}]}, "$.users[0].id"),
        ({"rooms": [{"uri": "x", "members": ["ghost"]}]}, "$.rooms[0].members[0]"),
        ({"users": [{"username": "a"}], "rooms": [{"githubType": "ONETOONE", "members": ["a"]}]}, "$.rooms[0].members"),
        ({"users": [{"username": "a"}], "rooms": [{"githubType": "REPO", "members": ["a"]}]}, "$.rooms[0].uri"),
        ({"rateLimit": 0}, "$.rateLimit"),
    ],
)
def test_a_malformed_world_is_refused(app: Any, world: dict[str, Any], path: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(path)}: "):
        app.state.chatmock.modules["gitter"].reset(world)


def test_admin_seed_endpoint(client: TestClient) -> None:
    world = default_world("gitter")
    world["users"][0]["tokens"] = ["fresh-alice-token"]
    assert client.post("/__chatmock/seed", json={"gitter": world}).status_code == 200
    assert client.get("/v1/user", headers=auth()).status_code == 401
    assert client.get("/v1/user", headers=auth("fresh-alice-token")).status_code == 200


def test_journal_holds_no_secret(client: TestClient, app: Any) -> None:
    post_message(client, REPO, "journal")
    client.get("/v1/user/me", params={"access_token": BOB_TOKEN})
    client.get("/v1/rooms", headers=auth("wrong-token"))
    entries = json.dumps(app.state.chatmock.journal.entries())
    assert "journal" in entries
    for secret in [*app.state.chatmock.secrets(), "wrong-token"]:
        assert secret not in entries


# over a real socket -----------------------------------------------------------------------
def read_items(stream: Iterator[bytes], wanted: int, deadline: float) -> tuple[bytes, list[dict[str, Any]]]:
    """Raw bytes read and the \\r-terminated JSON items among them."""
    raw = b""
    for chunk in stream:
        raw += chunk
        if raw.count(b"\r") >= wanted or time.monotonic() > deadline:
            break
    items = [json.loads(part) for part in raw.split(b"\r")[:-1] if part.strip()]
    return raw, items


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_bot_flow_over_a_socket() -> None:
    app = create_app(["gitter"], root=False, strict=True, stream_keepalive=0.2)
    with serve_in_thread(app) as server, httpx.Client(base_url=f"{server.url}/gitter", timeout=5) as http:
        me = http.get("/v1/user", headers=auth()).json()[0]
        rooms = http.get("/v1/rooms", headers=auth()).json()
        room_ids = {room["uri"]: room["id"] for room in rooms if room["githubType"] != "ONETOONE"}
        room = room_ids["chatmock/chatmock"]
        with http.stream("GET", f"/stream/v1/rooms/{room}/chatMessages", headers=auth(BOB_TOKEN)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith(REGISTRY.endpoint("gitter.stream.chatMessages").response(200).content_type)
            sent = http.post(f"/v1/rooms/{room}/chatMessages", json={"text": "bot says hi"}, headers=auth())
            assert sent.status_code == 200
            _, items = read_items(stream.iter_raw(), 1, time.monotonic() + 5)
        assert [item["id"] for item in items] == [sent.json()["id"]]
        assert items[0]["fromUser"]["id"] == me["id"]
        item_checker = REGISTRY.endpoint("gitter.stream.chatMessages").response(200).item_checker
        assert item_checker is not None
        assert item_checker.errors(items[0]) == []
        back = http.get(f"/v1/rooms/{room}/chatMessages", params={"limit": "1"}, headers=auth()).json()
        assert back[0]["text"] == "bot says hi"
        # Gitter has no logout; a reseed that drops the token ends it
        app.state.chatmock.reset({"gitter": {"users": [{"username": "alice", "tokens": ["rotated"]}]}})
        assert http.get("/v1/user", headers=auth()).status_code == 401
        assert http.get("/v1/user", headers=auth("rotated")).status_code == 200


def test_stream_keep_alives_items_and_disconnect() -> None:
    app = create_app(["gitter"], strict=True, stream_keepalive=0.15)
    hub = app.state.chatmock.hub
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        with http.stream("GET", f"/stream/v1/rooms/{ORG}/chatMessages", params={"access_token": BOB_TOKEN}) as stream:
            chunks = stream.iter_raw()
            quiet = next(chunks)
            assert quiet == b" \n"  # the heartbeat: a chunk of its own while quiet
            first = http.post(f"/v1/rooms/{ORG}/chatMessages", json={"text": "one\nline two"}, headers=auth())
            second = http.post(f"/v1/rooms/{ORG}/chatMessages", json={"text": "two"}, headers=auth())
            raw, items = read_items(chunks, 2, time.monotonic() + 5)
            assert [item["id"] for item in items] == [first.json()["id"], second.json()["id"]]
            assert items[0]["text"] == "one\nline two"
            assert raw.endswith(b"\r\n")
            assert items[0]["unread"] is True  # rendered for the stream's user (bob)
            assert eventually(lambda: hub.waiting == 1)  # the stream waits on the hub, not in a sleep loop
        assert eventually(lambda: hub.waiting == 0)  # the disconnected client left no waiter


def test_events_stream() -> None:
    app = create_app(["gitter"], strict=True, stream_keepalive=0.2)
    item_checker = REGISTRY.endpoint("gitter.stream.events").response(200).item_checker
    assert item_checker is not None
    with (
        serve_in_thread(app) as server,
        httpx.Client(base_url=server.url, timeout=5) as http,
        http.stream("GET", f"/stream/v1/rooms/{LOBBY}/events", headers=auth(BOB_TOKEN)) as stream,
    ):
        http.post("/v1/rooms", json={"uri": "chatmock/lobby"}, headers=auth())
        sent = http.post(f"/v1/rooms/{LOBBY}/chatMessages", json={"text": "hi lobby"}, headers=auth()).json()
        http.put(f"/v1/rooms/{LOBBY}/chatMessages/{sent['id']}", json={"text": "hi lobby!"}, headers=auth())
        _, items = read_items(stream.iter_raw(), 3, time.monotonic() + 5)
    assert [(item["operation"], item["resource"]) for item in items] == [
        ("create", "users"),
        ("create", "chatMessages"),
        ("update", "chatMessages"),
    ]
    assert items[0]["model"]["id"] == ALICE_ID
    assert items[2]["model"]["text"] == "hi lobby!"
    assert all(item_checker.errors(item) == [] for item in items)


def test_stream_auth_errors(client: TestClient) -> None:
    response = client.get(f"/stream/v1/rooms/{REPO}/chatMessages", headers=auth("nope"))
    assert assert_documented("gitter.stream.chatMessages", response, 401) == {"error": "Unauthorized"}


# every endpoint ---------------------------------------------------------------------------
PATH_VALUES = {"roomId": REPO, "userId": ALICE_ID, "messageId": REPO_MESSAGES[0], "chatMessageId": REPO_MESSAGES[0]}
ENDPOINTS = sorted(endpoint.id for endpoint in REGISTRY.endpoints_of("gitter"))


def served(endpoint_id: str) -> str:
    path = REGISTRY.endpoint(endpoint_id).served_path(combined=False)
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


def body_for(endpoint_id: str) -> dict[str, Any]:
    return {"json": {}} if "json" in REGISTRY.endpoint(endpoint_id).params_in else {}


@pytest.mark.parametrize("endpoint_id", [endpoint_id for endpoint_id in ENDPOINTS if REGISTRY.endpoint(endpoint_id).auth is not None])
def test_every_endpoint_refuses_a_bad_token(client: TestClient, endpoint_id: str) -> None:
    endpoint = REGISTRY.endpoint(endpoint_id)
    response = client.request(endpoint.method, served(endpoint_id), headers=auth("not-a-token"), **body_for(endpoint_id))
    assert assert_documented(endpoint_id, response, 401) == {"error": "Unauthorized"}


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_every_documented_error_case_via_prefer(client: TestClient, endpoint_id: str) -> None:
    endpoint = REGISTRY.endpoint(endpoint_id)
    for case in endpoint.errors:
        prefer = f"code={case.status}; error={case.code}" if case.code is not None else f"code={case.status}"
        response = client.request(endpoint.method, served(endpoint_id), headers={**auth(), "Prefer": prefer}, **body_for(endpoint_id))
        assert assert_documented(endpoint_id, response, case.status) == case.body, prefer


def test_a_reset_ends_open_streams() -> None:
    app = create_app(["gitter"], strict=True, stream_keepalive=5)
    with (
        serve_in_thread(app) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
        http.stream("GET", f"/stream/v1/rooms/{ORG}/chatMessages", headers=auth(BOB_TOKEN)) as stream,
    ):
        assert eventually(lambda: app.state.chatmock.hub.waiting == 1)
        started = time.monotonic()
        assert http.post("/__chatmock/reset").status_code == 200
        assert b"".join(stream.iter_raw()) == b""
        assert time.monotonic() - started < 4


def test_rate_limit_reset_is_the_window_end_in_epoch_milliseconds(client: TestClient, app: Any) -> None:
    """dolph: ``X-RateLimit-Reset: Date.now() + ttl * 1000`` (ttl: whole seconds left)."""
    clock = app.state.chatmock.store.clock
    start = 1_700_000_000.25
    clock.freeze(start)
    first = client.get("/v1/user", headers=auth())
    assert first.headers["X-RateLimit-Reset"] == str(int(start * 1000) + 60_000)
    clock.advance(20.5)
    later = client.get("/v1/rooms", headers=auth())
    assert later.headers["X-RateLimit-Reset"] == str(int((start + 20.5) * 1000) + 39_000)


# GitHub orgs, repos; channels of a room --------------------------------------------------
def test_user_orgs_carry_their_rooms(client: TestClient) -> None:
    orgs = assert_documented("gitter.user.orgs", client.get(f"/v1/user/{BOB_ID}/orgs", headers=auth(BOB_TOKEN)), 200)
    assert [(org["id"], org["name"]) for org in orgs] == [(1001, "chatmock"), (1002, "bob-labs")]
    assert orgs[0]["room"]["id"] == ORG
    assert "room" not in orgs[1]
    mine = client.get("/v1/user/me/orgs", headers=auth())
    assert [org["name"] for org in assert_documented("gitter.user.orgs", mine, 200)] == ["chatmock"]
    others = client.get(f"/v1/user/{BOB_ID}/orgs", headers=auth())
    assert assert_documented("gitter.user.orgs", others, 403) == {"error": "Forbidden"}


def test_user_repos_list_search_and_admin(client: TestClient) -> None:
    path = f"/v1/user/{ALICE_ID}/repos"
    repos = assert_documented("gitter.user.repos", client.get(path, headers=auth()), 200)
    assert [repo["name"] for repo in repos] == ["chatmock/chatmock", "alice/notes", "chatmock/website"]
    assert repos[0]["room"]["id"] == REPO
    assert repos[1]["private"] is True
    assert "room" not in repos[2]
    admin = assert_documented("gitter.user.repos", client.get(path, params={"type": "admin"}, headers=auth()), 200)
    assert [repo["name"] for repo in admin] == ["chatmock/chatmock", "alice/notes"]
    found = assert_documented("gitter.user.repos", client.get(path, params={"q": "chatmock"}, headers=auth()), 200)
    assert [repo["name"] for repo in found["results"]] == ["chatmock/chatmock", "chatmock/website"]
    one_more = client.get(path, params={"q": "o", "limit": "1"}, headers=auth())  # repos.js: slice(0, limit + 1)
    assert len(assert_documented("gitter.user.repos", one_more, 200)["results"]) == 2
    bad = client.get(path, params={"limit": "ten"}, headers=auth())
    assert "limit" in assert_documented("gitter.user.repos", bad, 400)["error"]


def test_room_channels_are_the_visible_rooms_under_its_uri(client: TestClient) -> None:
    channels = assert_documented("gitter.rooms.channels", client.get(f"/v1/rooms/{ORG}/channels", headers=auth()), 200)
    assert [room["uri"] for room in channels] == ["chatmock/lobby"]  # alice may see the public lobby without being in it
    assert assert_documented("gitter.rooms.channels", client.get(f"/v1/rooms/{REPO}/channels", headers=auth()), 200) == []
    unknown = client.get(f"/v1/rooms/{UNKNOWN_ID}/channels", headers=auth())
    assert assert_documented("gitter.rooms.channels", unknown, 404) == {"error": "Not Found"}


def test_a_private_channel_shows_only_to_its_members() -> None:
    world = default_world("gitter")
    world["rooms"].append(
        {"githubType": "ORG_CHANNEL", "uri": "chatmock/secret", "security": "PRIVATE", "members": ["bob"], "admins": ["bob"]}
    )
    with TestClient(seeded(world)) as client:
        for token, expected in ((ALICE_TOKEN, ["chatmock/lobby"]), (BOB_TOKEN, ["chatmock/lobby", "chatmock/secret"])):
            shown = assert_documented("gitter.rooms.channels", client.get(f"/v1/rooms/{ORG}/channels", headers=auth(token)), 200)
            assert [room["uri"] for room in shown] == expected


def test_world_orgs_and_repos_are_checked() -> None:
    world = default_world("gitter")
    world["users"][0]["repos"] = [{"name": "x/y"}]
    with pytest.raises(ValueError, match=r"users\[0\]\.repos\[0\]\.id"):
        seeded(world)
