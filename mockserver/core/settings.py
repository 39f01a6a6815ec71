"""The options of one mock app, shared by the dispatcher and every API module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Settings:
    strict: bool = False  # validate every outgoing body and documented header; a violation answers 500
    body_limit: int = 1024 * 1024
    journal_size: int = 500
    longpoll_timeout: float = 30.0
    stream_keepalive: float = 15.0
    extra_hosts: Mapping[str, str] = field(default_factory=dict)  # host -> api (e.g. a Rocket.Chat host)
    freeze_gc: bool = False  # after each (re)load, gc.freeze() the world (chatmock serve; see mockserver.gcpolicy)
