"""Robustness of the mock against hostile clients.

* Fuzzing (hypothesis) of every endpoint of every API, taken from the registry: random byte
  bodies, wrong content types, hostile JSON and form values (unicode, control characters,
  deep nesting), repeated and undecodable parameters, wrong methods and path tricks. No
  answer is a 5xx and every error is in the API's own shape (Lingr: HTTP 200 + status error
  + application/javascript). Requests go straight to the ASGI app with a hand-built scope, so
  paths and query strings reach it byte for byte, as uvicorn would pass them.
* The body limit: a body just over 1 MiB is refused with 413 in the API's shape without
  being read to the end.
* Concurrency: 20 clients x 50 posts into one room of each API; all 1,000 read back.
* Long polls and streams whose clients vanish mid-wait leave no waiter and no task behind.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase
from mock_support import default_world

from contract_tests.server import serve_in_thread
from mockserver.apis import API_NAMES
from mockserver.app import create_app
from mockserver.core.registry import Endpoint, load_registry

REG = load_registry()
ENDPOINTS = sorted(REG.endpoints.values(), key=lambda endpoint: endpoint.id)
LIMIT = 1024 * 1024
LONGPOLL = 0.2
# An explicit (in-memory) example database: hypothesis' pytest plugin wraps a parametrized
# test's settings once per invocation, and with no database (the CI profile) each wrapper asks
# the whole chain again, so past about 950 invocations of one test a RecursionError ends it.
FUZZ = settings(
    max_examples=4,
    deadline=None,
    database=InMemoryExampleDatabase(),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
PREFIXES = {REG.api(name).servers[0].prefix: name for name in API_NAMES}

# ids of the default worlds (mockserver/apis/<api>/world.json) that make a path resolve
VALID_PATH = {
    "roomId": "5f2000000000000000000002",
    "messageId": "5f3000000000000000000201",
    "chatMessageId": "5f3000000000000000000203",
    "userId": "5f1a11ce0000000000000001",
    "room_id": "FA000000-0000-4000-8000-000000000001",
    "message_id": "1002",
    "unique_id": "1DB34B93-0DFA-4150-AEF5-CBED1F820003",
    "extname": "m4a",
    "id": "1003",
    "ext": "m4a",
    "rid": "GENERAL",  # Rocket.Chat rooms.upload / rooms.media / rooms.mediaConfirm
    "fileId": "chatmockNoSuchFile1",
    "name": "chatmock.txt",
    "_id": "Site_Name",  # Rocket.Chat settings/:_id
    "integrationId": "chatmockNoSuchHook1",  # Rocket.Chat /hooks/:integrationId/:token (an unknown hook: its 400)
    "token": "chatmock-no-such-token",
}


def default_worlds(**overrides: dict[str, Any]) -> dict[str, Any]:
    """The default world of every API as one seed, with top-level overrides per API."""
    world = {name: default_world(name) for name in API_NAMES}
    for name, values in overrides.items():
        world[name].update(values)
    return world


def fuzz_app() -> Any:
    # the Gitter rate limit (100/min per token) would turn most fuzz cases into 429s
    return create_app(strict=True, longpoll_timeout=LONGPOLL, seed=default_worlds(gitter={"rateLimit": 1_000_000}))


# a raw ASGI client -----------------------------------------------------------------------
@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    read: int = 0  # request body bytes the app consumed

    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class RawRequest:
    method: str
    path: str  # raw, percent-encoded, ASCII
    query: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunk: int = 65536
    body_size: int | None = None  # a body of this many zero bytes, generated lazily


async def send_raw(app: Any, request: RawRequest) -> RawResponse:
    """One request through the app, as uvicorn hands it over (``path`` percent-decoded)."""
    raw_path = request.path.encode("ascii")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": unquote(request.path),
        "raw_path": raw_path,
        "query_string": request.query,
        "root_path": "",
        "headers": [(name.lower().encode("latin-1"), value.encode("utf-8")) for name, value in request.headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    total = request.body_size if request.body_size is not None else len(request.body)
    sent = 0
    done = asyncio.Event()
    response = RawResponse(0, {}, b"")
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent < total:
            size = min(request.chunk, total - sent)
            data = bytes(size) if request.body_size is not None else request.body[sent : sent + size]
            sent += size
            response.read = sent
            return {"type": "http.request", "body": data, "more_body": sent < total}
        if total == 0 and sent == 0:
            sent = -1
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    response.body = b"".join(parts)
    return response


def api_of(path: str) -> str | None:
    decoded = unquote(path)
    for prefix, name in sorted(PREFIXES.items(), key=lambda item: -len(item[0])):
        if decoded == prefix or decoded.startswith(prefix + "/"):
            return name
    return None


_JSONP = re.compile(rb"^[A-Za-z_$][A-Za-z0-9_$.]*\((.*)\)$", re.DOTALL)


def assert_sane(api: str | None, request: RawRequest, response: RawResponse) -> None:
    """No 5xx; every error in the API's documented shape, status and content type."""
    where = f"{request.method} {request.path[:200]}?{request.query[:200]!r} -> {response.status} {response.body[:300]!r}"
    assert 100 <= response.status < 500, where
    if api is None or request.method == "HEAD":
        return
    record = REG.api(api)
    content = response.body
    if api == "lingr":
        assert response.status == 200, f"lingr answers every request with HTTP 200: {where}"
        wrapped = _JSONP.match(content)
        if wrapped is not None:
            content = wrapped.group(1)
    elif response.status < 400:
        return  # a success: strict mode has checked it against its schema (or answered 500)
    if response.status >= 400 or api == "lingr":
        body = json.loads(content)
        if api == "lingr" and body.get("status") != "error":
            return
        assert response.media_type() == record.content_type.split(";")[0], where
        assert record.error_checker.errors(body) == [], where


# credentials -------------------------------------------------------------------------------
@dataclass
class Auth:
    headers: dict[str, str]
    params: dict[str, str]


class Fuzzer:
    """The app, an event loop to run it on, and a valid credential of alice per API."""

    def __init__(self) -> None:
        self.app = fuzz_app()
        self.runner = asyncio.Runner()
        self.auth = {
            "gitter": Auth({"Authorization": "Bearer gitter-token-alice"}, {}),
            "rocketchat": Auth({"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}, {}),
            "lingr": Auth({}, {"session": self._login("/lingr/api/session/create", {"user": "alice", "password": "alice-password"})}),
            "bocco": Auth(
                {},
                {
                    "access_token": self._login(
                        "/bocco/alpha/sessions", {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
                    )
                },
            ),
        }

    def _login(self, path: str, params: dict[str, str]) -> str:
        form = [("content-type", "application/x-www-form-urlencoded")]
        response = self.send(RawRequest("POST", path, headers=form, body=urlencode(params).encode()))
        body = json.loads(response.body)
        return str(body.get("session") or body["access_token"])

    def send(self, request: RawRequest) -> RawResponse:
        return self.runner.run(send_raw(self.app, request))

    def check(self, request: RawRequest) -> RawResponse:
        response = self.send(request)
        assert_sane(api_of(request.path), request, response)
        return response

    def close(self) -> None:
        self.runner.close()


@pytest.fixture(scope="module")
def fuzzer() -> Iterator[Fuzzer]:
    instance = Fuzzer()
    try:
        yield instance
    finally:
        instance.close()


# strategies -------------------------------------------------------------------------------------
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\r\n",
        "\u202e\u0000\ufeff",
        "../../etc/passwd",
        "%00",
        "%",
        "💥" * 50,
        "a" * 5000,
        "null",
        "[]",
        "{}",
        "NaN",
        "-1",
        "0",
        "1e309",
        "99999999999999999999999999",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "$where",
        "__proto__",
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=40), st.text(st.characters(max_codepoint=0x1F), max_size=10))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/xml",
        "application/json; charset=utf-16",
        "application/octet-stream",
        "image/png",
        "garbage/\u00e9",
        "",
    ]
)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]


def names(endpoint: Endpoint) -> list[str]:
    schema = endpoint.params_schema or {}
    found = list(schema.get("properties", {}))
    if endpoint.auth is not None and endpoint.auth.param:
        found.append(endpoint.auth.param)
    return found or ["x"]


def keys(endpoint: Endpoint) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(names(endpoint)), TEXT)


def served(endpoint: Endpoint, values: dict[str, str] | None = None) -> str:
    """The percent-encoded path; path parameters from ``values`` or the default world."""
    path = endpoint.served_path()
    for name in endpoint.path_params:
        value = (values or {}).get(name)
        if value is None:
            # a stream with a real room would never end: streams get an unknown room
            value = "0" * 24 if endpoint.kind == "stream" else VALID_PATH[name]
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def authed(fuzzer: Fuzzer, endpoint: Endpoint, headers: list[tuple[str, str]], pairs: list[tuple[str, str]]) -> None:
    auth = fuzzer.auth[endpoint.api]
    headers.extend(auth.headers.items())
    pairs.extend(auth.params.items())


def query_of(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode("ascii")


# the fuzz cases -------------------------------------------------------------------------------------
def case_bytes(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """Random bytes as the body, under a random (often wrong) content type."""
    headers: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    authed(fuzzer, endpoint, headers, pairs)
    kind = data.draw(CONTENT_TYPES, "content type")
    if kind is not None:
        headers.append(("content-type", kind))
    body = data.draw(
        st.binary(max_size=512) | st.sampled_from([b"\xff\xfe\x00", b"{", b'{"a":', b"[1,2", b"a=%ZZ&b", b"--xyz\r\n"]), "body"
    )
    return RawRequest(data.draw(st.sampled_from(endpoint.methods)), served(endpoint), query_of(pairs), headers, body)


def case_json(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """A JSON body: hostile values under the endpoint's own parameter names, or not an object."""
    headers: list[tuple[str, str]] = [("content-type", "application/json")]
    pairs: list[tuple[str, str]] = []
    authed(fuzzer, endpoint, headers, pairs)
    value = data.draw(
        st.one_of(
            st.dictionaries(keys(endpoint), JSON_VALUES, max_size=5), JSON_VALUES, st.sampled_from([1, 2, 64, 300, 1025, 4000]).map(nested)
        ),
        "json",
    )
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return RawRequest(data.draw(st.sampled_from(endpoint.methods)), served(endpoint), query_of(pairs), headers, body)


def nested(depth: int) -> bytes:
    """A JSON object nested ``depth`` deep under a real parameter name."""
    return b'{"text":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def case_params(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """Hostile values, repeated names, in the query string or a form body."""
    headers: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    authed(fuzzer, endpoint, headers, pairs)
    extra = data.draw(st.lists(st.tuples(keys(endpoint), TEXT), max_size=6), "params")
    repeat: bool = data.draw(st.booleans(), "repeat")
    if extra and repeat:
        extra.append(extra[0])
    pairs.extend((key, value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")) for key, value in extra)
    method = data.draw(st.sampled_from(endpoint.methods))
    if method != "GET" and data.draw(st.booleans(), "in body"):
        headers.append(("content-type", "application/x-www-form-urlencoded"))
        return RawRequest(method, served(endpoint), b"", headers, query_of(pairs))
    return RawRequest(method, served(endpoint), query_of(pairs), headers)


def case_query(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """Query strings no form encoder would produce: broken escapes, bare separators, bytes."""
    headers: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    authed(fuzzer, endpoint, headers, pairs)
    raw = data.draw(
        st.sampled_from([b"%ff%fe=1", b"a=%zz", b"&&&==&", b"=", b"a", b"a=1&a=2", b"%00=%00", b"a[]=1&a[]=2", b"a=%C0%AF", b"+++=+"])
        | st.binary(max_size=64).map(lambda value: quote(value, safe="=&%").encode()),
        "query",
    )
    query = query_of(pairs) + b"&" + raw
    return RawRequest(data.draw(st.sampled_from(endpoint.methods)), served(endpoint), query, headers)


def case_method(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """Any method, documented or not."""
    headers: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    if data.draw(st.booleans(), "with auth"):
        authed(fuzzer, endpoint, headers, pairs)
    return RawRequest(data.draw(st.sampled_from(METHODS), "method"), served(endpoint), query_of(pairs), headers)


TRICKS = st.sampled_from(["..", "%2e%2e", "%2E%2E/%2e%2e", ".", "", "%2f", "a%2fb", "%00", "%25", "..%2f..%2f", "%c0%ae%c0%ae", "~", "%20"])


def case_path(fuzzer: Fuzzer, endpoint: Endpoint, data: st.DataObject) -> RawRequest:
    """Dot segments, encoded slashes, doubled slashes, hostile path values, very long paths."""
    headers: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    authed(fuzzer, endpoint, headers, pairs)
    values = {name: data.draw(TEXT, name) for name in endpoint.path_params if data.draw(st.booleans())}
    segments = served(endpoint, values).split("/")
    trick = data.draw(st.integers(0, 4), "trick")
    if trick == 0:
        segments.insert(data.draw(st.integers(1, len(segments))), data.draw(TRICKS))
    elif trick == 1:
        segments[data.draw(st.integers(1, len(segments) - 1))] = data.draw(TRICKS)
    elif trick == 2:
        segments.append(data.draw(st.sampled_from(["", "/", "//", "..", "%2f"])))
    elif trick == 3:
        segments.insert(data.draw(st.integers(1, len(segments))), "a" * data.draw(st.sampled_from([256, 4096, 65536])))
    path = "/".join(segments)
    if trick == 4:
        path = "/" + path  # //prefix/...
    return RawRequest(data.draw(st.sampled_from([*endpoint.methods, "GET"])), path, query_of(pairs), headers)


CASES: dict[str, Callable[[Fuzzer, Endpoint, st.DataObject], RawRequest]] = {
    "bytes": case_bytes,
    "json": case_json,
    "params": case_params,
    "query": case_query,
    "method": case_method,
    "path": case_path,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.id for endpoint in ENDPOINTS])
@FUZZ
@given(data=st.data())
def test_hostile_requests_get_api_shaped_answers(fuzzer: Fuzzer, endpoint: Endpoint, case: str, data: st.DataObject) -> None:
    request = CASES[case](fuzzer, endpoint, data)
    fuzzer.check(request)


# fixed hostile cases ---------------------------------------------------------------------------------
def some(api: str, *, body: bool = False) -> Endpoint:
    """An endpoint of ``api`` (taking a body when ``body``), the first by id."""
    for endpoint in REG.endpoints_of(api):
        if endpoint.kind in ("json", "binary") and (not body or set(endpoint.params_in) & {"json", "form", "multipart"}):
            return endpoint
    raise LookupError(api)


@pytest.mark.parametrize("api", API_NAMES)
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_body_over_limit_refused_without_reading_it_all(fuzzer: Fuzzer, api: str, declared: bool) -> None:
    endpoint = some(api, body=True)
    kind = "application/json" if "json" in endpoint.params_in else "application/x-www-form-urlencoded"
    size = LIMIT + 1 if declared else 16 * LIMIT
    headers = [("content-type", kind), *fuzzer.auth[api].headers.items()]
    if declared:
        headers.append(("content-length", str(size)))
    request = RawRequest(endpoint.method, served(endpoint), query_of(list(fuzzer.auth[api].params.items())), headers, body_size=size)
    response = fuzzer.check(request)
    body = json.loads(response.body)
    if api == "lingr":
        assert body["status"] == "error", body
    else:
        assert response.status == 413, body
    if declared:
        assert response.read == 0, "a declared oversize body is refused before it is read"
    else:
        assert response.read <= LIMIT + request.chunk, f"read {response.read} bytes of a {size}-byte body"


@pytest.mark.parametrize("api", API_NAMES)
@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000, nested(5000), nested(300), b'{"a":' + b"1" * 100_000 + b"}", b'{"\\ud800": "\\udfff"}', b'{"text": 1e400}'],
    ids=["brackets", "nested-5000", "nested-300", "long-number", "lone-surrogates", "huge-float"],
)
def test_deep_and_odd_json(fuzzer: Fuzzer, api: str, body: bytes) -> None:
    endpoint = some(api, body=True)
    headers = [("content-type", "application/json"), *fuzzer.auth[api].headers.items()]
    fuzzer.check(RawRequest(endpoint.method, served(endpoint), query_of(list(fuzzer.auth[api].params.items())), headers, body))


@pytest.mark.parametrize("api", API_NAMES)
def test_paths_outside_every_endpoint(fuzzer: Fuzzer, api: str) -> None:
    prefix = REG.api(api).servers[0].prefix
    for path in (prefix, prefix + "/", prefix + "//", prefix + "/%2e%2e/%2e%2e/etc/passwd", prefix + "/" + "x/" * 5000, prefix + "/%ff"):
        for method in ("GET", "POST", "DELETE"):
            fuzzer.check(RawRequest(method, path))
    fuzzer.check(RawRequest("GET", "/" + "a" * 100_000))
    fuzzer.check(RawRequest("GET", "/__chatmock/../gitter/v1/user"))


@pytest.mark.parametrize("api", API_NAMES)
def test_newline_in_path(fuzzer: Fuzzer, api: str) -> None:
    endpoint = next(endpoint for endpoint in REG.endpoints_of(api) if endpoint.kind == "json")
    path = endpoint.served_path().rsplit("/", 1)[0] + "/a%0Ab"
    response = fuzzer.check(RawRequest("GET", path, headers=list(fuzzer.auth[api].headers.items())))
    assert response.media_type() == REG.api(api).content_type.split(";")[0], response.body


@pytest.mark.parametrize("api", ["gitter", "rocketchat"])  # the APIs taking JSON bodies
def test_deeply_nested_json_is_refused_and_journalled(api: str) -> None:
    app = fuzz_app()
    endpoint = some(api, body=True)
    auth = {
        "gitter": [("authorization", "Bearer gitter-token-alice")],
        "rocketchat": [("x-auth-token", "rc-pat-alice"), ("x-user-id", "aLiCEx3kPq7RtZ2mW")],
    }
    request = RawRequest(endpoint.method, served(endpoint), b"", [("content-type", "application/json"), *auth[api]], nested(900))
    response = asyncio.run(send_raw(app, request))
    assert_sane(api, request, response)
    assert response.status == 400  # deeper than the parser's nesting limit: refused before anything is stored
    entry = app.state.chatmock.journal.entries()[-1]
    assert (entry["path"], entry["status"]) == (served(endpoint), 400)


# concurrency ------------------------------------------------------------------------------------------
CLIENTS = 20
PER_CLIENT = 50


@dataclass
class Room:
    """How to post into one room of an API and read everything back."""

    post: Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]
    read: Callable[[httpx.AsyncClient], Awaitable[list[tuple[str, str]]]]  # (id, text), in the API's order
    order: str  # "oldest-first" or "newest-first"


async def _session(http: httpx.AsyncClient, path: str, params: dict[str, str], key: str) -> str:
    response = await http.post(path, data=params)
    return str(response.json()[key])


async def rooms(http: httpx.AsyncClient) -> dict[str, Room]:
    gitter = {"Authorization": "Bearer gitter-token-alice"}
    gitter_room = "/gitter/v1/rooms/5f2000000000000000000002/chatMessages"
    rocket = {"X-Auth-Token": "rc-pat-alice", "X-User-Id": "aLiCEx3kPq7RtZ2mW"}
    sessions = [
        await _session(http, "/lingr/api/session/create", {"user": "alice", "password": "alice-password"}, "session")
        for _ in range(CLIENTS)
    ]
    token = await _session(
        http,
        "/bocco/alpha/sessions",
        {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"},
        "access_token",
    )
    bocco_room = "/bocco/alpha/rooms/FA000000-0000-4000-8000-000000000001/messages"

    async def read_gitter(client: httpx.AsyncClient) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        params = {"limit": "100"}
        while True:
            page = (await client.get(gitter_room, params=params, headers=gitter)).json()
            if not page:
                return found
            found = [(item["id"], item["text"]) for item in page] + found
            params = {"limit": "100", "beforeId": page[0]["id"]}

    async def read_rocket(client: httpx.AsyncClient) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        while True:
            params = {"roomId": "GENERAL", "count": "100", "offset": str(len(found))}
            page = (await client.get("/rocketchat/api/v1/channels.messages", params=params, headers=rocket)).json()["messages"]
            if not page:
                return found
            found += [(item["_id"], item["msg"]) for item in page]

    async def read_lingr(client: httpx.AsyncClient) -> list[tuple[str, str]]:
        params = {"session": sessions[0], "room": "lounge", "before": "999999999999", "limit": "5000"}
        body = (await client.get("/lingr/api/room/get_archives", params=params)).json()
        return [(item["id"], item["text"]) for item in body["messages"]]

    async def read_bocco(client: httpx.AsyncClient) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        newer = "0"
        while True:
            params = {"access_token": token, "newer_than": newer, "read": "0"}
            page = (await client.get(bocco_room, params=params)).json()
            if not page:
                return found
            found += [(str(item["id"]), item["text"]) for item in page]
            newer = str(page[-1]["id"])

    return {
        "gitter": Room(
            lambda client, who, n: client.post(gitter_room, json={"text": f"c{who}-{n}"}, headers=gitter), read_gitter, "oldest-first"
        ),
        "rocketchat": Room(
            lambda client, who, n: client.post(
                "/rocketchat/api/v1/chat.postMessage", json={"roomId": "GENERAL", "text": f"c{who}-{n}"}, headers=rocket
            ),
            read_rocket,
            "newest-first",
        ),
        "lingr": Room(
            lambda client, who, n: client.post(
                "/lingr/api/room/say", data={"session": sessions[who], "room": "lounge", "text": f"c{who}-{n}"}
            ),
            read_lingr,
            "oldest-first",
        ),
        "bocco": Room(
            lambda client, who, n: client.post(
                bocco_room, data={"access_token": token, "unique_id": str(uuid.uuid4()), "media": "text", "text": f"c{who}-{n}"}
            ),
            read_bocco,
            "oldest-first",
        ),
    }


@pytest.mark.parametrize("api", API_NAMES)
def test_concurrent_posts_all_readable_in_order(api: str) -> None:
    app = create_app(strict=True, longpoll_timeout=LONGPOLL, seed=default_worlds(gitter={"rateLimit": 1_000_000}))

    async def scenario() -> list[tuple[str, str]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            room = (await rooms(http))[api]

            async def client(who: int) -> None:
                for n in range(PER_CLIENT):
                    response = await room.post(http, who, n)
                    assert response.status_code in (200, 201), response.text
                    if api == "lingr":
                        assert response.json()["status"] == "ok", response.text

            await asyncio.gather(*(client(who) for who in range(CLIENTS)))
            found = await room.read(http)
            return found if room.order == "oldest-first" else found[::-1]

    found = asyncio.run(scenario())
    ids = [message_id for message_id, _text in found]
    assert len(ids) == len(set(ids)), "message ids are unique"
    ours = [(message_id, text) for message_id, text in found if re.fullmatch(r"c\d+-\d+", text)]
    assert len(ours) == CLIENTS * PER_CLIENT
    for who in range(CLIENTS):
        sent = [int(text.split("-")[1]) for _id, text in ours if text.startswith(f"c{who}-")]
        assert sent == list(range(PER_CLIENT)), f"client {who}'s messages in the order it sent them"
    if api in ("lingr", "bocco"):  # numeric ids grow with time
        numbers = [int(message_id) for message_id in ids]
        assert numbers == sorted(numbers)


# vanishing long-poll clients ---------------------------------------------------------------------------
class LoopSpy:
    """An ASGI wrapper that remembers the server's event loop (to count its tasks)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)

    def tasks(self) -> int:
        assert self.loop is not None

        async def count() -> int:
            return len(asyncio.all_tasks())

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(5)


def raw_get(port: int, target: str, headers: dict[str, str] | None = None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{key}: {value}" for key, value in (headers or {}).items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


HELD = 10


def test_vanishing_long_poll_clients_leave_nothing_behind() -> None:
    app = create_app(strict=True, longpoll_timeout=30, stream_keepalive=30)
    spy = LoopSpy(app)
    hub = app.state.chatmock.hub
    with serve_in_thread(spy) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        http.get("/__chatmock/health").raise_for_status()
        baseline = spy.tasks()
        session = http.post("/lingr/api/session/create", data={"user": "alice", "password": "alice-password"}).json()["session"]
        counter = http.post("/lingr/api/room/subscribe", data={"session": session, "room": "lounge"}).json()["counter"]
        token = http.post(
            "/bocco/alpha/sessions", data={"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"}
        ).json()["access_token"]
        targets = [
            (f"/lingr/api/event/observe?session={session}&counter={counter}", {}),
            (f"/bocco/alpha/rooms/FA000000-0000-4000-8000-000000000001/subscribe?access_token={token}&newer_than=999999", {}),
            ("/gitter/stream/v1/rooms/5f2000000000000000000002/chatMessages", {"Authorization": "Bearer gitter-token-alice"}),
            ("/gitter/stream/v1/rooms/5f2000000000000000000002/events", {"Authorization": "Bearer gitter-token-bob"}),
        ]
        sockets = [raw_get(server.port, path, headers) for path, headers in targets for _ in range(HELD)]
        try:
            assert wait_until(lambda: hub.waiting == len(sockets)), f"held: {hub.waiting} of {len(sockets)}"
            assert spy.tasks() > baseline
        finally:
            for sock in sockets:
                sock.close()  # gone mid-wait, without a word
        assert wait_until(lambda: hub.waiting == 0), f"{hub.waiting} waiters left behind"
        assert wait_until(lambda: spy.tasks() <= baseline), f"{spy.tasks()} tasks, {baseline} before"
        assert http.get("/__chatmock/waiters").json() == {"waiting": 0}
