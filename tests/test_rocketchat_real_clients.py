"""Real Rocket.Chat clients against a served mock, unchanged: rocketchat_API (PyPI, the most
installed Python client) runs its bot flow over a real socket, in strict mode (a reply that
breaks its schema would be a 500 and fail the flow)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.background import serve_in_thread

rocketchat_api = pytest.importorskip("rocketchat_API.rocketchat", reason="rocketchat_API is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    app = create_app(["rocketchat"], strict=True)
    with serve_in_thread(app) as server:
        yield server


def test_rocketchat_api_bot_flow(served: Any) -> None:
    rocket = rocketchat_api.RocketChat("alice", "alice-password", server_url=served.url)  # JSON {"username", "password"}
    me = rocket.me()
    assert me["username"] == "alice"
    assert rocket.info()["version"]  # /api/info
    bob = rocket.users_info(username="bob")["user"]
    assert bob["_id"] == "boBy4Nq8HsK2dYe6T"
    assert rocket.channels_info(channel="general")["channel"]["_id"] == "GENERAL"
    created = rocket.channels_create("bots-room")["channel"]
    room_id = created["_id"]
    invited = rocket.channels_invite(room_id, bob["_id"])
    assert invited["success"] is True
    assert invited["channel"]["usersCount"] == 2
    posted = rocket.chat_post_message("hello from rocketchat_API", room_id=room_id)
    message_id = posted["message"]["_id"]
    assert posted["success"] is True
    by_channel = rocket.chat_post_message("and by #name", channel="#bots-room")
    assert by_channel["message"]["rid"] == room_id
    history = list(rocket.channels_history(room_id))  # a paginated iterator: offset=0&count=50
    assert [item["msg"] for item in history] == ["and by #name", "hello from rocketchat_API"]
    assert rocket.chat_react(message_id, "thumbsup")["success"] is True
    reacted = next(item for item in rocket.channels_history(room_id) if item["_id"] == message_id)
    assert reacted["reactions"] == {":thumbsup:": {"usernames": ["alice"]}}
    edited = rocket.chat_update(room_id, message_id, "edited by the bot")["message"]
    assert edited["msg"] == "edited by the bot"
    assert edited["editedBy"]["username"] == "alice"
    assert rocket.chat_delete(room_id, message_id)["_id"] == message_id
    assert [item["msg"] for item in rocket.channels_history(room_id)] == ["and by #name"]
    joined = [channel["name"] for channel in rocket.channels_list_joined()]
    assert "bots-room" in joined
    assert rocket.logout()["status"] == "success"
    with pytest.raises(Exception, match="401"):
        rocket.me()


def test_rocketchat_api_errors_are_what_it_expects(served: Any) -> None:
    """A wrong password raises its RocketAuthenticationException (it needs the 401); a refused
    call raises RocketApiException carrying the server's success:false body."""
    exceptions = pytest.importorskip("rocketchat_API.APIExceptions.RocketExceptions")
    with pytest.raises(exceptions.RocketAuthenticationException):
        rocketchat_api.RocketChat("alice", "wrong", server_url=served.url)
    rocket = rocketchat_api.RocketChat("bob@example.com", "bob-password", server_url=served.url)  # JSON {"user": e-mail}
    with pytest.raises(exceptions.RocketApiException) as raised:
        rocket.channels_info(room_id="chatmockNoSuchRoom1")
    assert "error-room-not-found" in str(raised.value.args)
