"""Gitter REST v1 support for the contract suite (schemas/gitter/, shared/api/gitter.md beside the repository).

Credentials: a personal access token sent as ``Authorization: Bearer``. On a live target it
comes only from ``CHATMOCK_GITTER_TOKEN``; against the mock, from the default world. Gitter
has no logout: :meth:`GitterSupport.logout` answers False.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract_tests.apis import Known, RequestSpec, first
from contract_tests.targets import Credential, Target

API = "gitter"
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
UNKNOWN_ID = "0000000000000000000000ff"  # well-formed ObjectId that names nothing
UNKNOWN_URI = "chatmock-contract-suite/no-such-room-4f1c"
WRONG_TOKEN = "0123456789abcdef" * 2 + "01234567"  # 40 hex chars, like a real Gitter token

# known keys: roomId (rooms with a uri first), uri (same order, rooms with a uri only),
# messageId (messages of roomId[0], oldest first), chatMessageId (those of the current user),
# beforeId/afterId/aroundId (= messageId, for generated list queries), userId (the current user).


def mock_token(user: str) -> str:
    """The first token of ``user`` in the mock's default world."""
    from mockserver.apis.gitter.world import default_world

    for person in default_world().get("users", []):
        if person.get("username") == user and person.get("tokens"):
            return str(person["tokens"][0])
    raise LookupError(f"the default gitter world has no user {user!r} with a token")


class GitterSupport:
    api = API
    writes = frozenset(
        {
            "gitter.rooms.chatMessages.create",
            "gitter.rooms.chatMessages.update",
            "gitter.rooms.join",
            "gitter.user.unreadItems.markRead",
        }
    )

    # credentials ---------------------------------------------------------------------
    def login(self, target: Target, user: str = "alice") -> Credential:
        if target.config.is_mock:
            return Credential({"token": mock_token(user)}, user=user)
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

    # discovery -----------------------------------------------------------------------
    def discover(self, target: Target, credential: Credential) -> Known:
        """Three requests: the current user, their rooms, the messages of the first room."""
        me = target.call("gitter.user.get", credential=credential, expect_error=False).json()
        rooms = target.call("gitter.rooms.list", credential=credential, expect_error=False).json()
        ordered = sorted(rooms, key=lambda room: "uri" not in room)  # stable: rooms with a uri first
        known: Known = {
            "userId": [str(me[0]["id"])],
            "roomId": [str(room["id"]) for room in ordered],
            "uri": [str(room["uri"]) for room in ordered if room.get("uri")],
        }
        if known["roomId"]:
            messages = target.call(
                "gitter.rooms.chatMessages.list",
                {"limit": "50"},
                path={"roomId": known["roomId"][0]},
                credential=credential,
                expect_error=False,
            ).json()
            ids = [str(message["id"]) for message in messages]
            known["messageId"] = ids
            known["chatMessageId"] = [str(message["id"]) for message in messages if message["fromUser"]["id"] == known["userId"][0]]
            for anchor in ("beforeId", "afterId", "aroundId"):
                known[anchor] = ids
        return known

    # requests ------------------------------------------------------------------------
    def write_room(self, target: Target, credential: Credential, known: Known) -> str:
        """The room writes go to: the configured room on a live target (an id or a uri), else the first room."""
        room = (known.get("_room") or [""])[0]
        if not room:
            return first(known, "roomId")
        if OBJECT_ID.match(room):
            return room
        joined = target.call("gitter.rooms.join", {"uri": room}, credential=credential, expect_error=False).json()
        return str(joined["id"])

    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        try:
            return self._valid(endpoint_id, target, credential, known)
        except LookupError:
            return None

    def _valid(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        name = endpoint_id.removeprefix("gitter.")
        if name in ("rooms.list", "user.get", "user.me"):
            return RequestSpec()
        if name == "rooms.join":
            room = (known.get("_room") or [""])[0]
            if not room:
                return RequestSpec({"uri": first(known, "uri")})
            uri = self._uri_of(target, credential, room) if OBJECT_ID.match(room) else room
            return RequestSpec({"uri": uri}) if uri else None
        if name == "rooms.users.list":
            return RequestSpec(path={"roomId": first(known, "roomId")})
        if name == "rooms.chatMessages.list":
            return RequestSpec({"limit": "10"}, path={"roomId": first(known, "roomId")})
        if name == "rooms.chatMessages.get":
            return RequestSpec(path={"roomId": first(known, "roomId"), "messageId": first(known, "messageId")})
        if name == "rooms.chatMessages.create":
            return RequestSpec({"text": "chatmock contract suite: hello"}, path={"roomId": self.write_room(target, credential, known)})
        if name == "rooms.chatMessages.update":
            if known.get("_room"):  # live: edit a message of our own, posted for the purpose
                room = self.write_room(target, credential, known)
                posted = target.call(
                    "gitter.rooms.chatMessages.create",
                    {"text": "chatmock contract suite: to edit"},
                    path={"roomId": room},
                    credential=credential,
                    expect_error=False,
                ).json()
                return RequestSpec({"text": "chatmock contract suite: edited"}, path={"roomId": room, "chatMessageId": str(posted["id"])})
            return RequestSpec(
                {"text": "edited by the contract suite"},
                path={"roomId": first(known, "roomId"), "chatMessageId": first(known, "chatMessageId")},
            )
        if name == "user.rooms.list":
            return RequestSpec(path={"userId": first(known, "userId")})
        if name == "user.unreadItems.list":
            return RequestSpec(path={"userId": first(known, "userId"), "roomId": first(known, "roomId")})
        if name == "user.unreadItems.markRead":
            if known.get("_room"):
                room = self.write_room(target, credential, known)
                page = target.call(
                    "gitter.rooms.chatMessages.list", {"limit": "1"}, path={"roomId": room}, credential=credential, expect_error=False
                ).json()
                if not page:
                    return None
                return RequestSpec({"chat": [str(page[0]["id"])]}, path={"userId": first(known, "userId"), "roomId": room})
            return RequestSpec(
                {"chat": [first(known, "messageId")]}, path={"userId": first(known, "userId"), "roomId": first(known, "roomId")}
            )
        if name in ("stream.chatMessages", "stream.events"):
            # never sent with good credentials by the generic tests (streams are not CALLABLE);
            # the missing/wrong credential tests use it and get an immediate 401
            return RequestSpec(path={"roomId": first(known, "roomId")})
        return None

    @staticmethod
    def _uri_of(target: Target, credential: Credential, room_id: str) -> str | None:
        rooms: list[dict[str, Any]] = target.call("gitter.rooms.list", credential=credential, expect_error=False).json()
        return next((str(room["uri"]) for room in rooms if room["id"] == room_id and room.get("uri")), None)

    def unknown_id_request(self, endpoint_id: str, known: Known) -> RequestSpec | None:
        name = endpoint_id.removeprefix("gitter.")
        room = (known.get("roomId") or [UNKNOWN_ID])[0]
        if name == "rooms.join":
            return RequestSpec({"uri": UNKNOWN_URI})
        if name in ("rooms.users.list", "rooms.chatMessages.list"):
            return RequestSpec(path={"roomId": UNKNOWN_ID})
        if name == "rooms.chatMessages.create":
            return RequestSpec({"text": "to nowhere"}, path={"roomId": UNKNOWN_ID})
        if name == "rooms.chatMessages.get":
            return RequestSpec(path={"roomId": room, "messageId": UNKNOWN_ID})
        if name == "rooms.chatMessages.update":
            return RequestSpec({"text": "edited"}, path={"roomId": room, "chatMessageId": UNKNOWN_ID})
        if name == "user.rooms.list":
            return RequestSpec(path={"userId": UNKNOWN_ID})
        if name == "user.unreadItems.list":
            return RequestSpec(path={"userId": UNKNOWN_ID, "roomId": room})
        if name == "user.unreadItems.markRead":
            message = (known.get("messageId") or [UNKNOWN_ID])[0]
            return RequestSpec({"chat": [message]}, path={"userId": UNKNOWN_ID, "roomId": room})
        return None  # rooms.list, user.get, user.me name no id; the streams are not callable


SUPPORT = GitterSupport()
