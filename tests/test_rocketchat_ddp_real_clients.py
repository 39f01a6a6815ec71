"""Real Rocket.Chat realtime clients against a served mock, unchanged, over a real socket and in
strict mode: each runs a bot flow (connect, log in, subscribe to its messages, receive a message
a user posted over REST, answer it) and the answer is read back over REST.

* rocketchat-async (PyPI; DDP only): sha-256 digest login, ``rooms/get``, ``stream-room-messages``
  with ``{useCollection: false, args: []}``, ``sendMessage`` with its own ``_id``; then a resume
  with a REST login token;
* @rocket.chat/sdk 1.0.0-alpha.42 (npm; the SDK's DDP driver, from the registry only: 0.2.9's
  driver needs a git dependency): REST login then a DDP resume with that token,
  ``__my_messages__``, DDP method calls through its socket, an answer by its ``sendToRoomId``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.app import create_app
from mockserver.background import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served() -> Iterator[Any]:
    app = create_app(["rocketchat"], strict=True)
    with serve_in_thread(app) as server:
        yield server
    assert app.state.chatmock.dispatcher.violations == []


@pytest.fixture(autouse=True)
def no_mock_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Strict mode's reports of DDP frames, events and results are log lines (and error frames
    the clients ignore): none may appear."""
    with caplog.at_level(logging.ERROR, logger="chatmock"):
        yield
    assert [record.getMessage() for record in caplog.records if record.name == "chatmock"] == []


def rest_headers(url: str, user: str = "bob") -> dict[str, str]:
    data = httpx.post(f"{url}/api/v1/login", json={"user": user, "password": f"{user}-password"}).json()["data"]
    return {"X-Auth-Token": data["authToken"], "X-User-Id": data["userId"]}


def history(url: str, headers: dict[str, str]) -> list[str]:
    reply = httpx.get(f"{url}/api/v1/channels.history", headers=headers, params={"roomId": "GENERAL", "count": 5})
    return [item["msg"] for item in reply.json()["messages"]]


# rocketchat-async (PyPI) ----------------------------------------------------------------------------
def test_rocketchat_async_bot_flow(served: Any) -> None:
    rocketchat_async = pytest.importorskip("rocketchat_async", reason="rocketchat-async is not installed (pip install -e '.[dev]')")
    url = served.url
    address = url.replace("http://", "ws://") + "/websocket"
    bob = rest_headers(url)

    async def flow() -> dict[str, Any]:
        bot = rocketchat_async.RocketChat()
        await bot.start(address, "alice", "alice-password")  # connect + login with a sha-256 digest
        channels = await bot.get_channels()  # rooms/get
        heard: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()

        def on_message(channel_id: str, sender_id: str, msg_id: str, thread_id: Any, msg: str, *rest: Any) -> None:
            if sender_id != bot.user_id:
                heard.put_nowait((channel_id, sender_id, msg))

        await bot.subscribe_to_channel_messages("GENERAL", on_message)
        async with httpx.AsyncClient() as client:
            posted = await client.post(f"{url}/api/v1/chat.postMessage", headers=bob, json={"channel": "#general", "text": "hello bot"})
        assert posted.status_code == 200
        channel_id, sender_id, text = await asyncio.wait_for(heard.get(), 10)
        await bot.send_message(f"you said: {text}", channel_id)  # sendMessage {_id, rid, msg}
        await bot.send_reaction(posted.json()["message"]["_id"], ":wave:")
        await asyncio.sleep(0.2)  # its calls are fire-and-forget: let the server answer
        again = rocketchat_async.RocketChat()
        await again.resume(address, "bob", bob["X-Auth-Token"])  # a REST token resumes over DDP
        return {"user_id": bot.user_id, "channels": channels, "sender": sender_id, "text": text, "resumed": again.user_id}

    out = asyncio.run(asyncio.wait_for(flow(), 30))
    assert out["user_id"] == "aLiCEx3kPq7RtZ2mW"
    assert ("GENERAL", "c") in out["channels"]
    assert (out["sender"], out["text"]) == ("boBy4Nq8HsK2dYe6T", "hello bot")
    assert out["resumed"] == "boBy4Nq8HsK2dYe6T"
    assert history(url, bob)[:2] == ["you said: hello bot", "hello bot"]
    reacted = httpx.get(f"{url}/api/v1/channels.history", headers=bob, params={"roomId": "GENERAL", "count": 2}).json()["messages"][1]
    assert reacted["reactions"] == {":wave:": {"usernames": ["alice"]}}


# @rocket.chat/sdk 1.0.0-alpha.42 (npm) --------------------------------------------------------------------
SDK_BOT = r"""
const { Bot } = require('@rocket.chat/sdk');
const quiet = { debug() {}, info() {}, warning() {}, warn() {}, error(m) { process.stderr.write(String(m) + '\n'); } };
const out = {};
(async () => {
  const bot = new Bot({ host: process.env.ROCKETCHAT_URL, useSsl: false, logger: quiet });
  await bot.connect();                                                    // DDP connect on /websocket
  await bot.login({ username: 'alice', password: 'alice-password' });     // REST login, then DDP login {resume}
  const ddp = (await bot.socket).ddp;                                     // the SDK's DDP socket
  out.rid = await ddp.call('getRoomIdByNameOrId', 'general');             // DDP methods through it
  out.name = await ddp.call('getRoomNameById', out.rid);
  await bot.reactToMessages(async (err, message) => {                     // stream-room-messages __my_messages__
    if (err || message.u.username === 'alice') return;
    out.heard = message.msg;
    out.answer = await bot.sendToRoomId('echo: ' + message.msg, message.rid);
    process.stdout.write('\nCHATMOCK-RESULT ' + JSON.stringify(out) + '\n');
    await bot.disconnect();
    process.exit(0);
  });
  process.stdout.write('\nCHATMOCK-READY\n');
})().catch((error) => { process.stderr.write('failed: ' + (error && error.stack || JSON.stringify(error)) + '\n'); process.exit(1); });
setTimeout(() => { process.stderr.write('timed out\n'); process.exit(2); }, 20000);
"""


def ddp_sdk_modules() -> Path | None:
    """The node_modules holding @rocket.chat/sdk 1.0.0-alpha (CHATMOCK_NODE_DDP_MODULES, else
    <repo>/.ci/node-ddp/node_modules, where .ci/run installs it)."""
    root = Path(os.environ.get("CHATMOCK_NODE_DDP_MODULES", ROOT / ".ci" / "node-ddp" / "node_modules"))
    return root if (root / "@rocket.chat" / "sdk" / "clients" / "Bot.js").is_file() else None


def test_rocket_chat_js_sdk_ddp_bot_flow(served: Any) -> None:
    modules = ddp_sdk_modules()
    if shutil.which("node") is None or modules is None:
        pytest.skip("@rocket.chat/sdk 1.0.0-alpha.42 is not installed for node (.ci/run installs it into .ci/node-ddp)")
    url = served.url
    bob = rest_headers(url)
    env = {**os.environ, "NODE_PATH": str(modules), "ROCKETCHAT_URL": url}
    with subprocess.Popen(["node", "-e", SDK_BOT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bot:
        assert bot.stdout is not None
        assert bot.stderr is not None
        result = None
        for line in bot.stdout:
            if line.startswith("CHATMOCK-READY"):
                httpx.post(f"{url}/api/v1/chat.postMessage", headers=bob, json={"channel": "#general", "text": "ping the js bot"})
            elif line.startswith("CHATMOCK-RESULT "):
                result = json.loads(line.removeprefix("CHATMOCK-RESULT "))
        errors = bot.stderr.read()
        assert bot.wait(30) == 0, errors
    assert result is not None, errors
    assert (result["rid"], result["name"]) == ("GENERAL", "general")
    assert result["heard"] == "ping the js bot"
    assert result["answer"]["msg"] == "echo: ping the js bot"
    assert history(url, bob)[:2] == ["echo: ping the js bot", "ping the js bot"]
