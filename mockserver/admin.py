"""The admin API under ``/__chatmock``: health, reset and seed, the world in force and its
credentials, journal, strict-mode violations, held requests, the clock, strict mode, fault
rules, OpenAPI export, a docs page, and the console (``GET /__chatmock/``, see
:mod:`mockserver.console`).

Who may call it, checked in this order (every refusal, like every other admin error, is JSON
``{"error": "<one line>"}``, never plain text and never a traceback):

1. **Host** (403): the request's ``Host`` is a loopback name (``127.0.0.1``, ``localhost``,
   ``[::1]`` or ``::1``, and ``testserver``, the name Starlette's TestClient sends), with or
   without a port, or one of ``Settings.admin_hosts`` (``create_app(admin_hosts=...)``,
   ``chatmock serve --admin-host``). A page whose name was rebound to 127.0.0.1 (DNS
   rebinding) still sends its own name, so it is refused; so is a request without ``Host``.
2. **Origin** (403): a request that carries ``Origin`` (a browser sends it on every
   cross-origin request and on same-origin POSTs) must come from such a host too;
   ``Origin: null`` is refused. A page elsewhere cannot even send a bodiless ``POST /reset``.
3. **Admin token** (401), when the app has one: the ``x-chatmock-admin-token`` header, or the
   ``chatmock_admin`` cookie. A browser gets the cookie by opening a page once with the token
   in its address, ``GET /__chatmock/docs?admin_token=<token>``: the answer sets the cookie
   (``HttpOnly; SameSite=Strict; Path=/__chatmock``, holding a digest of the token, not the
   token) and redirects (303) to the page without the token in its address. Any later admin
   request from that browser may use the cookie instead of the header; ``SameSite=Strict``
   keeps other sites' requests from carrying it.
4. **Route and method**: 404, 405 with ``Allow``.
5. **POST bodies** are JSON only: ``Content-Type: application/json`` (a charset parameter is
   fine), else 415, a body without a content type included; a bodiless POST (``/reset``) needs
   none. A JSON body therefore always costs a browser a CORS preflight, which fails: the admin
   API never sends a CORS header. A seed is at most ``Settings.seed_limit`` bytes (413); a
   body must arrive within ``Settings.read_timeout`` (408).

The console page and its static files (``/__chatmock/``, ``/__chatmock/console/static/...``)
hold no data and no secret: they answer without the admin token (Host and Origin are still
checked), so a browser without the cookie gets the page, which then asks for the token once
and opens ``/__chatmock/?admin_token=<token>`` (the cookie route above). Everything the page
shows comes from token-checked routes.

Anything that still fails inside a route is a 500 ``{"error": "chatmock admin failed: ..."}``
(logged).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import math
import re
import secrets
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from mockserver.console.rooms import PAGE, ConsoleError, Rooms
from mockserver.core import parse
from mockserver.core.faults import FaultError
from mockserver.core.fixtures import fixtures
from mockserver.core.journal import REDACTED, Entry
from mockserver.core.openapi import openapi_document
from mockserver.core.registry import UnknownIdError, thaw
from mockserver.core.store import ClockError
from mockserver.mock import JOURNAL_TOPIC, ChatMock, SeedError

log = logging.getLogger("chatmock")

ADMIN_PREFIX = "/__chatmock"
ADMIN_HEADER = "x-chatmock-admin-token"
ADMIN_COOKIE = "chatmock_admin"
ADMIN_QUERY = "admin_token"  # the query parameter that turns into the cookie, on pages only
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1", "testserver"})
ADMIN_BODY_LIMIT = 64 * 1024  # every admin POST body but a seed's
JOURNAL_FILTERS = ("endpoint", "limit", "since")
STATIC = Path(__file__).resolve().parent / "console" / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8"}
CONSOLE_PAGE_LIMIT = 500  # exchanges or messages per console page, at most
EVENT_BATCH = 500  # exchanges per server-sent event, at most (more: a "gap" event, the page reloads its list)
KEEPALIVE = 5.0  # seconds between comments on a quiet event stream
STREAM_LIFETIME = 10.0  # seconds an event stream lives; the browser reconnects and goes on
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


class AdminError(Exception):
    """Answer ``{"error": message}`` with ``status`` at once."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def is_admin_path(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) and (len(path) == len(ADMIN_PREFIX) or path[len(ADMIN_PREFIX)] == "/")


def admin_hostname(host: str) -> str:
    """The name in a ``Host`` (or ``Origin`` authority) value, lower case, without its port:
    ``LocalHost:8000`` -> ``localhost``, ``[::1]:8000`` -> ``[::1]``, ``::1`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else ""
    if host.count(":") > 1:  # a bare IPv6 address
        return host
    return host.partition(":")[0]


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


@dataclass(frozen=True)
class Route:
    handler: Callable[[AdminRequest], Awaitable[Response]]
    methods: tuple[str, ...]
    page: bool = False  # an HTML page: may be opened with ?admin_token= (see the module docstring)
    public: bool = False  # answers without the admin token (the console's page and static files: no data)


@dataclass
class AdminRequest:
    """One admin request: Starlette's view of it, the mock, and its JSON body (POST)."""

    request: Request
    mock: ChatMock
    body: Any = None
    path_param: str = ""
    rooms: Rooms | None = None
    admin_token_set: bool = False
    authorized: bool = True  # does the request carry the admin token (or its cookie); public routes only ask


class AdminApi:
    """The ASGI app of ``/__chatmock/...`` for one :class:`ChatMock`."""

    def __init__(self, mock: ChatMock, admin_token: str | None) -> None:
        self.mock = mock
        self.token = admin_token
        self._cookie = _cookie_value(admin_token) if admin_token is not None else None
        self.rooms = Rooms(mock)
        self.routes: dict[str, Route] = {
            "/": Route(console_page, ("GET",), page=True, public=True),
            "/console/static/{file}": Route(console_static, ("GET",), public=True),
            "/console/session": Route(console_session, ("GET",), public=True),
            "/console/events": Route(console_events, ("GET",)),
            "/console/traffic": Route(console_traffic, ("GET",)),
            "/console/exchange/{seq}": Route(console_exchange, ("GET",)),
            "/console/rooms": Route(console_rooms, ("GET",)),
            "/console/messages": Route(console_messages, ("GET",)),
            "/console/talk": Route(console_talk, ("POST",)),
            "/console/catalogue": Route(console_catalogue, ("GET",)),
            "/console/endpoint/{id}": Route(console_endpoint, ("GET",)),
            "/strict": Route(strict, ("GET", "POST")),
            "/health": Route(health, ("GET",)),
            "/reset": Route(reset, ("POST",)),
            "/seed": Route(seed, ("GET", "POST")),
            "/credentials": Route(credentials, ("GET",)),
            "/journal": Route(journal, ("GET", "DELETE")),
            "/violations": Route(violations, ("GET",)),
            "/waiters": Route(waiters, ("GET",)),
            "/clock": Route(clock, ("GET", "POST")),
            "/faults": Route(faults, ("GET", "POST", "DELETE")),
            "/faults/{id}": Route(fault, ("GET", "DELETE")),
            "/openapi/{api}.json": Route(openapi, ("GET",)),
            "/asyncapi/{api}.json": Route(asyncapi, ("GET",)),
            "/docs": Route(docs, ("GET",), page=True),
        }

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return LOOPBACK_NAMES | self.mock.settings.admin_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._answer(request)
        except AdminError as error:
            response = _error(error.status, error.message, error.headers)
        except Exception as error:  # never Starlette's plain-text 500
            log.exception("admin %s %s failed", scope.get("method"), scope.get("path"))
            response = _error(500, f"chatmock admin failed: {type(error).__name__}")
        if scope.get("method") == "HEAD":
            response.body = b""  # the headers of the GET answer, without its body
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        self._check_host(request)
        self._check_origin(request)
        path = request.url.path[len(ADMIN_PREFIX) :]
        if not path:  # /__chatmock: the console is at /__chatmock/
            return RedirectResponse(ADMIN_PREFIX + "/", status_code=308)
        route, path_param = self._route(path)
        page_login = route is not None and route.page and ADMIN_QUERY in request.query_params
        if not page_login and not (route is not None and route.public):
            self._check_token(request)
        if route is None:
            raise AdminError(404, f"no admin route {_shown(request.url.path)}; routes: {', '.join(sorted(self.routes))}")
        method = "GET" if request.method == "HEAD" else request.method
        if method not in route.methods:
            allowed = ", ".join(route.methods)
            raise AdminError(
                405, f"{_shown(request.method)} is not allowed on {ADMIN_PREFIX}{path}; allowed: {allowed}", {"Allow": allowed}
            )
        if page_login:
            return self._login(request)
        body = await self._body(request, path) if method == "POST" else None
        authorized = True
        if route.public:
            try:
                self._check_token(request)
            except AdminError:
                authorized = False
        return await route.handler(AdminRequest(request, self.mock, body, path_param, self.rooms, self.token is not None, authorized))

    # the rules --------------------------------------------------------------------------
    def _check_host(self, request: Request) -> None:
        host = request.headers.get("host")
        if host is None or admin_hostname(host) not in self.allowed_hosts:
            shown = "no Host" if host is None else f"Host {_shown(host)}"
            raise AdminError(
                403,
                f"{shown} is refused: the admin API answers only loopback names (127.0.0.1, localhost, [::1]) "
                "and the configured admin hosts (--admin-host)",
            )

    def _check_origin(self, request: Request) -> None:
        origin = request.headers.get("origin")
        if origin is None:
            return
        scheme, separator, authority = origin.partition("://")
        if (
            not separator
            or scheme.lower() not in ("http", "https")
            or admin_hostname(authority.partition("/")[0]) not in self.allowed_hosts
        ):
            raise AdminError(403, f"Origin {_shown(origin)} is refused: the admin API answers no cross-site request")

    def _check_token(self, request: Request) -> None:
        if self.token is None:
            return
        given = request.headers.get(ADMIN_HEADER)
        if given is not None and secrets.compare_digest(given.encode("utf-8"), self.token.encode("utf-8")):
            return
        cookie = request.cookies.get(ADMIN_COOKIE)
        if (
            cookie is not None
            and self._cookie is not None
            and secrets.compare_digest(cookie.encode("utf-8", "replace"), self._cookie.encode())
        ):
            return
        raise AdminError(
            401,
            f"admin token required in the {ADMIN_HEADER} header (or the {ADMIN_COOKIE} cookie a browser gets "
            f"from {ADMIN_PREFIX}/docs?{ADMIN_QUERY}=<token>)",
        )

    def _login(self, request: Request) -> Response:
        """A page opened with ``?admin_token=``: set the cookie, send the browser to the page
        without the token in its address."""
        if self.token is None:
            return RedirectResponse(request.url.path, status_code=303)
        given = request.query_params.get(ADMIN_QUERY, "")
        if not secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8")):
            raise AdminError(401, f"wrong admin token in {ADMIN_QUERY}")
        response = RedirectResponse(request.url.path, status_code=303)
        assert self._cookie is not None
        response.set_cookie(ADMIN_COOKIE, self._cookie, path=ADMIN_PREFIX, httponly=True, samesite="strict")
        return response

    def _route(self, path: str) -> tuple[Route | None, str]:
        route = self.routes.get(path)
        if route is not None:
            return route, ""
        for prefix in ("/console/static/", "/console/exchange/", "/console/endpoint/"):
            if path.startswith(prefix) and len(path) > len(prefix) and "/" not in path[len(prefix) :]:
                return self.routes[
                    prefix + ("{file}" if prefix.endswith("static/") else "{seq}" if "exchange" in prefix else "{id}")
                ], path[len(prefix) :]
        if path.startswith("/faults/"):
            rule_id = path[len("/faults/") :]
            if rule_id.isascii() and rule_id.isdigit() and len(rule_id) <= 9:
                return self.routes["/faults/{id}"], rule_id
        for kind in ("/openapi/", "/asyncapi/"):
            if path.startswith(kind) and path.endswith(".json"):
                name = path[len(kind) : -len(".json")]
                if name and "/" not in name:
                    return self.routes[kind + "{api}.json"], name
        return None, ""

    async def _body(self, request: Request, path: str) -> Any:
        """A POST's JSON body (None when it has none), by the rules of the module docstring."""
        headers = request.headers
        content_type = headers.get("content-type")
        kind = parse.media_type(content_type or "")
        if content_type is not None and kind != "application/json":
            raise AdminError(415, f"admin POST bodies are application/json, not {_shown(kind or content_type)}")
        settings = self.mock.settings
        limit = settings.seed_limit if path == "/seed" else ADMIN_BODY_LIMIT
        try:
            raw = await parse.read_body(
                request.receive,
                headers.get("content-length"),
                limit,
                self.mock.dispatcher.deadlines,
                "transfer-encoding" in headers,
            )
        except parse.TooLarge as error:
            raise AdminError(413, f"{error} of {ADMIN_PREFIX}{path}") from None
        except parse.BadRequest as error:
            raise AdminError(400, str(error)) from None
        except parse.ReadTimeout as error:
            raise AdminError(408, str(error), {"Connection": "close"}) from None
        if not raw.strip():
            return None
        if content_type is None:
            raise AdminError(415, "admin POST bodies are application/json; this one has no Content-Type")
        try:
            return parse.json_document(raw)
        except parse.BadRequest as error:
            what = "bad seed" if path == "/seed" else "bad request"
            raise AdminError(400, f"{what}: {error}") from None


def _cookie_value(token: str) -> str:
    """What the cookie holds: a digest of the token (the token itself never sits in a browser)."""
    return hmac.new(token.encode("utf-8"), b"chatmock admin cookie", hashlib.sha256).hexdigest()


# the routes ---------------------------------------------------------------------------------
async def health(call: AdminRequest) -> Response:
    mock = call.mock
    return JSONResponse({"status": "ok", "apis": list(mock.modules), "strict": mock.settings.strict})


async def reset(call: AdminRequest) -> Response:
    """Every default world, on the real clock; journal and violations emptied; held requests released."""
    call.mock.reset(None)
    return JSONResponse({"status": "reset", "world": "default"})


async def seed(call: AdminRequest) -> Response:
    """POST: load a seed document, validated completely first (see ``ChatMock.reset``): a bad
    one is a 400 ``bad seed: <api>: <path>: <what>`` and the world in force stays as it was;
    GET: the world document in force per API."""
    mock = call.mock
    if call.request.method != "POST":
        return JSONResponse({"seed": mock.world_documents()})
    world = call.body
    if world is None:
        raise AdminError(400, "bad seed: $: the body is empty; a seed is a JSON object keyed by API name")
    try:
        mock.reset(world)
    except SeedError as error:
        return _error(400, f"bad seed: {error}")
    return JSONResponse({"status": "seeded", "apis": sorted(world)})


async def credentials(call: AdminRequest) -> Response:
    """API -> user name -> credentials, in the world in force."""
    return JSONResponse({"credentials": call.mock.credentials()})


async def journal(call: AdminRequest) -> Response:
    """GET, filtered by ``endpoint=<id>``, ``since=<epoch seconds>`` (arrived at or after) and
    ``limit=<n>`` (the last n), each at most once; DELETE: empty it."""
    mock = call.mock
    if call.request.method == "DELETE":
        mock.journal.clear()
        return JSONResponse({"status": "cleared"})
    filters = _journal_filters(call)
    return JSONResponse({"entries": mock.journal.entries(**filters)})


def _journal_filters(call: AdminRequest) -> dict[str, Any]:
    given = _query(call, JOURNAL_FILTERS, noun="journal filter", plural="filters", query="journal query")
    filters: dict[str, Any] = {}
    if "endpoint" in given:
        endpoint = given["endpoint"]
        if endpoint not in call.mock.registry.endpoints:
            raise AdminError(400, f"endpoint={_shown(endpoint)}: no such endpoint id (e.g. gitter.user.me)")
        filters["endpoint"] = endpoint
    if "limit" in given:
        text = given["limit"]
        if not (0 < len(text) <= 9 and text.isascii() and text.isdigit()):
            raise AdminError(400, f"limit={_shown(text)}: not a whole number of entries")
        filters["limit"] = int(text)
    if "since" in given:
        text = given["since"]
        since = float(text) if text.isascii() and _NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(since):
            raise AdminError(400, f"since={_shown(text)}: not a time in epoch seconds")
        filters["since"] = since
    return filters


async def violations(call: AdminRequest) -> Response:
    return JSONResponse({"violations": call.mock.dispatcher.violations})


async def waiters(call: AdminRequest) -> Response:
    return JSONResponse({"waiting": call.mock.hub.waiting})


async def clock(call: AdminRequest) -> Response:
    """GET: the mock's time. POST ``{"freeze": <epoch seconds, ISO 8601 text, or null>,
    "advance": <seconds>}`` (either or both; ``freeze`` first): ``freeze`` stops the clock at
    that time, null runs the real clock again (no offset); ``advance`` moves it (negative:
    back). Only finite numbers, and only times from the epoch to year 9999; anything else is a
    400 and the clock is left as it was. ``POST /__chatmock/reset`` restores the real clock."""
    mock = call.mock
    if call.request.method == "POST":
        spec = call.body if call.body is not None else {}
        if not isinstance(spec, dict):
            raise AdminError(400, 'bad clock request: a JSON object such as {"freeze": 1700000000} or {"advance": 60}')
        unknown = sorted(set(spec) - {"freeze", "advance"})
        if unknown:
            raise AdminError(400, f"bad clock request: unknown key {_shown(str(unknown[0]))}; keys: freeze, advance")
        saved = mock.clock.snapshot()
        try:
            if "freeze" in spec:
                mock.clock.freeze(spec["freeze"])
            if "advance" in spec:
                mock.clock.advance(spec["advance"])
        except ClockError as error:
            mock.clock.restore(saved)
            raise AdminError(400, f"bad clock request: {error}") from None
    return JSONResponse({"now": mock.clock.now().isoformat(), "frozen": mock.clock.frozen})


async def faults(call: AdminRequest) -> Response:
    """GET: the fault rules in force (each with ``applied`` and ``left``); POST: add one rule
    (a JSON object, see :mod:`mockserver.core.faults`; 201 with the rule) or several (a JSON
    array, all or none); DELETE: remove every rule. A reset clears them too."""
    mock = call.mock
    method = call.request.method
    if method == "DELETE":
        mock.faults.clear()
        return JSONResponse({"status": "cleared"})
    if method == "POST":
        specs = call.body if isinstance(call.body, list) else [call.body]
        saved = list(mock.faults.rules)
        added = []
        try:
            for index, spec in enumerate(specs):
                try:
                    added.append(mock.faults.add(spec, mock.registry.endpoints, mock.modules))
                except FaultError as error:
                    where = f"[{index}]: " if isinstance(call.body, list) else ""
                    raise AdminError(400, f"bad fault rule: {where}{error}") from None
        except AdminError:
            mock.faults.rules = saved
            raise
        rules = [rule.public() for rule in added]
        return JSONResponse({"faults": rules} if isinstance(call.body, list) else {"fault": rules[0]}, status_code=201)
    return JSONResponse({"faults": mock.faults.listed()})


async def fault(call: AdminRequest) -> Response:
    """GET or DELETE one rule by its id."""
    mock = call.mock
    rule_id = int(call.path_param)
    found = next((rule for rule in mock.faults.rules if rule.id == rule_id), None)
    if found is None:
        raise AdminError(404, f"no fault rule {rule_id}")
    if call.request.method == "DELETE":
        mock.faults.remove(rule_id)
        return JSONResponse({"status": "removed", "id": rule_id})
    return JSONResponse({"fault": found.public()})


async def strict(call: AdminRequest) -> Response:
    """GET: is strict mode on; POST ``{"strict": true|false}``: turn it on or off (from the
    next request on)."""
    settings = call.mock.settings
    if call.request.method == "POST":
        body = call.body
        if not isinstance(body, dict) or set(body) != {"strict"} or not isinstance(body["strict"], bool):
            raise AdminError(400, 'bad strict request: {"strict": true} or {"strict": false}')
        settings.strict = body["strict"]
    return JSONResponse({"strict": settings.strict})


# the console ----------------------------------------------------------------------------------
async def console_page(call: AdminRequest) -> Response:
    """The console: one page, its script and style shipped in ``mockserver/console/static``."""
    return FileResponse(STATIC / "index.html", media_type=STATIC_TYPES[".html"], headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


async def console_static(call: AdminRequest) -> Response:
    name = call.path_param
    path = STATIC / name
    kind = STATIC_TYPES.get(path.suffix)
    if kind is None or not re.fullmatch(r"[a-z0-9_-]+\.[a-z]+", name) or not path.is_file():
        raise AdminError(404, f"no console file {_shown(name)}")
    return FileResponse(path, media_type=kind, headers=_NO_STORE)


async def console_session(call: AdminRequest) -> Response:
    """Public: does this mock want an admin token, and does this browser hold it (its cookie)?
    The page asks for the token only then, without a failed request."""
    return JSONResponse({"token": call.admin_token_set, "authorized": call.authorized}, headers={"Cache-Control": "no-store"})


def _query(
    call: AdminRequest, allowed: tuple[str, ...], noun: str = "parameter", plural: str = "parameters", query: str = "query"
) -> dict[str, str]:
    """The query's values by name: each name one of ``allowed``, given once (else a 400 naming it)."""
    try:
        pairs = parse.form_pairs(call.request.scope.get("query_string", b"").decode("utf-8"))
    except UnicodeDecodeError:
        raise AdminError(400, f"the {query} is not UTF-8") from None
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise AdminError(400, f"unknown {noun} {_shown(name)}; {plural}: {', '.join(allowed)}")
        if name in given:
            raise AdminError(400, f"{noun} {name} given more than once")
        given[name] = value
    return given


def _count(given: Mapping[str, str], name: str, default: int, limit: int) -> int:
    text = given.get(name)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 9):
        raise AdminError(400, f"{name}={_shown(text)}: not a whole number")
    return min(int(text), limit)


async def console_events(call: AdminRequest) -> Response:
    """Server-sent events for the console, driven by the hub (nothing polls): ``hello`` (the
    last exchange number), ``exchanges`` (summaries of new exchanges, oldest first), ``reset``
    (the journal was cleared: a reset or seed), ``gap`` (more arrived than one event carries:
    reload the list). A comment every few seconds keeps a quiet stream open.

    A stream ends after :data:`STREAM_LIFETIME` seconds and the browser reconnects at once
    (``retry: 500``) with the id of the last event it had (``<seq>.<clears>``), from which the
    next stream goes on: nothing is lost, and an open page never keeps ``chatmock serve`` from
    shutting down for longer than that."""
    mock = call.mock
    journal, hub = mock.journal, mock.console_hub
    if call.request.method == "HEAD":
        return Response(b"", media_type="text/event-stream")
    resumed = _resume(call.request.headers.get("last-event-id", ""), journal)

    def event(name: str, data: Any, last: int, cleared: int) -> bytes:
        return f"id: {last}.{cleared}\nevent: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"

    async def stream() -> AsyncIterator[bytes]:
        journal.watchers += 1
        ends = time.monotonic() + STREAM_LIFETIME
        try:
            last, cleared = resumed if resumed is not None else (journal.last_seq, journal.cleared)
            yield b"retry: 500\n" + event("hello", {"last": journal.last_seq, "strict": mock.settings.strict}, last, cleared)
            while True:
                left = ends - time.monotonic()
                if left <= 0:
                    return
                news = await hub.wait_for((JOURNAL_TOPIC,), _changed(journal, (last, cleared)), min(KEEPALIVE, left))
                if news is None:
                    yield b": keep-alive\n\n"
                    continue
                await asyncio.sleep(0.05)  # gather what arrives together into one event
                if journal.cleared != cleared:
                    cleared, last = journal.cleared, journal.last_seq
                    yield event("reset", {"last": last}, last, cleared)
                    continue
                newest = journal.last_seq
                if newest - last > EVENT_BATCH:
                    yield event("gap", {"last": newest}, newest, cleared)
                else:
                    found = [entry.summary() for seq in range(last + 1, newest + 1) if (entry := journal.get(seq)) is not None]
                    yield event("exchanges", found, newest, cleared)
                last = newest
        finally:
            journal.watchers -= 1

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _resume(last_event_id: str, journal: Any) -> tuple[int, int] | None:
    """Where a reconnecting stream goes on from: its ``Last-Event-ID`` (``<seq>.<clears>``),
    when that is a past point of this journal (a clear since: the stream starts with ``reset``)."""
    seq_text, dot, cleared_text = last_event_id.partition(".")
    if not (dot and seq_text.isascii() and seq_text.isdigit() and cleared_text.isascii() and cleared_text.isdigit()):
        return None
    if len(seq_text) > 12 or len(cleared_text) > 12:
        return None
    seq, cleared = int(seq_text), int(cleared_text)
    if seq > journal.last_seq or cleared > journal.cleared:
        return None
    return seq, cleared


def _changed(journal: Any, seen: tuple[int, int]) -> Callable[[], bool | None]:
    def check() -> bool | None:
        return True if (journal.last_seq, journal.cleared) != seen else None

    return check


TRAFFIC_FILTERS = ("before", "limit", "api", "endpoint", "status", "user", "violations", "fault")


def _keep(given: Mapping[str, str]) -> Callable[[Entry], bool] | None:
    api, endpoint, user = given.get("api") or None, given.get("endpoint") or None, given.get("user") or None
    status_text = given.get("status") or ""
    low, high = 0, 999
    if status_text:
        if re.fullmatch(r"[0-9]{3}", status_text):
            low = high = int(status_text)
        elif re.fullmatch(r"[0-9]xx", status_text, re.IGNORECASE):
            low = int(status_text[0]) * 100
            high = low + 99
        else:
            raise AdminError(400, f"status={_shown(status_text)}: a status (404) or a class (4xx)")
    violations = given.get("violations") in ("1", "true")
    faulted = given.get("fault") in ("1", "true")
    if not (api or endpoint or user or status_text or violations or faulted):
        return None

    def keep(entry: Entry) -> bool:
        return (
            (api is None or entry.api == api)
            and (endpoint is None or entry.endpoint == endpoint)
            and low <= entry.status <= high
            and (not violations or bool(entry.violations))
            and (not faulted or entry.fault is not None)
            and (user is None or entry.user == user)
        )

    return keep


async def console_traffic(call: AdminRequest) -> Response:
    """A page of exchange summaries, newest first: ``before=<seq>`` (the oldest shown), ``limit``
    (default 100, at most 500), filters ``api``, ``endpoint``, ``status`` (``404`` or ``4xx``),
    ``user``, ``violations=1``, ``fault=1``. ``before`` (the next page's cursor) is null at the
    end. A page reads back from its cursor, so it costs the same in a journal of 100,000."""
    given = _query(call, TRAFFIC_FILTERS)
    journal = call.mock.journal
    before = _count(given, "before", 0, 10**9) or None
    limit = _count(given, "limit", 100, CONSOLE_PAGE_LIMIT)
    found, more = journal.page(before, limit, _keep(given))
    return JSONResponse(
        {
            "exchanges": [entry.summary() for entry in found],
            "before": found[-1].seq if more and found else None,
            "last": journal.last_seq,
            "held": len(journal._entries),
        }
    )


def scrub(text: str, secrets_known: list[str]) -> str:
    """``text`` with every known secret (and the journal's redaction mark) as ``${SECRET}``."""
    for secret in sorted({value for value in secrets_known if len(value) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "${SECRET}")
    return text.replace(REDACTED, "${SECRET}")


def curl_line(exchange: Mapping[str, Any], origin: str, secrets_known: list[str] = []) -> str:  # noqa: B006
    """A curl command that repeats the exchange (secrets as ``${SECRET}``)."""
    query = "&".join(f"{key}={value}" for key, value in (exchange.get("query") or {}).items())
    url = origin + exchange["path"] + (f"?{query}" if query else "")
    parts = ["curl", "-X", exchange["method"], url]
    skip = {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
    headers = exchange.get("headers") or {}
    for name, value in headers.items():
        if name.lower() not in skip:
            parts += ["-H", f"{name}: {value}"]
    params = exchange.get("params")
    if isinstance(params, dict) and exchange["method"] not in ("GET", "HEAD", "DELETE"):
        body = {key: value for key, value in params.items() if key not in (exchange.get("query") or {})}
        if body:
            kind = str(headers.get("content-type", ""))
            if "json" in kind:
                parts += ["--data-raw", orjson.dumps(body).decode()]
            else:
                for key, value in body.items():
                    parts += ["--data-urlencode", f"{key}={value}"]
    return " ".join(_shell_word(scrub(part, secrets_known)) for part in parts)


def _shell_word(part: str) -> str:
    """A shell word; one holding ``${SECRET}`` in double quotes, so the shell fills it in."""
    if "${SECRET}" in part and not re.search(r'["$`\\!]', part.replace("${SECRET}", "")):
        return f'"{part}"'
    return shlex.quote(part)


async def console_exchange(call: AdminRequest) -> Response:
    """One exchange whole (redacted), with a curl line; known secrets appear as ``${SECRET}``."""
    seq = int(call.path_param) if call.path_param.isascii() and call.path_param.isdigit() and len(call.path_param) <= 9 else 0
    entry = call.mock.journal.get(seq)
    if entry is None:
        raise AdminError(404, f"no exchange {_shown(call.path_param)} in the journal (it holds the newest {call.mock.journal.size})")
    exchange = entry.public()
    host = exchange["headers"].get("host") or call.request.headers.get("host", "127.0.0.1")
    known = call.mock.secrets()
    exchange["curl"] = curl_line(exchange, f"http://{host}", known)
    text = scrub(orjson.dumps(exchange).decode(), known)
    return Response(text, media_type="application/json", headers={"Cache-Control": "no-store"})


def _rooms(call: AdminRequest) -> Rooms:
    assert call.rooms is not None
    return call.rooms


async def console_rooms(call: AdminRequest) -> Response:
    """``api=<name>``: its rooms (id, name, members, the users who see it) and its users who
    can talk; read through the API itself (:mod:`mockserver.console.rooms`)."""
    given = _query(call, ("api",))
    try:
        found = await _rooms(call).rooms(given.get("api", ""))
    except ConsoleError as error:
        raise AdminError(error.status, error.message) from None
    return JSONResponse(found)


async def console_messages(call: AdminRequest) -> Response:
    """``api``, ``room``, optional ``user`` (whose view), ``before`` (the cursor of the previous
    page) and ``limit`` (default 50): a page of messages, oldest first, and the cursor of the
    page before it (null at the start)."""
    given = _query(call, ("api", "room", "user", "before", "limit"))
    limit = _count(given, "limit", PAGE, CONSOLE_PAGE_LIMIT)
    try:
        found = await _rooms(call).messages(
            given.get("api", ""), given.get("room", ""), given.get("user") or None, given.get("before") or None, limit
        )
    except ConsoleError as error:
        raise AdminError(error.status, error.message) from None
    return JSONResponse(found)


async def console_talk(call: AdminRequest) -> Response:
    """POST ``{"api", "room", "user", "text"}`` (and ``"edit"`` or ``"delete"``: <message id>):
    sent as that user through the API's own endpoint (journaled, delivered to long polls and
    streams)."""
    body = call.body
    keys = {"api", "room", "user", "text"}
    usage = 'bad talk request: {"api", "room", "user", "text"} (and "edit" or "delete": <message id>)'
    if not isinstance(body, dict) or not keys <= set(body) or not set(body) <= keys | {"edit", "delete"} or {"edit", "delete"} <= set(body):
        raise AdminError(400, usage)
    if not all(isinstance(body[key], str) for key in body):
        raise AdminError(400, "bad talk request: every value is a string")
    try:
        found = await _rooms(call).talk(body["api"], body["room"], body["user"], body["text"], body.get("edit"), body.get("delete"))
    except ConsoleError as error:
        raise AdminError(error.status, error.message) from None
    return JSONResponse(found)


async def console_catalogue(call: AdminRequest) -> Response:
    """Every served endpoint: id, API, methods, served path, summary, statuses."""
    mock = call.mock
    endpoints = [
        {
            "id": endpoint.id,
            "api": endpoint.api,
            "methods": list(endpoint.methods),
            "path": endpoint.served_path(not mock.dispatcher.root),
            "summary": endpoint.summary,
            "statuses": sorted(endpoint.responses),
        }
        for endpoint in sorted(mock.registry.endpoints.values(), key=lambda item: item.id)
        if endpoint.api in mock.modules
    ]
    return JSONResponse({"endpoints": endpoints})


async def console_endpoint(call: AdminRequest) -> Response:
    """One endpoint: its parameter and response schemas, documented errors and examples."""
    mock = call.mock
    endpoint = mock.registry.endpoints.get(call.path_param)
    if endpoint is None or endpoint.api not in mock.modules:
        raise AdminError(404, f"no endpoint {_shown(call.path_param)} served here")
    examples = []
    for fixture in fixtures():
        if fixture.id == endpoint.id:
            try:
                examples.append({"part": fixture.part, "status": fixture.status, "source": fixture.source, "example": fixture.load()})
            except (OSError, ValueError):
                continue
    return JSONResponse(
        {
            "id": endpoint.id,
            "params": thaw(endpoint.params_schema) if endpoint.params_schema is not None else None,
            "responses": {
                str(status): {
                    "content_type": response.content_type,
                    "schema": thaw(response.schema) if response.schema is not None else None,
                }
                for status, response in endpoint.responses.items()
            },
            "errors": [{"status": case.status, "code": case.code, "when": case.when} for case in endpoint.errors],
            "examples": examples,
        }
    )


def _served_api(call: AdminRequest) -> str:
    """The API named in the path, or the admin API's 404 naming those served."""
    name = call.path_param
    if name not in call.mock.modules:
        raise AdminError(404, f"API {_shown(name)} is not served here; served: {', '.join(call.mock.modules)}")
    return name


async def openapi(call: AdminRequest) -> Response:
    mock = call.mock
    name = _served_api(call)
    base = str(call.request.base_url).rstrip("/")
    try:
        document = openapi_document(mock.registry, name, base_url=base, root=mock.dispatcher.root)
    except UnknownIdError as error:
        raise AdminError(404, str(error)) from None
    return JSONResponse(document)


async def asyncapi(call: AdminRequest) -> Response:
    """The AsyncAPI 3.0 document of an API's WebSocket protocol (its ``asyncapi_document`` hook)."""
    mock = call.mock
    name = _served_api(call)
    base = str(call.request.base_url).rstrip("/")
    document = mock.modules[name].asyncapi_document(mock.registry, base, mock.dispatcher.root)
    if document is None:
        raise AdminError(404, f"API {_shown(name)} has no realtime (WebSocket) API, so no AsyncAPI document")
    return JSONResponse(document)


async def docs(call: AdminRequest) -> Response:
    return HTMLResponse(docs_page(call.mock))


def docs_page(mock: ChatMock) -> str:
    """Every served endpoint in a table, with links to the OpenAPI documents."""
    rows = []
    for endpoint in sorted(mock.registry.endpoints.values(), key=lambda item: item.id):
        if endpoint.api not in mock.modules:
            continue
        statuses = ", ".join(str(status) for status in sorted(endpoint.responses))
        rows.append(
            f"<tr><td>{endpoint.api}</td><td><code>{endpoint.id}</code></td><td>{'|'.join(endpoint.methods)}</td>"
            f"<td><code>{endpoint.served_path(not mock.dispatcher.root)}</code></td><td>{statuses}</td>"
            f"<td>{_escape(endpoint.summary)}</td></tr>"
        )
    links = " ".join(f'<a href="{ADMIN_PREFIX}/openapi/{name}.json">{name} OpenAPI</a>' for name in mock.modules)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>chatmock</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head><body>"
        f"<h1>chatmock</h1><p>{links}</p><table><tr><th>API</th><th>id</th><th>method</th><th>path</th><th>statuses</th><th>summary</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
