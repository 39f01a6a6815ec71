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

# The instants a clock may show: from the epoch to a year before datetime's last one (a clock
# set near the end keeps running for a while without leaving datetime's range).
EARLIEST = 0.0
LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


class ClockError(ValueError):
    """A clock setting that would leave the instants a clock may show (or is no number)."""


def instant(value: object, what: str = "time") -> float:
    """``value`` as a POSIX timestamp the clock may show: a finite number (not a boolean) or an
    ISO 8601 text (``2024-05-01T12:00:00Z``; without an offset it is UTC), from the epoch up
    to :data:`LATEST`; :class:`ClockError` otherwise."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ClockError(f"{what} {value[:40]!r} is not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _in_range(parsed.timestamp(), what)
    return _in_range(_finite(value, what), what)


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClockError(f"{what} must be a number of seconds, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float's range
        raise ClockError(f"{what} is out of range") from None
    if not math.isfinite(number):
        raise ClockError(f"{what} must be a finite number")
    return number


def _in_range(timestamp: float, what: str) -> float:
    if not EARLIEST <= timestamp <= LATEST:
        low = datetime.fromtimestamp(EARLIEST, tz=UTC).date()
        high = datetime.fromtimestamp(LATEST, tz=UTC).date()
        raise ClockError(f"{what} would be outside {low} .. {high}")
    return timestamp


class Clock:
    """Wall time, optionally frozen or offset (admin API ``/__chatmock/clock``).

    Every setting is checked (:func:`instant`): the clock never shows a time before the epoch
    or past :data:`LATEST`, so ``now()`` and every timestamp an API formats always work."""

    def __init__(self) -> None:
        self._frozen: float | None = None
        self._offset = 0.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def timestamp(self) -> float:
        return self._frozen if self._frozen is not None else time.time() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: object) -> None:
        """Stop the clock at ``at`` (epoch seconds or ISO 8601 text); None: the real clock
        again (running, no offset). :class:`ClockError` for a time the clock may not show."""
        if at is None:
            self.reset()
            return
        self._frozen = instant(at, "freeze")

    def advance(self, seconds: object) -> None:
        """Move the clock by ``seconds`` (negative: back); :class:`ClockError`, and nothing
        changed, when the result would leave the instants the clock may show."""
        step = _finite(seconds, "advance")
        _in_range(self.timestamp() + step, "advance")
        if self._frozen is not None:
            self._frozen += step
        else:
            self._offset += step

    def reset(self) -> None:
        """The real clock: running, no offset."""
        self._frozen = None
        self._offset = 0.0

    def snapshot(self) -> tuple[float | None, float]:
        """The setting in force, for :meth:`restore` (e.g. around a request of several changes)."""
        return self._frozen, self._offset

    def restore(self, snapshot: tuple[float | None, float]) -> None:
        self._frozen, self._offset = snapshot


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
