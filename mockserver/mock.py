"""``ChatMock``: the state behind one app (registry, store, hub, journal, dispatcher) and the
API modules it serves, created from the declared registry in :mod:`mockserver.apis`.

A reset or a seed is a transaction: every API loads its world into a scratch copy (a fresh
:class:`Store` on the same clock, a fresh :class:`Hub`, fresh API instances from the same
registry and settings), and only when every one loaded are they swapped in. A seed that fails
anywhere, whatever the exception, raises :class:`SeedError` and leaves the world in force
exactly as it was. After a swap the old instances are retired and their hub closed, so every
request held on the old world answers (or its stream ends) at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from mockserver import gcpolicy
from mockserver.apis import API_NAMES, api_class
from mockserver.core.call import ApiModule, ViolationSink
from mockserver.core.dispatch import Dispatcher
from mockserver.core.faults import Faults
from mockserver.core.hub import Hub
from mockserver.core.journal import Journal
from mockserver.core.registry import Registry
from mockserver.core.settings import Settings
from mockserver.core.store import Clock, Store
from mockserver.core.worlds import WorldError

log = logging.getLogger("chatmock")
JOURNAL_TOPIC = "journal"


class SeedError(ValueError):
    """A seed document that cannot be loaded; the message is one line,
    ``<api>: <path>: <what>`` (``/__chatmock/seed`` answers ``bad seed: <message>``)."""


def describe_failure(api: str, error: BaseException) -> str:
    """One line naming the API, the path in its world document (``$`` when the loader did not
    say) and what is wrong."""
    path, what = getattr(error, "path", None), getattr(error, "what", None)
    if isinstance(error, WorldError) or (isinstance(path, str) and isinstance(what, str)):  # an API's own WorldError too
        path, what = str(path), str(what)
    else:
        path = "$"
        what = str(error) if isinstance(error, ValueError) and str(error) else f"{type(error).__name__}: {error}"
    what = " ".join(what.split())
    return f"{api}: {path}: {what if len(what) <= 300 else what[:300] + '...'}"


class ChatMock:
    """Every API of one app over one store, hub and journal."""

    def __init__(self, registry: Registry, apis: Sequence[str], settings: Settings, root: bool) -> None:
        self.registry = registry
        self.settings = settings
        self.clock = Clock()
        self.store = Store(self.clock)
        self.hub = Hub()
        self.journal = Journal(settings.journal_size)
        self.faults = Faults()  # fault rules (mockserver.core.faults); a reset clears them
        # the console's events: journal news, published only while a console watches (never replaced)
        self.console_hub = Hub()
        self.journal.on_change = self._journal_changed
        self.modules: dict[str, ApiModule] = {name: api_class(name)(registry, self.store, self.hub, settings) for name in apis}
        self.dispatcher = Dispatcher(registry, self.modules, settings, self.journal, root=root, faults=self.faults)
        # the modules' own strict-mode findings (a WebSocket frame) go to the dispatcher's list
        self.violation_sink = ViolationSink(self.dispatcher.violations)
        for module in self.modules.values():
            module.violation_sink = self.violation_sink
        self._reloading: Callable[[], AbstractContextManager[None]] = (
            gcpolicy.frozen_reload if settings.freeze_gc else contextlib.nullcontext
        )

    def _journal_changed(self) -> None:
        self.console_hub.publish(JOURNAL_TOPIC)

    def reset(self, world: Mapping[str, Any] | None = None) -> None:
        """Load ``world`` (a seed document: API name -> that API's world document; an API it
        does not name gets an empty world) or, with None, every default world on the real
        clock (a seed keeps the clock as it is). Journal, violations and fault rules are emptied and every
        held request is released.

        :class:`SeedError` (a ValueError) when the document is not a JSON object, names an
        API chatmock does not know, gives an API a world that is not an object, or any API
        fails to load its part; nothing changed then. An API chatmock knows but this app does
        not serve is ignored."""
        parts = self._parts(world)
        if world is None:
            self.clock.reset()
        with self._reloading():
            store, hub = Store(self.clock), Hub()
            fresh: dict[str, ApiModule] = {}
            for name in self.modules:
                try:
                    module: ApiModule = api_class(name)(self.registry, store, hub, self.settings)
                    module.violation_sink = self.violation_sink
                    module.reset(None if parts is None else parts.get(name, {}))
                except Exception as error:  # a loader's bug must not leave half a world either
                    raise SeedError(describe_failure(name, error)) from error
                fresh[name] = module
            retired, old_hub = dict(self.modules), self.hub
            self.store, self.hub = store, hub
            self.modules.update(fresh)
            self.dispatcher.serve(fresh)
            self.journal.clear()
            self.dispatcher.violations.clear()
            self.faults.clear()
        for name, module in retired.items():
            try:
                module.retire(fresh[name])
            except Exception:
                log.exception("retiring the previous %s world failed", name)
        old_hub.close()

    @staticmethod
    def _parts(world: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if world is None:
            return None
        if not isinstance(world, Mapping):
            raise SeedError(f"$: a seed is a JSON object keyed by API name ({', '.join(API_NAMES)}), not {type(world).__name__}")
        for name, part in world.items():
            if name not in API_NAMES:
                raise SeedError(f"{str(name)[:60]!r}: no such API; a seed is keyed by API name ({', '.join(API_NAMES)})")
            if not isinstance(part, Mapping):
                raise SeedError(f"{name}: $: a world is a JSON object, not {type(part).__name__}")
        return world

    def world_documents(self) -> dict[str, Mapping[str, Any]]:
        """Each API's world document in force (the default world or its part of the seed)."""
        return {name: module.world_document() for name, module in self.modules.items()}

    def credentials(self) -> dict[str, dict[str, dict[str, str]]]:
        """API -> user name -> that user's credentials in the world in force."""
        return {name: module.credentials() for name, module in self.modules.items()}

    def secrets(self) -> list[str]:
        return [secret for module in self.modules.values() for secret in module.secrets()]
