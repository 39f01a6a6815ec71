"""Real Rocket.Chat clients against a served mock, unchanged, over a real socket and in strict
mode (a reply that breaks its schema would be a 500 and fail the flow): rocketchat_API (PyPI,
the most installed Python client) runs its bot flow; @rocket.chat/sdk 0.2.9 (npm) its REST
module under node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.app import create_app
from mockserver.background import serve_in_thread


@pytest.fixture
def rocketchat_api() -> Any:
    return pytest.importorskip("rocketchat_API.rocketchat", reason="rocketchat_API is not installed (pip install -e '.[dev]')")


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    app = create_app(["rocketchat"], strict=True)
    with serve_in_thread(app) as server:
        yield server


def test_rocketchat_api_bot_flow(served: Any, rocketchat_api: Any) -> None:
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


def test_rocketchat_api_errors_are_what_it_expects(served: Any, rocketchat_api: Any) -> None:
    """A wrong password raises its RocketAuthenticationException (it needs the 401); a refused
    call raises RocketApiException carrying the server's success:false body."""
    exceptions = pytest.importorskip("rocketchat_API.APIExceptions.RocketExceptions")
    with pytest.raises(exceptions.RocketAuthenticationException):
        rocketchat_api.RocketChat("alice", "wrong", server_url=served.url)
    rocket = rocketchat_api.RocketChat("bob@example.com", "bob-password", server_url=served.url)  # JSON {"user": e-mail}
    with pytest.raises(exceptions.RocketApiException) as raised:
        rocket.channels_info(room_id="chatmockNoSuchRoom1")
    assert "error-room-not-found" in str(raised.value.args)


# @rocket.chat/sdk 0.2.9 (npm; hubot-rocketchat v2's SDK): its REST module, run by node ------------------
SDK_SCRIPT = r"""
const api = require('@rocket.chat/sdk/dist/lib/api');
const out = {};
(async () => {
  out.login = await api.login({ username: 'alice', password: 'alice-password' });  // JSON {username, password}
  out.names = await api.users.allNames();            // users.list?fields={"username":1} (raw JSON in the query)
  out.online = await api.users.onlineNames();        // ...&query={"status":{"$ne":"offline"}} (ignored, as on 7.x)
  out.bob = await api.get('users.info', { username: 'bob' });
  out.general = await api.get('channels.info', { roomName: 'general' });
  out.created = await api.post('channels.create', { name: 'sdk-room' });
  out.invited = await api.post('channels.invite', { roomId: out.created.channel._id, userId: out.bob.user._id });
  out.posted = await api.post('chat.postMessage', { roomId: out.created.channel._id, text: 'hello from the JS SDK' });
  out.history = await api.get('channels.history', { roomId: out.created.channel._id });
  out.dm = await api.post('im.create', { username: 'bob' });
  await api.logout();                                 // GET logout with Content-Type: application/json
  out.loggedOut = api.loggedIn() === false;
  process.stdout.write('\nCHATMOCK-RESULT ' + JSON.stringify(out) + '\n');  // the SDK logs to stdout too
})().catch((error) => { process.stderr.write(String(error)); process.exit(1); });
"""


def sdk_modules() -> Path | None:
    """The node_modules holding @rocket.chat/sdk (CHATMOCK_NODE_MODULES, else <repo>/node_modules)."""
    root = Path(os.environ.get("CHATMOCK_NODE_MODULES", Path(__file__).resolve().parent.parent / "node_modules"))
    return root if (root / "@rocket.chat" / "sdk" / "dist" / "lib" / "api.js").is_file() and (root / "node-rest-client").is_dir() else None


def test_rocket_chat_js_sdk_rest_flow(served: Any) -> None:
    modules = sdk_modules()
    if shutil.which("node") is None or modules is None:
        pytest.skip("@rocket.chat/sdk 0.2.9 is not installed for node (see tests/test_rocketchat_real_clients.py sdk_modules)")
    env = {
        **os.environ,
        "NODE_PATH": str(modules),
        "ROCKETCHAT_URL": served.url,
        "ROCKETCHAT_USER": "alice",
        "ROCKETCHAT_PASSWORD": "alice-password",
    }
    done = subprocess.run(["node", "-e", SDK_SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = [line for line in done.stdout.splitlines() if line.startswith("CHATMOCK-RESULT ")]
    assert result, done.stdout[-2000:]
    out = json.loads(result[-1].removeprefix("CHATMOCK-RESULT "))
    assert out["login"]["data"]["userId"] == "aLiCEx3kPq7RtZ2mW"
    assert {"alice", "bob", "rocket.cat"} <= set(out["names"])
    assert out["bob"]["user"]["username"] == "bob"
    assert out["general"]["channel"]["_id"] == "GENERAL"
    assert out["invited"]["channel"]["usersCount"] == 2
    assert out["posted"]["message"]["msg"] == "hello from the JS SDK"
    assert [item["msg"] for item in out["history"]["messages"]] == ["hello from the JS SDK"]
    assert out["dm"]["room"]["t"] == "d"
    assert out["loggedOut"] is True
