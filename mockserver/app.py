"""``create_app``: one Starlette app serving the selected APIs, plus the admin API.

Each API is served under its prefix (``/gitter``, ``/rocketchat``, ``/lingr``, ``/bocco``;
Gitter's stream under ``/gitter/stream``) and by Host (``api.gitter.im``, ``stream.gitter.im``,
``lingr.com``, ``api.bocco.me``, and a Rocket.Chat host you name), or alone at the root. The
APIs are those of :data:`mockserver.apis.API_NAMES`; the admin API is :mod:`mockserver.admin`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from mockserver.admin import ADMIN_HEADER, ADMIN_PREFIX, admin_routes, is_admin_path
from mockserver.apis import API_NAMES
from mockserver.core.dispatch import Dispatcher
from mockserver.core.registry import Registry, load_registry
from mockserver.core.settings import Settings
from mockserver.mock import ChatMock

__all__ = ["ADMIN_HEADER", "ADMIN_PREFIX", "API_NAMES", "ChatMockApp", "create_app", "read_seed"]


class ChatMockApp(Starlette):
    """Starlette serving the admin API; every other HTTP request goes straight to the
    dispatcher (no path regex in between, so any path, newlines included, gets the API's
    own 404)."""

    dispatcher: Dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_admin_path(scope.get("path", "")):
            await self.dispatcher(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def read_seed(seed: str | Path | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A seed document: given as is, or read from a JSON file."""
    if seed is None or isinstance(seed, Mapping):
        return seed
    loaded: Mapping[str, Any] = json.loads(Path(seed).read_text(encoding="utf-8"))
    return loaded


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
) -> ChatMockApp:
    """The mock as an ASGI app. ``root`` (default: exactly one API selected) serves it at ``/``.

    ``freeze_gc`` (``chatmock serve`` sets it) moves each loaded world into the garbage
    collector's permanent generation (:mod:`mockserver.gcpolicy`): it is process-wide, so
    embedders opt in."""
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
    mock.reset(read_seed(seed))
    app = ChatMockApp(routes=[Mount(ADMIN_PREFIX, routes=admin_routes())])
    app.state.chatmock = mock
    app.state.admin_token = admin_token
    app.dispatcher = mock.dispatcher
    return app
