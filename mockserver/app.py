"""``create_app``: one Starlette app serving the selected APIs, plus the admin API.

This is the only module that lists the APIs. Each is served under its prefix (``/gitter``,
``/rocketchat``, ``/lingr``, ``/bocco``; Gitter's stream under ``/gitter/stream``) and by
Host (``api.gitter.im``, ``stream.gitter.im``, ``lingr.com``, ``api.bocco.me``, and a
Rocket.Chat host you name), or alone at the root.
"""

from __future__ import annotations

import gc
import importlib
import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from mockserver.core.call import ApiModule
from mockserver.core.dispatch import Dispatcher, Settings
from mockserver.core.hub import Hub
from mockserver.core.journal import Journal
from mockserver.core.openapi import openapi_document
from mockserver.core.registry import Registry, UnknownIdError, load_registry
from mockserver.core.store import Store

API_NAMES = ("gitter", "rocketchat", "lingr", "bocco")
ADMIN_PREFIX = "/__chatmock"
ADMIN_HEADER = "x-chatmock-admin-token"


class ChatMock:
    """The state behind one app: registry, store, hub, journal and the API modules."""

    def __init__(self, registry: Registry, apis: Sequence[str], settings: Settings, root: bool) -> None:
        self.registry = registry
        self.settings = settings
        self.store = Store()
        self.hub = Hub()
        self.journal = Journal(settings.journal_size)
        self.modules: dict[str, ApiModule] = {}
        for name in apis:
            module = importlib.import_module(f"mockserver.apis.{name}")
            self.modules[name] = module.create(registry=registry, store=self.store, hub=self.hub, settings=settings)
        self.dispatcher = Dispatcher(registry, self.modules, settings, self.journal, root=root)

    def reset(self, world: Mapping[str, Any] | None = None) -> None:
        """Empty every API and load ``world`` (a seed document) or the default world."""
        if self.settings.freeze_gc:
            gc.unfreeze()  # the old world becomes collectable again
        self.store.reset()
        self.journal.clear()
        self.dispatcher.violations.clear()
        for name, module in self.modules.items():
            module.reset(None if world is None else world.get(name, {}))
        if self.settings.freeze_gc:
            # Everything loaded so far lives as long as the world: out of the collector's sight, so
            # full collections stay short however many messages were seeded (no latency spikes).
            gc.collect()
            gc.freeze()
            gc.collect()  # measures the (now empty) oldest generation: the next full collection comes soon and is small
            if _freeze_survivors not in gc.callbacks:
                gc.callbacks.append(_freeze_survivors)
                young, middle, _ = gc.get_threshold()
                gc.set_threshold(young, middle, 1)  # a full collection per middle one: small, frequent pauses

    def secrets(self) -> list[str]:
        return [secret for module in self.modules.values() for secret in module.secrets()]


def _freeze_survivors(phase: str, info: Mapping[str, int]) -> None:
    """After each full collection, the survivors join the permanent generation. Posted messages
    only accumulate, so otherwise every full collection walks all of them again: pauses of 300 to
    670 ms after 300,000 posted Rocket.Chat messages. With this, and a full collection after every
    middle-generation one (each then walks only what survived since the last), pauses stay near
    15 ms. Cyclic garbage that was alive at such a moment is reclaimed at the next reset (which
    unfreezes and collects); none was found after long POST runs."""
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


class ChatMockApp(Starlette):
    """Starlette serving the admin API; every other HTTP request goes straight to the
    dispatcher (no path regex in between, so any path, newlines included, gets the API's
    own 404)."""

    dispatcher: Dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not _is_admin(path):
            await self.dispatcher(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _is_admin(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) and (len(path) == len(ADMIN_PREFIX) or path[len(ADMIN_PREFIX)] == "/")


def load_world(seed: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if seed is None or isinstance(seed, Mapping):
        return seed
    return json.loads(Path(seed).read_text(encoding="utf-8"))


def create_app(
    apis: Sequence[str] | None = None,
    *,
    root: bool | None = None,
    strict: bool = False,
    longpoll_timeout: float = 30.0,
    stream_keepalive: float = 15.0,
    seed: str | Path | Mapping[str, Any] | None = None,
    journal_size: int = 500,
    body_limit: int = 1024 * 1024,
    admin_token: str | None = None,
    rocketchat_host: str | None = None,
    registry: Registry | None = None,
    freeze_gc: bool = False,
) -> Starlette:
    """The mock as an ASGI app. ``root`` (default: exactly one API selected) serves it at ``/``.

    ``freeze_gc`` (``chatmock serve`` sets it) moves each loaded world into the garbage
    collector's permanent generation: it is process-wide, so embedders opt in."""
    selected = tuple(apis or API_NAMES)
    unknown = sorted(set(selected) - set(API_NAMES))
    if unknown:
        raise ValueError(f"unknown API {unknown[0]!r}; choose from {', '.join(API_NAMES)}")
    at_root = len(selected) == 1 if root is None else root
    settings = Settings(
        strict=strict,
        body_limit=body_limit,
        journal_size=journal_size,
        longpoll_timeout=longpoll_timeout,
        stream_keepalive=stream_keepalive,
        extra_hosts={rocketchat_host.lower(): "rocketchat"} if rocketchat_host else {},
        freeze_gc=freeze_gc,
    )
    mock = ChatMock(registry or load_registry(), selected, settings, at_root)
    mock.reset(load_world(seed))
    app = ChatMockApp(routes=[Mount(ADMIN_PREFIX, routes=_admin_routes(mock, admin_token))])
    app.state.chatmock = mock
    app.dispatcher = mock.dispatcher
    return app


# the admin API ----------------------------------------------------------------------
def _admin_routes(mock: ChatMock, admin_token: str | None) -> list[Route]:
    def guarded(endpoint: Any) -> Any:
        async def run(request: Request) -> Response:
            if admin_token is not None:
                given = request.headers.get(ADMIN_HEADER, "")
                if not secrets.compare_digest(given.encode(), admin_token.encode()):
                    return JSONResponse({"error": f"admin token required in the {ADMIN_HEADER} header"}, status_code=401)
            return await endpoint(request)

        return run

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "apis": list(mock.modules), "strict": mock.settings.strict})

    async def reset(request: Request) -> Response:
        mock.reset(None)
        return JSONResponse({"status": "reset", "world": "default"})

    async def seed(request: Request) -> Response:
        try:
            world = json.loads(await request.body())
            if not isinstance(world, dict):
                raise ValueError("a seed is a JSON object keyed by API name")
            mock.reset(world)
        except (ValueError, KeyError, TypeError) as error:
            mock.reset(None)
            return JSONResponse({"error": f"bad seed: {error}"}, status_code=400)
        return JSONResponse({"status": "seeded", "apis": sorted(world)})

    async def journal(request: Request) -> Response:
        if request.method == "DELETE":
            mock.journal.clear()
            return JSONResponse({"status": "cleared"})
        return JSONResponse({"entries": mock.journal.entries()})

    async def violations(request: Request) -> Response:
        return JSONResponse({"violations": mock.dispatcher.violations})

    async def waiters(request: Request) -> Response:
        return JSONResponse({"waiting": mock.hub.waiting})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = json.loads(await request.body() or b"{}")
                if "freeze" in spec:
                    mock.store.clock.freeze(None if spec["freeze"] is None else float(spec["freeze"]))
                if "advance" in spec:
                    mock.store.clock.advance(float(spec["advance"]))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": f"bad clock request: {error}"}, status_code=400)
        return JSONResponse({"now": mock.store.clock.now().isoformat()})

    async def openapi(request: Request) -> Response:
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
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>chatmock</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head><body>"
            f"<h1>chatmock</h1><p>{links}</p><table><tr><th>API</th><th>id</th><th>method</th><th>path</th><th>statuses</th><th>summary</th></tr>"
            + "".join(rows)
            + "</table></body></html>"
        )
        return HTMLResponse(page)

    return [
        Route("/health", guarded(health)),
        Route("/reset", guarded(reset), methods=["POST"]),
        Route("/seed", guarded(seed), methods=["POST"]),
        Route("/journal", guarded(journal), methods=["GET", "DELETE"]),
        Route("/violations", guarded(violations)),
        Route("/waiters", guarded(waiters)),
        Route("/clock", guarded(clock), methods=["GET", "POST"]),
        Route("/openapi/{api}.json", guarded(openapi)),
        Route("/docs", guarded(docs)),
    ]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
