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
    groups: list[str] = field(default_factory=list)  # ids of the private groups the user is in


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
        found.groups = [str(room["_id"]) for room in rooms if room.get("t") == "p"]
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


# rooms, users, reactions, deletion, server info -------------------------------------------------
UNKNOWN_USER = "chatmockNoSuchUser1"


def fresh_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def bob_id(ctx: Ctx) -> str:
    """Another user's id (the mock's bob; live: the first other user users.list gave)."""
    own = ctx.credential.values.get(USER_HEADER)
    others = [user_id for user_id in ctx.found.params.get("userId", []) if user_id != own]
    if not others:
        raise CannotBuild("no other user to name")
    return others[0]


def created_room(ctx: Ctx, kind: str) -> dict[str, Any]:
    """A room the caller creates (and so owns) for a request that changes a room."""
    endpoint = "rocketchat.channels.create" if kind == "c" else "rocketchat.groups.create"
    reply = ctx.target.call(endpoint, {"name": fresh_name("chatmock")}, credential=ctx.credential, expect_error=False).json()
    room: dict[str, Any] = reply["channel" if kind == "c" else "group"]
    return room


@SPECS.request_for("rocketchat.users.info")
def users_info(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": ctx.found.first("userId")})


@SPECS.unknown_id_for("rocketchat.users.info")
def users_info_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": UNKNOWN_USER})


@SPECS.request_for("rocketchat.channels.info")
def channels_info(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": ctx.found.first("roomId")})


@SPECS.request_for("rocketchat.groups.info")
def groups_info(ctx: Ctx) -> RequestSpec:
    if ctx.found.groups:
        return RequestSpec({"roomId": ctx.found.groups[0]})
    return RequestSpec({"roomId": created_room(ctx, "p")["_id"]})


@SPECS.unknown_id_for("rocketchat.channels.info", "rocketchat.groups.info", "rocketchat.channels.leave", "rocketchat.groups.leave")
def unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM})


@SPECS.request_for("rocketchat.channels.create", "rocketchat.groups.create", writes=True)
def create_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"name": fresh_name("chatmock")})


SPECS.names_no_id(
    "rocketchat.channels.create",
    "rocketchat.groups.create",
    "rocketchat.channels.list",
    "rocketchat.channels.list.joined",
    "rocketchat.groups.list",
    "rocketchat.info",
    "rocketchat.v1.info",
)


@SPECS.request_for("rocketchat.channels.invite", writes=True)
def channels_invite(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": created_room(ctx, "c")["_id"], "userId": bob_id(ctx)})


@SPECS.request_for("rocketchat.groups.invite", writes=True)
def groups_invite(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": created_room(ctx, "p")["_id"], "userId": bob_id(ctx)})


@SPECS.unknown_id_for("rocketchat.channels.invite", "rocketchat.groups.invite")
def invite_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "userId": bob_id(ctx)})


def _room_to_leave(ctx: Ctx, kind: str) -> str:
    """A room the caller may leave: created, another user made owner too (the last owner may not leave)."""
    room = created_room(ctx, kind)
    family = "channels" if kind == "c" else "groups"
    other = bob_id(ctx)
    ctx.target.call(f"rocketchat.{family}.invite", {"roomId": room["_id"], "userId": other}, credential=ctx.credential, expect_error=False)
    ctx.target.call(
        f"rocketchat.{family}.addOwner", {"roomId": room["_id"], "userId": other}, credential=ctx.credential, expect_error=False
    )
    return str(room["_id"])


@SPECS.request_for("rocketchat.channels.leave", writes=True)
def channels_leave(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": _room_to_leave(ctx, "c")})


@SPECS.request_for("rocketchat.groups.leave", writes=True)
def groups_leave(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": _room_to_leave(ctx, "p")})


@SPECS.request_for("rocketchat.channels.list", "rocketchat.channels.list.joined", "rocketchat.groups.list")
def room_lists(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"count": "5", "offset": "0"})


@SPECS.request_for("rocketchat.im.create", "rocketchat.dm.create", writes=True)
def dm_create(ctx: Ctx) -> RequestSpec:
    name = "bob" if ctx.target.config.is_mock else None
    if name is None:
        raise CannotBuild("live: opening a direct message with another user is not done by the suite")
    return RequestSpec({"username": name})


@SPECS.unknown_id_for("rocketchat.im.create", "rocketchat.dm.create")
def dm_create_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"username": UNKNOWN_USER})


@SPECS.request_for("rocketchat.chat.react", writes=True)
def chat_react(ctx: Ctx) -> RequestSpec:
    posted = ctx.target.call(
        "rocketchat.chat.sendMessage",
        {"message": {"rid": write_room(ctx.found), "msg": "chatmock contract suite: to react to"}},
        credential=ctx.credential,
        expect_error=False,
    ).json()["message"]
    return RequestSpec({"messageId": str(posted["_id"]), "emoji": "thumbsup"})


@SPECS.unknown_id_for("rocketchat.chat.react")
def chat_react_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"messageId": UNKNOWN_MESSAGE, "emoji": "thumbsup"})


@SPECS.request_for("rocketchat.chat.delete", writes=True)
def chat_delete(ctx: Ctx) -> RequestSpec:
    posted = ctx.target.call(
        "rocketchat.chat.sendMessage",
        {"message": {"rid": write_room(ctx.found), "msg": "chatmock contract suite: to be deleted"}},
        credential=ctx.credential,
        expect_error=False,
    ).json()["message"]
    return RequestSpec({"roomId": str(posted["rid"]), "msgId": str(posted["_id"])})


@SPECS.unknown_id_for("rocketchat.chat.delete")
def chat_delete_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": write_room(ctx.found), "msgId": UNKNOWN_MESSAGE})


@SPECS.request_for("rocketchat.info", "rocketchat.v1.info")
def server_info(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


def room_with_member(ctx: Ctx, kind: str, role: str | None = None) -> tuple[str, str]:
    """(room id, other user id): a room the caller created, the other user invited and, with
    ``role``, holding that room role."""
    family = "channels" if kind == "c" else "groups"
    room_id, other = str(created_room(ctx, kind)["_id"]), bob_id(ctx)
    ctx.target.call(f"rocketchat.{family}.invite", {"roomId": room_id, "userId": other}, credential=ctx.credential, expect_error=False)
    if role is not None:
        ctx.target.call(
            f"rocketchat.{family}.add{role.capitalize()}",
            {"roomId": room_id, "userId": other},
            credential=ctx.credential,
            expect_error=False,
        )
    return room_id, other


ROLES = ("owner", "moderator", "leader")
FAMILIES = (("channels", "c"), ("groups", "p"))


def _role_spec(family: str, kind: str, role: str, add: bool) -> None:
    endpoint = f"rocketchat.{family}.{'add' if add else 'remove'}{role.capitalize()}"

    @SPECS.request_for(endpoint, writes=True)
    def build(ctx: Ctx) -> RequestSpec:
        room_id, other = room_with_member(ctx, kind, None if add else role)
        if not add and role == "owner":
            return RequestSpec({"roomId": room_id, "userId": ctx.credential.values[USER_HEADER]})  # the caller stays: bob is owner too
        return RequestSpec({"roomId": room_id, "userId": other})

    @SPECS.unknown_id_for(endpoint)
    def unknown(ctx: Ctx) -> RequestSpec:
        return RequestSpec({"roomId": UNKNOWN_ROOM, "userId": bob_id(ctx)})


def _room_specs(family: str, kind: str) -> None:
    @SPECS.request_for(f"rocketchat.{family}.kick", writes=True)
    def kick(ctx: Ctx) -> RequestSpec:
        room_id, other = room_with_member(ctx, kind)
        return RequestSpec({"roomId": room_id, "userId": other})

    @SPECS.unknown_id_for(f"rocketchat.{family}.kick")
    def kick_unknown(ctx: Ctx) -> RequestSpec:
        return RequestSpec({"roomId": UNKNOWN_ROOM, "userId": bob_id(ctx)})

    values: dict[str, dict[str, Any]] = {"setTopic": {"topic": "chatmock topic"}, "setDescription": {"description": "chatmock description"},
              "setAnnouncement": {"announcement": "chatmock announcement"}, "setReadOnly": {"readOnly": True},
              "rename": {}, "archive": {}, "unarchive": {}, "delete": {}}  # fmt: skip
    for op, extra in values.items():
        endpoint = f"rocketchat.{family}.{op}"

        def build(ctx: Ctx, op: str = op, extra: dict[str, Any] = extra) -> RequestSpec:
            room_id = str(created_room(ctx, kind)["_id"])
            if op == "unarchive":
                ctx.target.call(f"rocketchat.{family}.archive", {"roomId": room_id}, credential=ctx.credential, expect_error=False)
            if op == "rename":
                extra = {"name": fresh_name("renamed")}
            return RequestSpec({"roomId": room_id, **extra})

        def unknown(ctx: Ctx, op: str = op, extra: dict[str, Any] = extra) -> RequestSpec:
            return RequestSpec({"roomId": UNKNOWN_ROOM, **(extra if op != "rename" else {"name": fresh_name("renamed")})})

        SPECS.request_for(endpoint, writes=True)(build)
        SPECS.unknown_id_for(endpoint)(unknown)

    @SPECS.request_for(f"rocketchat.{family}.members")
    def members(ctx: Ctx) -> RequestSpec:
        room = (
            ctx.found.first("roomId") if kind == "c" else (ctx.found.groups[0] if ctx.found.groups else str(created_room(ctx, kind)["_id"]))
        )
        return RequestSpec({"roomId": room, "count": "5"})

    @SPECS.unknown_id_for(f"rocketchat.{family}.members")
    def members_unknown(ctx: Ctx) -> RequestSpec:
        return RequestSpec({"roomId": UNKNOWN_ROOM})


for _family, _kind in FAMILIES:
    for _role in ROLES:
        _role_spec(_family, _kind, _role, True)
        _role_spec(_family, _kind, _role, False)
    _room_specs(_family, _kind)


@SPECS.request_for("rocketchat.groups.history")
def groups_history(ctx: Ctx) -> RequestSpec:
    room = ctx.found.groups[0] if ctx.found.groups else str(created_room(ctx, "p")["_id"])
    return RequestSpec({"roomId": room, "count": "5"})


@SPECS.unknown_id_for("rocketchat.groups.history", "rocketchat.channels.join")
def unknown_room_page(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM})


@SPECS.request_for("rocketchat.channels.join", writes=True)
def channels_join(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": ctx.found.first("roomId")})


@SPECS.request_for("rocketchat.channels.setJoinCode", writes=True)
def channels_set_join_code(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": str(created_room(ctx, "c")["_id"]), "joinCode": "chatmock-code"})


@SPECS.unknown_id_for("rocketchat.channels.setJoinCode")
def set_join_code_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "joinCode": "x"})


@SPECS.request_for("rocketchat.users.getPresence")
def users_get_presence(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": ctx.found.first("userId")})


@SPECS.unknown_id_for("rocketchat.users.getPresence")
def users_get_presence_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": UNKNOWN_USER})


@SPECS.request_for("rocketchat.chat.getMessage")
def chat_get_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"msgId": ctx.found.first("msgId")})


@SPECS.unknown_id_for("rocketchat.chat.getMessage")
def chat_get_message_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"msgId": UNKNOWN_MESSAGE})


# users administration, subscriptions, rooms.*, im.*, settings ------------------------------------
def new_user_params() -> dict[str, str]:
    name = fresh_name("chatmock-user")
    return {"name": name, "username": name, "email": f"{name}@example.com"}


@SPECS.request_for("rocketchat.users.create", writes=True)
def users_create(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite creates no users")
    return RequestSpec({**new_user_params(), "password": secrets.token_urlsafe(12)})


@SPECS.request_for("rocketchat.users.register", writes=True)
def users_register(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite registers no users")
    return RequestSpec({**new_user_params(), "pass": secrets.token_urlsafe(12)})


def created_user(ctx: Ctx) -> str:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite changes no users")
    reply = ctx.target.call(
        "rocketchat.users.create",
        {**new_user_params(), "password": secrets.token_urlsafe(12)},
        credential=ctx.credential,
        expect_error=False,
    )
    return str(reply.json()["user"]["_id"])


@SPECS.request_for("rocketchat.users.update", writes=True)
def users_update(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": created_user(ctx), "data": {"name": "Changed By Chatmock"}})


@SPECS.request_for("rocketchat.users.delete", writes=True)
def users_delete(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": created_user(ctx)})


@SPECS.request_for("rocketchat.users.setAvatar", writes=True)
def users_set_avatar(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"avatarUrl": "https://example.com/chatmock.png"})


@SPECS.request_for("rocketchat.users.createToken", writes=True)
def users_create_token(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": created_user(ctx)})


@SPECS.unknown_id_for("rocketchat.users.update")
def users_update_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"userId": UNKNOWN_USER, "data": {"name": "x"}})


@SPECS.unknown_id_for("rocketchat.users.delete", "rocketchat.users.createToken", "rocketchat.users.setAvatar")
def users_unknown(ctx: Ctx) -> RequestSpec:
    params: dict[str, Any] = {"userId": UNKNOWN_USER}
    if ctx.endpoint.id == "rocketchat.users.setAvatar":
        params["avatarUrl"] = "https://example.com/chatmock.png"
    return RequestSpec(params)


SPECS.names_no_id(
    "rocketchat.users.create", "rocketchat.users.register", "rocketchat.subscriptions.get", "rocketchat.im.list", "rocketchat.dm.list"
)


@SPECS.request_for("rocketchat.subscriptions.get", "rocketchat.im.list", "rocketchat.dm.list")
def my_lists(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("rocketchat.subscriptions.read", writes=True)
def subscriptions_read(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"rid": write_room(ctx.found)})


@SPECS.unknown_id_for(
    "rocketchat.subscriptions.read", "rocketchat.rooms.info", "rocketchat.rooms.leave", "rocketchat.im.history", "rocketchat.dm.history"
)
def unknown_rid(ctx: Ctx) -> RequestSpec:
    key = "rid" if ctx.endpoint.id == "rocketchat.subscriptions.read" else "roomId"
    return RequestSpec({key: UNKNOWN_ROOM})


@SPECS.request_for("rocketchat.rooms.info")
def rooms_info(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": ctx.found.first("rid")})


@SPECS.request_for("rocketchat.rooms.leave", writes=True)
def rooms_leave(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": _room_to_leave(ctx, "p")})


def direct_room(ctx: Ctx) -> str:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite opens no direct messages")
    reply = ctx.target.call("rocketchat.im.create", {"username": "bob"}, credential=ctx.credential, expect_error=False)
    return str(reply.json()["room"]["rid"])


@SPECS.request_for("rocketchat.im.history", "rocketchat.dm.history")
def dm_history(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": direct_room(ctx), "count": "5"})


@SPECS.request_for("rocketchat.settings.get")
def settings_get(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"_id": "Site_Name"})


@SPECS.request_for("rocketchat.settings.update", writes=True)
def settings_update(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite changes no workspace settings")
    return RequestSpec({"value": "chatmock"}, path={"_id": "Site_Name"})


@SPECS.unknown_id_for("rocketchat.settings.get")
def settings_get_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"_id": "Chatmock_No_Such_Setting"})


@SPECS.unknown_id_for("rocketchat.settings.update")
def settings_update_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"value": "x"}, path={"_id": "Chatmock_No_Such_Setting"})


# uploads ------------------------------------------------------------------------------------------
UPLOAD = {"file": ("chatmock.txt", b"chatmock contract suite upload\n", "text/plain")}


@SPECS.request_for("rocketchat.rooms.upload", "rocketchat.rooms.media", writes=True)
def rooms_upload(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"msg": "chatmock contract suite: upload"}, path={"rid": write_room(ctx.found)}, files=dict(UPLOAD))


@SPECS.unknown_id_for("rocketchat.rooms.upload", "rocketchat.rooms.media")
def rooms_upload_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({}, path={"rid": UNKNOWN_ROOM}, files=dict(UPLOAD))


def uploaded(ctx: Ctx) -> tuple[str, str]:
    """(room id, file id) of a file the caller uploads (not yet sent)."""
    room_id = write_room(ctx.found)
    reply = ctx.target.call(
        "rocketchat.rooms.media", {}, path={"rid": room_id}, files=dict(UPLOAD), credential=ctx.credential, expect_error=False
    )
    return room_id, str(reply.json()["file"]["_id"])


@SPECS.request_for("rocketchat.rooms.mediaConfirm", writes=True)
def rooms_media_confirm(ctx: Ctx) -> RequestSpec:
    room_id, file_id = uploaded(ctx)
    return RequestSpec({"msg": "chatmock contract suite: confirmed upload"}, path={"rid": room_id, "fileId": file_id})


@SPECS.unknown_id_for("rocketchat.rooms.mediaConfirm")
def rooms_media_confirm_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({}, path={"rid": write_room(ctx.found), "fileId": "chatmockNoSuchFile1"})


@SPECS.request_for("rocketchat.fileUpload")
def file_upload(ctx: Ctx) -> RequestSpec:
    _, file_id = uploaded(ctx)
    return RequestSpec(path={"fileId": file_id, "name": "chatmock.txt"})


@SPECS.unknown_id_for("rocketchat.fileUpload")
def file_upload_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"fileId": "chatmockNoSuchFile1", "name": "x.txt"})


# open/close, addAll, setType, groups.messages ---------------------------------------------------------
@SPECS.request_for("rocketchat.channels.close", "rocketchat.groups.close", writes=True)
def room_close(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": created_room(ctx, "c" if ctx.endpoint.id.endswith("channels.close") else "p")["_id"]})


@SPECS.request_for("rocketchat.channels.open", "rocketchat.groups.open", writes=True)
def room_open(ctx: Ctx) -> RequestSpec:
    """A room the caller created and closed (an open room cannot be opened again)."""
    family = "channels" if ctx.endpoint.id.endswith("channels.open") else "groups"
    room_id = str(created_room(ctx, "c" if family == "channels" else "p")["_id"])
    ctx.target.call(f"rocketchat.{family}.close", {"roomId": room_id}, credential=ctx.credential, expect_error=False)
    return RequestSpec({"roomId": room_id})


@SPECS.unknown_id_for(
    "rocketchat.channels.open",
    "rocketchat.channels.close",
    "rocketchat.groups.open",
    "rocketchat.groups.close",
    "rocketchat.channels.addAll",
    "rocketchat.groups.messages",
)
def unknown_room_id(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM})


@SPECS.request_for("rocketchat.channels.addAll", writes=True)
def channels_add_all(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite never adds every user of a workspace to a room")
    return RequestSpec({"roomId": created_room(ctx, "c")["_id"]})


@SPECS.request_for("rocketchat.channels.setType", writes=True)
def channels_set_type(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": created_room(ctx, "c")["_id"], "type": "p"})


@SPECS.unknown_id_for("rocketchat.channels.setType")
def channels_set_type_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "type": "p"})


@SPECS.request_for("rocketchat.groups.messages")
def groups_messages(ctx: Ctx) -> RequestSpec:
    room = ctx.found.groups[0] if ctx.found.groups else str(created_room(ctx, "p")["_id"])
    return RequestSpec({"roomId": room, "count": "5"})


# message reads ------------------------------------------------------------------------------------
@SPECS.request_for("rocketchat.chat.getMentionedMessages", "rocketchat.chat.syncMessages")
def room_reads(ctx: Ctx) -> RequestSpec:
    params = {"roomId": write_room(ctx.found), "count": "5"}
    if ctx.endpoint.id == "rocketchat.chat.syncMessages":
        params["lastUpdate"] = "2020-01-01T00:00:00.000Z"
    return RequestSpec(params)


@SPECS.unknown_id_for("rocketchat.chat.getMentionedMessages", "rocketchat.chat.syncMessages")
def room_reads_unknown(ctx: Ctx) -> RequestSpec:
    params = {"roomId": UNKNOWN_ROOM}
    if ctx.endpoint.id == "rocketchat.chat.syncMessages":
        params["lastUpdate"] = "2020-01-01T00:00:00.000Z"
    return RequestSpec(params)


@SPECS.request_for("rocketchat.chat.getThreadsList")
def threads_list(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"rid": write_room(ctx.found), "count": "5"})


@SPECS.unknown_id_for("rocketchat.chat.getThreadsList")
def threads_list_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"rid": UNKNOWN_ROOM})


@SPECS.request_for("rocketchat.chat.getThreadMessages", writes=True)
def thread_messages(ctx: Ctx) -> RequestSpec:
    posted = ctx.target.call(
        "rocketchat.chat.postMessage",
        {"roomId": write_room(ctx.found), "text": "chatmock contract suite: a thread"},
        credential=ctx.credential,
        expect_error=False,
    ).json()["message"]
    ctx.target.call(
        "rocketchat.chat.postMessage",
        {"roomId": str(posted["rid"]), "text": "chatmock contract suite: a reply", "tmid": str(posted["_id"])},
        credential=ctx.credential,
        expect_error=False,
    )
    return RequestSpec({"tmid": str(posted["_id"])})


@SPECS.unknown_id_for("rocketchat.chat.getThreadMessages")
def thread_messages_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"tmid": UNKNOWN_MESSAGE})


# search, administration, catalogues -------------------------------------------------------------------
@SPECS.request_for("rocketchat.spotlight")
def spotlight(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"query": "a"})


@SPECS.request_for("rocketchat.directory")
def directory(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"text": "", "type": "users", "count": "5"})


@SPECS.request_for(
    "rocketchat.statistics",
    "rocketchat.permissions.listAll",
    "rocketchat.im.list.everyone",
    "rocketchat.dm.list.everyone",
    "rocketchat.commands.list",
    "rocketchat.webdav.getMyAccounts",
    "rocketchat.integrations.list",
)
def catalogue(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("rocketchat.commands.get")
def commands_get(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"command": "me"})


@SPECS.unknown_id_for("rocketchat.commands.get")
def commands_get_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"command": "chatmocknosuchcommand"})


@SPECS.request_for("rocketchat.permissions.update", writes=True)
def permissions_update(ctx: Ctx) -> RequestSpec:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite changes no permissions")
    return RequestSpec({"permissions": [{"_id": "create-c", "roles": ["admin", "user", "bot", "app"]}]})


@SPECS.unknown_id_for("rocketchat.permissions.update")
def permissions_update_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"permissions": [{"_id": "chatmock-no-such-permission", "roles": ["admin"]}]})


SPECS.names_no_id(
    "rocketchat.spotlight",
    "rocketchat.directory",
    "rocketchat.statistics",
    "rocketchat.permissions.listAll",
    "rocketchat.im.list.everyone",
    "rocketchat.dm.list.everyone",
    "rocketchat.commands.list",
    "rocketchat.webdav.getMyAccounts",
    "rocketchat.integrations.list",
)


# integrations and the incoming webhook ------------------------------------------------------------------
def incoming_params(ctx: Ctx) -> dict[str, Any]:
    if not ctx.target.config.is_mock:
        raise CannotBuild("live: the suite creates no integrations")
    return {
        "type": "webhook-incoming",
        "name": fresh_name("chatmock-hook"),
        "enabled": True,
        "username": "rocket.cat",
        "channel": f"#{ctx.found.room_names.get(write_room(ctx.found), 'general')}",
        "scriptEnabled": False,
    }


@SPECS.request_for("rocketchat.integrations.create", writes=True)
def integrations_create(ctx: Ctx) -> RequestSpec:
    return RequestSpec(incoming_params(ctx))


@SPECS.unknown_id_for("rocketchat.integrations.create")
def integrations_create_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({**incoming_params(ctx), "channel": f"#{UNKNOWN_ROOM}"})


@SPECS.request_for("rocketchat.hooks", writes=True)
def hooks(ctx: Ctx) -> RequestSpec:
    created = ctx.target.call("rocketchat.integrations.create", incoming_params(ctx), credential=ctx.credential, expect_error=False)
    integration = created.json()["integration"]
    return RequestSpec(
        {"text": "chatmock contract suite: incoming webhook"}, path={"integrationId": integration["_id"], "token": integration["token"]}
    )


@SPECS.unknown_id_for("rocketchat.hooks")
def hooks_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"text": "x"}, path={"integrationId": "chatmockNoSuchHook1", "token": "chatmock-no-such-token"})


# rooms.cleanHistory -------------------------------------------------------------------------------
CLEAN_RANGE = {"oldest": "2000-01-01T00:00:00.000Z", "latest": "2100-01-01T00:00:00.000Z"}


@SPECS.request_for("rocketchat.rooms.cleanHistory", writes=True)
def rooms_clean_history(ctx: Ctx) -> RequestSpec:
    """Prune a room the caller created (one message in it), never a room others use."""
    room_id = str(created_room(ctx, "c")["_id"])
    ctx.target.call(
        "rocketchat.chat.postMessage", {"roomId": room_id, "text": "chatmock: to be pruned"}, credential=ctx.credential, expect_error=False
    )
    return RequestSpec({"roomId": room_id, **CLEAN_RANGE})


@SPECS.unknown_id_for("rocketchat.rooms.cleanHistory")
def rooms_clean_history_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, **CLEAN_RANGE})


@SPECS.request_for("rocketchat.groups.setType", writes=True)
def groups_set_type(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": created_room(ctx, "p")["_id"], "type": "c"})


@SPECS.unknown_id_for("rocketchat.groups.setType")
def groups_set_type_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"roomId": UNKNOWN_ROOM, "type": "c"})


@SPECS.request_for("rocketchat.commands.run", writes=True)
def commands_run(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"command": "shrug", "params": "chatmock contract suite", "roomId": write_room(ctx.found)})


@SPECS.unknown_id_for("rocketchat.commands.run")
def commands_run_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"command": "chatmocknosuchcommand", "roomId": write_room(ctx.found)})
