"""The admin API under ``/__chatmock``: health, reset and seed, the world in force and its
credentials, journal, strict-mode violations, held requests, the clock, OpenAPI export and a
docs page.

Each route reads the app's :class:`~mockserver.mock.ChatMock` from ``request.app.state.chatmock``.
With an admin token (``request.app.state.admin_token``) every route needs it in the
``x-chatmock-admin-token`` header.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from mockserver.core.openapi import openapi_document
from mockserver.core.registry import UnknownIdError
from mockserver.mock import ChatMock

ADMIN_PREFIX = "/__chatmock"
ADMIN_HEADER = "x-chatmock-admin-token"
Endpoint = Callable[[Request], Awaitable[Response]]


def is_admin_path(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) and (len(path) == len(ADMIN_PREFIX) or path[len(ADMIN_PREFIX)] == "/")


def _mock(request: Request) -> ChatMock:
    mock: ChatMock = request.app.state.chatmock
    return mock


def guarded(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` behind the app's admin token, when it has one."""

    async def run(request: Request) -> Response:
        token: str | None = request.app.state.admin_token
        if token is not None:
            given = request.headers.get(ADMIN_HEADER, "")
            if not secrets.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"error": f"admin token required in the {ADMIN_HEADER} header"}, status_code=401)
        return await endpoint(request)

    return run


# the routes ---------------------------------------------------------------------------------
async def health(request: Request) -> Response:
    mock = _mock(request)
    return JSONResponse({"status": "ok", "apis": list(mock.modules), "strict": mock.settings.strict})


async def reset(request: Request) -> Response:
    _mock(request).reset(None)
    return JSONResponse({"status": "reset", "world": "default"})


async def seed(request: Request) -> Response:
    """POST: load a seed document (a bad one answers 400 and loads the default world); GET:
    the world document in force per API."""
    mock = _mock(request)
    if request.method == "GET":
        return JSONResponse({"seed": mock.world_documents()})
    try:
        world = json.loads(await request.body())
        if not isinstance(world, dict):
            raise ValueError("a seed is a JSON object keyed by API name")
        mock.reset(world)
    except (ValueError, KeyError, TypeError) as error:
        mock.reset(None)
        return JSONResponse({"error": f"bad seed: {error}"}, status_code=400)
    return JSONResponse({"status": "seeded", "apis": sorted(world)})


async def credentials(request: Request) -> Response:
    """API -> user name -> credentials, in the world in force."""
    return JSONResponse({"credentials": _mock(request).credentials()})


async def journal(request: Request) -> Response:
    mock = _mock(request)
    if request.method == "DELETE":
        mock.journal.clear()
        return JSONResponse({"status": "cleared"})
    return JSONResponse({"entries": mock.journal.entries()})


async def violations(request: Request) -> Response:
    return JSONResponse({"violations": _mock(request).dispatcher.violations})


async def waiters(request: Request) -> Response:
    return JSONResponse({"waiting": _mock(request).hub.waiting})


async def clock(request: Request) -> Response:
    """GET: the mock's time; POST ``{"freeze": <epoch seconds or null>, "advance": <seconds>}``."""
    store = _mock(request).store
    if request.method == "POST":
        try:
            spec = json.loads(await request.body() or b"{}")
            if "freeze" in spec:
                store.clock.freeze(None if spec["freeze"] is None else float(spec["freeze"]))
            if "advance" in spec:
                store.clock.advance(float(spec["advance"]))
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": f"bad clock request: {error}"}, status_code=400)
    return JSONResponse({"now": store.clock.now().isoformat()})


async def openapi(request: Request) -> Response:
    mock = _mock(request)
    name = request.path_params["api"]
    if name not in mock.modules:
        return JSONResponse({"error": f"API {name!r} is not served here"}, status_code=404)
    base = str(request.base_url).rstrip("/")
    try:
        document = openapi_document(mock.registry, name, base_url=base, root=mock.dispatcher.root)
    except UnknownIdError as error:
        return JSONResponse({"error": str(error)}, status_code=404)
    return JSONResponse(document)


async def docs(request: Request) -> Response:
    return HTMLResponse(docs_page(_mock(request)))


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


ROUTES = (
    ("/health", health, ["GET"]),
    ("/reset", reset, ["POST"]),
    ("/seed", seed, ["GET", "POST"]),
    ("/credentials", credentials, ["GET"]),
    ("/journal", journal, ["GET", "DELETE"]),
    ("/violations", violations, ["GET"]),
    ("/waiters", waiters, ["GET"]),
    ("/clock", clock, ["GET", "POST"]),
    ("/openapi/{api}.json", openapi, ["GET"]),
    ("/docs", docs, ["GET"]),
)


def admin_routes() -> list[Route]:
    """The admin API's routes, each behind the admin-token guard (mount them at ADMIN_PREFIX)."""
    return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in ROUTES]
