"""Hardening helpers every API uses alike (no API word here):

* the ``expect_*`` / ``field_*`` readers: a world document checked value
  by value, a failure naming the JSON path of the bad value in the API's part of the seed, e.g.
  ``$.users[0].createdAt: expected an ISO time string, got 5``. Paths are written only on
  failure (``where`` is the path of the object read; the readers add the key); they raise the
  core's :class:`~mockserver.core.worlds.WorldError` (path, what).
* :func:`same_secret`: two texts compared as UTF-8 bytes in constant time (``compare_digest`` on
  ``str`` raises for non-ASCII text).
* :class:`FailureLimit`: failed credential checks counted per client and 60-second window
  (``Settings.auth_failure_limit``); past the limit every credential check of that client is
  refused until the window ends.
* :class:`LastUse`: when each issued session or token was last used, oldest first, for
  ``Settings.session_idle_timeout``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from mockserver.core.call import Call
from mockserver.core.worlds import WorldError

WINDOW_SECONDS = 60.0  # FailureLimit's window
MAX_CLIENTS = 4096  # windows kept before ended ones are dropped
_MISSING: Any = object()


def describe(value: Any) -> str:
    """A short JSON-like description of a seed value for an error message."""
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def fail(where: str, wanted: str, value: Any = _MISSING) -> NoReturn:
    raise WorldError(where, f"expected {wanted}, got {describe(value)}")


def expect_object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        fail(where, "an object", value)
    return value


def expect_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        fail(where, "a list", value)
    return value


def expect_text(value: Any, where: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str) or (nonempty and not value):
        fail(where, "a non-empty string" if nonempty else "a string", value)
    return value


def field_list(spec: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """``spec[key]``, a list (absent: empty)."""
    value = spec.get(key, _MISSING)
    if value is _MISSING:
        return []
    if not isinstance(value, list):
        fail(f"{where}.{key}", "a list", value)
    return value


def field_objects(spec: Mapping[str, Any], key: str, where: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The objects listed under ``spec[key]``, each with its path (absent: none)."""
    found = []
    for index, item in enumerate(field_list(spec, key, where)):
        path = f"{where}.{key}[{index}]"
        if not isinstance(item, Mapping):
            fail(path, "an object", item)
        found.append((path, item))
    return found


def field_text(spec: Mapping[str, Any], key: str, where: str, default: str | None = None, *, nonempty: bool = False) -> str:
    """``spec[key]``, a string; ``default`` when absent (no default: required)."""
    value = spec.get(key, _MISSING)
    if value is _MISSING and default is not None:
        return default
    if not isinstance(value, str) or (nonempty and not value):
        fail(f"{where}.{key}", "a non-empty string" if nonempty else "a string", value)
    return value


def field_texts(spec: Mapping[str, Any], key: str, where: str, *, nonempty: bool = False) -> list[str]:
    """``spec[key]``, a list of strings (absent: empty)."""
    values = field_list(spec, key, where)
    for index, value in enumerate(values):
        if not isinstance(value, str) or (nonempty and not value):
            fail(f"{where}.{key}[{index}]", "a non-empty string" if nonempty else "a string", value)
    return values


def field_bool(spec: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        fail(f"{where}.{key}", "true or false", value)
    return value


def field_int(spec: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
    """``spec[key]``, an integer from ``low`` to ``high`` (absent: ``default``)."""
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fail(f"{where}.{key}", f"an integer from {low} to {high}", value)
    return value


def field_number(spec: Mapping[str, Any], key: str, where: str, default: float, low: float, high: float) -> float:
    """``spec[key]``, a finite number from ``low`` to ``high`` (absent: ``default``)."""
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and low <= value <= high):
        fail(f"{where}.{key}", f"a number from {low:g} to {high:g}", value)
    return value


def field_choice(spec: Mapping[str, Any], key: str, where: str, default: str, options: Collection[str]) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str) or value not in options:
        fail(f"{where}.{key}", "one of " + ", ".join(sorted(options)), value)
    return value


def same_secret(given: str, known: str | None) -> bool:
    """Whether ``given`` is the secret ``known``: one constant-time comparison of UTF-8 bytes,
    also when there is no secret (``known`` None), so an unknown account costs the same work
    as a wrong password."""
    if known is None:
        secrets.compare_digest(given.encode(), given.encode() + b"\0")
        return False
    return secrets.compare_digest(given.encode(), known.encode())


def client_of(call: Call) -> str:
    """The client address of a call ("" when the server gave none: then one count covers
    every client of the API)."""
    return call.client


class FailureLimit:
    """Failed credential checks per client, in windows of :data:`WINDOW_SECONDS` on the mock's
    clock. ``limit`` None: nothing is counted. After ``limit`` failures in a window every further
    check of that client is :meth:`blocked` until the window ends (a correct guess made then
    would otherwise still tell itself apart)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._windows: dict[str, list[float]] = {}  # client -> [window start, failures]

    def blocked(self, client: str, now: float) -> bool:
        if self.limit is None:
            return False
        window = self._windows.get(client)
        return window is not None and 0 <= now - window[0] < WINDOW_SECONDS and window[1] >= self.limit

    def failed(self, client: str, now: float) -> None:
        if self.limit is None:
            return
        window = self._windows.get(client)
        if window is None or not 0 <= now - window[0] < WINDOW_SECONDS:
            if len(self._windows) >= MAX_CLIENTS:
                self._drop_ended(now)
            window = self._windows[client] = [now, 0.0]
        window[1] += 1

    def _drop_ended(self, now: float) -> None:
        for client in [client for client, (start, _) in self._windows.items() if not 0 <= now - start < WINDOW_SECONDS]:
            del self._windows[client]


class LastUse:
    """When each session or token was last used, least recently used first (a use moves it to
    the end), so the idle ones are found from the front without a pass over the others."""

    def __init__(self) -> None:
        self._used: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._used)

    def __contains__(self, key: object) -> bool:
        return key in self._used

    def touch(self, key: str, now: float) -> None:
        self._used.pop(key, None)
        self._used[key] = now

    def forget(self, key: str) -> None:
        self._used.pop(key, None)

    def fresh(self, key: str, now: float, idle: float) -> bool:
        """Whether ``key`` was used less than ``idle`` seconds ago (then it counts as used now);
        an unknown key is fresh (it was never tracked: e.g. a token that does not expire)."""
        last = self._used.get(key)
        if last is None:
            return True
        if now - last > idle:
            return False
        self.touch(key, now)
        return True

    def idle(self, now: float, idle: float) -> list[str]:
        """The keys unused for more than ``idle`` seconds (oldest first; they are forgotten)."""
        found: list[str] = []
        for key, last in self._used.items():
            if now - last <= idle:
                break
            found.append(key)
        for key in found:
            del self._used[key]
        return found
