"""BOCCO flows as a hypothesis state machine: users at work in their rooms.

Users sign in (several sessions each), list their rooms, post text and audio messages with a
client ``unique_id``, repeat a ``unique_id`` (200 with the original, nothing duplicated), page
through messages with ``newer_than`` / ``older_than``, mark messages read, download media and
long-poll ``subscribe``, resuming from the last message id they received.

What must hold:

* every accepted message is readable exactly once, ascending by id, by paging forward with
  ``newer_than`` (checked at the end of every run, and whenever a rule reads everything);
* a page is a gap-free run of the room's messages in the asked range: the oldest ones after
  ``newer_than``, else the newest ones (on the mock, whose page is larger than any room here,
  the whole range);
* ``subscribe`` delivers each message exactly once, in order, with no gap across resumes from
  the last id received; nothing newer -> 408 ``{"code": 408001}`` after the long-poll timeout;
* a message reads the same in the 201, in lists, in ``rooms/joined`` and in subscribe events;
  its media downloads (an uploaded audio file byte for byte);
* ``read_id`` of the user in ``rooms/joined`` follows ``read`` / ``read=1``;
* rooms the user is not in are 404; an unknown token is 401 ``{"code": 401001}``; BOCCO has
  no sign-out, so every token issued keeps working.

Every request goes through ``target.call`` (contract checks + coverage ledger). Live: writes
need ``--allow-writes`` and ``CHATMOCK_BOCCO_ROOM``; only that room is touched and only
messages posted during the run are tracked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from contract_tests.apis.bocco import SUPPORT, media_parts
from contract_tests.skips import require_api, require_writes
from contract_tests.targets import Credential, Target

API = "bocco"
UNAUTHORIZED_CODE = 401001
TIMEOUT_CODE = 408001
IDLE_SUBSCRIBES = 2  # each waits the long-poll timeout (1 s in the suite): at most this many per test
SAME_EVERYWHERE = ("id", "unique_id", "text", "media", "sender", "message_type")

TEXTS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda text: bool(text.strip())
)
SOUNDS = st.binary(min_size=1, max_size=64).map(lambda payload: b"OggS\x00\x02" + payload)


@dataclass
class Tracked:
    """What the suite knows of one room: message ids ascending above ``floor``."""

    uuid: str
    floor: int = 0  # live: messages up to here existed before the run and are not tracked
    ids: list[int] = field(default_factory=list)


class BoccoUsers(RuleBasedStateMachine):
    idle_budget = IDLE_SUBSCRIBES  # reset per test by the test function

    def __init__(self, target: Target, live_room: str | None) -> None:
        super().__init__()
        self.target = target
        self.live_room = live_room
        self.users = ("alice", "bob") if target.config.is_mock else ("alice",)
        self.sessions: dict[str, list[Credential]] = {}
        self.user_uuid: dict[str, str] = {}
        self.joined: dict[str, list[str]] = {}  # user -> room keys (lower-case uuid)
        self.rooms: dict[str, Tracked] = {}  # room key -> model
        self.messages: dict[int, dict[str, Any]] = {}  # id -> the message as first seen
        self.posted: list[int] = []  # ids the run posted
        self.sounds: dict[int, bytes] = {}  # id -> uploaded audio
        self.read_id: dict[tuple[str, str], int] = {}
        self.cursor: dict[tuple[str, str], int] = {}  # subscribe resume point
        self.cursor_start: dict[tuple[str, str], int] = {}
        self.delivered: dict[tuple[str, str], list[int]] = {}
        self.last_id = 0

    # helpers -------------------------------------------------------------------------------
    def call(
        self,
        endpoint_id: str,
        params: dict[str, Any] | None = None,
        *,
        user: str | None = None,
        credential: Credential | None = None,
        **options: Any,
    ) -> Any:
        if credential is None and user is not None:
            credential = self.sessions[user][-1]
        return self.target.call(endpoint_id, params, credential=credential, **options)

    def sign_in(self, user: str) -> Credential:
        params = SUPPORT.sign_in_params(self.target, user)
        exchange = self.call("bocco.sessions.create", params, credential=Credential(params, user), expect_error=False)
        body = exchange.json()
        assert exchange.response.status_code == 200
        assert body["access_token"], "sign-in gave an empty access_token"
        if user in self.user_uuid:
            assert body["uuid"].lower() == self.user_uuid[user], f"{user} signed in as another uuid"
        self.user_uuid[user] = body["uuid"].lower()
        credential = Credential({"access_token": body["access_token"], **params}, user)
        self.sessions.setdefault(user, []).append(credential)
        return credential

    def page(self, user: str, room: str, params: dict[str, str]) -> list[dict[str, Any]]:
        exchange = self.call("bocco.rooms.messages.list", params, user=user, path={"room_id": self.rooms[room].uuid}, expect_error=False)
        found: list[dict[str, Any]] = exchange.json()
        ids = [message["id"] for message in found]
        assert ids == sorted(set(ids)), f"messages not strictly ascending by id: {ids}"
        for message in found:
            self.same_everywhere(message)
        if params.get("read") == "1" and found:
            self.raise_read(user, room, ids[-1])
        return found

    def read_forward(self, user: str, room: str) -> list[dict[str, Any]]:
        """Page forward from the floor with newer_than until an empty page."""
        seen: list[dict[str, Any]] = []
        after = self.rooms[room].floor
        while found := self.page(user, room, {"newer_than": str(after), "read": "0"}):
            assert found[0]["id"] > after, f"newer_than={after} (exclusive) returned message {found[0]['id']}"
            seen += found
            after = found[-1]["id"]
        return seen

    def read_everything(self, user: str, room: str) -> list[int]:
        return [message["id"] for message in self.read_forward(user, room)]

    def same_everywhere(self, message: dict[str, Any]) -> None:
        known = self.messages.get(message["id"])
        if known is None:
            return
        for key in SAME_EVERYWHERE:
            assert message.get(key) == known.get(key), (
                f"message {message['id']}: {key} {message.get(key)!r} != {known.get(key)!r} seen before"
            )

    def raise_read(self, user: str, room: str, message_id: int) -> None:
        key = (user, room)
        self.read_id[key] = max(self.read_id.get(key, 0), message_id)

    def writable(self, user: str) -> list[str]:
        if self.live_room is not None:
            return [self.live_room.lower()] if self.live_room.lower() in self.joined[user] else []
        return [room for room in self.joined[user] if room in self.rooms]

    def tracked_of(self, user: str) -> list[str]:
        return [room for room in self.joined[user] if room in self.rooms]

    def accept(self, room: str, message: dict[str, Any]) -> None:
        message_id = message["id"]
        assert message_id > self.last_id, f"new message id {message_id} is not above the last id {self.last_id}"
        self.last_id = message_id
        self.rooms[room].ids.append(message_id)
        self.messages[message_id] = message
        self.posted.append(message_id)

    # setup ---------------------------------------------------------------------------------
    @initialize()
    def start(self) -> None:
        self.target.reset()
        for user in self.users:
            self.sign_in(user)
            rooms = self.call("bocco.rooms.joined", user=user, expect_error=False).json()
            self.joined[user] = [room["uuid"].lower() for room in rooms]
            for room in rooms:
                key = room["uuid"].lower()
                if self.live_room is not None and key != self.live_room.lower():
                    continue
                for member in room["members"] or []:
                    if member["user"]["uuid"].lower() == self.user_uuid[user]:
                        self.read_id[(user, key)] = member["read_id"]
                if key not in self.rooms:
                    self.load_room(user, key, room["uuid"])
        if self.live_room is not None:
            assert self.live_room.lower() in self.joined["alice"], "CHATMOCK_BOCCO_ROOM is not a room of the configured account"
        for user in self.users:
            for room in self.tracked_of(user):
                newest = self.rooms[room].ids[-1] if self.rooms[room].ids else self.rooms[room].floor
                self.cursor[(user, room)] = self.cursor_start[(user, room)] = newest
                self.delivered[(user, room)] = []

    def load_room(self, user: str, key: str, room_uuid: str) -> None:
        self.rooms[key] = Tracked(room_uuid)
        if self.live_room is not None:  # track only what the run posts
            newest = self.page(user, key, {"read": "0"})
            self.rooms[key].floor = newest[-1]["id"] if newest else 0
            self.last_id = max(self.last_id, self.rooms[key].floor)
            return
        messages = self.read_forward(user, key)
        for message in messages:
            self.messages[message["id"]] = message
        self.rooms[key].ids = [message["id"] for message in messages]
        self.last_id = max([self.last_id, *self.rooms[key].ids])

    # rules ---------------------------------------------------------------------------------
    @rule(data=st.data())
    def sign_in_again(self, data: st.DataObject) -> None:
        """A second session for the same user; every earlier token keeps working (no sign-out)."""
        self.sign_in(data.draw(st.sampled_from(self.users), label="user"))

    @rule(data=st.data())
    def list_joined_rooms(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        credential = self.sessions[user][
            data.draw(st.integers(0, len(self.sessions[user]) - 1), label="session")
        ]  # an index: tokens never printed
        rooms = self.call("bocco.rooms.joined", credential=credential, expect_error=False).json()
        assert [room["uuid"].lower() for room in rooms] == self.joined[user], "the joined rooms changed"
        for room in rooms:
            key = room["uuid"].lower()
            if key not in self.rooms:
                continue
            model = self.rooms[key]
            shown = [message["id"] for message in room["messages"]]
            for message in room["messages"]:
                self.same_everywhere(message)
            tracked = [message_id for message_id in shown if message_id > model.floor]
            assert all(message_id in model.ids for message_id in tracked), f"rooms/joined shows unknown messages {tracked}"
            if shown and model.ids:
                assert max(shown) == model.ids[-1], f"rooms/joined: newest message {max(shown)}, expected {model.ids[-1]}"
            me = [member for member in room["members"] or [] if member["user"]["uuid"].lower() == self.user_uuid[user]]
            if me and (user, key) in self.read_id:
                expected = self.read_id[(user, key)]
                if self.target.config.is_mock:
                    assert me[0]["read_id"] == expected, f"{user}'s read_id {me[0]['read_id']}, expected {expected}"
                else:
                    assert me[0]["read_id"] >= expected

    @rule(data=st.data(), text=TEXTS)
    def post_text(self, data: st.DataObject, text: str) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        rooms = self.writable(user)
        if not rooms:
            return
        room = data.draw(st.sampled_from(rooms), label="room")
        unique_id = str(uuid.uuid4()).upper()
        exchange = self.call(
            "bocco.rooms.messages.create",
            {"unique_id": unique_id, "media": "text", "text": text},
            user=user,
            path={"room_id": self.rooms[room].uuid},
            expect_error=False,
        )
        assert exchange.response.status_code == 201, f"a new unique_id answered {exchange.response.status_code}"
        body = exchange.json()
        assert body["unique_id"].lower() == unique_id.lower()
        assert (body["text"], body["media"], body["sender"].lower()) == (text, "text", self.user_uuid[user])
        self.accept(room, body)

    @rule(data=st.data(), sound=SOUNDS)
    def post_audio(self, data: st.DataObject, sound: bytes) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        rooms = self.writable(user)
        if not rooms:
            return
        room = data.draw(st.sampled_from(rooms), label="room")
        exchange = self.call(
            "bocco.rooms.messages.create",
            {"unique_id": str(uuid.uuid4()), "media": "audio", "text": ""},
            user=user,
            path={"room_id": self.rooms[room].uuid},
            files={"audio": ("voice.ogg", sound, "audio/ogg")},
            expect_error=False,
        )
        assert exchange.response.status_code == 201
        body = exchange.json()
        assert body["media"] == "audio"
        assert media_parts(body["audio"]) is not None, f"audio URL {body['audio']!r} is not <host>/1/messages/<id>.<ext>"
        self.accept(room, body)
        self.sounds[body["id"]] = sound

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data(), text=TEXTS)
    def repeat_unique_id(self, data: st.DataObject, text: str) -> None:
        """Sending a unique_id again: 200 with the original message; nothing is stored."""
        original = self.messages[data.draw(st.sampled_from(self.posted), label="message")]
        room = next(key for key, model in self.rooms.items() if original["id"] in model.ids)
        user = next(name for name in self.users if self.user_uuid[name] == original["sender"].lower())
        exchange = self.call(
            "bocco.rooms.messages.create",
            {"unique_id": original["unique_id"], "media": "text", "text": text},
            user=user,
            path={"room_id": self.rooms[room].uuid},
            expect_error=False,
        )
        assert exchange.response.status_code == 200, f"a repeated unique_id answered {exchange.response.status_code}"
        body = exchange.json()
        assert (body["id"], body["unique_id"]) == (original["id"], original["unique_id"]), "the repeat is not the original message"
        self.same_everywhere(body)

    @rule(data=st.data())
    def list_messages(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        rooms = self.tracked_of(user)
        if not rooms:
            return
        room = data.draw(st.sampled_from(rooms), label="room")
        model = self.rooms[room]
        bounds = st.sampled_from([model.floor, *model.ids, self.last_id + 1000])
        newer = data.draw(st.none() | bounds, label="newer_than")
        older = data.draw(st.none() | bounds, label="older_than")
        read = data.draw(st.sampled_from(["0", "1"]), label="read")
        params = (
            {"read": read}
            | ({"newer_than": str(newer)} if newer is not None else {})
            | ({"older_than": str(older)} if older is not None else {})
        )
        ids = [message["id"] for message in self.page(user, room, params)]
        expected = [
            message_id for message_id in model.ids if (newer is None or message_id > newer) and (older is None or message_id < older)
        ]
        assert all((newer is None or message_id > newer) and (older is None or message_id < older) for message_id in ids), (
            f"{params}: {ids} outside the range"
        )
        tracked = [message_id for message_id in ids if message_id > model.floor]
        if expected:
            assert ids, f"{params}: empty page, expected from {expected}"
        if newer is not None and newer >= model.floor:
            assert ids == expected[: len(ids)], f"{params}: {ids} is not the oldest run of {expected}"
        else:
            assert tracked == expected[len(expected) - len(tracked) :], f"{params}: {ids} is not the newest run of {expected}"
            if len(tracked) < len(ids):  # untracked older messages shown: everything newer is too
                assert tracked == expected
        if self.target.config.is_mock:  # the mock's page is larger than any room of the run
            assert ids == expected, f"{params}: {ids}, expected {expected}"

    @rule(data=st.data())
    def read_everything_once(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        rooms = self.tracked_of(user)
        if rooms:
            room = data.draw(st.sampled_from(rooms), label="room")
            assert self.read_everything(user, room) == self.rooms[room].ids, (
                "paging with newer_than does not give every message exactly once, in order"
            )

    @rule(data=st.data())
    def mark_read(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        rooms = [room for room in self.writable(user) if self.rooms[room].ids]
        if not rooms:
            return
        room = data.draw(st.sampled_from(rooms), label="room")
        message_id = data.draw(st.sampled_from(self.rooms[room].ids), label="message")
        exchange = self.call(
            "bocco.rooms.messages.read",
            user=user,
            path={"room_id": self.rooms[room].uuid, "message_id": str(message_id)},
            expect_error=False,
        )
        assert exchange.response.status_code == 200
        assert exchange.json() == {}, "mark read answers {}"
        self.raise_read(user, room, message_id)

    def audio_messages(self, user: str) -> list[int]:
        return [
            message_id
            for room in self.tracked_of(user)
            for message_id in self.rooms[room].ids
            if self.messages[message_id]["media"] == "audio"
        ]

    @precondition(lambda self: any(self.audio_messages(user) for user in self.users))
    @rule(data=st.data())
    def download_audio(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([user for user in self.users if self.audio_messages(user)]), label="user")
        message = self.messages[data.draw(st.sampled_from(self.audio_messages(user)), label="message")]
        parts = media_parts(message["audio"])
        assert parts is not None, f"audio URL {message['audio']!r}"
        stem, ext = parts
        by_url = self.call("bocco.media.download", user=user, path={"id": stem, "ext": ext}, expect_error=False).response.content
        by_unique_id = self.call(
            "bocco.messages.download", user=user, path={"unique_id": message["unique_id"], "extname": ext}, expect_error=False
        ).response.content
        assert by_url, "an empty audio file"
        assert by_url == by_unique_id, "the audio URL and /alpha/messages/<unique_id> give different files"
        if message["id"] in self.sounds:
            assert by_url == self.sounds[message["id"]], "the downloaded audio is not the uploaded file"

    def pending(self) -> list[tuple[str, str]]:
        return [key for key, after in self.cursor.items() if self.rooms[key[1]].ids and self.rooms[key[1]].ids[-1] > after]

    @precondition(lambda self: bool(self.pending()))
    @rule(data=st.data())
    def subscribe(self, data: st.DataObject) -> None:
        """Resume from the last id received: the next messages, each once, in order."""
        user, room = data.draw(st.sampled_from(self.pending()), label="user, room")
        after = self.cursor[(user, room)]
        read = data.draw(st.sampled_from(["0", "1"]), label="read")
        exchange = self.call(
            "bocco.rooms.subscribe",
            {"newer_than": str(after), "read": read},
            user=user,
            path={"room_id": self.rooms[room].uuid},
            timeout=30.0,
            expect_error=False,
        )
        assert exchange.response.status_code == 200
        events = exchange.json()
        messages = [event["body"] for event in events if event["event"] == "message"]
        ids = [message["id"] for message in messages]
        expected = [message_id for message_id in self.rooms[room].ids if message_id > after]
        assert ids, "subscribe answered 200 without a message though newer ones exist"
        assert ids == expected[: len(ids)], f"subscribe newer_than={after}: {ids}, expected the next of {expected}"
        for message in messages:
            self.same_everywhere(message)
        self.delivered[(user, room)] += ids
        self.cursor[(user, room)] = ids[-1]
        if read == "1":
            self.raise_read(user, room, ids[-1])

    @precondition(lambda self: len(self.pending()) < len(self.cursor))
    @rule(data=st.data())
    def subscribe_with_nothing_newer(self, data: st.DataObject) -> None:
        """Nothing newer than the last id: 408 {"code": 408001} after the long-poll timeout.
        Each waits that timeout, so only IDLE_SUBSCRIBES per test send the request (a budget in
        the rule, not a precondition: rule choice stays the same when hypothesis replays)."""
        idle = [key for key in self.cursor if key not in self.pending()]
        user, room = data.draw(st.sampled_from(idle), label="user, room")
        if BoccoUsers.idle_budget <= 0:
            return
        BoccoUsers.idle_budget -= 1
        exchange = self.call(
            "bocco.rooms.subscribe",
            {"newer_than": str(self.cursor[(user, room)]), "read": "0"},
            user=user,
            path={"room_id": self.rooms[room].uuid},
            timeout=90.0,
            expect_error=True,
        )
        assert exchange.response.status_code == 408, f"an idle subscribe answered {exchange.response.status_code}"
        assert exchange.json()["code"] == TIMEOUT_CODE

    @precondition(lambda self: any(set(self.rooms) - set(self.joined[user]) for user in self.users))
    @rule(data=st.data())
    def foreign_room_is_404(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from([user for user in self.users if set(self.rooms) - set(self.joined[user])]), label="user")
        room = data.draw(st.sampled_from(sorted(set(self.rooms) - set(self.joined[user]))), label="room")
        exchange = self.call(
            "bocco.rooms.messages.list", {"read": "0"}, user=user, path={"room_id": self.rooms[room].uuid}, expect_error=True
        )
        assert exchange.response.status_code == 404, f"{user} read a room they are not in: {exchange.response.status_code}"

    @rule(data=st.data())
    def unknown_or_ended_token_is_401(self, data: st.DataObject) -> None:
        """An unknown token fails with the documented 401; a signed-out one would too, but BOCCO
        has no sign-out, so the user's tokens keep working."""
        user = data.draw(st.sampled_from(self.users), label="user")
        credential = self.sessions[user][
            data.draw(st.integers(0, len(self.sessions[user]) - 1), label="session")
        ]  # an index: tokens never printed
        ended = SUPPORT.logout(self.target, credential)
        wrong = credential if ended else SUPPORT.wrong_credential(credential)
        exchange = self.call("bocco.rooms.joined", credential=wrong, expect_error=True)
        assert exchange.response.status_code == 401
        assert exchange.json()["code"] == UNAUTHORIZED_CODE
        if ended:
            self.sessions[user].remove(credential)
            if not self.sessions[user]:
                self.sign_in(user)
        else:
            self.call("bocco.rooms.joined", credential=credential, expect_error=False)

    # end of a run ----------------------------------------------------------------------------
    def teardown(self) -> None:
        if not self.sessions:  # the run failed before it started
            return
        for room, model in self.rooms.items():
            reader = next(user for user in self.users if room in self.joined[user])
            assert self.read_everything(reader, room) == model.ids, (
                f"room {model.uuid}: not every accepted message reads exactly once, in order"
            )
        for (user, room), delivered in self.delivered.items():
            start, cursor = self.cursor_start[(user, room)], self.cursor[(user, room)]
            expected = [message_id for message_id in self.rooms[room].ids if start < message_id <= cursor]
            assert delivered == expected, f"{user} in {self.rooms[room].uuid}: subscribe delivered {delivered}, expected {expected}"


def test_bocco_users_at_work(target: Target) -> None:
    require_api(target.config, API)
    room = require_writes(target.config, API)
    BoccoUsers.idle_budget = IDLE_SUBSCRIBES
    live = target.config.target == "live"
    run_state_machine_as_test(
        lambda: BoccoUsers(target, room),
        settings=settings(
            max_examples=2 if live else 15,
            stateful_step_count=10 if live else 30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
