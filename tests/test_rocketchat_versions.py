"""The Rocket.Chat version profile chosen by a seed (``{"rocketchat": {"version": ...}}``) and by
the pytest plugin (ini ``chatmock_rocketchat_version``, marker ``chatmock_rocketchat_version``):
each documented difference on both sides of it, as tests/test_rocketchat_shapes.py checks
them for ``--rocketchat-version`` (``api_options``)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from test_pytest_plugin import INI  # the same strict pytester ini

from mockserver.app import create_app
from mockserver.core.registry import load_registry

pytest_plugins = ["pytester"]

ALICE_ID, BOB_ID = "aLiCEx3kPq7RtZ2mW", "boBy4Nq8HsK2dYe6T"
ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}
NOT_LOGGED_IN = "You must be logged in to do this."
FORM_LOGIN = {"user": "alice", "password": "alice-password"}
UPLOAD = {"file": ("a.txt", b"x", "text/plain")}


def seeded(version: str | None, **options: Any) -> TestClient:
    """A client of a mock whose Rocket.Chat world is the default one with this ``version``."""
    client = TestClient(create_app(["rocketchat"], strict=True, **options))
    if version is not None:
        world = client.get("/__chatmock/seed").json()["seed"]
        world["rocketchat"]["version"] = version
        assert client.post("/__chatmock/seed", json=world).status_code == 200
    return client


def test_form_logins_by_seeded_version() -> None:
    for version, status in (("7.5.0", 200), ("7.6.0", 401), (None, 200)):
        assert seeded(version).post("/api/v1/login", data=FORM_LOGIN).status_code == status, version


def test_401_bodies_and_login_reply_by_seeded_version() -> None:
    assert seeded("6.13.0").get("/api/v1/me").json() == {"status": "error", "message": NOT_LOGGED_IN}
    assert seeded("7.5.0").get("/api/v1/me").json() == {
        "success": False,
        "error": NOT_LOGGED_IN,
        "status": "error",
        "message": NOT_LOGGED_IN,
    }
    assert seeded("8.0.0").get("/api/v1/me").json() == {"success": False, "error": NOT_LOGGED_IN}
    assert "success" not in seeded("6.13.0").post("/api/v1/login", json=FORM_LOGIN).json()
    assert seeded("7.0.0").post("/api/v1/login", json=FORM_LOGIN).json()["success"] is True


def test_info_upload_and_create_token_by_seeded_version() -> None:
    old = seeded("3.18.0")
    assert old.get("/api/v1/info").json() == {"version": "3.18.0"}
    assert old.get("/api/info").json() == {"version": "3.18.0", "success": True}
    assert seeded("4.0.0").get("/api/v1/info").status_code == 404
    assert seeded("7.10.0").post("/api/v1/rooms.upload/GENERAL", files=UPLOAD, headers=ALICE).status_code == 200
    new = seeded("8.0.0")
    assert new.post("/api/v1/rooms.upload/GENERAL", files=UPLOAD, headers=ALICE).status_code == 404
    assert new.post("/api/v1/users.createToken", json={"userId": BOB_ID}, headers=ALICE).status_code == 400
    assert seeded("7.5.0").post("/api/v1/users.createToken", json={"userId": BOB_ID}, headers=ALICE).status_code == 200


def test_a_seeded_version_wins_over_the_option_until_the_next_reset() -> None:
    client = seeded("6.0.0", api_options={"rocketchat": {"version": "8.0.0"}})
    assert client.get("/api/info").json()["version"] == "6.0.0"
    assert client.get("/__chatmock/seed").json()["seed"]["rocketchat"]["version"] == "6.0.0"
    assert client.post("/__chatmock/reset").status_code == 200
    assert client.get("/api/info").json()["version"] == "8.0.0"
    assert seeded(None).get("/api/info").json()["version"] == "7.5.0"  # neither: the default profile


@pytest.mark.parametrize("version", ["9.0.0", "latest", 7])
def test_an_unknown_seeded_version_is_refused(version: Any) -> None:
    client = TestClient(create_app(["rocketchat"], strict=True))
    refused = client.post("/__chatmock/seed", json={"rocketchat": {"version": version}})
    assert refused.status_code == 400
    assert "$.version" in refused.text
    assert client.get("/api/info").json()["version"] == "7.5.0"  # nothing changed


# the pytest plugin -----------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _warm_registry() -> None:
    """Load the schemas once here: pytester drops the modules an inline run imports, not these."""
    import mockserver.app  # noqa: F401

    load_registry()


def test_plugin_ini_option_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(extra="chatmock_rocketchat_version = 6.0.0"))
    pytester.makepyfile(
        test_versions="""
        import httpx
        import pytest
        from starlette.testclient import TestClient

        FORM = {"user": "alice", "password": "alice-password"}

        def info(chatmock):
            return httpx.get(chatmock.url("rocketchat") + "/api/info").json()["version"]

        def test_the_ini_version(chatmock):
            assert info(chatmock) == "6.0.0"
            login = httpx.post(chatmock.url("rocketchat") + "/api/v1/login", json=FORM).json()
            assert "success" not in login  # before 7.0

        @pytest.mark.chatmock_rocketchat_version("8.0.0")
        def test_the_marker_wins(chatmock):
            assert info(chatmock) == "8.0.0"
            assert httpx.post(chatmock.url("rocketchat") + "/api/v1/login", data=FORM).status_code == 401
            assert chatmock.credentials("rocketchat", "alice")["user"] == "alice"  # the default world, versioned

        @pytest.mark.chatmock_rocketchat_version("7.6.0")
        @pytest.mark.chatmock_seed({"rocketchat": {"users": [{"username": "carol", "password": "pw"}]}})
        def test_the_marker_with_a_seed(chatmock):
            assert info(chatmock) == "7.6.0"
            assert chatmock.world("rocketchat")["users"][0]["username"] == "carol"

        def test_back_to_the_ini_version(chatmock):
            assert info(chatmock) == "6.0.0"

        @pytest.mark.chatmock_rocketchat_version("3.18.0")
        def test_the_marker_in_process(chatmock_app):
            assert TestClient(chatmock_app).get("/rocketchat/api/v1/info").json() == {"version": "3.18.0"}

        def test_the_ini_in_process(chatmock_app):
            assert TestClient(chatmock_app).get("/rocketchat/api/v1/info").status_code == 404  # 6.0: gone since 4.0

        @pytest.mark.chatmock_rocketchat_version(8)
        def test_a_bad_marker(chatmock):
            pass
        """
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(["*chatmock_rocketchat_version takes one argument*"])


def test_plugin_default_profile_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile(
        test_default="""
        import httpx

        def test_default(chatmock):
            assert httpx.get(chatmock.url("rocketchat") + "/api/info").json()["version"] == "7.5.0"
            form = {"user": "alice", "password": "alice-password"}
            assert httpx.post(chatmock.url("rocketchat") + "/api/v1/login", data=form).status_code == 200
        """
    )
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
