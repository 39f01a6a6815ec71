"""core/router.py: NONE (no such path), PARTIAL (the path, another method: 405), FULL; literal
paths before templated ones; parameters never span a '/'; percent-decoded parameter values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mockserver.core.registry import Endpoint, load_registry
from mockserver.core.router import Match, Router, compile_template

BASE = load_registry().endpoint("gitter.user.me")


def endpoint(endpoint_id: str, *methods: str) -> Endpoint:
    """A stand-in endpoint: the router reads only its methods."""
    return replace(BASE, id=endpoint_id, methods=methods)


ME = endpoint("me", "GET")
ROOM = endpoint("room", "GET")
ROOM_POST = endpoint("room.post", "POST")
FILE = endpoint("file", "GET")
ROUTER = Router([("/rooms/{roomId}", ROOM), ("/rooms/{roomId}", ROOM_POST), ("/rooms/me", ME), ("/files/{name}.{ext}", FILE)])


def test_full_match_of_a_template_with_its_parameters() -> None:
    found = ROUTER.match("GET", "/rooms/abc")
    assert (found.kind, found.endpoint, found.path_params) == (Match.FULL, ROOM, {"roomId": "abc"})
    assert ROUTER.match("POST", "/rooms/abc").endpoint is ROOM_POST


def test_a_literal_path_wins_over_a_template_it_also_matches() -> None:
    found = ROUTER.match("GET", "/rooms/me")
    assert (found.kind, found.endpoint, found.path_params) == (Match.FULL, ME, {})


def test_the_template_still_serves_other_methods_of_a_literal_path() -> None:
    assert ROUTER.match("POST", "/rooms/me").endpoint is ROOM_POST


def test_partial_match_names_the_allowed_methods_once() -> None:
    found = ROUTER.match("DELETE", "/rooms/abc")
    assert (found.kind, found.endpoint, found.allowed) == (Match.PARTIAL, None, ("GET", "POST"))


@pytest.mark.parametrize("path", ["/nowhere", "/rooms", "/rooms/abc/more", "/rooms/", ""])
def test_no_match(path: str) -> None:
    assert ROUTER.match("GET", path).kind is Match.NONE


def test_head_is_served_by_a_get_template() -> None:
    assert ROUTER.match("HEAD", "/rooms/abc").endpoint is ROOM


def test_parameter_values_are_percent_decoded() -> None:
    assert ROUTER.match("GET", "/rooms/a%20b").path_params == {"roomId": "a b"}


def test_a_parameter_before_a_dot_stops_at_the_last_dot() -> None:
    assert ROUTER.match("GET", "/files/archive.tar.gz").path_params == {"name": "archive.tar", "ext": "gz"}


def test_compile_template_escapes_literal_parts() -> None:
    pattern = compile_template("/a.b/{x}")
    assert pattern.match("/a.b/1") is not None
    assert pattern.match("/aXb/1") is None
