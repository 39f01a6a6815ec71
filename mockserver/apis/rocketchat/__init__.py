"""Rocket.Chat REST API v1 for chatmock: ``create`` builds the API module the app mounts."""

from __future__ import annotations

from mockserver.apis.rocketchat.api import RocketChatApi
from mockserver.core.call import ApiModule
from mockserver.core.dispatch import Settings
from mockserver.core.hub import Hub
from mockserver.core.registry import Registry
from mockserver.core.store import Store

__all__ = ["RocketChatApi", "create"]


def create(*, registry: Registry, store: Store, hub: Hub, settings: Settings) -> ApiModule:
    return RocketChatApi(registry, store, hub, settings)
