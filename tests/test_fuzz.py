"""A bounded, deterministic fuzz of every endpoint of every API (issue 12), in-process, strict.

For each endpoint (from the registry), a valid request (alice's credentials, the ids of the
default worlds, the required parameters) is sent again with one part made hostile:

* ``params``: each declared parameter (credentials included) set to each hostile value: NUL,
  CRLF, raw ``%ED%A0%80`` (a lone surrogate), ``%ff``, ``²``, Arabic-Indic and full-width
  digits, 2**70, 1e308, -0, a 100 KB string; in JSON bodies also numbers, booleans, null,
  nested objects and arrays, and nesting one level past the limit;
* ``path``: each path parameter likewise;
* ``bodies``: hostile content types and bodies (undecodable bytes, truncated and deep JSON);
* ``headers``: hostile ``Prefer``, ``Authorization``, ``X-Auth-Token``/``X-User-Id``,
  ``Content-Length`` and ``Host`` values, sent as raw bytes (``\\xff`` included).

Every answer must be below 500, every error in the API's own error schema and content type
(Lingr: HTTP 200 with ``status: error``), no strict-mode violation may be recorded, and nothing
may be logged at ERROR (no traceback). Requests go straight to the ASGI app with a hand-built
scope and raw header bytes, as uvicorn hands them over; a long poll is held 0.05 s, a stream
is dropped by its client as soon as it starts. About 11,700 requests, 5 s.

One test per endpoint. An endpoint that still fails because of code in ``mockserver/apis``
is marked ``xfail(strict=True)`` in :data:`KNOWN_API_FAILURES` with the request that fails, so
the fix there turns it into a failure to remove the mark (none is marked today).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from mock_support import default_world

from mockserver.apis import API_NAMES
from mockserver.app import ChatMockApp, create_app
from mockserver.core.parse import MAX_JSON_DEPTH
from mockserver.core.registry import Endpoint, load_registry

REG = load_registry()
ENDPOINTS = sorted(REG.endpoints.values(), key=lambda endpoint: endpoint.id)
LINGR_SESSION = "FuzzS1"
BOCCO_TOKEN = "fuzz-bocco-token"
AUTH_HEADERS = {
    "gitter": [(b"authorization", b"Bearer gitter-token-alice")],
    "rocketchat": [(b"x-auth-token", b"rc-pat-alice"), (b"x-user-id", b"aLiCEx3kPq7RtZ2mW")],
    "lingr": [],
    "bocco": [],
}
AUTH_PARAMS = {"lingr": {"session": LINGR_SESSION}, "bocco": {"access_token": BOCCO_TOKEN}}

# ids of the default worlds (mockserver/apis/<api>/world.json) that make a path resolve
VALID_PATH = {
    "roomId": "5f2000000000000000000002",
    "messageId": "5f3000000000000000000201",
    "chatMessageId": "5f3000000000000000000201",
    "userId": "5f1a11ce0000000000000001",
    "room_id": "FA000000-0000-4000-8000-000000000001",
    "message_id": "1002",
    "unique_id": "1DB34B93-0DFA-4150-AEF5-CBED1F820003",
    "extname": "wav",
    "id": "1003",
    "ext": "wav",
}
# the parameters that make each endpoint's request valid (others need none)
VALID_PARAMS: dict[str, dict[str, Any]] = {
    "bocco.rooms.messages.create": {"unique_id": "12345678-1234-4234-8234-123456789abc", "media": "text", "text": "hi"},
    "bocco.rooms.messages.list": {"newer_than": "1000"},
    "bocco.rooms.subscribe": {"newer_than": "999999"},
    "bocco.sessions.create": {"apikey": "bocco-api-key", "email": "alice@example.com", "password": "alice-password"},
    "gitter.rooms.chatMessages.create": {"text": "hi"},
    "gitter.rooms.chatMessages.list": {"limit": "5"},
    "gitter.rooms.chatMessages.update": {"text": "edited"},
    "gitter.rooms.join": {"uri": "chatmock/chatmock"},
    "gitter.rooms.users.list": {"limit": "5"},
    "gitter.user.unreadItems.markRead": {"chat": ["5f3000000000000000000201"]},
    "lingr.event.observe": {"counter": "999999999"},
    "lingr.favorite.add": {"message": "1000001"},
    "lingr.favorite.remove": {"message": "1000001"},
    "lingr.room.get_archives": {"room": "lounge", "before": "99999999", "limit": "5"},
    "lingr.room.say": {"room": "lounge", "text": "hi"},
    "lingr.room.show": {"room": "lounge"},
    "lingr.room.subscribe": {"room": "lounge"},
    "lingr.room.unsubscribe": {"room": "lounge"},
    "lingr.session.create": {"user": "alice", "password": "alice-password"},
    "rocketchat.channels.history": {"roomId": "GENERAL", "count": "5"},
    "rocketchat.channels.messages": {"roomId": "GENERAL", "count": "5"},
    "rocketchat.chat.postMessage": {"roomId": "GENERAL", "text": "hi"},
    "rocketchat.chat.sendMessage": {"message": {"rid": "GENERAL", "msg": "hi"}},
    "rocketchat.chat.update": {"roomId": "GENERAL", "msgId": "gEnMsg3yL8qR5uSzB", "text": "edited"},
    "rocketchat.login": {"user": "alice", "password": "alice-password"},
    "rocketchat.users.list": {"count": "5"},
}


def nested(depth: int, leaf: Any = "x") -> Any:
    value: Any = leaf
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


# hostile values: text for any transport, raw percent-encodings for query and form, JSON values for JSON bodies
TEXT = [
    "\x00",
    "a\r\nb",
    "²",
    "٤٢",
    "\uff14\u0662",
    "\uff14\uff12",
    str(2**70),
    "1e308",
    "-0",
    "x" * 100_000,
    "",
    " ",
    "\u202e\ufeff",
    "\U0001d7d8",
]
RAW = ["%ED%A0%80", "%ff", "%", "%zz", "%00", "%0D%0A", "%C0%AE"]
JSON_ONLY: list[Any] = [
    2**70,
    1e308,
    -0.0,
    True,
    None,
    {"$gt": ""},
    [1, [2, {"a": []}]],
    nested(MAX_JSON_DEPTH + 1),
    nested(MAX_JSON_DEPTH - 2),
    "\ud800",
]
CONTENT_TYPES = [
    b"text/plain",
    b"application/json; charset=latin-1",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data",
    b"multipart/form-data; boundary=zz",
    b"application/json\x00",
    b"",
    b"*/*",
    b"\xff\xfe",
    b"application/" + b"x" * 5000,
]
BODIES = [
    b"\xff\xfe\x00",
    b"{",
    b"[]",
    b"null",
    b'"\\ud800"',
    b"[" * 1100 + b"]" * 1100,
    json.dumps(nested(MAX_JSON_DEPTH + 1)).encode(),
    b'--zz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--zz',
    b"a=%ff&a=1&=&&%",
]
HEADERS: list[tuple[bytes, bytes]] = [
    *(
        (b"prefer", value)
        for value in (
            b"code=\xb2",  # the byte a client sends for a superscript two (latin-1)
            "code=²".encode(),
            "code=٤٠٤".encode(),
            "code=\uff14\uff10\uff14".encode(),
            b"code=99999999999999999999",
            b"code=",
            b"code=-1",
            b"error=",
            b"error=\x00",
            b"code=404;code=401",
            b"=",
            b";;;,,,",
            b"code=404, error=x",
            b"code=" + b"4" * 100_000,
            b"code=401",
            b"code=200",
            b"error=invalid_session",
        )
    ),
    *(
        (b"authorization", value)
        for value in (b"Bearer \xff", b"Bearer", b"", b"Basic !!!", b"Bearer " + b"x" * 100_000, b"\x00", "Bearer ²".encode())
    ),
    *((b"x-auth-token", value) for value in (b"\xff", b"", "rc-pat-alicé".encode(), b"x" * 100_000)),
    *((b"x-user-id", value) for value in (b"\xff", b"", b"aLiCEx3kPq7RtZ2mW\x00")),
    *(
        (b"content-length", value)
        for value in (b"\xb2", "²".encode(), b"-1", b"abc", b"99999999999999999999999", b"9" * 5000, b"1 2", b"0x10", b"", b"5")
    ),
    *((b"host", value) for value in (b"[", b"", b"evil.example", b"a" * 10_000, b"api.gitter.im", b"lingr.com:80", b"\xff")),
    (b"transfer-encoding", b"chunked"),
]
HOST_APIS = {b"api.gitter.im": "gitter", b"lingr.com:80": "lingr"}  # a real API's host is served by that API


def fuzz_seed() -> dict[str, Any]:
    seed = {name: default_world(name) for name in API_NAMES}
    seed["gitter"]["rateLimit"] = 1_000_000  # 100/min per token would turn most cases into 429s
    seed["lingr"].setdefault("sessions", []).append({"session": LINGR_SESSION, "public_id": "FuzzP1", "user": "alice"})
    seed["bocco"].setdefault("tokens", []).append({"access_token": BOCCO_TOKEN, "user": "alice"})
    return seed


# one request, raw --------------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str  # as the ASGI server decodes it
    query: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def __str__(self) -> str:
        headers = [(name, value[:60]) for name, value in self.headers]
        return f"{self.method} {self.path[:80]!r}?{self.query[:120]!r} {headers} {self.body[:120]!r}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def exchange(app: ChatMockApp, request: Request) -> Answer:
    """The request through the app as uvicorn hands it over; the client hangs up as soon as
    the response has started (which ends a stream), or once it is complete."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": quote(request.path, safe="/%").encode("ascii", "replace"),
        "query_string": request.query,
        "root_path": "",
        "headers": request.headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    started = asyncio.Event()
    answer = Answer(0, {}, b"")
    parts: list[bytes] = []
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await started.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in message.get("headers", [])}
            started.set()
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    answer.body = b"".join(parts)
    return answer


_JSONP = re.compile(rb"^\s*[A-Za-z_$][\w$.]*\((.*)\)\s*;?\s*$", re.DOTALL)


def problems_with(api: str, request: Request, answer: Answer) -> str | None:
    """Why an answer is wrong (None when it is fine): a 5xx, or an error not in the API's shape."""
    where = f"{request} -> {answer.status} {answer.body[:300]!r}"
    if not 100 <= answer.status < 500:
        return where
    record = REG.api(api)
    content = answer.body
    if api == "lingr":
        if answer.status != 200:
            return f"lingr answers every request with HTTP 200: {where}"
        wrapped = _JSONP.match(content)
        if wrapped is not None:
            content = wrapped.group(1)
    elif answer.status < 400 or request.method == "HEAD":
        return None  # a success: strict mode has checked it against its schema (or answered 500)
    try:
        body = json.loads(content)
    except ValueError:
        return f"not JSON: {where}"
    if api == "lingr" and not (isinstance(body, dict) and body.get("status") == "error"):
        return None
    if answer.headers.get("content-type", "").split(";")[0] != record.content_type.split(";")[0]:
        return f"content type {answer.headers.get('content-type')!r}: {where}"
    found = record.error_checker.errors(body)
    return f"not the API's error shape ({found[0]}): {where}" if found else None


# the requests of one case kind ------------------------------------------------------------------
def transport(endpoint: Endpoint) -> str:
    """Where this endpoint's parameters travel in its usual request: json, form or query."""
    if "json" in endpoint.params_in:
        return "json"
    if "form" in endpoint.params_in and endpoint.method != "GET":
        return "form"
    return "query"


def encoded(value: Any, raw: bool = False) -> str:
    return value if raw else quote(str(value), safe="")


def build(endpoint: Endpoint, params: dict[str, tuple[Any, bool]], path: dict[str, str] | None = None) -> Request:
    """``params``: name -> (value, raw) where raw text is put in a query or form as is."""
    values = {**VALID_PATH, **(path or {})}
    served = endpoint.served_path()
    for name in endpoint.path_params:
        served = served.replace("{" + name + "}", values.get(name, "x"))
    headers = list(AUTH_HEADERS[endpoint.api])
    query: list[str] = []
    body = b""
    kind = transport(endpoint)
    auth = AUTH_PARAMS.get(endpoint.api, {}) if endpoint.auth is not None else {}
    every = {**{name: (value, False) for name, value in auth.items()}, **params}
    if kind == "json":
        plain = {name: value for name, (value, _) in every.items() if name not in auth}
        body = json.dumps(plain).encode()
        headers.append((b"content-type", b"application/json"))
        query = [f"{name}={encoded(value, raw)}" for name, (value, raw) in every.items() if name in auth]
    elif kind == "form":
        body = "&".join(f"{name}={encoded(value, raw)}" for name, (value, raw) in every.items()).encode()
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    else:
        query = [f"{name}={encoded(value, raw)}" for name, (value, raw) in every.items()]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    return Request(endpoint.method, served, "&".join(query).encode(), [(b"host", b"127.0.0.1:8000"), *headers], body)


def valid(endpoint: Endpoint) -> dict[str, tuple[Any, bool]]:
    return {name: (value, False) for name, value in VALID_PARAMS.get(endpoint.id, {}).items()}


def declared(endpoint: Endpoint) -> list[str]:
    names = list((endpoint.params_schema or {}).get("properties", {}))
    if endpoint.auth is not None and endpoint.auth.param:
        names.append(endpoint.auth.param)
    return names


def cases_params(endpoint: Endpoint) -> Iterator[Request]:
    json_body = transport(endpoint) == "json"
    for name in declared(endpoint):
        if json_body and endpoint.auth is not None and name == endpoint.auth.param:
            values: list[tuple[Any, bool]] = [(value, False) for value in TEXT] + [(value, True) for value in RAW]
        elif json_body:
            values = [(value, False) for value in [*TEXT, *JSON_ONLY]]
        else:
            values = [(value, False) for value in TEXT] + [(value, True) for value in RAW]
        for value in values:
            yield build(endpoint, {**valid(endpoint), name: value})
    yield build(endpoint, {**valid(endpoint), "unknown\x00name": ("x", False)})


def cases_path(endpoint: Endpoint) -> Iterator[Request]:
    for name in endpoint.path_params:
        for value in [*TEXT, *RAW]:
            text = unquote(value) if value in RAW else value.replace("/", "")
            yield build(endpoint, valid(endpoint), {name: text or "%20"})


def cases_bodies(endpoint: Endpoint) -> Iterator[Request]:
    base = build(endpoint, valid(endpoint))
    kept = [(name, value) for name, value in base.headers if name not in (b"content-type", b"content-length")]
    for method in dict.fromkeys([endpoint.method, "POST"]):
        for content_type in CONTENT_TYPES:
            for body in BODIES:
                headers = [*kept, (b"content-type", content_type), (b"content-length", str(len(body)).encode())]
                yield Request(method, base.path, base.query, headers, body)


def cases_headers(endpoint: Endpoint) -> Iterator[Request]:
    base = build(endpoint, valid(endpoint))
    for name, value in HEADERS:
        kept = [(key, old) for key, old in base.headers if key != name]
        yield Request(base.method, base.path, base.query, [*kept, (name, value)], base.body)


KINDS = {"params": cases_params, "path": cases_path, "bodies": cases_bodies, "headers": cases_headers}

# endpoint id -> why it still fails, for failures caused inside mockserver/apis (see the docstring)
KNOWN_API_FAILURES: dict[str, str] = {}


def cases() -> Iterator[Any]:
    for endpoint in ENDPOINTS:
        reason = KNOWN_API_FAILURES.get(endpoint.id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(endpoint, id=endpoint.id, marks=marks)


# the test -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app() -> ChatMockApp:
    return create_app(strict=True, root=False, longpoll_timeout=0.05, stream_keepalive=0.05, seed=fuzz_seed())


@pytest.mark.parametrize("endpoint", list(cases()))
def test_hostile_requests_are_answered_in_the_apis_shape(app: ChatMockApp, endpoint: Endpoint, caplog: pytest.LogCaptureFixture) -> None:
    mock = app.state.chatmock
    mock.reset(fuzz_seed())  # a destroyed session or a logout of the endpoint before starts afresh
    requests = [request for cases_of in KINDS.values() for request in cases_of(endpoint)]

    async def run() -> list[str]:
        found = []
        for request in requests:
            api = HOST_APIS.get(dict(request.headers).get(b"host", b""), endpoint.api)
            problem = problems_with(api, request, await exchange(app, request))
            if problem is not None:
                found.append(problem)
        return found

    with caplog.at_level(logging.ERROR, logger="chatmock"):
        failures = asyncio.run(run())
    assert not failures, f"{len(failures)} of {len(requests)} requests:\n" + "\n".join(failure[:600] for failure in failures[:8])
    assert mock.dispatcher.violations == []
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
