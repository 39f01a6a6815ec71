"""core/dispatch.py through whole apps: where no API is served, unknown routes and methods in
the API's shape, the refine_bad_request hook, failing handlers (the API's 500 shape, no stack
trace), and a handler asking for an error case its endpoint does not document."""

from __future__ import annotations

from typing import Any, cast

import pytest
from mock_support import REGISTRY, MockClient, assert_error_shape
from starlette.testclient import TestClient

from mockserver.apis import API_NAMES
from mockserver.app import create_app
from mockserver.core.call import Call, JsonReply, Problem, Reply

GITTER_ALICE = {"Authorization": "Bearer gitter-token-alice"}
RC_ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}


def test_a_path_no_api_serves_is_a_plain_404() -> None:
    with TestClient(create_app(["gitter", "lingr"])) as client:
        response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "Not Found"


@pytest.mark.parametrize("api", API_NAMES)
def test_an_unknown_path_under_an_api_is_that_apis_not_found(api: str) -> None:
    prefix = REGISTRY.api(api).servers[0].prefix
    with TestClient(create_app(API_NAMES, strict=True)) as client:
        response = client.get(f"{prefix}/no/such/endpoint")
    assert_error_shape(api, response, 200 if api == "lingr" else 404)


def test_a_wrong_method_is_405_with_allow(mock_client: MockClient) -> None:
    client = mock_client("gitter")
    response = client.put("/v1/user/me", headers=GITTER_ALICE)
    assert_error_shape("gitter", response, 405)
    assert response.headers["allow"] == "GET"


def test_bad_parameters_go_through_refine_bad_request(mock_client: MockClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client = mock_client("gitter")
    module = cast(Any, client.app).state.chatmock.modules["gitter"]
    seen: list[tuple[str, str]] = []

    def refine(call: Call, message: str) -> JsonReply | None:
        seen.append((call.endpoint.id, message))
        return JsonReply(400, {"error": "refined"}) if len(seen) == 1 else None

    monkeypatch.setattr(module, "refine_bad_request", refine)
    path = "/v1/rooms/5f2000000000000000000002/chatMessages"
    refined = client.post(path, json={"text": 5}, headers=GITTER_ALICE)
    assert (refined.status_code, refined.json()) == (400, {"error": "refined"})
    plain = client.post(path, json={"text": 5}, headers=GITTER_ALICE)  # the hook declines: the API's own 400
    assert plain.status_code == 400
    assert plain.json()["error"].startswith("invalid parameter text")
    unknown_prefer = client.get(path, headers={**GITTER_ALICE, "Prefer": "code=418"})
    assert unknown_prefer.status_code == 400
    assert [endpoint for endpoint, _ in seen] == ["gitter.rooms.chatMessages.create"] * 2 + ["gitter.rooms.chatMessages.list"]
    assert seen[0][1].startswith("invalid parameter text")
    assert seen[2][1] == "Prefer: code=418: gitter.rooms.chatMessages.list documents no such response"


def test_rocketchat_refines_a_prefer_naming_no_response_of_login(mock_client: MockClient) -> None:
    client = mock_client("rocketchat")
    response = client.post("/api/v1/login", json={"user": "alice", "password": "alice-password"}, headers={"Prefer": "code=418"})
    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "error": "invalid-params",
        "message": "Prefer: code=418: rocketchat.login documents no such response",
    }
    assert "x-chatmock-problem" not in response.headers


SOME_ENDPOINT = {
    "gitter": ("gitter.user.me", "GET", "/v1/user/me", GITTER_ALICE, {}),
    "rocketchat": ("rocketchat.me", "GET", "/api/v1/me", RC_ALICE, {}),
    "lingr": ("lingr.session.create", "POST", "/api/session/create", {}, {"user": "alice", "password": "alice-password"}),
    "bocco": (
        "bocco.sessions.create",
        "POST",
        "/alpha/sessions",
        {},
        {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"},
    ),
}


@pytest.mark.parametrize("api", API_NAMES)
def test_a_failing_handler_is_the_apis_500_without_a_stack_trace(mock_client: MockClient, api: str) -> None:
    client = mock_client(api, strict=False)  # not every API documents a 500
    module: Any = cast(Any, client.app).state.chatmock.modules[api]
    endpoint_id, method, path, headers, data = SOME_ENDPOINT[api]

    async def broken(call: Call) -> Reply:
        raise RuntimeError("internal detail 7f3a")

    module.handlers[endpoint_id] = broken
    response = client.request(method, path, headers=headers, data=data)
    expected = module.error(Problem.INTERNAL, "chatmock failed to handle this request")
    assert (response.status_code, response.json()) == (expected.status, expected.body)
    assert REGISTRY.api(api).error_checker.errors(response.json()) == []
    assert "Traceback" not in response.text
    assert "7f3a" not in response.text


def test_an_undocumented_error_case_is_the_apis_shape_for_it(mock_client: MockClient) -> None:
    """A shared helper asking for a case its caller's endpoint does not document answers the
    API's shape for that status and code (here a 400 rocketchat.me documents, without this code)."""
    client = mock_client("rocketchat")
    api: Any = cast(Any, client.app).state.chatmock.modules["rocketchat"]

    async def me_in_a_channel(call: Call) -> Reply:
        call.params = {"roomId": "no-such-room"}
        api._channel(call, call.principal)  # documents error-room-not-found for channels.* only
        return JsonReply(200, {})

    api.handlers["rocketchat.me"] = me_in_a_channel
    response = client.get("/api/v1/me", headers=RC_ALICE)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "error-room-not-found [error-room-not-found]",
        "errorType": "error-room-not-found",
    }


def test_an_undocumented_error_status_is_reported_by_strict_mode_naming_the_endpoint() -> None:
    app = create_app(["gitter"], strict=True)
    api: Any = app.state.chatmock.modules["gitter"]

    async def not_found(call: Call) -> Reply:
        return api.documented(call.endpoint, 404)  # gitter.user.me documents no 404

    api.handlers["gitter.user.me"] = not_found
    with TestClient(app) as client:
        response = client.get("/v1/user/me", headers=GITTER_ALICE)
    assert response.status_code == 500
    assert response.json()["violations"] == ["gitter.user.me: status 404 is not documented"]
    lenient = create_app(["gitter"])
    lenient.state.chatmock.modules["gitter"].handlers["gitter.user.me"] = not_found
    with TestClient(lenient) as client:
        response = client.get("/v1/user/me", headers=GITTER_ALICE)
    assert (response.status_code, response.json()) == (404, {"error": "Not Found"})


def test_a_secret_in_the_path_is_redacted_in_the_journal_even_percent_encoded() -> None:
    from mockserver.core.dispatch import _redacted_path

    assert _redacted_path("/api/hooks/hookId1/tok%2Fen", ["tok/en"]) == "/api/hooks/hookId1/[REDACTED]"
    assert _redacted_path("/api/hooks/tok/tok", ["tok"]) == "/api/hooks/[REDACTED]/[REDACTED]"
    assert _redacted_path("/api/hooks/id/x", [""]) == "/api/hooks/id/x"  # an empty value hides nothing
