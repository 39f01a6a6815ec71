"""The pytest plugin, as a bot author's own test suite sees it (inline runs with pytester)."""

from __future__ import annotations

import json

import pytest

from mockserver.core.registry import load_registry

pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
{extra}
"""


@pytest.fixture(scope="module", autouse=True)
def _warm_registry() -> None:
    """Load the schemas once here: pytester drops the modules an inline run imports, not these."""
    import mockserver.app
    import mockserver.respx_routing  # noqa: F401

    load_registry()


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI.format(extra=""))
    return pytester


def test_the_fixtures_give_a_running_reset_mock_with_urls_and_credentials(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_bot="""
        import re
        import httpx

        ORIGINS = set()

        def test_urls_follow_the_readme_table(chatmock, chatmock_urls):
            assert re.fullmatch(r"http://127\\.0\\.0\\.1:\\d+/gitter", chatmock.url("gitter"))
            assert chatmock_urls["gitter"] == chatmock.url("gitter")
            assert chatmock_urls["gitter.stream"] == chatmock.url("gitter") + "/stream"
            assert chatmock_urls["rocketchat"] == chatmock.origin + "/rocketchat"
            assert chatmock_urls["lingr"] == chatmock_urls["lingr.observe"] == chatmock.origin + "/lingr"
            assert chatmock_urls["bocco"] == chatmock.origin + "/bocco"
            ORIGINS.add(chatmock.origin)

        def test_a_bot_posts_with_the_default_credentials(chatmock, chatmock_credentials):
            token = chatmock.credentials("gitter", "alice")["token"]
            assert token == chatmock_credentials["gitter"]["alice"]["token"] == "gitter-token-alice"
            headers = {"Authorization": f"Bearer {token}"}
            room = httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers).json()[0]["id"]
            sent = httpx.post(chatmock.url("gitter") + f"/v1/rooms/{room}/chatMessages", headers=headers, json={"text": "left over"})
            assert sent.status_code == 200
            assert any(entry for entry in chatmock.journal())
            ORIGINS.add(chatmock.origin)

        def test_each_test_starts_from_the_default_world(chatmock):
            assert chatmock.journal() == []
            headers = {"Authorization": "Bearer gitter-token-alice"}
            for room in httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers).json():
                messages = httpx.get(chatmock.url("gitter") + f"/v1/rooms/{room['id']}/chatMessages", headers=headers).json()
                assert all(message["text"] != "left over" for message in messages)
            ORIGINS.add(chatmock.origin)

        def test_one_server_for_the_session():
            assert len(ORIGINS) == 1

        def test_every_api_has_default_credentials(chatmock):
            lingr = chatmock.credentials("lingr", "bob")
            assert lingr == {"user": "bob", "password": "bob-password"}
            assert chatmock.credentials("rocketchat")["user_id"] == "aLiCEx3kPq7RtZ2mW"
            bocco = chatmock.credentials("bocco")
            assert bocco == {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
            login = httpx.post(chatmock.url("lingr") + "/api/session/create", data=lingr).json()
            assert login["status"] == "ok"
            session = httpx.post(chatmock.url("bocco") + "/alpha/sessions", data=bocco)
            assert session.status_code == 200
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=5)


def test_the_seed_marker_loads_a_world_file_beside_the_test(suite: pytest.Pytester) -> None:
    world = {
        "gitter": {
            "users": [{"id": "5f1a11ce00000000000000c1", "username": "carol", "displayName": "Carol", "tokens": ["carol-token"]}],
            "rooms": [],
        }
    }
    suite.makefile(".json", world=json.dumps(world))
    suite.makepyfile(
        test_seeded="""
        import httpx
        import pytest

        @pytest.mark.chatmock_seed("world.json")
        def test_seeded(chatmock, chatmock_credentials):
            assert chatmock.credentials("gitter", "carol") == {"token": "carol-token"}
            assert chatmock_credentials["gitter"] == {"carol": {"token": "carol-token"}}
            assert [user["username"] for user in chatmock.world("gitter")["users"]] == ["carol"]
            me = httpx.get(chatmock.url("gitter") + "/v1/user", headers={"Authorization": "Bearer carol-token"})
            assert me.status_code == 200
            assert me.json()[0]["username"] == "carol"
            with pytest.raises(KeyError):
                chatmock.credentials("gitter", "alice")

        @pytest.mark.chatmock_seed({"lingr": {"users": [{"username": "dave", "password": "pw"}]}})
        def test_seeded_from_a_dict(chatmock):
            assert chatmock.credentials("lingr", "dave") == {"user": "dave", "password": "pw"}

        def test_then_the_default_world_again(chatmock):
            assert chatmock.credentials("gitter", "alice") == {"token": "gitter-token-alice"}
            assert "alice" in [user["username"] for user in chatmock.world("gitter")["users"]]
            chatmock.seed("world.json")
            assert chatmock.credentials("gitter", "carol") == {"token": "carol-token"}

        @pytest.mark.chatmock_seed("missing.json")
        def test_missing_file(chatmock):
            pass
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*FileNotFoundError: chatmock seed file not found*missing.json*"])


def test_a_bad_seed_is_an_error_at_setup(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.chatmock_seed({"gitter": {"users": "not a list"}})
        def test_bad(chatmock):
            pass
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*chatmock POST /__chatmock/seed failed: 400*"])


def test_tests_without_the_fixtures_start_nothing(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_plain="""
        import threading

        import pytest

        BEFORE = {thread.ident for thread in threading.enumerate()}

        @pytest.mark.chatmock_seed("unused.json")
        def test_plain(request):
            assert "chatmock_server" not in request.fixturenames
            started = [thread.name for thread in threading.enumerate() if thread.ident not in BEFORE]
            assert started == []
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1)


def test_ini_options_configure_the_server(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        INI.format(extra="chatmock_strict = true\nchatmock_longpoll_timeout = 1.5\nchatmock_rocketchat_host = chat.example.com")
    )
    pytester.makepyfile(
        test_ini="""
        import httpx

        def test_strict(chatmock):
            assert httpx.get(chatmock.origin + "/__chatmock/health").json()["strict"] is True
            assert chatmock.app.state.chatmock.settings.longpoll_timeout == 1.5
            login = httpx.post(chatmock.origin + "/api/v1/login", headers={"Host": "chat.example.com"}, data=chatmock.credentials("rocketchat"))
            assert login.json()["status"] == "success"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_the_respx_fixture_routes_the_real_hosts(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_respx="""
        import asyncio

        import httpx
        import pytest
        import respx

        @pytest.mark.chatmock_respx(rocketchat_host="chat.example.com")
        def test_routed(chatmock_respx, chatmock_app):
            rooms = httpx.get("https://api.gitter.im/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
            assert rooms.status_code == 200
            login = httpx.post("https://chat.example.com/api/v1/login", data={"user": "alice", "password": "alice-password"})
            assert login.json()["status"] == "success"
            assert chatmock_respx["chatmock"].call_count == 2
            assert chatmock_app.state.chatmock.journal.entries()

        def test_async_client(chatmock_respx):
            async def main():
                async with httpx.AsyncClient() as client:
                    return await client.post("http://lingr.com/api/session/create", data={"user": "alice", "password": "alice-password"})
            assert asyncio.run(main()).json()["status"] == "ok"

        def test_other_hosts_stay_blocked(chatmock_respx):
            with pytest.raises(respx.models.AllMockedAssertionError):
                httpx.get("https://example.com/")
            with pytest.raises(respx.models.AllMockedAssertionError):
                httpx.get("https://chat.example.com/api/v1/info")

        @pytest.mark.chatmock_seed({"lingr": {"users": [{"username": "dave", "password": "pw"}]}})
        def test_seeded_app(chatmock_respx):
            made = httpx.post("http://lingr.com/api/session/create", data={"user": "dave", "password": "pw"})
            assert made.json()["status"] == "ok"
            gitter = httpx.get("https://api.gitter.im/v1/rooms", headers={"Authorization": "Bearer gitter-token-alice"})
            assert gitter.status_code == 401
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=4)


def test_each_xdist_worker_gets_its_own_mock(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pytest -n 2``: one server per worker, on its own port, seeded and reset independently."""
    suite.makepyfile(
        test_workers="""
        import os
        from pathlib import Path

        import httpx
        import pytest

        OUT = Path(os.environ["CHATMOCK_TEST_OUT"])

        @pytest.mark.parametrize("turn", range(8))
        def test_a_worker_owns_its_world(chatmock, turn):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            (OUT / f"{worker}.origin").write_text(chatmock.origin)
            token = chatmock.credentials("gitter", "alice")["token"]
            headers = {"Authorization": f"Bearer {token}"}
            room = httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers).json()[0]["id"]
            url = chatmock.url("gitter") + f"/v1/rooms/{room}/chatMessages"
            httpx.post(url, headers=headers, json={"text": f"{worker} {turn}"})
            texts = [message["text"] for message in httpx.get(url, headers=headers).json()]
            assert [text for text in texts if text.startswith("gw") or text.startswith("main")] == [f"{worker} {turn}"]
        """
    )
    out = suite.path / "origins"
    out.mkdir()
    monkeypatch.setenv("CHATMOCK_TEST_OUT", str(out))
    result = suite.runpytest("-n", "2")
    result.assert_outcomes(passed=8)
    origins = {file.stem: file.read_text() for file in out.iterdir()}
    assert sorted(origins) == ["gw0", "gw1"]
    assert len(set(origins.values())) == 2, "each worker has its own server on its own port"


def test_fault_rules_on_the_fixture_apply_and_end_with_the_test(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_faulty="""
        import httpx

        def test_a_rate_limit_then_normal(chatmock):
            headers = {"Authorization": "Bearer " + chatmock.credentials("gitter", "alice")["token"]}
            rule = chatmock.fault("rate_limit", endpoint="gitter.rooms.list", retry_after=3)
            assert rule["action"] == "rate_limit" and rule["left"] == 1
            limited = httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers)
            assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
            assert httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers).status_code == 200
            assert [(rule["applied"], rule["left"]) for rule in chatmock.faults()] == [(1, 0)]
            assert chatmock.journal()[-2]["fault"] == "#%d rate_limit" % rule["id"]
            chatmock.fault("server_error", api="gitter", user="bob", times=None)

        def test_the_next_test_has_no_rule(chatmock):
            assert chatmock.faults() == []
            headers = {"Authorization": "Bearer " + chatmock.credentials("gitter", "bob")["token"]}
            assert httpx.get(chatmock.url("gitter") + "/v1/rooms", headers=headers).status_code == 200
        """
    )
    suite.runpytest_inprocess("-q").assert_outcomes(passed=2)
