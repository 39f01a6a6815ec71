"""The Lingr API of chatmock (schemas/lingr/, shared/api/lingr.md)."""

from __future__ import annotations

from mockserver.apis.lingr.api import LingrApi
from mockserver.core.dispatch import Settings
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.store import Store

__all__ = ["LingrApi", "create"]


def create(*, registry: Registry, store: Store, hub: Hub, settings: Settings) -> LingrApi:
    return LingrApi(registry, store, hub, settings)
