"""Lingr support for the generic contract tests (see :mod:`contract_tests.apis`).

Lingr authenticates with a ``session`` parameter obtained from ``session/create``; every
answer is HTTP 200 and failures are ``{"status": "error", "code", "detail"}`` (schemas/lingr/
_api.json, from the seed memo 002_0f8f93cf6b7fe958.txt). On a live target the login comes
from ``CHATMOCK_LINGR_USER`` / ``_PASSWORD`` (and the optional ``_APP_KEY``); against the mock
from its world in force (``GET /__chatmock/credentials``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contract_tests.apis import ApiSupport, register
from contract_tests.specs import Context, Discovery, RequestSpec, RequestSpecs
from contract_tests.targets import Credential, Target

API = "lingr"
SESSION = "session"  # the auth scheme's parameter (schemas/lingr/_api.json)
UNKNOWN_ROOM = "chatmock_no_such_room"
UNKNOWN_MESSAGE = "999999999999"
VALID_TEXT = "chatmock contract suite: a valid room/say"

SPECS = RequestSpecs[Discovery](API, __file__)
Ctx = Context[Discovery]


class LingrCallFailed(AssertionError):
    """A call the support code needed answered with a Lingr error body."""


def ok_body(exchange: Any) -> dict[str, Any]:
    """The JSON body of an exchange that must have succeeded (``status`` "ok")."""
    body = json.loads(exchange.response.content)
    if not isinstance(body, dict) or body.get("status") != "ok":
        code = body.get("code") if isinstance(body, dict) else None
        raise LingrCallFailed(f"{exchange.endpoint.id} failed: code {code!r}")
    return body


def login_params(target: Target, user: str) -> dict[str, str]:
    """``session/create`` parameters: from the environment on a live target, the mock's own on the mock."""
    if target.config.is_mock:
        given = target.mock_credentials(API, user)
        return {"user": given["user"], "password": given["password"]}
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


class LingrSupport(ApiSupport[Discovery]):
    api = API
    live_credentials = (("USER", "PASSWORD"),)

    def login(self, target: Target, user: str = "alice") -> Credential:
        params = login_params(target, user)
        exchange = target.call("lingr.session.create", params, credential=_hidden(params), expect_error=False)
        body = ok_body(exchange)
        return Credential({SESSION: str(body["session"])}, user=str(body["user"]["username"]))

    def wrong_credential(self, good: Credential) -> Credential:
        fake = "Zz9Zz9" if good.values.get(SESSION) != "Zz9Zz9" else "Yy8Yy8"  # base62 like a real session id
        return Credential({SESSION: fake}, user=good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        ok_body(target.call("lingr.session.destroy", credential=credential, expect_error=False))
        return True

    def discover(self, target: Target, credential: Credential) -> Discovery:
        """Two requests: user/get_rooms, then room/show of every joined room (messages, members)."""
        rooms = [str(room) for room in ok_body(target.call("lingr.user.get_rooms", credential=credential, expect_error=False))["rooms"]]
        params: dict[str, list[str]] = {"room": [], "rooms": [], "message": [], "before": [], "user": []}
        if not rooms:
            return Discovery(params)
        shown = ok_body(target.call("lingr.room.show", {"room": ",".join(rooms)}, credential=credential, expect_error=False))["rooms"]
        shown = sorted(shown, key=lambda room: not room["messages"])  # rooms with messages first
        for room in shown:
            params["room"].append(str(room["id"]))
            for message in reversed(room["messages"]):  # newest first
                params["message"].append(str(message["id"]))
            for member in room["roster"]["members"]:
                if member["username"] not in params["user"]:
                    params["user"].append(str(member["username"]))
        params["rooms"] = list(params["room"])  # room/show's and room/subscribe's newer name of `room`
        params["before"] = list(params["message"])
        return Discovery(params)


def write_room(found: Discovery) -> str:
    """The configured room on a live target, else the first room of the user."""
    return found.write_room or found.first("room")


# requests that must succeed ------------------------------------------------------------------
@SPECS.request_for("lingr.session.create")
def session_create(ctx: Ctx) -> RequestSpec:
    return RequestSpec(login_params(ctx.target, ctx.credential.user or "alice"))


@SPECS.request_for("lingr.session.verify", "lingr.session.destroy", "lingr.user.get_rooms")
def session_only(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("lingr.room.show")
def room_show(ctx: Ctx) -> RequestSpec:
    ctx.found.first("room")
    return RequestSpec({"room": ",".join(ctx.found.params["room"][:2])})


@SPECS.request_for("lingr.room.get_archives")
def get_archives(ctx: Ctx) -> RequestSpec:
    before = ctx.found.params.get("before") or [UNKNOWN_MESSAGE]
    return RequestSpec({"room": ctx.found.first("room"), "before": before[0], "limit": "10"})


@SPECS.request_for("lingr.room.subscribe")
def subscribe(ctx: Ctx) -> RequestSpec:
    ctx.found.first("room")
    return RequestSpec({"room": ",".join(ctx.found.params["room"])})


@SPECS.request_for("lingr.room.unsubscribe")
def unsubscribe(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"room": ctx.found.first("room")})


@SPECS.request_for("lingr.room.say", writes=True)
def say(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"room": write_room(ctx.found), "text": VALID_TEXT})


def _favourites(ctx: Ctx) -> tuple[list[str], set[str]]:
    """The ids of the write room's messages (newest first; one said if there is none) and its favourites."""
    room = write_room(ctx.found)
    target, credential = ctx.target, ctx.credential
    shown = ok_body(target.call("lingr.room.show", {"room": room}, credential=credential, expect_error=False))["rooms"][0]
    ids = [str(message["id"]) for message in reversed(shown["messages"])]
    if not ids:
        said = target.call("lingr.room.say", {"room": room, "text": VALID_TEXT}, credential=credential, expect_error=False)
        ids = [str(ok_body(said)["message"]["id"])]
    return ids, {str(value) for value in shown["faved_message_ids"]}


@SPECS.request_for("lingr.favorite.add", writes=True)
def favorite_add(ctx: Ctx) -> RequestSpec:
    """A message not yet favourited (one is unfavourited first if needed)."""
    ids, faved = _favourites(ctx)
    fresh = [message_id for message_id in ids if message_id not in faved]
    if not fresh:
        ctx.target.call("lingr.favorite.remove", {"message": ids[0]}, credential=ctx.credential, expect_error=False)
        fresh = ids[:1]
    return RequestSpec({"message": fresh[0]})


@SPECS.request_for("lingr.favorite.remove", writes=True)
def favorite_remove(ctx: Ctx) -> RequestSpec:
    """A favourite (one is made first if needed)."""
    ids, faved = _favourites(ctx)
    favourites = [message_id for message_id in ids if message_id in faved]
    if not favourites:
        ctx.target.call("lingr.favorite.add", {"message": ids[0]}, credential=ctx.credential, expect_error=False)
        favourites = ids[:1]
    return RequestSpec({"message": favourites[0]})


@SPECS.request_for("lingr.event.observe")
def observe(ctx: Ctx) -> RequestSpec:
    """Subscribe to the rooms first. On the mock observe from counter 0: the presence events of
    the login are already there, so the poll answers at once; on a live server from the counter
    room/subscribe returned (it may be held until an event)."""
    ctx.found.first("room")
    rooms = ",".join(ctx.found.params["room"])
    body = ok_body(ctx.target.call("lingr.room.subscribe", {"room": rooms}, credential=ctx.credential, expect_error=False))
    counter = 0 if ctx.target.config.is_mock else int(body["counter"])
    return RequestSpec({"counter": str(counter)})


# requests naming what does not exist ----------------------------------------------------------------
# observe's counter is not an id: a counter ahead of the room's is simply waited on
SPECS.names_no_id("lingr.session.verify", "lingr.session.destroy", "lingr.user.get_rooms", "lingr.event.observe")


@SPECS.unknown_id_for("lingr.session.create")
def unknown_user(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"user": "chatmock-no-such-user", "password": "chatmock-wrong-password"})


@SPECS.unknown_id_for("lingr.room.show", "lingr.room.subscribe", "lingr.room.unsubscribe")
def unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"room": UNKNOWN_ROOM})


@SPECS.unknown_id_for("lingr.room.get_archives")
def archives_of_unknown_room(ctx: Ctx) -> RequestSpec:
    before = ctx.found.params.get("before") or [UNKNOWN_MESSAGE]
    return RequestSpec({"room": UNKNOWN_ROOM, "before": before[0], "limit": "10"})


@SPECS.unknown_id_for("lingr.room.say")
def say_in_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"room": UNKNOWN_ROOM, "text": VALID_TEXT})


@SPECS.unknown_id_for("lingr.favorite.add", "lingr.favorite.remove")
def unknown_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"message": UNKNOWN_MESSAGE})


SUPPORT = register(LingrSupport(SPECS))
