"""core/hub.py: a publish wakes waiters to re-run their check; a timeout answers None; every
waiter is removed when it ends (result, timeout or cancellation), so ``waiting`` counts held requests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mockserver.core.hub import Hub


def test_a_ready_check_answers_without_waiting() -> None:
    async def main() -> None:
        hub = Hub()
        assert await hub.wait_for(["t"], lambda: "ready", timeout=5) == "ready"
        assert hub.waiting == 0

    asyncio.run(main())


def test_publish_wakes_the_waiter_which_re_checks() -> None:
    async def main() -> None:
        hub = Hub()
        box: list[str] = []
        waiter = asyncio.ensure_future(hub.wait_for(["a", "b"], lambda: box[0] if box else None, timeout=5))
        await asyncio.sleep(0)
        assert hub.waiting == 1
        assert hub.publish("a") == 1  # woken, but the check still finds nothing: waits again
        await asyncio.sleep(0)
        assert hub.waiting == 1
        box.append("news")
        assert hub.publish("b") == 1
        assert await waiter == "news"
        assert hub.waiting == 0
        assert hub.publish("a") == 0

    asyncio.run(main())


def test_timeout_answers_none_and_removes_the_waiter() -> None:
    async def main() -> None:
        hub = Hub()
        started = asyncio.get_running_loop().time()
        nothing: Callable[[], str | None] = lambda: None  # noqa: E731
        assert await hub.wait_for(["t"], nothing, timeout=0.05) is None
        assert asyncio.get_running_loop().time() - started >= 0.05
        assert hub.waiting == 0
        assert hub._waiters == {}

    asyncio.run(main())


def test_a_cancelled_waiter_is_removed() -> None:
    async def main() -> None:
        hub = Hub()
        waiter = asyncio.ensure_future(hub.wait_for(["t", "u"], lambda: None, timeout=5))
        await asyncio.sleep(0)
        assert hub.waiting == 1
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert hub.waiting == 0
        assert hub._waiters == {}

    asyncio.run(main())


def test_publish_of_an_unknown_topic_wakes_nobody() -> None:
    assert Hub().publish("nobody") == 0
