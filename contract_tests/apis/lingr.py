"""Lingr support for the generic contract tests (see :mod:`contract_tests.apis`).

Lingr authenticates with a ``session`` parameter obtained from ``session/create``; every
answer is HTTP 200 and failures are ``{"status": "error", "code", "detail"}`` (shared/api/lingr.md).
On a live target the login comes from ``CHATMOCK_LINGR_USER`` / ``_PASSWORD`` (and the
optional ``_APP_KEY``); against the mock from the default world (mockserver/apis/lingr/world.json).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract_tests.apis import Known, RequestSpec, first
from contract_tests.targets import Credential, Target

API = "lingr"
SESSION = "session"  # the auth scheme's parameter (schemas/lingr/_api.json)
# the mock's default world (mockserver/apis/lingr/world.json): used only against the mock
MOCK_LOGINS = {"alice": "alice-password", "bob": "bob-password"}
UNKNOWN_ROOM = "chatmock_no_such_room"
UNKNOWN_MESSAGE = "999999999999"
VALID_TEXT = "chatmock contract suite: a valid room/say"


class LingrError(AssertionError):
    """A call the support code needed answered with a Lingr error body."""


def ok_body(exchange: Any) -> dict[str, Any]:
    """The JSON body of an exchange that must have succeeded (``status`` "ok")."""
    body = json.loads(exchange.response.content)
    if not isinstance(body, dict) or body.get("status") != "ok":
        code = body.get("code") if isinstance(body, dict) else None
        raise LingrError(f"{exchange.endpoint.id} failed: code {code!r}")
    return body


def login_params(target: Target, user: str) -> dict[str, str]:
    """``session/create`` parameters: from the environment on a live target, the default world's on the mock."""
    if target.config.is_mock:
        if user not in MOCK_LOGINS:
            raise LookupError(f"the mock's default world has no login for {user!r}")
        return {"user": user, "password": MOCK_LOGINS[user]}
    name = target.config.secret(API, "USER")
    password = target.config.secret(API, "PASSWORD")
    if name is None or password is None:
        pytest.skip("live lingr needs CHATMOCK_LINGR_USER and CHATMOCK_LINGR_PASSWORD")
    params = {"user": name, "password": password}
    app_key = target.config.secret(API, "APP_KEY")
    if app_key is not None:
        params["app_key"] = app_key
    return params


def _hidden(params: dict[str, str]) -> Credential:
    """A credential carrying the login secrets only so failure messages scrub them
    (session/create has no auth scheme, so nothing is added to the request)."""
    return Credential({key: value for key, value in params.items() if key in ("password", "app_key")})


class LingrSupport:
    api = API
    # Calls that change what other clients see. room/subscribe and room/unsubscribe only
    # change the suite's own session's event delivery, so they run on a read-only live target.
    writes = frozenset({"lingr.room.say", "lingr.favorite.add", "lingr.favorite.remove"})

    # credentials ---------------------------------------------------------------------
    def login(self, target: Target, user: str = "alice") -> Credential:
        params = login_params(target, user)
        exchange = target.call("lingr.session.create", params, credential=_hidden(params), expect_error=False)
        body = ok_body(exchange)
        session = str(body["session"])
        return Credential({SESSION: session}, user=str(body["user"]["username"]))

    def wrong_credential(self, good: Credential) -> Credential:
        fake = "Zz9Zz9" if good.values.get(SESSION) != "Zz9Zz9" else "Yy8Yy8"  # base62 like a real session id
        return Credential({SESSION: fake}, user=good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        ok_body(target.call("lingr.session.destroy", credential=credential, expect_error=False))
        return True

    # what exists -----------------------------------------------------------------------
    def discover(self, target: Target, credential: Credential) -> Known:
        """Two requests: user/get_rooms, then room/show of every joined room (messages, members)."""
        rooms = [str(room) for room in ok_body(target.call("lingr.user.get_rooms", credential=credential, expect_error=False))["rooms"]]
        known: Known = {"room": [], "rooms": [], "message": [], "before": [], "user": []}
        if not rooms:
            return known
        shown = ok_body(target.call("lingr.room.show", {"room": ",".join(rooms)}, credential=credential, expect_error=False))["rooms"]
        shown = sorted(shown, key=lambda room: not room["messages"])  # rooms with messages first
        for room in shown:
            known["room"].append(str(room["id"]))
            for message in reversed(room["messages"]):  # newest first
                known["message"].append(str(message["id"]))
            for member in room["roster"]["members"]:
                if member["username"] not in known["user"]:
                    known["user"].append(str(member["username"]))
        known["rooms"] = list(known["room"])  # room/show's and room/subscribe's newer name of `room`
        known["before"] = list(known["message"])
        return known

    # requests --------------------------------------------------------------------------
    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        rooms = known.get("room") or []
        write_room = (known.get("_room") or rooms or [""])[0]
        if endpoint_id == "lingr.session.create":
            return RequestSpec(login_params(target, credential.user or "alice"))
        if endpoint_id in ("lingr.session.verify", "lingr.session.destroy", "lingr.user.get_rooms"):
            return RequestSpec()
        if not rooms and endpoint_id != "lingr.room.say":
            return None
        if endpoint_id == "lingr.room.show":
            return RequestSpec({"room": ",".join(rooms[:2])})
        if endpoint_id == "lingr.room.get_archives":
            before = known.get("before") or [UNKNOWN_MESSAGE]
            return RequestSpec({"room": first(known, "room"), "before": before[0], "limit": "10"})
        if endpoint_id == "lingr.room.subscribe":
            return RequestSpec({"room": ",".join(rooms)})
        if endpoint_id == "lingr.room.unsubscribe":
            return RequestSpec({"room": rooms[0]})
        if endpoint_id == "lingr.room.say":
            return RequestSpec({"room": write_room, "text": VALID_TEXT}) if write_room else None
        if endpoint_id in ("lingr.favorite.add", "lingr.favorite.remove"):
            return self._favorite_request(endpoint_id, target, credential, write_room)
        if endpoint_id == "lingr.event.observe":
            return self._observe_request(target, credential, rooms)
        return None

    def _favorite_request(self, endpoint_id: str, target: Target, credential: Credential, room: str) -> RequestSpec | None:
        """favorite/add: a message not yet favourited; favorite/remove: a favourite (made one first if needed)."""
        shown = ok_body(target.call("lingr.room.show", {"room": room}, credential=credential, expect_error=False))["rooms"][0]
        faved = {str(value) for value in shown["faved_message_ids"]}
        ids = [str(message["id"]) for message in reversed(shown["messages"])]  # newest first
        if not ids:
            said = target.call("lingr.room.say", {"room": room, "text": VALID_TEXT}, credential=credential, expect_error=False)
            ids = [str(ok_body(said)["message"]["id"])]
        if endpoint_id == "lingr.favorite.add":
            fresh = [message_id for message_id in ids if message_id not in faved]
            if not fresh:
                target.call("lingr.favorite.remove", {"message": ids[0]}, credential=credential, expect_error=False)
                fresh = ids[:1]
            return RequestSpec({"message": fresh[0]})
        favourites = [message_id for message_id in ids if message_id in faved]
        if not favourites:
            target.call("lingr.favorite.add", {"message": ids[0]}, credential=credential, expect_error=False)
            favourites = ids[:1]
        return RequestSpec({"message": favourites[0]})

    def _observe_request(self, target: Target, credential: Credential, rooms: list[str]) -> RequestSpec:
        """Subscribe to the rooms first. On the mock observe from counter 0: the presence
        events of the login are already there, so the poll answers at once; on a live
        server from the counter room/subscribe returned (it may be held until an event)."""
        body = ok_body(target.call("lingr.room.subscribe", {"room": ",".join(rooms)}, credential=credential, expect_error=False))
        counter = 0 if target.config.is_mock else int(body["counter"])
        return RequestSpec({"counter": str(counter)})

    def unknown_id_request(self, endpoint_id: str, known: Known) -> RequestSpec | None:
        if endpoint_id == "lingr.session.create":
            return RequestSpec({"user": "chatmock-no-such-user", "password": "chatmock-wrong-password"})
        if endpoint_id in ("lingr.room.show", "lingr.room.subscribe", "lingr.room.unsubscribe"):
            return RequestSpec({"room": UNKNOWN_ROOM})
        if endpoint_id == "lingr.room.get_archives":
            before = known.get("before") or [UNKNOWN_MESSAGE]
            return RequestSpec({"room": UNKNOWN_ROOM, "before": before[0], "limit": "10"})
        if endpoint_id == "lingr.room.say":
            return RequestSpec({"room": UNKNOWN_ROOM, "text": VALID_TEXT})
        if endpoint_id in ("lingr.favorite.add", "lingr.favorite.remove"):
            return RequestSpec({"message": UNKNOWN_MESSAGE})
        return None  # session/verify, session/destroy, user/get_rooms name no id; observe's counter is not an id


SUPPORT = LingrSupport()
