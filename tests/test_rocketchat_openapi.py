"""Schemathesis against the mock from Rocket.Chat's *official* OpenAPI files
(RocketChat/Rocket.Chat-Open-API, read in place from ``../shared/reference/rocketchat-openapi``
beside the checkout; skipped when they are not there).

Every operation of those files that the mock serves (same method and path as the mock's own
``/__chatmock/openapi/rocketchat.json``) gets a few generated requests and its own examples, authenticated as alice
(an admin of the default world, reset before each request), checked for two things only: no
server error, and a response body that the official file's schema for that status accepts.
The other Schemathesis checks run in ``tests/test_schemathesis.py`` against the mock's own
document; the official files document few error statuses, so status and negative-data checks
would only restate that.

Where the official file is wrong and the mock follows the server's source, the schema of that
endpoint says why in its ``$comment`` and :data:`WAIVED` excludes exactly that check for
exactly that operation and status, naming the schema that explains it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.testclient import TestClient

from mockserver.app import create_app

OPENAPI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "rocketchat-openapi"
if not OPENAPI.is_dir():
    pytest.skip(f"the official Rocket.Chat OpenAPI files are not beside this checkout ({OPENAPI})", allow_module_level=True)

EXAMPLES = 5  # generated requests per operation (the operations' explicit examples come on top)
APP = create_app(["rocketchat"], strict=True, root=True)
MOCK = APP.state.chatmock
CLIENT = TestClient(APP)
ALICE_ID, BOB_ID = "aLiCEx3kPq7RtZ2mW", "boBy4Nq8HsK2dYe6T"
ALICE = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": ALICE_ID}
BOB = {"X-Auth-Token": "rc-pat-bob", "X-User-Id": BOB_ID}
DM = "".join(sorted((ALICE_ID, BOB_ID)))
# what a "real" case names, by parameter: the default world's rooms, users and messages, so the
# success responses are checked too (generated values mostly name nothing: a 400)
REAL: dict[str, dict[str, Any]] = {
    "channels": {"roomId": "GENERAL", "rid": "GENERAL", "roomName": "general", "userId": BOB_ID, "username": "bob"},
    "groups": {
        "roomId": "bObPr7vGtK4sQw9Zn",
        "rid": "bObPr7vGtK4sQw9Zn",
        "roomName": "bob-private",
        "userId": ALICE_ID,
        "username": "alice",
    },
    "dm": {"roomId": DM, "rid": DM, "username": "bob"},
}
REAL_ANY = {
    "msgId": "gEnMsg3yL8qR5uSzB", "messageId": "gEnMsg3yL8qR5uSzB", "emoji": "smile", "text": "hello", "msg": "hello",
    "channel": "#general", "_id": "Site_Name", "name": "openapi-room", "email": "new@example.com", "pass": "pw-12345",
    "password": "pw-12345", "usernames": "bob", "tmid": "gEnMsg3yL8qR5uSzB", "lastUpdate": "2020-01-01T00:00:00.000Z",
    "command": "me", "updatedSince": "2020-01-01T00:00:00.000Z",
}  # fmt: skip
METHODS = ("get", "put", "post", "delete", "patch")

# (method, path, status) -> the schema whose $comment explains why the official response
# schema is not followed there (the server's source is)
WAIVED: dict[tuple[str, str, int], str] = {
    ("GET", "/api/v1/settings/{_id}", 200): "rocketchat.settings.get (value: any JSON value, not only boolean)",
}


class _TextDates(yaml.SafeLoader):
    """YAML as JSON reads it: a date in an example stays a string (not a ``datetime``)."""


_TextDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# the server's im.* routes are aliases of dm.* (apps/meteor/app/api/server/v1/im.ts registers
# both names); the official files describe only the dm.* ones, so the im.* are checked by them
ALIASES = {f"/api/v1/im.{name}": f"/api/v1/dm.{name}" for name in ("create", "history", "list", "list.everyone")}


def _served() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation the mock documents for itself."""
    document = CLIENT.get("/__chatmock/openapi/rocketchat.json").json()
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item if method in METHODS}


def _official(served: set[tuple[str, str]]) -> Iterator[tuple[str, Any]]:
    """Each official file, its paths cut down to the operations the mock serves."""
    for file in sorted(OPENAPI.glob("*.yaml")):
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=_TextDates)
        paths: dict[str, Any] = {}
        for alias, path in ALIASES.items():
            if path in raw.get("paths", {}):
                raw["paths"][alias] = raw["paths"][path]
        for path, item in raw.get("paths", {}).items():
            kept = {key: value for key, value in item.items() if key not in METHODS or (key.upper(), path) in served}
            if any(key in METHODS for key in kept):
                paths[path] = kept
        if paths:
            raw["paths"] = paths
            schema = schemathesis.openapi.from_dict(raw)
            schema.app = APP  # before the first call: the transport is chosen once
            yield file.name, schema


def _area(path: str) -> str:
    area = path.rsplit("/", 1)[-1].split(".", 1)[0]
    return area if area in REAL else "channels"


def _make_real(case: Case) -> None:
    """Replace every parameter value the world has a real counterpart for (in place)."""
    real = {**REAL_ANY, **REAL[_area(case.operation.path)]}
    for part in (case.path_parameters, case.query, case.body):
        if isinstance(part, dict):
            for key in part:
                if key in real:
                    part[key] = real[key]


def _call(case: Case, real: bool) -> Any:
    """Send the case to the mock (a fresh default world first) as alice, or as bob for
    groups.* (the default world's private group is bob's)."""
    MOCK.reset(None)
    if real:
        _make_real(case)
    return case.call(base_url="http://testserver", headers=BOB if _area(case.operation.path) == "groups" else ALICE)


def _cases() -> list[tuple[str, Any]]:
    served = _served()
    found = []
    for name, schema in _official(served):
        for result in schema.get_all_operations():
            operation = result.ok()
            found.append((f"{name}:{operation.method.upper()} {operation.path}", operation))
    return found


OPERATIONS = _cases()


def test_every_served_operation_is_in_the_official_files() -> None:
    """The few the official files lack are named here (and why): nothing else is left out silently."""
    covered = {label.split(":", 1)[1] for label, _ in OPERATIONS}
    missing = {f"{method} {path}" for method, path in _served()} - covered
    assert missing == NOT_IN_OFFICIAL_FILES


# served, but no official file describes them (with the reason)
NOT_IN_OFFICIAL_FILES = {
    "GET /api/info",  # the public /api/info is not in the files (only the server's source: api/server/default/info.ts)
    "GET /api/v1/info",  # removed in 4.0; the files describe current servers
    "GET /api/v1/logout",  # the files document POST only; the server's route is GET and POST (clients.md section 5)
    "POST /api/v1/rooms.upload/{rid}",  # removed in 8.0; the files describe current servers
    "GET /file-upload/{fileId}/{name}",  # the download route of uploads is not in the files
    "POST /hooks/{integrationId}/{token}",  # the incoming webhook route is not in the files (api.ts of the integrations app)
}


def _check(operation: Any, case: Case, real: bool) -> None:
    response = _call(case, real)
    checks: list[Any] = [not_a_server_error]
    if (operation.method.upper(), operation.path, response.status_code) not in WAIVED:
        checks.append(response_schema_conformance)
    case.validate_response(response, checks=checks)


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[label for label, _ in OPERATIONS])
def test_official_openapi(label: str, operation: Any) -> None:
    """Generated requests (half of them naming the world's real rooms, users and messages),
    then each of the operation's own examples once, as the official file gives it."""

    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Case, real: bool) -> None:
        _check(operation, case, real)

    run()
    for example in operation.schema.get_strategies_from_examples(operation):

        @given(case=example)
        @settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run_example(case: Case) -> None:
            _check(operation, case, False)

        run_example()
