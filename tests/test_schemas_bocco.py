"""BOCCO-specific schema tests (models of the seed doctests, enums, dates, statuses).

Ground truth: shared/api/bocco.md and seed 003_caf86ae2eae10d61.txt (bocco library docs with
model doctests). Generic checks (every fixture validates, meta-schemas, hypothesis round trip)
live in tests/test_schemas.py.
"""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest

from mockserver.core.registry import Registry, load_registry, thaw

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "bocco"


def fx(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load_registry()


USER = fx("bocco.User.model.json")
MESSAGE = fx("bocco.Message.model.json")
ROOM = fx("bocco.Room.model.json")
ROOM_USER = fx("bocco.RoomUser.model.json")
SESSION = fx("bocco.Session.model.json")
ERROR = fx("bocco.ApiErrorBody.model.json")

REQUIRED = {
    # exactly the non-Optional keys of the seed's schema reprs
    "bocco.User": (USER, ["uuid", "user_type", "nickname", "seller"]),
    "bocco.RoomUser": (ROOM_USER, ["read_id", "joined_at", "user"]),
    "bocco.Room": (ROOM, ["uuid", "name", "updated_at", "members", "sensors", "messages"]),
    "bocco.Message": (
        MESSAGE,
        ["id", "dictated", "unique_id", "media", "audio", "message_type", "text", "image", "sender", "date", "user"],
    ),
    "bocco.Session": (SESSION, ["access_token", "uuid"]),
    "bocco.ApiErrorBody": (ERROR, ["code", "message"]),
}


def without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    del out[key]
    return out


def with_(obj: dict[str, Any], **kw: Any) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out.update(kw)
    return out


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("model", sorted(REQUIRED))
def test_seed_doctest_instances_are_valid(reg: Registry, model: str) -> None:
    instance, _ = REQUIRED[model]
    assert reg.model_errors(model, instance) == []


@pytest.mark.parametrize(("model", "field"), [(m, f) for m in sorted(REQUIRED) for f in REQUIRED[m][1]])
def test_every_required_field_is_required(reg: Registry, model: str, field: str) -> None:
    instance, _ = REQUIRED[model]
    assert reg.model_errors(model, without(instance, field)) != []


def test_required_sets_match_the_seed_exactly(reg: Registry) -> None:
    for model, (_, fields) in REQUIRED.items():
        assert sorted(reg.model(model).schema["required"]) == sorted(fields), model


def test_user_optional_fields_and_extra_keys(reg: Registry) -> None:
    bare = without(without(USER, "address"), "icon")
    assert reg.model_errors("bocco.User", bare) == []
    # ignore_extra_keys=True in the library: extra keys pass
    assert reg.model_errors("bocco.User", with_(USER, extra="x")) == []
    assert reg.model_errors("bocco.Message", with_(MESSAGE, detail=None)) == []
    # icon is a URL or ''
    assert reg.model_errors("bocco.User", with_(USER, icon="")) == []
    assert reg.model_errors("bocco.User", with_(USER, icon="ftp://example.com/i.png")) != []
    assert reg.model_errors("bocco.User", with_(USER, address=12)) != []


def test_nickname_shorter_than_120(reg: Registry) -> None:
    assert reg.model_errors("bocco.User", with_(USER, nickname="")) == []
    assert reg.model_errors("bocco.User", with_(USER, nickname="あ" * 119)) == []
    assert reg.model_errors("bocco.User", with_(USER, nickname="あ" * 120)) != []


def test_room_name_non_empty_and_shorter_than_120(reg: Registry) -> None:
    assert reg.model_errors("bocco.Room", with_(ROOM, name="x")) == []
    assert reg.model_errors("bocco.Room", with_(ROOM, name="")) != []
    assert reg.model_errors("bocco.Room", with_(ROOM, name="x" * 120)) != []


def test_room_members_are_not_validated(reg: Registry) -> None:
    # the seed doctest's member has the invalid uuid 'u7b44ddd8-...' and is accepted
    assert ROOM["members"][0]["user"]["uuid"].startswith("u7b44ddd8-")
    assert reg.model_errors("bocco.Room", ROOM) == []
    for members in (None, [], [{"nothing": "checked"}], "garbage"):
        assert reg.model_errors("bocco.Room", with_(ROOM, members=members)) == [], members
    # ...whereas the same member on its own is not a valid RoomUser
    assert reg.model_errors("bocco.RoomUser", ROOM["members"][0]) != []


def test_room_sensors_and_messages_are_validated(reg: Registry) -> None:
    bad_sensor = with_(ROOM["sensors"][0], uuid="u0af1c101-3b7d-40a8-9e63-bf03f2dda6c4")
    assert reg.model_errors("bocco.Room", with_(ROOM, sensors=[bad_sensor])) != []
    assert reg.model_errors("bocco.Room", with_(ROOM, sensors=None)) != []
    bad_message = without(ROOM["messages"][0], "dictated")
    assert reg.model_errors("bocco.Room", with_(ROOM, messages=[bad_message])) != []
    assert reg.model_errors("bocco.Room", with_(ROOM, messages=None)) != []
    assert reg.model_errors("bocco.Room", with_(ROOM, sensors=[], messages=[])) == []


def test_session_and_error_body_types(reg: Registry) -> None:
    assert reg.model_errors("bocco.Session", with_(SESSION, uuid="not-a-uuid")) != []
    assert reg.model_errors("bocco.Session", with_(SESSION, access_token=123)) != []
    assert reg.model_errors("bocco.ApiErrorBody", {"code": 401001, "message": "Unauthorized"}) == []
    assert reg.model_errors("bocco.ApiErrorBody", {"code": "401001", "message": "Unauthorized"}) != []
    assert reg.model_errors("bocco.ApiErrorBody", {"code": 401001, "message": None}) != []


# --------------------------------------------------------------------------- enums

ENUMS = {
    "UserType": ["bocco", "human", "sensor_door", "sensor_lock", "unknown"],
    "MessageMedia": ["audio", "image", "stamp", "text", "unknown"],
    "MessageType": ["normal", "system.human_joined", "system.sensor_joined", "unknown"],
}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enum_definitions_carry_exactly_the_seed_values(reg: Registry, name: str) -> None:
    assert sorted(reg.model(f"bocco.{name}").schema["enum"]) == sorted(ENUMS[name])
    for value in ENUMS[name]:
        assert reg.model_errors(f"bocco.{name}", value) == []
    for bad in ("sensor_fire", "", "NORMAL", "system_human_joined", 1, None):
        assert reg.model_errors(f"bocco.{name}", bad) != [], bad


def test_model_fields_fall_back_to_unknown_instead_of_failing(reg: Registry) -> None:
    # seed repr: Or(Enum, Use(Enum), Use(<lambda>)) -- the lambda maps any value to `unknown`
    assert reg.model_errors("bocco.User", with_(USER, user_type="sensor_fire")) == []
    assert reg.model_errors("bocco.Message", with_(MESSAGE, media="video")) == []
    assert reg.model_errors("bocco.Message", with_(MESSAGE, message_type="system.bot_left")) == []
    # the definitions stay strict for the same values
    assert reg.model_errors("bocco.UserType", "sensor_fire") != []
    assert reg.model_errors("bocco.MessageMedia", "video") != []
    # inferred: a non-string is still rejected
    assert reg.model_errors("bocco.User", with_(USER, user_type=3)) != []
    assert reg.model_errors("bocco.Message", with_(MESSAGE, media=None)) != []


# --------------------------------------------------------------------------- dates and ids

GOOD_DATES = ["2015-07-31T21:47:46+09:00", "2015-07-16T02:54:59Z", "2016-03-02 11:00:59", "2011-02-03"]
BAD_DATES = ["yesterday", "2016/03/02 11:00:59", "2016-13-02", "2016-03-02T11:00", "31/07/2015", "", 1456887659]


@pytest.mark.parametrize("value", GOOD_DATES)
def test_all_four_date_formats_are_accepted(reg: Registry, value: Any) -> None:
    assert reg.model_errors("bocco.Message", with_(MESSAGE, date=value)) == []
    assert reg.model_errors("bocco.RoomUser", with_(ROOM_USER, joined_at=value)) == []
    assert reg.model_errors("bocco.Room", with_(ROOM, updated_at=value)) == []


@pytest.mark.parametrize("value", BAD_DATES)
def test_garbage_dates_are_rejected(reg: Registry, value: Any) -> None:
    assert reg.model_errors("bocco.Message", with_(MESSAGE, date=value)) != []
    assert reg.model_errors("bocco.Room", with_(ROOM, updated_at=value)) != []


@pytest.mark.parametrize("sender", ["mash", "u7b44ddd8-d1b0-4666-a11d-4dac68068ebd", "", 42, "0a0f6b39ac6347319c94756ae80dd0b9x"])
def test_message_sender_must_be_a_uuid(reg: Registry, sender: Any) -> None:
    assert reg.model_errors("bocco.Message", with_(MESSAGE, sender=sender)) != []


def test_uuids_upper_and_lower_case(reg: Registry) -> None:
    assert reg.model_errors("bocco.Message", with_(MESSAGE, unique_id="1DB34B93-0DFA-4150-AEF5-CBED1F8220C3")) == []
    assert reg.model_errors("bocco.Message", with_(MESSAGE, unique_id="F7827189-...")) != []


# --------------------------------------------------------------------------- endpoints

ALL_IDS = [
    "bocco.sessions.create",
    "bocco.rooms.joined",
    "bocco.rooms.messages.list",
    "bocco.rooms.messages.create",
    "bocco.rooms.subscribe",
    "bocco.rooms.messages.read",
    "bocco.messages.download",
    "bocco.media.download",
]


def test_endpoint_records(reg: Registry) -> None:
    expected = {
        "bocco.sessions.create": ("POST", "/alpha/sessions", "json", "none"),
        "bocco.rooms.joined": ("GET", "/alpha/rooms/joined", "json", "access_token"),
        "bocco.rooms.messages.list": ("GET", "/alpha/rooms/{room_id}/messages", "json", "access_token"),
        "bocco.rooms.messages.create": ("POST", "/alpha/rooms/{room_id}/messages", "json", "access_token"),
        "bocco.rooms.subscribe": ("GET", "/alpha/rooms/{room_id}/subscribe", "longpoll", "access_token"),
        "bocco.rooms.messages.read": ("POST", "/alpha/rooms/{room_id}/messages/{message_id}/read", "json", "access_token"),
        "bocco.messages.download": ("GET", "/alpha/messages/{unique_id}.{extname}", "binary", "access_token"),
        "bocco.media.download": ("GET", "/1/messages/{id}.{ext}", "binary", "access_token"),
    }
    assert sorted(expected) == sorted(ALL_IDS)
    for eid, (method, path, kind, auth) in expected.items():
        ep = reg.endpoint(eid)
        auth_name = ep.auth.name if ep.auth is not None else "none"
        assert (ep.methods[0], ep.path, ep.kind, auth_name) == (method, path, kind, auth), eid


def test_access_token_is_a_param_scheme_not_a_request_param(reg: Registry) -> None:
    scheme = reg.api("bocco").auth["access_token"]
    assert (scheme.type, scheme.param) == ("param", "access_token")
    assert {"query", "form"} <= set(scheme.param_in)
    for eid in ALL_IDS:
        ep = reg.endpoint(eid)
        if ep.params_schema is not None:
            assert "access_token" not in ep.params_schema.get("properties", {}), eid


def test_error_bodies_with_string_code_rejected_everywhere(reg: Registry) -> None:
    for eid in ALL_IDS:
        ep = reg.endpoint(eid)
        for status in ep.responses:
            if status < 400:
                continue
            body_ok = {"code": status * 1000 + 1, "message": "x"}
            assert reg.response_errors(eid, status, body_ok) == [], (eid, status)
            assert reg.response_errors(eid, status, {"code": str(status * 1000 + 1), "message": "x"}) != [], (eid, status)
            assert reg.response_errors(eid, status, {"code": status * 1000 + 1}) != [], (eid, status)


def test_every_documented_error_body_validates(reg: Registry) -> None:
    for eid in ALL_IDS:
        for case in reg.endpoint(eid).errors:
            if case.body is not None:
                assert reg.response_errors(eid, case.status, thaw(case.body)) == [], (eid, case)


# sessions.create


def test_sessions_create(reg: Registry) -> None:
    eid = "bocco.sessions.create"
    ok = fx("bocco.sessions.create.200.json")
    assert reg.response_errors(eid, 200, ok) == []
    assert reg.response_errors(eid, 200, without(ok, "access_token")) != []
    assert reg.response_errors(eid, 200, with_(ok, uuid="e8bdc076-4045-45a7-abea-xxxxxxxxxxxx")) != []
    assert reg.response_errors(eid, 401, fx("bocco.sessions.create.401.json")) == []
    req = fx("bocco.sessions.create.request.json")
    assert reg.request_errors(eid, req) == []
    assert reg.request_errors(eid, without(req, "password")) != []
    assert reg.request_errors(eid, with_(req, apikey=1)) != []


# rooms.joined


def test_rooms_joined(reg: Registry) -> None:
    eid = "bocco.rooms.joined"
    rooms = fx("bocco.rooms.joined.200.json")
    assert reg.response_errors(eid, 200, rooms) == []
    assert reg.response_errors(eid, 200, []) == []
    # the library replaces sensors/members null by [] (bocco/api.py get_rooms)
    assert reg.response_errors(eid, 200, [with_(rooms[0], sensors=None, members=None)]) == []
    assert reg.response_errors(eid, 200, rooms[0]) != []  # an object, not an array
    assert reg.response_errors(eid, 200, [without(rooms[0], "name")]) != []
    assert reg.response_errors(eid, 200, [with_(rooms[0], name="")]) != []
    assert reg.response_errors(eid, 200, [with_(rooms[0], messages=[without(rooms[0]["messages"][0], "sender")])]) != []
    assert reg.response_errors(eid, 401, fx("bocco.rooms.joined.401.json")) == []


# rooms.messages.list


def test_rooms_messages_list(reg: Registry) -> None:
    eid = "bocco.rooms.messages.list"
    assert reg.response_errors(eid, 200, []) == []
    assert reg.response_errors(eid, 200, [MESSAGE, with_(MESSAGE, id=124)]) == []
    assert reg.response_errors(eid, 200, [with_(MESSAGE, id="123")]) != []
    assert reg.response_errors(eid, 200, [with_(MESSAGE, dictated="false")]) != []
    assert reg.response_errors(eid, 200, MESSAGE) != []
    req = fx("bocco.rooms.messages.list.request.json")
    assert reg.request_errors(eid, req) == []
    assert reg.request_errors(eid, {}) == []
    assert reg.request_errors(eid, with_(req, newer_than="abc")) != []
    assert reg.request_errors(eid, with_(req, older_than=9)) != []  # query values travel as strings
    assert reg.request_errors(eid, with_(req, read="yes")) != []


# rooms.messages.create


def test_rooms_messages_create_201_new_and_200_repeat(reg: Registry) -> None:
    eid = "bocco.rooms.messages.create"
    statuses = set(reg.endpoint(eid).responses)
    assert {200, 201} <= statuses
    assert reg.response_errors(eid, 201, MESSAGE) == []
    assert reg.response_errors(eid, 201, without(MESSAGE, "user")) != []
    repeat = fx("bocco.rooms.messages.create.200.json")
    assert reg.response_errors(eid, 200, repeat) == []
    assert reg.response_errors(eid, 200, MESSAGE) == []  # the mock's full replay also matches
    assert reg.response_errors(eid, 201, repeat) != []  # the abridged replay is not a full Message
    assert reg.response_errors(eid, 200, without(repeat, "unique_id")) != []
    assert reg.response_errors(eid, 200, with_(repeat, unique_id="F7827189-...")) != []


def test_rooms_messages_create_request(reg: Registry) -> None:
    eid = "bocco.rooms.messages.create"
    ep = reg.endpoint(eid)
    assert set(ep.params_in) == {"form", "multipart"}
    assert set(ep.files) == {"audio", "image"}
    req = fx("bocco.rooms.messages.create.request.json")
    assert reg.request_errors(eid, req) == []
    assert reg.request_errors(eid, fx("bocco.rooms.messages.create.request.audio.json")) == []
    assert reg.request_errors(eid, without(req, "unique_id")) != []
    assert reg.request_errors(eid, without(req, "media")) != []
    assert reg.request_errors(eid, with_(req, media="stamp")) != []  # only text/audio/image can be sent
    assert reg.request_errors(eid, with_(req, unique_id="not-a-uuid")) != []


# rooms.subscribe


def test_rooms_subscribe(reg: Registry) -> None:
    eid = "bocco.rooms.subscribe"
    assert reg.endpoint(eid).kind == "longpoll"
    events = fx("bocco.rooms.subscribe.200.json")
    assert reg.response_errors(eid, 200, events) == []
    assert reg.response_errors(eid, 200, events[0]) != []  # the library expects an array
    assert reg.response_errors(eid, 200, [with_(events[0], event="typing")]) != []
    assert reg.response_errors(eid, 200, [without(events[0], "body")]) != []
    assert reg.response_errors(eid, 200, [with_(events[1], event="message")]) != []  # member body is not a Message
    assert reg.model_errors("bocco.Event", events[1]) == []
    req = fx("bocco.rooms.subscribe.request.json")
    assert reg.request_errors(eid, req) == []
    assert reg.request_errors(eid, without(req, "newer_than")) != []


def test_rooms_subscribe_408_timeout(reg: Registry) -> None:
    eid = "bocco.rooms.subscribe"
    body = fx("bocco.rooms.subscribe.408.json")
    assert body == {"code": 408001, "message": "Request Timeout"}
    assert reg.response_errors(eid, 408, body) == []
    assert reg.response_errors(eid, 408, {"code": "408001", "message": "Request Timeout"}) != []
    assert reg.response_errors(eid, 408, {"code": 401001, "message": "Unauthorized"}) != []
    timeouts = [case for case in reg.endpoint(eid).errors if case.status == 408]
    assert timeouts
    assert timeouts[0].code == 408001


# rooms.messages.read


def test_rooms_messages_read(reg: Registry) -> None:
    eid = "bocco.rooms.messages.read"
    assert reg.response_errors(eid, 200, {}) == []
    assert reg.response_errors(eid, 200, []) != []
    assert reg.response_errors(eid, 200, None) != []
    path = reg.endpoint(eid).path_checker
    assert path is not None
    assert path.is_valid({"room_id": "E7607BA3-2AA0-4DEB-8959-E384B3DE82B0", "message_id": "123"})
    assert not path.is_valid({"room_id": "E7607BA3-2AA0-4DEB-8959-E384B3DE82B0", "message_id": "abc"})
    assert not path.is_valid({"room_id": "Happy Family", "message_id": "123"})


# downloads (binary)


def test_messages_download(reg: Registry) -> None:
    eid = "bocco.messages.download"
    ep = reg.endpoint(eid)
    assert ep.kind == "binary"
    assert ep.responses[200].binary is True
    path = ep.path_checker
    assert path is not None
    assert path.is_valid({"unique_id": "8C0507DD-FDA1-4229-8731-0123456789AB", "extname": "wav"})
    assert not path.is_valid({"unique_id": "8C0507DD-FDA1-4229-8731-0123456789AB", "extname": "w/av"})
    assert not path.is_valid({"unique_id": "24686", "extname": "ogg"})
    assert reg.response_errors(eid, 404, {"message": "Not Found"}) != []


def test_media_download(reg: Registry) -> None:
    eid = "bocco.media.download"
    ep = reg.endpoint(eid)
    assert ep.kind == "binary"
    assert ep.responses[200].binary is True
    assert ep.path.startswith("/1/messages/")
    path = ep.path_checker
    assert path is not None
    for pid, ext in (("24686", "ogg"), ("60", "wav"), ("23927", "png"), ("C4D86E06-2C1F-4672-988F-000000000000", "wav")):
        assert path.is_valid({"id": pid, "ext": ext}), pid
    assert not path.is_valid({"id": "abc", "ext": "ogg"})
    assert not path.is_valid({"id": "60", "ext": ""})
    assert reg.response_errors(eid, 401, {"code": "401001", "message": "Unauthorized"}) != []
