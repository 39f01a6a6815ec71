"""The BOCCO API (alpha) of chatmock: ``create`` builds the module the app mounts."""

from __future__ import annotations

from mockserver.apis.bocco.api import BoccoApi
from mockserver.core.dispatch import Settings
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.store import Store


def create(*, registry: Registry, store: Store, hub: Hub, settings: Settings) -> BoccoApi:
    return BoccoApi(registry, store, hub, settings)


__all__ = ["BoccoApi", "create"]
