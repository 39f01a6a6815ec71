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
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from mockserver.apis.rocketchat import render
from mockserver.apis.rocketchat.admin import Admin
from mockserver.apis.rocketchat.auth import authenticate, principal
from mockserver.apis.rocketchat.ddp.endpoint import RealtimeApi
from mockserver.apis.rocketchat.directory import Directory
from mockserver.apis.rocketchat.errors import VALIDATION_TYPE, Errors, failure
from mockserver.apis.rocketchat.hooks import Hooks
from mockserver.apis.rocketchat.messages_more import MessagesMore
from mockserver.apis.rocketchat.profile import Profile, profile_of
from mockserver.apis.rocketchat.rooms_more import RoomsMore
from mockserver.apis.rocketchat.world import LOGIN as LOGIN_TOKEN
from mockserver.apis.rocketchat.world import WORLD_FILE, Room, Stored, User, World, credentials, dm_id, iso, new_id, parse_iso, reacted
from mockserver.core.apibase import BaseApi, handles
from mockserver.core.call import ApiError, BinaryReply, Call, JsonReply, Problem, Reply
from mockserver.core.guard import FailureLimit, client_of, same_secret
from mockserver.core.hub import Hub
from mockserver.core.parse import FORM, media_type
from mockserver.core.registry import ErrorCode, Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials, WorldError

LOGIN = "rocketchat.login"
MESSAGE_MODEL = "rocketchat.Message"
# fields of a sent message object the server sets itself, whatever the client says [inferred]
SERVER_FIELDS = ("u", "ts", "_updatedAt", "editedAt", "editedBy", "tcount", "tlm", "replies", "_hidden")
MAX_NUMBER = 10**18  # a digit parameter longer than int() is asked to read is read as this
DEFAULT_VERSION = "7.5.0"  # what /api/info reports without a version profile [inferred: the last version parsing form logins]
FORBIDDEN = "User does not have the permissions required for this action [error-unauthorized]"  # forbidden() (ApiClass.ts)
_ROOM_NAME = re.compile(r"^[0-9a-zA-Z._-]+$")  # UTF8_Channel_Names_Validation's default


def topic(room_id: str) -> str:
    return f"rocketchat.room.{room_id}"


def digits(value: Any) -> int:
    """A parameter the schema allows only digits in (count, offset), as an integer of at most
    :data:`MAX_NUMBER` (a digit string too long for ``int()`` to read is read as that)."""
    text = str(value).lstrip("0") or "0"
    return MAX_NUMBER if len(text) > 18 else int(text)


def _truthy(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


class RocketChatApi(RealtimeApi, RoomsMore, MessagesMore, Directory, Admin, Hooks, BaseApi[World]):
    name = "rocketchat"
    world_file = WORLD_FILE

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)
        self.base_profile = profile_of(settings.api_options.get(self.name))  # --rocketchat-version (None: the default)
        self._use_profile(self.base_profile)
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
        """A new world from ``spec``; every seeded message must be a ``rocketchat.Message``.
        The world's ``version`` (a seed's) picks the version profile while it is in force, over
        the API option (``--rocketchat-version``); without one, the option's profile."""
        profile = self._world_profile(spec)
        world = World(self.store)
        world.load(spec, self._message_problem)
        self._use_profile(profile)
        return world

    def _world_profile(self, spec: Mapping[str, Any]) -> Profile:
        version = spec.get("version") if isinstance(spec, Mapping) else None
        if version is None:
            return self.base_profile
        try:
            return profile_of({"version": version if isinstance(version, str) else repr(version)})
        except ValueError as error:
            raise WorldError("$.version", str(error)) from None

    def _use_profile(self, profile: Profile) -> None:
        self.profile = profile
        self.errors = Errors(self.registry, self.name, LOGIN, profile)

    def _message_problem(self, doc: dict[str, Any]) -> str | None:
        problems = self.registry.model_errors(MESSAGE_MODEL, doc)
        return problems[0] if problems else None

    def credentials(self) -> Credentials:
        return credentials(self.world_document())

    def secrets(self) -> list[str]:
        passwords = [user.password for user in self.world.users.values() if user.password]
        secret = self.world.server_settings.get("CREATE_TOKENS_FOR_USERS_SECRET")
        hooks = [str(item["token"]) for item in self.world.integrations.values()]
        return passwords + list(self.world.tokens) + hooks + ([str(secret)] if secret else [])

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
        if refine is not None:
            return refine(call, message)
        return self._refine_missing(call)

    def _refine_missing(self, call: Call) -> JsonReply | None:
        """A missing room or message id as the endpoint documents it (e.g. channels.info's
        error-roomid-param-not-provided, groups.info's error-room-param-not-provided)."""
        params, endpoint = call.params, call.endpoint
        if not _truthy(params.get("roomId")) and not _truthy(params.get("roomName")):
            for code in ("error-roomid-param-not-provided", "error-room-param-not-provided"):
                if endpoint.error_case(400, code) is not None:
                    return self.documented(endpoint, 400, code)
        if not _truthy(params.get("messageId")) and endpoint.error_case(400, "error-messageid-param-not-provided") is not None:
            return self.documented(endpoint, 400, "error-messageid-param-not-provided")
        if not _truthy(params.get("msgId")) and endpoint.id == "rocketchat.chat.getMessage":
            return self.documented(endpoint, 400, None)  # its documented 400 without errorType
        return None

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
        self.realtime.message(stored.doc)
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
        self.realtime.subscription_changed(user, room, "inserted")
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
        if room is not None and user.id not in room.member_set and room.t == "c" and not room.extra.get("archived"):
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
        for key in ("emoji", "avatar", "attachments", "customFields", "tmid"):
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
        self.realtime.message(doc, inserted=False)
        self.hub.publish(topic(room.id))
        return JsonReply(200, {"message": render.message(stored), "success": True})

    @handles("rocketchat.channels.history")
    async def channels_history(self, call: Call) -> Reply:
        user = principal(call)
        room = self._channel(call, user)
        return self._history_reply(call, room)

    def _history_reply(self, call: Call, room: Room) -> JsonReply:
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
        return self._messages_reply(call, self._channel(call, principal(call)))

    def _messages_reply(self, call: Call, room: Room) -> JsonReply:
        """channels.messages / groups.messages of ``room``: a page newest first, with filters."""
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

    # rooms ---------------------------------------------------------------------------
    def _room(self, call: Call, user: User, kind: str) -> Room:
        """The room named by roomId (else roomName) of this type: any public channel, a
        private group only when the caller is a member; else the documented error-room-not-found."""
        room_id, room_name = call.params.get("roomId"), call.params.get("roomName")
        room = self.world.rooms.get(str(room_id)) if _truthy(room_id) else self.world.room_by_name(str(room_name or ""))
        if room is None or room.t != kind or (kind != "c" and user.id not in room.member_set):
            raise ApiError(self.documented(call.endpoint, 400, "error-room-not-found"))
        return room

    def _room_reply(self, kind: str, room: Room) -> JsonReply:
        return JsonReply(200, {"channel" if kind == "c" else "group": render.room_info(self.world, room), "success": True})

    async def _info(self, call: Call, kind: str) -> Reply:
        return self._room_reply(kind, self._room(call, principal(call), kind))

    @handles("rocketchat.channels.info")
    async def channels_info(self, call: Call) -> Reply:
        return await self._info(call, "c")

    @handles("rocketchat.groups.info")
    async def groups_info(self, call: Call) -> Reply:
        return await self._info(call, "p")

    async def _create(self, call: Call, kind: str) -> Reply:
        user, params, world = principal(call), call.params, self.world
        if not world.can(user, f"create-{kind}"):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        name = str(params["name"])
        if not _ROOM_NAME.match(name):
            return failure(f"{name} is not a valid room name", "error-invalid-room-name")
        if world.room_by_name(name) is not None:
            return failure(f"A channel with name '{name}' exists", "error-duplicate-channel-name")
        members = [] if params.get("excludeSelf") else [user.id]
        for username in params.get("members") or ():
            member = world.user_by_name(str(username))
            if member is not None and member.id not in members:
                members.append(member.id)
        now = world.now_ms()
        extra: dict[str, Any] = {"fname": name, "ro": bool(params.get("readOnly", False)), "sysMes": True, "default": False}
        if isinstance(params.get("customFields"), dict):
            extra["customFields"] = params["customFields"]
        room = Room(id=new_id(), t=kind, name=name, members=members, creator=user.id, created_ms=now, updated_ms=now, extra=extra)
        world.add_room(room)
        if user.id in room.member_set:
            world.set_room_role(room, user.id, "owner", True)
        return self._room_reply(kind, room)

    @handles("rocketchat.channels.create")
    async def channels_create(self, call: Call) -> Reply:
        return await self._create(call, "c")

    @handles("rocketchat.groups.create")
    async def groups_create(self, call: Call) -> Reply:
        return await self._create(call, "p")

    def _may_add(self, user: User, room: Room) -> bool:
        """addUsersToRoom: a member with add-user-to-joined-room, or add-user-to-any-<t>-room."""
        world = self.world
        if user.id in room.member_set and world.can(user, "add-user-to-joined-room", room):
            return True
        return world.can(user, f"add-user-to-any-{room.t}-room")

    async def _invite(self, call: Call, kind: str) -> Reply:
        user, params, world = principal(call), call.params, self.world
        room = self._room(call, user, kind)
        if "username" in params or "usernames" in params:
            names = [params["username"]] if "username" in params else list(params.get("usernames") or ())
            invited = [world.user_by_name(str(item)) for item in names]
        else:
            wanted = [params["userId"]] if "userId" in params else list(params.get("userIds") or ())
            invited = [world.users.get(str(item)) for item in wanted]
        if not self._may_add(user, room):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        if any(item is None for item in invited):
            return failure("Invalid user", "error-invalid-user")
        for item in invited:
            if item is not None:
                self._join(room, item)
        return self._room_reply(kind, room)

    @handles("rocketchat.channels.invite")
    async def channels_invite(self, call: Call) -> Reply:
        return await self._invite(call, "c")

    @handles("rocketchat.groups.invite")
    async def groups_invite(self, call: Call) -> Reply:
        return await self._invite(call, "p")

    async def _leave(self, call: Call, kind: str) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        if user.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-user-not-in-room")
        owners = world.holders(room, "owner")
        if owners == [user.id]:
            return self.documented(call.endpoint, 400, "error-you-are-last-owner")
        self.realtime.subscription_changed(user, room, "removed")
        world.remove_member(room, user.id)
        room.updated_ms = max(room.updated_ms, world.now_ms())
        if kind == "c":
            return self._room_reply(kind, room)
        return JsonReply(200, {"success": True})

    @handles("rocketchat.channels.leave")
    async def channels_leave(self, call: Call) -> Reply:
        return await self._leave(call, "c")

    @handles("rocketchat.groups.leave")
    async def groups_leave(self, call: Call) -> Reply:
        return await self._leave(call, "p")

    def _room_page(self, call: Call, key: str, rooms: list[Room]) -> JsonReply:
        params = call.params
        offset, count = self._page(params, self.world.settings["defaultCount"])
        sort = self._sort(params) or {"name": 1}
        items = self._sorted([render.room_info(self.world, room) for room in rooms], sort)
        page = items[offset : offset + count]
        return JsonReply(200, {key: page, "count": len(page), "offset": offset, "total": len(items), "success": True})

    @handles("rocketchat.channels.list")
    async def channels_list(self, call: Call) -> Reply:
        return self._room_page(call, "channels", [room for room in self.world.rooms.values() if room.t == "c"])

    @handles("rocketchat.channels.list.joined")
    async def channels_list_joined(self, call: Call) -> Reply:
        user = principal(call)
        return self._room_page(call, "channels", [room for room in self.world.rooms_of(user.id) if room.t == "c"])

    @handles("rocketchat.groups.list")
    async def groups_list(self, call: Call) -> Reply:
        user = principal(call)
        return self._room_page(call, "groups", [room for room in self.world.rooms_of(user.id) if room.t == "p"])

    async def _dm_create(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        names = (
            [str(params["username"])]
            if "username" in params
            else [name.strip() for name in str(params["usernames"]).split(",") if name.strip()]
        )
        others = [world.user_by_name(name) for name in names]
        found = [other for other in others if other is not None]
        if not found or len(found) != len(others):
            return self.documented(call.endpoint, 400, "error-invalid-user")
        if not world.can(user, "create-d"):
            return self.documented(call.endpoint, 400, "error-invalid-user")  # [inferred: createDirectMessage refuses]
        members = list(dict.fromkeys(([] if params.get("excludeSelf") else [user.id]) + [other.id for other in found]))
        room_id = dm_id(members)
        room = world.rooms.get(room_id)
        if room is None:
            now = world.now_ms()
            room = Room(id=room_id, t="d", name=None, members=members, creator=None, created_ms=now, updated_ms=now)
            world.add_room(room)
        usernames = [world.users[member].username for member in room.members if member in world.users]
        return JsonReply(200, {"room": {"_id": room.id, "t": "d", "rid": room.id, "usernames": usernames}, "success": True})

    @handles("rocketchat.im.create")
    async def im_create(self, call: Call) -> Reply:
        return await self._dm_create(call)

    @handles("rocketchat.dm.create")
    async def dm_create(self, call: Call) -> Reply:
        return await self._dm_create(call)

    # users ---------------------------------------------------------------------------
    @handles("rocketchat.users.info")
    async def users_info(self, call: Call) -> Reply:
        caller, params, world = principal(call), call.params, self.world
        user: User | None = None
        if _truthy(params.get("userId")):
            user = world.users.get(str(params["userId"]))
        elif _truthy(params.get("username")):
            user = world.user_by_name(str(params["username"]))
        if user is None:
            return self.documented(call.endpoint, 400, "User not found.")
        full = user.id == caller.id or world.can(caller, "view-full-other-user-info")
        body = render.user_info(user, full)
        if params.get("includeUserRooms") == "true" and full:
            body["rooms"] = [{"rid": room.id, "name": room.name or room.id, "t": room.t} for room in world.rooms_of(user.id)]
        return JsonReply(200, {"user": body, "success": True})

    # messages ------------------------------------------------------------------------
    @handles("rocketchat.chat.react")
    async def chat_react(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        emoji = params.get("emoji") or params.get("reaction")
        stored = self.world.visible_message(str(params["messageId"]), user.id)
        if stored is None:
            return self.documented(call.endpoint, 400, "error-message-not-found")
        if not emoji:
            return failure('The required "emoji" param is missing.', "error-emoji-param-not-provided")
        should = params.get("shouldReact")
        doc = reacted(stored.doc, str(emoji), user.username, None if should is None else bool(should))
        doc["_updatedAt"] = iso(self.world.now_ms())
        stored.doc = doc
        self.realtime.message(doc, inserted=False)
        self.hub.publish(topic(str(doc["rid"])))
        return JsonReply(200, {"success": True})

    @handles("rocketchat.chat.delete")
    async def chat_delete(self, call: Call) -> Reply:
        user, params, world = principal(call), call.params, self.world
        if "msgId" not in params or "roomId" not in params:  # by fileId: no upload of the mock's carries that id [inferred]
            return failure(f'No message found with the id of "{params.get("fileId", "")}".')
        message_id = str(params["msgId"])
        room = world.rooms.get(str(params["roomId"]))
        stored = world.message_in(room.id, message_id) if room is not None and user.id in room.member_set else None
        if stored is None or room is None:
            if world.visible_message(message_id, user.id) is None:
                return failure(f'No message found with the id of "{message_id}".')
            return failure("The room id provided does not match where the message is from.")
        own = stored.doc.get("u", {}).get("_id") == user.id
        if not own and not world.can(user, "delete-message", room):
            return failure("Not allowed", "error-action-not-allowed")
        world.remove_message(room.id, message_id)
        now = world.now_ms()
        room.updated_ms = max(room.updated_ms, now)
        self.realtime.deleted(room.id, message_id)
        self.hub.publish(topic(room.id))
        sender = stored.doc.get("u", {})
        return JsonReply(
            200, {"_id": message_id, "ts": str(now), "message": {"_id": message_id, "rid": room.id, "u": sender}, "success": True}
        )

    # server --------------------------------------------------------------------------
    def _version(self) -> str:
        version = self.profile.version
        return DEFAULT_VERSION if version is None else ".".join(str(part) for part in version)

    @handles("rocketchat.info")
    async def info(self, call: Call) -> Reply:
        return JsonReply(200, {"version": self._version(), "success": True})

    @handles("rocketchat.v1.info")
    async def v1_info(self, call: Call) -> Reply:
        if not self.profile.v1_info:
            return self.error(Problem.NOT_FOUND, "removed in Rocket.Chat 4.0")
        return JsonReply(200, {"version": self._version()})

    # room roles, membership and settings --------------------------------------------------
    def _member_arg(self, call: Call, room: Room) -> User:
        other = self.world.users.get(str(call.params["userId"]))
        if other is None:
            raise ApiError(failure("Invalid user", "error-invalid-user"))
        return other

    async def _room_role(self, call: Call, kind: str, role: str, on: bool) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        other = self._member_arg(call, room)
        if not world.can(user, f"set-{role}", room):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        if other.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-user-not-in-room")
        if on and not world.set_room_role(room, other.id, role, True):
            return self.documented(call.endpoint, 400, f"error-user-already-{role}")
        if not on:
            if role == "owner" and world.holders(room, "owner") == [other.id]:
                return self.documented(call.endpoint, 400, "error-remove-last-owner")
            if not world.set_room_role(room, other.id, role, False):
                return self.documented(call.endpoint, 400, f"error-user-not-{role}")
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return JsonReply(200, {"success": True})

    async def _kick(self, call: Call, kind: str) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        other = self._member_arg(call, room)
        if not world.can(user, "remove-user", room):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        if other.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-user-not-in-room")
        if world.holders(room, "owner") == [other.id]:
            return self.documented(call.endpoint, 400, "error-you-are-last-owner")
        self.realtime.subscription_changed(other, room, "removed")
        world.remove_member(room, other.id)
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return self._room_reply(kind, room)

    def _editable(self, call: Call, kind: str) -> Room:
        user = principal(call)
        room = self._room(call, user, kind)
        if not self.world.can(user, "edit-room", room):
            raise ApiError(self.documented(call.endpoint, 400, "error-action-not-allowed"))
        return room

    async def _set_text(self, call: Call, kind: str, field: str) -> Reply:
        room = self._editable(call, kind)
        value = str(call.params[field])
        room.extra[field] = value
        room.updated_ms = max(room.updated_ms, self.world.now_ms())
        return JsonReply(200, {field: value, "success": True})

    async def _set_read_only(self, call: Call, kind: str) -> Reply:
        room = self._editable(call, kind)
        wanted = bool(call.params["readOnly"])
        if bool(room.extra.get("ro", False)) == wanted:
            return self.documented(call.endpoint, 400, "error-room-readonly-unchanged")
        room.extra["ro"] = wanted
        room.updated_ms = max(room.updated_ms, self.world.now_ms())
        return self._room_reply(kind, room)

    async def _rename(self, call: Call, kind: str) -> Reply:
        room, world = self._editable(call, kind), self.world
        name = str(call.params["name"])
        if not _ROOM_NAME.match(name):
            return failure(f"{name} is not a valid room name", "error-invalid-room-name")
        holder = world.room_by_name(name)
        if holder is not None and holder is not room:
            return failure(f"A channel with name '{name}' exists", "error-duplicate-channel-name")
        if room.name is not None and world.room_names.get(room.name) is room:
            del world.room_names[room.name]
        room.name = name
        room.extra["fname"] = name
        world.room_names[name] = room
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return self._room_reply(kind, room)

    async def _archive(self, call: Call, kind: str, archive: bool) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        if not world.can(user, "archive-room" if archive else "unarchive-room", room):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        word = "channel" if kind == "c" else "group"
        if archive == bool(room.extra.get("archived")):
            code = "error-room-archived" if archive else "error-room-not-archived"
            return failure(f"The {word}, {room.name}, is {'already' if archive else 'not'} archived", code)
        room.extra["archived"] = archive
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return JsonReply(200, {"success": True})

    async def _delete_room(self, call: Call, kind: str) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        if not world.can(user, f"delete-{kind}", room):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        for stored in list(world.timeline(room.id)):
            world.remove_message(room.id, str(stored.doc["_id"]))
        world.timelines.pop(room.id, None)
        world.rooms.pop(room.id, None)
        world.room_roles.pop(room.id, None)
        if room.name is not None and world.room_names.get(room.name) is room:
            del world.room_names[room.name]
        world.removed.append({"_id": room.id, "members": list(room.members), "ms": world.now_ms()})
        return JsonReply(200, {"success": True})

    async def _members(self, call: Call, kind: str) -> Reply:
        user, world = principal(call), self.world
        room = self._room(call, user, kind)
        offset, count = self._page(call.params, world.settings["defaultCount"])
        wanted = str(call.params.get("filter") or "").lower()
        members = [world.users[member] for member in room.members if member in world.users]
        if wanted:
            members = [member for member in members if wanted in member.username.lower() or wanted in member.name.lower()]
        items = [{"_id": m.id, "username": m.username, "name": m.name, "status": m.status, "utcOffset": m.utc_offset} for m in members]
        page = items[offset : offset + count]
        return JsonReply(200, {"members": page, "count": len(page), "offset": offset, "total": len(items), "success": True})

    @handles("rocketchat.channels.join")
    async def channels_join(self, call: Call) -> Reply:
        user = principal(call)
        room = self._room(call, user, "c")
        code = room.extra.get("joinCode")
        if room.extra.get("archived"):
            return self.documented(call.endpoint, 400, "error-room-archived")
        if code and user.id not in room.member_set and str(call.params.get("joinCode", "")) != str(code):
            return self.documented(call.endpoint, 400, "error-code-invalid")
        self._join(room, user)
        return self._room_reply("c", room)

    @handles("rocketchat.channels.setJoinCode")
    async def channels_set_join_code(self, call: Call) -> Reply:
        room = self._editable(call, "c")
        code = str(call.params["joinCode"])
        if code:
            room.extra["joinCode"] = code
        else:
            room.extra.pop("joinCode", None)
        room.updated_ms = max(room.updated_ms, self.world.now_ms())
        return self._room_reply("c", room)

    @handles("rocketchat.groups.history")
    async def groups_history(self, call: Call) -> Reply:
        user = principal(call)
        room = self._room(call, user, "p")
        return self._history_reply(call, room)

    @handles("rocketchat.users.getPresence")
    async def users_get_presence(self, call: Call) -> Reply:
        caller, params, world = principal(call), call.params, self.world
        user: User | None = caller
        if _truthy(params.get("userId")):
            user = world.users.get(str(params["userId"]))
        elif _truthy(params.get("username")):
            user = world.user_by_name(str(params["username"]))
        if user is None:
            return self.documented(call.endpoint, 400, "User not found.")
        body: dict[str, Any] = {"presence": user.status, "success": True}
        if user is caller:
            body["connectionStatus"] = "online" if user.status != "offline" else "offline"
            if user.last_login_ms is not None:
                body["lastLogin"] = iso(user.last_login_ms)
        return JsonReply(200, body)

    @handles("rocketchat.chat.getMessage")
    async def chat_get_message(self, call: Call) -> Reply:
        user = principal(call)
        stored = self.world.visible_message(str(call.params["msgId"]), user.id)
        if stored is None:
            return failure("Invalid message", "error-invalid-message")
        return JsonReply(200, {"message": render.message(stored), "success": True})

    # channels.* and groups.* (one implementation, the room type as argument) --------------------

    @handles("rocketchat.channels.addOwner")
    async def channels_add_owner(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "owner", True)

    @handles("rocketchat.channels.removeOwner")
    async def channels_remove_owner(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "owner", False)

    @handles("rocketchat.channels.addModerator")
    async def channels_add_moderator(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "moderator", True)

    @handles("rocketchat.channels.removeModerator")
    async def channels_remove_moderator(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "moderator", False)

    @handles("rocketchat.channels.addLeader")
    async def channels_add_leader(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "leader", True)

    @handles("rocketchat.channels.removeLeader")
    async def channels_remove_leader(self, call: Call) -> Reply:
        return await self._room_role(call, "c", "leader", False)

    @handles("rocketchat.channels.kick")
    async def channels_kick(self, call: Call) -> Reply:
        return await self._kick(call, "c")

    @handles("rocketchat.channels.setTopic")
    async def channels_set_topic(self, call: Call) -> Reply:
        return await self._set_text(call, "c", "topic")

    @handles("rocketchat.channels.setDescription")
    async def channels_set_description(self, call: Call) -> Reply:
        return await self._set_text(call, "c", "description")

    @handles("rocketchat.channels.setAnnouncement")
    async def channels_set_announcement(self, call: Call) -> Reply:
        return await self._set_text(call, "c", "announcement")

    @handles("rocketchat.channels.setReadOnly")
    async def channels_set_read_only(self, call: Call) -> Reply:
        return await self._set_read_only(call, "c")

    @handles("rocketchat.channels.rename")
    async def channels_rename(self, call: Call) -> Reply:
        return await self._rename(call, "c")

    @handles("rocketchat.channels.archive")
    async def channels_archive(self, call: Call) -> Reply:
        return await self._archive(call, "c", True)

    @handles("rocketchat.channels.unarchive")
    async def channels_unarchive(self, call: Call) -> Reply:
        return await self._archive(call, "c", False)

    @handles("rocketchat.channels.delete")
    async def channels_delete(self, call: Call) -> Reply:
        return await self._delete_room(call, "c")

    @handles("rocketchat.channels.members")
    async def channels_members(self, call: Call) -> Reply:
        return await self._members(call, "c")

    @handles("rocketchat.groups.addOwner")
    async def groups_add_owner(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "owner", True)

    @handles("rocketchat.groups.removeOwner")
    async def groups_remove_owner(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "owner", False)

    @handles("rocketchat.groups.addModerator")
    async def groups_add_moderator(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "moderator", True)

    @handles("rocketchat.groups.removeModerator")
    async def groups_remove_moderator(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "moderator", False)

    @handles("rocketchat.groups.addLeader")
    async def groups_add_leader(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "leader", True)

    @handles("rocketchat.groups.removeLeader")
    async def groups_remove_leader(self, call: Call) -> Reply:
        return await self._room_role(call, "p", "leader", False)

    @handles("rocketchat.groups.kick")
    async def groups_kick(self, call: Call) -> Reply:
        return await self._kick(call, "p")

    @handles("rocketchat.groups.setTopic")
    async def groups_set_topic(self, call: Call) -> Reply:
        return await self._set_text(call, "p", "topic")

    @handles("rocketchat.groups.setDescription")
    async def groups_set_description(self, call: Call) -> Reply:
        return await self._set_text(call, "p", "description")

    @handles("rocketchat.groups.setAnnouncement")
    async def groups_set_announcement(self, call: Call) -> Reply:
        return await self._set_text(call, "p", "announcement")

    @handles("rocketchat.groups.setReadOnly")
    async def groups_set_read_only(self, call: Call) -> Reply:
        return await self._set_read_only(call, "p")

    @handles("rocketchat.groups.rename")
    async def groups_rename(self, call: Call) -> Reply:
        return await self._rename(call, "p")

    @handles("rocketchat.groups.archive")
    async def groups_archive(self, call: Call) -> Reply:
        return await self._archive(call, "p", True)

    @handles("rocketchat.groups.unarchive")
    async def groups_unarchive(self, call: Call) -> Reply:
        return await self._archive(call, "p", False)

    @handles("rocketchat.groups.delete")
    async def groups_delete(self, call: Call) -> Reply:
        return await self._delete_room(call, "p")

    @handles("rocketchat.groups.members")
    async def groups_members(self, call: Call) -> Reply:
        return await self._members(call, "p")

    # users: administration ----------------------------------------------------------------
    def _taken(self, username: str | None, address: str | None, other_than: User | None = None) -> JsonReply | None:
        world = self.world
        for value, found in ((username, world.user_by_name(username or "")), (address, world.emails.get((address or "").lower()))):
            if value and found is not None and found is not other_than:
                return failure(f"{value} is already in use :(", "error-field-unavailable")
        return None

    def _new_user(self, username: str, name: str, address: str, password: str, roles: list[str], active: bool = True) -> User:
        now = self.world.now_ms()
        user = User(id=new_id(), username=username, name=name, emails=[{"address": address, "verified": False}], password=password,
                    type="user", status="offline", active=active, roles=roles, utc_offset=0, created_ms=now)  # fmt: skip
        self.world.add_user(user)
        for room in self.world.rooms.values():
            if room.extra.get("default") and room.t == "c":
                self.world.add_member(room, user.id)
        return user

    @handles("rocketchat.users.create")
    async def users_create(self, call: Call) -> Reply:
        caller, params = principal(call), call.params
        if not self.world.can(caller, "create-user"):
            return self.documented(call.endpoint, 400, "error-action-not-allowed")
        taken = self._taken(str(params["username"]), str(params["email"]))
        if taken is not None:
            return taken
        roles = [str(role) for role in params.get("roles") or ["user"]]
        user = self._new_user(
            str(params["username"]),
            str(params["name"]),
            str(params["email"]),
            str(params["password"]),
            roles,
            bool(params.get("active", True)),
        )
        if params.get("joinDefaultChannels") is False:
            for room in self.world.rooms_of(user.id):
                self.world.remove_member(room, user.id)
        return JsonReply(200, {"user": render.user_info(user, True), "success": True})

    @handles("rocketchat.users.register")
    async def users_register(self, call: Call) -> Reply:
        params = call.params
        if self.world.server_settings.get("Accounts_RegistrationForm") != "Public":
            return self.documented(call.endpoint, 400, "error-user-registration-disabled")
        taken = self._taken(str(params["username"]), str(params["email"]))
        if taken is not None:
            return taken
        user = self._new_user(str(params["username"]), str(params["name"]), str(params["email"]), str(params["pass"]), ["user"])
        return JsonReply(200, {"user": render.user_info(user, False), "success": True})

    def _user_arg(self, params: Mapping[str, Any]) -> User:
        """userId (an id, or a username where the endpoint allows it) or username; error-invalid-user."""
        world = self.world
        user = world.users.get(str(params["userId"])) if _truthy(params.get("userId")) else None
        if user is None and _truthy(params.get("userId") or params.get("username")):
            user = world.user_by_name(str(params.get("username") or params.get("userId")))
        if user is None:
            raise ApiError(failure("Invalid user", "error-invalid-user"))
        return user

    @handles("rocketchat.users.update")
    async def users_update(self, call: Call) -> Reply:
        caller, params, world = principal(call), call.params, self.world
        user = world.users.get(str(params["userId"]))
        if user is None:
            return failure("Invalid user", "error-invalid-user")
        data = params["data"]
        if user is not caller and not world.can(caller, "edit-other-user-info"):
            return self.documented(call.endpoint, 400, "error-action-not-allowed")
        admin_only = {"roles", "active"} & set(data)
        if admin_only and not world.can(caller, "edit-other-user-info"):
            return self.documented(call.endpoint, 400, "error-action-not-allowed")
        username = str(data["username"]) if "username" in data else None
        # saveUser changes the address only when one is given (``if (userData.email)``): "" keeps it
        address = str(data["email"]) if data.get("email") else None
        taken = self._taken(username, address, other_than=user)
        if taken is not None:
            return taken
        world.rename_user(user, username, address)
        if "name" in data:
            user.name = str(data["name"])
        if "password" in data:
            user.password = str(data["password"])
        if "active" in data:
            user.active = bool(data["active"])
        if "roles" in data:
            user.roles = [str(role) for role in data["roles"]]
        for key in ("customFields", "nickname", "bio", "statusText"):
            if key in data:
                user.extra[key] = data[key]
        return JsonReply(200, {"user": render.user_info(user, True), "success": True})

    @handles("rocketchat.users.delete")
    async def users_delete(self, call: Call) -> Reply:
        caller = principal(call)
        if not self.world.can(caller, "delete-user"):
            return self.documented(call.endpoint, 403, "unauthorized")
        self.world.delete_user(self._user_arg(call.params))
        return JsonReply(200, {"success": True})

    @handles("rocketchat.users.setAvatar")
    async def users_set_avatar(self, call: Call) -> Reply:
        caller, params = principal(call), call.params
        user = self._user_arg(params) if _truthy(params.get("userId") or params.get("username")) else caller
        if user is not caller and not self.world.can(caller, "edit-other-user-avatar"):
            return self.documented(call.endpoint, 400, "error-not-allowed")
        image = call.files.get("image")
        if image is None and not _truthy(params.get("avatarUrl")):
            return self.documented(call.endpoint, 400, "Missing Content-Type")
        user.extra["avatar"] = (
            {"url": str(params["avatarUrl"])} if image is None else {"contentType": image.content_type, "size": len(image.content)}
        )
        user.extra["avatarETag"] = new_id()
        return JsonReply(200, {"success": True})

    @handles("rocketchat.users.createToken")
    async def users_create_token(self, call: Call) -> Reply:
        caller, params, world = principal(call), call.params, self.world
        if not _truthy(params.get("userId")) and not _truthy(params.get("username")):
            return self.documented(call.endpoint, 400, "error-user-param-not-provided")
        needs_secret = self.profile.version is not None and self.profile.version >= (8, 0, 0)
        secret = str(world.server_settings.get("CREATE_TOKENS_FOR_USERS_SECRET", ""))
        if not world.can(caller, "user-generate-access-token") or (needs_secret and not same_secret(str(params.get("secret", "")), secret)):
            return self.documented(call.endpoint, 400, "error-not-authorized")
        user = self._user_arg(params)
        token = world.issue_token(user.id, now=self.store.clock.timestamp())
        return JsonReply(200, {"data": {"userId": user.id, "authToken": token}, "success": True})

    # subscriptions, rooms.*, im.* ------------------------------------------------------------
    def _subscription(self, room: Room, user: User) -> dict[str, Any]:
        world = self.world
        seen = world.last_seen.get((room.id, user.id), room.created_ms)
        timeline = world.timeline(room.id)
        start = bisect.bisect_right(timeline, seen, key=lambda stored: stored.ms)
        unread = [stored for stored in timeline[start:] if stored.doc.get("u", {}).get("_id") != user.id]
        mentions = sum(1 for stored in unread if any(item.get("_id") == user.id for item in stored.doc.get("mentions", ())))
        group = sum(1 for stored in unread if any(item.get("_id") in ("all", "here") for item in stored.doc.get("mentions", ())))
        if room.t == "d":
            others = [world.users[member] for member in room.members if member != user.id and member in world.users]
            name = others[0].username if others else user.username
        else:
            name = room.name or room.id
        body: dict[str, Any] = {
            "_id": f"{room.id}-{user.id}",
            "rid": room.id, "t": room.t, "name": name, "fname": str(room.extra.get("fname", name)),
            "ts": iso(room.created_ms), "ls": iso(seen), "_updatedAt": iso(max(room.updated_ms, seen)),
            "u": render.user_ref(user), "open": user.id not in world.closed.get(room.id, ()), "alert": bool(unread), "unread": len(unread),
            "userMentions": mentions, "groupMentions": group,
        }  # fmt: skip
        roles = world.room_roles.get(room.id, {}).get(user.id)
        if roles:
            body["roles"] = list(roles)
        return body

    @handles("rocketchat.subscriptions.get")
    async def subscriptions_get(self, call: Call) -> Reply:
        user = principal(call)
        since = self._date(call.params, "updatedSince")
        rooms = self.world.rooms_of(user.id)
        subs = [self._subscription(room, user) for room in rooms]
        removed: list[dict[str, Any]] = []
        if since is not None:
            subs = [sub for sub in subs if parse_iso(sub["_updatedAt"]) > since]
            removed = [{"_id": item["_id"]} for item in self.world.removed if user.id in item["members"] and item["ms"] > since]
        return JsonReply(200, {"update": subs, "remove": removed, "success": True})

    @handles("rocketchat.subscriptions.read")
    async def subscriptions_read(self, call: Call) -> Reply:
        user, params = principal(call), call.params
        room = self.world.rooms.get(str(params.get("rid") or params.get("roomId")))
        if room is None or user.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-invalid-subscription")
        self.world.last_seen[room.id, user.id] = self.world.now_ms()
        return JsonReply(200, {"success": True})

    def _visible_room(self, call: Call, user: User) -> Room:
        params = call.params
        room_id, room_name = params.get("roomId"), params.get("roomName")
        room = self.world.rooms.get(str(room_id)) if _truthy(room_id) else self.world.room_by_name(str(room_name or ""))
        if room is None or (room.t != "c" and user.id not in room.member_set):
            raise ApiError(self.documented(call.endpoint, 400, "error-room-not-found"))
        return room

    @handles("rocketchat.rooms.info")
    async def rooms_info(self, call: Call) -> Reply:
        room = self._visible_room(call, principal(call))
        return JsonReply(200, {"room": render.room_info(self.world, room), "success": True})

    @handles("rocketchat.rooms.leave")
    async def rooms_leave(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        room = self._visible_room(call, user)
        if user.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-user-not-in-room")
        if world.holders(room, "owner") == [user.id]:
            return self.documented(call.endpoint, 400, "error-you-are-last-owner")
        self.realtime.subscription_changed(user, room, "removed")
        world.remove_member(room, user.id)
        room.updated_ms = max(room.updated_ms, world.now_ms())
        return JsonReply(200, {"success": True})

    async def _dm_list(self, call: Call) -> Reply:
        user = principal(call)
        rooms = [room for room in self.world.rooms_of(user.id) if room.t == "d"]
        params = call.params
        offset, count = self._page(params, self.world.settings["defaultCount"])
        items = [render.room_info(self.world, room) for room in rooms]
        sort = self._sort(params)
        if sort is not None:
            items = self._sorted(items, sort)
        page = items[offset : offset + count]
        return JsonReply(200, {"ims": page, "count": len(page), "offset": offset, "total": len(items), "success": True})

    @handles("rocketchat.im.list")
    async def im_list(self, call: Call) -> Reply:
        return await self._dm_list(call)

    @handles("rocketchat.dm.list")
    async def dm_list(self, call: Call) -> Reply:
        return await self._dm_list(call)

    async def _dm_history(self, call: Call) -> Reply:
        user = principal(call)
        room = self.world.rooms.get(str(call.params["roomId"]))
        if room is None or room.t != "d" or user.id not in room.member_set:
            return self.documented(call.endpoint, 400, "error-room-not-found")
        return self._history_reply(call, room)

    @handles("rocketchat.im.history")
    async def im_history(self, call: Call) -> Reply:
        return await self._dm_history(call)

    @handles("rocketchat.dm.history")
    async def dm_history(self, call: Call) -> Reply:
        return await self._dm_history(call)

    # settings ------------------------------------------------------------------------------
    @handles("rocketchat.settings.get")
    async def settings_get(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        if not world.can(user, "view-privileged-setting"):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        setting_id = call.path_params["_id"]
        if setting_id not in world.server_settings:
            return self.documented(call.endpoint, 400, "error-setting-not-found")
        return JsonReply(200, {"_id": setting_id, "value": world.server_settings[setting_id], "success": True})

    @handles("rocketchat.settings.update")
    async def settings_update(self, call: Call) -> Reply:
        user, world = principal(call), self.world
        if not world.can(user, "edit-privileged-setting"):
            return self.documented(call.endpoint, 403, FORBIDDEN)
        setting_id = call.path_params["_id"]
        if setting_id not in world.server_settings:
            return self.documented(call.endpoint, 400, "error-setting-not-found")
        value, current = call.params["value"], world.server_settings[setting_id]
        if type(value) is not type(current):
            return self.documented(call.endpoint, 400, "error-setting-value-type")
        world.server_settings[setting_id] = value
        return JsonReply(200, {"success": True})

    # uploads -------------------------------------------------------------------------------
    def _upload_room(self, call: Call) -> tuple[User, Room]:
        user = principal(call)
        room = self.world.rooms.get(call.path_params["rid"])
        if room is None or user.id not in room.member_set:
            raise ApiError(self.documented(call.endpoint, 400, "error-room-not-found"))
        return user, room

    def _keep_file(self, call: Call, user: User, room: Room, confirmed: bool) -> tuple[str, dict[str, Any]]:
        upload = call.files.get("file")
        if upload is None:
            raise ApiError(self.documented(call.endpoint, 400, "File required"))
        file_id = new_id()
        kept = {
            "rid": room.id,
            "name": upload.filename,
            "type": upload.content_type,
            "content": upload.content,
            "user": user.id,
            "confirmed": confirmed,
        }
        self.world.uploads[file_id] = kept
        return file_id, kept

    def _file_message(self, room: Room, user: User, file_id: str, kept: dict[str, Any], params: Mapping[str, Any]) -> JsonReply:
        kept["confirmed"] = True
        described = {"_id": file_id, "name": kept["name"], "type": kept["type"], "size": len(kept["content"])}
        attachment: dict[str, Any] = {
            "title": kept["name"], "title_link": f"/file-upload/{file_id}/{quote(str(kept['name']))}", "title_link_download": True,
            "type": "file", "description": str(params.get("description", "")),
        }  # fmt: skip
        if str(kept["type"]).startswith("image/"):
            attachment.update({"image_url": attachment["title_link"], "image_type": kept["type"], "image_size": described["size"]})
        fields: dict[str, Any] = {
            "msg": str(params.get("msg", "")),
            "file": described,
            "files": [described],
            "attachments": [attachment],
            "groupable": False,
        }
        if _truthy(params.get("tmid")):
            fields["tmid"] = str(params["tmid"])
        doc = self._new_message(room, user, fields)
        self._check_message(doc)
        stored = self._store(room, doc)
        return JsonReply(200, {"message": render.message(stored), "success": True})

    @handles("rocketchat.rooms.upload")
    async def rooms_upload(self, call: Call) -> Reply:
        if not self.profile.rooms_upload:
            return self.error(Problem.NOT_FOUND, "rooms.upload was removed in Rocket.Chat 8.0")
        user, room = self._upload_room(call)
        file_id, kept = self._keep_file(call, user, room, True)
        return self._file_message(room, user, file_id, kept, call.params)

    @handles("rocketchat.rooms.media")
    async def rooms_media(self, call: Call) -> Reply:
        user, room = self._upload_room(call)
        file_id, kept = self._keep_file(call, user, room, False)
        return JsonReply(200, {"file": {"_id": file_id, "url": f"/file-upload/{file_id}/{quote(str(kept['name']))}"}, "success": True})

    @handles("rocketchat.rooms.mediaConfirm")
    async def rooms_media_confirm(self, call: Call) -> Reply:
        user, room = self._upload_room(call)
        kept = self.world.uploads.get(call.path_params["fileId"])
        if kept is None or kept["rid"] != room.id or kept["confirmed"] or kept["user"] != user.id:
            return self.documented(call.endpoint, 400, "error-file-not-found")
        return self._file_message(room, user, call.path_params["fileId"], kept, call.params)

    @handles("rocketchat.fileUpload")
    async def file_upload(self, call: Call) -> Reply:
        user = principal(call)
        kept = self.world.uploads.get(call.path_params["fileId"])
        room = self.world.rooms.get(str(kept["rid"])) if kept is not None else None
        if kept is None or room is None or (room.t != "c" and user.id not in room.member_set):
            return self.error(Problem.NOT_FOUND, "no such file")
        # always application/octet-stream: a schema names one content type per response (the
        # uploaded type is in the message's file.type) [inferred]
        disposition = f"attachment; filename*=UTF-8''{quote(str(kept['name']))}"
        return BinaryReply(200, bytes(kept["content"]), "application/octet-stream", headers={"Content-Disposition": disposition})
