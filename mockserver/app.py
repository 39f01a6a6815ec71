"""``create_app``: one Starlette app serving the selected APIs, plus the admin API.

Each API is served under its prefix (``/gitter``, ``/rocketchat``, ``/lingr``, ``/bocco``;
Gitter's stream under ``/gitter/stream``) and by Host (``api.gitter.im``, ``stream.gitter.im``,
``lingr.com``, ``api.bocco.me``, and a Rocket.Chat host you name), or alone at the root. The
APIs are those of :data:`mockserver.apis.API_NAMES`; the admin API is :mod:`mockserver.admin`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from mockserver.admin import ADMIN_COOKIE, ADMIN_HEADER, ADMIN_PREFIX, AdminApi, admin_hostname, is_admin_path
from mockserver.apis import API_NAMES
from mockserver.core.dispatch import Dispatcher
from mockserver.core.journal import Entry
from mockserver.core.registry import Registry, load_registry
from mockserver.core.settings import SEED_LIMIT, Settings
from mockserver.core.sockets import serve_socket
from mockserver.mock import ChatMock

__all__ = ["ADMIN_COOKIE", "ADMIN_HEADER", "ADMIN_PREFIX", "API_NAMES", "ChatMockApp", "create_app", "read_seed"]


class ChatMockApp(Starlette):
    """Starlette holding the app's state; every HTTP request goes straight to the dispatcher
    (no path regex in between, so any path, newlines included, gets the API's own 404) or,
    under ``/__chatmock``, to the admin API (:class:`mockserver.admin.AdminApi`); every
    WebSocket to :func:`mockserver.core.sockets.serve_socket`."""

    dispatcher: Dispatcher
    admin: AdminApi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if is_admin_path(scope.get("path", "")):
                await self.admin(scope, receive, send)
            else:
                await self.dispatcher(scope, receive, send)
            return
        if scope["type"] == "websocket":  # an API's declared socket, or refused (mockserver.core.sockets)
            await serve_socket(self.dispatcher, scope, receive, send)
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
    admin_hosts: Iterable[str] = (),
    seed_limit: int = SEED_LIMIT,
    session_idle_timeout: float | None = None,
    auth_failure_limit: int | None = None,
    read_timeout: float = 30.0,
    on_exchange: Callable[[Entry], None] | None = None,
    api_options: Mapping[str, Mapping[str, str]] | None = None,
) -> ChatMockApp:
    """The mock as an ASGI app. ``root`` (default: exactly one API selected) serves it at ``/``.

    ``freeze_gc`` (``chatmock serve`` sets it) moves each loaded world into the garbage
    collector's permanent generation (:mod:`mockserver.gcpolicy`): it is process-wide, so
    embedders opt in.

    The hardening options (see :class:`~mockserver.core.settings.Settings`):
    ``admin_hosts``: Host names the admin API answers besides the loopback names (any case,
    no port); ``seed_limit``: the largest ``/__chatmock/seed`` body in bytes (413 over it);
    ``session_idle_timeout``: seconds an issued session or token lives unused (None: forever);
    ``auth_failure_limit``: failed credential checks per client and minute before the API's
    429 (None: no limit); ``read_timeout``: seconds a client may take to send its request
    body (then the API's 408 and the connection is closed; 0: no deadline); ``on_exchange``: called with every finished
    exchange (a journal :class:`~mockserver.core.journal.Entry`), journal or not.
    ``api_options``: options of one API by its name, e.g. ``{"rocketchat": {"version": "7.5.0"}}``;
    each API documents the options it reads (and refuses unknown ones)."""
    if isinstance(admin_hosts, str):
        raise TypeError("admin_hosts is a collection of host names, not one str")
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
        admin_hosts=frozenset(_host_name(host) for host in admin_hosts),
        seed_limit=seed_limit,
        session_idle_timeout=session_idle_timeout,
        auth_failure_limit=auth_failure_limit,
        read_timeout=read_timeout,
        on_exchange=on_exchange,
        api_options={name: dict(options) for name, options in (api_options or {}).items()},
    )
    mock = ChatMock(registry or load_registry(), selected, settings, at_root)
    mock.reset(read_seed(seed))
    app = ChatMockApp()
    app.state.chatmock = mock
    app.state.admin_token = admin_token
    app.dispatcher = mock.dispatcher
    app.admin = AdminApi(mock, admin_token)
    return app


def _host_name(host: str) -> str:
    """``Mock.Example:8000`` -> ``mock.example`` (an admin host is matched without its port)."""
    if isinstance(host, bytes | bytearray) or not isinstance(host, str):
        raise TypeError(f"admin_hosts holds names (str), not {type(host).__name__}")
    return admin_hostname(host.strip())
