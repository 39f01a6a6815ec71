"""The Lingr mock: one handler per endpoint of ``schemas/lingr/`` over one shared :class:`World`.

Every answer carries the one HTTP status the schemas document (200) and the API's content
type; failures are ``{"status":"error","code","detail"}`` (see :mod:`errors`). A ``callback``
parameter wraps the body JSONP-style. Behaviour: the API memo (seed 002_0f8f93cf6b7fe958.txt)
and the public clients (tsukkee/lingr-vim, yoshiori/pyLingr, typester/p5-AnyEvent-Lingr).
"""

from __future__ import annotations

import bisect
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mockserver.apis.lingr import auth, events, render
from mockserver.apis.lingr.errors import INVALID_SESSION, NOT_FOUND, PROBLEM_CODES, LingrError, body, jsonp
from mockserver.apis.lingr.world import OFFSET_FORMAT, WORLD_FILE, Z_FORMAT, Event, Message, Room, Session, User, World, credentials, load
from mockserver.core.apibase import BaseApi, handles
from mockserver.core.call import ApiError, Call, ClientGone, JsonReply, Problem, Reply
from mockserver.core.guard import FailureLimit, client_of
from mockserver.core.hub import Hub
from mockserver.core.registry import ErrorCode, Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store
from mockserver.core.worlds import Credentials, WorldError

log = logging.getLogger("chatmock.lingr")
ARCHIVE_LIMIT = 100  # inferred: get_archives' server default is unknown; clients send 100
# get_archives' largest page: a mock maximum [inferred: the Lingr memo and clients give none
# (lingr.md 3.6; seed 002); clients ask for 100] -- a larger limit is read as this one
ARCHIVE_MAX = 1000
MAX_NUMBER = 10**18  # a digit parameter longer than int() is asked to read is read as this
TRUE_VALUES = frozenset({"true", "1"})  # subscribe's `reset`: lingr-vim sends "true", AnyEvent-Lingr 1
Body = dict[str, Any]
Method = Callable[["LingrApi", Call], Awaitable[Body]]


def digits(value: Any, most: int = MAX_NUMBER) -> int:
    """A parameter the schema allows only digits in, as an integer of at most ``most`` (a digit
    string too long for ``int()`` to read is read as ``most``)."""
    text = str(value).lstrip("0") or "0"
    return most if len(text) > 18 else min(int(text), most)


def lingr(method: Method) -> Callable[[LingrApi, Call], Awaitable[Reply]]:
    """Run a handler returning a body; turn :class:`LingrError` into the error body; wrap JSONP."""

    @functools.wraps(method)
    async def run(self: LingrApi, call: Call) -> Reply:
        try:
            value = await method(self, call)
        except LingrError as error:
            value = error.body()
        except (ClientGone, ApiError):
            raise
        except Exception:  # never a stack trace, never a 5xx
            log.exception("lingr handler %s failed", call.endpoint.id)
            value = body(PROBLEM_CODES[Problem.INTERNAL], "chatmock failed to handle this request")
        return self.finish(call, value)

    return run


class LingrApi(BaseApi[World]):
    name = "lingr"
    world_file = WORLD_FILE

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)
        statuses = {status for endpoint in registry.endpoints_of(self.name) for status in endpoint.responses}
        if len(statuses) != 1:
            raise RuntimeError(f"the lingr schemas document statuses {sorted(statuses)}; the mock expects exactly one")
        self.status = statuses.pop()  # every Lingr answer, errors included, has this status (200)
        messages = registry.model(f"{self.name}.Room").schema["properties"]["messages"]
        self.latest = int(messages["maxItems"])  # room/show's "latest 30 messages"
        self.failures = FailureLimit(settings.auth_failure_limit)
        self.idle = settings.session_idle_timeout  # None: sessions live until destroyed or reset

    # the world ---------------------------------------------------------------------
    def load_world(self, spec: Mapping[str, Any]) -> World:
        loaded = load(spec, self.store.clock.now())
        for message in loaded.messages.values():
            problems = self.registry.model_errors(f"{self.name}.Message", render.message(message))
            if problems:
                room_index = list(loaded.rooms).index(message.room)
                where = f"$.rooms[{room_index}].messages[{loaded.rooms[message.room].message_ids.index(message.id)}]"
                raise WorldError(where, f"not a Lingr message: {problems[0]}")
        return loaded

    def world_replaced(self, previous: World | None) -> None:
        for session_id in previous.sessions if previous is not None else ():
            self.hub.publish(events.topic(session_id))  # held observers of the old world answer at once

    def credentials(self) -> Credentials:
        return credentials(self.world_document())

    def secrets(self) -> list[str]:
        return self.world.secrets()

    # errors and auth -------------------------------------------------------------
    def error(self, problem: Problem, message: str) -> JsonReply:
        return JsonReply(self.status, body(PROBLEM_CODES[problem], message))

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        return JsonReply(self.status, body(str(code) if code is not None else PROBLEM_CODES[Problem.BAD_REQUEST]))

    async def authenticate(self, call: Call) -> None:
        """The call's live session, else ``invalid_session``. With ``settings.session_idle_timeout``
        a session unused for longer ends on its next use (``invalid_session``); with
        ``settings.auth_failure_limit`` a client past that many failed checks in a minute is
        answered ``rate_limited`` (:class:`~.guard.FailureLimit`)."""
        if call.endpoint.auth is None:
            return
        failures = self.failures
        if failures.limit is not None:
            self.refuse_if_throttled(call)
        session = auth.session_of(self.world, call)
        if session is not None and self.idle is not None and not self.world.last_use.fresh(session.id, self.now_seconds(), self.idle):
            self.end_session(session)
            session = None
        if session is None:
            failures.failed(client_of(call), self.now_seconds())
            if auth.wants_jsonp(call):
                return  # the handler answers invalid_session, wrapped in the callback
            raise ApiError(self.documented(call.endpoint, self.status, INVALID_SESSION))
        call.principal = session
        call.credential = session.id

    def refuse_if_throttled(self, call: Call) -> None:
        if self.failures.blocked(client_of(call), self.now_seconds()):
            raise ApiError(self.error(Problem.TOO_MANY_REQUESTS, "too many failed credential checks; try again in a minute"))

    def end_session(self, session: Session) -> None:
        """Destroyed or idle too long: gone from every index; its held observers answer at once."""
        self.world.drop_session(session.id)
        self.hub.publish(events.topic(session.id))

    # helpers ---------------------------------------------------------------------
    def finish(self, call: Call, value: Body) -> Reply:
        callback = call.params.get(auth.CALLBACK)
        if not isinstance(callback, str) or not callback:
            return JsonReply(self.status, value)
        response = call.endpoint.responses.get(self.status)
        if self.settings.strict and response is not None and response.checker is not None and response.checker.errors(value):
            return JsonReply(self.status, value)  # strict mode reports the violation
        return jsonp(callback, value, self.status, response.content_type if response is not None else self.api.content_type)

    def now(self, fmt: str = Z_FORMAT) -> str:
        return self.store.clock.now().strftime(fmt)

    def now_seconds(self) -> float:
        return self.store.clock.timestamp()

    def room_of(self, user: User, room_id: str) -> Room:
        """A room the user belongs to; any other (or unknown) room is ``not_found``."""
        room = self.world.rooms.get(room_id)
        if room is None or user.username not in room.member_set:
            raise LingrError(NOT_FOUND, f"room not found: {room_id}")
        return room

    def rooms_of(self, call: Call, user: User) -> list[Room]:
        """``room`` or ``rooms``: one id or several comma-separated (seed 002)."""
        names: list[str] = []
        for key in ("room", "rooms"):
            value = call.params.get(key)
            if isinstance(value, str):
                names.extend(name for name in value.split(",") if name)
        return [self.room_of(user, name) for name in dict.fromkeys(names)]

    def message_of(self, user: User, call: Call) -> Message:
        message = self.world.messages.get(digits(call.params["message"]))
        if message is None or user.username not in self.world.rooms[message.room].member_set:
            raise LingrError(NOT_FOUND, f"message not found: {call.params['message']}")
        return message

    def presence(self, session: Session, user: User, status: str) -> None:
        at = self.now(OFFSET_FORMAT)
        for room_id in self.world.rooms_of(user.username):
            events.emit(self.world, self.hub, room_id, "presence", render.presence(session, user, room_id, status, at))

    # session -----------------------------------------------------------------------
    @handles("lingr.session.create")
    @lingr
    async def session_create(self, call: Call) -> Body:
        """A new session; its id and its public id are random 6-character base62 ids, neither
        of them any id in use (the cost of a login does not grow with the sessions)."""
        world, now = self.world, self.now_seconds()
        if self.failures.limit is not None:
            self.refuse_if_throttled(call)
        if self.idle is not None:
            for session_id in world.last_use.idle(now, self.idle):  # the idle ones end (oldest first)
                found = world.sessions.get(session_id)
                if found is not None:
                    self.end_session(found)
        try:
            user = auth.login(world, str(call.params["user"]), str(call.params["password"]))
        except LingrError:
            self.failures.failed(client_of(call), now)
            raise
        session_id = world.new_public_id()
        session = Session(session_id, world.new_public_id(), user.username)
        world.add_session(session, now)
        self.presence(session, user, "online")
        return render.session(session, user)

    @handles("lingr.session.verify")
    @lingr
    async def session_verify(self, call: Call) -> Body:
        session, user = auth.require(self.world, call)
        return render.session(session, user)

    @handles("lingr.session.destroy")
    @lingr
    async def session_destroy(self, call: Call) -> Body:
        world = self.world
        session, user = auth.require(world, call)
        self.presence(session, user, "offline")
        self.end_session(session)  # its held observers answer invalid_session
        return {"status": "ok"}

    # user / room -------------------------------------------------------------------
    @handles("lingr.user.get_rooms")
    @lingr
    async def user_get_rooms(self, call: Call) -> Body:
        _, user = auth.require(self.world, call)
        return {"status": "ok", "rooms": self.world.rooms_of(user.username)}

    @handles("lingr.room.show")
    @lingr
    async def room_show(self, call: Call) -> Body:
        _, user = auth.require(self.world, call)
        rooms = self.rooms_of(call, user)
        return {"status": "ok", "rooms": [render.room(self.world, room, user.username, self.latest) for room in rooms]}

    @handles("lingr.room.get_archives")
    @lingr
    async def room_get_archives(self, call: Call) -> Body:
        _, user = auth.require(self.world, call)
        room = self.room_of(user, str(call.params["room"]))
        before = digits(call.params["before"])
        limit = digits(call.params.get("limit", ARCHIVE_LIMIT), ARCHIVE_MAX)
        end = bisect.bisect_left(room.message_ids, before)  # strictly older than `before`
        chosen = room.message_ids[max(0, end - limit) : end] if limit > 0 else []
        return {"status": "ok", "messages": [render.message(self.world.messages[message_id]) for message_id in chosen]}

    @handles("lingr.room.subscribe")
    @lingr
    async def room_subscribe(self, call: Call) -> Body:
        session, user = auth.require(self.world, call)
        rooms = {room.id for room in self.rooms_of(call, user)}
        self.world.subscribe(session, rooms, replace=str(call.params.get("reset", "")).lower() in TRUE_VALUES)
        self.hub.publish(events.topic(session.id))  # a held observe re-checks with the new rooms
        return {"status": "ok", "counter": self.world.counter}

    @handles("lingr.room.unsubscribe")
    @lingr
    async def room_unsubscribe(self, call: Call) -> Body:
        session, user = auth.require(self.world, call)
        self.world.unsubscribe(session, {room.id for room in self.rooms_of(call, user)})
        return {"status": "ok", "counter": 0}

    @handles("lingr.room.say")
    @lingr
    async def room_say(self, call: Call) -> Body:
        world = self.world
        session, user = auth.require(world, call)
        room = self.room_of(user, str(call.params["room"]))
        nickname = call.params.get("nickname")
        local_id = call.params.get("local_id")
        message = Message(
            id=world.next_message_id(),
            room=room.id,
            speaker_id=user.username,
            nickname=nickname if isinstance(nickname, str) and nickname else user.nickname,
            public_session_id=session.public_id,
            icon_url=user.icon_url,
            text=str(call.params["text"]),
            timestamp=self.now(),
            type="user",
            local_id=local_id if isinstance(local_id, str) and local_id else None,
        )
        world.messages[message.id] = message
        world.shown.add(session.public_id)  # no later session id may be this public id
        room.message_ids.append(message.id)
        rendered = render.message(message)
        events.emit(world, self.hub, room.id, "message", rendered)
        return {"status": "ok", "message": rendered}

    # favorites ---------------------------------------------------------------------
    @handles("lingr.favorite.add")
    @lingr
    async def favorite_add(self, call: Call) -> Body:
        _, user = auth.require(self.world, call)
        message = self.message_of(user, call)
        favorites = self.world.favorites.setdefault(user.username, set())
        if message.id in favorites:
            raise LingrError("already_favorited", f"message {message.id} is already a favorite")
        favorites.add(message.id)
        return {"status": "ok", "message": render.message(message)}

    @handles("lingr.favorite.remove")
    @lingr
    async def favorite_remove(self, call: Call) -> Body:
        _, user = auth.require(self.world, call)
        message = self.message_of(user, call)
        favorites = self.world.favorites.setdefault(user.username, set())
        if message.id not in favorites:
            raise LingrError("not_favorited", f"message {message.id} is not a favorite")
        favorites.discard(message.id)
        return {"status": "ok", "message": render.message(message)}

    # observe -----------------------------------------------------------------------
    @handles("lingr.event.observe")
    @lingr
    async def event_observe(self, call: Call) -> Body:
        world = self.world
        session, _ = auth.require(world, call)
        session_id = session.id
        counter = digits(call.params["counter"])

        def check() -> list[Event] | str | None:
            live = world.sessions.get(session_id)
            if live is None or self.world is not world:
                return INVALID_SESSION  # destroyed, ended or the world replaced while held
            return events.after(world, live, counter) or None

        outcome: list[Event] | str | None = await call.hold(
            self.hub.wait_for([events.topic(session_id)], check, self.settings.longpoll_timeout)
        )
        if self.idle is not None and session_id in world.sessions:
            world.last_use.touch(session_id, self.now_seconds())  # a held observe kept it in use
        # timeout: no events key, the counter unchanged [inferred: undocumented; lingr-vim and
        # lingr.rb read events and counter only if present]
        if outcome is None:
            return {"status": "ok", "counter": counter}
        if isinstance(outcome, str):
            raise LingrError(outcome)
        return {"status": "ok", "counter": outcome[-1].event_id, "events": [render.event(event) for event in outcome]}
