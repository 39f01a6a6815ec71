"""The realtime API's AsyncAPI 3.0 document (issue 14, point 6): generated from
``schemas/rocketchat/realtime``, served by the admin API and printed by the CLI.

No AsyncAPI validator ships with the project's dependencies, so the structure is checked here:
the required top-level fields of AsyncAPI 3.0, every ``$ref`` resolving inside the document,
every operation on the one channel and naming its messages, every method and stream file present,
and each payload a valid draft-07 JSON Schema that accepts the realtime files' examples."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from mockserver import cli
from mockserver.apis.rocketchat.ddp.schemas import method_file, realtime_dir, realtime_schemas
from mockserver.app import create_app
from mockserver.core.registry import load_registry

SCHEMAS = realtime_schemas()
KEY = re.compile(r"^[\w.\-]+$")  # AsyncAPI 3.0's pattern for component and channel-message keys


@cache
def document() -> dict[str, Any]:
    from mockserver.apis import api_class

    found = api_class("rocketchat").asyncapi_document(load_registry(), "http://127.0.0.1:8000", False)
    assert found is not None
    return found


def messages() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = document()["channels"]["websocket"]["messages"]
    return found


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resolve(pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = document()
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def validator(key: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(messages()[key]["payload"])


def test_the_document_has_asyncapi_3_structure() -> None:
    found = document()
    assert found["asyncapi"] == "3.0.0"
    assert found["info"]["title"]
    assert found["info"]["version"]
    assert found["defaultContentType"] == "application/json"
    assert found["servers"]["chatmock"] == {
        "host": "127.0.0.1:8000",
        "protocol": "ws",
        "pathname": "/rocketchat",
        "description": "the mock",
    }
    assert list(found["channels"]) == ["websocket"]
    assert found["channels"]["websocket"]["address"] == "/websocket"
    for key, message in messages().items():
        assert KEY.match(key), key
        assert message["name"] == key
        assert "payload" in message
    for key, operation in found["operations"].items():
        assert KEY.match(key), key
        assert operation["action"] in ("send", "receive")
        assert operation["channel"] == {"$ref": "#/channels/websocket"}
        assert operation["messages"], key
        named = [*operation["messages"], *operation.get("reply", {}).get("messages", [])]
        assert all(ref["$ref"].startswith("#/channels/websocket/messages/") for ref in named), key
        if "reply" in operation:
            assert operation["reply"]["channel"] == {"$ref": "#/channels/websocket"}
    for ref in refs(found):
        resolve(ref)  # every reference resolves inside the document (payloads hold none)
    assert not list(refs(messages())), "payloads are self-contained"


def test_client_and_server_operations() -> None:
    operations = document()["operations"]
    receives = {key for key, operation in operations.items() if operation["action"] == "receive"}
    sends = {key for key, operation in operations.items() if operation["action"] == "send"}
    assert {"client.connect", "client.ping", "client.pong", "client.unsub"} <= receives
    assert {"server.connected", "server.ready", "server.nosub", "server.error", "server.ping", "server.pong"} <= sends
    assert operations["method.sendMessage"]["reply"]["messages"] == [{"$ref": "#/channels/websocket/messages/result.sendMessage"}]
    assert {ref["$ref"].rpartition("/")[2] for ref in operations["sub.stream-room-messages"]["reply"]["messages"]} == {
        "server.ready",
        "server.nosub",
    }


def test_every_method_and_stream_file_is_in_the_document() -> None:
    files = {path.name for path in realtime_dir().glob("*.json") if not path.name.startswith("_")}
    methods = {name for name in SCHEMAS.methods}
    assert {method_file(name) for name in methods} == {name for name in files if name.startswith("method.")}
    found = messages()
    operations = document()["operations"]
    for name in methods:
        stem = method_file(name).removesuffix(".json")
        assert stem in found
        assert stem in operations
        assert f"result.{stem.removeprefix('method.')}" in found
        assert found[stem]["payload"]["allOf"][1]["properties"]["method"] == {"const": name}
    for name, stream in SCHEMAS.streams.items():
        assert f"stream.{name}.json" in files
        assert f"sub.{name}" in found
        assert f"sub.{name}" in operations
        for kind in stream["events"]:
            assert f"changed.{name}.{kind}" in found
            assert f"changed.{name}.{kind}" in operations


def test_each_payload_is_a_valid_draft_07_schema() -> None:
    for key, message in messages().items():
        jsonschema.Draft7Validator.check_schema(message["payload"])
        assert validator(key) is not None


def test_the_payloads_accept_the_realtime_files_examples() -> None:
    found = messages()
    for name, spec in SCHEMAS.methods.items():
        stem = method_file(name).removesuffix(".json")
        example = spec.document["example"]
        call = {"msg": "method", "id": "1", "method": name, "params": example.get("params", [])}
        assert validator(stem).is_valid(call), (name, next(validator(stem).iter_errors(call)).message)
        wrong = {**call, "method": "someOtherMethod"}
        assert not validator(stem).is_valid(wrong)
        reply: dict[str, Any] = {"msg": "result", "id": "1"}
        if example.get("result") is not None:
            reply["result"] = example["result"]
        key = f"result.{stem.removeprefix('method.')}"
        assert validator(key).is_valid(reply), (name, next(validator(key).iter_errors(reply)).message)
    for name, stream in SCHEMAS.streams.items():
        for kind, event in stream["events"].items():
            frame = {
                "msg": "changed",
                "collection": name,
                "id": "id",
                "fields": {"eventName": event["eventName"], "args": event["example"]},
            }
            key = f"changed.{name}.{kind}"
            assert validator(key).is_valid(frame), (key, next(validator(key).iter_errors(frame)).message)
            assert not validator(key).is_valid({**frame, "fields": {"eventName": "x", "args": "not an array"}})
    results = [key for key in found if key.startswith("result.")]
    for example in SCHEMAS.documents["frames.json"]["examples"]:
        side, frame = example["side"], example["frame"]
        msg = frame.get("msg", "server_id")
        if f"{side}.{msg}" in found:
            assert validator(f"{side}.{msg}").is_valid(frame), frame
        elif msg == "method":
            assert validator(method_file(frame["method"]).removesuffix(".json")).is_valid(frame), frame
        elif msg == "sub":
            assert validator(f"sub.{frame['name']}").is_valid(frame), frame
        else:  # frames.json's result and changed examples are abbreviated: the frame part of the payload
            assert msg in ("result", "changed"), frame
            framed = [found[key]["payload"]["allOf"][0] for key in results if msg == "result"] or [
                found[key]["payload"]["allOf"][0] for key in found if key.startswith(f"changed.{frame['collection']}.")
            ]
            assert framed, frame
            assert all(jsonschema.Draft7Validator(schema).is_valid(frame) for schema in framed), frame


def test_the_admin_route_serves_it_and_answers_404_for_an_api_without_one() -> None:
    with TestClient(create_app(["rocketchat", "gitter"])) as client:
        served = client.get("/__chatmock/asyncapi/rocketchat.json")
        assert served.status_code == 200
        body = served.json()
        assert body["servers"]["chatmock"]["host"] == "testserver"
        assert body["servers"]["chatmock"]["pathname"] == "/rocketchat"
        assert body["operations"].keys() == document()["operations"].keys()
        for name in ("gitter", "lingr"):
            missing = client.get(f"/__chatmock/asyncapi/{name}.json")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/json"
            error = missing.json()["error"]
            assert isinstance(error, str)
            assert "\n" not in error
            assert name in error
    with TestClient(create_app(["rocketchat"])) as client:  # one API: served at the root, /websocket too
        alone = client.get("/__chatmock/asyncapi/rocketchat.json").json()
        assert "pathname" not in alone["servers"]["chatmock"]
        assert alone["channels"]["websocket"]["address"] == "/websocket"


def test_the_cli_prints_it_and_says_in_one_line_when_an_api_has_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schemas", "asyncapi", "--api", "rocketchat", "--base-url", "https://mock.example"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["servers"]["chatmock"]["protocol"] == "wss"
    assert out["servers"]["chatmock"]["host"] == "mock.example"
    assert out["operations"].keys() == document()["operations"].keys()
    assert cli.main(["schemas", "asyncapi", "--api", "bocco"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "bocco" in captured.err
