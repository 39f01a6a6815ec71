"""Event fan-out for long polls and streams: a post wakes the waiters, nothing sleep-polls.

A waiter names the topics it listens to and a ``check`` that returns what it is waiting
for (or ``None``). ``publish(topic)`` wakes every waiter of that topic, which re-runs its
check. Waiters that time out or whose client goes away are removed at once, so
``waiting`` counts exactly the held requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class Hub:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}

    @property
    def waiting(self) -> int:
        """How many distinct waiters are held right now."""
        return len({id(future) for futures in self._waiters.values() for future in futures})

    def publish(self, topic: str) -> int:
        """Wake every waiter of ``topic``; returns how many were woken."""
        futures = self._waiters.get(topic, ())
        woken = 0
        for future in list(futures):
            if not future.done():
                future.set_result(None)
                woken += 1
        return woken

    async def wait_for(self, topics: Iterable[str], check: Callable[[], T | None], timeout: float) -> T | None:
        """``check()``'s first non-None result, or None when ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        names = tuple(topics)
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            future: asyncio.Future[None] = loop.create_future()
            for name in names:
                self._waiters.setdefault(name, set()).add(future)
            timer = loop.call_later(remaining, _wake, future)
            try:
                await future
            finally:
                timer.cancel()
                for name in names:
                    waiters = self._waiters.get(name)
                    if waiters is not None:
                        waiters.discard(future)
                        if not waiters:
                            del self._waiters[name]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
