"""respx routing: httpx requests for the real API hosts answered by an in-process mock."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from respx.models import AllMockedAssertionError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from contract_tests.server import serve_in_thread
from mockserver import create_app
from mockserver.respx_routing import mock_hosts, route_to_mock

RC_HOST = "chat.example.com"
GITTER = {"Authorization": "Bearer gitter-token-alice"}
LINGR_LOGIN = {"user": "alice", "password": "alice-password"}
BOCCO_LOGIN = {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
RC_LOGIN = {"user": "alice", "password": "alice-password"}


@pytest.fixture
def app() -> Any:
    return create_app(rocketchat_host=RC_HOST, longpoll_timeout=5.0, stream_keepalive=0.2)


@pytest.fixture
def routed(app: Any) -> Iterator[respx.MockRouter]:
    with route_to_mock(None, app, rocketchat_host=RC_HOST) as router:
        yield router


def test_the_routed_hosts_come_from_the_schemas_and_the_named_host(app: Any) -> None:
    assert sorted(mock_hosts(app)) == sorted(
        ["api.gitter.im", "gitter.im", "stream.gitter.im", "ws.gitter.im", "lingr.com", "api.bocco.me", RC_HOST]
    )
    assert mock_hosts(create_app(["lingr"])) == ["lingr.com"]


def test_sync_client_reaches_every_api_at_its_real_url(routed: respx.MockRouter) -> None:
    with httpx.Client(timeout=10) as client:
        rooms = client.get("https://api.gitter.im/v1/rooms", headers=GITTER)
        assert rooms.status_code == 200
        assert {room["name"] for room in rooms.json()} >= {"chatmock/chatmock"}
        assert client.get("https://api.gitter.im/v1/rooms").status_code == 401
        session = client.post("http://lingr.com/api/session/create", data=LINGR_LOGIN).json()
        assert session["status"] == "ok"
        token = client.post("https://api.bocco.me/alpha/sessions", data=BOCCO_LOGIN)
        assert token.status_code == 200
        assert token.json()["access_token"]
        login = client.post(f"https://{RC_HOST}/api/v1/login", data=RC_LOGIN).json()
        assert login["status"] == "success"
        auth = {"X-Auth-Token": login["data"]["authToken"], "X-User-Id": login["data"]["userId"]}
        assert client.get(f"https://{RC_HOST}/api/v1/rooms.get", headers=auth).json()["success"] is True
    assert routed["chatmock"].call_count == 6


def test_async_client_reaches_every_api_at_its_real_url(routed: respx.MockRouter) -> None:
    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            return [
                await client.get("https://api.gitter.im/v1/rooms", headers=GITTER),
                await client.post("http://lingr.com/api/session/create", data=LINGR_LOGIN),
                await client.post("https://api.bocco.me/alpha/sessions", data=BOCCO_LOGIN),
                await client.post(f"https://{RC_HOST}/api/v1/login", data=RC_LOGIN),
            ]

    gitter, lingr, bocco, rocketchat = asyncio.run(main())
    assert gitter.status_code == 200
    assert len(gitter.json()) >= 1
    assert lingr.json()["status"] == "ok"
    assert "access_token" in bocco.json()
    assert rocketchat.json()["status"] == "success"


def test_unmatched_hosts_stay_blocked(routed: respx.MockRouter) -> None:
    with pytest.raises(AllMockedAssertionError):
        httpx.get("https://example.com/")
    with pytest.raises(AllMockedAssertionError):
        httpx.get("https://open.rocket.chat/api/v1/info")

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            await client.get("https://example.com/")

    with pytest.raises(AllMockedAssertionError):
        asyncio.run(main())


def test_a_rocketchat_host_needs_an_app_that_serves_it() -> None:
    with pytest.raises(ValueError, match="rocketchat_host"):
        route_to_mock(None, create_app(["rocketchat"]), rocketchat_host="other.example.com")
    with pytest.raises(TypeError, match="create_app"):
        route_to_mock(None, Starlette())


def _local_app() -> Starlette:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"real server saw {request.url.path}")

    return Starlette(routes=[Route("/hello", hello)])


def test_allowed_hosts_pass_through_to_a_local_server(app: Any) -> None:
    with serve_in_thread(_local_app()) as server:
        with route_to_mock(None, app, allow=[f"127.0.0.1:{server.port}"]):
            assert httpx.get(f"{server.url}/hello").text == "real server saw /hello"
            assert httpx.get("https://api.gitter.im/v1/rooms", headers=GITTER).status_code == 200
            with pytest.raises(AllMockedAssertionError):
                httpx.get(f"http://localhost:{server.port}/hello")

        async def main() -> str:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{server.url}/hello")).text

        with route_to_mock(None, app, allow=["127.0.0.1"]):
            assert asyncio.run(main()) == "real server saw /hello"


def test_routes_join_a_router_of_your_own(app: Any) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get("https://example.com/status").respond(204)
        assert route_to_mock(router, app) is router
        assert httpx.get("https://example.com/status").status_code == 204
        assert httpx.get("https://api.gitter.im/v1/rooms", headers=GITTER).status_code == 200


def test_a_held_long_poll_is_woken_by_a_post_from_an_async_client(routed: respx.MockRouter) -> None:
    async def main() -> tuple[dict[str, Any], float]:
        async with httpx.AsyncClient(timeout=10) as client:
            bob = (await client.post("http://lingr.com/api/session/create", data={"user": "bob", "password": "bob-password"})).json()
            alice = (await client.post("http://lingr.com/api/session/create", data=LINGR_LOGIN)).json()
            subscribed = await client.post("http://lingr.com/api/room/subscribe", data={"session": bob["session"], "room": "lounge"})
            counter = subscribed.json()["counter"]
            started = time.monotonic()
            observe = asyncio.create_task(
                client.get("http://lingr.com:8080/api/event/observe", params={"session": bob["session"], "counter": counter})
            )
            await asyncio.sleep(0.2)
            said = await client.post(
                "http://lingr.com/api/room/say", data={"session": alice["session"], "room": "lounge", "text": "wake up"}
            )
            assert said.json()["status"] == "ok"
            return (await observe).json(), time.monotonic() - started

    body, waited = asyncio.run(main())
    assert [event["message"]["text"] for event in body["events"]] == ["wake up"]
    assert waited < 3.0


def test_a_gitter_stream_is_read_as_it_is_sent(routed: respx.MockRouter) -> None:
    room = httpx.get("https://api.gitter.im/v1/rooms", headers=GITTER).json()[0]["id"]

    def post_later() -> None:
        time.sleep(0.3)
        httpx.post(f"https://api.gitter.im/v1/rooms/{room}/chatMessages", headers=GITTER, json={"text": "streamed"})

    poster = threading.Thread(target=post_later)
    poster.start()
    with httpx.stream("GET", f"https://stream.gitter.im/v1/rooms/{room}/chatMessages", headers=GITTER, timeout=10) as response:
        assert response.status_code == 200
        line = next(line for line in response.iter_lines() if line.strip())
    poster.join()
    assert '"text":"streamed"' in line.replace(" ", "")
