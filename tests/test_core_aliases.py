"""Server aliases and optional trailing slashes, declared in an API's ``_api.json``
(``servers[].aliases``, ``trailingSlash``) and applied by core/dispatch.py: Gitter answers
``https://gitter.im/api/v1/...`` as ``https://api.gitter.im/v1/...``, and Express's
non-strict router lets ``/v1/rooms/`` be ``/v1/rooms``; an API that declares neither keeps
strict paths."""

from __future__ import annotations

import pytest
from mock_support import REGISTRY
from starlette.testclient import TestClient

from mockserver.app import create_app

ALICE = {"Authorization": "Bearer gitter-token-alice"}


def test_gitter_declares_the_gitter_im_alias_and_optional_slashes() -> None:
    rest = REGISTRY.api("gitter").server("rest")
    assert rest.aliases == ("https://gitter.im/api",)
    assert REGISTRY.api("gitter").trailing_slash_optional
    assert not REGISTRY.api("rocketchat").trailing_slash_optional


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("gitter.im", "/api/v1/user/me"),  # the alias host, with the alias path
        ("127.0.0.1", "/gitter/api/v1/user/me"),  # under the prefix, with the alias path
        ("api.gitter.im", "/v1/user/me"),  # the real host, as before
        ("api.gitter.im", "/v1/user/me/"),  # one trailing slash ignored
        ("gitter.im", "/api/v1/user/me/"),
    ],
)
def test_gitter_answers_its_alias_and_a_trailing_slash(host: str, path: str) -> None:
    with TestClient(create_app()) as client:
        response = client.get(path, headers={**ALICE, "Host": host})
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "alice"


def test_served_alone_the_alias_path_is_at_the_root() -> None:
    with TestClient(create_app(["gitter"])) as client:
        assert client.get("/api/v1/user/me", headers=ALICE).json()["username"] == "alice"
        assert client.get("/v1/user/me", headers=ALICE).json()["username"] == "alice"


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.gitter.im", "/v1/user/me//"),  # only one slash is optional
        ("gitter.im", "/v1/user/me"),  # the alias host serves the alias path only
        ("api.gitter.im", "/api/v1/user/me"),  # and the real host its own
    ],
)
def test_what_the_real_gitter_would_not_route_stays_404(host: str, path: str) -> None:
    with TestClient(create_app()) as client:
        response = client.get(path, headers={**ALICE, "Host": host})
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_a_trailing_slash_under_a_strict_api_stays_its_404() -> None:
    rc_alice = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
    with TestClient(create_app()) as client:
        assert client.get("/rocketchat/api/v1/me", headers=rc_alice).status_code == 200
        response = client.get("/rocketchat/api/v1/me/", headers=rc_alice)
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_a_trailing_slash_keeps_the_405_of_a_wrong_method() -> None:
    with TestClient(create_app()) as client:
        response = client.put("/gitter/v1/user/me/", headers=ALICE)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
