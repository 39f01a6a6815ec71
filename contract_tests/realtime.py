"""DDP connections of the contract suite: a WebSocket to Rocket.Chat's ``/websocket`` on any
target, with every server frame checked against ``schemas/rocketchat/realtime``.

* in-process: the target's Starlette ``TestClient`` (the ASGI app, no socket); a reader thread
  turns its blocking ``receive`` into a queue, so every wait has a bound;
* ``http`` (a mock on a free port) and ``live``: a real WebSocket (``websockets``' sync client)
  to ``ws(s)://<the API's base URL>/websocket``.

A frame that breaks its schema raises :class:`RealtimeFailure` naming the frame and the
violation; so does a frame that does not arrive within the bound. Secrets (passwords, tokens)
never appear in a failure: passwords go over the wire as their SHA-256 digest and the vault
scrubs the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

from contract_tests.targets import Target
from contract_tests.vault import VAULT
from mockserver.apis.rocketchat.ddp.schemas import realtime_schemas

API = "rocketchat"
BOUND = 5.0  # seconds within which an answer or an event must arrive
_CLOSED = object()


class RealtimeFailure(AssertionError):
    """The realtime API broke its contract (a frame's schema, a bound, an invariant)."""


class DdpConnection:
    """One DDP connection: ``connect``, ``call``, ``sub``, and the frames that arrive, in order."""

    def __init__(self, send: Callable[[str], None], frames: queue.Queue[object], close: Callable[[], None]) -> None:
        self._send = send
        self._frames = frames
        self._close = close
        self.pending: list[dict[str, Any]] = []  # frames received but not yet asked for
        self._ids = itertools.count(1)
        self.schemas = realtime_schemas()
        self.closed = False

    # opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, target: Target, api: str = API) -> DdpConnection:
        base = target.bases[(api, target.registry.api(api).servers[0].name)]
        url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/websocket"
        frames: queue.Queue[object] = queue.Queue()
        if target.config.target == "inprocess":
            session = target.http.websocket_connect(url)  # type: ignore[attr-defined]
            session.__enter__()

            def read() -> None:
                while True:
                    try:
                        message = session.receive()
                    except Exception:
                        break
                    if message.get("type") != "websocket.send":
                        break
                    frames.put(message.get("text") or message.get("bytes", b"").decode("utf-8", "replace"))
                frames.put(_CLOSED)

            threading.Thread(target=read, daemon=True, name="ddp-reader").start()

            def close_session() -> None:
                with contextlib.suppress(Exception):
                    session.__exit__(None, None, None)

            return cls(session.send_text, frames, close_session)
        from websockets.sync.client import connect

        stack = contextlib.ExitStack()
        socket = stack.enter_context(connect(url, open_timeout=BOUND, max_size=2**24))

        def read_socket() -> None:
            try:
                for message in socket:
                    frames.put(message if isinstance(message, str) else message.decode("utf-8", "replace"))
            except Exception:
                pass
            frames.put(_CLOSED)

        threading.Thread(target=read_socket, daemon=True, name="ddp-reader").start()
        return cls(socket.send, frames, stack.close)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()

    def __enter__(self) -> DdpConnection:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    # frames -------------------------------------------------------------------------------
    def send(self, frame: dict[str, Any]) -> None:
        self._send(json.dumps(frame))

    def _next(self, bound: float) -> dict[str, Any]:
        try:
            raw = self._frames.get(timeout=bound)
        except queue.Empty:
            raise RealtimeFailure(f"no DDP frame arrived within {bound:g} s") from None
        if raw is _CLOSED:
            self._frames.put(_CLOSED)
            raise RealtimeFailure("the server closed the DDP connection")
        try:
            frame = json.loads(str(raw))
        except ValueError:
            raise RealtimeFailure(f"the server sent a frame that is not JSON: {VAULT.scrub(str(raw))[:200]}") from None
        if not isinstance(frame, dict):
            raise RealtimeFailure(f"the server sent a frame that is not an object: {VAULT.scrub(str(raw))[:200]}")
        if frame.get("msg") == "error" and str(frame.get("reason", "")).startswith("chatmock strict mode"):
            raise RealtimeFailure(f"the mock found its own frame breaking its schema: {frame['reason']}")
        problem = self.schemas.server_frame_problem(frame)
        if problem is not None:
            raise RealtimeFailure(
                f"server frame {frame.get('msg')!r} breaks frames.json: {problem}: {VAULT.scrub(json.dumps(frame))[:300]}"
            )
        if frame.get("msg") == "ping":  # the server's heartbeat: answered, never handed out
            self.send({"msg": "pong"})
            return self._next(bound)
        return frame

    def wait(self, wanted: Callable[[dict[str, Any]], bool], bound: float = BOUND, what: str = "a frame") -> dict[str, Any]:
        """The first frame (already received or new) for which ``wanted`` is true; the others
        stay pending, in order."""
        for index, frame in enumerate(self.pending):
            if wanted(frame):
                return self.pending.pop(index)
        while True:
            try:
                frame = self._next(bound)
            except RealtimeFailure as failure:
                raise RealtimeFailure(f"waiting for {what}: {failure}") from None
            if wanted(frame):
                return frame
            self.pending.append(frame)

    # DDP ----------------------------------------------------------------------------------
    def connect(self) -> str:
        first = self.wait(lambda frame: True, what="the server's first frame")
        if "server_id" not in first:
            self.pending.insert(0, first)
        self.send({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]})
        connected = self.wait(lambda frame: frame.get("msg") in ("connected", "failed"), what="connected")
        if connected["msg"] != "connected":
            raise RealtimeFailure(f"connect failed: {connected}")
        return str(connected["session"])

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        """The ``result`` frame of a method (its result checked against the method's schema)."""
        call_id = f"m{next(self._ids)}"
        self.send({"msg": "method", "method": method, "id": call_id, "params": list(params)})
        reply = self.wait(lambda frame: frame.get("msg") == "result" and frame.get("id") == call_id, what=f"the result of {method}")
        spec = self.schemas.methods.get(method)
        if spec is not None and "result" in reply:
            errors = spec.result.safe_errors(reply["result"])
            if errors:
                raise RealtimeFailure(f"the result of {method} breaks method file {method!r}: {errors[0]}")
        return reply

    def result(self, method: str, *params: Any) -> Any:
        reply = self.call(method, *params)
        if "error" in reply:
            raise RealtimeFailure(f"{method} failed: {VAULT.scrub(json.dumps(reply['error']))}")
        return reply.get("result")

    def login_password(self, user: str, password: str) -> dict[str, Any]:
        VAULT.learn_all([password])
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        result: dict[str, Any] = self.result("login", {"user": {"username": user}, "password": {"digest": digest, "algorithm": "sha-256"}})
        VAULT.learn_all([str(result.get("token", ""))])
        return result

    def login_resume(self, token: str) -> dict[str, Any]:
        VAULT.learn_all([token])
        result: dict[str, Any] = self.result("login", {"resume": token})
        return result

    def sub(self, name: str, *params: Any) -> dict[str, Any]:
        """``ready`` (or ``nosub``) of a new subscription."""
        sub_id = f"s{next(self._ids)}"
        self.send({"msg": "sub", "id": sub_id, "name": name, "params": list(params)})
        return self.wait(
            lambda frame: (
                (frame.get("msg") == "ready" and sub_id in frame.get("subs", ()))
                or (frame.get("msg") == "nosub" and frame.get("id") == sub_id)
            ),
            what=f"ready for {name}",
        )

    def event(self, bound: float = BOUND, what: str = "an event") -> dict[str, Any]:
        """The next ``changed`` frame, its ``args`` checked against the stream's schema."""
        frame = self.wait(lambda frame: frame.get("msg") == "changed", bound, what)
        problem = self.schemas.event_problem(frame)
        if problem is not None:
            raise RealtimeFailure(f"{frame['collection']} event {frame['fields'].get('eventName')!r} breaks its schema: {problem}")
        return frame

    def barrier(self) -> list[dict[str, Any]]:
        """Every frame the server sent before it answered a ping sent now (on the mock, whose
        event task runs before it reads the ping, every event of what came before)."""
        marker = f"barrier{next(self._ids)}"
        self.send({"msg": "ping", "id": marker})
        self.wait(lambda frame: frame.get("msg") == "pong" and frame.get("id") == marker, what="the pong of a barrier")
        found, self.pending = self.pending, []
        return found
