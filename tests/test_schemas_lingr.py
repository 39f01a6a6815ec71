"""Lingr-specific schema tests: the quirks of the Lingr API as the schemas encode them.

Ground truth: shared/api/lingr.md and seed 002_0f8f93cf6b7fe958.txt. Generic checks
(every fixture validates, meta-schemas, hypothesis round trip) live in tests/test_schemas.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.core.registry import Registry, load_registry, thaw

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lingr"

ENDPOINT_IDS = [
    "lingr.session.create",
    "lingr.session.verify",
    "lingr.session.destroy",
    "lingr.user.get_rooms",
    "lingr.room.show",
    "lingr.room.get_archives",
    "lingr.room.subscribe",
    "lingr.room.unsubscribe",
    "lingr.room.say",
    "lingr.favorite.add",
    "lingr.favorite.remove",
    "lingr.event.observe",
]
CONTENT_TYPE = "application/javascript; charset=utf-8"


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load_registry()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


SAY_OK = fixture("lingr.room.say.200.json")
MESSAGE = fixture("lingr.Message.model.json")
PRESENCE = fixture("lingr.Presence.model.json")
SHOW_OK = fixture("lingr.room.show.200.json")
OBSERVE_MESSAGE = fixture("lingr.event.observe.200.message.json")
OBSERVE_PRESENCE = fixture("lingr.event.observe.200.presence.json")
INVALID_SESSION = {"code": "invalid_session", "detail": "invalid session", "status": "error"}


def without(obj: dict, key: str) -> dict:
    out = copy.deepcopy(obj)
    del out[key]
    return out


def with_(obj: dict, **changes: Any) -> dict:
    out = copy.deepcopy(obj)
    out.update(changes)
    return out


# --------------------------------------------------------------------------- transport


def test_lingr_ids_and_models(reg: Registry) -> None:
    # the documented endpoints are all there; new ones need no edit here (CONTRIBUTING.md)
    assert set(ENDPOINT_IDS) <= {ep.id for ep in reg.endpoints_of("lingr")}
    assert sorted(m.id for m in reg.models_of("lingr")) == sorted(
        f"lingr.{name}" for name in ["Message", "Member", "Bot", "Room", "Presence", "Event", "ErrorBody"]
    )
    api = reg.api("lingr")
    assert api.content_type == CONTENT_TYPE
    assert api.error_checker.errors(INVALID_SESSION) == []
    assert api.error_checker.errors({"status": "error", "detail": "invalid session"})


@pytest.mark.parametrize("endpoint_id", ENDPOINT_IDS)
def test_every_response_is_http_200_javascript(reg: Registry, endpoint_id: str) -> None:
    ep = reg.endpoint(endpoint_id)
    assert ep.api == "lingr"
    assert set(ep.responses) == {200}, "Lingr answers HTTP 200 also for errors"
    assert ep.response(200).content_type == CONTENT_TYPE
    assert ep.errors
    assert {err.status for err in ep.errors} == {200}


def test_observe_is_get_only_longpoll_on_observe_server(reg: Registry) -> None:
    ep = reg.endpoint("lingr.event.observe")
    assert list(ep.methods) == ["GET"]
    assert ep.kind == "longpoll"
    assert ep.server.name == "observe"
    assert ep.server.url == "http://lingr.com:8080"
    assert ep.params_in == ("query",)
    for endpoint_id in ENDPOINT_IDS[:-1]:
        other = reg.endpoint(endpoint_id)
        assert set(other.methods) == {"GET", "POST"}
        assert other.server.name == "rest"
        assert other.server.url == "http://lingr.com"
        assert other.kind == "json"
        assert set(other.params_in) == {"query", "form"}


def test_auth_is_session_param_except_create(reg: Registry) -> None:
    assert reg.endpoint("lingr.session.create").auth is None
    for endpoint_id in ENDPOINT_IDS[1:]:
        auth = reg.endpoint(endpoint_id).auth
        assert auth is not None, endpoint_id
        assert (auth.type, auth.param) == ("param", "session")
        assert set(auth.param_in) == {"query", "form"}
    # the credential is not part of the parameter set
    assert reg.request_errors("lingr.room.say", {"room": "r", "text": "x"}) == []


# --------------------------------------------------------------------------- ok vs error


@pytest.mark.parametrize("endpoint_id", ENDPOINT_IDS)
def test_error_bodies_valid_on_every_endpoint(reg: Registry, endpoint_id: str) -> None:
    assert reg.response_errors(endpoint_id, 200, INVALID_SESSION) == []
    assert reg.response_errors(endpoint_id, 200, {"status": "error", "code": "not_found", "detail": "room not found"}) == []


def test_documented_error_codes(reg: Registry) -> None:
    assert (
        reg.response_errors(
            "lingr.session.create",
            200,
            {"code": "invalid_user_credentials", "detail": "invalid user and/or password", "status": "error"},
        )
        == []
    )
    codes = {e.code for e in reg.endpoint("lingr.session.create").errors}
    assert codes == {"invalid_user_credentials"}
    for endpoint_id in ENDPOINT_IDS[1:]:
        codes = {e.code for e in reg.endpoint(endpoint_id).errors}
        assert "invalid_session" in codes, endpoint_id
    assert "not_found" in {e.code for e in reg.endpoint("lingr.room.show").errors}


@pytest.mark.parametrize("endpoint_id", ENDPOINT_IDS)
def test_documented_error_bodies_validate(reg: Registry, endpoint_id: str) -> None:
    for err in reg.endpoint(endpoint_id).errors:
        if err.body is not None:
            body = thaw(err.body)
            assert body["status"] == "error"
            assert body["code"] == err.code
            assert reg.response_errors(endpoint_id, err.status, body) == []


@pytest.mark.parametrize(
    "body",
    [
        {"status": "error", "detail": "invalid session"},  # no code
        {"status": "error", "code": "invalid_session"},  # no detail
        {"status": "error", "code": 401, "detail": "invalid session"},  # code not a string
        {"status": "failed", "code": "invalid_session", "detail": "invalid session"},  # unknown status
        {"code": "invalid_session", "detail": "invalid session"},  # no status
    ],
)
def test_broken_error_bodies_rejected(reg: Registry, body: Any) -> None:
    assert reg.response_errors("lingr.room.say", 200, body)
    assert reg.model_errors("lingr.ErrorBody", body)


@pytest.mark.parametrize("endpoint_id", ENDPOINT_IDS)
def test_ok_status_with_error_keys_only_rejected(reg: Registry, endpoint_id: str) -> None:
    body = {"status": "ok", "code": "invalid_session", "detail": "invalid session"}
    assert reg.response_errors(endpoint_id, 200, body)


def test_ok_body_with_error_status_rejected(reg: Registry) -> None:
    assert reg.response_errors("lingr.room.say", 200, with_(SAY_OK, status="error"))
    assert reg.response_errors("lingr.session.destroy", 200, {"status": "error"})


# --------------------------------------------------------------------------- ids and timestamps


@pytest.mark.parametrize("bad_id", [18810887, "abc", "", "12a", None])
def test_message_id_must_be_digit_string(reg: Registry, bad_id: Any) -> None:
    assert reg.model_errors("lingr.Message", with_(MESSAGE, id=bad_id))
    assert reg.response_errors("lingr.room.say", 200, with_(SAY_OK, message=with_(MESSAGE, id=bad_id)))


def test_message_timestamp_z_only(reg: Registry) -> None:
    assert reg.model_errors("lingr.Message", MESSAGE) == []
    assert MESSAGE["timestamp"].endswith("Z")
    for ts in ["2014-09-26T03:03:08+00:00", "2014-09-26T03:03:08.123Z", "2014-09-26 03:03:08", "1411700588"]:
        assert reg.model_errors("lingr.Message", with_(MESSAGE, timestamp=ts)), ts


def test_presence_timestamp_offset_only(reg: Registry) -> None:
    assert reg.model_errors("lingr.Presence", PRESENCE) == []
    assert PRESENCE["timestamp"].endswith("+00:00")
    for ts in ["2014-09-27T00:16:20Z", "2014-09-27T00:16:20+09:00", "2014-09-27"]:
        assert reg.model_errors("lingr.Presence", with_(PRESENCE, timestamp=ts)), ts


def test_member_timestamp_z(reg: Registry) -> None:
    member = fixture("lingr.Member.model.json")
    assert reg.model_errors("lingr.Member", member) == []
    assert reg.model_errors("lingr.Member", with_(member, timestamp="2014-09-26T00:55:34+00:00"))


def test_local_id_null_or_string(reg: Registry) -> None:
    assert reg.model_errors("lingr.Message", with_(MESSAGE, local_id="pending-DmJRkc-1")) == []
    assert reg.model_errors("lingr.Message", with_(MESSAGE, local_id=None)) == []
    assert reg.model_errors("lingr.Message", with_(MESSAGE, local_id=1))
    assert reg.model_errors("lingr.Message", without(MESSAGE, "local_id"))


# --------------------------------------------------------------------------- shapes of the seed


def test_room_show_seed_shape(reg: Registry) -> None:
    assert reg.response_errors("lingr.room.show", 200, SHOW_OK) == []
    room = SHOW_OK["rooms"][0]
    assert reg.model_errors("lingr.Room", room) == []
    for key in ["id", "name", "blurb", "is_public", "faved_message_ids", "roster", "messages"]:
        assert reg.model_errors("lingr.Room", without(room, key)), key
    assert reg.model_errors("lingr.Room", with_(room, is_public="true"))
    assert reg.model_errors("lingr.Room", with_(room, roster={"members": room["roster"]["members"]}))
    assert reg.model_errors("lingr.Room", with_(room, roster={"bots": room["roster"]["bots"]}))
    assert reg.model_errors("lingr.Room", with_(room, messages=[room["messages"][0]] * 31))


def test_roster_members_and_bots(reg: Registry) -> None:
    room = SHOW_OK["rooms"][0]
    for bot in room["roster"]["bots"]:
        assert reg.model_errors("lingr.Bot", bot) == []
    bot = room["roster"]["bots"][0]
    assert reg.model_errors("lingr.Bot", with_(bot, status="retired"))
    assert reg.model_errors("lingr.Bot", without(bot, "status"))
    member = room["roster"]["members"][0]
    assert reg.model_errors("lingr.Member", member) == []
    for key in ["is_online", "is_owner", "pokeable"]:
        assert reg.model_errors("lingr.Member", with_(member, **{key: "yes"})), key
        assert reg.model_errors("lingr.Member", without(member, key)), key
    assert reg.model_errors("lingr.Member", without(member, "username"))


def test_message_shape(reg: Registry) -> None:
    for key in ["id", "nickname", "public_session_id", "room", "speaker_id", "icon_url", "text", "timestamp", "type"]:
        assert reg.model_errors("lingr.Message", without(MESSAGE, key)), key
    assert reg.model_errors("lingr.Message", with_(MESSAGE, type="admin"))
    assert reg.model_errors("lingr.Message", with_(MESSAGE, text=None))
    # real servers may add fields
    assert reg.model_errors("lingr.Message", with_(MESSAGE, favorite_id="123", extra=True)) == []


def test_faved_message_ids_digits(reg: Registry) -> None:
    room = SHOW_OK["rooms"][0]
    assert reg.model_errors("lingr.Room", with_(room, faved_message_ids=["20272306", 20272306])) == []
    assert reg.model_errors("lingr.Room", with_(room, faved_message_ids=["abc"]))


# --------------------------------------------------------------------------- observe


def test_observe_events_message_or_presence(reg: Registry) -> None:
    assert reg.response_errors("lingr.event.observe", 200, OBSERVE_MESSAGE) == []
    assert reg.response_errors("lingr.event.observe", 200, OBSERVE_PRESENCE) == []
    assert reg.model_errors("lingr.Event", OBSERVE_MESSAGE["events"][0]) == []
    assert reg.model_errors("lingr.Event", OBSERVE_PRESENCE["events"][0]) == []
    neither = {"event_id": 26032943}
    assert reg.model_errors("lingr.Event", neither)
    assert reg.response_errors("lingr.event.observe", 200, with_(OBSERVE_MESSAGE, events=[neither]))


def test_observe_counter_integer(reg: Registry) -> None:
    for bad in ["26032943", 26032943.5, None, -1]:
        assert reg.response_errors("lingr.event.observe", 200, with_(OBSERVE_MESSAGE, counter=bad)), bad
    event = OBSERVE_MESSAGE["events"][0]
    assert reg.model_errors("lingr.Event", with_(event, event_id="26032943"))
    # a bad presence status and a presence with a Z timestamp
    bad_presence = with_(OBSERVE_PRESENCE["events"][0], presence=with_(PRESENCE, status="away"))
    assert reg.model_errors("lingr.Event", bad_presence)


def test_observe_empty_poll(reg: Registry) -> None:
    assert reg.response_errors("lingr.event.observe", 200, {"status": "ok"}) == []
    assert reg.response_errors("lingr.event.observe", 200, {"status": "ok", "counter": 26032943}) == []
    # events without counter, and an empty events list, are not what the server sends
    assert reg.response_errors("lingr.event.observe", 200, without(OBSERVE_MESSAGE, "counter"))
    assert reg.response_errors("lingr.event.observe", 200, with_(OBSERVE_MESSAGE, events=[]))


# --------------------------------------------------------------------------- one broken variant per endpoint

BROKEN_RESPONSES: dict[str, list[Any]] = {
    "lingr.session.create": [
        without(fixture("lingr.session.create.200.json"), "session"),
        with_(fixture("lingr.session.create.200.json"), user={"name": "kumar8600"}),
    ],
    "lingr.session.verify": [without(fixture("lingr.session.verify.200.json"), "public_id")],
    "lingr.session.destroy": [{"status": "done"}, {}],
    "lingr.user.get_rooms": [
        {"status": "ok"},
        {"status": "ok", "rooms": [{"id": "momonga"}]},
        {"status": "ok", "rooms": "momonga,emacs"},
    ],
    "lingr.room.show": [{"status": "ok", "rooms": [without(SHOW_OK["rooms"][0], "roster")]}, {"status": "ok"}],
    "lingr.room.get_archives": [
        {"status": "ok"},
        {"status": "ok", "messages": [with_(MESSAGE, id=18810380)]},
    ],
    "lingr.room.subscribe": [{"status": "ok"}, {"status": "ok", "counter": "26018232"}],
    "lingr.room.unsubscribe": [{"status": "ok"}, {"status": "ok", "counter": 26018232}],
    "lingr.room.say": [{"status": "ok"}, with_(SAY_OK, message=without(MESSAGE, "text"))],
    "lingr.favorite.add": [{"status": "ok", "message": "20272306"}],
    "lingr.favorite.remove": [with_(SAY_OK, message=with_(MESSAGE, type="robot"))],
    "lingr.event.observe": [{"status": "ok", "counter": 1, "events": [{"message": MESSAGE}]}],
}

BROKEN_REQUESTS: dict[str, list[dict[str, Any]]] = {
    "lingr.session.create": [{"user": "kumar8600"}, {"password": "secret"}],
    "lingr.room.show": [{}, {"room": "a b"}],
    "lingr.room.get_archives": [
        {"room": "chin_chin_land"},
        {"room": "chin_chin_land", "before": "abc"},
        {"room": "chin_chin_land", "before": "1", "limit": "ten"},
    ],
    "lingr.room.subscribe": [{"room": "momonga", "reset": "yes"}, {"reset": "true"}],
    "lingr.room.unsubscribe": [{}],
    "lingr.room.say": [{"room": "chin_chin_land"}, {"text": "Chimpo"}],
    "lingr.favorite.add": [{}, {"message": "abc"}],
    "lingr.favorite.remove": [{"message": "-1"}],
    "lingr.event.observe": [{}, {"counter": "-5"}],
}


@pytest.mark.parametrize("endpoint_id", ENDPOINT_IDS)
def test_broken_response_rejected(reg: Registry, endpoint_id: str) -> None:
    for body in BROKEN_RESPONSES[endpoint_id]:
        assert reg.response_errors(endpoint_id, 200, body), body


@pytest.mark.parametrize("endpoint_id", sorted(BROKEN_REQUESTS))
def test_broken_request_rejected(reg: Registry, endpoint_id: str) -> None:
    for params in BROKEN_REQUESTS[endpoint_id]:
        assert reg.request_errors(endpoint_id, params), params


def test_room_and_rooms_both_accepted(reg: Registry) -> None:
    for endpoint_id in ["lingr.room.show", "lingr.room.subscribe"]:
        assert reg.request_errors(endpoint_id, {"room": "momonga,emacs"}) == []
        assert reg.request_errors(endpoint_id, {"rooms": "momonga,emacs"}) == []
    assert reg.request_errors("lingr.room.subscribe", {"room": "momonga", "reset": "1"}) == []


def test_create_accepts_unknown_client_params(reg: Registry) -> None:
    params = {"user": "kumar8600", "password": "secret", "api_key": "k", "api_version": "1"}
    assert reg.request_errors("lingr.session.create", params) == []
