"""One DDP connection: the handshake, heartbeats, methods and subscriptions.

Framing follows Meteor's DDP server (meteor/meteor ``packages/ddp-server/livedata_server.js``
and ``stream_server.js``) as Rocket.Chat serves it on ``/websocket``:

* on open the server sends ``{"server_id": "0"}``; ``connect`` (``version`` one of ``support``,
  and the best version the server shares with the client: ``1``, ``pre2``, ``pre1``) is
  answered ``connected`` with a session id, else ``failed`` with the version to use and a close;
* a socket that sends nothing for 45 s before ``connect`` is closed (Meteor's websocket timeout);
* ``ping`` -> ``pong`` (with the ping's ``id``); the server pings a client that has been silent
  for ``ping_interval`` seconds and closes it when nothing arrives ``ping_timeout`` seconds
  later (Meteor's heartbeat; none with ``pre1``);
* ``method`` -> ``updated`` then ``result`` (``result`` first for an unknown method, 404
  ``Method '<name>' not found``); ``sub`` -> ``ready`` or ``nosub`` with the error; ``unsub``
  -> ``nosub``; malformed frames get ``{msg: "error", reason, offendingMessage}``.

Frames are handled one at a time in the order received; events are sent by a second task
that waits on the hub for the topics of this session's subscriptions and reads the feed
(:mod:`.feed`). Nothing here raises into the server: a vanished client ends both tasks and
drops every subscription.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mockserver.apis.rocketchat.ddp import frames, login
from mockserver.apis.rocketchat.ddp.ejson import to_ejson
from mockserver.apis.rocketchat.ddp.frames import INTERNAL, MeteorError
from mockserver.apis.rocketchat.ddp.methods import METHODS, MethodCall
from mockserver.apis.rocketchat.ddp.realtime import Realtime, on_loop
from mockserver.apis.rocketchat.ddp.schemas import Flaw, flaw
from mockserver.apis.rocketchat.ddp.streams import PLAIN_PUBLICATIONS, STREAMS, Sub, frames_for, open_sub, use_collection
from mockserver.apis.rocketchat.world import User, new_id
from mockserver.core.call import Socket

log = logging.getLogger("chatmock")
SERVER_ID = '{"server_id":"0"}'
RESTART = 1012  # the close code when a reset or seed replaced the world (service restart)


class Session:
    __slots__ = (
        "_retopic",
        "cursor",
        "ended",
        "id",
        "index",
        "last_heard",
        "ping_sent",
        "pump",
        "realtime",
        "socket",
        "subs",
        "token",
        "topics",
        "user",
        "version",
    )

    def __init__(self, realtime: Realtime, socket: Socket) -> None:
        self.realtime = realtime
        self.socket = socket
        self.id = new_id()
        self.version: str | None = None  # set by connect
        self.user: User | None = None
        self.token = ""
        self.subs: dict[str, Sub] = {}
        self.index: dict[tuple[str, str], list[Sub]] = {}  # (stream, event name) -> subscriptions
        self.cursor = realtime.feed.next_seq
        self.topics: tuple[str, ...] = (self.wake_topic,)
        self._retopic = False
        self.last_heard = 0.0
        self.ping_sent: float | None = None
        self.pump: asyncio.Task[None] | None = None
        self.ended = False

    @property
    def wake_topic(self) -> str:
        return f"rocketchat.ddp.{self.id}"

    # the connection ---------------------------------------------------------------------------
    async def run(self) -> None:
        realtime = self.realtime
        loop = asyncio.get_running_loop()
        realtime.opened(self, loop)
        try:
            if not await self.socket.send(SERVER_ID):
                return
            while not self.ended:
                frame = await (self.socket.receive() if self.version is not None else self._first_frames())
                if frame is None:
                    break
                if realtime.retired:
                    await self.socket.close(RESTART, "the world was reset")
                    break
                self.last_heard = loop.time()
                await self.handle(frame)
        finally:
            self.ended = True
            pump, self.pump = self.pump, None
            if pump is not None and pump is not asyncio.current_task():
                pump.cancel()  # not awaited: a server shutting down cancels this task too
            self.subs.clear()
            self.index.clear()
            realtime.closed(self, loop)

    async def _first_frames(self) -> str | bytes | None:
        """A frame before ``connect``: a socket silent for ``connect_timeout`` seconds is closed
        (Meteor's 45 s websocket timeout, until heartbeats take over)."""
        try:
            async with asyncio.timeout(self.realtime.connect_timeout):
                return await self.socket.receive()
        except TimeoutError:
            await self.socket.close(1000, "no connect message")
            return None

    async def send(self, frame: dict[str, Any]) -> None:
        if self.realtime.strict:
            problem = self.realtime.schemas.server_frame_flaw(frame)
            if problem is not None:
                log.error("strict mode: a DDP %s frame breaks frames.json: %s", frame.get("msg"), problem)
                self.realtime.report(f"frame.{frame.get('msg', 'server_id')}", problem)
                frame = {"msg": "error", "reason": f"chatmock strict mode: a {frame.get('msg')} frame breaks its schema: {problem}"}
        if not await self.socket.send(frames.encode(frame)):
            self.ended = True

    async def handle(self, raw: str | bytes) -> None:
        message = frames.parse(raw)
        if message is None:
            await self.send(frames.bad_request(None))
            return
        kind = message.get("msg")
        if not isinstance(kind, str) or not kind:
            await self.send(frames.bad_request(message))
        elif kind == "connect":
            await self.connect(message)
        elif self.version is None:
            await self.send(frames.bad_request(message, "Must connect first"))
        elif kind == "ping" and self.version != "pre1":
            pong: dict[str, Any] = {"msg": "pong"}
            if "id" in message:
                pong["id"] = message["id"]
            await self.send(pong)
        elif kind == "pong" and self.version != "pre1":
            return
        elif kind == "method":
            await self.method(message)
        elif kind == "sub":
            await self.sub(message)
        elif kind == "unsub":
            await self.unsub(message)
        else:
            await self.send(frames.bad_request(message))

    async def connect(self, message: dict[str, Any]) -> None:
        if self.version is not None:
            await self.send(frames.bad_request(message, "Already connected"))
            return
        version, support = message.get("version"), message.get("support")
        if not (
            isinstance(version, str) and isinstance(support, list) and all(isinstance(item, str) for item in support) and version in support
        ):
            await self.send({"msg": "failed", "version": frames.VERSIONS[0]})
            await self.socket.close()
            self.ended = True
            return
        best = next((item for item in frames.VERSIONS if item in support), frames.VERSIONS[0])
        if version != best:
            await self.send({"msg": "failed", "version": best})
            await self.socket.close()
            self.ended = True
            return
        self.version = version
        await self.send({"msg": "connected", "session": self.id})
        self.pump = asyncio.ensure_future(self._pump())

    # methods ------------------------------------------------------------------------------------
    async def method(self, message: dict[str, Any]) -> None:
        call_id, name, params = message.get("id"), message.get("method"), message.get("params", [])
        if (
            not isinstance(call_id, str)
            or not isinstance(name, str)
            or not isinstance(params, list)
            or ("randomSeed" in message and not isinstance(message["randomSeed"], str))
        ):
            await self.send(frames.bad_request(message, "Malformed method invocation"))
            return
        spec = self.realtime.schemas.methods.get(name)
        if spec is None or (name not in METHODS and name not in ("login", "logout")):
            await self.send({"msg": "result", "id": call_id, "error": frames.meteor_error(404, f"Method '{name}' not found")})
            await self.send({"msg": "updated", "methods": [call_id]})
            return
        reply: dict[str, Any] = {"msg": "result", "id": call_id}
        try:
            problem = spec.param_problem(params)
            if problem is not None:
                raise MeteorError(400, "Match failed")
            if spec.login and self.user is None:
                raise MeteorError("error-invalid-user", "Invalid user", {"method": name})
            result = await self._invoke(name, params)
            if result is not None:
                result = to_ejson(result)
                if self.realtime.strict:
                    broken = flaw(spec.result, result)
                    if broken is not None:
                        log.error("strict mode: the result of DDP method %s breaks its schema: %s", name, broken)
                        self.realtime.report(f"method.{name}", Flaw(broken.text, "/result" + broken.pointer))
                        raise MeteorError(500, f"chatmock strict mode: the result breaks its schema: {broken}")
                reply["result"] = result
        except MeteorError as error:
            reply["error"] = error.body()
        except Exception as error:  # a bug: Meteor's internal error, one log line
            log.error("DDP method %s failed: %s: %s", name, type(error).__name__, str(error)[:200])
            reply["error"] = dict(INTERNAL)
        await self.send({"msg": "updated", "methods": [call_id]})
        await self.send(reply)

    async def _invoke(self, name: str, params: list[Any]) -> Any:
        realtime = self.realtime
        api = realtime.api
        if name == "login":
            user, token, result = login.login(api.world, params[0], api.store.clock.timestamp(), api.idle)
            self.user, self.token = user, token
            return result
        if name == "logout":
            if self.token:
                api.world.end_token(self.token)
            self.user, self.token = None, ""
            return None
        return await METHODS[name](MethodCall(api, self.user, self, name), params)

    # subscriptions --------------------------------------------------------------------------------
    async def sub(self, message: dict[str, Any]) -> None:
        sub_id, name, params = message.get("id"), message.get("name"), message.get("params", [])
        if not isinstance(sub_id, str) or not isinstance(name, str) or not isinstance(params, list):
            await self.send(frames.bad_request(message, "Malformed subscription"))
            return
        if name not in STREAMS and name not in PLAIN_PUBLICATIONS:
            await self.send({"msg": "nosub", "id": sub_id, "error": frames.meteor_error(404, f"Subscription '{name}' not found")})
            return
        if sub_id in self.subs:
            return  # subs are idempotent by id (Meteor)
        if len(self.subs) >= self.realtime.max_subs:
            error = frames.meteor_error("too-many-requests", f"at most {self.realtime.max_subs} subscriptions per connection")
            await self.send({"msg": "nosub", "id": sub_id, "error": error})
            return
        try:
            sub = open_sub(self.realtime.api.world, self.user, sub_id, name, params, self.realtime.feed.next_seq)
        except MeteorError as error:
            await self.send({"msg": "nosub", "id": sub_id, "error": error.body()})
            return
        if not self.index:
            self.cursor = sub.since  # nothing before its first subscription concerns this session
        self.subs[sub_id] = sub
        self.index.setdefault((sub.stream, sub.name), []).append(sub)
        self._topics_changed()
        if name in STREAMS and use_collection(params):
            await self.send({"msg": "added", "collection": name, "id": frames.STREAM_ID, "fields": {"eventName": sub.name}})
        await self.send({"msg": "ready", "subs": [sub_id]})

    async def unsub(self, message: dict[str, Any]) -> None:
        sub_id = message.get("id")
        sub = self.subs.pop(sub_id, None) if isinstance(sub_id, str) else None
        if sub is not None:
            subs = self.index.get((sub.stream, sub.name), [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self.index.pop((sub.stream, sub.name), None)
            self._topics_changed()
        reply: dict[str, Any] = {"msg": "nosub"}
        if isinstance(sub_id, str):
            reply["id"] = sub_id
        await self.send(reply)

    def _topics_changed(self) -> None:
        self._retopic = True
        self.realtime.api.hub.publish(self.wake_topic)

    # events and heartbeats ----------------------------------------------------------------------
    def _collect(self) -> list[str] | None:
        """The frames of the events after the cursor ([] to stop waiting: the topics changed or
        the world was replaced; None: nothing yet)."""
        if self._retopic or self.realtime.retired or self.ended:
            return []
        feed = self.realtime.feed
        if self.cursor >= feed.next_seq:
            return None
        events = feed.after(self.cursor)
        self.cursor = feed.next_seq
        if not self.index:
            return None
        world, user, index = self.realtime.api.world, self.user, self.index
        found = [frame for event in events for frame in frames_for(world, user, self, index, event)]
        if found and self.realtime.strict:
            found = [self._checked(frame) for frame in found]
        return found or None

    def _checked(self, frame: str) -> str:
        """Strict mode: an event whose args break its stream file becomes an error frame."""
        decoded = frames.parse(frame) or {}
        problem = self.realtime.schemas.event_flaw(decoded)
        if problem is None:
            return frame
        log.error("strict mode: a DDP %s event breaks its schema: %s", decoded.get("collection"), problem)
        self.realtime.report(f"stream.{decoded.get('collection')}", problem)
        return frames.encode({"msg": "error", "reason": f"chatmock strict mode: an event breaks its schema: {problem}"})

    async def _pump(self) -> None:
        realtime, hub = self.realtime, self.realtime.api.hub
        loop = asyncio.get_running_loop()
        self.last_heard = loop.time()
        beating = self.version != "pre1" and realtime.ping_interval > 0
        try:
            while not self.ended:
                if realtime.retired or hub.closed:
                    await self.socket.close(RESTART, "the world was reset")
                    self.ended = True
                    return
                if self._retopic:
                    self._retopic = False
                    keyed = (on_loop(topic, loop) for sub in self.subs.values() for topic in sub.topics)
                    self.topics = (self.wake_topic, *dict.fromkeys(keyed))
                now = loop.time()
                if beating and not await self._beat(now):
                    return
                wait = self._next_beat(now) if beating else 3600.0
                found = await hub.wait_for(self.topics, self._collect, wait)
                for frame in found or ():
                    if not await self.socket.send(frame):
                        self.ended = True
                        return
        except Exception as error:  # never into the server's log
            log.error("DDP event pump failed: %s: %s", type(error).__name__, str(error)[:200])
            self.ended = True
            await self.socket.close(1011, "internal error")

    async def _beat(self, now: float) -> bool:
        """Meteor's heartbeat: ping a silent client, close one that stays silent (False)."""
        realtime = self.realtime
        if self.ping_sent is not None and self.last_heard >= self.ping_sent:
            self.ping_sent = None
        if self.ping_sent is None and now - self.last_heard >= realtime.ping_interval:
            self.ping_sent = now
            await self.send({"msg": "ping"})
        elif self.ping_sent is not None and now - self.ping_sent >= realtime.ping_timeout:
            self.ended = True
            await self.socket.close(1000, "heartbeat timed out")
            return False
        return True

    def _next_beat(self, now: float) -> float:
        realtime = self.realtime
        if self.ping_sent is not None:
            return max(self.ping_sent + realtime.ping_timeout - now, 0.001)
        return max(self.last_heard + realtime.ping_interval - now, 0.001)
