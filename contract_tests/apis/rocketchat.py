"""Rocket.Chat REST v1 support for the contract suite (see contract_tests/apis/__init__.py).

Credentials: on a live target only ``CHATMOCK_ROCKETCHAT_TOKEN`` + ``CHATMOCK_ROCKETCHAT_USER_ID``
(a personal access token) or ``CHATMOCK_ROCKETCHAT_USER`` + ``CHATMOCK_ROCKETCHAT_PASSWORD`` (a
login per call of :meth:`RocketChatSupport.login`); on the mock the personal access tokens and
passwords of its world in force (``GET /__chatmock/credentials``). Writes on a live target go to
``CHATMOCK_ROCKETCHAT_ROOM`` only (a room id or a room name).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contract_tests.apis import ApiSupport, register
from contract_tests.specs import CannotBuild, Context, Discovery, RequestSpec, RequestSpecs
from contract_tests.targets import Credential, Target

API = "rocketchat"
TOKEN_HEADER = "X-Auth-Token"
USER_HEADER = "X-User-Id"
PASSWORD_KEY = "password"  # kept in Credential.values only so that it is scrubbed from failures
UNKNOWN_ROOM = "chatmockNoSuchRoom1"
UNKNOWN_MESSAGE = "chatmockNoSuchMsg1"


@dataclass
class RocketChatFound(Discovery):
    room_names: dict[str, str] = field(default_factory=dict)  # room id -> name, of every room of the user
    own_message: tuple[str, str] | None = None  # (room id, message id) of a plain message the user wrote


SPECS = RequestSpecs[RocketChatFound](API, __file__)
Ctx = Context[RocketChatFound]


# credentials -------------------------------------------------------------------------------
def password_login(target: Target, user: str = "alice") -> dict[str, str] | None:
    """``{"user", "password"}`` for POST /api/v1/login, or None when the target gives no password
    (a live target configured with a personal access token only)."""
    if target.config.is_mock:
        given = target.mock_credentials(API, user)
        if not given.get("password"):
            return None
        return {"user": given["user"], "password": given["password"]}
    name, password = target.config.secret(API, "USER"), target.config.secret(API, "PASSWORD")
    if name is None or password is None:
        return None
    return {"user": name, "password": password}


def session_credential(data: Mapping[str, Any], user: str, password: str | None = None) -> Credential:
    """The credential of a successful login's ``data``."""
    values = {TOKEN_HEADER: str(data["authToken"]), USER_HEADER: str(data["userId"])}
    if password:
        values[PASSWORD_KEY] = password
    return Credential(values, user=user)


def is_personal_token(target: Target, credential: Credential) -> bool:
    """The live target's configured personal access token (never logged out by the suite)."""
    configured = target.config.secret(API, "TOKEN")
    return configured is not None and credential.values.get(TOKEN_HEADER) == configured


class RocketChatSupport(ApiSupport[RocketChatFound]):
    api = API
    live_credentials = (("TOKEN", "USER_ID"), ("USER", "PASSWORD"))

    def login(self, target: Target, user: str = "alice") -> Credential:
        if target.config.is_mock:
            given = target.mock_credentials(API, user)
            if not given.get("token"):
                raise LookupError(f"the mock's rocketchat world gives {user!r} no personal access token")
            values = {TOKEN_HEADER: given["token"], USER_HEADER: given["user_id"]}
            if given.get("password"):
                values[PASSWORD_KEY] = given["password"]
            return Credential(values, user=user)
        token, user_id = target.config.secret(API, "TOKEN"), target.config.secret(API, "USER_ID")
        if token is not None and user_id is not None:
            return Credential({TOKEN_HEADER: token, USER_HEADER: user_id}, user=user)
        params = password_login(target, user)
        if params is None:
            raise LookupError(
                "live rocketchat needs CHATMOCK_ROCKETCHAT_TOKEN + CHATMOCK_ROCKETCHAT_USER_ID or CHATMOCK_ROCKETCHAT_USER + _PASSWORD"
            )
        exchange = target.call(
            "rocketchat.login", params, encoding="json", credential=Credential({PASSWORD_KEY: params["password"]}), expect_error=False
        )
        return session_credential(exchange.json()["data"], user, params["password"])

    def wrong_credential(self, good: Credential) -> Credential:
        """The right user id with a well-formed token nobody was given."""
        values = dict(good.values)
        values[TOKEN_HEADER] = secrets.token_urlsafe(32)
        return Credential(values, user=good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        if not target.config.is_mock and is_personal_token(target, credential):
            return False  # logging out a personal access token may end it for good
        target.call("rocketchat.logout", {}, credential=credential, expect_error=False)
        return True

    def discover(self, target: Target, credential: Credential) -> RocketChatFound:
        """rooms.get, then channels.messages of one channel, then users.list: three requests."""
        rooms = target.call("rocketchat.rooms.get", {}, credential=credential, expect_error=False).json()["update"]
        user_id = credential.values.get(USER_HEADER, "")
        found = RocketChatFound(room_names={str(room["_id"]): str(room.get("name", "")) for room in rooms})
        channels = [str(room["_id"]) for room in rooms if room.get("t") == "c"]
        # roomName stays out of the parameters: channels.history takes roomId or roomName, and a
        # generated request given both from here would name two rooms
        found.params = {"rid": list(found.room_names), "roomId": channels}
        configured = None if target.config.is_mock else target.config.secret(API, "ROOM")
        if configured is not None:  # live: never point generated requests at other rooms
            room_id = resolve_room(found.room_names, configured)
            found.params["roomId"] = [room_id] if room_id in channels else []
        if found.params["roomId"]:
            room_id = found.params["roomId"][0]
            page = target.call(
                "rocketchat.channels.messages", {"roomId": room_id, "count": "20"}, credential=credential, expect_error=False
            ).json()["messages"]
            found.params["msgId"] = [str(item["_id"]) for item in page]
            own = [str(item["_id"]) for item in page if item.get("u", {}).get("_id") == user_id and not item.get("t")]
            found.own_message = (room_id, own[0]) if own else None
        users = target.call("rocketchat.users.list", {"count": "20", "offset": "0"}, credential=credential, expect_error=False).json()
        user_ids = [str(item["_id"]) for item in users["users"]]
        found.params.update({"mentionIds": user_ids, "starredIds": user_ids, "userId": user_ids})
        return found


def resolve_room(room_names: Mapping[str, str], room: str) -> str:
    """A room id for a configured room given as an id, a name or ``#name``."""
    if room in room_names:
        return room
    wanted = room.removeprefix("#")
    return next((room_id for room_id, name in room_names.items() if name == wanted), room)


def write_room(found: RocketChatFound) -> str:
    """Where writes go: the configured room (live), else the first public channel, else any room."""
    if found.write_room:
        return resolve_room(found.room_names, found.write_room)
    if found.params.get("roomId"):
        return found.first("roomId")
    return found.first("rid")


# requests that must succeed ------------------------------------------------------------------
@SPECS.request_for("rocketchat.login")
def login(ctx: Ctx) -> RequestSpec:
    params = password_login(ctx.target, ctx.credential.user or "alice")
    if params is None:
        raise CannotBuild("no password to log in with (CHATMOCK_ROCKETCHAT_USER and CHATMOCK_ROCKETCHAT_PASSWORD)")
    return RequestSpec(params, encoding="json")


@SPECS.request_for("rocketchat.logout")
def logout(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock and is_personal_token(ctx.target, ctx.credential):
        raise CannotBuild("the suite never logs out the configured personal access token (that may end it for good)")
    return RequestSpec()


@SPECS.request_for("rocketchat.me", "rocketchat.rooms.get")
def no_parameters(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("rocketchat.users.list")
def users_list(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"count": "5", "offset": "0"})


@SPECS.request_for("rocketchat.channels.history", "rocketchat.channels.messages")
def channel_page(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": ctx.found.first("roomId"), "count": "5"})


@SPECS.request_for("rocketchat.chat.sendMessage", writes=True)
def send_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"message": {"rid": write_room(ctx.found), "msg": "chatmock contract suite: sendMessage"}})


@SPECS.request_for("rocketchat.chat.postMessage", writes=True)
def post_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": write_room(ctx.found), "text": "chatmock contract suite: postMessage"})


@SPECS.request_for("rocketchat.chat.update", writes=True)
def update_message(ctx: Ctx) -> RequestSpec:
    """Edit an own message: one already there on the mock, a fresh one in the configured room live."""
    if ctx.found.write_room is None and ctx.found.own_message is not None:
        room_id, message_id = ctx.found.own_message
        return RequestSpec({"roomId": room_id, "msgId": message_id, "text": "edited by chatmock"})
    posted = ctx.target.call(
        "rocketchat.chat.sendMessage",
        {"message": {"rid": write_room(ctx.found), "msg": "chatmock contract suite: to be edited"}},
        credential=ctx.credential,
        expect_error=False,
    ).json()["message"]
    return RequestSpec({"roomId": str(posted["rid"]), "msgId": str(posted["_id"]), "text": "edited by chatmock"})


# requests naming what does not exist ---------------------------------------------------------------
SPECS.names_no_id("rocketchat.login", "rocketchat.logout", "rocketchat.me", "rocketchat.rooms.get", "rocketchat.users.list")


@SPECS.unknown_id_for("rocketchat.channels.history", "rocketchat.channels.messages")
def unknown_channel(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "count": "5"})


@SPECS.unknown_id_for("rocketchat.chat.sendMessage")
def send_to_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"message": {"rid": UNKNOWN_ROOM, "msg": "chatmock: unknown room"}})


@SPECS.unknown_id_for("rocketchat.chat.postMessage")
def post_to_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "text": "chatmock: unknown room"})


@SPECS.unknown_id_for("rocketchat.chat.update")
def update_unknown_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": write_room(ctx.found), "msgId": UNKNOWN_MESSAGE, "text": "chatmock: unknown message"})


SUPPORT = register(RocketChatSupport(SPECS))
