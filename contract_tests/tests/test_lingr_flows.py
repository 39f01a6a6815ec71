"""Stateful Lingr flows: users at work with several sessions each, posting, reading with
paging, favouriting, observing, logging out (schemas/lingr/; from the seed memo
002_0f8f93cf6b7fe958.txt and the public clients pyLingr and lingr-vim).

The machine keeps a model of the rooms and checks, through the same ``target.call`` as every
other test (so the contract checks and the coverage ledger see each request):

* every accepted message is readable exactly once, oldest first: in room/show (the latest
  ones) and when paging back with room/get_archives ``before`` / ``limit``;
* event/observe delivers each posted message exactly once, in order, to every session
  subscribed to its room, and nothing from other rooms; a client resuming from its last
  counter after several posts gets exactly the missed ones (no gap, no repeat);
* ``faved_message_ids`` follows favorite/add and favorite/remove (a second add or remove fails);
* session/verify names the session's user; a destroyed session answers ``invalid_session``.

Against the mock the suite is the only writer, so the model is exact (the whole history of
each room). Against a live server (``--allow-writes`` and ``CHATMOCK_LINGR_ROOM``) only the
configured room is written and only the messages this run posted are checked.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from contract_tests.apis.lingr import SUPPORT, ok_body
from contract_tests.invariants import in_order, readable_exactly_once
from contract_tests.skips import require_api, require_writes
from contract_tests.targets import LONGPOLL_TIMEOUT, Credential, Target

API = "lingr"
INVALID_SESSION = "invalid_session"  # the documented code of a destroyed session (schemas/lingr/*.json errors)
MAX_SESSIONS = 4
LIVE_MAX_PAGES = 20  # live rooms can be long: page back only past what this run posted

PICK = st.integers(min_value=0, max_value=15)
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).map(str.strip).filter(bool)
DEAD_CALLS = (
    "lingr.session.verify",
    "lingr.session.destroy",
    "lingr.user.get_rooms",
    "lingr.room.show",
    "lingr.room.get_archives",
    "lingr.room.subscribe",
    "lingr.room.say",
    "lingr.favorite.add",
    "lingr.event.observe",
)


@dataclass
class Client:
    """One logged-in session as a client keeps it."""

    credential: Credential
    username: str
    subscribed: set[str] = field(default_factory=set)
    counter: int = 0
    pending: list[str] = field(default_factory=list)  # ids of messages posted to subscribed rooms, not yet observed


def ids_of(messages: list[dict[str, Any]]) -> list[str]:
    return [str(message["id"]) for message in messages]


def assert_ascending(ids: list[str], where: str) -> None:
    numbers = [int(value) for value in ids]
    assert numbers == sorted(set(numbers)), f"{where}: message ids not strictly ascending (oldest first, no repeat): {ids}"


@settings(max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck))
class LingrUsersAtWork(RuleBasedStateMachine):
    target: Target
    write_room: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.target.reset()
        self.exclusive = self.target.config.is_mock  # the suite is the only writer: the model is exact
        # the mock's default world has alice and bob; a live target logs in as CHATMOCK_LINGR_USER only
        self.users = ["alice", "bob"] if self.exclusive else ["alice"]
        self.latest = int(self.target.registry.model("lingr.Room").schema["properties"]["messages"]["maxItems"])
        self.clients: list[Client] = []
        self.dead: list[Client] = []
        self.rooms_of: dict[str, list[str]] = {}  # username -> rooms in play
        self.history: dict[str, list[str]] = {}  # room -> ids, oldest first: all on the mock, this run's on live
        self.sent: dict[str, dict[str, Any]] = {}  # id -> the message as room/say answered it
        self.faved: dict[tuple[str, str], set[str]] = {}  # (username, room) -> favourites
        self.fav_floor: dict[tuple[str, str], int] = {}  # (username, room) -> oldest id whose favourite state is known
        self.highest_counter = 0

    # plumbing --------------------------------------------------------------------------
    def call(self, endpoint_id: str, client: Client, params: dict[str, Any] | None = None, *, fails: bool = False) -> dict[str, Any]:
        exchange = self.target.call(endpoint_id, params, credential=client.credential, expect_error=fails, timeout=10.0)
        body: dict[str, Any] = json.loads(exchange.response.content)
        return body

    def client(self, pick: int) -> Client:
        return self.clients[pick % len(self.clients)]

    def room(self, client: Client, pick: int) -> str:
        rooms = self.rooms_of[client.username]
        return rooms[pick % len(rooms)]

    def learn(self, client: Client, room: str) -> None:
        """First look at a room by a user: its history (mock) and the user's favourites there."""
        key = (client.username, room)
        if key in self.faved and room in self.history:
            return
        shown = self.call("lingr.room.show", client, {"room": room})["rooms"][0]
        if room not in self.history:
            self.history[room] = self.read_all(client, room, 100) if self.exclusive else []
        shown_ids = ids_of(shown["messages"])
        self.faved[key] = {str(value) for value in shown["faved_message_ids"]} & set(shown_ids)
        self.fav_floor[key] = int(shown_ids[0]) if shown_ids else 0

    def read_all(self, client: Client, room: str, limit: int) -> list[str]:
        """room/show's latest messages, then room/get_archives pages back until an empty page."""
        shown = self.call("lingr.room.show", client, {"room": room})["rooms"][0]
        ids = ids_of(shown["messages"])
        assert_ascending(ids, f"room/show {room}")
        ours = self.history.get(room, [])
        for _ in range(10_000 if self.exclusive else LIVE_MAX_PAGES):
            if not ids or (not self.exclusive and (not ours or int(ids[0]) < int(ours[0]))):
                break
            before = ids[0]
            page = ids_of(self.call("lingr.room.get_archives", client, {"room": room, "before": before, "limit": str(limit)})["messages"])
            assert_ascending(page, f"room/get_archives {room} before={before}")
            assert len(page) <= limit, f"room/get_archives {room}: {len(page)} messages for limit={limit}"
            assert all(int(value) < int(before) for value in page), f"room/get_archives {room}: ids not older than before={before}: {page}"
            if not page:
                break
            ids = page + ids
        assert_ascending(ids, f"{room} read back through room/show and room/get_archives pages of {limit}")
        return ids

    def check_read_back(self, room: str, ids: list[str], how: str) -> None:
        """A room read whole: each accepted message once, in posting order (and nothing else on the mock)."""
        known = self.history[room]
        readable_exactly_once("lingr.room.get_archives", f"messages of {room} ({how})", known, ids)
        in_order("lingr.room.get_archives", f"messages of {room} ({how})", known, ids)
        if self.exclusive:
            assert ids == known, f"{room} {how}: {ids}, expected {known}"

    def check_room(self, client: Client, shown: dict[str, Any]) -> None:
        """room/show of one room: the latest messages, oldest first; favourites as the model says."""
        room = str(shown["id"])
        ids = ids_of(shown["messages"])
        assert_ascending(ids, f"room/show {room}")
        known = self.history[room]
        if self.exclusive:
            assert ids == known[-self.latest :], f"room/show {room}: messages {ids}, expected the latest {self.latest} of {known}"
        elif known:
            assert ids, f"room/show {room}: no messages, though this run posted {known}"
            newer = [value for value in known if int(value) >= int(ids[0])]
            assert [value for value in ids if value in set(known)] == newer, f"room/show {room}: this run's {newer} not each once in {ids}"
        key = (client.username, room)
        floor = self.fav_floor[key]
        reported = {str(value) for value in shown["faved_message_ids"]}
        expected = self.faved[key]
        for value in ids:
            if int(value) >= floor:
                assert (value in reported) == (value in expected), (
                    f"room/show {room}: faved_message_ids {sorted(reported)} vs model {sorted(expected)}"
                )
        spurious = {value for value in reported if int(value) >= floor} - expected
        assert not spurious, f"room/show {room}: {sorted(spurious)} reported as favourites of {client.username}"

    def drain(self, client: Client) -> None:
        """Observe from the client's last counter until every pending message has arrived, checking each event."""
        for _ in range(50):
            if not client.pending:
                return
            sent_counter = client.counter
            body = self.call("lingr.event.observe", client, {"counter": str(sent_counter)})
            events = body.get("events") or []
            assert events, f"event/observe from counter {sent_counter} returned no events; pending {client.pending}"
            event_ids = [int(event["event_id"]) for event in events]
            assert event_ids == sorted(set(event_ids)), f"event/observe: event ids out of order {event_ids}"
            assert event_ids[0] > sent_counter, f"event/observe: event {event_ids[0]} not after counter {sent_counter}"
            assert body["counter"] == event_ids[-1], f"event/observe: counter {body['counter']} is not the last event id {event_ids[-1]}"
            for event in events:
                payload = event.get("message") or event.get("presence") or {}
                assert payload.get("room") in client.subscribed, (
                    f"event/observe: event of {payload.get('room')}, subscribed {client.subscribed}"
                )
                if "message" not in event:
                    continue
                message = event["message"]
                message_id = str(message["id"])
                if message_id not in self.sent:
                    assert not self.exclusive, f"event/observe: message {message_id} nobody posted in this run"
                    continue
                assert client.pending[:1] == [message_id], (
                    f"event/observe: message {message_id} delivered out of order or twice; the next expected are {client.pending[:5]}"
                )
                said = self.sent[message_id]
                if self.exclusive:
                    assert message == said, f"event/observe: {message} differs from room/say's {said}"
                else:
                    assert (message["room"], message["text"]) == (said["room"], said["text"]), f"event/observe: {message} vs {said}"
                client.pending.pop(0)
            client.counter = int(body["counter"])
            self.highest_counter = max(self.highest_counter, client.counter)
        assert not client.pending, f"event/observe never delivered {client.pending}"

    # rules -------------------------------------------------------------------------------
    @initialize()
    def first_login(self) -> None:
        """One session that listens to every room of its user, so posts always have an observer."""
        self.login(self.users[0])
        self.subscribe(0, len(self.rooms_of[self.users[0]]))

    @precondition(lambda self: len(self.clients) < MAX_SESSIONS)
    @rule(user=st.integers(min_value=0, max_value=1))
    def create_session(self, user: int) -> None:
        self.login(self.users[user % len(self.users)])

    def login(self, user: str) -> None:
        credential = SUPPORT.login(self.target, user)
        client = Client(credential, credential.user)
        taken = {other.credential.values["session"] for other in self.clients + self.dead}
        assert credential.values["session"] not in taken, "session/create returned a session id already handed out"
        if client.username not in self.rooms_of:
            rooms = self.call("lingr.user.get_rooms", client)["rooms"]
            assert all(isinstance(room, str) for room in rooms)
            self.rooms_of[client.username] = list(rooms) if self.write_room is None else [self.write_room]
        self.clients.append(client)

    @precondition(lambda self: self.clients)
    @rule(pick=PICK)
    def verify(self, pick: int) -> None:
        client = self.client(pick)
        body = self.call("lingr.session.verify", client)
        assert body["session"] == client.credential.values["session"], "session/verify names another session"
        assert body["user"]["username"] == client.username, f"session/verify: user {body['user']} for {client.username}"

    @precondition(lambda self: self.clients and self.exclusive)
    @rule(pick=PICK)
    def get_rooms(self, pick: int) -> None:
        client = self.client(pick)
        rooms = self.call("lingr.user.get_rooms", client)["rooms"]
        assert rooms == self.rooms_of[client.username], f"user/get_rooms changed: {rooms} vs {self.rooms_of[client.username]}"

    @precondition(lambda self: self.clients)
    @rule(pick=PICK, count=st.integers(min_value=1, max_value=2))
    def show(self, pick: int, count: int) -> None:
        client = self.client(pick)
        rooms = list(dict.fromkeys(self.room(client, pick + step) for step in range(count)))
        for room in rooms:
            self.learn(client, room)
        shown = self.call("lingr.room.show", client, {"room": ",".join(rooms)})["rooms"]
        assert sorted(str(room["id"]) for room in shown) == sorted(rooms), (
            f"room/show {rooms} answered rooms {[room['id'] for room in shown]}"
        )
        for room in shown:
            self.check_room(client, room)

    @precondition(lambda self: self.clients)
    @rule(pick=PICK, limit=st.integers(min_value=1, max_value=12))
    def page_archives(self, pick: int, limit: int) -> None:
        client = self.client(pick)
        room = self.room(client, pick)
        self.learn(client, room)
        self.check_read_back(room, self.read_all(client, room, limit), f"paged with limit {limit}")

    @precondition(lambda self: self.clients)
    @rule(pick=PICK, texts=st.lists(TEXT, min_size=1, max_size=6), heard=st.booleans())
    def say(self, pick: int, texts: list[str], heard: bool) -> None:
        """Post one or more messages; ``heard``: to a room some session listens to, when there is one."""
        client = self.client(pick)
        room = self.room(client, pick)
        listened = sorted({name for other in self.clients for name in other.subscribed} & set(self.rooms_of[client.username]))
        if heard and listened:
            room = listened[pick % len(listened)]
        self.learn(client, room)
        for text in texts:
            message = self.call("lingr.room.say", client, {"room": room, "text": text})["message"]
            message_id = str(message["id"])
            assert (message["room"], message["text"], message["speaker_id"]) == (room, text, client.username), (
                f"room/say answered {message}"
            )
            previous = self.history[room]
            assert not previous or int(message_id) > int(previous[-1]), f"room/say: id {message_id} not after {previous[-1]}"
            assert message_id not in self.sent, f"room/say: id {message_id} reused"
            previous.append(message_id)
            self.sent[message_id] = message
            for other in self.clients:
                if room in other.subscribed:
                    other.pending.append(message_id)

    @precondition(lambda self: self.clients)
    @rule(pick=PICK, count=st.integers(min_value=1, max_value=3))
    def subscribe(self, pick: int, count: int) -> None:
        client = self.client(pick)
        rooms = list(dict.fromkeys(self.room(client, pick + step) for step in range(count)))
        self.drain(client)  # a client takes the new counter only once it has what it was owed
        counter = int(self.call("lingr.room.subscribe", client, {"room": ",".join(rooms)})["counter"])
        assert counter >= self.highest_counter, f"room/subscribe: counter {counter} went back from {self.highest_counter}"
        client.counter = counter
        self.highest_counter = counter
        client.subscribed |= set(rooms)

    @precondition(lambda self: any(client.subscribed for client in self.clients))
    @rule(pick=PICK)
    def unsubscribe(self, pick: int) -> None:
        subscribed = [client for client in self.clients if client.subscribed]
        client = subscribed[pick % len(subscribed)]
        room = sorted(client.subscribed)[pick % len(client.subscribed)]
        self.drain(client)
        self.call("lingr.room.unsubscribe", client, {"room": room})  # counter 0: checked by the schema
        client.subscribed.discard(room)

    @precondition(lambda self: any(client.pending for client in self.clients))
    @rule(pick=PICK)
    def observe(self, pick: int) -> None:
        waiting = [client for client in self.clients if client.pending]
        self.drain(waiting[pick % len(waiting)])

    @precondition(lambda self: any(self.history.get(room) for rooms in self.rooms_of.values() for room in rooms) and self.clients)
    @rule(pick=PICK, index=st.integers(min_value=0, max_value=3), add=st.booleans())
    def favorite(self, pick: int, index: int, add: bool) -> None:
        client = self.client(pick)
        rooms = [room for room in self.rooms_of[client.username] if self.history.get(room)]
        if not rooms:
            return
        room = rooms[pick % len(rooms)]
        self.learn(client, room)
        key = (client.username, room)
        candidates = [value for value in self.history[room] if int(value) >= self.fav_floor[key]]
        if not candidates:
            return
        message_id = candidates[-1 - index % len(candidates)]
        favourites = self.faved[key]
        fails = (message_id in favourites) == add  # a second add (or a remove of a non-favourite) fails
        endpoint_id = "lingr.favorite.add" if add else "lingr.favorite.remove"
        body = self.call(endpoint_id, client, {"message": message_id}, fails=fails)
        if fails:
            return
        assert (str(body["message"]["id"]), body["message"]["room"]) == (message_id, room), f"{endpoint_id} answered {body['message']}"
        if add:
            favourites.add(message_id)
        else:
            favourites.discard(message_id)
        self.check_room(client, self.call("lingr.room.show", client, {"room": room})["rooms"][0])

    @precondition(lambda self: len(self.clients) > 1)
    @rule(pick=PICK)
    def destroy(self, pick: int) -> None:
        client = self.client(pick)
        self.call("lingr.session.destroy", client)
        self.clients.remove(client)
        self.dead.append(client)

    @precondition(lambda self: self.dead)
    @rule(pick=PICK, endpoint_id=st.sampled_from(DEAD_CALLS))
    def destroyed_session_fails(self, pick: int, endpoint_id: str) -> None:
        client = self.dead[pick % len(self.dead)]
        room = self.room(client, pick)
        message = (self.history.get(room) or ["1"])[-1]
        params = {
            "lingr.room.show": {"room": room},
            "lingr.room.get_archives": {"room": room, "before": message},
            "lingr.room.subscribe": {"room": room},
            "lingr.room.say": {"room": room, "text": "from a destroyed session"},
            "lingr.favorite.add": {"message": message},
            "lingr.event.observe": {"counter": str(self.highest_counter)},
        }.get(endpoint_id, {})
        body = self.call(endpoint_id, client, params, fails=True)
        assert body["code"] == INVALID_SESSION, (
            f"{endpoint_id} with a destroyed session: code {body['code']!r}, documented {INVALID_SESSION!r}"
        )

    def teardown(self) -> None:
        """After the last step (unless a step failed): every session still owed messages gets
        them all, resuming from its last counter; every room reads back whole, then live
        sessions are logged out."""
        if sys.exc_info()[0] is not None:
            return  # a step failed: report that, not a follow-up
        for client in self.clients:
            self.drain(client)
        for room, known in self.history.items():
            reader = next((client for client in self.clients if room in self.rooms_of[client.username]), None)
            if reader is not None and known:
                self.check_read_back(room, self.read_all(reader, room, 7), "read back at the end")
        if not self.exclusive:  # leave no session behind on a live server
            for client in self.clients:
                SUPPORT.logout(self.target, client.credential)


def test_lingr_users_at_work(target: Target) -> None:
    require_api(target.config, API)
    room = require_writes(target.config, API)
    machine = type("LingrUsersAtWorkRun", (LingrUsersAtWork,), {"target": target, "write_room": room})
    chosen = LingrUsersAtWork.TestCase.settings
    if not target.config.is_mock:
        chosen = settings(chosen, max_examples=3, stateful_step_count=12)
    run_state_machine_as_test(machine, settings=chosen)


def test_lingr_observe_without_events_holds_then_answers_empty(target: Target) -> None:
    """One idle poll (the mock's long-poll timeout, 1 s here): held, then ``status ok`` with
    the counter unchanged and no events (seed memo 002_0f8f93cf6b7fe958.txt, pyLingr; the empty answer is inferred)."""
    require_api(target.config, API)
    if not target.config.is_mock:
        pytest.skip("a live server's idle-poll length is not documented")
    credential = SUPPORT.login(target)
    rooms = ok_body(target.call("lingr.user.get_rooms", credential=credential, expect_error=False))["rooms"]
    counter = ok_body(target.call("lingr.room.subscribe", {"room": rooms[0]}, credential=credential, expect_error=False))["counter"]
    started = time.monotonic()
    body = ok_body(target.call("lingr.event.observe", {"counter": str(counter)}, credential=credential, expect_error=False))
    held = time.monotonic() - started
    assert "events" not in body, f"idle event/observe answered {body}"
    assert body.get("counter", counter) == counter, f"idle event/observe moved the counter: {body}"
    assert held >= LONGPOLL_TIMEOUT * 0.8, f"idle event/observe answered after {held:.2f} s, not held for the long poll"
