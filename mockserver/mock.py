"""``ChatMock``: the state behind one app (registry, store, hub, journal, dispatcher) and the
API modules it serves, created from the declared registry in :mod:`mockserver.apis`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from mockserver import gcpolicy
from mockserver.apis import api_class
from mockserver.core.call import ApiModule
from mockserver.core.dispatch import Dispatcher
from mockserver.core.hub import Hub
from mockserver.core.journal import Journal
from mockserver.core.registry import Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Store


class ChatMock:
    """Every API of one app over one store, hub and journal."""

    def __init__(self, registry: Registry, apis: Sequence[str], settings: Settings, root: bool) -> None:
        self.registry = registry
        self.settings = settings
        self.store = Store()
        self.hub = Hub()
        self.journal = Journal(settings.journal_size)
        self.modules: dict[str, ApiModule] = {name: api_class(name)(registry, self.store, self.hub, settings) for name in apis}
        self.dispatcher = Dispatcher(registry, self.modules, settings, self.journal, root=root)
        self._reloading: Callable[[], AbstractContextManager[None]] = (
            gcpolicy.frozen_reload if settings.freeze_gc else contextlib.nullcontext
        )

    def reset(self, world: Mapping[str, Any] | None = None) -> None:
        """Empty every API and load ``world`` (a seed document) or the default world."""
        with self._reloading():
            self.store.reset()
            self.journal.clear()
            self.dispatcher.violations.clear()
            for name, module in self.modules.items():
                module.reset(None if world is None else world.get(name, {}))

    def world_documents(self) -> dict[str, Mapping[str, Any]]:
        """Each API's world document in force (the default world or its part of the seed)."""
        return {name: module.world_document() for name, module in self.modules.items()}

    def credentials(self) -> dict[str, dict[str, dict[str, str]]]:
        """API -> user name -> that user's credentials in the world in force."""
        return {name: module.credentials() for name, module in self.modules.items()}

    def secrets(self) -> list[str]:
        return [secret for module in self.modules.values() for secret in module.secrets()]
