"""Gitter flows: users at work in a room, modelled by a hypothesis state machine, and a
stream client over a real socket.

The machine lists rooms, posts (POST /v1/rooms/:roomId/chatMessages), pages through the
history (limit / beforeId / afterId / aroundId / skip; oldest first within a page), reads
single messages, edits its own messages (editedAt set, v + 1), reads the user and their
rooms, and reads and clears unread items. It checks that every accepted message is readable
exactly once, in the documented order, with the documented paging, and that a credential
that no longer works (Gitter has no logout: an unknown / revoked token, and on the mock a
token whose user is gone) gets the documented 401.

Against the mock the model is exact (two users, a known world); against a live server (with
--allow-writes and CHATMOCK_GITTER_ROOM) it covers the configured room as seen from the one
configured token, and the unread-item bookkeeping of other users is not checked.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contract_tests.apis.gitter import SUPPORT, write_room
from contract_tests.skips import require_api, require_writes
from contract_tests.targets import Credential, Target, open_target

API = "gitter"
ORPHAN_TOKEN = "chatmock-flows-orphan-token"  # seeded on the mock: resolves to no usable user
MOCK_RATE_LIMIT = 100_000  # the flows are not about the rate limit; the default 100/min would cut a run short
LIVE_WINDOW = 20  # messages of the live room's history the model starts from
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
WORDS = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
USERS_MOCK = ("alice", "bob")
_serial = itertools.count(1)


@dataclass
class Msg:
    id: str
    author: str  # user id
    text: str
    v: int
    edited: bool
    ours: bool  # posted during this run
    status: bool = False


@dataclass
class Model:
    history: list[str] = field(default_factory=list)  # message ids, oldest first
    complete: bool = True  # history is the room's whole timeline (else: its newest part)
    messages: dict[str, Msg] = field(default_factory=dict)
    unread: dict[str, set[str]] = field(default_factory=dict)  # user name -> unread chat ids
    mentions: dict[str, set[str]] = field(default_factory=dict)


def _msg_from(body: dict[str, Any], ours: bool) -> Msg:
    return Msg(
        id=str(body["id"]),
        author=str(body["fromUser"]["id"]),
        text=str(body["text"]),
        v=int(body.get("v", 1)),
        edited=body.get("editedAt") is not None,
        ours=ours,
        status=body.get("status") is True,
    )


class GitterWork(RuleBasedStateMachine):
    """Users at work in one room. ``target`` is set on a subclass made per test."""

    target: Target

    def __init__(self) -> None:
        super().__init__()
        target = self.target
        target.reset()
        config = target.config
        self.exact = config.is_mock
        if self.exact:
            target.seed({API: {**target.world_in_force(API), "orphanTokens": [ORPHAN_TOKEN], "rateLimit": MOCK_RATE_LIMIT}})
        names = USERS_MOCK if self.exact else ("alice",)
        self.creds: dict[str, Credential] = {name: SUPPORT.login(target, name) for name in names}
        self.user_ids = {name: str(self.call("gitter.user.get", name).json()[0]["id"]) for name in names}
        found = SUPPORT.discover(target, self.creds["alice"])
        found.write_room = config.secret(API, "ROOM") if not self.exact else None
        self.room = write_room(target, self.creds["alice"], found)
        self.members = [name for name in names if self.room in {str(item["id"]) for item in self.call("gitter.rooms.list", name).json()}]
        assert "alice" in self.members, f"alice is not in the room {self.room}"
        self.model = Model()
        self._load_history()
        for name in self.members:
            items = self.call("gitter.user.unreadItems.list", name, path={"userId": self.user_ids[name], "roomId": self.room}).json()
            self.model.unread[name] = set(items["chat"])
            self.model.mentions[name] = set(items["mention"])

    # plumbing ----------------------------------------------------------------------------
    def call(self, endpoint_id: str, user: str, params: dict[str, Any] | None = None, *, path: dict[str, str] | None = None) -> Any:
        """A request that must succeed (the contract checks run in target.call)."""
        return self.target.call(endpoint_id, params, path=path, credential=self.creds[user], expect_error=False)

    def page(self, user: str, **params: Any) -> list[dict[str, Any]]:
        query = {key: str(value) for key, value in params.items()}
        found: list[dict[str, Any]] = self.call("gitter.rooms.chatMessages.list", user, query, path={"roomId": self.room}).json()
        for body in found:
            self.check_body(user, body)
        return found

    def _load_history(self) -> None:
        if self.exact:  # the mock's room is small: page back to its first message
            bodies: list[dict[str, Any]] = []
            before: dict[str, str] = {}
            while True:
                found = self.call("gitter.rooms.chatMessages.list", "alice", {"limit": "100", **before}, path={"roomId": self.room}).json()
                bodies = found + bodies
                if len(found) < 100:
                    break
                before = {"beforeId": str(found[0]["id"])}
        else:
            bodies = self.call("gitter.rooms.chatMessages.list", "alice", {"limit": str(LIVE_WINDOW)}, path={"roomId": self.room}).json()
            self.model.complete = len(bodies) < LIVE_WINDOW
        ids = [str(body["id"]) for body in bodies]
        assert len(set(ids)) == len(ids), f"the history lists a message twice: {ids}"
        self.model.history = ids
        self.model.messages = {str(body["id"]): _msg_from(body, ours=False) for body in bodies}

    def check_body(self, user: str, body: dict[str, Any]) -> None:
        """A message the model knows reads as the model says."""
        known = self.model.messages.get(str(body["id"]))
        if known is None:
            return
        assert body["text"] == known.text, f"message {known.id}: text {body['text']!r}, expected {known.text!r}"
        assert body["fromUser"]["id"] == known.author, f"message {known.id}: fromUser {body['fromUser']['id']}, expected {known.author}"
        assert body["v"] == known.v, f"message {known.id}: v {body['v']}, expected {known.v}"
        assert (body["editedAt"] is not None) == known.edited, f"message {known.id}: editedAt {body['editedAt']!r}, edited={known.edited}"
        if self.exact and user in self.model.unread:
            assert body["unread"] == (known.id in self.model.unread[user]), f"message {known.id}: unread {body['unread']} for {user}"
        if known.ours and known.author == self.user_ids[user]:
            assert body["unread"] is False, f"{user}'s own message {known.id} is unread for {user}"

    def ids(self, bodies: list[dict[str, Any]]) -> list[str]:
        return [str(body["id"]) for body in bodies]

    def pick(self, candidates: list[str], index: int) -> str:
        return candidates[index % len(candidates)]

    # rules -------------------------------------------------------------------------------
    @rule(data=st.data())
    def list_rooms(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        rooms = {str(room["id"]): room for room in self.call("gitter.rooms.list", user).json()}
        assert self.room in rooms, f"GET /v1/rooms for {user} lacks the room {self.room}"
        if self.exact:
            entry = rooms[self.room]
            assert entry["unreadItems"] == len(self.model.unread[user]), (
                f"{user}: unreadItems {entry['unreadItems']}, model {len(self.model.unread[user])}"
            )
            assert entry["mentions"] == len(self.model.mentions[user]), (
                f"{user}: mentions {entry['mentions']}, model {len(self.model.mentions[user])}"
            )

    @rule(data=st.data(), words=WORDS, status=st.booleans(), multiline=st.booleans())
    def post(self, data: st.DataObject, words: str, status: bool, multiline: bool) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        text = f"chatmock flow {next(_serial)}: {words}" + ("\nsecond line" if multiline else "")
        params: dict[str, Any] = {"text": text}
        if status:
            params["status"] = True
        body = self.call("gitter.rooms.chatMessages.create", user, params, path={"roomId": self.room}).json()
        assert body["text"] == text
        assert body["fromUser"]["id"] == self.user_ids[user]
        assert body["editedAt"] is None, "a new message has editedAt null"
        assert body["v"] == 1, f"a new message has v 1, got {body['v']}"
        assert body["unread"] is False, f"a new message is unread for its author: {body['unread']}"
        assert body["readBy"] == 0, f"a new message has readBy 0, got {body['readBy']}"
        if status:
            assert body.get("status") is True, "a /me message (status true) reads back with status true"
        message = _msg_from(body, ours=True)
        assert message.id not in self.model.messages, f"POST answered an existing id {message.id}"
        self.model.history.append(message.id)
        self.model.messages[message.id] = message
        for other in self.members:
            if other != user and self.exact:
                self.model.unread[other].add(message.id)

    @rule(data=st.data(), limit=st.integers(min_value=2, max_value=6))
    def page_backward(self, data: st.DataObject, limit: int) -> None:
        """limit=N, then beforeId=<first of the page> until a short or empty page (gitterHQ/docs 05)."""
        user = data.draw(st.sampled_from(self.members), label="user")
        history = self.model.history
        collected: list[str] = []
        before: dict[str, str] = {}
        for _ in range(len(history) // limit + 2):
            found = self.ids(self.page(user, limit=limit, **before))
            assert len(found) <= limit, f"limit={limit} gave {len(found)} messages"
            collected = found + collected
            if len(found) < limit or (not self.model.complete and len(collected) >= len(history)):
                break
            before = {"beforeId": found[0]}
        else:
            pytest.fail(f"paging back with limit={limit} did not end after {len(history) // limit + 2} pages")
        assert len(set(collected)) == len(collected), f"paging back listed a message twice: {collected}"
        if self.model.complete:
            assert collected == history, f"paging back with limit={limit}: {collected}, expected {history}"
        else:
            assert collected[-len(history) :] == history, (
                f"paging back with limit={limit}: newest {collected[-len(history) :]}, expected {history}"
            )

    @rule(data=st.data(), limit=st.integers(min_value=1, max_value=6))
    def page_forward(self, data: st.DataObject, limit: int) -> None:
        """afterId=<oldest known>, then afterId=<last of the page>: the rest of the history, oldest first."""
        user = data.draw(st.sampled_from(self.members), label="user")
        history = self.model.history
        if not history:
            return
        position = 0
        while True:
            found = self.ids(self.page(user, limit=limit, afterId=history[position]))
            expected = history[position + 1 : position + 1 + limit]
            assert found == expected, f"afterId={history[position]} limit={limit}: {found}, expected {expected}"
            if len(found) < limit:
                break
            position += limit

    @rule(data=st.data(), skip=st.integers(min_value=0, max_value=6), limit=st.integers(min_value=1, max_value=6))
    def page_skip(self, data: st.DataObject, skip: int, limit: int) -> None:
        """skip=k skips the k newest messages; the page is the next ``limit`` older ones, oldest first."""
        user = data.draw(st.sampled_from(self.members), label="user")
        history = self.model.history
        end = max(0, len(history) - skip)
        if not self.model.complete and end - limit < 0:
            return  # would reach past the part of a live history the model knows
        found = self.ids(self.page(user, limit=limit, skip=skip))
        expected = history[max(0, end - limit) : end]
        assert found == expected, f"skip={skip} limit={limit}: {found}, expected {expected}"

    @rule(data=st.data(), index=st.integers(min_value=0), limit=st.integers(min_value=1, max_value=7))
    def page_around(self, data: st.DataObject, index: int, limit: int) -> None:
        """aroundId includes the message; the page is a run of the timeline, oldest first."""
        user = data.draw(st.sampled_from(self.members), label="user")
        history = self.model.history
        if not history:
            return
        anchor = self.pick(history, index)
        found = self.ids(self.page(user, limit=limit, aroundId=anchor))
        assert anchor in found, f"aroundId={anchor} limit={limit}: {found} lacks the anchor"
        assert len(found) <= limit, f"aroundId limit={limit} gave {len(found)}"
        inside = [item for item in found if item in self.model.messages]
        start = history.index(inside[0])
        assert inside == history[start : start + len(inside)], f"aroundId={anchor}: {found} is not a run of {history}"
        if self.model.complete:
            assert inside == found

    @rule(data=st.data(), index=st.integers(min_value=0))
    def get_one(self, data: st.DataObject, index: int) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        if not self.model.history:
            return
        ident = self.pick(self.model.history, index)
        body = self.call("gitter.rooms.chatMessages.get", user, path={"roomId": self.room, "messageId": ident}).json()
        assert body["id"] == ident
        self.check_body(user, body)

    def _own(self, user: str) -> list[str]:
        me = self.user_ids[user]
        return [
            ident
            for ident in self.model.history
            if self.model.messages[ident].author == me and (self.exact or self.model.messages[ident].ours)
        ]

    @rule(data=st.data(), index=st.integers(min_value=0), words=WORDS)
    def edit_own(self, data: st.DataObject, index: int, words: str) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        # posted during this run: a seeded message is older than the server's 600 s edit window
        own = [ident for ident in self._own(user) if self.model.messages[ident].ours]
        if not own:
            return
        ident = self.pick(own, index)
        before = self.model.messages[ident]
        text = f"chatmock flow edit {next(_serial)}: {words}"
        body = self.call(
            "gitter.rooms.chatMessages.update", user, {"text": text}, path={"roomId": self.room, "chatMessageId": ident}
        ).json()
        assert body["id"] == ident
        assert body["text"] == text
        assert isinstance(body["editedAt"], str), f"an edited message has editedAt set, got {body['editedAt']!r}"
        assert body["v"] == before.v + 1, f"an edit makes v {before.v} -> {before.v + 1}, got {body['v']}"
        before.text, before.v, before.edited = text, before.v + 1, True

    @precondition(lambda self: self.exact)
    @rule(data=st.data(), index=st.integers(min_value=0))
    def edit_other_refused(self, data: st.DataObject, index: int) -> None:
        """Editing another user's message: 403 {"error": ...}, and the message is unchanged."""
        user = data.draw(st.sampled_from(self.members), label="user")
        others = [ident for ident in self.model.history if self.model.messages[ident].author != self.user_ids[user]]
        if not others:
            return
        ident = self.pick(others, index)
        exchange = self.target.call(
            "gitter.rooms.chatMessages.update",
            {"text": "not mine"},
            path={"roomId": self.room, "chatMessageId": ident},
            credential=self.creds[user],
            expect_error=True,
        )
        assert exchange.response.status_code == 403, f"editing another user's message: {exchange.response.status_code}"
        assert isinstance(exchange.json().get("error"), str)

    @rule(data=st.data())
    def read_user(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        me = self.user_ids[user]
        listed = self.call("gitter.user.get", user).json()
        assert isinstance(listed, list), f"GET /v1/user is an array, got {listed}"
        assert len(listed) == 1, f"GET /v1/user has exactly one user, got {listed}"
        assert listed[0]["id"] == me, f"GET /v1/user: {listed}"
        assert self.call("gitter.user.me", user).json()["id"] == me
        rooms = self.call("gitter.user.rooms.list", user, path={"userId": me}).json()
        assert self.room in {str(room["id"]) for room in rooms}, f"GET /v1/user/{me}/rooms lacks the room"

    @rule(data=st.data())
    def unread_items(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.members), label="user")
        items = self.call("gitter.user.unreadItems.list", user, path={"userId": self.user_ids[user], "roomId": self.room}).json()
        chat, mention = set(items["chat"]), set(items["mention"])
        assert mention <= chat, f"{user}: unread mentions {mention - chat} are not unread items"
        if self.exact:
            assert chat == self.model.unread[user], f"{user}: unread {sorted(chat)}, model {sorted(self.model.unread[user])}"
            assert mention == self.model.mentions[user], f"{user}: mentions {sorted(mention)}, model {sorted(self.model.mentions[user])}"
        own = {ident for ident in self._own(user) if self.model.messages[ident].ours}
        assert not chat & own, f"{user}'s own messages are unread for {user}: {sorted(chat & own)}"

    @precondition(lambda self: self.exact and any(self.model.unread.values()))
    @rule(data=st.data())
    def mark_read(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([name for name in self.members if self.model.unread[name]]), label="user")
        wanted = sorted(self.model.unread[user])
        ids = data.draw(st.lists(st.sampled_from(wanted), min_size=1, unique=True), label="ids")
        body = self.call(
            "gitter.user.unreadItems.markRead", user, {"chat": ids}, path={"userId": self.user_ids[user], "roomId": self.room}
        ).json()
        assert body == {"success": True}, f"markRead: {body}"
        self.model.unread[user] -= set(ids)
        self.model.mentions[user] -= set(ids)

    @rule(data=st.data())
    def ended_credential_refused(self, data: st.DataObject) -> None:
        """Gitter has no logout: an ended (unknown / revoked) token gets 401 {"error": "Unauthorized"};
        on the mock, a token whose user is gone gets 401 {"error": true, "loginRequired": true}."""
        user = data.draw(st.sampled_from(self.members), label="user")
        assert SUPPORT.logout(self.target, self.creds[user]) is False
        endpoint, path = data.draw(
            st.sampled_from(
                [
                    ("gitter.user.get", {}),
                    ("gitter.rooms.list", {}),
                    ("gitter.rooms.chatMessages.list", {"roomId": self.room}),
                    ("gitter.user.rooms.list", {"userId": self.user_ids[user]}),
                ]
            ),
            label="endpoint",
        )
        kinds: list[tuple[Credential, dict[str, Any]]] = [(SUPPORT.wrong_credential(self.creds[user]), {"error": "Unauthorized"})]
        if self.exact:
            kinds.append((Credential({"token": ORPHAN_TOKEN}), {"error": True, "loginRequired": True}))
        credential, expected = data.draw(st.sampled_from(kinds), label="credential")
        exchange = self.target.call(endpoint, path=path, credential=credential, expect_error=True)
        assert exchange.response.status_code == 401, f"{endpoint} with an ended token: {exchange.response.status_code}"
        assert exchange.json() == expected, f"{endpoint} with an ended token: {exchange.json()}"

    # invariants --------------------------------------------------------------------------
    @invariant()
    def every_message_once_in_order(self) -> None:
        """The newest page (limit 100) is the model's history, each message once, oldest first."""
        history = self.model.history
        found = self.ids(self.page("alice", limit=100))
        assert len(set(found)) == len(found), f"a message is listed twice: {found}"
        if self.model.complete and len(history) <= 100:
            assert found == history, f"history {found}, expected {history}"
        else:
            tail = history[-100:]
            assert found[-len(tail) :] == tail, f"newest messages {found[-len(tail) :]}, expected {tail}"


def _machine_settings(target: Target) -> settings:
    live = target.config.target == "live"
    return settings(
        max_examples=2 if live else 10,
        stateful_step_count=8 if live else 20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def test_users_at_work(target: Target) -> None:
    require_api(target.config, API)
    require_writes(target.config, API)
    machine = type("GitterWorkOn" + target.config.target.title(), (GitterWork,), {"target": target})
    run_state_machine_as_test(machine, settings=_machine_settings(target))


# streaming over a real socket ------------------------------------------------------------
@contextmanager
def _socket_target(target: Target) -> Iterator[Target]:
    """The target when it is reached over a socket; in-process, a mock of our own on a free port
    (its requests still go through Target.call, into the same ledger)."""
    if target.config.target != "inprocess":
        yield target
        return
    own = open_target(replace(target.config, target="http", apis=(API,)), target.ledger)
    try:
        yield own
    finally:
        own.close()


def _read_until(chunks: Iterator[bytes], raw: bytes, done: Any, deadline: float) -> bytes:
    for chunk in chunks:
        raw += chunk
        if done(raw) or time.monotonic() > deadline:
            break
    return raw


def test_stream_delivers_each_posted_message_once_in_order(target: Target) -> None:
    require_api(target.config, API)
    room_config = require_writes(target.config, API)
    endpoint = target.registry.endpoint("gitter.stream.chatMessages")
    documented = endpoint.response(200)
    with _socket_target(target) as sock:
        mock = sock.config.is_mock
        poster = SUPPORT.login(sock, "alice")
        listener = SUPPORT.login(sock, "bob") if mock else poster
        found = SUPPORT.discover(sock, poster)
        found.write_room = room_config
        room = write_room(sock, poster, found)
        url = sock.url(endpoint, {"roomId": room})
        headers = {"Authorization": f"Bearer {listener.values['token']}"}
        with httpx.Client(timeout=httpx.Timeout(15.0)) as client, client.stream("GET", url, headers=headers) as stream:
            assert stream.status_code == 200, f"stream: status {stream.status_code}"
            content_type = stream.headers.get("content-type", "")
            assert content_type.split(";")[0].strip() == documented.content_type.split(";")[0].strip(), (
                f"stream content type {content_type!r}"
            )
            sock.ledger.record(endpoint.id, stream.status_code)
            chunks = stream.iter_raw()
            # the subscription is live once the first keep-alive arrives (mock); live: give it a moment
            raw = _read_until(chunks, b"", bool, time.monotonic() + 3.0) if mock else b""
            if not mock:
                time.sleep(2.0)
            texts = [
                f"chatmock stream {next(_serial)}: one",
                f"chatmock stream {next(_serial)}: two\nwith a newline",
                f"chatmock stream {next(_serial)}: three",
            ]
            posted = [
                str(
                    sock.call(
                        "gitter.rooms.chatMessages.create", {"text": text}, path={"roomId": room}, credential=poster, expect_error=False
                    ).json()["id"]
                )
                for text in texts
            ]
            raw = _read_until(chunks, raw, lambda got: got.count(b"\r") >= len(posted), time.monotonic() + 10.0)
            if mock:  # a little longer: nothing is delivered twice
                raw = _read_until(chunks, raw, lambda _got: False, time.monotonic() + 0.5)
    *items, rest = raw.split(b"\r")
    assert not rest.strip(), f"the stream ended with an unterminated chunk: {rest[:200]!r}"
    bodies = [json.loads(item) for item in items if item.strip()]
    checker = documented.item_checker
    for body in bodies:
        if checker is not None:
            violation = checker.best(body)
            assert violation is None, f"stream item violates its schema at {violation.instance_path}: {violation.message}"
    ours = [str(body["id"]) for body in bodies if str(body["id"]) in posted] if not mock else [str(body["id"]) for body in bodies]
    assert ours == posted, f"the stream delivered {ours}, posted {posted}"
    assert [body["text"] for body in bodies if str(body["id"]) in posted] == texts


def test_events_stream_reports_a_posted_message(target: Target) -> None:
    """The room events stream: status, content type, and a \\r-terminated JSON event per post."""
    require_api(target.config, API)
    room_config = require_writes(target.config, API)
    endpoint = target.registry.endpoint("gitter.stream.events")
    documented = endpoint.response(200)
    with _socket_target(target) as sock:
        poster = SUPPORT.login(sock, "alice")
        found = SUPPORT.discover(sock, poster)
        found.write_room = room_config
        room = write_room(sock, poster, found)
        headers = {"Authorization": f"Bearer {poster.values['token']}"}
        with (
            httpx.Client(timeout=httpx.Timeout(15.0)) as client,
            client.stream("GET", sock.url(endpoint, {"roomId": room}), headers=headers) as stream,
        ):
            assert stream.status_code == 200, f"events stream: status {stream.status_code}"
            assert stream.headers.get("content-type", "").split(";")[0].strip() == documented.content_type.split(";")[0].strip()
            sock.ledger.record(endpoint.id, stream.status_code)
            chunks = stream.iter_raw()
            raw = _read_until(chunks, b"", bool, time.monotonic() + 3.0) if sock.config.is_mock else b""
            sock.call(
                "gitter.rooms.chatMessages.create",
                {"text": "chatmock events stream"},
                path={"roomId": room},
                credential=poster,
                expect_error=False,
            )
            raw = _read_until(chunks, raw, lambda got: b"\r" in got, time.monotonic() + 10.0)
    items = [json.loads(item) for item in raw.split(b"\r")[:-1] if item.strip()]
    assert items, "no event arrived for a post"
    checker = documented.item_checker
    for item in items:
        violation = checker.best(item) if checker is not None else None
        assert violation is None, f"gitter.stream.events item violates its schema at {violation.instance_path}: {violation.message}"
