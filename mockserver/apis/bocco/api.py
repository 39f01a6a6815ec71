"""The BOCCO API (alpha) over one in-memory :class:`~mockserver.apis.bocco.world.World`.

Behaviour beyond the schemas, each choice marked [inferred] where the docs are silent:

* A user sees, reads and writes only the rooms they are a member of; any other room id,
  known or not, is 404 (the docs' 404 means "not found or not permitted").
* Message ids are one integer sequence for the whole server; lists are ascending by id with
  exclusive ``newer_than`` / ``older_than``. Page size: :data:`PAGE_SIZE` [inferred; undocumented]
  -- with ``newer_than`` the oldest messages after it (read forward without gaps), otherwise
  the newest ones. ``read=1`` raises the caller's ``read_id`` to the newest id returned.
* ``unique_id`` is unique per room (case-insensitive): repeating it in the same room answers
  200 with the original message; using it in another room the caller belongs to is 400; a
  ``unique_id`` that only messages of rooms the caller cannot see have is free (the answer an
  unused one gets: no existence oracle) [inferred]. Downloads by ``unique_id`` find the message
  of a room the caller belongs to.
* ``media=text`` needs a non-empty ``text``; ``media=audio``/``image`` need a file part of that
  name [inferred: "invalid parameters" -> 400].
* Subscribe answers as soon as messages with id > ``newer_than`` exist, as an array of
  ``{"event": "message", "body": Message}`` -- the oldest :data:`PAGE_SIZE` of them, paged like
  the message list (the client subscribes again from the last id); otherwise 408 after
  ``settings.longpoll_timeout``, or at once when the world is reset (the client's token is then
  gone: 401 on its next call).
* Downloads: the stored upload under its own extension; ``.wav`` of a text or image message
  (and of an audio message not stored as WAV) is a generated stand-in for synthesized speech /
  conversion. Files of rooms the caller is not in are 404.
* BOCCO has no sign-out: access tokens live until the world is reset, or, with
  ``settings.session_idle_timeout``, until unused for that long (then 401).
* With ``settings.auth_failure_limit`` a client past that many failed credential checks (sign-in
  or token) in a minute is answered 429 (``{"code": 429001, ...}``; :class:`~.guard.FailureLimit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.apis.bocco import auth, errors, media, render
from mockserver.apis.bocco import world as worlds
from mockserver.core.apibase import BaseApi, handles
from mockserver.core.call import ApiError, BinaryReply, Call, JsonReply, Problem, Reply
from mockserver.core.guard import FailureLimit, client_of
from mockserver.core.hub import Hub
from mockserver.core.registry import ErrorCode, Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials

PAGE_SIZE = 50  # messages list and subscribe [inferred: the docs give no page size (bocco.md 2.3)]
RESET_TOPIC = "bocco/reset"
MAX_NUMBER = 10**18
TEXT_MEDIA = "text"
FILE_MEDIA = ("audio", "image")


def _number(digits: str) -> int:
    """An ASCII digit string as an integer; one too long for ``int()`` to read is larger than
    any message id (and read as 10**18)."""
    text = digits.lstrip("0") or "0"
    return MAX_NUMBER if len(text) > 18 else int(text)


class BoccoApi(BaseApi[worlds.World]):
    name = "bocco"
    world_file = worlds.WORLD_FILE

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)
        self.failures = FailureLimit(settings.auth_failure_limit)
        self.idle = settings.session_idle_timeout  # None: tokens live until the world is reset

    # the world ----------------------------------------------------------------------
    def load_world(self, spec: Mapping[str, Any]) -> worlds.World:
        return worlds.load(spec, self.store.clock.now())

    def world_replaced(self, previous: worlds.World | None) -> None:
        self.hub.publish(RESET_TOPIC)  # held subscribes of the previous world answer at once

    def credentials(self) -> Credentials:
        return worlds.credentials(self.world_document())

    def secrets(self) -> list[str]:
        return self.world.secrets()

    # errors and auth ----------------------------------------------------------------
    def error(self, problem: Problem, message: str) -> JsonReply:
        return errors.for_problem(problem, message)

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        return errors.for_status(status, code)

    async def authenticate(self, call: Call) -> None:
        """Sign-in credentials on ``POST /alpha/sessions``, an access token elsewhere; anything
        missing or wrong is the endpoint's documented 401."""
        now, failures = self.store.clock.timestamp(), self.failures
        if failures.limit is not None and failures.blocked(client_of(call), now):
            raise ApiError(self.error(Problem.TOO_MANY_REQUESTS, "too many failed credential checks; wait a minute"))
        if call.endpoint.auth is None:
            if self.idle is not None:
                self.world.end_idle_tokens(now, self.idle)  # a sign-in sweeps the idle tokens (oldest first)
            user = auth.sign_in(call, self.world)
        else:
            user = auth.by_token(call, self.world, now, self.idle)
        if user is None:
            failures.failed(client_of(call), now)
            raise ApiError(self.documented(call.endpoint, 401))
        call.principal = user

    # helpers ----------------------------------------------------------------------------
    @staticmethod
    def _user(call: Call) -> worlds.User:
        return call.principal_as(worlds.User)

    def _room(self, call: Call) -> worlds.Room:
        room = self.world.room_of(call.path_params.get("room_id", ""), self._user(call))
        if room is None:
            raise errors.fail(404, "no such room, or you are not a member of it")
        return room

    @staticmethod
    def _int(call: Call, name: str) -> int | None:
        value = call.params.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
            raise errors.fail(400, f"{name} must be an integer")
        return _number(value)

    @staticmethod
    def _topic(room: worlds.Room) -> str:
        return f"bocco/room/{room.key}"

    def _mark_if_asked(self, call: Call, room: worlds.Room, shown: list[worlds.Message]) -> None:
        if call.params.get("read") == "1" and shown:
            self.world.mark_read(room, self._user(call), shown[-1].id)

    # endpoints ----------------------------------------------------------------------------
    @handles("bocco.sessions.create")
    async def sessions_create(self, call: Call) -> Reply:
        user = self._user(call)
        token = self.world.issue_token(user, self.store.clock.timestamp())
        return JsonReply(200, {"access_token": token, "uuid": user.uuid})

    @handles("bocco.rooms.joined")
    async def rooms_joined(self, call: Call) -> Reply:
        rooms = self.world.joined(self._user(call))
        return JsonReply(200, [render.room(room, self.world, call.base_url) for room in rooms])

    @handles("bocco.rooms.messages.list")
    async def messages_list(self, call: Call) -> Reply:
        room = self._room(call)
        shown = self.world.page(room, self._int(call, "newer_than"), self._int(call, "older_than"), PAGE_SIZE)
        self._mark_if_asked(call, room, shown)
        return JsonReply(200, [render.message(message, call.base_url) for message in shown])

    @handles("bocco.rooms.messages.create")
    async def messages_create(self, call: Call) -> Reply:
        room = self._room(call)
        unique_id = call.params.get("unique_id")
        kind = call.params.get("media")
        if not isinstance(unique_id, str) or not isinstance(kind, str):
            raise errors.fail(400, "unique_id and media are required")
        existing = self.world.by_unique_id(unique_id, self._user(call))  # only rooms the caller belongs to
        if existing is not None:
            if existing.room != room.key:
                raise errors.fail(400, "unique_id is already used by a message of another of your rooms")
            return JsonReply(200, render.message(existing, call.base_url))
        text = call.params.get("text", "")
        if not isinstance(text, str):
            raise errors.fail(400, "text must be a string")
        message = worlds.Message(
            id=self.world.next_id(),
            unique_id=unique_id,
            room=room.key,
            user=self._user(call),
            date=self.store.clock.now(),
            media=kind,
            text=text,
        )
        if kind == TEXT_MEDIA:
            if not text.strip():
                raise errors.fail(400, "media=text needs a non-empty text")
        elif kind in FILE_MEDIA:
            upload = call.files.get(kind)
            if upload is None or not upload.content:
                raise errors.fail(400, f"media={kind} needs a non-empty multipart file part named {kind!r}")
            ext = media.extension(upload.filename, upload.content_type)
            blob = media.Blob(ext, media.content_type_of(ext, upload.content_type), upload.content)
            if kind == "audio":
                message.audio = blob
            else:
                message.image = blob
        else:
            raise errors.fail(400, f"unknown media {kind!r}")
        self.world.add(message)
        self.hub.publish(self._topic(room))
        return JsonReply(201, render.message(message, call.base_url))

    @handles("bocco.rooms.subscribe")
    async def subscribe(self, call: Call) -> Reply:
        room = self._room(call)
        newer_than = self._int(call, "newer_than")
        if newer_than is None:
            raise errors.fail(400, "newer_than is required")
        world = self.world

        def ready() -> list[worlds.Message] | None:
            if self.world is not world:
                return []  # the world was reset meanwhile: answer at once (408)
            return world.newer(room, newer_than, PAGE_SIZE) or None

        found = await call.hold(self.hub.wait_for([self._topic(room), RESET_TOPIC], ready, self.settings.longpoll_timeout))
        if not found:
            return self.documented(call.endpoint, 408)
        self._mark_if_asked(call, room, found)
        return JsonReply(200, [render.message_event(message, call.base_url) for message in found])

    @handles("bocco.rooms.messages.read")
    async def messages_read(self, call: Call) -> Reply:
        room = self._room(call)
        raw = call.path_params.get("message_id", "")
        message = self.world.by_id(_number(raw)) if raw.isascii() and raw.isdigit() else None
        if message is None or message.room != room.key:
            raise errors.fail(404, "no such message in this room")
        self.world.mark_read(room, self._user(call), message.id)
        return JsonReply(200, {})

    @handles("bocco.messages.download")
    async def messages_download(self, call: Call) -> Reply:
        message = self.world.by_unique_id(call.path_params.get("unique_id", ""), self._user(call))
        return self._download(call, message, call.path_params.get("extname", ""))

    @handles("bocco.media.download")
    async def media_download(self, call: Call) -> Reply:
        key = call.path_params.get("id", "")
        message = self.world.by_id(_number(key)) if key.isascii() and key.isdigit() else self.world.by_unique_id(key, self._user(call))
        return self._download(call, message, call.path_params.get("ext", ""))

    def _download(self, call: Call, message: worlds.Message | None, ext: str) -> Reply:
        if message is None or not self.world.can_see(message, self._user(call)):
            raise errors.fail(404, "no such message")
        blob = next((item for item in (message.audio, message.image) if item is not None and item.ext == ext), None)
        if blob is None and ext == media.SPEECH_EXT:
            blob = media.speech(message.id, message.text)
        if blob is None:
            raise errors.fail(404, f"message {message.id} has no .{ext} file")
        return BinaryReply(200, blob.content, call.endpoint.response(200).content_type)
