"""BOCCO (alpha): sign in with apikey + e-mail + password, then ``access_token`` as a parameter.

* Live: ``CHATMOCK_BOCCO_API_KEY``, ``CHATMOCK_BOCCO_EMAIL``, ``CHATMOCK_BOCCO_PASSWORD`` (one
  account: only the user ``alice`` can be signed in). Mock: the accounts of its world in force
  (``GET /__chatmock/credentials``).
* Ids are read from the target: ``GET /alpha/rooms/joined``, then the first room's messages.
* BOCCO has no sign-out: :meth:`BoccoSupport.logout` answers False.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from contract_tests.apis import ApiSupport, register
from contract_tests.specs import CannotBuild, Context, Discovery, RequestSpec, RequestSpecs
from contract_tests.targets import Credential, Target

API = "bocco"
SIGN_IN = ("apikey", "email", "password")  # bocco.sessions.create's parameters
UNKNOWN_ROOM = "12345678-1234-4234-8234-123456789ABC"
UNKNOWN_UNIQUE_ID = "DEADBEEF-0000-4000-8000-00000000DEAD"
UNKNOWN_MESSAGE_ID = "999999999"
WRONG_TOKEN = "0" * 64
TEXT = "chatmock contract test"


@dataclass(frozen=True)
class Media:
    """A message's audio file: ``<host>/1/messages/<id>.<ext>``."""

    id: str
    ext: str
    unique_id: str  # the message's


@dataclass
class BoccoFound(Discovery):
    message_room: str | None = None  # the first room with messages (message_id and unique_id are its)
    media: Media | None = None


SPECS = RequestSpecs[BoccoFound](API, __file__)
Ctx = Context[BoccoFound]


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


def messages(target: Target, credential: Credential, room_id: str, **params: str) -> list[dict[str, Any]]:
    exchange = target.call(
        "bocco.rooms.messages.list", {"read": "0", **params}, path={"room_id": room_id}, credential=credential, expect_error=False
    )
    found: list[dict[str, Any]] = exchange.json()
    return found


class BoccoSupport(ApiSupport[BoccoFound]):
    api = API
    live_credentials = (("API_KEY", "EMAIL", "PASSWORD"),)

    def sign_in_params(self, target: Target, user: str) -> dict[str, str]:
        if target.config.is_mock:
            given = target.mock_credentials(API, user)
            return {name: given[name] for name in SIGN_IN}
        if user != "alice":
            pytest.skip(f"live bocco: one account is configured, no {user!r}")
        values = [target.config.secret(API, name) for name in ("API_KEY", "EMAIL", "PASSWORD")]
        if not all(values):
            pytest.skip("live bocco needs CHATMOCK_BOCCO_API_KEY, CHATMOCK_BOCCO_EMAIL and CHATMOCK_BOCCO_PASSWORD")
        return dict(zip(SIGN_IN, (str(value) for value in values), strict=True))

    def login(self, target: Target, user: str = "alice") -> Credential:
        params = self.sign_in_params(target, user)
        # the sign-in secrets scrub the failure message of this very call
        exchange = target.call("bocco.sessions.create", params, credential=Credential(params, user), expect_error=False)
        return Credential({"access_token": str(exchange.json()["access_token"]), **params}, user)

    def wrong_credential(self, good: Credential) -> Credential:
        token = good.values.get("access_token", "")
        return Credential({"access_token": WRONG_TOKEN if token != WRONG_TOKEN else "1" * 64}, good.user)

    def logout(self, target: Target, credential: Credential) -> bool:
        return False  # BOCCO documents no sign-out; tokens live on

    def discover(self, target: Target, credential: Credential) -> BoccoFound:
        rooms = target.call("bocco.rooms.joined", credential=credential, expect_error=False).json()
        found = BoccoFound({"room_id": [str(room["uuid"]) for room in rooms]})
        for room_id in found.params["room_id"][:3]:
            listed = messages(target, credential, room_id)
            if listed:
                found.message_room = room_id
                found.params.update(message_ids(listed))
                found.media = first_media(listed)
                break
        return found


def message_ids(listed: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Ids of a room's messages, newest first."""
    newest_first = list(reversed(listed))
    return {
        "message_id": [str(message["id"]) for message in newest_first],
        "unique_id": [str(message["unique_id"]) for message in newest_first],
    }


def first_media(listed: list[dict[str, Any]]) -> Media | None:
    """The audio file of the newest message with one (audio messages first)."""
    newest_first = sorted(reversed(listed), key=lambda message: message.get("media") != "audio")  # stable
    for message in newest_first:
        parts = media_parts(str(message.get("audio") or ""))
        if parts is not None:
            return Media(parts[0], parts[1], str(message["unique_id"]))
    return None


def _message_room(found: BoccoFound) -> str:
    if found.message_room is None:
        raise CannotBuild("the target's rooms have no message to test with")
    return found.message_room


def _media(found: BoccoFound) -> Media:
    if found.media is None:
        raise CannotBuild("the target's messages have no audio file to download")
    return found.media


# requests that must succeed ------------------------------------------------------------------
@SPECS.request_for("bocco.sessions.create")
def sign_in(ctx: Ctx) -> RequestSpec:
    return RequestSpec({name: ctx.credential.values[name] for name in SIGN_IN if name in ctx.credential.values})


@SPECS.request_for("bocco.rooms.joined")
def joined(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


@SPECS.request_for("bocco.rooms.messages.create", writes=True)
def create(ctx: Ctx) -> RequestSpec:
    room = ctx.found.write_room or ctx.found.first("room_id")
    return RequestSpec({"unique_id": new_unique_id(), "media": "text", "text": TEXT}, {"room_id": room})


@SPECS.request_for("bocco.rooms.messages.list")
def listing(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"read": "0"}, {"room_id": _message_room(ctx.found)})


@SPECS.request_for("bocco.rooms.subscribe")
def subscribe(ctx: Ctx) -> RequestSpec:
    room = _message_room(ctx.found)
    ids = ctx.found.params["message_id"]  # newest first: one event newer than the second newest
    return RequestSpec({"newer_than": str(int(ids[1]) if len(ids) > 1 else 0), "read": "0"}, {"room_id": room})


@SPECS.request_for("bocco.rooms.messages.read", writes=True)
def read(ctx: Ctx) -> RequestSpec:
    """Mark read a message of the configured room (live writes) or of the discovered one."""
    room, message_id = _message_room(ctx.found), ctx.found.first("message_id")
    configured = ctx.found.write_room
    if configured and configured.lower() != room.lower():
        listed = messages(ctx.target, ctx.credential, configured)
        if not listed:
            raise CannotBuild("the configured room has no message to mark read")
        room, message_id = configured, str(listed[-1]["id"])
    return RequestSpec(path={"room_id": room, "message_id": message_id})


@SPECS.request_for("bocco.media.download")
def media_download(ctx: Ctx) -> RequestSpec:
    media = _media(ctx.found)
    return RequestSpec(path={"id": media.id, "ext": media.ext})


@SPECS.request_for("bocco.messages.download")
def message_download(ctx: Ctx) -> RequestSpec:
    media = _media(ctx.found)
    return RequestSpec(path={"unique_id": media.unique_id, "extname": media.ext})


# requests naming what does not exist ----------------------------------------------------------------
SPECS.names_no_id("bocco.sessions.create", "bocco.rooms.joined")


@SPECS.unknown_id_for("bocco.rooms.messages.list")
def list_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({}, {"room_id": UNKNOWN_ROOM})


@SPECS.unknown_id_for("bocco.rooms.subscribe")
def subscribe_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"newer_than": "0"}, {"room_id": UNKNOWN_ROOM})


@SPECS.unknown_id_for("bocco.rooms.messages.create")
def create_in_unknown_room(ctx: Ctx) -> RequestSpec:
    return RequestSpec({"unique_id": new_unique_id(), "media": "text", "text": TEXT}, {"room_id": UNKNOWN_ROOM})


@SPECS.unknown_id_for("bocco.rooms.messages.read")
def read_unknown_message(ctx: Ctx) -> RequestSpec:
    room = ctx.found.message_room or (ctx.found.params.get("room_id") or [UNKNOWN_ROOM])[0]
    return RequestSpec(path={"room_id": room, "message_id": UNKNOWN_MESSAGE_ID})


@SPECS.unknown_id_for("bocco.messages.download")
def download_unknown_message(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"unique_id": UNKNOWN_UNIQUE_ID, "extname": "wav"})


@SPECS.unknown_id_for("bocco.media.download")
def download_unknown_media(ctx: Ctx) -> RequestSpec:
    return RequestSpec(path={"id": UNKNOWN_MESSAGE_ID, "ext": "wav"})


SUPPORT = register(BoccoSupport(SPECS))
