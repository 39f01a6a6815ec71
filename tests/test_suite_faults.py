"""The suite tests itself: faults planted with respx in the in-process mock's responses each
make the suite fail, with a message naming the endpoint and the field."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
import respx
from starlette.testclient import TestClient

from contract_tests.checks import ContractFailure
from contract_tests.config import SuiteConfig
from contract_tests.invariants import InvariantFailure, in_order, readable_exactly_once
from contract_tests.ledger import Ledger
from contract_tests.targets import MOCK_ORIGIN, Credential, Target, TransportFailure, _mock_bases
from mockserver.app import create_app
from mockserver.core.registry import load_registry

Fault = Callable[[httpx.Request, httpx.Response], httpx.Response]
REGISTRY = load_registry()
GITTER = Credential({"token": "gitter-token-alice"})


@pytest.fixture
def plant() -> Iterator[Callable[[str, Fault], Target]]:
    """A target whose transport is a respx router forwarding to the in-process mock, and
    applying ``fault`` to the responses of requests whose path contains a marker."""
    mock = TestClient(create_app(strict=False, longpoll_timeout=0.5))
    targets: list[Target] = []

    def make(marker: str, fault: Fault) -> Target:
        router = respx.MockRouter(assert_all_called=False)

        def forward(request: httpx.Request) -> httpx.Response:
            upstream = mock.send(mock.build_request(request.method, str(request.url), headers=request.headers, content=request.content))
            response = httpx.Response(upstream.status_code, headers=upstream.headers, content=upstream.content)
            return fault(request, response) if marker in request.url.path else response

        router.route().mock(side_effect=forward)
        config = SuiteConfig(target="inprocess")
        target = Target(
            config,
            httpx.Client(transport=httpx.MockTransport(router.handler)),
            _mock_bases(REGISTRY, config.apis, MOCK_ORIGIN),
            REGISTRY,
            Ledger(),
        )
        targets.append(target)
        return target

    yield make
    for target in targets:
        target.http.close()
    mock.close()


def delivered_once_in_order(endpoint_id: str, field: str, posted: Sequence[str], delivered: Sequence[str]) -> None:
    """Every posted id delivered exactly once and in posting order."""
    readable_exactly_once(endpoint_id, field, posted, delivered)
    in_order(endpoint_id, field, posted, delivered)


def rewrite(change: Callable[[Any], Any], status: int | None = None, content_type: str | None = None) -> Fault:
    def fault(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        body = change(json.loads(response.content))
        headers = {key: value for key, value in response.headers.items() if key.lower() != "content-length"}
        if content_type:
            headers["content-type"] = content_type
        return httpx.Response(status or response.status_code, headers=headers, content=json.dumps(body).encode())

    return fault


def lingr_session(target: Target) -> Credential:
    body = target.call("lingr.session.create", {"user": "alice", "password": "alice-password"}).json()
    return Credential({"session": body["session"]})


def test_dropped_required_field_fails(plant: Callable[[str, Fault], Target]) -> None:
    target = plant("/user/me", rewrite(lambda body: {key: value for key, value in body.items() if key != "username"}))
    with pytest.raises(ContractFailure) as failure:
        target.call("gitter.user.me", credential=GITTER)
    assert failure.value.endpoint_id == "gitter.user.me"
    assert "username" in str(failure.value)


def test_changed_type_fails(plant: Callable[[str, Fault], Target]) -> None:
    def integer_id(body: object) -> object:
        assert isinstance(body, dict)
        body["message"]["id"] = int(body["message"]["id"])
        return body

    target = plant("/room/say", rewrite(integer_id))
    session = lingr_session(target)
    with pytest.raises(ContractFailure) as failure:
        target.call("lingr.room.say", {"room": "lounge", "text": "hello"}, credential=session)
    assert failure.value.endpoint_id == "lingr.room.say"
    assert failure.value.instance_path == "$.message.id"


def test_undocumented_status_fails(plant: Callable[[str, Fault], Target]) -> None:
    target = plant("/v1/rooms", rewrite(lambda body: body, status=418))
    with pytest.raises(ContractFailure) as failure:
        target.call("gitter.rooms.list", credential=GITTER)
    assert failure.value.endpoint_id == "gitter.rooms.list"
    assert "undocumented status 418" in str(failure.value)


def test_lingr_error_sent_as_http_500_fails(plant: Callable[[str, Fault], Target]) -> None:
    target = plant("/session/create", rewrite(lambda body: body, status=500))
    with pytest.raises(ContractFailure) as failure:
        target.call("lingr.session.create", {"user": "alice", "password": "wrong"}, expect_error=True)
    assert failure.value.endpoint_id == "lingr.session.create"
    assert "undocumented status 500" in str(failure.value)


def test_wrong_content_type_fails(plant: Callable[[str, Fault], Target]) -> None:
    target = plant("/user/get_rooms", rewrite(lambda body: body, content_type="application/json"))
    session = lingr_session(target)
    with pytest.raises(ContractFailure) as failure:
        target.call("lingr.user.get_rooms", credential=session)
    assert failure.value.endpoint_id == "lingr.user.get_rooms"
    assert "content type 'application/json'" in str(failure.value)


def test_truncated_body_fails(plant: Callable[[str, Fault], Target]) -> None:
    def truncate(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        headers = {key: value for key, value in response.headers.items() if key.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=response.content[: len(response.content) // 2])

    target = plant("/rooms/joined", truncate)
    token = target.call(
        "bocco.sessions.create", {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
    ).json()
    with pytest.raises(ContractFailure) as failure:
        target.call("bocco.rooms.joined", credential=Credential({"access_token": token["access_token"]}))
    assert failure.value.endpoint_id == "bocco.rooms.joined"
    assert "not JSON" in str(failure.value)


def test_timeout_fails(plant: Callable[[str, Fault], Target]) -> None:
    def hang(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        raise httpx.ReadTimeout("planted timeout", request=request)

    target = plant("/api/v1/me", hang)
    with pytest.raises(TransportFailure) as failure:
        target.call("rocketchat.me", credential=Credential({"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}))
    assert failure.value.endpoint_id == "rocketchat.me"
    assert "ReadTimeout" in str(failure.value)
    assert "rc-pat-alice" not in str(failure.value)


def test_message_missing_from_history_fails(plant: Callable[[str, Fault], Target]) -> None:
    def drop_newest(body: object) -> object:
        assert isinstance(body, dict)
        body["messages"] = body["messages"][1:]
        return body

    target = plant("/channels.history", rewrite(drop_newest))
    credential = Credential({"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"})
    sent = target.call("rocketchat.chat.sendMessage", {"message": {"rid": "GENERAL", "msg": "kept?"}}, credential=credential).json()
    history = target.call("rocketchat.channels.history", {"roomId": "GENERAL", "count": "50"}, credential=credential).json()
    with pytest.raises(InvariantFailure) as failure:
        readable_exactly_once(
            "rocketchat.channels.history", "messages[]._id", [sent["message"]["_id"]], [item["_id"] for item in history["messages"]]
        )
    assert failure.value.endpoint_id == "rocketchat.channels.history"
    assert "_id" in str(failure.value)


def test_event_delivered_twice_fails(plant: Callable[[str, Fault], Target]) -> None:
    def duplicate(body: object) -> object:
        assert isinstance(body, dict)
        if body.get("events"):
            body["events"] = body["events"] + body["events"][-1:]
        return body

    target = plant("/event/observe", rewrite(duplicate))
    session = lingr_session(target)
    counter = target.call("lingr.room.subscribe", {"room": "lounge"}, credential=session).json()["counter"]
    said = target.call("lingr.room.say", {"room": "lounge", "text": "once"}, credential=session).json()["message"]["id"]
    observed = target.call("lingr.event.observe", {"counter": str(counter)}, credential=session, timeout=5).json()
    delivered = [event["message"]["id"] for event in observed.get("events", []) if "message" in event]
    with pytest.raises(InvariantFailure) as failure:
        delivered_once_in_order("lingr.event.observe", "events[].message.id", [said], delivered)
    assert failure.value.endpoint_id == "lingr.event.observe"
    assert "2 times" in str(failure.value)
