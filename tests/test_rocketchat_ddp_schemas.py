"""schemas/rocketchat/realtime: the DDP API's own document kind (frames, methods, streams),
checked against its meta-schema when loaded; every documented example is accepted by its
schema and a broken variant refused; every method has a handler and every handler a schema;
what the mock sends in a flow keeps these schemas."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_rocketchat_ddp import Ddp, rest_login

from mockserver.apis.rocketchat.ddp.methods import METHODS
from mockserver.apis.rocketchat.ddp.schemas import RealtimeSchemaError, inline, load, realtime_dir, realtime_schemas
from mockserver.apis.rocketchat.ddp.streams import STREAMS
from mockserver.app import create_app
from mockserver.core.registry import load_registry
from mockserver.core.validate import Checker

SCHEMAS = realtime_schemas()
REGISTRY = load_registry()
FRAMES = SCHEMAS.documents["frames.json"]


def test_every_method_has_a_handler_and_every_handler_a_schema() -> None:
    assert set(SCHEMAS.methods) == set(METHODS) | {"login", "logout"}
    assert set(SCHEMAS.streams) <= STREAMS


@pytest.mark.parametrize("example", FRAMES["examples"], ids=lambda example: f"{example['side']}-{example['frame'].get('msg', 'server_id')}")
def test_frame_examples_are_accepted_and_broken_ones_refused(example: dict[str, Any]) -> None:
    frame = example["frame"]
    checker = SCHEMAS.frames[example["side"]][frame.get("msg", "server_id")]
    assert checker.errors(frame) == []
    broken = (
        {key: value for key, value in frame.items() if key != next(key for key in checker.schema["required"] if key != "msg")}
        if len(checker.schema["required"]) > 1
        else {**frame, "msg": 5, "server_id": 5}
    )
    assert checker.errors(broken) != []


@pytest.mark.parametrize("name", sorted(SCHEMAS.methods))
def test_method_examples_are_accepted_and_broken_ones_refused(name: str) -> None:
    spec = SCHEMAS.methods[name]
    example = spec.document["example"]
    assert spec.param_problem(example["params"]) is None
    if example["result"] is not None:
        assert spec.result.errors(example["result"]) == []
        assert spec.result.errors({"unexpected": [1, 2]} if not isinstance(example["result"], dict) else 12345) != []
    assert spec.param_problem([*example["params"], *([None] * (len(spec.params) + 1))]) is not None  # too many
    if spec.params and spec.params[0].required:
        assert spec.param_problem([]) is not None
        assert spec.param_problem([{"a": [1]} if not isinstance(example["params"][0], dict) else 12345]) is not None


@pytest.mark.parametrize(
    ("stream", "event"), [(name, event) for name, document in sorted(SCHEMAS.streams.items()) for event in document["events"]]
)
def test_stream_event_examples_are_accepted_and_broken_ones_refused(stream: str, event: str) -> None:
    described = SCHEMAS.streams[stream]["events"][event]
    checker = Checker(inline(described["args"], REGISTRY, Path(stream)))
    assert checker.errors(described["example"]) == []
    assert checker.errors([]) != []
    assert checker.errors([*described["example"], 1, 2, 3]) != []


def test_a_broken_realtime_document_is_refused_naming_the_file(tmp_path: Path) -> None:
    copied = tmp_path / "realtime"
    shutil.copytree(realtime_dir(), copied)
    send = copied / "method.sendMessage.json"
    document = json.loads(send.read_text(encoding="utf-8"))
    del document["result"]
    send.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(RealtimeSchemaError, match=r"method\.sendMessage\.json"):
        load(copied, REGISTRY)
    document["result"] = {"$ref": "../_defs.json#/definitions/NoSuchModel"}
    send.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(RealtimeSchemaError, match=r"no model rocketchat\.NoSuchModel"):
        load(copied, REGISTRY)
    document["result"] = {}
    (copied / "method.sendMessage.json").rename(copied / "method.other.json")
    (copied / "method.other.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(RealtimeSchemaError, match=r"belongs in method\.sendMessage\.json"):
        load(copied, REGISTRY)


def test_what_the_mock_streams_keeps_the_stream_schemas() -> None:
    app = create_app(["rocketchat"], strict=True)
    bob_id = "boBy4Nq8HsK2dYe6T"
    with TestClient(app) as client, client.websocket_connect("/websocket") as ws:
        headers = rest_login(client, "alice", "alice-password")
        ddp = Ddp(ws)
        ddp.connect()
        ddp.login("bob", "bob-password")
        for stream, name in [
            ("stream-room-messages", "__my_messages__"),
            ("stream-room-messages", "GENERAL"),
            ("stream-notify-room", "GENERAL/deleteMessage"),
            ("stream-notify-user", f"{bob_id}/rooms-changed"),
            ("stream-notify-user", f"{bob_id}/subscriptions-changed"),
            ("stream-notify-user", f"{bob_id}/notification"),
        ]:
            assert ddp.sub(stream, name, False)["msg"] == "ready"
        posted = client.post("/api/v1/chat.postMessage", headers=headers, json={"channel": "#general", "text": "hi @bob"}).json()["message"]
        client.post("/api/v1/chat.delete", headers=headers, json={"roomId": "GENERAL", "msgId": posted["_id"]})
        ddp.result("createChannel", "schema-room", [])
        seen = [ddp.event() for _ in range(7)]
        kinds = sorted((frame["collection"], frame["fields"]["eventName"].rpartition("/")[2]) for frame in seen)
        assert kinds == [
            ("stream-notify-room", "deleteMessage"),
            ("stream-notify-user", "notification"),
            ("stream-notify-user", "rooms-changed"),
            ("stream-notify-user", "rooms-changed"),
            ("stream-notify-user", "subscriptions-changed"),
            ("stream-room-messages", "GENERAL"),
            ("stream-room-messages", "__my_messages__"),
        ]
        for frame in seen:
            assert SCHEMAS.event_problem(frame) is None, frame
            broken = copy.deepcopy(frame)
            broken["fields"]["args"].append({"one": "too many"})
            assert SCHEMAS.event_problem(broken) is not None
    assert app.state.chatmock.dispatcher.violations == []
