"""The Rocket.Chat REST v1 handlers: one method per endpoint of ``schemas/rocketchat/``.

Behaviour follows Rocket.Chat's REST API documentation (the OpenAPI files of
RocketChat/Rocket.Chat-Open-API: authentication.yaml, messaging.yaml, rooms.yaml) and the
seeds cited beside each choice; what they do not say is marked [inferred]. Every post
publishes ``rocketchat.room.<rid>`` on the hub (no Rocket.Chat endpoint waits on it today;
realtime is out of scope for this API).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.auth import authenticate, principal
from mockserver.apis.rocketchat.errors import VALIDATION_TYPE, Errors, failure
from mockserver.apis.rocketchat.profile import profile_of
from mockserver.apis.rocketchat.world import LOGIN as LOGIN_TOKEN
from mockserver.apis.rocketchat.world import WORLD_FILE, Room, Stored, User, World, credentials, dm_id, iso, new_id, parse_iso
from mockserver.core.apibase import BaseApi, handles
from mockserver.core.call import ApiError, Call, JsonReply, Problem, Reply
from mockserver.core.guard import FailureLimit, client_of, same_secret
from mockserver.core.hub import Hub
from mockserver.core.parse import FORM, media_type
from mockserver.core.registry import ErrorCode, Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials

LOGIN = "rocketchat.login"
MESSAGE_MODEL = "rocketchat.Message"
# fields of a sent message object the server sets itself, whatever the client says [inferred]
SERVER_FIELDS = ("u", "ts", "_updatedAt", "editedAt", "editedBy", "tcount", "tlm", "replies", "_hidden")
MAX_NUMBER = 10**18  # a digit parameter longer than int() is asked to read is read as this


def topic(room_id: str) -> str:
    return f"rocketchat.room.{room_id}"


def digits(value: Any) -> int:
    """A parameter the schema allows only digits in (count, offset), as an integer of at most
    :data:`MAX_NUMBER` (a digit string too long for ``int()`` to read is read as that)."""
    text = str(value).lstrip("0") or "0"
    return MAX_NUMBER if len(text) > 18 else int(text)


def _truthy(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


class RocketChatApi(BaseApi[World]):
    name = "rocketchat"
    world_file = WORLD_FILE

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)
        self.profile = profile_of(settings.api_options.get(self.name))
        self.errors = Errors(registry, self.name, LOGIN, self.profile)
        self.failures = FailureLimit(settings.auth_failure_limit)
        self.idle = settings.session_idle_timeout  # None: login tokens live until logout or reset
        self._refiners: dict[str, Callable[[Call, str], JsonReply | None]] = {
            LOGIN: self._refine_login,
            "rocketchat.chat.sendMessage": self._refine_send,
            "rocketchat.chat.postMessage": self._refine_post,
            "rocketchat.channels.history": self._refine_room_param,
            "rocketchat.channels.messages": self._refine_room_param,
            "rocketchat.chat.update": self._refine_update,
        }

    # the world ---------------------------------------------------------------------------
    def load_world(self, spec: Mapping[str, Any]) -> World:
        """A new world from ``spec``; every seeded message must be a ``rocketchat.Message``."""
        world = World(self.store)
        world.load(spec, self._message_problem)
        return world

    def _message_problem(self, doc: dict[str, Any]) -> str | None:
        problems = self.registry.model_errors(MESSAGE_MODEL, doc)
        return problems[0] if problems else None

    def credentials(self) -> Credentials:
        return credentials(self.world_document())

    def secrets(self) -> list[str]:
        passwords = [user.password for user in self.world.users.values() if user.password]
        return passwords + list(self.world.tokens)

    # errors and auth ---------------------------------------------------------------------
    def error(self, problem: Problem, message: str) -> JsonReply:
        return self.errors.problem(problem, message)

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        return self.errors.for_status(status, code)

    async def authenticate(self, call: Call) -> None:
        """See :mod:`.auth`. With ``settings.auth_failure_limit`` a client past that many failed
        checks in a minute is answered ``error-too-many-requests`` (:class:`~.guard.FailureLimit`)."""
        if call.endpoint.auth is None:
            return  # login checks its own credentials
        failures = self.failures
        if failures.limit is not None:
            self._refuse_if_throttled(call)
        try:
            authenticate(self.world, self.errors, call, self.idle, self.store.clock)
        except ApiError:
            failures.failed(client_of(call), self.store.clock.timestamp())
            raise

    def _refuse_if_throttled(self, call: Call) -> None:
        if self.failures.blocked(client_of(call), self.store.clock.timestamp()):
            raise ApiError(self.error(Problem.TOO_MANY_REQUESTS, "too many failed credential checks; wait a minute"))

    def refine_bad_request(self, call: Call, message: str) -> JsonReply | None:
        """A bad request becomes the endpoint's documented error when one describes it (e.g. a
        missing roomId); otherwise None: Rocket.Chat's validation failure."""
        refine = self._refiners.get(call.endpoint.id)
        return refine(call, message) if refine is not None else None

    def _refine_login(self, call: Call, message: str) -> JsonReply:
        """Rocket.Chat answers every failed login with 401 {status: error, error, message}, the
        shape of a wrong password (issues Lemmmy/rocketchat-bot#2, rocket.chat.load.tester#1)
        [inferred: a malformed login body gets the same shape]; a version profile answers its own
        login failure body."""
        if self.profile.version is not None:
            return self.errors.login_failed()
        return JsonReply(401, {"status": "error", "error": VALIDATION_TYPE, "message": message})

    def _refine_send(self, call: Call, message: str) -> JsonReply | None:
        sent = call.params.get("message")
        if not isinstance(sent, dict):
            return self.documented(call.endpoint, 400, "error-invalid-params")
        if not _truthy(sent.get("rid")):
            return self.documented(call.endpoint, 400, None)
        return None

    def _refine_post(self, call: Call, message: str) -> JsonReply | None:
        """The server validates the body with its ChatPostMessageSchema first: any failure (no
        target, both targets, an unknown key) is error-invalid-params."""
        return self.documented(call.endpoint, 400, "error-invalid-params")

    def _refine_room_param(self, call: Call, message: str) -> JsonReply | None:
        if not _truthy(call.params.get("roomId")) and not _truthy(call.params.get("roomName")):
            return self.documented(call.endpoint, 400, "error-roomid-param-not-provided")
        return None

    def _refine_update(self, call: Call, message: str) -> JsonReply | None:
        if not _truthy(call.params.get("msgId")):
            return self.documented(call.endpoint, 400, "error-messageid-param-not-provided")
        return None

    # helpers -------------------------------------------------------------------------
    def _page(self, params: Mapping[str, Any], default: int) -> tuple[int, int]:
        """offset and count as Rocket.Chat's getPaginationItems: no count is ``default``, a count
        over "Max Record Amount" (API_Upper_Count_Limit, 100) is clamped to it, and 0 means
        everything (API_Allow_Infinite_Count, on by default)."""
        offset = digits(params.get("offset") or 0)
        count = digits(params["count"]) if params.get("count") not in (None, "") else default
        if count == 0:
            return offset, MAX_NUMBER
        return offset, min(count, self.world.settings["maxCount"])

    @staticmethod
    def _sort(params: Mapping[str, Any]) -> dict[str, Any] | None:
        raw = params.get("sort")
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise ApiError(failure(f'Invalid sort parameter provided: "{raw}"', "error-invalid-sort")) from None
        if not isinstance(value, dict) or not all(direction in (1, -1) for direction in value.values()):
            raise ApiError(failure(f'Invalid sort parameter provided: "{raw}"', "error-invalid-sort"))
        return value

    @staticmethod
    def _sorted(items: list[dict[str, Any]], sort: Mapping[str, int]) -> list[dict[str, Any]]:
        ordered = list(items)
        for key, direction in reversed(list(sort.items())):
            ordered.sort(key=lambda item: (item.get(key) is None, str(item.get(key, ""))), reverse=direction == -1)
        return ordered

    def _channel(self, call: Call, user: User) -> Room:
        """The public channel named by roomId/roomName that the user belongs to, or error-room-not-found."""
        room_id, room_name = call.params.get("roomId"), call.params.get("roomName")
        room = self.world.rooms.get(str(room_id)) if _truthy(room_id) else self.world.room_by_name(str(room_name))
        if room is None or room.t != "c" or user.id not in room.member_set:
            raise ApiError(self.documented(call.endpoint, 400, "error-room-not-found"))
        return room

    def _date(self, params: Mapping[str, Any], name: str) -> int | None:
        raw = params.get(name)
        if raw is None:
            return None
        try:
            return parse_iso(str(raw))
        except ValueError:
            raise ApiError(failure(f'The "{name}" query parameter must be a valid date.', "error-invalid-date")) from None

    def _check_message(self, doc: dict[str, Any]) -> None:
        problems = self.registry.model_errors(MESSAGE_MODEL, doc)
        if problems:
            raise ApiError(failure(f"Invalid message: {problems[0]}", "error-invalid-params"))

    def _store(self, room: Room, doc: dict[str, Any]) -> Stored:
        stored = self.world.add_message(doc)
        parent = self.world.message_in(room.id, str(doc.get("tmid", "")))
        if parent is not None and parent.doc.get("rid") == room.id and parent is not stored:
            parent.doc["tcount"] = int(parent.doc.get("tcount", 0)) + 1
            parent.doc["tlm"] = doc["ts"]
            replies = parent.doc.setdefault("replies", [])
            if doc["u"]["_id"] not in replies:
                replies.append(doc["u"]["_id"])
        self.hub.publish(topic(room.id))
        return stored

    def _new_message(self, room: Room, user: User, fields: Mapping[str, Any]) -> dict[str, Any]:
        now = iso(self.world.now_ms())
        doc = {key: value for key, value in fields.items() if key not in SERVER_FIELDS}
        text = str(doc.get("msg", ""))
        doc.update(
            {
                "_id": str(doc.get("_id") or new_id()),
                "rid": room.id,
                "msg": text,
                "ts": now,
                "u": render.user_ref(user),
                "_updatedAt": now,
            }
        )
        doc.setdefault("mentions", render.mentions(self.world, text))
        doc.setdefault("channels", render.channels(self.world, text))
        return doc

    def _join(self, room: Room, user: User) -> bool:
        """Make the user a member (False: already one); the room's _updatedAt moves."""
        if not self.world.add_member(room, user.id):
            return False
        room.updated_ms = max(room.updated_ms, self.world.now_ms())
        return True

    def _direct_room(self, user: User, other: User) -> Room:
        room_id = dm_id((user.id, other.id))
        room = self.world.rooms.get(room_id)
        if room is None:
            now = self.world.now_ms()
            room = Room(id=room_id, t="d", name=None, members=list(dict.fromkeys((user.id, other.id))), creator=None,
                        created_ms=now, updated_ms=now)  # fmt: skip
            self.world.add_room(room)
        return room

    def _target(self, user: User, target: str) -> Room | None:
        """processWebhookMessage's channel resolution: #name, @username, or a room id/name,
        else a user id (direct message). The sender joins a public channel it is not in
        (joinChannel: true); other rooms only when a member."""
        kind, value = target[:1], target[1:]
        room: Room | None
        if kind == "#":
            room = self.world.room_by_name(value) or self.world.rooms.get(value)
        elif kind == "@":
            other = self.world.user_by_name(value)
            return self._direct_room(user, other) if other is not None else None
        else:
            room = self.world.rooms.get(target) or self.world.room_by_name(target)
            if room is None and target in self.world.users:
                return self._direct_room(user, self.world.users[target])
        if room is not None and room.t == "c" and not room.extra.get("archived"):
            self._join(room, user)
        if room is None or user.id not in room.member_set:
            return None
        return room

    # auth ----------------------------------------------------------------------------
    @handles("rocketchat.login")
    async def login(self, call: Call) -> Reply:
        """A password login (the password compared as bytes in constant time, an unknown user
        costing the same comparison) or a ``resume`` with a login token; any failure is the one
        documented 401. Throttled like every credential check (``settings.auth_failure_limit``)."""
        params, world = call.params, self.world
        now = self.store.clock.timestamp()
        if self.failures.limit is not None:
            self._refuse_if_throttled(call)
        if self.idle is not None:
            for token in world.last_use.idle(now, self.idle):  # idle login tokens end (oldest first)
                world.end_token(token)
        user: User | None = None
        if not self.profile.form_bodies and media_type(call.headers.get("content-type", "")) == FORM:
            params = {}  # 7.6+: a form body is read as raw text, so no credentials are found
        name = next((str(params[key]) for key in ("user", "username", "email") if params.get(key)), "")
        if "resume" in params and not name:
            token = str(params["resume"])
            owner = world.tokens.get(token)
            if owner is not None and (self.idle is None or owner[1] != LOGIN_TOKEN or world.last_use.fresh(token, now, self.idle)):
                user = world.users.get(owner[0])
        else:
            token = ""
            candidate = world.user_by_login(name)  # username or e-mail, as loginCompatibility reads user/username/email
            known = candidate.password if candidate is not None else None
            if same_secret(str(params.get("password", "")), known) and candidate is not None:
                user = candidate
        if user is None or not user.active:
            self.failures.failed(client_of(call), now)
            return self.errors.login_failed()
        if not token:
            token = world.issue_token(user.id, now=now)  # earlier tokens stay valid [inferred: seed 004 unsure]
        user.last_login_ms = self.world.now_ms()
        body: dict[str, Any] = {"status": "success", "data": {"authToken": token, "userId": user.id, "me": render.me(user, call.base_url)}}
        if self.profile.login_success_key:
            body["success"] = True
        return JsonReply(200, body)

    @handles("rocketchat.logout")
    async def logout(self, call: Call) -> Reply:
        self.world.end_token(call.credential)  # this token only; a PAT used here ends too [inferred]
        return JsonReply(200, {"status": "success", "data": {"message": "You've been logged out!"}})

    @handles("rocketchat.me")
    async def me(self, call: Call) -> Reply:
        return JsonReply(200, {**render.me(principal(call), call.base_url), "success": True})

    # users and rooms -----------------------------------------------------------------
    @handles("rocketchat.users.list")
    async def users_list(self, call: Call) -> Reply:
        offset, count = self._page(call.params, self.world.settings["defaultCount"])
        users = [render.list_user(user) for user in self.world.users.values()]
        email = call.params.get("email")
        if email:
            users = [item for item in users if any(mail["address"].lower() == str(email).lower() for mail in item.get("emails", ()))]
        try:
            sort = self._sort(call.params) or {"username": 1}
        except ApiError:  # users.list documents no 400: an unreadable sort is ignored [inferred]
            sort = {"username": 1}
        users = self._sorted(users, sort)
        page = users[offset : offset + count]
        return JsonReply(200, {"users": page, "count": len(page), "offset": offset, "total": len(users), "success": True})

    @handles("rocketchat.rooms.get")
    async def rooms_get(self, call: Call) -> Reply:
        user = principal(call)
        since = self._date(call.params, "updatedSince")
        rooms = self.world.rooms_of(user.id)
        removed: list[dict[str, Any]] = []
        if since is not None:
            rooms = [room for room in rooms if room.updated_ms > since]
            removed = [{"_id": item["_id"]} for item in self.world.removed if user.id in item["members"] and item["ms"] > since]
        return JsonReply(200, {"update": [render.room(self.world, room) for room in rooms], "remove": removed, "success": True})

    # messages ------------------------------------------------------------------------
    @handles("rocketchat.chat.sendMessage")
    async def send_message(self, call: Call) -> Reply:
        user = principal(call)
        fields = dict(call.params["message"])
        room = self.world.rooms.get(str(fields["rid"]))
        if room is None or user.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-invalid-room")
        wanted = fields.get("_id")
        # an id only a message of a room the sender cannot see has is free here (no existence oracle)
        if wanted is not None and self.world.visible_message(str(wanted), user.id) is not None:
            return failure(f'A message with the id "{wanted}" already exists', "error-invalid-params")  # [inferred]
        doc = self._new_message(room, user, fields)
        self._check_message(doc)
        stored = self._store(room, doc)
        return JsonReply(200, {"message": render.message(stored), "success": True})

    @handles("rocketchat.chat.postMessage")
    async def post_message(self, call: Call) -> Reply:
        user = principal(call)
        params = call.params
        raw = params["channel"] if "channel" in params else params["roomId"]
        targets = [str(item) for item in (raw if isinstance(raw, list) else [raw])]
        if not targets:
            return self.documented(call.endpoint, 400, "invalid-channel")
        rooms: list[Room] = []
        for target in targets:
            room = self._target(user, target)
            if room is None:
                return self.documented(call.endpoint, 400, "invalid-channel")
            rooms.append(room)
        attachments = params.get("attachments")
        fields: dict[str, Any] = {
            "alias": params.get("alias") or "",
            "msg": str(params.get("text") or "").strip(),
            "parseUrls": not attachments,
            "groupable": False,
        }
        for key in ("emoji", "avatar", "attachments", "customFields"):
            if params.get(key) is not None:
                fields[key] = params[key]
        docs = [self._new_message(room, user, fields) for room in rooms]
        for doc in docs:
            self._check_message(doc)
        stored = [self._store(room, doc) for room, doc in zip(rooms, docs, strict=True)]
        first = stored[0]
        return JsonReply(200, {"ts": first.ms, "channel": targets[0], "message": render.message(first), "success": True})

    @handles("rocketchat.chat.update")
    async def update(self, call: Call) -> Reply:
        user = principal(call)
        params = call.params
        message_id = str(params["msgId"])
        room = self.world.rooms.get(str(params["roomId"]))
        stored = self.world.message_in(room.id, message_id) if room is not None and user.id in room.member_set else None
        if stored is None or room is None:
            if self.world.visible_message(message_id, user.id) is None:  # none, or only in rooms the caller cannot see
                return failure(f'No message found with the id of "{message_id}".')
            return failure("The room id provided does not match where the message is from.")
        if stored.doc.get("u", {}).get("_id") != user.id:
            return failure("Message editing not allowed", "error-action-not-allowed")
        now = iso(self.world.now_ms())
        text = str(params["text"])
        doc = dict(stored.doc)
        doc.update(
            {
                "msg": text,
                "editedAt": now,
                "editedBy": render.editor(user),
                "_updatedAt": now,
                "mentions": render.mentions(self.world, text),
                "channels": render.channels(self.world, text),
            }
        )
        if "customFields" in params:
            doc["customFields"] = params["customFields"]
        self._check_message(doc)
        stored.doc = doc
        room.updated_ms = max(room.updated_ms, parse_iso(now))
        self.hub.publish(topic(room.id))
        return JsonReply(200, {"message": render.message(stored), "success": True})

    @handles("rocketchat.channels.history")
    async def channels_history(self, call: Call) -> Reply:
        user = principal(call)
        room = self._channel(call, user)
        params = call.params
        latest, oldest = self._date(params, "latest"), self._date(params, "oldest")
        inclusive = params.get("inclusive") == "true"
        hide_threads = params.get("showThreadMessages") == "false"
        offset, count = self._page(params, self.world.settings["historyCount"])
        # negative bounds (which the schema rules out) count from the end: then every match is needed
        wanted = offset + count if offset >= 0 and count >= 0 else None
        found = self._history(self.world.timeline(room.id), latest, oldest, inclusive, hide_threads, wanted)
        page = found[offset : offset + count]
        return JsonReply(200, {"messages": [render.message(stored) for stored in page], "success": True})

    @staticmethod
    def _history(
        timeline: list[Stored], latest: int | None, oldest: int | None, inclusive: bool, hide_threads: bool, wanted: int | None
    ) -> list[Stored]:
        """The matching messages newest first, at most ``wanted``: the timeline is in ts order, so
        ``latest`` is found by bisection and the walk stops below ``oldest`` or when enough are found."""
        end = len(timeline)
        if latest is not None:
            end = (bisect.bisect_right if inclusive else bisect.bisect_left)(timeline, latest, key=lambda stored: stored.ms)
        found: list[Stored] = []
        for index in range(end - 1, -1, -1):
            if wanted is not None and len(found) >= wanted:
                break
            stored = timeline[index]
            if oldest is not None and (stored.ms < oldest or (stored.ms == oldest and not inclusive)):
                break
            if hide_threads and stored.doc.get("tmid") and not stored.doc.get("tshow"):
                continue
            found.append(stored)
        return found

    @handles("rocketchat.channels.messages")
    async def channels_messages(self, call: Call) -> Reply:
        user = principal(call)
        room = self._channel(call, user)
        params = call.params
        offset, count = self._page(params, self.world.settings["defaultCount"])
        sort = self._sort(params)
        timeline = self.world.timeline(room.id)
        mention_ids = self._id_list(params.get("mentionIds"))
        starred_ids = self._id_list(params.get("starredIds"))
        unfiltered = mention_ids is None and starred_ids is None and params.get("pinned") != "true"
        if sort is None and unfiltered and offset >= 0 and count >= 0:
            return self._newest_page(timeline, offset, count)
        messages = [render.message(stored) for stored in reversed(timeline)]  # newest first
        if mention_ids is not None:
            messages = [item for item in messages if any(m.get("_id") in mention_ids for m in item.get("mentions", ()))]
        if starred_ids is not None:
            messages = [item for item in messages if any(s.get("_id") in starred_ids for s in item.get("starred", ()))]
        if params.get("pinned") == "true":
            messages = [item for item in messages if item.get("pinned")]
        if sort is not None:
            messages = self._sorted(messages, sort)
        page = messages[offset : offset + count]
        return JsonReply(200, {"messages": page, "count": len(page), "offset": offset, "total": len(messages), "success": True})

    @staticmethod
    def _newest_page(timeline: list[Stored], offset: int, count: int) -> JsonReply:
        """channels.messages without filters or sort: the page newest first, sliced from the
        end of the timeline (no pass over the other messages)."""
        total = len(timeline)
        stop = max(0, total - offset)
        page = [render.message(stored) for stored in reversed(timeline[max(0, stop - count) : stop])] if count > 0 else []
        return JsonReply(200, {"messages": page, "count": len(page), "offset": offset, "total": total, "success": True})

    @staticmethod
    def _id_list(raw: Any) -> set[str] | None:
        """A user id, or a JSON array string of user ids."""
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return {str(raw)}
        if isinstance(value, list):
            return {str(item) for item in value}
        return {str(raw)}
