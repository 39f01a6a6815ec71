"""The Gitter REST v1 and Streaming API: one handler per endpoint of schemas/gitter/."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from http import HTTPStatus
from typing import Any

import orjson

from mockserver.apis.gitter import errors, paging, ratelimit, render, unread
from mockserver.apis.gitter.faye import FayeClient, Realtime, can_read, refused, room_channel, user_channel
from mockserver.apis.gitter.markup import MarkupCache
from mockserver.apis.gitter.world import (
    ONETOONE,
    PRIVATE,
    USER_CHANNEL,
    WORLD_FILE,
    IdMaker,
    Message,
    Room,
    User,
    World,
    credentials,
    group_id,
    group_of,
    load,
    timestamp,
)
from mockserver.core.apibase import BaseApi, handles, serves_socket
from mockserver.core.call import ApiError, Call, ClientGone, JsonReply, Problem, Reply, Socket, StreamReply
from mockserver.core.guard import FailureLimit, client_of
from mockserver.core.hub import Hub
from mockserver.core.registry import Endpoint, ErrorCode, Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store, instant
from mockserver.core.worlds import Credentials

log = logging.getLogger("chatmock")
RESET_TOPIC = "gitter:reset"
MESSAGES = "chatMessages"
EVENTS = "events"
ROOM_USERS_DEFAULT_LIMIT = 30  # gitterHQ/docs 04: limit default 30
ROOM_USERS_MAX_LIMIT = 100  # [inferred]
SEARCH_DEFAULT_LIMIT = 10  # rooms/index.js searchRooms, user/index.js index: parseInt(limit) || 10
SEARCH_MAX_LIMIT = 100  # [inferred]
_STOP = object()
_monotonic = time.monotonic
SOCKET_IDLE_CHECK = 60.0  # how long a Faye socket's sender waits before looking again (a reset wakes it at once)
_UNKNOWN: Any = object()  # no such token
STATUS_TRUE = (True, "true")  # a JSON true, or the form text mongoose casts to true


def _window(found: list[Any], params: Mapping[str, Any]) -> list[Any]:
    """A search page: ``skip``, then ``limit`` (default 10: parseInt(limit) || 10)."""
    skip = paging.number(params.get("skip"), 0, len(found))
    limit = paging.number(params.get("limit"), SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
    return found[skip : skip + limit]


def topic(room_id: str, channel: str) -> str:
    return f"gitter:{room_id}:{channel}"


def _for_user(user_id: str, body: dict[str, Any]) -> Callable[[str], dict[str, Any] | None]:
    """A delivery for one user's clients only."""
    return lambda viewer: body if viewer == user_id else None


class GitterApi(BaseApi[World]):
    name = "gitter"
    world_file = WORLD_FILE

    def __init__(self, registry: Registry, store: Store, hub: Hub, settings: Settings) -> None:
        super().__init__(registry, store, hub, settings)
        self._make_id = IdMaker(store.clock, self.state.next_id)
        self.failures = FailureLimit(settings.auth_failure_limit)
        self.markups = MarkupCache(lambda username: None)  # replaced with each loaded world
        self.realtime = Realtime(settings.longpoll_timeout)  # Faye clients: none after a reset

    def _now(self) -> float:
        return self.store.clock.timestamp()

    # the world ---------------------------------------------------------------------------
    def load_world(self, spec: Mapping[str, Any]) -> World:
        world = load(spec, self.store.clock, self._make_id)
        self.markups = MarkupCache(world.user_named)
        unread.mark_seeded_mentions(world, self.markups)
        return world

    def world_replaced(self, previous: World | None) -> None:
        self.hub.publish(RESET_TOPIC)  # open streams of the previous world end

    def credentials(self) -> Credentials:
        return credentials(self.world_document())

    def secrets(self) -> list[str]:
        world = self.world
        found = [token for token in world.tokens if token]
        found.extend(user.password for user in world.users.values() if user.password)
        return found

    # errors ------------------------------------------------------------------------------
    def error(self, problem: Problem, message: str) -> JsonReply:
        """Gitter's ``{"error": ...}``; a 400 says what was wrong (a StatusError's message)."""
        if problem is Problem.BAD_REQUEST and message:
            return JsonReply(HTTPStatus.BAD_REQUEST, {"error": message})
        return errors.for_problem(problem)

    def error_for_status(self, status: int, code: ErrorCode) -> JsonReply:
        return JsonReply(status, errors.body_for(status, code))

    def refine_bad_request(self, call: Call, message: str) -> JsonReply | None:
        """The server's own 400s where a body breaks the schema: markRead's (unread-items.js),
        a message's text (chat-service.js); every other 400 names the broken parameter."""
        endpoint_id = call.endpoint.id
        params = call.params
        if endpoint_id == "gitter.user.unreadItems.markRead":
            given = {key for key in params if key not in call.query}
            if not given:
                return self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.NO_BODY)
            chat = params.get("chat")
            if isinstance(chat, str):
                return JsonReply(HTTPStatus.BAD_REQUEST, {"error": errors.CHAT_NOT_A_LIST})
            if not (chat or params.get("mention")):
                return self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.NO_ITEMS)
            return None
        if endpoint_id in ("gitter.rooms.chatMessages.create", "gitter.rooms.chatMessages.update"):
            text = params.get("text")
            if endpoint_id.endswith(".create") and (text is None or text == ""):
                return self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.TEXT_REQUIRED)
            if isinstance(text, str) and len(text) > errors.MAX_TEXT:
                return self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.TOO_LONG)
        return None

    def _refuse(self, endpoint: Endpoint, *preferred: int) -> ApiError:
        """The first status of ``preferred`` the endpoint documents (as an :class:`ApiError` to raise)."""
        documented_statuses = {case.status for case in endpoint.errors}
        status = next((wanted for wanted in preferred if wanted in documented_statuses), preferred[-1])
        return ApiError(self.documented(endpoint, status))

    # requests ----------------------------------------------------------------------------
    async def authenticate(self, call: Call) -> None:
        """The token's user, else the documented 401 (``loginRequired`` for a token of no usable
        user). With ``settings.auth_failure_limit``, a client past that many failed checks in a
        minute gets Gitter's 429 instead, whatever its token (see :class:`~.guard.FailureLimit`)."""
        if call.endpoint.auth is None:
            return  # Faye: the token travels in the handshake's ext
        token = self._credential(call)
        world = self.world
        failures = self.failures
        if failures.limit is not None and failures.blocked(client_of(call), self._now()):
            raise ApiError(self.error(Problem.TOO_MANY_REQUESTS, "too many failed credential checks"))
        user_id = world.tokens.get(token, _UNKNOWN) if token else _UNKNOWN
        if user_id is _UNKNOWN or user_id is None or user_id not in world.users:
            failures.failed(client_of(call), self._now())
            if user_id is _UNKNOWN:
                raise ApiError(self.documented(call.endpoint, HTTPStatus.UNAUTHORIZED))
            raise ApiError(self.documented(call.endpoint, HTTPStatus.UNAUTHORIZED, errors.LOGIN_REQUIRED))
        assert isinstance(user_id, str)
        call.credential = token
        if HTTPStatus.TOO_MANY_REQUESTS in call.endpoint.responses and not ratelimit.hit(world, token, self._now()):
            reply = self.documented(call.endpoint, HTTPStatus.TOO_MANY_REQUESTS)
            reply.headers.update(ratelimit.headers(world, token, self._now()))
            raise ApiError(reply)
        call.principal = world.users[user_id]

    @staticmethod
    def _credential(call: Call) -> str:
        """The token as get-access-token-from-req.js finds it: ``Authorization: <scheme> <token>``
        whose scheme contains "bearer" in any case (a ``Bearer x, ...`` header cut at the comma),
        then ``X-Access-Token``, then ``access_token`` in the body, then in the query string."""
        header = call.headers.get("authorization")
        if header:
            if header.startswith("Bearer ") and "," in header:
                header = header.split(",", 1)[0]
            parts = header.split(" ")
            if len(parts) == 2 and "bearer" in parts[0].lower():
                return parts[1]
        token = call.headers.get("x-access-token")
        if token:
            return token
        scheme = call.endpoint.auth
        if scheme is not None and scheme.query_alternative:
            value = call.params.get(scheme.query_alternative)  # the body's, else the query string's
            if isinstance(value, str):
                return value
        return ""

    def decorate(self, call: Call | None, reply: JsonReply) -> None:
        if call is None:
            return
        if call.credential:
            reply.headers.update(ratelimit.headers(self.world, call.credential, self._now()))
            return
        response = call.endpoint.responses.get(reply.status)
        if response is not None and ratelimit.LIMIT_HEADER in response.headers:
            reply.headers.update(ratelimit.headers(self.world, None, self._now()))

    # lookups ---------------------------------------------------------------------------
    @staticmethod
    def _me(call: Call) -> User:
        return call.principal_as(User)

    def _room(self, call: Call) -> Room:
        """The room of the path, when the caller belongs to it; the documented 404 otherwise."""
        room = self.world.rooms.get(call.path_params.get("roomId", ""))
        if room is None or not room.is_member(self._me(call).id):
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        return room

    def _message(self, call: Call, room: Room, key: str) -> Message:
        message = room.by_id.get(call.path_params.get(key, ""))
        if message is None:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        return message

    def _own_user(self, call: Call) -> User:
        """/v1/user/:userId/...: the caller's own id (or ``me``). Another user's id has no documented
        status; the first the endpoint documents of 403, 404, 401 answers it [inferred]."""
        me = self._me(call)
        if call.path_params.get("userId") not in (me.id, "me"):
            raise self._refuse(call.endpoint, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED)
        return me

    def _publish(self, room: Room, channel: str) -> None:
        self.hub.publish(topic(room.id, channel))

    # realtime (Faye) deliveries ------------------------------------------------------------
    def _wake(self, client_ids: list[str]) -> None:
        for client_id in client_ids:
            self.hub.publish(Realtime.topic(client_id))

    def _log_event(self, room: Room, entry: tuple[str, str, str]) -> None:
        """One change of the room: its events stream log, and Faye's room channels
        (bayeux-events-bridge.js onDataChange2: {operation, model} on the collection's url)."""
        room.event_log.append(entry)
        realtime = self.realtime
        if not realtime.channels:
            return
        world, markups = self.world, self.markups
        operation, resource, ident = entry
        channel = room_channel(room.id, resource)
        if realtime.subscribed(channel):
            if resource == MESSAGES:
                found = room.by_id.get(ident)
                if found is not None:
                    self._wake(
                        realtime.deliver(
                            channel, lambda viewer: {"operation": operation, "model": render.message(world, room, found, viewer, markups)}
                        )
                    )
            else:
                person = world.users.get(ident)
                model = render.user(person) if person is not None and operation != "remove" else {"id": ident}
                self._wake(realtime.deliver(channel, lambda viewer: {"operation": operation, "model": model}))
        events = room_channel(room.id, EVENTS)
        if realtime.subscribed(events):
            self._wake(realtime.deliver(events, lambda viewer: render.event(world, room, entry, viewer, markups)))

    def _unread_changed(self, room: Room, user_ids: list[str]) -> None:
        """The unread counts of ``user_ids`` in ``room`` changed: troupe_unread (and
        troupe_mention) on /api/v1/user/:id, a patch on /api/v1/user/:id/rooms
        (bayeux-events-bridge.js onTroupeUnreadCountsChange)."""
        realtime = self.realtime
        if not realtime.channels:
            return
        for user_id in user_ids:
            total = len(room.unread.get(user_id) or ())
            mentions = len(room.unread_mentions.get(user_id) or ())
            personal = user_channel(user_id)
            if realtime.subscribed(personal):
                unread = {"notification": "troupe_unread", "troupeId": room.id, "totalUnreadItems": total, "DEPRECATED": True}
                mentioned = {"notification": "troupe_mention", "troupeId": room.id, "mentions": mentions, "DEPRECATED": True}
                self._wake(realtime.deliver(personal, _for_user(user_id, unread)))
                self._wake(realtime.deliver(personal, _for_user(user_id, mentioned)))
            rooms = user_channel(user_id, "rooms")
            if realtime.subscribed(rooms):
                patch = {"operation": "patch", "model": {"id": room.id, "unreadItems": total, "mentions": mentions}}
                self._wake(realtime.deliver(rooms, _for_user(user_id, patch)))

    # rooms ---------------------------------------------------------------------------
    @handles("gitter.rooms.list")
    async def rooms_list(self, call: Call) -> Reply:
        world, me = self.world, self._me(call)
        if call.params.get("q"):
            return self._search_rooms(call, world, me)
        return JsonReply(HTTPStatus.OK, [render.room(world, room, me.id) for room in world.rooms.values() if room.is_member(me.id)])

    def _search_rooms(self, call: Call, world: World, me: User) -> JsonReply:
        """{"results"}: rooms the user may see (public and indexed, or their own) holding every word
        of q in name, uri or topic (rooms/index.js searchRooms; limit default 10)."""
        words = str(call.params["q"]).lower().split()
        found = []
        for room in world.rooms.values():
            member = room.is_member(me.id)
            if not member and (room.security == PRIVATE or room.noindex or room.one_to_one):
                continue
            body = render.room(world, room, me.id)
            text = f"{body['name']} {body.get('uri', '')} {body['topic']}".lower()
            if all(word in text for word in words):
                found.append(body)
        return JsonReply(HTTPStatus.OK, {"results": _window(found, call.params)})

    @handles("gitter.rooms.get")
    async def rooms_get(self, call: Call) -> Reply:
        room = self._room(call)
        return JsonReply(HTTPStatus.OK, render.room(self.world, room, self._me(call).id, full=True))

    def _admin_room(self, call: Call) -> Room:
        room = self._room(call)
        if self._me(call).id not in room.admins:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.FORBIDDEN))
        return room

    @handles("gitter.rooms.update")
    async def rooms_update(self, call: Call) -> Reply:
        """Only the fields present are applied (rooms/index.js update: hasOwnProperty)."""
        world, room, me, params = self.world, self._admin_room(call), self._me(call), call.params
        if "topic" in params:
            room.topic = str(params["topic"])
        if "noindex" in params:
            room.noindex = params["noindex"] in STATUS_TRUE
        if "tags" in params:
            tags = params["tags"]
            listed = tags if isinstance(tags, list) else str(tags).split(",")
            room.tags = [tag.strip() for tag in listed if tag.strip()]
        room.v += 1
        return JsonReply(HTTPStatus.OK, render.room(world, room, me.id, full=True))

    @handles("gitter.rooms.delete")
    async def rooms_delete(self, call: Call) -> Reply:
        world, room = self.world, self._admin_room(call)
        world.remove_room(room)
        self._publish(room, EVENTS)
        return JsonReply(HTTPStatus.OK, {"success": True})

    @handles("gitter.rooms.join")
    async def rooms_join(self, call: Call) -> Reply:
        world, me = self.world, self._me(call)
        uri = str(call.params.get("uri", "")).strip().strip("/")
        if not uri:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.URI_REQUIRED))
        room = world.room_by_uri(uri)
        if room is not None and room.security == PRIVATE and not room.is_member(me.id):
            room = None  # a private room of others is answered as an unknown uri: no existence oracle
        if room is None:
            room = self._one_to_one(call, uri)
        self._join(room, me)
        return JsonReply(HTTPStatus.OK, render.room(world, room, me.id))

    def _one_to_one(self, call: Call, uri: str) -> Room:
        """POST /v1/rooms with another user's username: their one-to-one room with the caller."""
        world, me = self.world, self._me(call)
        other = world.user_named(uri)
        if other is None or other.id == me.id:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        room = world.one_to_one_between(me.id, other.id)
        if room is None:
            room = Room(id=self._make_id(world, "room"), github_type=ONETOONE, uri=None, name="")
            now = timestamp(self.store.clock)
            room.add_member(me.id, now)
            room.add_member(other.id, now)
            world.add_room(room)
        return room

    @handles("gitter.groups.list")
    async def groups_list(self, call: Call) -> Reply:
        """The groups of the user's rooms (a group: its rooms' first uri segment [inferred])."""
        world, me = self.world, self._me(call)
        admin_only = call.params.get("type") == "admin"
        seen: dict[str, dict[str, Any]] = {}
        for room in world.rooms.values():
            if room.uri is None or not room.is_member(me.id) or (admin_only and me.id not in room.admins):
                continue
            name = group_of(room.uri)
            if name.lower() not in seen:
                seen[name.lower()] = render.group(name, world.room_by_uri(name))
        return JsonReply(HTTPStatus.OK, list(seen.values()))

    @handles("gitter.groups.rooms")
    async def groups_rooms(self, call: Call) -> Reply:
        world, me = self.world, self._me(call)
        wanted = call.path_params.get("id", "")  # the group id (groups/index.js: id "group")
        rooms = [room for room in world.rooms.values() if room.uri is not None and group_id(group_of(room.uri)) == wanted]
        if not rooms:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        visible = [room for room in rooms if room.is_member(me.id) or (room.security != PRIVATE and not room.noindex)]
        return JsonReply(HTTPStatus.OK, [render.room(world, room, me.id) for room in visible])

    @handles("gitter.user.show")
    async def user_show(self, call: Call) -> Reply:
        me = self._own_user(call)
        return JsonReply(HTTPStatus.OK, {**render.user(me), "providers": list(me.providers)})

    @handles("gitter.user.channels")
    async def user_channels(self, call: Call) -> Reply:
        """The USER_CHANNEL rooms under the user's name that they belong to [inferred]."""
        world, me = self.world, self._own_user(call)
        prefix = f"{me.username}/"
        rooms = [
            render.room(world, room, me.id, full=True)
            for room in world.rooms.values()
            if room.github_type == USER_CHANNEL and room.uri is not None and room.uri.startswith(prefix) and room.is_member(me.id)
        ]
        return JsonReply(HTTPStatus.OK, rooms)

    @handles("gitter.user.orgs")
    async def user_orgs(self, call: Call) -> Reply:
        """The user's GitHub organisations, each with its room (orgs.js serializeOrgsForUser)."""
        world, me = self.world, self._own_user(call)
        return JsonReply(HTTPStatus.OK, [render.github_org(world, org, me.id) for org in me.orgs])

    @handles("gitter.user.repos")
    async def user_repos(self, call: Call) -> Reply:
        """The user's GitHub repositories (repos.js): with ``q``, ``{results}`` of those whose full
        name holds every word of q, at most ``limit + 1`` of them; ``type=admin``: the ones they
        administer."""
        world, me, params = self.world, self._own_user(call), call.params
        query = str(params.get("q") or "")
        if query:
            words = query.replace("*", "").replace("+", "").replace("$", "").lower().split()
            found = [repo for repo in me.repos if all(word in repo.name.lower() for word in words)]
            limit = paging.number(params.get("limit"), 0, len(found))
            if limit:
                found = found[: limit + 1]
            return JsonReply(HTTPStatus.OK, {"results": [render.github_repo(world, repo, me.id) for repo in found]})
        repos = [repo for repo in me.repos if repo.admin] if params.get("type") == "admin" else list(me.repos)
        return JsonReply(HTTPStatus.OK, [render.github_repo(world, repo, me.id) for repo in repos])

    @handles("gitter.rooms.channels")
    async def room_channels(self, call: Call) -> Reply:
        """The channels nested under the room (uri ``<room uri>/<name>``): public ones and the
        caller's own [inferred: which rooms]."""
        world, room, me = self.world, self._room(call), self._me(call)
        if room.uri is None:
            return JsonReply(HTTPStatus.OK, [])
        prefix = f"{room.uri.lower()}/"
        channels = [
            render.room(world, place, me.id)
            for place in world.rooms.values()
            if place.github_type.endswith("_CHANNEL")
            and place.uri is not None
            and place.uri.lower().startswith(prefix)
            and (place.is_member(me.id) or place.security != PRIVATE)
        ]
        return JsonReply(HTTPStatus.OK, channels)

    @handles("gitter.user.rooms.update")
    async def user_rooms_update(self, call: Call) -> Reply:
        """favourite, mode, updateLastAccess (user/troupes.js performUpdateToUserRoom)."""
        world, me, params = self.world, self._own_user(call), call.params
        room = self._unread_room(call, me)
        if room is None:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        if "favourite" in params:
            self._favourite(room, me.id, params["favourite"])
        if "mode" in params:
            mode = str(params["mode"])
            mode = "announcement" if mode == "mention" else mode
            if mode in ("all", "default"):
                room.modes.pop(me.id, None)
            else:
                room.modes[me.id] = mode
        if "updateLastAccess" in params:
            room.last_access[me.id] = timestamp(self.store.clock)
        return JsonReply(HTTPStatus.OK, render.room(world, room, me.id, full=True))

    def _favourite(self, room: Room, user_id: str, value: Any) -> None:
        """A position (1 first; the others move down), true (after the last), or off."""
        if value in (False, None, 0, "false", "0", ""):
            room.favourites.pop(user_id, None)
            return
        mine = [place for place in self.world.rooms.values() if user_id in place.favourites and place is not room]
        if value in (True, "true"):
            room.favourites[user_id] = max((place.favourites[user_id] for place in mine), default=0) + 1
            return
        position = int(value)
        for place in mine:
            if place.favourites[user_id] >= position:
                place.favourites[user_id] += 1
        room.favourites[user_id] = position

    @handles("gitter.user.unreadItems.markAllRead")
    async def unread_mark_all(self, call: Call) -> Reply:
        me = self._own_user(call)
        room = self._unread_room(call, me)
        if room is None:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        unread = room.unread.get(me.id) or {}
        for ident in unread:
            message = room.by_id.get(ident)
            if message is not None:
                message.read_by.add(me.id)
        room.unread[me.id] = {}
        room.unread_mentions[me.id] = {}
        room.last_access[me.id] = timestamp(self.store.clock)
        self._unread_changed(room, [me.id])
        return JsonReply(HTTPStatus.OK, {"success": True})

    @handles("gitter.rooms.users.list")
    async def room_users(self, call: Call) -> Reply:
        world, room = self.world, self._room(call)
        query = str(call.params.get("q") or "").strip().lower()
        people = [world.users[member] for member in room.members]
        if query:
            people = [person for person in people if query in f"{person.username} {person.display_name}".lower()]
        skip = paging.number(call.params.get("skip"), 0, len(people))
        limit = paging.number(call.params.get("limit"), ROOM_USERS_DEFAULT_LIMIT, ROOM_USERS_MAX_LIMIT)
        shown = [render.user(person, role="admin" if person.id in room.admins else None) for person in people[skip : skip + limit]]
        return JsonReply(HTTPStatus.OK, shown)

    # messages ------------------------------------------------------------------------
    @handles("gitter.rooms.chatMessages.list")
    async def messages_list(self, call: Call) -> Reply:
        world, room, me, markups = self.world, self._room(call), self._me(call), self.markups
        found = paging.page(room.messages, call.params, room.positions)
        return JsonReply(HTTPStatus.OK, [render.message(world, room, item, me.id, markups) for item in found])

    @handles("gitter.rooms.chatMessages.get")
    async def messages_get(self, call: Call) -> Reply:
        room = self._room(call)
        message = self._message(call, room, "messageId")
        return JsonReply(HTTPStatus.OK, render.message(self.world, room, message, self._me(call).id, self.markups))

    @handles("gitter.rooms.chatMessages.create")
    async def messages_create(self, call: Call) -> Reply:
        world, room, me = self.world, self._room(call), self._me(call)
        text = call.params.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.TEXT_REQUIRED))
        now = timestamp(self.store.clock)
        message = Message(
            id=self._make_id(world, "message"),
            room_id=room.id,
            user_id=me.id,
            text=text,
            sent=now,
            status=call.params.get("status") in STATUS_TRUE,
        )
        world.add_message(room, message)
        unread.deliver(room, message, {member for member in room.members if member != me.id}, self.markups)
        room.last_access[me.id] = now
        room.message_log.append(message.id)
        self._log_event(room, ("create", MESSAGES, message.id))
        self._publish(room, MESSAGES)
        self._publish(room, EVENTS)
        self._unread_changed(room, [member for member in room.members if member != me.id])
        return JsonReply(HTTPStatus.OK, render.message(world, room, message, me.id, self.markups))

    @handles("gitter.rooms.chatMessages.update")
    async def messages_update(self, call: Call) -> Reply:
        world, room, me = self.world, self._room(call), self._me(call)
        message = self._message(call, room, "chatMessageId")
        text = call.params.get("text", "")  # updateChatMessage(..., newText = '')
        if not isinstance(text, str):
            raise ApiError(JsonReply(HTTPStatus.BAD_REQUEST, {"error": "text must be a string"}))
        if message.user_id != me.id:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.FORBIDDEN))
        if self._now() - instant(message.sent) > errors.EDIT_WINDOW_SECONDS:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.BAD_REQUEST, errors.EDIT_WINDOW_OVER))
        message.text = text
        message.edited_at = timestamp(self.store.clock)
        message.v += 1
        self._log_event(room, ("update", MESSAGES, message.id))
        self._publish(room, EVENTS)
        return JsonReply(HTTPStatus.OK, render.message(world, room, message, me.id, self.markups))

    # user ----------------------------------------------------------------------------
    @handles("gitter.user.get")
    async def user_get(self, call: Call) -> Reply:
        """[me]; with q, {"results"}: users whose username or display name holds every word of q."""
        me = self._me(call)
        query = call.params.get("q")
        if not query:
            return JsonReply(HTTPStatus.OK, [render.user(me)])
        words = str(query).lower().split()
        found = [
            render.user(person)
            for person in self.world.users.values()
            if all(word in f"{person.username} {person.display_name}".lower() for word in words)
        ]
        return JsonReply(HTTPStatus.OK, {"results": _window(found, call.params)})

    @handles("gitter.user.me")
    async def user_me(self, call: Call) -> Reply:
        return JsonReply(HTTPStatus.OK, render.me(self._me(call)))

    @handles("gitter.user.rooms.list")
    async def user_rooms(self, call: Call) -> Reply:
        world, me = self.world, self._own_user(call)
        rooms = [render.room(world, room, me.id, full=True) for room in world.rooms.values() if room.is_member(me.id)]
        return JsonReply(HTTPStatus.OK, rooms)

    @handles("gitter.user.rooms.join")
    async def user_rooms_join(self, call: Call) -> Reply:
        """Join by id (user/troupes.js create); a private room of others is an unknown id."""
        world, me = self.world, self._own_user(call)
        room = world.rooms.get(str(call.params.get("id", "")))
        if room is None or (room.security == PRIVATE and not room.is_member(me.id)) or (room.one_to_one and not room.is_member(me.id)):
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        self._join(room, me)
        return JsonReply(HTTPStatus.OK, render.room(world, room, me.id, full=True))

    def _join(self, room: Room, me: User) -> None:
        if not room.is_member(me.id):
            room.add_member(me.id, timestamp(self.store.clock))
            self._log_event(room, ("create", "users", me.id))
            self._publish(room, EVENTS)

    @handles("gitter.rooms.users.remove")
    async def room_users_remove(self, call: Call) -> Reply:
        """Leave (rooms/users.js destroy); removing someone else takes a room admin."""
        room, me = self._room(call), self._me(call)
        target = call.path_params.get("userId", "")
        target = me.id if target == "me" else target
        if target != me.id and me.id not in room.admins:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.FORBIDDEN))
        if not room.is_member(target):
            raise ApiError(self.documented(call.endpoint, HTTPStatus.NOT_FOUND))
        room.remove_member(target)
        self._log_event(room, ("remove", "users", target))
        self._publish(room, EVENTS)
        if not can_read(room, target):
            self.realtime.unsubscribe_user(target, f"/api/v1/rooms/{room.id}")  # onUserRemovedFromTroupe
        return JsonReply(HTTPStatus.OK, {"success": True})

    def _unread_room(self, call: Call, me: User) -> Room | None:
        room = self.world.rooms.get(call.path_params.get("roomId", ""))
        return room if room is not None and room.is_member(me.id) else None

    @handles("gitter.user.unreadItems.list")
    async def unread_list(self, call: Call) -> Reply:
        """A room the caller is not in has no unread items: empty lists [inferred; no 404 documented]."""
        me = self._own_user(call)
        return JsonReply(HTTPStatus.OK, render.unread_items(self._unread_room(call, me), me.id))

    @handles("gitter.user.unreadItems.markRead")
    async def unread_mark(self, call: Call) -> Reply:
        me = self._own_user(call)
        ids = [str(item) for key in ("chat", "mention") for item in call.params.get(key) or () if isinstance(item, str)]
        if not ids:
            raise ApiError(self.documented(call.endpoint, HTTPStatus.BAD_REQUEST))
        room = self._unread_room(call, me)
        if room is not None:
            wanted = set(ids)
            unread, mentions = room.unread.setdefault(me.id, {}), room.unread_mentions.setdefault(me.id, {})
            for ident in wanted:
                unread.pop(ident, None)
                mentions.pop(ident, None)
            for ident in wanted:
                message = room.by_id.get(ident)
                if message is not None and message.user_id != me.id:
                    message.read_by.add(me.id)
            room.last_access[me.id] = timestamp(self.store.clock)
            self._unread_changed(room, [me.id])
        return JsonReply(HTTPStatus.OK, {"success": True})

    # streams -------------------------------------------------------------------------
    @handles("gitter.stream.chatMessages")
    async def stream_messages(self, call: Call) -> Reply:
        return self._stream_reply(call, MESSAGES)

    @handles("gitter.stream.events")
    async def stream_events(self, call: Call) -> Reply:
        return self._stream_reply(call, EVENTS)

    def _stream_reply(self, call: Call, channel: str) -> StreamReply:
        room = self._room(call)
        response = call.endpoint.response(HTTPStatus.OK)
        return StreamReply(self._stream(call, room, channel), content_type=response.content_type)

    async def _stream(self, call: Call, room: Room, channel: str) -> AsyncIterator[bytes]:
        """One ``json + delimiter`` chunk per new item, the keep-alive when quiet; ends when the
        client goes away or the world is reset."""
        spec = call.endpoint.response(HTTPStatus.OK).stream or {}
        delimiter = str(spec.get("delimiter", "\r")).encode()
        keep_alive = str(spec.get("keepAlive", "\n")).encode()
        world, viewer, markups = self.world, self._me(call).id, self.markups
        log: list[Any] = room.message_log if channel == MESSAGES else room.event_log
        cursor = len(log)

        def check() -> object | None:
            if self.world is not world:
                return _STOP
            return log[cursor:] if len(log) > cursor else None

        while True:
            try:
                found = await call.hold(self.hub.wait_for((topic(room.id, channel), RESET_TOPIC), check, self.settings.stream_keepalive))
            except ClientGone:
                return
            if found is None:
                yield keep_alive
                continue
            if found is _STOP or not isinstance(found, list):
                return
            for entry in found:
                cursor += 1
                item = self._stream_item(world, room, channel, entry, viewer, markups)
                if item is not None:
                    yield orjson.dumps(item) + delimiter

    @staticmethod
    def _stream_item(world: World, room: Room, channel: str, entry: Any, viewer: str, markups: MarkupCache) -> dict[str, Any] | None:
        if channel == MESSAGES:
            message = room.by_id.get(entry)
            return None if message is None else render.message(world, room, message, viewer, markups)
        return render.event(world, room, entry, viewer, markups)

    # Faye (Bayeux) realtime ----------------------------------------------------------------
    @handles("gitter.faye.bayeux")
    async def faye_bayeux(self, call: Call) -> Reply:
        return await self._bayeux_http(call)

    @handles("gitter.faye.faye")
    async def faye_faye(self, call: Call) -> Reply:
        return await self._bayeux_http(call)

    @staticmethod
    def _bayeux_messages(params: Mapping[str, Any]) -> list[Any]:
        """The Bayeux messages of a body: an array of them (``message``), or one message whose
        fields are the parameters (``[].concat``, as Faye reads a body)."""
        listed = params.get("message")
        return list(listed) if isinstance(listed, list) else [dict(params)]

    def _bayeux_round(self, messages: list[Any]) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], FayeClient]]]:
        """The replies to ``messages`` in order, without those of the connects, which wait."""
        world, markups, realtime = self.world, self.markups, self.realtime
        checker = self.registry.model("gitter.BayeuxRequest").checker
        replies: list[dict[str, Any]] = []
        connects: list[tuple[dict[str, Any], FayeClient]] = []
        for message in messages:
            problem = checker.errors(message)
            if problem:
                replies.append(refused(message, problem[0]))
                continue
            reply, connecting = realtime.handle(world, markups, message)
            if connecting is None:
                replies.append(reply)
            else:
                connects.append((reply, connecting))
        return replies, connects

    def _due(self, world: World, client: FayeClient) -> Callable[[], Any]:
        """For hub.wait_for: the client's deliveries once there are some; a stop on a reset."""

        def check() -> Any:
            if self.world is not world or client.id not in self.realtime.clients:
                return _STOP
            return client.queue or None

        return check

    async def _bayeux_http(self, call: Call) -> Reply:
        """Long-polling: replies in order; a connect is held until a delivery is due (or the
        advice timeout), then the deliveries and the connect's reply end the answer."""
        messages = self._bayeux_messages(call.params)
        world = self.world
        replies, connects = self._bayeux_round(messages)
        for reply, client in connects[:1]:
            if not client.queue:
                try:
                    await call.hold(
                        self.hub.wait_for((Realtime.topic(client.id), RESET_TOPIC), self._due(world, client), self.realtime.timeout)
                    )
                except ClientGone:
                    return JsonReply(HTTPStatus.OK, replies or [reply])  # nobody reads it; the deliveries stay queued
            replies.extend(self.realtime.take(client))
            client.seen = max(client.seen, _monotonic())
            replies.append(reply)
        replies.extend(reply for reply, _client in connects[1:])  # a second connect in one batch: answered at once
        return JsonReply(HTTPStatus.OK, replies, content_type=call.endpoint.response(HTTPStatus.OK).content_type)

    @serves_socket("ws", "/bayeux")
    async def faye_socket_bayeux(self, socket: Socket) -> None:
        await self._bayeux_socket(socket)

    @serves_socket("ws", "/faye")
    async def faye_socket_faye(self, socket: Socket) -> None:
        await self._bayeux_socket(socket)

    async def _bayeux_socket(self, socket: Socket) -> None:
        """Faye's WebSocket transport: each text frame is a JSON array of messages, answered
        at once; a connect's reply goes with the deliveries once some are due (or after the
        advice timeout), from a second task, while the socket keeps reading. A reset closes it."""
        world = self.world
        sending = asyncio.Lock()
        pending: list[tuple[dict[str, Any], FayeClient]] = []  # connects waiting for deliveries
        woken = f"gitter:faye-socket:{id(pending)}"

        checker = self.registry.endpoint("gitter.faye.bayeux").response(HTTPStatus.OK).checker if self.settings.strict else None

        async def send(frame: list[dict[str, Any]]) -> bool:
            if checker is not None:
                problems = checker.errors(frame)
                if problems:  # strict mode: a frame that breaks BayeuxReply becomes an error reply and one log line
                    log.error("chatmock strict mode: a Faye frame violates its schema: %s", problems[0][:200])
                    frame = [{"successful": False, "error": f"500::chatmock strict mode: {problems[0][:200]}"}]
            async with sending:
                return await socket.send(orjson.dumps(frame).decode())

        def next_connect() -> Any:
            if self.world is not world:
                return _STOP
            return pending.pop(0) if pending else None

        async def pump() -> None:
            while not socket.closed:
                item = await self.hub.wait_for((woken, RESET_TOPIC), next_connect, SOCKET_IDLE_CHECK)
                if item is _STOP:
                    await socket.close(1000, "reset")
                    return
                if item is None:
                    if self.hub.closed:
                        return
                    continue
                reply, client = item
                if not client.queue:
                    found = await self.hub.wait_for(
                        (Realtime.topic(client.id), RESET_TOPIC), self._due(world, client), self.realtime.timeout
                    )
                    if found is _STOP and self.world is not world:
                        await socket.close(1000, "reset")
                        return
                frame = [*self.realtime.take(client), reply]
                client.seen = max(client.seen, _monotonic())
                if not await send(frame):
                    return

        pumping = asyncio.create_task(pump())
        try:
            while True:
                frame = await socket.receive()
                if frame is None or self.world is not world:
                    return
                try:
                    received = orjson.loads(frame)
                    messages = received if isinstance(received, list) else [received]
                except orjson.JSONDecodeError as error:
                    await send([{"successful": False, "error": f"400::Bad request: {error}"}])
                    continue
                replies, connects = self._bayeux_round(messages)
                if replies and not await send(replies):
                    return
                if connects:
                    pending.extend(connects)
                    self.hub.publish(woken)
        finally:
            pumping.cancel()
