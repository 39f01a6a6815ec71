"""BOCCO (alpha): sign in with apikey + e-mail + password, then ``access_token`` as a parameter.

* Live: ``CHATMOCK_BOCCO_API_KEY``, ``CHATMOCK_BOCCO_EMAIL``, ``CHATMOCK_BOCCO_PASSWORD`` (one
  account: only the user ``alice`` can be signed in). Mock: the default world's alice and bob.
* Ids are read from the target: ``GET /alpha/rooms/joined``, then the first room's messages.
* BOCCO has no sign-out: :meth:`BoccoSupport.logout` answers False.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from contract_tests.apis import Known, RequestSpec, first
from contract_tests.targets import Credential, Target

API = "bocco"
# The default world's accounts (mockserver/apis/bocco/world.json): only used against the mock.
MOCK_APIKEY = "bocco-api-key"
MOCK_USERS = {
    "alice": ("alice@example.com", "alice-password"),
    "bob": ("bob@example.com", "bob-password"),
}
UNKNOWN_ROOM = "12345678-1234-4234-8234-123456789ABC"
UNKNOWN_UNIQUE_ID = "DEADBEEF-0000-4000-8000-00000000DEAD"
UNKNOWN_MESSAGE_ID = "999999999"
WRONG_TOKEN = "0" * 64
TEXT = "chatmock contract test"


def new_unique_id() -> str:
    return str(uuid.uuid4()).upper()


def media_parts(url: str) -> tuple[str, str] | None:
    """``(id, ext)`` of a media URL ``<host>/1/messages/<id>.<ext>``; None for ``""`` or another form."""
    path = urlsplit(url).path
    head, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not url or not dot or not stem or not ext or not head.endswith("/1/messages"):
        return None
    return stem, ext


class BoccoSupport:
    api = API
    writes = frozenset({"bocco.rooms.messages.create", "bocco.rooms.messages.read"})

    # credentials -----------------------------------------------------------------------
    def sign_in_params(self, target: Target, user: str) -> dict[str, str]:
        if target.config.is_mock:
            if user not in MOCK_USERS:
                raise LookupError(f"the default bocco world has no signed-in user {user!r}")
            email, password = MOCK_USERS[user]
            return {"apikey": MOCK_APIKEY, "email": email, "password": password}
        if user != "alice":
            pytest.skip(f"live bocco: one account is configured, no {user!r}")
        names = ("API_KEY", "EMAIL", "PASSWORD")
        values = [target.config.secret(API, name) for name in names]
        if not all(values):
            pytest.skip("live bocco needs CHATMOCK_BOCCO_API_KEY, CHATMOCK_BOCCO_EMAIL and CHATMOCK_BOCCO_PASSWORD")
        return dict(zip(("apikey", "email", "password"), (str(value) for value in values), strict=True))

    def login(self, target: Target, user: str = "alice") -> Credential:
        params = self.sign_in_params(target, user)
        # the sign-in secrets scrub the failure message of this very call
        exchange = target.call("bocco.sessions.create", params, credential=Credential(params, user), expect_error=False)
        body = exchange.json()
        return Credential({"access_token": str(body["access_token"]), **params}, user)

    def wrong_credential(self, good: Credential) -> Credential:
        token = good.values.get("access_token", "")
        wrong = WRONG_TOKEN if token != WRONG_TOKEN else "1" * 64
        return Credential({"access_token": wrong}, good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        return False  # BOCCO documents no sign-out; tokens live on

    # discovery ----------------------------------------------------------------------------
    def discover(self, target: Target, credential: Credential) -> Known:
        rooms = target.call("bocco.rooms.joined", credential=credential, expect_error=False).json()
        known: Known = {"room_id": [str(room["uuid"]) for room in rooms]}
        for room_id in known["room_id"][:3]:
            messages = self.messages(target, credential, room_id)
            if messages:
                known = {**known, "_message_room": [room_id], **self.message_ids(messages)}
                break
        return known

    @staticmethod
    def messages(target: Target, credential: Credential, room_id: str, **params: str) -> list[dict[str, Any]]:
        exchange = target.call(
            "bocco.rooms.messages.list", {"read": "0", **params}, path={"room_id": room_id}, credential=credential, expect_error=False
        )
        found: list[dict[str, Any]] = exchange.json()
        return found

    @staticmethod
    def message_ids(messages: list[dict[str, Any]]) -> Known:
        """Ids of a room's messages, newest first; the media files of the first with audio."""
        newest_first = list(reversed(messages))
        known: Known = {
            "message_id": [str(message["id"]) for message in newest_first],
            "unique_id": [str(message["unique_id"]) for message in newest_first],
        }
        with_audio = sorted(newest_first, key=lambda message: message.get("media") != "audio")  # stable: audio messages first
        for message in with_audio:
            parts = media_parts(str(message.get("audio") or ""))
            if parts is not None:
                known["_media"] = [f"{parts[0]}.{parts[1]}"]
                known["_media_unique_id"] = [str(message["unique_id"])]
                break
        return known

    # requests ------------------------------------------------------------------------------
    def valid_request(self, endpoint_id: str, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        if endpoint_id == "bocco.sessions.create":
            return RequestSpec({name: credential.values[name] for name in ("apikey", "email", "password") if name in credential.values})
        if endpoint_id == "bocco.rooms.joined":
            return RequestSpec()
        if endpoint_id == "bocco.rooms.messages.create":
            rooms = known.get("_room") or known.get("room_id")
            if not rooms:
                return None
            return RequestSpec({"unique_id": new_unique_id(), "media": "text", "text": TEXT}, {"room_id": rooms[0]})
        if not known.get("message_id"):
            return None
        room = first(known, "_message_room")
        if endpoint_id == "bocco.rooms.messages.list":
            return RequestSpec({"read": "0"}, {"room_id": room})
        if endpoint_id == "bocco.rooms.subscribe":
            ids = known["message_id"]  # newest first: one event newer than the second newest
            return RequestSpec({"newer_than": str(int(ids[1]) if len(ids) > 1 else 0), "read": "0"}, {"room_id": room})
        if endpoint_id == "bocco.rooms.messages.read":
            return self.read_request(target, credential, known)
        if not known.get("_media"):
            return None
        stem, _, ext = first(known, "_media").rpartition(".")
        if endpoint_id == "bocco.media.download":
            return RequestSpec(path={"id": stem, "ext": ext})
        if endpoint_id == "bocco.messages.download":
            return RequestSpec(path={"unique_id": first(known, "_media_unique_id"), "extname": ext})
        return None

    def read_request(self, target: Target, credential: Credential, known: Known) -> RequestSpec | None:
        """Mark read a message of the configured room (live writes) or of the discovered one."""
        room = first(known, "_message_room")
        message_id = first(known, "message_id")
        configured = known.get("_room")
        if configured and configured[0].lower() != room.lower():
            messages = self.messages(target, credential, configured[0])
            if not messages:
                return None
            room, message_id = configured[0], str(messages[-1]["id"])
        return RequestSpec(path={"room_id": room, "message_id": message_id})

    def unknown_id_request(self, endpoint_id: str, known: Known) -> RequestSpec | None:
        if endpoint_id in ("bocco.rooms.messages.list", "bocco.rooms.subscribe"):
            return RequestSpec({"newer_than": "0"} if endpoint_id.endswith("subscribe") else {}, {"room_id": UNKNOWN_ROOM})
        if endpoint_id == "bocco.rooms.messages.create":
            return RequestSpec({"unique_id": new_unique_id(), "media": "text", "text": TEXT}, {"room_id": UNKNOWN_ROOM})
        if endpoint_id == "bocco.rooms.messages.read":
            rooms = known.get("_message_room") or known.get("room_id") or [UNKNOWN_ROOM]
            return RequestSpec(path={"room_id": rooms[0], "message_id": UNKNOWN_MESSAGE_ID})
        if endpoint_id == "bocco.messages.download":
            return RequestSpec(path={"unique_id": UNKNOWN_UNIQUE_ID, "extname": "wav"})
        if endpoint_id == "bocco.media.download":
            return RequestSpec(path={"id": UNKNOWN_MESSAGE_ID, "ext": "wav"})
        return None  # sessions.create, rooms.joined name no id


SUPPORT = BoccoSupport()
