"""Gitter REST v1 support for the contract suite (schemas/gitter/; the API as the archived
developer.gitter.im documents it, github.com/gitterHQ/docs).

Credentials: a personal access token sent as ``Authorization: Bearer``. On a live target it
comes only from ``CHATMOCK_GITTER_TOKEN``; against the mock, from its world in force
(``GET /__chatmock/credentials``). Gitter has no logout: :meth:`GitterSupport.logout` answers
False.

Discovered parameters: roomId (rooms with a uri first), uri (same order, rooms with a uri
only), messageId (messages of roomId[0], oldest first), chatMessageId (those of the current
user), beforeId/afterId/aroundId (= messageId, for generated list queries), userId (the
current user).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract_tests.apis import ApiSupport, register
from contract_tests.specs import CannotBuild, Context, Discovery, RequestSpec, RequestSpecs
from contract_tests.targets import Credential, Target

API = "gitter"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
UNKNOWN_ID = "0000000000000000000000ff"  # well-formed ObjectId that names nothing
UNKNOWN_URI = "chatmock-contract-suite/no-such-room-4f1c"
WRONG_TOKEN = "0123456789abcdef" * 2 + "01234567"  # 40 hex chars, like a real Gitter token

SPECS = RequestSpecs[Discovery](API, __file__)
Ctx = Context[Discovery]


class GitterSupport(ApiSupport[Discovery]):
    api = API
    live_credentials = (("TOKEN",),)

    def login(self, target: Target, user: str = "alice") -> Credential:
        if target.config.is_mock:
            token = target.mock_credentials(API, user).get("token")
            if not token:
                raise LookupError(f"the mock's gitter world gives {user!r} no token")
            return Credential({"token": token}, user=user)
        if user != "alice":
            pytest.skip("a live gitter target has one configured token (CHATMOCK_GITTER_TOKEN)")
        token = target.config.secret(API, "TOKEN")
        if token is None:
            pytest.skip("live gitter needs CHATMOCK_GITTER_TOKEN")
        return Credential({"token": token}, user=user)

    def wrong_credential(self, good: Credential) -> Credential:
        token = WRONG_TOKEN if good.values.get("token") != WRONG_TOKEN else WRONG_TOKEN[::-1]
        return Credential({"token": token}, user=good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        return False  # Gitter has no logout; tokens are revoked at developer.gitter.im

    def discover(self, target: Target, credential: Credential) -> Discovery:
        """Three requests: the current user, their rooms, the messages of the first room."""
        me = target.call("gitter.user.get", credential=credential, expect_error=False).json()
        rooms = target.call("gitter.rooms.list", credential=credential, expect_error=False).json()
        ordered = sorted(rooms, key=lambda room: "uri" not in room)  # stable: rooms with a uri first
        params: dict[str, list[str]] = {
            "userId": [str(me[0]["id"])],
            "roomId": [str(room["id"]) for room in ordered],
            "uri": [str(room["uri"]) for room in ordered if room.get("uri")],
        }
        if params["roomId"]:
            messages = target.call(
                "gitter.rooms.chatMessages.list",
                {"limit": "50"},
                path={"roomId": params["roomId"][0]},
                credential=credential,
                expect_error=False,
            ).json()
            ids = [str(message["id"]) for message in messages]
            params["messageId"] = ids
            params["chatMessageId"] = [str(message["id"]) for message in messages if message["fromUser"]["id"] == params["userId"][0]]
            for anchor in ("beforeId", "afterId", "aroundId"):
                params[anchor] = ids
        return Discovery(params)


def write_room(target: Target, credential: Credential, found: Discovery) -> str:
    """The room writes go to: the configured room on a live target (an id or a uri), else the first room."""
    room = found.write_room
    if not room:
        return found.first("roomId")
    if OBJECT_ID.match(room):
        return room
    joined = target.call("gitter.rooms.join", {"uri": room}, credential=credential, expect_error=False).json()
    return str(joined["id"])


def _uri_of(target: Target, credential: Credential, room_id: str) -> str:
    rooms: list[dict[str, Any]] = target.call("gitter.rooms.list", credential=credential, expect_error=False).json()
    uri = next((str(room["uri"]) for room in rooms if room["id"] == room_id and room.get("uri")), None)
    if uri is None:
        raise CannotBuild(f"the configured room {room_id} has no uri to join it by")
    return uri


# requests that must succeed ------------------------------------------------------------------
@SPECS.request_for("gitter.rooms.list", "gitter.user.get", "gitter.user.me")
def no_parameters(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("gitter.rooms.join", writes=True)
def join(ctx: Ctx) -> RequestSpec:
    room = ctx.found.write_room
    if not room:
        return RequestSpec({"uri": ctx.found.first("uri")})
    return RequestSpec({"uri": _uri_of(ctx.target, ctx.credential, room) if OBJECT_ID.match(room) else room})


@SPECS.request_for("gitter.rooms.users.list", "gitter.rooms.channels")
def room_users(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": ctx.found.first("roomId")})


@SPECS.request_for("gitter.rooms.chatMessages.list")
def messages_list(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"limit": "10"}, path={"roomId": ctx.found.first("roomId")})


@SPECS.request_for("gitter.rooms.chatMessages.get")
def message_get(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": ctx.found.first("roomId"), "messageId": ctx.found.first("messageId")})


@SPECS.request_for("gitter.rooms.chatMessages.create", writes=True)
def message_create(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"text": "chatmock contract suite: hello"}, path={"roomId": write_room(ctx.target, ctx.credential, ctx.found)})


@SPECS.request_for("gitter.rooms.chatMessages.update", writes=True)
def message_update(ctx: Ctx) -> RequestSpec:
    """Edits a message of our own, posted for the purpose: the server refuses edits 600 s after
    a message was sent (chat-service.js), so an older discovered message will not do."""
    room = write_room(ctx.target, ctx.credential, ctx.found)
    posted = ctx.target.call(
        "gitter.rooms.chatMessages.create",
        {"text": "chatmock contract suite: to edit"},
        path={"roomId": room},
        credential=ctx.credential,
        expect_error=False,
    ).json()
    return RequestSpec({"text": "chatmock contract suite: edited"}, path={"roomId": room, "chatMessageId": str(posted["id"])})


@SPECS.request_for("gitter.user.rooms.list")
def user_rooms(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": ctx.found.first("userId")})


@SPECS.request_for("gitter.user.unreadItems.list")
def unread_items(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": ctx.found.first("userId"), "roomId": ctx.found.first("roomId")})


@SPECS.request_for("gitter.user.unreadItems.markRead", writes=True)
def mark_read(ctx: Ctx) -> RequestSpec:
    found = ctx.found
    if not found.write_room:
        return RequestSpec({"chat": [found.first("messageId")]}, path={"userId": found.first("userId"), "roomId": found.first("roomId")})
    room = write_room(ctx.target, ctx.credential, found)
    page = ctx.target.call(
        "gitter.rooms.chatMessages.list", {"limit": "1"}, path={"roomId": room}, credential=ctx.credential, expect_error=False
    ).json()
    if not page:
        raise CannotBuild("the configured room has no message to mark read")
    return RequestSpec({"chat": [str(page[0]["id"])]}, path={"userId": found.first("userId"), "roomId": room})


@SPECS.request_for("gitter.user.rooms.join", writes=True)
def user_rooms_join(ctx: Ctx) -> RequestSpec:
    """Joins a room the user is in already (the server answers it again): nothing changes."""
    return RequestSpec({"id": write_room(ctx.target, ctx.credential, ctx.found)}, path={"userId": ctx.found.first("userId")})


@SPECS.request_for("gitter.rooms.users.remove", writes=True)
def room_users_remove(ctx: Ctx) -> RequestSpec:
    """Leaves the last room with a uri, joined again by id first (a leave on a live service
    would not be undone, so it is built only against the mock)."""
    if not ctx.target.config.is_mock:
        raise CannotBuild("leaving a live room is not undone by the suite; run it against the mock")
    found = ctx.found
    uris = found.params.get("uri") or []
    if not uris:
        raise CannotBuild("the user is in no room with a uri")
    room = found.params["roomId"][len(uris) - 1]
    user = found.first("userId")
    ctx.target.call("gitter.user.rooms.join", {"id": room}, path={"userId": user}, credential=ctx.credential, expect_error=False)
    return RequestSpec(path={"roomId": room, "userId": user})


@SPECS.request_for("gitter.rooms.get")
def rooms_get(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": ctx.found.first("roomId")})


def _mock_only(ctx: Ctx, what: str) -> None:
    if not ctx.target.config.is_mock:
        raise CannotBuild(f"{what} on a live service is not undone by the suite (and needs room admin rights); run it against the mock")


@SPECS.request_for("gitter.rooms.update", writes=True)
def rooms_update(ctx: Ctx) -> RequestSpec:
    """Sets the first room's topic to what it is (the mock's default user is that room's admin)."""
    _mock_only(ctx, "changing a room")
    room = ctx.found.first("roomId")
    current = ctx.target.call("gitter.rooms.get", path={"roomId": room}, credential=ctx.credential, expect_error=False).json()
    return RequestSpec({"topic": str(current.get("topic", ""))}, path={"roomId": room})


@SPECS.request_for("gitter.rooms.delete", writes=True)
def rooms_delete(ctx: Ctx) -> RequestSpec:
    _mock_only(ctx, "deleting a room")
    return RequestSpec(path={"roomId": ctx.found.first("roomId")})


@SPECS.request_for("gitter.user.unreadItems.markAllRead", writes=True)
def unread_mark_all(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": ctx.found.first("userId"), "roomId": write_room(ctx.target, ctx.credential, ctx.found)})


@SPECS.request_for("gitter.user.rooms.update", writes=True)
def user_rooms_update(ctx: Ctx) -> RequestSpec:
    """Notification mode "all", the default: nothing changes for a user who never set one."""
    return RequestSpec(
        {"mode": "all"}, path={"userId": ctx.found.first("userId"), "roomId": write_room(ctx.target, ctx.credential, ctx.found)}
    )


@SPECS.request_for("gitter.user.show", "gitter.user.channels", "gitter.user.orgs", "gitter.user.repos")
def user_resource(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": ctx.found.first("userId")})


@SPECS.request_for("gitter.groups.list")
def groups_list(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("gitter.groups.rooms")
def groups_rooms(ctx: Ctx) -> RequestSpec:
    groups = ctx.target.call("gitter.groups.list", credential=ctx.credential, expect_error=False).json()
    if not groups:
        raise CannotBuild("the user belongs to no community")
    return RequestSpec(path={"id": str(groups[0]["id"])})


@SPECS.request_for("gitter.stream.chatMessages", "gitter.stream.events")
def stream(ctx: Ctx) -> RequestSpec:
    # never sent with good credentials by the generic tests (a stream does not end); the
    # missing and wrong credential tests send it and get an immediate 401
    return RequestSpec(path={"roomId": ctx.found.first("roomId")})


# requests naming what does not exist ----------------------------------------------------------------
SPECS.names_no_id("gitter.rooms.list", "gitter.user.get", "gitter.user.me", "gitter.groups.list")


@SPECS.unknown_id_for("gitter.rooms.join")
def join_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"uri": UNKNOWN_URI})


@SPECS.unknown_id_for(
    "gitter.rooms.users.list",
    "gitter.rooms.channels",
    "gitter.rooms.chatMessages.list",
    "gitter.stream.chatMessages",
    "gitter.stream.events",
)
def unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.rooms.chatMessages.create")
def create_in_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"text": "to nowhere"}, path={"roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.rooms.chatMessages.get")
def unknown_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": _room_or_unknown(ctx.found), "messageId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.rooms.chatMessages.update")
def update_unknown_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"text": "edited"}, path={"roomId": _room_or_unknown(ctx.found), "chatMessageId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.user.rooms.list")
def unknown_user_rooms(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.user.unreadItems.list")
def unknown_user_unread(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": UNKNOWN_ID, "roomId": _room_or_unknown(ctx.found)})


@SPECS.unknown_id_for("gitter.user.unreadItems.markRead")
def unknown_user_mark_read(ctx: Ctx) -> RequestSpec:
    message = (ctx.found.params.get("messageId") or [UNKNOWN_ID])[0]
    return RequestSpec({"chat": [message]}, path={"userId": UNKNOWN_ID, "roomId": _room_or_unknown(ctx.found)})


@SPECS.unknown_id_for("gitter.user.rooms.join")
def join_unknown_id(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"id": UNKNOWN_ID}, path={"userId": ctx.found.first("userId")})


@SPECS.unknown_id_for("gitter.rooms.users.remove")
def remove_from_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": UNKNOWN_ID, "userId": ctx.found.first("userId")})


@SPECS.unknown_id_for("gitter.rooms.get", "gitter.rooms.delete")
def unknown_room_path(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.rooms.update")
def update_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"topic": "nowhere"}, path={"roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.user.unreadItems.markAllRead")
def mark_all_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": ctx.found.first("userId"), "roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.user.rooms.update")
def user_rooms_update_unknown(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"mode": "all"}, path={"userId": ctx.found.first("userId"), "roomId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.user.show", "gitter.user.channels", "gitter.user.orgs", "gitter.user.repos")
def unknown_user_resource(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"userId": UNKNOWN_ID})


@SPECS.unknown_id_for("gitter.groups.rooms")
def unknown_group(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"id": UNKNOWN_ID})


def _room_or_unknown(found: Discovery) -> str:
    return (found.params.get("roomId") or [UNKNOWN_ID])[0]


SUPPORT = register(GitterSupport(SPECS))


@SPECS.request_for("gitter.faye.bayeux", "gitter.faye.faye")
def faye_handshake(ctx: Ctx) -> RequestSpec:
    """A Bayeux handshake carrying the token in ext (node-gitter faye.js): the JSON body is the
    message itself (the endpoint reads a body whole); the faye client's arrays are in
    tests/test_gitter_faye.py."""
    handshake = {
        "channel": "/meta/handshake",
        "version": "1.0",
        "supportedConnectionTypes": ["long-polling"],
        "id": "1",
        "ext": {"token": ctx.credential.values.get("token", "")},
    }
    return RequestSpec(handshake)


SPECS.names_no_id("gitter.faye.bayeux", "gitter.faye.faye")
