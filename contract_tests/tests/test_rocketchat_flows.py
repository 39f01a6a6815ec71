"""Rocket.Chat flows: a hypothesis state machine of users at work.

Users log in (JSON and form-encoded), list their rooms, post with chat.sendMessage and
chat.postMessage, edit their own messages, page through channels.history (newest first;
count/offset, or ``latest`` to page backwards) and channels.messages (count/offset/total),
page through users.list, and log out. Invariants: every accepted message is readable exactly
once, newest first, with the documented paging and its current text; a logged-out credential
gets the documented 401.

Against the mock the users are the default world's alice and bob, posting in the public
channels they share; against a live server (``--allow-writes``) the configured user, posting
only in ``CHATMOCK_ROCKETCHAT_ROOM``.
"""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from contract_tests.apis.rocketchat import SUPPORT, USER_HEADER, password_login, resolve_room, session_credential
from contract_tests.skips import require_api, require_writes
from contract_tests.targets import Credential, Target

API = "rocketchat"
HISTORY_DEFAULT_COUNT = 20  # channels.history's documented default page size (RocketChat/Rocket.Chat-Open-API rooms.yaml)
MAX_PAGES = 60
NEWEST_FIRST = json.dumps({"ts": -1})
BY_USERNAME = json.dumps({"username": 1})

TEXT = st.text(alphabet=st.sampled_from(list("abcdefXYZ0189 _-.,!?\néü日本語🙂")), min_size=1, max_size=30).map(str.strip).filter(bool)
PICK = st.integers(min_value=0, max_value=7)
PAGE = st.integers(min_value=1, max_value=5)


@dataclass
class Sent:
    """A message the target accepted during this run."""

    id: str
    room: str
    author: str  # the machine's user name
    text: str
    edited: bool = False


def _ms(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


# report_multiple_bugs=False: a broken read fails its rule and then teardown's full read too;
# shrinking one failure instead of both halves the time a failing run takes.
@settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
class RocketChatUsers(RuleBasedStateMachine):
    target: Target
    room: str | None  # live: the configured room; the mock: None (every shared public channel)

    def __init__(self) -> None:
        super().__init__()
        target = self.target
        target.reset()
        self.users = ["alice", "bob"] if target.config.is_mock else ["alice"]
        self.base = {user: SUPPORT.login(target, user) for user in self.users}
        self.sessions: dict[str, Credential | None] = dict.fromkeys(self.users)
        self.dead: list[Credential] = []
        self.ids: dict[str, str] = {}
        self.usernames: dict[str, str] = {}
        for user in self.users:
            me = self.call("rocketchat.me", {}, self.base[user]).json()
            assert me["_id"] == self.base[user].values[USER_HEADER], "me._id is not the X-User-Id of the credential"
            self.ids[user], self.usernames[user] = str(me["_id"]), str(me["username"])
        self.rooms, self.names = self._shared_channels()
        self.sent: list[Sent] = []
        self.first_ms: dict[str, float] = {}  # room -> ts of the first message this run posted there
        self.auth_error = self._documented_auth_error()

    # plumbing ------------------------------------------------------------------------
    def call(self, endpoint_id: str, params: dict[str, Any], credential: Credential | None, **options: Any) -> Any:
        options.setdefault("expect_error", False)
        return self.target.call(endpoint_id, params, credential=credential, **options)

    def current(self, user: str) -> Credential:
        """The user's latest login session, else the base credential (a personal access token on the mock)."""
        return self.sessions[user] or self.base[user]

    def user(self, pick: int) -> str:
        return self.users[pick % len(self.users)]

    def pick_room(self, pick: int) -> str:
        return self.rooms[pick % len(self.rooms)]

    def _shared_channels(self) -> tuple[list[str], dict[str, str]]:
        """Public channels every user is in (rooms.get of each user), or the configured room."""
        shared: list[str] | None = None
        names: dict[str, str] = {}
        for user in self.users:
            rooms = self.call("rocketchat.rooms.get", {}, self.base[user]).json()["update"]
            channels = [str(room["_id"]) for room in rooms if room.get("t") == "c"]
            names.update({str(room["_id"]): str(room["name"]) for room in rooms if room.get("name")})
            shared = channels if shared is None else [room for room in shared if room in channels]
            if self.room is not None:
                wanted = resolve_room({str(room["_id"]): str(room.get("name", "")) for room in rooms}, self.room)
                if wanted not in channels:
                    pytest.skip("the configured Rocket.Chat room is not a public channel the user is in (channels.* need one)")
                shared = [wanted]
        if not shared:
            if self.target.config.is_mock:
                pytest.fail("the users of the mock's default world share no public channel")
            pytest.skip("the configured users share no public channel")
        return shared, names

    def _documented_auth_error(self) -> dict[str, Any]:
        for case in self.target.registry.endpoint("rocketchat.me").errors:
            if case.status == 401 and case.body is not None:
                return dict(case.body)
        raise AssertionError("rocketchat.me documents no 401 body")

    def _record(self, message: dict[str, Any], room: str, user: str, text: str) -> None:
        assert message["rid"] == room, f"posted to {room}, stored in {message['rid']}"
        assert message["msg"] == text, f"sent {text!r}, stored {message['msg']!r}"
        assert message["u"]["_id"] == self.ids[user], "the sender is not the authenticated user"
        assert all(sent.id != message["_id"] for sent in self.sent), f"message id {message['_id']} reused"
        self.sent.append(Sent(str(message["_id"]), room, user, text))

    # invariants ----------------------------------------------------------------------
    def check_listing(self, room: str, messages: list[dict[str, Any]], what: str) -> None:
        """Every accepted message of ``room`` exactly once, newest first, with its current text."""
        ids = [str(item["_id"]) for item in messages]
        duplicates = sorted({item for item in ids if ids.count(item) > 1})
        assert not duplicates, f"{what}: messages listed more than once: {duplicates}"
        stamps = [_ms(item["ts"]) for item in messages]
        assert all(a >= b for a, b in itertools.pairwise(stamps)), f"{what}: not newest first: {[i['ts'] for i in messages]}"
        by_id = {str(item["_id"]): item for item in messages}
        mine = [sent for sent in self.sent if sent.room == room]
        missing = [sent.id for sent in mine if sent.id not in by_id]
        assert not missing, f"{what}: accepted messages not readable: {missing}"
        for sent in mine:
            item = by_id[sent.id]
            assert item["msg"] == sent.text, f"{what}: {sent.id} reads {item['msg']!r}, expected {sent.text!r}"
            assert item["u"]["_id"] == self.ids[sent.author], f"{what}: {sent.id} has the wrong sender"
            if sent.edited:
                assert "editedAt" in item, f"{what}: edited message {sent.id} has no editedAt"
        order = [item for item in ids if item in {sent.id for sent in mine}]
        assert order == [sent.id for sent in reversed(mine)], f"{what}: accepted messages out of order"

    def _far_enough(self, room: str, page: list[dict[str, Any]]) -> bool:
        """Live only: once a page is older than this run's first message in the room, the rest
        holds none of ours (a live channel may be long)."""
        if self.target.config.is_mock or not page:
            return False
        return _ms(page[-1]["ts"]) < self.first_ms.get(room, float("inf"))

    def read_history(self, user: str, room: str, count: int | None, backwards: bool) -> list[dict[str, Any]]:
        size = HISTORY_DEFAULT_COUNT if count is None else count
        found: list[dict[str, Any]] = []
        offset = 0
        latest: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"roomId": room}
            if count is not None:
                params["count"] = str(count)
            if backwards and latest is not None:
                params["latest"] = latest
            elif offset:
                params["offset"] = str(offset)
            page = self.call("rocketchat.channels.history", params, self.current(user)).json()["messages"]
            assert len(page) <= size, f"channels.history returned {len(page)} messages for count {size}"
            found.extend(page)
            if len(page) < size or self._far_enough(room, page):
                break
            offset += len(page)
            latest = page[-1]["ts"]
        else:
            pytest.fail(f"channels.history of {room} did not end within {MAX_PAGES} pages")
        return found

    def read_messages(self, user: str, room: str, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset, total = 0, None
        for _ in range(MAX_PAGES):
            params = {"roomId": room, "count": str(count), "offset": str(offset), "sort": NEWEST_FIRST}
            body = self.call("rocketchat.channels.messages", params, self.current(user)).json()
            page = body["messages"]
            assert body["offset"] == offset, f"channels.messages echoed offset {body['offset']}, sent {offset}"
            assert body["count"] == len(page), f"channels.messages count {body['count']} but {len(page)} messages"
            assert total is None or body["total"] == total, f"channels.messages total changed from {total} to {body['total']}"
            total = body["total"]
            assert len(page) == max(0, min(count, total - offset)), f"channels.messages page of {len(page)} at offset {offset}/{total}"
            found.extend(page)
            offset += len(page)
            if not page or offset >= total:
                break
            if self._far_enough(room, page):
                return found
        else:
            pytest.fail(f"channels.messages of {room} did not end within {MAX_PAGES} pages")
        assert len(found) == total, f"channels.messages: {len(found)} messages read, total {total}"
        return found

    # rules: sessions -----------------------------------------------------------------
    @rule(who=PICK, form=st.booleans())
    def log_in(self, who: int, form: bool) -> None:
        user = self.user(who)
        params = password_login(self.target, user)
        if params is None:
            return  # a live target configured with a personal access token only
        hidden = Credential({"password": params["password"]})
        body = self.call("rocketchat.login", params, hidden, encoding="form" if form else "json").json()
        data = body["data"]
        assert body["status"] == "success"
        assert data["userId"] == self.ids[user], "login: userId is not the user's id"
        assert data["me"]["_id"] == data["userId"], "login: me._id differs from userId"
        assert data["me"]["username"] == self.usernames[user]
        session = session_credential(data, user, params["password"])
        me = self.call("rocketchat.me", {}, session).json()
        assert me["_id"] == self.ids[user], "a fresh login token does not authenticate its user"
        self.sessions[user] = session  # earlier sessions are not used again (seed 004: a new login may end them)

    @precondition(lambda self: any(self.sessions.values()))
    @rule(who=PICK)
    def log_out(self, who: int) -> None:
        users = [user for user in self.users if self.sessions[user] is not None]
        user = users[who % len(users)]
        session = self.sessions[user]
        assert session is not None
        body = self.call("rocketchat.logout", {}, session).json()
        assert body["status"] == "success"
        assert isinstance(body["data"]["message"], str)
        self.sessions[user] = None
        self.dead.append(session)
        self.ended_credential_fails(len(self.dead) - 1, 0)

    @precondition(lambda self: bool(self.dead))
    @rule(which=PICK, endpoint=st.integers(min_value=0, max_value=2))
    def ended_credential_fails(self, which: int, endpoint: int) -> None:
        credential = self.dead[which % len(self.dead)]
        endpoint_id, params = [
            ("rocketchat.me", {}),
            ("rocketchat.rooms.get", {}),
            ("rocketchat.channels.history", {"roomId": self.rooms[0], "count": "1"}),
        ][endpoint]
        exchange = self.call(endpoint_id, params, credential, expect_error=True)
        assert exchange.response.status_code == 401, f"{endpoint_id} with a logged-out token: {exchange.response.status_code}"
        body = exchange.json()
        assert body["status"] == self.auth_error["status"], f"{endpoint_id} with a logged-out token: not the documented 401 body"
        assert body["message"] == self.auth_error["message"], f"{endpoint_id} with a logged-out token: not the documented 401 body"

    # rules: rooms and messages -------------------------------------------------------
    @rule(who=PICK)
    def list_rooms(self, who: int) -> None:
        user = self.user(who)
        body = self.call("rocketchat.rooms.get", {}, self.current(user)).json()
        rooms = {str(room["_id"]): room for room in body["update"]}
        missing = [room for room in self.rooms if room not in rooms]
        assert not missing, f"rooms.get of {user} lost rooms {missing}"
        if not self.target.config.is_mock:
            return  # others may post on a live server
        for room in self.rooms:
            ours = [sent for sent in self.sent if sent.room == room]
            if ours:
                last = rooms[room].get("lastMessage") or {}
                assert last.get("_id") == ours[-1].id, f"rooms.get: lastMessage of {room} is not the newest message"

    @rule(who=PICK, where=PICK, text=TEXT, own_id=st.booleans())
    def send_message(self, who: int, where: int, text: str, own_id: bool) -> None:
        user, room = self.user(who), self.pick_room(where)
        message: dict[str, Any] = {"rid": room, "msg": text}
        if own_id:
            message["_id"] = "cm" + secrets.token_hex(8)
        body = self.call("rocketchat.chat.sendMessage", {"message": message}, self.current(user)).json()
        if own_id:
            assert body["message"]["_id"] == message["_id"], "chat.sendMessage ignored the client-chosen _id"
        self._remember_first(room, body["message"])
        self._record(body["message"], room, user, text)

    @rule(who=PICK, where=PICK, text=TEXT, by_name=st.booleans())
    def post_message(self, who: int, where: int, text: str, by_name: bool) -> None:
        user, room = self.user(who), self.pick_room(where)
        address = f"#{self.names[room]}" if by_name and room in self.names else room
        body = self.call("rocketchat.chat.postMessage", {"roomId": address, "text": text}, self.current(user)).json()
        assert body["channel"] == address, f"chat.postMessage: channel {body['channel']!r}, sent {address!r}"
        self._remember_first(room, body["message"])
        self._record(body["message"], room, user, text)

    def _remember_first(self, room: str, message: dict[str, Any]) -> None:
        self.first_ms.setdefault(room, _ms(message["ts"]))

    @precondition(lambda self: bool(self.sent))
    @rule(which=PICK, text=TEXT)
    def edit_own_message(self, which: int, text: str) -> None:
        sent = self.sent[which % len(self.sent)]
        params = {"roomId": sent.room, "msgId": sent.id, "text": text}
        message = self.call("rocketchat.chat.update", params, self.current(sent.author)).json()["message"]
        assert message["_id"] == sent.id
        assert message["rid"] == sent.room
        assert message["msg"] == text, f"chat.update: text {message['msg']!r}, sent {text!r}"
        assert message["editedBy"]["_id"] == self.ids[sent.author], "chat.update: editedBy is not the editor"
        sent.text, sent.edited = text, True

    @rule(who=PICK, where=PICK, count=st.one_of(st.none(), PAGE), backwards=st.booleans())
    def page_history(self, who: int, where: int, count: int | None, backwards: bool) -> None:
        user, room = self.user(who), self.pick_room(where)
        how = f"latest={'yes' if backwards else 'no'}, count={count}"
        self.check_listing(room, self.read_history(user, room, count, backwards), f"channels.history ({how})")

    @rule(who=PICK, where=PICK, count=PAGE)
    def page_messages(self, who: int, where: int, count: int) -> None:
        user, room = self.user(who), self.pick_room(where)
        self.check_listing(room, self.read_messages(user, room, count), f"channels.messages (count={count})")

    @rule(who=PICK, count=st.integers(min_value=1, max_value=3))
    def page_users(self, who: int, count: int) -> None:
        user = self.user(who)
        found: list[dict[str, Any]] = []
        offset, total = 0, None
        for _ in range(MAX_PAGES):
            params = {"count": str(count), "offset": str(offset), "sort": BY_USERNAME}
            body = self.call("rocketchat.users.list", params, self.current(user)).json()
            page = body["users"]
            assert body["offset"] == offset, "users.list: offset not echoed"
            assert body["count"] == len(page), "users.list: count does not describe the page"
            assert total is None or body["total"] == total, "users.list: total changed while paging"
            total = body["total"]
            assert len(page) == max(0, min(count, total - offset)), f"users.list: page of {len(page)} at offset {offset}/{total}"
            found.extend(page)
            offset += len(page)
            if not page or offset >= total:
                break
        ids = [str(item["_id"]) for item in found]
        assert len(ids) == len(set(ids)) == total, "users.list paging repeated or lost users"
        assert set(self.ids.values()) <= set(ids), "users.list does not list the machine's users"
        names = [str(item["username"]) for item in found]
        assert names == sorted(names), "users.list: not sorted by username as asked"

    def teardown(self) -> None:
        """Whatever the run did, a full read of every room we wrote to shows each message once, in order."""
        for room in dict.fromkeys(sent.room for sent in self.sent):
            self.check_listing(room, self.read_history(self.users[0], room, 5, False), "channels.history at the end")


def test_rocketchat_users_at_work(target: Target) -> None:
    require_api(target.config, API)
    room = require_writes(target.config, API)

    class Bound(RocketChatUsers):
        pass

    Bound.target = target
    Bound.room = room
    chosen = RocketChatUsers.TestCase.settings
    if not target.config.is_mock:
        chosen = settings(chosen, max_examples=2, stateful_step_count=8)
    run_state_machine_as_test(Bound, settings=chosen)
