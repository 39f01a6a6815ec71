"""Rocket.Chat REST v1 support for the contract suite (see contract_tests/apis/__init__.py).

Credentials: on a live target only ``CHATMOCK_ROCKETCHAT_TOKEN`` + ``CHATMOCK_ROCKETCHAT_USER_ID``
(a personal access token) or ``CHATMOCK_ROCKETCHAT_USER`` + ``CHATMOCK_ROCKETCHAT_PASSWORD`` (a
login per call of :meth:`RocketChatSupport.login`); on the mock the default world's personal
access tokens of alice and bob. Writes on a live target go to ``CHATMOCK_ROCKETCHAT_ROOM`` only
(a room id or a room name).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from contract_tests.apis import Known, RequestSpec, first
from contract_tests.targets import Credential, Target
from mockserver.apis.rocketchat.world import default_world

API = "rocketchat"
TOKEN_HEADER = "X-Auth-Token"
USER_HEADER = "X-User-Id"
PASSWORD_KEY = "password"  # kept in Credential.values only so that it is scrubbed from failures
UNKNOWN_ROOM = "chatmockNoSuchRoom1"
UNKNOWN_MESSAGE = "chatmockNoSuchMsg1"
WRITES = frozenset({"rocketchat.chat.sendMessage", "rocketchat.chat.postMessage", "rocketchat.chat.update"})


def world_user(username: str) -> Mapping[str, Any]:
    """A user of the mock's default world (world.json), by username."""
    for user in default_world().get("users", ()):
        if user.get("username") == username:
            found: Mapping[str, Any] = user
            return found
    raise LookupError(f"the default rocketchat world has no user {username!r}")


def password_login(target: Target, user: str = "alice") -> dict[str, str] | None:
    """``{"user", "password"}`` for POST /api/v1/login, or None when the target gives no password
    (a live target configured with a personal access token only)."""
    if target.config.is_mock:
        spec = world_user(user)
        if spec.get("password") is None:
            return None
        return {"user": str(spec["username"]), "password": str(spec["password"])}
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


class RocketChatSupport:
    api = API
    writes = WRITES

    # credentials ---------------------------------------------------------------------
    def login(self, target: Target, user: str = "alice") -> Credential:
        if target.config.is_mock:
            spec = world_user(user)
            tokens = spec.get("personalAccessTokens") or []
            if not tokens:
                raise LookupError(f"the default rocketchat world gives {user!r} no personal access token")
            values = {TOKEN_HEADER: str(tokens[0]), USER_HEADER: str(spec["_id"])}
            if spec.get("password"):
                values[PASSWORD_KEY] = str(spec["password"])
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

    # ids that exist ------------------------------------------------------------------
    def discover(self, target: Target, credential: Credential) -> Known:
        """rooms.get, then channels.messages of one channel, then users.list: three requests."""
        rooms = target.call("rocketchat.rooms.get", {}, credential=credential, expect_error=False).json()["update"]
        user_id = credential.values.get(USER_HEADER, "")
        channels = [room for room in rooms if room.get("t") == "c"]
        known: Known = {
            "rid": [str(room["_id"]) for room in rooms],
            "_rid_names": [str(room.get("name", "")) for room in rooms],
            "roomId": [str(room["_id"]) for room in channels],
        }
        # roomName is left out on purpose: test_endpoints._strategy drops every known name from the
        # schema's properties, and channels.history's anyOf(required roomId | required roomName)
        # is unsatisfiable with both gone (additionalProperties false).
        configured = None if target.config.is_mock else target.config.secret(API, "ROOM")
        if configured is not None:  # live: never point generated requests at other rooms
            room_id = resolve_room(known, configured)
            known["roomId"] = [room_id] if room_id in known["roomId"] else []
        if known["roomId"]:
            room_id = known["roomId"][0]
            page = target.call(
                "rocketchat.channels.messages", {"roomId": room_id, "count": "20"}, credential=credential, expect_error=False
            ).json()["messages"]
            own = [str(item["_id"]) for item in page if item.get("u", {}).get("_id") == user_id and not item.get("t")]
            known["msgId"] = [str(item["_id"]) for item in page]
            known["_own_msgId"] = own
            known["_own_msg_room"] = [room_id] if own else []
        users = target.call("rocketchat.users.list", {"count": "20", "offset": "0"}, credential=credential, expect_error=False).json()[
            "users"
        ]
        user_ids = [str(item["_id"]) for item in users]
        known["mentionIds"] = user_ids
        known["starredIds"] = user_ids
        known["userId"] = user_ids
        return known

    # requests ------------------------------------------------------------------------
    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        name = endpoint_id.removeprefix("rocketchat.")
        if name == "login":
            params = password_login(target, credential.user or "alice")
            return None if params is None else RequestSpec(params, encoding="json")
        if name == "logout":
            if not target.config.is_mock and is_personal_token(target, credential):
                return None
            return RequestSpec()
        if name in ("me", "rooms.get"):
            return RequestSpec()
        if name == "users.list":
            return RequestSpec({"count": "5", "offset": "0"})
        if name in ("channels.history", "channels.messages"):
            if not known.get("roomId"):
                return None
            return RequestSpec({"roomId": first(known, "roomId"), "count": "5"})
        if name == "chat.sendMessage":
            return RequestSpec({"message": {"rid": write_room(known), "msg": "chatmock contract suite: sendMessage"}})
        if name == "chat.postMessage":
            return RequestSpec({"roomId": write_room(known), "text": "chatmock contract suite: postMessage"})
        if name == "chat.update":
            return self._update_request(target, credential, known)
        return None

    @staticmethod
    def _update_request(target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        """Edit an own message: one already there on the mock, a fresh one in the configured room live."""
        if "_room" not in known and known.get("_own_msgId") and known.get("_own_msg_room"):
            return RequestSpec({"roomId": first(known, "_own_msg_room"), "msgId": first(known, "_own_msgId"), "text": "edited by chatmock"})
        room = write_room(known)
        posted = target.call(
            "rocketchat.chat.sendMessage",
            {"message": {"rid": room, "msg": "chatmock contract suite: to be edited"}},
            credential=credential,
            expect_error=False,
        ).json()["message"]
        return RequestSpec({"roomId": str(posted["rid"]), "msgId": str(posted["_id"]), "text": "edited by chatmock"})

    def unknown_id_request(self, endpoint_id: str, known: Known) -> RequestSpec | None:
        name = endpoint_id.removeprefix("rocketchat.")
        if name in ("channels.history", "channels.messages"):
            return RequestSpec({"roomId": UNKNOWN_ROOM, "count": "5"})
        if name == "chat.sendMessage":
            return RequestSpec({"message": {"rid": UNKNOWN_ROOM, "msg": "chatmock: unknown room"}})
        if name == "chat.postMessage":
            return RequestSpec({"roomId": UNKNOWN_ROOM, "text": "chatmock: unknown room"})
        if name == "chat.update":
            return RequestSpec({"roomId": write_room(known), "msgId": UNKNOWN_MESSAGE, "text": "chatmock: unknown message"})
        return None


def resolve_room(known: Known, room: str) -> str:
    """A room id for a configured room given as an id, a name or ``#name``."""
    ids, names = known.get("rid", []), known.get("_rid_names", [])
    if room in ids:
        return room
    wanted = room.removeprefix("#")
    for room_id, name in zip(ids, names, strict=False):
        if name == wanted:
            return room_id
    return room


def write_room(known: Known) -> str:
    """Where writes go: the configured room (live), else the first public channel, else any room."""
    if known.get("_room"):
        return resolve_room(known, first(known, "_room"))
    if known.get("roomId"):
        return first(known, "roomId")
    return first(known, "rid")


SUPPORT = RocketChatSupport()
