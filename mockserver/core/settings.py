"""The options of one mock app, shared by the dispatcher and every API module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEED_LIMIT = 64 * 1024 * 1024  # bytes of one /__chatmock/seed body


@dataclass
class Settings:
    strict: bool = False  # validate every outgoing body and documented header; a violation answers 500
    body_limit: int = 1024 * 1024
    journal_size: int = 500
    longpoll_timeout: float = 30.0
    stream_keepalive: float = 15.0
    extra_hosts: Mapping[str, str] = field(default_factory=dict)  # host -> api (e.g. a Rocket.Chat host)
    freeze_gc: bool = False  # after each (re)load, gc.freeze() the world (chatmock serve; see mockserver.gcpolicy)
    # Host names (besides the loopback names) the admin API answers; a request for any other
    # Host is refused (DNS rebinding). Lower-case, no port.
    admin_hosts: frozenset[str] = frozenset()
    seed_limit: int = SEED_LIMIT
    # Idle lifetime, in seconds, of the sessions and tokens the mock issues (Lingr sessions,
    # Rocket.Chat login tokens, BOCCO access tokens); None: they never expire, as on the real APIs.
    session_idle_timeout: float | None = None
    # Failed credential checks allowed per client address and minute before the API's
    # too-many-requests answer; None: no throttling (the real APIs document none).
    auth_failure_limit: int | None = None
    # Seconds a client may take to send its request body (one that declares a body); then the
    # API's 408 shape and the connection closes. 0: no deadline.
    read_timeout: float = 30.0
    # Called with every finished exchange (a journal Entry), e.g. `chatmock serve --log`; None costs nothing.
    on_exchange: Callable[[Any], None] | None = None
    # Options of one API by its name (e.g. {"rocketchat": {"version": "7.5.0"}}); each API
    # documents what it reads from its own part.
    api_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
