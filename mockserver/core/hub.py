"""Event fan-out for long polls and streams: a post wakes the waiters, nothing sleep-polls.

A waiter names the topics it listens to and a ``check`` that returns what it is waiting
for (or ``None``). ``publish(topic)`` wakes every waiter of that topic, which re-runs its
check. Waiters that time out or whose client goes away are removed at once, so
``waiting`` counts exactly the held requests.

:meth:`Hub.release_all` (a reset or a seed) wakes every waiter of every topic: each runs its
check once more and then returns what it found, or None as on a timeout, so every held
request answers (or a stream ends) as its API does on a timeout, whatever it waits for.
:meth:`Hub.close` also retires the hub (the world it served was replaced): a wait begun on
it afterwards does not wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

from mockserver.core.faults import NO_WAIT

T = TypeVar("T")


class Hub:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._held: set[asyncio.Future[None]] = set()  # every waiter, whatever its topics
        self._generation = 0  # bumped by release_all: a waiter of an older generation stops waiting
        self.closed = False

    @property
    def waiting(self) -> int:
        """How many distinct waiters are held right now."""
        return len(self._held)

    def publish(self, topic: str) -> int:
        """Wake every waiter of ``topic``; returns how many were woken."""
        futures = self._waiters.get(topic, ())
        woken = 0
        for future in list(futures):
            if not future.done():
                future.set_result(None)
                woken += 1
        return woken

    def release_all(self) -> int:
        """Wake every waiter of every topic; each returns after one more check (None: as on a
        timeout). Safe to call from another thread than the waiters' loop. Returns how many."""
        self._generation += 1
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        woken = 0
        for future in list(self._held):
            if future.done():
                continue
            loop = future.get_loop()
            if loop is running:
                future.set_result(None)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)
            woken += 1
        return woken

    def close(self) -> int:
        """Release every waiter and retire the hub: a later wait checks once and returns."""
        self.closed = True
        return self.release_all()

    async def wait_for(self, topics: Iterable[str], check: Callable[[], T | None], timeout: float) -> T | None:
        """``check()``'s first non-None result, or None when ``timeout`` seconds pass first (or
        every waiter is released, or the hub is closed). Under a ``hold`` fault
        (:data:`mockserver.core.faults.NO_WAIT`) it checks once and returns at once."""
        if NO_WAIT.get():
            return check()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        names = tuple(topics)
        generation = self._generation
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or generation != self._generation or self.closed:
                return None
            future: asyncio.Future[None] = loop.create_future()
            for name in names:
                self._waiters.setdefault(name, set()).add(future)
            self._held.add(future)
            timer = loop.call_later(remaining, _wake, future)
            try:
                await future
            finally:
                timer.cancel()
                self._held.discard(future)
                for name in names:
                    waiters = self._waiters.get(name)
                    if waiters is not None:
                        waiters.discard(future)
                        if not waiters:
                            del self._waiters[name]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
