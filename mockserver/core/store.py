"""In-memory state: one namespace per API, monotonic counters, a settable clock.

The store knows no API word; each API keeps its own tables (plain dicts and lists) in its
namespace. ``reset`` empties everything, so a world can be seeded again.
"""

from __future__ import annotations

import functools
import itertools
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Clock:
    """Wall time, optionally frozen or offset (admin API ``/__chatmock/clock``)."""

    def __init__(self) -> None:
        self._frozen: float | None = None
        self._offset = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def timestamp(self) -> float:
        return self._frozen if self._frozen is not None else time.time() + self._offset

    def freeze(self, at: float | None) -> None:
        self._frozen = at

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds


@dataclass
class Namespace:
    """One API's state: named tables and named monotonic counters."""

    name: str
    _tables: dict[str, Any] = field(default_factory=dict)
    _counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    def table(self, name: str, factory: Callable[[], Any] = dict) -> Any:
        """The table ``name``, made by ``factory`` on first use."""
        if name not in self._tables:
            self._tables[name] = factory()
        return self._tables[name]

    def next_id(self, counter: str, start: int = 1) -> int:
        if counter not in self._counters:
            self._counters[counter] = itertools.count(start)
        return next(self._counters[counter])

    def clear(self) -> None:
        self._tables.clear()
        self._counters.clear()


class Store:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._namespaces: dict[str, Namespace] = {}

    def namespace(self, name: str) -> Namespace:
        if name not in self._namespaces:
            self._namespaces[name] = Namespace(name)
        return self._namespaces[name]

    def reset(self) -> None:
        for namespace in self._namespaces.values():
            namespace.clear()


class RandomText:
    """Uniformly random strings over an ASCII alphabet, from ``secrets.token_bytes``: a byte
    below the largest multiple of the alphabet's size that fits in 256 picks
    ``alphabet[byte % size]``, a byte above it is dropped (no modulo bias). One translate of
    one random buffer per string instead of a ``secrets.choice`` per character."""

    def __init__(self, alphabet: str) -> None:
        size = len(alphabet)
        if not alphabet.isascii() or not 0 < size <= 256:
            raise ValueError("an alphabet of 1 to 256 ASCII characters")
        keep = 256 - 256 % size
        self._table = bytes(ord(alphabet[byte % size]) for byte in range(256))
        self._drop = bytes(range(keep, 256))

    def __call__(self, length: int) -> str:
        found = b""
        while len(found) < length:
            found += secrets.token_bytes(length - len(found) + 8).translate(self._table, self._drop)
        return found[:length].decode("ascii")


def iso_millis(ms: int) -> str:
    """Epoch milliseconds -> ``2016-12-09T12:50:51.555Z`` (UTC). The second's text is cached,
    so messages posted within one second format in a fraction of a ``strftime``."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


def epoch_millis(timestamp: float) -> int:
    """A POSIX timestamp -> whole milliseconds, truncated after rounding to microseconds the way
    ``datetime.fromtimestamp`` does (so ``iso_millis`` matches ``isoformat(timespec="milliseconds")``)."""
    seconds = math.floor(timestamp)
    micros = round((timestamp - seconds) * 1e6)
    return seconds * 1000 + micros // 1000


@functools.lru_cache(maxsize=1024)
def _iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()[:-6]  # without "+00:00"
