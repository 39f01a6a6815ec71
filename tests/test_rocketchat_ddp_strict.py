"""Strict mode's realtime findings (issue 14, point 6): a DDP frame the mock sends that breaks
its schema is answered with an error frame, logged, and listed by ``GET /__chatmock/violations``
like a REST finding (the module reports it through the ``ViolationSink`` ChatMock hands it),
naming the method, stream or frame and the JSON pointer of the offending value."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from test_rocketchat_ddp import Ddp

from mockserver.apis.rocketchat.ddp import methods
from mockserver.app import ChatMockApp, create_app
from mockserver.core.call import ViolationSink
from mockserver.core.validate import Checker


@pytest.fixture
def app() -> ChatMockApp:
    return create_app(["rocketchat"], strict=True)


@pytest.fixture
def client(app: ChatMockApp) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def listed(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/__chatmock/violations")
    assert response.status_code == 200
    found: list[dict[str, Any]] = response.json()["violations"]
    return found


def session(client: TestClient, ws: Any) -> Ddp:
    ddp = Ddp(ws)
    ddp.strict_reports = True
    ddp.connect()
    ddp.login()
    return ddp


def test_every_module_gets_the_apps_sink(app: ChatMockApp) -> None:
    mock = app.state.chatmock
    sink = mock.modules["rocketchat"].violation_sink
    assert isinstance(sink, ViolationSink)
    assert sink.found is mock.dispatcher.violations
    mock.reset()
    assert mock.modules["rocketchat"].violation_sink is sink  # the fresh instances too


def test_a_method_result_that_breaks_its_schema_is_listed(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(call: Any, params: list[Any]) -> Any:
        return {"not": "a room name"}

    monkeypatch.setitem(methods.METHODS, "getRoomNameById", broken)
    with client.websocket_connect("/websocket") as ws:
        ddp = session(client, ws)
        reply = ddp.call("getRoomNameById", "GENERAL")
        assert reply["error"]["error"] == 500
        assert reply["error"]["reason"].startswith("chatmock strict mode: the result breaks its schema")
    [finding] = listed(client)
    assert finding["endpoint"] == "rocketchat.ddp.method.getRoomNameById"
    assert finding["pointer"] == "/result"
    assert finding["status"] is None
    assert finding["violations"] == ["$: fails type 'string' (schema /type)"]
    assert client.post("/__chatmock/reset").status_code == 200
    assert listed(client) == []


def test_an_event_that_breaks_its_stream_schema_is_listed(app: ChatMockApp, client: TestClient) -> None:
    live = app.state.chatmock.modules["rocketchat"].realtime
    events = {key: Checker({"type": "array", "items": [{"type": "object", "required": ["nowhere"]}]}) for key in live.schemas.events}
    live.schemas = dataclasses.replace(live.schemas, events=events)
    with client.websocket_connect("/websocket") as ws:
        ddp = session(client, ws)
        assert ddp.sub("stream-room-messages", "GENERAL", False)["msg"] == "ready"
        ddp.result("sendMessage", {"rid": "GENERAL", "msg": "checked"})
        error = ddp.wait(lambda frame: frame.get("msg") == "error")
        assert error["reason"].startswith("chatmock strict mode: an event breaks its schema")
    [finding] = listed(client)
    assert finding["endpoint"] == "rocketchat.ddp.stream.stream-room-messages"
    assert finding["pointer"] == "/fields/args/0"
    assert "nowhere" in finding["violations"][0]


def test_a_frame_that_breaks_frames_json_is_listed(app: ChatMockApp, client: TestClient) -> None:
    live = app.state.chatmock.modules["rocketchat"].realtime
    server = {**live.schemas.frames["server"], "ready": Checker({"properties": {"subs": {"maxItems": 0}}})}
    live.schemas = dataclasses.replace(live.schemas, frames={**live.schemas.frames, "server": server})
    with client.websocket_connect("/websocket") as ws:
        ddp = session(client, ws)
        ddp.send({"msg": "sub", "id": "s1", "name": "stream-room-messages", "params": ["GENERAL", False]})
        error = ddp.wait(lambda frame: frame.get("msg") == "error")
        assert error["reason"].startswith("chatmock strict mode: a ready frame breaks its schema")
    [finding] = listed(client)
    assert finding["endpoint"] == "rocketchat.ddp.frame.ready"
    assert finding["pointer"] == "/subs"


def test_without_strict_mode_nothing_is_checked_or_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(call: Any, params: list[Any]) -> Any:
        return {"not": "a room name"}

    monkeypatch.setitem(methods.METHODS, "getRoomNameById", broken)
    with TestClient(create_app(["rocketchat"])) as client, client.websocket_connect("/websocket") as ws:
        ddp = session(client, ws)
        assert ddp.result("getRoomNameById", "GENERAL") == {"not": "a room name"}
        assert listed(client) == []
