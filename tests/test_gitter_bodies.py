"""Gitter request bodies as real clients send them (issue 15, research/clients.md 3 and 6).

The Gitter API app parses JSON and form bodies alike (``bodyParser.json()`` and
``bodyParser.urlencoded({extended: false})``, zero804/gitter server/web/express.js), reads the
token from the Authorization header (any-case Bearer), X-Access-Token, the body or the query
(get-access-token-from-req.js), ignores the fields it does not read, and answers every 400
with ``{"error": <what was wrong>}``.

The property test: every body the params schema of a write endpoint accepts as JSON is also
accepted form-encoded, the way gitterpy sends it (``requests``' ``data=``: None dropped, a list
as repeated keys, booleans as text), with the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from gitter_world import ALICE_ID, ALICE_TOKEN, BOB_ID, BOB_TOKEN, LOBBY, REPO, REPO_MESSAGES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from mock_support import REGISTRY, assert_documented, default_world
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.core.registry import thaw

JOINABLE = ["chatmock/lobby", "chatmock/chatmock", "bob"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WRITE_ENDPOINTS = [
    "gitter.rooms.chatMessages.create",
    "gitter.rooms.chatMessages.update",
    "gitter.rooms.join",
    "gitter.user.unreadItems.markRead",
]
# What differs between two answers to the same request made twice (ids, times, counters).
VOLATILE = {"id", "sent", "editedAt", "v", "unread", "readBy", "lastAccessTime", "unreadItems", "mentions"}


def auth(token: str = ALICE_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unlimited_app() -> Any:
    world = default_world("gitter")
    world["rateLimit"] = 10**9  # the property test sends hundreds of requests per token
    return create_app(["gitter"], strict=True, seed={"gitter": world})


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(unlimited_app()) as opened:
        yield opened


def post_message(client: TestClient, text: str = "to edit", room: str = REPO) -> str:
    response = client.post(f"/v1/rooms/{room}/chatMessages", json={"text": text}, headers=auth())
    return str(assert_documented("gitter.rooms.chatMessages.create", response, 200)["id"])


def form_pairs(body: dict[str, Any]) -> list[tuple[str, str]]:
    """``body`` as ``requests``' ``data=`` encodes it: None dropped, a list as repeated keys,
    True/False as JavaScript writes them (what mongoose casts back); nested objects have no
    form encoding with ``extended: false`` and are left out."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None or isinstance(item, dict | list):
                continue
            pairs.append((key, "true" if item is True else "false" if item is False else str(item)))
    return pairs


# form bodies ------------------------------------------------------------------------------
def test_a_form_encoded_message_is_posted_like_a_json_one(client: TestClient) -> None:
    response = client.post(f"/v1/rooms/{REPO}/chatMessages", content=urlencode({"text": "form hello"}), headers={**auth(), **FORM})
    body = assert_documented("gitter.rooms.chatMessages.create", response, 200)
    assert (body["text"], body.get("status", False), body["fromUser"]["id"]) == ("form hello", False, ALICE_ID)
    listed = client.get(f"/v1/rooms/{REPO}/chatMessages", params={"limit": "1"}, headers=auth()).json()
    assert listed[0]["id"] == body["id"]


@pytest.mark.parametrize(("sent", "status"), [("true", True), ("false", False)])
def test_a_form_status_is_cast_as_mongoose_casts_it(client: TestClient, sent: str, status: bool) -> None:
    response = client.post(f"/v1/rooms/{REPO}/chatMessages", data={"text": "waves", "status": sent}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.create", response, 200).get("status", False) is status


def test_join_takes_uri_from_a_form_body_or_the_query_string(client: TestClient) -> None:
    by_form = client.post("/v1/rooms", data={"uri": "chatmock/lobby"}, headers=auth(BOB_TOKEN))
    by_query = client.post("/v1/rooms", params={"uri": "chatmock/lobby"}, headers=auth(BOB_TOKEN))
    first = assert_documented("gitter.rooms.join", by_form, 200)
    assert assert_documented("gitter.rooms.join", by_query, 200)["id"] == first["id"] == LOBBY


def test_an_edit_by_form_and_to_empty_text(client: TestClient) -> None:
    ident = post_message(client)
    path = f"/v1/rooms/{REPO}/chatMessages/{ident}"
    edited = client.put(path, data={"text": "form edit"}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.update", edited, 200)["text"] == "form edit"
    emptied = client.put(path, json={"text": ""}, headers=auth())  # matterbridge deletes this way
    assert assert_documented("gitter.rooms.chatMessages.update", emptied, 200)["text"] == ""
    missing = client.put(path, json={}, headers=auth())  # updateChatMessage(..., newText = '')
    assert assert_documented("gitter.rooms.chatMessages.update", missing, 200)["text"] == ""


def test_mark_read_by_form_needs_the_key_more_than_once(client: TestClient) -> None:
    """``chat=<id>`` alone parses to a string, which unread-items.js refuses (Array.isArray); so
    does a JSON string. ``chat[]=<id>`` is a name of its own under ``extended: false``."""
    path = f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems"
    single = client.post(path, content=f"chat={REPO_MESSAGES[2]}", headers={**auth(BOB_TOKEN), **FORM})
    assert "chat must be an array" in assert_documented("gitter.user.unreadItems.markRead", single, 400)["error"]
    as_json = client.post(path, json={"chat": REPO_MESSAGES[2]}, headers=auth(BOB_TOKEN))
    assert "chat must be an array" in assert_documented("gitter.user.unreadItems.markRead", as_json, 400)["error"]
    bracketed = client.post(path, content=f"chat%5B%5D={REPO_MESSAGES[2]}", headers={**auth(BOB_TOKEN), **FORM})
    assert assert_documented("gitter.user.unreadItems.markRead", bracketed, 400)["error"]


def test_mark_read_by_form_with_repeated_keys(client: TestClient) -> None:
    path = f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems"
    body = urlencode([("chat", REPO_MESSAGES[2]), ("chat", REPO_MESSAGES[1])])
    marked = client.post(path, content=body, headers={**auth(BOB_TOKEN), **FORM})
    assert assert_documented("gitter.user.unreadItems.markRead", marked, 200) == {"success": True}


# whole structs, unknown fields ------------------------------------------------------------------
GO_GITTER_MESSAGE = {  # go-gitter SendMessage: the whole zero-valued Message struct (gitter.go:208-212)
    "id": "",
    "text": "from go-gitter",
    "html": "",
    "sent": "0001-01-01T00:00:00Z",
    "editedAt": "0001-01-01T00:00:00Z",
    "fromUser": {"id": "", "username": "", "displayName": "", "url": "", "avatarUrlSmall": "", "avatarUrlMedium": ""},
    "unread": False,
    "readBy": 0,
    "urls": None,
    "mentions": None,
    "issues": None,
    "v": 0,
}


def test_a_whole_zero_valued_struct_is_read_for_its_text_only(client: TestClient) -> None:
    response = client.post(f"/v1/rooms/{REPO}/chatMessages", json=GO_GITTER_MESSAGE, headers=auth())
    body = assert_documented("gitter.rooms.chatMessages.create", response, 200)
    assert (body["text"], body["fromUser"]["id"], body["v"], body["editedAt"]) == ("from go-gitter", ALICE_ID, 1, None)
    marked = client.post(f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems", json={"chat": [body["id"]], "mention": []}, headers=auth(BOB_TOKEN))
    assert assert_documented("gitter.user.unreadItems.markRead", marked, 200) == {"success": True}


# limits ---------------------------------------------------------------------------------------
def test_text_limits(client: TestClient) -> None:
    path = f"/v1/rooms/{REPO}/chatMessages"
    longest = client.post(path, json={"text": "x" * 4096}, headers=auth())
    assert len(assert_documented("gitter.rooms.chatMessages.create", longest, 200)["text"]) == 4096
    too_long = client.post(path, json={"text": "x" * 4097}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.create", too_long, 400) == {"error": "Message exceeds maximum size"}
    for body in ({"text": ""}, {}, {"status": True}):
        refused = client.post(path, json=body, headers=auth())
        assert assert_documented("gitter.rooms.chatMessages.create", refused, 400) == {"error": "Text is required"}, body
    ident = str(longest.json()["id"])
    edit = client.put(f"{path}/{ident}", json={"text": "y" * 4097}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.update", edit, 400) == {"error": "Message exceeds maximum size"}


def test_the_600_second_edit_window(client: TestClient) -> None:
    assert client.post("/__chatmock/clock", json={"freeze": 1_800_000_000}).status_code == 200
    ident = post_message(client)
    path = f"/v1/rooms/{REPO}/chatMessages/{ident}"
    assert client.post("/__chatmock/clock", json={"advance": 600}).status_code == 200
    assert_documented("gitter.rooms.chatMessages.update", client.put(path, json={"text": "at 600 s"}, headers=auth()), 200)
    assert client.post("/__chatmock/clock", json={"advance": 1}).status_code == 200
    late = client.put(path, json={"text": "at 601 s"}, headers=auth())
    assert assert_documented("gitter.rooms.chatMessages.update", late, 400) == {"error": "You can no longer edit this message"}
    seeded = client.put(f"/v1/rooms/{REPO}/chatMessages/{REPO_MESSAGES[0]}", json={"text": "old"}, headers=auth())
    assert seeded.status_code in (400, 403)  # a seeded message of 2024 is long past its window


# credentials ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"bearer {ALICE_TOKEN}"},
        {"Authorization": f"BEARER {ALICE_TOKEN}"},
        {"Authorization": f"Bearer {ALICE_TOKEN}, Bearer other"},  # the old OS X client's doubled header
        {"X-Access-Token": ALICE_TOKEN},
        {"Authorization": "Basic dXNlcjpwYXNz", "X-Access-Token": ALICE_TOKEN},  # not a bearer: the next source
    ],
)
def test_token_sources(client: TestClient, headers: dict[str, str]) -> None:
    me = assert_documented("gitter.user.me", client.get("/v1/user/me", headers=headers), 200)
    assert me["id"] == ALICE_ID


def test_access_token_in_a_json_or_form_body(client: TestClient) -> None:
    path = f"/v1/rooms/{REPO}/chatMessages"
    by_json = client.post(path, json={"text": "json token", "access_token": ALICE_TOKEN})
    by_form = client.post(path, data={"text": "form token", "access_token": BOB_TOKEN})
    assert assert_documented("gitter.rooms.chatMessages.create", by_json, 200)["fromUser"]["id"] == ALICE_ID
    assert assert_documented("gitter.rooms.chatMessages.create", by_form, 200)["fromUser"]["id"] == BOB_ID
    by_query = client.post(path, params={"access_token": ALICE_TOKEN}, data={"text": "query token"})
    assert assert_documented("gitter.rooms.chatMessages.create", by_query, 200)["fromUser"]["id"] == ALICE_ID
    wrong = client.post(path, data={"text": "x", "access_token": "nope"})
    assert assert_documented("gitter.rooms.chatMessages.create", wrong, 401) == {"error": "Unauthorized"}


def test_json_content_type_on_bodiless_gets(client: TestClient) -> None:
    """go-gitter and camper-gitter-bot set Content-Type: application/json on every request."""
    headers = {**auth(), "Content-Type": "application/json"}
    for endpoint_id, path in (("gitter.user.get", "/v1/user"), ("gitter.rooms.list", "/v1/rooms")):
        assert_documented(endpoint_id, client.get(path, headers=headers), 200)


# every 400 says what was wrong --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "names"),
    [
        ("GET", f"/v1/rooms/{REPO}/chatMessages", {"params": {"limit": "abc"}}, "limit"),
        ("GET", f"/v1/rooms/{REPO}/chatMessages", {"params": {"beforeId": "zz"}}, "beforeId"),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"json": {"text": 42}}, "text"),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"json": {"text": "a", "status": "maybe"}}, "status"),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"content": b"{", "headers": {"Content-Type": "application/json"}}, "JSON"),
        ("POST", f"/v1/rooms/{REPO}/chatMessages", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, "Content-Type"),
        ("POST", "/v1/rooms", {"json": {"uri": 7}}, "uri"),
        ("POST", "/v1/rooms", {"json": {}}, "uri"),
        ("POST", f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems", {"data": {"chat": REPO_MESSAGES[0]}}, "chat"),
        ("GET", f"/v1/user/{ALICE_ID}/repos", {"params": {"limit": "x"}}, "limit"),
        ("GET", "/v1/rooms", {"params": {"q": ["a", "b"]}}, "q"),
        ("PUT", f"/v1/rooms/{REPO}/chatMessages/{REPO_MESSAGES[0]}", {"json": {"text": ["x"]}}, "text"),
    ],
)
def test_every_400_says_what_was_wrong(client: TestClient, method: str, path: str, kwargs: dict[str, Any], names: str) -> None:
    headers = {**auth(), **kwargs.pop("headers", {})}
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert isinstance(error, str)
    assert names in error, error
    assert error != "Bad Request"


# the property ------------------------------------------------------------------------------------
def _request(endpoint_id: str, client: TestClient) -> tuple[str, str, dict[str, str]]:
    """Method, path and headers of one request to ``endpoint_id`` that can succeed."""
    endpoint = REGISTRY.endpoint(endpoint_id)
    if endpoint_id == "gitter.rooms.chatMessages.create":
        return "POST", f"/v1/rooms/{REPO}/chatMessages", auth()
    if endpoint_id == "gitter.rooms.chatMessages.update":
        return "PUT", f"/v1/rooms/{REPO}/chatMessages/{post_message(client)}", auth()
    if endpoint_id == "gitter.rooms.join":
        return "POST", "/v1/rooms", auth()
    assert endpoint.id == "gitter.user.unreadItems.markRead"
    return "POST", f"/v1/user/{BOB_ID}/rooms/{REPO}/unreadItems", auth(BOB_TOKEN)


def _outcome(response: Any) -> tuple[int, Any]:
    body = response.json()
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in VOLATILE}
    return response.status_code, body


def _json_bodies(endpoint_id: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = thaw(REGISTRY.endpoint(endpoint_id).params_schema)
    declared = set(schema.get("properties", {}))

    def encodable(body: Any) -> bool:
        # a credential field would change who is asking; a list of one item is a string in a
        # form (the server's parser), which the property leaves to the tests above
        return "access_token" not in body and all(
            not (isinstance(value, list) and len(value) < 2) for key, value in body.items() if key in declared
        )

    bodies: st.SearchStrategy[dict[str, Any]] = from_schema(schema).filter(encodable)  # type: ignore[assignment]
    if endpoint_id == "gitter.rooms.join":  # a generated uri names no room: join ones that exist
        return st.builds(lambda body, uri: {**body, "uri": uri}, bodies, st.sampled_from(JOINABLE))
    return bodies


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _same_answer(client: TestClient, endpoint_id: str, body: dict[str, Any]) -> None:
    """One app for all examples: each request stands alone (a new message to edit; joining or
    marking read twice answers the same)."""
    method, path, headers = _request(endpoint_id, client)
    as_json = client.request(method, path, json=body, headers=headers)
    assert as_json.status_code == 200, (body, as_json.text)
    method, path, headers = _request(endpoint_id, client)
    as_form = client.request(method, path, content=urlencode(form_pairs(body)), headers={**headers, **FORM})
    assert _outcome(as_form) == _outcome(as_json), (body, as_form.text, as_json.text)


@pytest.mark.parametrize("endpoint_id", WRITE_ENDPOINTS)
def test_every_json_body_the_schema_accepts_is_accepted_form_encoded(client: TestClient, endpoint_id: str) -> None:
    @settings(PROPERTY)
    @given(body=_json_bodies(endpoint_id))
    def check(body: dict[str, Any]) -> None:
        _same_answer(client, endpoint_id, body)

    check()
