"""The APIs chatmock serves. ``API_NAMES`` is the one list of them: the app, the CLI, the
contract suite and the benchmarks all read it from here. Each name is a package
``mockserver.apis.<name>``; nothing here imports one (importing a world module must not load
every API)."""

from __future__ import annotations

API_NAMES: tuple[str, ...] = ("gitter", "rocketchat", "lingr", "bocco")
