"""Rocket.Chat's realtime API (DDP on ``/websocket``) on any target: in-process, a mock over a
socket (``--target http``), or a live server (``--target live --allow-writes`` with
``CHATMOCK_ROCKETCHAT_USER``/``_PASSWORD`` and ``_ROOM``).

* connect, log in (a sha-256 digest), subscribe; a message posted over REST arrives over DDP
  within a bound, as the server sends it (``changed``, ``fields.eventName``, ``fields.args``),
  every frame checked against ``schemas/rocketchat/realtime``;
* a message sent over DDP is readable over REST;
* a hypothesis state machine of posts (REST and DDP), edits and reconnects (a resume login with
  the session's token, subscriptions again): every change reaches each subscription exactly
  once and in order per room, nothing else arrives (a ping barrier at the end of each step on
  the mock), and a reconnect with ``{resume}`` logs the same user in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contract_tests.apis.rocketchat import SUPPORT, password_login, resolve_room
from contract_tests.realtime import DdpConnection
from contract_tests.skips import require_api, require_writes
from contract_tests.targets import Credential, Target

API = "rocketchat"
TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019 _-.!éü日本🙂")), min_size=1, max_size=20).map(str.strip).filter(bool)
PICK = st.integers(min_value=0, max_value=7)


def listener_login(target: Target, ddp: DdpConnection) -> dict[str, Any]:
    """Log the listening user in over DDP: a password digest, else (a live target configured
    with a token only) a resume with that token."""
    params = password_login(target, "alice")
    if params is not None:
        return ddp.login_password(params["user"], params["password"])
    token = target.config.secret(API, "TOKEN")
    if token is None:
        pytest.skip("live rocketchat realtime needs CHATMOCK_ROCKETCHAT_USER + _PASSWORD or _TOKEN")
    return ddp.login_resume(token)


def the_room(target: Target, credential: Credential) -> tuple[str, str]:
    """(id, name) of the room to write in: the configured one on a live server, else general."""
    rooms = target.call("rocketchat.rooms.get", {}, credential=credential, expect_error=False).json()["update"]
    names = {str(room["_id"]): str(room.get("name", "")) for room in rooms}
    wanted = target.config.secret(API, "ROOM") if not target.config.is_mock else "general"
    room_id = resolve_room(names, wanted or "general")
    return room_id, names.get(room_id, room_id)


def test_a_rest_post_arrives_over_ddp_and_a_ddp_message_over_rest(target: Target) -> None:
    require_api(target.config, API)
    require_writes(target.config, API)
    poster = SUPPORT.login(target, "bob" if target.config.is_mock else "alice")
    with DdpConnection.open(target) as ddp:
        assert len(ddp.connect()) > 0
        me = listener_login(target, ddp)
        room_id, _ = the_room(target, poster)
        assert ddp.sub("stream-room-messages", room_id, {"useCollection": False, "args": []})["msg"] == "ready"
        assert ddp.sub("stream-room-messages", "__my_messages__", False)["msg"] == "ready"
        text = f"realtime {secrets.token_hex(4)}"
        posted = target.call("rocketchat.chat.postMessage", {"roomId": room_id, "text": text}, credential=poster, expect_error=False)
        message_id = posted.json()["message"]["_id"]
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:
            frame = ddp.event(what=f"the REST post {message_id} over DDP")
            message = frame["fields"]["args"][0]
            if message.get("_id") == message_id:
                assert frame["id"] == "id"
                seen[frame["fields"]["eventName"]] = frame
        assert set(seen) == {room_id, "__my_messages__"}
        assert seen[room_id]["fields"]["args"] == [seen[room_id]["fields"]["args"][0]]
        assert seen[room_id]["fields"]["args"][0]["msg"] == text
        meta = seen["__my_messages__"]["fields"]["args"][1]
        assert meta["roomType"] == "c"
        assert meta["roomParticipant"] is True
        answer = f"answer {secrets.token_hex(4)}"
        sent = ddp.result("sendMessage", {"_id": "cm" + secrets.token_hex(8), "rid": room_id, "msg": answer})
        assert sent["u"]["_id"] == me["id"]
    listing = target.call("rocketchat.channels.history", {"roomId": room_id, "count": "10"}, credential=poster, expect_error=False)
    assert sent["_id"] in [item["_id"] for item in listing.json()["messages"]]


def test_bad_frames_get_error_frames_and_the_connection_lives(target: Target) -> None:
    require_api(target.config, API)
    with DdpConnection.open(target) as ddp:
        ddp.connect()
        ddp._send("not json")
        assert ddp.wait(lambda frame: frame.get("msg") == "error") == {"msg": "error", "reason": "Bad request"}
        ddp.send({"msg": "no-such-message"})
        assert ddp.wait(lambda frame: frame.get("msg") == "error")["reason"] == "Bad request"
        reply = ddp.call("no-such-method")
        assert reply["error"]["error"] == 404
        assert ddp.sub("stream-room-messages", "GENERAL", False)["msg"] == "nosub"  # not logged in
        ddp.send({"msg": "ping", "id": "alive"})
        assert ddp.wait(lambda frame: frame.get("msg") == "pong") == {"msg": "pong", "id": "alive"}


@dataclass
class Stream:
    """What one subscription must receive: message ids (with their text) in order."""

    name: str
    expected: list[tuple[str, str]] = field(default_factory=list)


@settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
class RealtimeDelivery(RuleBasedStateMachine):
    """alice listens over DDP (her room's stream and ``__my_messages__``); alice and bob post
    over REST and over DDP, edit, and alice reconnects. Every change reaches each of her
    subscriptions exactly once, in order."""

    target: Target

    def __init__(self) -> None:
        super().__init__()
        target = self.target
        target.reset()
        self.users = ["alice", "bob"] if target.config.is_mock else ["alice"]
        self.rest = {user: SUPPORT.login(target, user) for user in self.users}
        self.room, _ = the_room(target, self.rest["alice"])
        self.mine: dict[str, tuple[str, str]] = {}  # message id -> (author, text): what this run wrote
        self.ddp: DdpConnection | None = None
        self.token = ""
        self.user_id = ""
        self.streams: dict[str, Stream] = {}
        self.open_listener(resume=False)

    # the listener ---------------------------------------------------------------------------
    def open_listener(self, resume: bool) -> None:
        ddp = DdpConnection.open(self.target)
        ddp.connect()
        login = ddp.login_resume(self.token) if resume else listener_login(self.target, ddp)
        if resume:
            assert login["id"] == self.user_id, "a resume login logged in another user"
        self.token, self.user_id = str(login["token"]), str(login["id"])
        subs: dict[str, list[Any]] = {self.room: [self.room, {"useCollection": False, "args": []}]}
        if self.target.config.is_mock:  # on a live server __my_messages__ carries every public channel's traffic
            subs["__my_messages__"] = ["__my_messages__", False]
        for name, params in subs.items():
            ready = ddp.sub("stream-room-messages", *params)
            assert ready["msg"] == "ready", f"subscribing to {name}: {ready}"
        self.streams = {name: Stream(name) for name in subs}
        self.ddp = ddp

    def expect(self, message_id: str, text: str) -> None:
        for stream in self.streams.values():
            stream.expected.append((message_id, text))

    def receive_expected(self) -> None:
        """Every expected event, in order per subscription, and (on the mock) nothing else."""
        ddp = self.ddp
        assert ddp is not None
        while any(stream.expected for stream in self.streams.values()):
            frame = ddp.event(what="the next expected change")
            message = frame["fields"]["args"][0]
            if message.get("_id") not in self.mine and not self.target.config.is_mock:
                continue  # someone else's message on a live server
            stream = self.streams.get(frame["fields"]["eventName"])
            assert stream is not None, f"an event for {frame['fields']['eventName']!r}, which is not subscribed"
            got = (str(message["_id"]), str(message["msg"]))
            assert stream.expected, f"{stream.name}: an event nobody expected (a duplicate?): {got}"
            assert got == stream.expected[0], f"{stream.name}: got {got}, expected {stream.expected[0]} (order or exactly-once broken)"
            stream.expected.pop(0)
        if self.target.config.is_mock:
            extra = [frame for frame in ddp.barrier() if frame.get("msg") == "changed"]
            assert extra == [], f"events nobody expected (duplicates?): {[frame['fields']['args'][0].get('_id') for frame in extra]}"

    # rules --------------------------------------------------------------------------------------
    @rule(who=PICK, text=TEXT)
    def post_over_rest(self, who: int, text: str) -> None:
        user = self.users[who % len(self.users)]
        body = self.target.call(
            "rocketchat.chat.postMessage", {"roomId": self.room, "text": text}, credential=self.rest[user], expect_error=False
        )
        message = body.json()["message"]
        self.mine[str(message["_id"])] = (user, message["msg"])
        self.expect(str(message["_id"]), message["msg"])

    @rule(text=TEXT)
    def send_over_ddp(self, text: str) -> None:
        assert self.ddp is not None
        message_id = "cm" + secrets.token_hex(8)
        sent = self.ddp.result("sendMessage", {"_id": message_id, "rid": self.room, "msg": text})
        assert sent["_id"] == message_id, "sendMessage did not keep the client's _id"
        self.mine[message_id] = ("alice", sent["msg"])
        self.expect(message_id, sent["msg"])

    @precondition(lambda self: bool(self.mine))
    @rule(which=PICK, text=TEXT)
    def edit_over_rest(self, which: int, text: str) -> None:
        message_id = list(self.mine)[which % len(self.mine)]
        author, _ = self.mine[message_id]
        params = {"roomId": self.room, "msgId": message_id, "text": text}
        edited = self.target.call("rocketchat.chat.update", params, credential=self.rest[author], expect_error=False).json()["message"]
        self.mine[message_id] = (author, edited["msg"])
        self.expect(message_id, edited["msg"])

    @rule()
    def reconnect(self) -> None:
        """Close the connection, open another, resume with the session's token, subscribe again
        (nothing is replayed: what was expected had arrived)."""
        self.receive_expected()
        assert self.ddp is not None
        self.ddp.close()
        self.open_listener(resume=True)

    @invariant()
    def every_change_arrived_once_in_order(self) -> None:
        if self.ddp is not None:
            self.receive_expected()

    def teardown(self) -> None:
        if self.ddp is not None:
            self.ddp.close()
        listing = self.target.call(
            "rocketchat.channels.history", {"roomId": self.room, "count": "100"}, credential=self.rest["alice"], expect_error=False
        )
        texts = {str(item["_id"]): item["msg"] for item in listing.json()["messages"]}
        for message_id, (_, text) in self.mine.items():
            if message_id in texts:  # a long live room may have pushed it off the first page
                assert texts[message_id] == text, f"{message_id} reads {texts[message_id]!r} over REST, {text!r} over DDP"


def test_every_change_reaches_each_subscription_exactly_once_in_order(target: Target) -> None:
    require_api(target.config, API)
    require_writes(target.config, API)

    class Bound(RealtimeDelivery):
        pass

    Bound.target = target
    chosen = RealtimeDelivery.TestCase.settings
    if not target.config.is_mock:
        chosen = settings(chosen, max_examples=2, stateful_step_count=6)
    run_state_machine_as_test(Bound, settings=chosen)
