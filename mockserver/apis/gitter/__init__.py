"""The Gitter REST v1 + Streaming API of chatmock (see :mod:`mockserver.apis.gitter.world` for the world format)."""

from __future__ import annotations

from mockserver.apis.gitter.api import GitterApi
from mockserver.core.call import ApiModule
from mockserver.core.dispatch import Settings
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.store import Store

__all__ = ["GitterApi", "create"]


def create(*, registry: Registry, store: Store, hub: Hub, settings: Settings) -> ApiModule:
    api: ApiModule = GitterApi(registry, store, hub, settings)
    return api
