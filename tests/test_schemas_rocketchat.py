"""Rocket.Chat-specific schema tests: the quirks of the Rocket.Chat REST API as the schemas encode them.

Ground truth: shared/api/rocketchat.md, seeds 001_9b598478bf7b292c.txt and 004_5e83940a12cde1f2.txt,
and, as a second witness, Rocket.Chat's official OpenAPI definitions (shared/reference/rocketchat-openapi),
whose examples must be accepted. Generic checks (every fixture validates, meta-schemas, hypothesis round
trip) live in tests/test_schemas.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver.core.registry import Registry, load_registry, thaw

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rocketchat"
OPENAPI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "rocketchat-openapi"

ENDPOINT_IDS = [
    "rocketchat.login",
    "rocketchat.logout",
    "rocketchat.me",
    "rocketchat.users.list",
    "rocketchat.rooms.get",
    "rocketchat.chat.sendMessage",
    "rocketchat.chat.postMessage",
    "rocketchat.channels.history",
    "rocketchat.channels.messages",
    "rocketchat.chat.update",
]
PROTECTED = [endpoint_id for endpoint_id in ENDPOINT_IDS if endpoint_id != "rocketchat.login"]
AUTH_ERROR = {"status": "error", "message": "You must be logged in to do this."}
LOGIN_ERROR = {"status": "error", "error": "Unauthorized", "message": "Unauthorized"}


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load_registry()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


LOGIN_OK = fixture("rocketchat.login.200.json")
LOGOUT_OK = fixture("rocketchat.logout.200.json")
SEND_OK = fixture("rocketchat.chat.sendMessage.200.json")
POST_OK = fixture("rocketchat.chat.postMessage.200.json")
ROOMS_OK = fixture("rocketchat.rooms.get.200.json")
USERS_OK = fixture("rocketchat.users.list.200.json")
SEED_SEND = fixture("rocketchat.chat.sendMessage.request.seed001.json")
MESSAGE = POST_OK["message"]
ME = {**LOGIN_OK["data"]["me"], "success": True}
UPDATED = {
    "message": {
        **SEND_OK["message"],
        "editedAt": "2018-03-01T18:05:00.000Z",
        "editedBy": {"_id": "i5FdM4ssFgAcQP62k", "username": "rocket.cat"},
    },
    "success": True,
}


def changed(obj: Any, edit: Callable[[Any], None]) -> Any:
    out = copy.deepcopy(obj)
    edit(out)
    return out


def test_every_endpoint_is_described(reg: Registry) -> None:
    # the documented endpoints are all there; new ones need no edit here (CONTRIBUTING.md)
    assert set(ENDPOINT_IDS) <= {endpoint.id for endpoint in reg.endpoints_of("rocketchat")}
    api = reg.api("rocketchat")
    assert api.content_type == "application/json"
    assert [(server.url, server.prefix) for server in api.servers] == [("http://localhost:3000", "/rocketchat")]
    for endpoint_id in ENDPOINT_IDS:
        endpoint = reg.endpoint(endpoint_id)
        assert endpoint.path == "/api/v1/" + endpoint_id.removeprefix("rocketchat.")
        assert all(response.content_type == "application/json" for response in endpoint.responses.values())


def test_auth_is_the_header_pair(reg: Registry) -> None:
    assert reg.endpoint("rocketchat.login").auth is None
    for endpoint_id in PROTECTED:
        auth = reg.endpoint(endpoint_id).auth
        assert auth is not None
        assert (auth.type, auth.headers) == ("headers", ("X-Auth-Token", "X-User-Id"))
        assert 401 in reg.endpoint(endpoint_id).error_statuses


# envelopes --------------------------------------------------------------------
def test_login_and_logout_use_the_status_data_envelope(reg: Registry) -> None:
    assert reg.response_errors("rocketchat.login", 200, LOGIN_OK) == []
    assert reg.response_errors("rocketchat.logout", 200, LOGOUT_OK) == []
    # the `success: true` style of the other endpoints is not a login/logout body
    flat_login = {**LOGIN_OK["data"], "success": True}
    assert reg.response_errors("rocketchat.login", 200, flat_login)
    assert reg.response_errors("rocketchat.logout", 200, {"message": "You've been logged out!", "success": True})
    assert reg.response_errors("rocketchat.login", 200, changed(LOGIN_OK, lambda body: body.update(status="ok")))
    assert reg.response_errors("rocketchat.login", 200, changed(LOGIN_OK, lambda body: body["data"].pop("authToken")))
    assert reg.response_errors("rocketchat.logout", 200, changed(LOGOUT_OK, lambda body: body.pop("data")))


@pytest.mark.parametrize(
    ("endpoint_id", "body"),
    [
        ("rocketchat.me", ME),
        ("rocketchat.users.list", USERS_OK),
        ("rocketchat.rooms.get", ROOMS_OK),
        ("rocketchat.chat.sendMessage", SEND_OK),
        ("rocketchat.chat.postMessage", POST_OK),
        ("rocketchat.channels.history", {"messages": [MESSAGE], "success": True}),
        ("rocketchat.channels.messages", {"messages": [MESSAGE], "count": 1, "offset": 0, "total": 1, "success": True}),
        ("rocketchat.chat.update", UPDATED),
    ],
)
def test_other_endpoints_say_success_true(reg: Registry, endpoint_id: str, body: dict) -> None:
    assert reg.response_errors(endpoint_id, 200, body) == []
    assert reg.response_errors(endpoint_id, 200, changed(body, lambda b: b.pop("success")))
    assert reg.response_errors(endpoint_id, 200, changed(body, lambda b: b.update(success=False)))
    assert reg.response_errors(
        endpoint_id, 200, {"status": "success", "data": {key: value for key, value in body.items() if key != "success"}}
    )


def test_two_401_bodies(reg: Registry) -> None:
    assert reg.response_errors("rocketchat.login", 401, LOGIN_ERROR) == []
    assert reg.model_errors("rocketchat.LoginError", LOGIN_ERROR) == []
    assert reg.model_errors("rocketchat.AuthError", AUTH_ERROR) == []
    for endpoint_id in PROTECTED:
        assert reg.response_errors(endpoint_id, 401, AUTH_ERROR) == [], endpoint_id
        # the 7.x and 8.x bodies of the version profiles
        assert reg.response_errors(endpoint_id, 401, {"success": False, "error": AUTH_ERROR["message"]}) == [], endpoint_id
        assert reg.response_errors(endpoint_id, 401, {"success": False, "error": "x", **AUTH_ERROR}) == [], endpoint_id
        assert reg.response_errors(endpoint_id, 401, {"success": True, "error": "x"}), endpoint_id
        assert reg.response_errors(endpoint_id, 401, {"success": False}), endpoint_id
    # the login failure carries `error`; the generic body does not, so it is no login 401
    assert reg.response_errors("rocketchat.login", 401, AUTH_ERROR)
    assert reg.response_errors("rocketchat.login", 401, {**LOGIN_ERROR, "status": "success"})
    assert reg.response_errors("rocketchat.me", 401, {"message": "You must be logged in to do this."})
    assert reg.response_errors("rocketchat.login", 401, {"success": False, "error": "unauthorized"}) == []  # 8.0
    assert reg.response_errors("rocketchat.login", 401, {"success": False, **LOGIN_ERROR}) == []  # 7.x


@pytest.mark.parametrize(
    "name",
    [
        "rocketchat.chat.sendMessage.400.invalid-params.json",
        "rocketchat.chat.sendMessage.400.rid-missing.json",
        "rocketchat.chat.sendMessage.400.invalid-room.json",
        "rocketchat.chat.postMessage.400.json",
        "rocketchat.channels.history.400.room-not-found.json",
        "rocketchat.channels.history.400.roomid-param-not-provided.json",
        "rocketchat.chat.update.400.json",
    ],
)
def test_400_bodies_say_success_false(reg: Registry, name: str) -> None:
    endpoint_id = name.split(".400", maxsplit=1)[0]
    body = fixture(name)
    assert reg.response_errors(endpoint_id, 400, body) == []
    assert body["success"] is False
    if "errorType" in body:
        assert body["error"].endswith(f"[{body['errorType']}]")
    assert reg.response_errors(endpoint_id, 400, {**body, "success": True})
    assert reg.response_errors(endpoint_id, 400, changed(body, lambda b: b.pop("error")))
    assert reg.response_errors(endpoint_id, 400, {**body, "errorType": 400})


def test_documented_400_cases_carry_their_error_type(reg: Registry) -> None:
    codes = {case.code for case in reg.endpoint("rocketchat.chat.sendMessage").errors if case.status == 400}
    assert {"error-invalid-params", "error-invalid-room"} <= codes
    for endpoint_id in ENDPOINT_IDS:
        for case in reg.endpoint(endpoint_id).errors:
            if case.body is not None:
                assert reg.response_errors(endpoint_id, case.status, thaw(case.body)) == [], (endpoint_id, case)
                if case.status == 400 and case.code is not None:
                    assert case.body.get("errorType", case.body["error"]) == case.code


# ids ------------------------------------------------------------------------------
def test_messages_use_underscore_id_rid_and_u(reg: Registry) -> None:
    assert reg.model_errors("rocketchat.Message", MESSAGE) == []
    assert {"_id", "rid", "u"} <= set(MESSAGE)
    with_id = changed(MESSAGE, lambda m: m.update(id=m.pop("_id")))
    assert reg.model_errors("rocketchat.Message", with_id)
    assert reg.response_errors("rocketchat.chat.postMessage", 200, {**POST_OK, "message": with_id})
    assert reg.model_errors("rocketchat.Message", changed(MESSAGE, lambda m: m.update(room_id=m.pop("rid"))))
    assert reg.model_errors("rocketchat.Message", changed(MESSAGE, lambda m: m.update(user=m.pop("u"))))
    assert reg.model_errors("rocketchat.Message", changed(MESSAGE, lambda m: m["u"].update(id=m["u"].pop("_id"))))
    assert reg.model_errors("rocketchat.Message", {**MESSAGE, "ts": 1481748965117})
    assert reg.model_errors("rocketchat.Message", {**MESSAGE, "ts": "2016-12-14T20:56:05Z"})


def test_rooms_users_and_me_use_underscore_id(reg: Registry) -> None:
    room = ROOMS_OK["update"][0]
    user = USERS_OK["users"][0]
    assert reg.model_errors("rocketchat.Room", room) == []
    assert reg.model_errors("rocketchat.Room", changed(room, lambda r: r.update(id=r.pop("_id"))))
    assert reg.model_errors("rocketchat.Room", {**room, "t": "x"})
    assert reg.model_errors("rocketchat.User", user) == []
    assert reg.model_errors("rocketchat.User", changed(user, lambda u: u.update(id=u.pop("_id"))))
    assert reg.model_errors("rocketchat.User", {**user, "status": "invisible"})
    assert reg.model_errors("rocketchat.Me", changed(ME, lambda m: m.update(id=m.pop("_id"))))


# chat.sendMessage: the seed payload ---------------------------------------------------
def test_seed_send_message_payload_is_a_valid_request(reg: Registry) -> None:
    assert reg.request_errors("rocketchat.chat.sendMessage", SEED_SEND) == []
    attachment = SEED_SEND["message"]["attachments"][0]
    assert len(attachment["fields"]) == 2
    assert reg.model_errors("rocketchat.Attachment", attachment) == []


@pytest.mark.parametrize("key", ["title", "value"])
def test_attachment_field_needs_title_and_value(reg: Registry, key: str) -> None:
    broken = changed(SEED_SEND, lambda p: p["message"]["attachments"][0]["fields"][1].pop(key))
    errors = reg.request_errors("rocketchat.chat.sendMessage", broken)
    assert errors
    assert any(key in error for error in errors)


def test_send_message_needs_message_and_rid(reg: Registry) -> None:
    assert reg.request_errors("rocketchat.chat.sendMessage", {"message": {"rid": "GENERAL", "msg": "line 1\nline 2"}}) == []
    assert reg.request_errors("rocketchat.chat.sendMessage", changed(SEED_SEND, lambda p: p["message"].pop("rid")))
    assert reg.request_errors("rocketchat.chat.sendMessage", {"rid": "GENERAL", "msg": "flat"})
    assert reg.request_errors("rocketchat.chat.sendMessage", changed(SEED_SEND, lambda p: p["message"].update(attachments={})))
    assert reg.request_errors(
        "rocketchat.chat.sendMessage", changed(SEED_SEND, lambda p: p["message"]["attachments"][0].update(collapsed="no"))
    )


# login encodings, postMessage ts ----------------------------------------------------
def test_login_accepts_form_and_json(reg: Registry) -> None:
    login = reg.endpoint("rocketchat.login")
    assert set(login.params_in) == {"json", "form"}
    assert login.methods == ("POST",)
    accepted = (
        {"user": "rocket.cat", "password": "secret"},
        {"user": "test@rocket.test", "password": "vanvica32", "code": "123456"},
        {"resume": "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq"},
    )
    for params in accepted:
        assert reg.request_errors("rocketchat.login", params) == [], params
    assert reg.request_errors("rocketchat.login", {"user": "rocket.cat"})
    assert reg.request_errors("rocketchat.login", {"password": "secret"})
    assert reg.request_errors("rocketchat.login", {"username": "rocket.cat", "pass": "secret"})
    for endpoint_id in PROTECTED:
        assert reg.endpoint(endpoint_id).params_in in ((), ("json",), ("query",)), endpoint_id


def test_post_message_ts_is_epoch_milliseconds(reg: Registry) -> None:
    assert isinstance(POST_OK["ts"], int)
    assert isinstance(POST_OK["message"]["ts"], str)
    assert reg.response_errors("rocketchat.chat.postMessage", 200, POST_OK) == []
    assert reg.response_errors("rocketchat.chat.postMessage", 200, {**POST_OK, "ts": POST_OK["message"]["ts"]})
    assert reg.response_errors("rocketchat.chat.postMessage", 200, {**POST_OK, "ts": "1481748965123"})
    assert reg.response_errors("rocketchat.chat.postMessage", 200, {**POST_OK, "ts": 1481748965})  # seconds
    assert reg.response_errors("rocketchat.chat.postMessage", 200, {**POST_OK, "ts": 1481748965123.5})


def test_post_message_needs_room_id_or_channel(reg: Registry) -> None:
    assert reg.request_errors("rocketchat.chat.postMessage", {"roomId": "GENERAL", "text": "hi"}) == []
    assert reg.request_errors("rocketchat.chat.postMessage", {"channel": "#general", "text": "hi"}) == []
    assert reg.request_errors("rocketchat.chat.postMessage", {"channel": ["#general", "@rocket.cat"], "text": "hi"}) == []
    assert reg.request_errors("rocketchat.chat.postMessage", {"text": "hi"})
    assert reg.request_errors("rocketchat.chat.postMessage", {"roomId": "GENERAL", "parseUrls": "false"})


# one realistic broken variant per endpoint ----------------------------------------------
BROKEN_RESPONSES = [
    ("rocketchat.login", 200, changed(LOGIN_OK, lambda b: b["data"]["me"].update(roles="admin")), "roles not an array"),
    ("rocketchat.logout", 200, changed(LOGOUT_OK, lambda b: b.update(status="error")), "status not success"),
    ("rocketchat.me", 200, changed(ME, lambda b: b.pop("username")), "username missing"),
    ("rocketchat.me", 200, {**ME, "status": "sleeping"}, "status outside the enum"),
    ("rocketchat.users.list", 200, changed(USERS_OK, lambda b: b.update(total="1")), "total as a string"),
    ("rocketchat.users.list", 200, changed(USERS_OK, lambda b: b["users"][0].update(type="robot")), "user type outside the enum"),
    ("rocketchat.rooms.get", 200, changed(ROOMS_OK, lambda b: b["update"][0].update(t="channel")), "room t outside the enum"),
    ("rocketchat.rooms.get", 200, changed(ROOMS_OK, lambda b: b.pop("remove")), "remove missing"),
    ("rocketchat.chat.sendMessage", 200, changed(SEND_OK, lambda b: b["message"].pop("rid")), "message.rid missing"),
    ("rocketchat.chat.postMessage", 200, changed(POST_OK, lambda b: b.pop("channel")), "channel missing"),
    ("rocketchat.channels.history", 200, {"messages": {"0": MESSAGE}, "success": True}, "messages not an array"),
    ("rocketchat.channels.messages", 200, {"messages": [MESSAGE], "count": 1, "offset": 0, "success": True}, "total missing"),
    ("rocketchat.chat.update", 200, {"message": SEND_OK["message"], "success": True}, "editedAt/editedBy missing"),
]


@pytest.mark.parametrize(("endpoint_id", "status", "body", "why"), BROKEN_RESPONSES, ids=[f"{row[0]}-{row[3]}" for row in BROKEN_RESPONSES])
def test_broken_response_rejected(reg: Registry, endpoint_id: str, status: int, body: Any, why: str) -> None:
    assert reg.response_errors(endpoint_id, status, body), why


BROKEN_REQUESTS = [
    ("rocketchat.users.list", {"count": "fifty"}, "count not digits"),
    ("rocketchat.users.list", {"email": ""}, "empty email"),
    ("rocketchat.rooms.get", {"updatedSince": "yesterday"}, "updatedSince not ISO"),
    ("rocketchat.channels.history", {"count": "20"}, "neither roomId nor roomName"),
    ("rocketchat.channels.history", {"roomId": "GENERAL", "inclusive": "yes"}, "inclusive outside the enum"),
    ("rocketchat.channels.messages", {"roomName": "general"}, "roomId missing"),
    ("rocketchat.channels.messages", {"roomId": "GENERAL", "offset": "-1"}, "negative offset"),
    ("rocketchat.chat.update", {"roomId": "GENERAL", "text": "edited"}, "msgId missing"),
    ("rocketchat.chat.update", {"roomId": "GENERAL", "msgId": "LnCSJxxNkCy6K9X8X", "text": 42}, "text not a string"),
]


@pytest.mark.parametrize(("endpoint_id", "params", "why"), BROKEN_REQUESTS, ids=[f"{row[0]}-{row[2]}" for row in BROKEN_REQUESTS])
def test_broken_request_rejected(reg: Registry, endpoint_id: str, params: Any, why: str) -> None:
    assert reg.request_errors(endpoint_id, params), why


def test_valid_query_requests(reg: Registry) -> None:
    assert reg.request_errors("rocketchat.users.list", {"count": "50", "offset": "0", "sort": '{"status":1}'}) == []
    assert reg.request_errors("rocketchat.rooms.get", {"updatedSince": "2017-11-25T15:08:17.248Z"}) == []
    assert (
        reg.request_errors(
            "rocketchat.channels.history", {"roomName": "general", "latest": "2016-09-30T13:42:25.304Z", "inclusive": "true"}
        )
        == []
    )
    assert reg.request_errors("rocketchat.channels.messages", {"roomId": "GENERAL", "pinned": "false", "count": "50"}) == []


# second witness: the official OpenAPI examples -----------------------------------------------
# (yaml file, OpenAPI path, method) -> our endpoint id
OPENAPI_OPERATIONS = {
    ("authentication.yaml", "/api/v1/login", "post"): "rocketchat.login",
    ("authentication.yaml", "/api/v1/logout", "post"): "rocketchat.logout",
    ("authentication.yaml", "/api/v1/me", "get"): "rocketchat.me",
    ("user-management.yaml", "/api/v1/users.list", "get"): "rocketchat.users.list",
    ("rooms.yaml", "/api/v1/rooms.get", "get"): "rocketchat.rooms.get",
    ("rooms.yaml", "/api/v1/channels.history", "get"): "rocketchat.channels.history",
    ("rooms.yaml", "/api/v1/channels.messages", "get"): "rocketchat.channels.messages",
    ("messaging.yaml", "/api/v1/chat.sendMessage", "post"): "rocketchat.chat.sendMessage",
    ("messaging.yaml", "/api/v1/chat.postMessage", "post"): "rocketchat.chat.postMessage",
    ("messaging.yaml", "/api/v1/chat.update", "post"): "rocketchat.chat.update",
    ("rooms.yaml", "/api/v1/channels.addLeader", "post"): "rocketchat.channels.addLeader",
    ("rooms.yaml", "/api/v1/channels.addModerator", "post"): "rocketchat.channels.addModerator",
    ("rooms.yaml", "/api/v1/channels.addOwner", "post"): "rocketchat.channels.addOwner",
    ("rooms.yaml", "/api/v1/channels.archive", "post"): "rocketchat.channels.archive",
    ("rooms.yaml", "/api/v1/channels.create", "post"): "rocketchat.channels.create",
    ("rooms.yaml", "/api/v1/channels.delete", "post"): "rocketchat.channels.delete",
    ("rooms.yaml", "/api/v1/channels.info", "get"): "rocketchat.channels.info",
    ("rooms.yaml", "/api/v1/channels.invite", "post"): "rocketchat.channels.invite",
    ("rooms.yaml", "/api/v1/channels.join", "post"): "rocketchat.channels.join",
    ("rooms.yaml", "/api/v1/channels.kick", "post"): "rocketchat.channels.kick",
    ("rooms.yaml", "/api/v1/channels.leave", "post"): "rocketchat.channels.leave",
    ("rooms.yaml", "/api/v1/channels.list", "get"): "rocketchat.channels.list",
    ("rooms.yaml", "/api/v1/channels.list.joined", "get"): "rocketchat.channels.list.joined",
    ("rooms.yaml", "/api/v1/channels.members", "get"): "rocketchat.channels.members",
    ("rooms.yaml", "/api/v1/channels.removeLeader", "post"): "rocketchat.channels.removeLeader",
    ("rooms.yaml", "/api/v1/channels.removeModerator", "post"): "rocketchat.channels.removeModerator",
    ("rooms.yaml", "/api/v1/channels.removeOwner", "post"): "rocketchat.channels.removeOwner",
    ("rooms.yaml", "/api/v1/channels.rename", "post"): "rocketchat.channels.rename",
    ("rooms.yaml", "/api/v1/channels.setAnnouncement", "post"): "rocketchat.channels.setAnnouncement",
    ("rooms.yaml", "/api/v1/channels.setDescription", "post"): "rocketchat.channels.setDescription",
    ("rooms.yaml", "/api/v1/channels.setJoinCode", "post"): "rocketchat.channels.setJoinCode",
    ("rooms.yaml", "/api/v1/channels.setReadOnly", "post"): "rocketchat.channels.setReadOnly",
    ("rooms.yaml", "/api/v1/channels.setTopic", "post"): "rocketchat.channels.setTopic",
    ("rooms.yaml", "/api/v1/channels.unarchive", "post"): "rocketchat.channels.unarchive",
    ("rooms.yaml", "/api/v1/groups.addLeader", "post"): "rocketchat.groups.addLeader",
    ("rooms.yaml", "/api/v1/groups.addModerator", "post"): "rocketchat.groups.addModerator",
    ("rooms.yaml", "/api/v1/groups.addOwner", "post"): "rocketchat.groups.addOwner",
    ("rooms.yaml", "/api/v1/groups.archive", "post"): "rocketchat.groups.archive",
    ("rooms.yaml", "/api/v1/groups.create", "post"): "rocketchat.groups.create",
    ("rooms.yaml", "/api/v1/groups.delete", "post"): "rocketchat.groups.delete",
    ("rooms.yaml", "/api/v1/groups.history", "get"): "rocketchat.groups.history",
    ("rooms.yaml", "/api/v1/groups.info", "get"): "rocketchat.groups.info",
    ("rooms.yaml", "/api/v1/groups.invite", "post"): "rocketchat.groups.invite",
    ("rooms.yaml", "/api/v1/groups.kick", "post"): "rocketchat.groups.kick",
    ("rooms.yaml", "/api/v1/groups.leave", "post"): "rocketchat.groups.leave",
    ("rooms.yaml", "/api/v1/groups.list", "get"): "rocketchat.groups.list",
    ("rooms.yaml", "/api/v1/groups.members", "get"): "rocketchat.groups.members",
    ("rooms.yaml", "/api/v1/groups.removeLeader", "post"): "rocketchat.groups.removeLeader",
    ("rooms.yaml", "/api/v1/groups.removeModerator", "post"): "rocketchat.groups.removeModerator",
    ("rooms.yaml", "/api/v1/groups.removeOwner", "post"): "rocketchat.groups.removeOwner",
    ("rooms.yaml", "/api/v1/groups.rename", "post"): "rocketchat.groups.rename",
    ("rooms.yaml", "/api/v1/groups.setAnnouncement", "post"): "rocketchat.groups.setAnnouncement",
    ("rooms.yaml", "/api/v1/groups.setDescription", "post"): "rocketchat.groups.setDescription",
    ("rooms.yaml", "/api/v1/groups.setReadOnly", "post"): "rocketchat.groups.setReadOnly",
    ("rooms.yaml", "/api/v1/groups.setTopic", "post"): "rocketchat.groups.setTopic",
    ("rooms.yaml", "/api/v1/groups.unarchive", "post"): "rocketchat.groups.unarchive",
    ("user-management.yaml", "/api/v1/users.create", "post"): "rocketchat.users.create",
    ("user-management.yaml", "/api/v1/users.update", "post"): "rocketchat.users.update",
    ("user-management.yaml", "/api/v1/users.delete", "post"): "rocketchat.users.delete",
    ("user-management.yaml", "/api/v1/users.setAvatar", "post"): "rocketchat.users.setAvatar",
    ("user-management.yaml", "/api/v1/users.register", "post"): "rocketchat.users.register",
    ("user-management.yaml", "/api/v1/users.createToken", "post"): "rocketchat.users.createToken",
    ("rooms.yaml", "/api/v1/subscriptions.get", "get"): "rocketchat.subscriptions.get",
    ("rooms.yaml", "/api/v1/subscriptions.read", "post"): "rocketchat.subscriptions.read",
    ("rooms.yaml", "/api/v1/rooms.info", "get"): "rocketchat.rooms.info",
    ("rooms.yaml", "/api/v1/rooms.leave", "post"): "rocketchat.rooms.leave",
    ("messaging.yaml", "/api/v1/dm.history", "get"): "rocketchat.dm.history",
    ("messaging.yaml", "/api/v1/dm.list", "get"): "rocketchat.dm.list",
    ("settings.yaml", "/api/v1/settings/{_id}", "get"): "rocketchat.settings.get",
    ("settings.yaml", "/api/v1/settings/{_id}", "post"): "rocketchat.settings.update",
    ("messaging.yaml", "/api/v1/chat.react", "post"): "rocketchat.chat.react",
    ("messaging.yaml", "/api/v1/chat.delete", "post"): "rocketchat.chat.delete",
    ("messaging.yaml", "/api/v1/chat.getMessage", "get"): "rocketchat.chat.getMessage",
    ("messaging.yaml", "/api/v1/dm.create", "post"): "rocketchat.dm.create",
    ("user-management.yaml", "/api/v1/users.info", "get"): "rocketchat.users.info",
    ("user-management.yaml", "/api/v1/users.getPresence", "get"): "rocketchat.users.getPresence",
    ("rooms.yaml", "/api/v1/channels.open", "post"): "rocketchat.channels.open",
    ("rooms.yaml", "/api/v1/channels.close", "post"): "rocketchat.channels.close",
    ("rooms.yaml", "/api/v1/groups.open", "post"): "rocketchat.groups.open",
    ("rooms.yaml", "/api/v1/groups.close", "post"): "rocketchat.groups.close",
    ("rooms.yaml", "/api/v1/channels.addAll", "post"): "rocketchat.channels.addAll",
    ("rooms.yaml", "/api/v1/channels.setType", "post"): "rocketchat.channels.setType",
    ("rooms.yaml", "/api/v1/groups.messages", "get"): "rocketchat.groups.messages",
    ("rooms.yaml", "/api/v1/directory", "get"): "rocketchat.directory",
    ("messaging.yaml", "/api/v1/chat.getMentionedMessages", "get"): "rocketchat.chat.getMentionedMessages",
    ("messaging.yaml", "/api/v1/chat.syncMessages", "get"): "rocketchat.chat.syncMessages",
    ("messaging.yaml", "/api/v1/chat.getThreadsList", "get"): "rocketchat.chat.getThreadsList",
    ("messaging.yaml", "/api/v1/chat.getThreadMessages", "get"): "rocketchat.chat.getThreadMessages",
    ("messaging.yaml", "/api/v1/dm.list.everyone", "get"): "rocketchat.dm.list.everyone",
    ("miscellaneous.yaml", "/api/v1/spotlight", "get"): "rocketchat.spotlight",
    ("miscellaneous.yaml", "/api/v1/commands.list", "get"): "rocketchat.commands.list",
    ("miscellaneous.yaml", "/api/v1/commands.get", "get"): "rocketchat.commands.get",
    ("statistics.yaml", "/api/v1/statistics", "get"): "rocketchat.statistics",
    ("user-management.yaml", "/api/v1/permissions.listAll", "get"): "rocketchat.permissions.listAll",
    ("user-management.yaml", "/api/v1/permissions.update", "post"): "rocketchat.permissions.update",
    ("integrations.yaml", "/api/v1/webdav.getMyAccounts", "get"): "rocketchat.webdav.getMyAccounts",
    ("integrations.yaml", "/api/v1/integrations.create", "post"): "rocketchat.integrations.create",
    ("integrations.yaml", "/api/v1/integrations.list", "get"): "rocketchat.integrations.list",
    ("rooms.yaml", "/api/v1/rooms.cleanHistory", "post"): "rocketchat.rooms.cleanHistory",
    ("rooms.yaml", "/api/v1/groups.setType", "post"): "rocketchat.groups.setType",
    ("miscellaneous.yaml", "/api/v1/commands.run", "post"): "rocketchat.commands.run",
}


def _deref(document: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _openapi_examples() -> list[tuple[str, str, int | None, Any]]:
    """(endpoint id, example label, status or None for a request body, value)."""
    yaml = pytest.importorskip("yaml")
    found: list[tuple[str, str, int | None, Any]] = []
    documents: dict[str, dict] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the YAML files are large
    for (file, path, method), endpoint_id in OPENAPI_OPERATIONS.items():
        if file not in documents:
            documents[file] = yaml.load((OPENAPI / file).read_text(encoding="utf-8"), Loader=loader)
        document = documents[file]
        operation = document["paths"][path][method]
        body = _deref(document, operation.get("requestBody", {}))
        for name, example in body.get("content", {}).get("application/json", {}).get("examples", {}).items():
            found.append((endpoint_id, f"request {name}", None, _deref(document, example)["value"]))
        for status, response in operation["responses"].items():
            content = _deref(document, response).get("content", {}).get("application/json", {})
            for name, example in content.get("examples", {}).items():
                found.append((endpoint_id, f"{status} {name}", int(status), _deref(document, example)["value"]))
    return found


# official examples the real server refuses, and so does the mock (with the reason)
REFUSED_EXAMPLES = {
    ("rocketchat.chat.postMessage", "request Example"): "carries both roomId and channel; ChatPostMessageSchema is a oneOf",
}


@pytest.mark.skipif(not OPENAPI.is_dir(), reason="shared/reference/rocketchat-openapi is not beside this checkout")
def test_official_openapi_examples_are_accepted(reg: Registry) -> None:
    examples = _openapi_examples()
    endpoints_with_examples = {endpoint_id for endpoint_id, _, _, _ in examples}
    assert set(ENDPOINT_IDS) <= endpoints_with_examples <= {endpoint.id for endpoint in reg.endpoints_of("rocketchat")}
    failures = []
    for endpoint_id, label, status, raw in examples:
        value = json.loads(json.dumps(raw, default=str))
        if status is None:
            errors = reg.request_errors(endpoint_id, value)
        else:
            assert status in reg.endpoint(endpoint_id).responses, f"{endpoint_id}: OpenAPI documents {status}, the schema does not"
            errors = reg.response_errors(endpoint_id, status, value)
        if (endpoint_id, label) in REFUSED_EXAMPLES:
            assert errors, f"{endpoint_id} {label}: {REFUSED_EXAMPLES[endpoint_id, label]}, yet accepted"
        elif errors:
            failures.append((endpoint_id, label, errors[:2]))
    assert failures == []
