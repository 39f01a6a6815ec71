"""Gitter-specific proofs of schemas/gitter (see shared/api/gitter.md §5 "Quirks").

Generic checks (every fixture validates, meta-schemas, hypothesis round trip) live in
tests/test_schemas.py; this file pins the points where Gitter differs from the obvious.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from mockserver.core import paths
from mockserver.core.registry import UnknownIdError, load_registry, thaw

REG = load_registry()
FIXTURES = paths.fixtures_dir() / "gitter"
REST_IDS = sorted(ep.id for ep in REG.endpoints_of("gitter") if ep.server.name == "rest")
STREAM_IDS = ("gitter.stream.chatMessages", "gitter.stream.events")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def room(kind: str) -> dict[str, Any]:
    rooms = fixture("gitter.rooms.list.200.json")
    return copy.deepcopy(rooms[0] if kind == "ONETOONE" else rooms[1])


def message() -> dict[str, Any]:
    return copy.deepcopy(fixture("gitter.rooms.chatMessages.list.200.docs.json")[1])  # has issues[{"number": "11"}]


def without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


def with_(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**obj, **changes}


# --- the endpoint set -----------------------------------------------------------------
def test_endpoint_ids_and_servers() -> None:
    assert {ep.id for ep in REG.endpoints_of("gitter")} == {
        "gitter.rooms.list",
        "gitter.rooms.join",
        "gitter.rooms.users.list",
        "gitter.rooms.channels",
        "gitter.faye.bayeux",
        "gitter.faye.faye",
        "gitter.user.orgs",
        "gitter.user.repos",
        "gitter.rooms.chatMessages.list",
        "gitter.rooms.chatMessages.get",
        "gitter.rooms.chatMessages.create",
        "gitter.rooms.chatMessages.update",
        "gitter.user.get",
        "gitter.user.me",
        "gitter.user.rooms.list",
        "gitter.user.unreadItems.list",
        "gitter.user.unreadItems.markRead",
        "gitter.stream.chatMessages",
        "gitter.stream.events",
        "gitter.user.rooms.join",
        "gitter.rooms.users.remove",
        "gitter.rooms.get",
        "gitter.rooms.update",
        "gitter.rooms.delete",
        "gitter.user.unreadItems.markAllRead",
        "gitter.user.rooms.update",
        "gitter.user.show",
        "gitter.user.channels",
        "gitter.groups.list",
        "gitter.groups.rooms",
    }
    api = REG.api("gitter")
    assert [(s.name, s.url, s.prefix) for s in api.servers] == [
        ("rest", "https://api.gitter.im", "/gitter"),
        ("stream", "https://stream.gitter.im", "/gitter/stream"),
        ("ws", "https://ws.gitter.im", "/gitter/ws"),
    ]
    assert api.auth["bearer"].type == "bearer"
    assert api.auth["bearer"].query_alternative == "access_token"
    assert {m.id for m in REG.models_of("gitter")} >= {"gitter.Room", "gitter.User", "gitter.Message", "gitter.Error"}


# --- quirk 1: ONETOONE rooms have no uri -----------------------------------------------
def test_onetoone_room_without_uri_is_valid() -> None:
    one = room("ONETOONE")
    assert "uri" not in one
    assert one["githubType"] == "ONETOONE"
    assert REG.model_errors("gitter.Room", one) == []
    assert REG.response_errors("gitter.rooms.list", 200, [one]) == []
    assert REG.response_errors("gitter.user.rooms.list", 200, [one]) == []


def test_non_onetoone_room_without_uri_is_invalid() -> None:
    """Decision: every documented non-ONETOONE room has uri, and the seed indexes
    room['uri'] for all rooms whose githubType != 'ONETOONE' (seed 000)."""
    repo = room("REPO")
    assert REG.model_errors("gitter.Room", repo) == []
    for github_type in ("ORG", "REPO", "ORG_CHANNEL", "REPO_CHANNEL", "USER_CHANNEL"):
        assert REG.model_errors("gitter.Room", with_(repo, githubType=github_type)) == []
        assert REG.model_errors("gitter.Room", without(with_(repo, githubType=github_type), "uri")) != []
    assert REG.response_errors("gitter.rooms.list", 200, [without(repo, "uri")]) != []


def test_onetoone_room_shape_is_consistent() -> None:
    one = room("ONETOONE")
    assert REG.model_errors("gitter.Room", with_(one, oneToOne=False)) != []  # ONETOONE is oneToOne: true
    assert REG.model_errors("gitter.Room", without(one, "user")) != []  # ONETOONE carries the other user
    assert REG.model_errors("gitter.Room", with_(room("REPO"), oneToOne=True)) != []
    assert REG.model_errors("gitter.Room", with_(one, githubType="PRIVATE")) != []  # unknown enum value


# --- quirk 2: /v1/user is an array, /v1/user/me an object --------------------------------
def test_user_get_is_a_one_element_array() -> None:
    users = fixture("gitter.user.get.200.json")
    assert isinstance(users, list)
    assert len(users) == 1
    assert REG.response_errors("gitter.user.get", 200, users) == []
    assert REG.response_errors("gitter.user.get", 200, users[0]) != []  # the object shape is refused
    assert REG.response_errors("gitter.user.get", 200, []) != []
    assert REG.response_errors("gitter.user.get", 200, users * 2) != []


def test_user_me_is_an_object() -> None:
    me = fixture("gitter.user.me.200.json")
    assert REG.response_errors("gitter.user.me", 200, me) == []
    assert REG.response_errors("gitter.user.me", 200, [me]) != []  # the array shape is refused
    assert REG.response_errors("gitter.user.me", 200, fixture("gitter.user.get.200.json")) != []


# --- quirk 3 and 7: 200 on send, {"error": ...} bodies, rate-limit headers ---------------
def test_send_answers_200_not_201() -> None:
    ep = REG.endpoint("gitter.rooms.chatMessages.create")
    assert ep.method == "POST"
    assert ep.params_in == ("json", "form")
    assert 200 in ep.responses
    assert 201 not in ep.responses
    with pytest.raises(UnknownIdError):
        ep.response(201)
    assert REG.response_errors(ep.id, 200, fixture("gitter.rooms.chatMessages.create.200.json")) == []


@pytest.mark.parametrize("endpoint_id", REST_IDS + list(STREAM_IDS))
def test_both_401_bodies(endpoint_id: str) -> None:
    ep = REG.endpoint(endpoint_id)
    assert ep.auth is not None
    assert ep.auth.name == "bearer"
    assert REG.response_errors(endpoint_id, 401, {"error": "Unauthorized"}) == []
    assert REG.response_errors(endpoint_id, 401, {"error": True, "loginRequired": True}) == []
    assert REG.response_errors(endpoint_id, 401, {"message": "Unauthorized"}) != []
    assert REG.response_errors(endpoint_id, 401, {"error": True}) != []  # loginRequired goes with error: true
    assert REG.response_errors(endpoint_id, 401, {"error": False, "loginRequired": True}) != []
    codes = {(case.status, json.dumps(thaw(case.body), sort_keys=True)) for case in ep.errors}
    assert (401, '{"error": "Unauthorized"}') in codes
    assert (401, '{"error": true, "loginRequired": true}') in codes


@pytest.mark.parametrize("endpoint_id", REST_IDS)
def test_error_bodies_and_rate_limit_headers(endpoint_id: str) -> None:
    ep = REG.endpoint(endpoint_id)
    for status in ep.responses:
        if status >= 400:
            assert REG.response_errors(endpoint_id, status, {"error": "Not Found"}) == []
            assert REG.response_errors(endpoint_id, status, {"success": False}) != []
    assert 429 in ep.responses
    for status in (200, 429):
        response = ep.response(status)
        assert set(response.headers) >= {"X-RateLimit-Limit", "X-RateLimit-Remaining"}
        assert response.header_checkers["X-RateLimit-Limit"].errors("100") == []
        assert response.header_checkers["X-RateLimit-Remaining"].errors("0") == []
        assert response.header_checkers["X-RateLimit-Remaining"].errors("many") != []
    assert ep.response(200).content_type == "application/json; charset=utf-8"


def test_streams() -> None:
    for endpoint_id in STREAM_IDS:
        ep = REG.endpoint(endpoint_id)
        assert ep.kind == "stream"
        assert ep.server.name == "stream"
        assert ep.method == "GET"
        stream = ep.response(200).stream
        assert stream is not None
        assert stream["delimiter"] == "\r\n"
        assert stream["keepAlive"] == " \n"
        assert ep.served_path() == "/gitter/stream" + ep.path
    item = REG.endpoint("gitter.stream.chatMessages").response(200).item_checker
    assert item is not None
    assert item.errors(fixture("gitter.rooms.chatMessages.create.200.json")) == []
    assert item.errors(without(message(), "sent")) != []
    events = REG.endpoint("gitter.stream.events").response(200).item_checker
    assert events is not None
    assert events.errors({"anything": 1}) == []
    assert events.errors([1]) != []


# --- quirk 4 and 5: editedAt, favourite, issues[].number -----------------------------------
def test_favourite_is_a_number() -> None:
    repo = room("REPO")
    assert repo["favourite"] == 1
    assert REG.model_errors("gitter.Room", repo) == []
    assert REG.model_errors("gitter.Room", with_(repo, favourite=True)) != []
    assert REG.model_errors("gitter.Room", with_(repo, favourite="1")) != []


def test_issue_number_is_a_string() -> None:
    msg = message()
    assert msg["issues"] == [{"number": "11"}]
    assert REG.model_errors("gitter.Message", msg) == []
    assert REG.model_errors("gitter.Message", with_(msg, issues=[{"number": 11}])) != []


def test_edited_at_null_or_timestamp() -> None:
    msg = message()
    assert msg["editedAt"] is None
    assert REG.model_errors("gitter.Message", msg) == []
    assert REG.model_errors("gitter.Message", with_(msg, editedAt="2014-03-25T12:13:02.985Z")) == []
    assert REG.model_errors("gitter.Message", without(msg, "editedAt")) != []  # key present, null until edited
    assert REG.model_errors("gitter.Message", with_(msg, editedAt="2014-03-25 12:13:02")) != []
    assert REG.model_errors("gitter.Message", with_(msg, editedAt=False)) != []
    edited = fixture("gitter.rooms.chatMessages.update.200.docs.json")
    assert edited["editedAt"]
    assert edited["v"] == 2
    assert REG.response_errors("gitter.rooms.chatMessages.update", 200, edited) == []


def test_timestamps_have_milliseconds() -> None:
    msg = message()
    assert REG.model_errors("gitter.Message", with_(msg, sent="2014-03-25T11:55:47Z")) != []
    assert REG.model_errors("gitter.Message", with_(msg, sent="2014-03-25T11:55:47.537+00:00")) != []


# --- one realistic broken variant per endpoint ---------------------------------------------
def _msg() -> dict[str, Any]:
    return fixture("gitter.rooms.chatMessages.get.200.docs.json")


BROKEN_RESPONSES = [
    ("gitter.rooms.list", lambda: [without(room("REPO"), "githubType")]),
    ("gitter.rooms.join", lambda: with_(room("REPO"), githubType="GROUP")),
    ("gitter.rooms.users.list", lambda: [without(fixture("gitter.rooms.users.list.200.docs.json")[0], "username")]),
    ("gitter.rooms.chatMessages.list", lambda: [with_(_msg(), readBy="0")]),
    ("gitter.rooms.chatMessages.get", lambda: without(_msg(), "fromUser")),
    ("gitter.rooms.chatMessages.create", lambda: with_(_msg(), unread="false")),
    ("gitter.rooms.chatMessages.update", lambda: with_(_msg(), id=12345)),
    ("gitter.user.get", lambda: [without(fixture("gitter.user.get.200.json")[0], "id")]),
    ("gitter.user.me", lambda: with_(fixture("gitter.user.me.200.json"), staff="yes")),
    ("gitter.user.rooms.list", lambda: [with_(room("REPO"), lurk=0)]),
    ("gitter.user.unreadItems.list", lambda: without(fixture("gitter.user.unreadItems.list.200.docs.json"), "mention")),
    ("gitter.user.unreadItems.markRead", lambda: {"success": False}),
    ("gitter.user.rooms.join", lambda: without(room("REPO"), "id")),
    ("gitter.rooms.users.remove", lambda: {"success": "true"}),
    ("gitter.rooms.get", lambda: with_(room("REPO"), oneToOne="no")),
    ("gitter.rooms.update", lambda: with_(room("REPO"), tags="a,b")),
    ("gitter.rooms.delete", lambda: {}),
    ("gitter.user.unreadItems.markAllRead", lambda: {"success": 1}),
    ("gitter.user.rooms.update", lambda: with_(room("REPO"), favourite=True)),
    ("gitter.user.show", lambda: without(fixture("gitter.user.get.200.json")[0], "username")),
    ("gitter.user.channels", lambda: with_(room("REPO"), id=1)),
    ("gitter.rooms.list", lambda: {"results": [without(room("REPO"), "id")]}),
    ("gitter.user.get", lambda: {"results": "bob"}),
    ("gitter.groups.list", lambda: [{"id": "chatmock", "name": "chatmock", "uri": "chatmock"}]),
    ("gitter.groups.rooms", lambda: [without(room("REPO"), "name")]),
    ("gitter.user.orgs", lambda: [with_(fixture("gitter.user.orgs.200.docs.json")[0], id="5990364")]),
    ("gitter.user.orgs", lambda: [without(fixture("gitter.user.orgs.200.docs.json")[1], "avatar_url")]),
    ("gitter.user.repos", lambda: [with_(fixture("gitter.user.repos.200.docs.json")[1], private="false")]),
    ("gitter.user.repos", lambda: {"results": [without(fixture("gitter.user.repos.200.docs.json")[0], "uri")]}),
    ("gitter.rooms.channels", lambda: [without(fixture("gitter.rooms.channels.200.docs.json")[0], "githubType")]),
    ("gitter.faye.bayeux", lambda: [{}]),  # a reply says something
    ("gitter.faye.bayeux", lambda: [{"channel": "/meta/handshake", "successful": False}]),  # a failure names its error
    ("gitter.faye.bayeux", lambda: [{"channel": "/meta/subscribe", "successful": False, "error": "Authorisation denied"}]),  # code::message
    ("gitter.faye.faye", lambda: [{"channel": "/meta/connect", "successful": True, "advice": {"reconnect": "later"}}]),
    (
        "gitter.faye.faye",
        lambda: [{"channel": f"/api/v1/rooms/{'5' * 24}/chatMessages", "data": {"operation": "create", "model": {"id": 1}}}],
    ),
    ("gitter.faye.faye", lambda: [{"channel": f"/api/v1/user/{'5' * 24}", "data": {"notification": ""}}]),
]

VALID_RESPONSES = [  # endpoints of issue 15 without a documented example: a reply as the mock renders it
    ("gitter.user.rooms.join", lambda: room("REPO")),
    ("gitter.rooms.users.remove", lambda: {"success": True}),
    ("gitter.rooms.get", lambda: room("REPO")),
    ("gitter.rooms.update", lambda: with_(room("REPO"), noindex=True)),
    ("gitter.rooms.delete", lambda: {"success": True}),
    ("gitter.user.unreadItems.markAllRead", lambda: {"success": True}),
    ("gitter.user.rooms.update", lambda: with_(room("REPO"), favourite=2, lurk=True)),
    ("gitter.user.show", lambda: with_(fixture("gitter.user.get.200.json")[0], providers=["github"])),
    ("gitter.user.channels", lambda: [room("REPO")]),
    ("gitter.rooms.list", lambda: {"results": [room("REPO")]}),
    ("gitter.user.get", lambda: {"results": fixture("gitter.user.get.200.json")}),
    ("gitter.groups.list", lambda: [{"id": "57542c12c43b8c601976fa66", "name": "gitterHQ", "uri": "gitterHQ", "homeUri": "gitterHQ/home"}]),
    ("gitter.groups.rooms", lambda: [room("REPO")]),
]


@pytest.mark.parametrize(("endpoint_id", "make"), VALID_RESPONSES, ids=[row[0] for row in VALID_RESPONSES])
def test_valid_response_accepted(endpoint_id: str, make: Any) -> None:
    assert REG.response_errors(endpoint_id, 200, make()) == []


@pytest.mark.parametrize(("endpoint_id", "make"), BROKEN_RESPONSES, ids=[row[0] for row in BROKEN_RESPONSES])
def test_broken_response_rejected(endpoint_id: str, make: Any) -> None:
    assert REG.response_errors(endpoint_id, 200, make()) != []


def test_broken_stream_items_rejected() -> None:
    item = REG.endpoint("gitter.stream.chatMessages").response(200).item_checker
    assert item is not None
    assert item.errors(with_(_msg(), mentions={"screenName": "x"})) != []
    events = REG.endpoint("gitter.stream.events").response(200).item_checker
    assert events is not None
    assert events.errors("\n") != []


def test_every_endpoint_has_a_broken_variant_case() -> None:
    covered = {row[0] for row in BROKEN_RESPONSES} | set(STREAM_IDS)
    assert covered == {ep.id for ep in REG.endpoints_of("gitter")}


BROKEN_REQUESTS = [
    ("gitter.rooms.chatMessages.create", {}, "text is required"),
    ("gitter.rooms.chatMessages.create", {"text": 42}, "text is a string"),
    ("gitter.rooms.chatMessages.create", {"text": ""}, "empty text [inferred]"),
    ("gitter.rooms.chatMessages.create", {"text": "hi", "status": "maybe"}, "status is a boolean, null or form 'true'/'false'"),
    ("gitter.rooms.chatMessages.create", {"text": "x" * 4097}, "text is at most 4096 characters"),
    ("gitter.rooms.chatMessages.update", {"text": 42}, "text is a string"),
    ("gitter.rooms.chatMessages.update", {"text": "x" * 4097}, "text is at most 4096 characters"),
    ("gitter.user.unreadItems.markRead", {"chat": "5f3000000000000000000201"}, "chat is an array (a single form field is a string)"),
    ("gitter.rooms.join", {"room": "gitterhq/sandbox"}, "uri is required"),
    ("gitter.user.unreadItems.markRead", {"chat": []}, "No chat or mention items"),
    ("gitter.user.unreadItems.markRead", {"chat": ["not-an-id"]}, "chat holds message ids"),
    ("gitter.rooms.chatMessages.list", {"limit": "fifty"}, "limit travels as a digit string"),
    ("gitter.rooms.chatMessages.list", {"beforeId": "None"}, "beforeId is a message id"),
    ("gitter.rooms.users.list", {"skip": "-1"}, "skip is a digit string"),
    ("gitter.user.rooms.join", {}, "id is required"),
    ("gitter.user.rooms.join", {"id": "lobby"}, "id is like an ObjectId"),
    ("gitter.rooms.update", {"noindex": "maybe"}, "noindex is a boolean"),
    ("gitter.rooms.update", {"topic": ["a"]}, "topic is a string"),
    ("gitter.user.rooms.update", {"mode": "loud"}, "mode is one of the server's modes"),
    ("gitter.user.rooms.update", {"favourite": "first"}, "favourite is a position or a boolean"),
]

VALID_REQUESTS = [
    ("gitter.rooms.chatMessages.create", {"text": "hi", "status": "true"}, "form status"),
    ("gitter.rooms.chatMessages.create", {"text": "x" * 4096, "v": 0, "html": ""}, "longest text, zero-valued extras"),
    ("gitter.rooms.chatMessages.update", {}, "missing text means empty"),
    ("gitter.rooms.chatMessages.update", {"text": ""}, "empty text"),
    ("gitter.user.unreadItems.markRead", {"chat": ["5f3000000000000000000201"], "mention": []}, "mention empty"),
    ("gitter.user.rooms.join", {"id": "5f2000000000000000000004", "source": "~roomlist", "name": ""}, "join by id"),
    ("gitter.rooms.update", {"topic": "t", "noindex": "true", "tags": "a,b"}, "gitterpy's form update"),
    ("gitter.user.rooms.update", {"favourite": "1", "mode": "mention", "updateLastAccess": True}, "favourite and mode"),
]


@pytest.mark.parametrize(("endpoint_id", "params", "why"), VALID_REQUESTS, ids=[row[2] for row in VALID_REQUESTS])
def test_valid_request_accepted(endpoint_id: str, params: Any, why: str) -> None:
    assert REG.request_errors(endpoint_id, params) == [], why


@pytest.mark.parametrize(("endpoint_id", "params", "why"), BROKEN_REQUESTS, ids=[row[2] for row in BROKEN_REQUESTS])
def test_broken_request_rejected(endpoint_id: str, params: Any, why: str) -> None:
    assert REG.request_errors(endpoint_id, params) != [], why


def test_seed_request_is_valid_and_credentials_are_not_params() -> None:
    assert REG.request_errors("gitter.rooms.chatMessages.create", fixture("gitter.rooms.chatMessages.create.request.seed.json")) == []
    assert REG.request_errors("gitter.rooms.chatMessages.list", {"limit": "50", "beforeId": "53316dc47bfc1a000000000f"}) == []
    for ep in REG.endpoints_of("gitter"):
        properties = (ep.params_schema or {}).get("properties", {})
        assert "access_token" not in properties, ep.id
        assert "Authorization" not in properties, ep.id
