"""Per-token rate limit: ``world.rate_limit`` requests per 60 s window, measured on the store's
clock; X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (when the window ends, in
milliseconds since the epoch: dolph's ``Date.now() + ttl * 1000``, ttl in whole seconds) on every
authenticated answer, 429 beyond (rate-limiter.js, gitterHQ/dolph lib/middleware.js, issue
gitterHQ/gitter#1380, issue 42wim/matterbridge#921)."""

from __future__ import annotations

from mockserver.apis.gitter.world import World

WINDOW_SECONDS = 60.0
LIMIT_HEADER = "X-RateLimit-Limit"
REMAINING_HEADER = "X-RateLimit-Remaining"
RESET_HEADER = "X-RateLimit-Reset"


def hit(world: World, token: str, now: float) -> bool:
    """Count one request of ``token`` at ``now``; False when it is over the limit. A window ends
    60 s after its first request (or when the clock is set back by more than that)."""
    window = world.rate_windows.get(token)
    if window is None or abs(now - window[0]) >= WINDOW_SECONDS:
        window = [now, 0.0]
        world.rate_windows[token] = window
    window[1] += 1
    return window[1] <= world.rate_limit


def headers(world: World, token: str | None, now: float) -> dict[str, str]:
    """The headers after this request (counted by :func:`hit`) of ``token`` at ``now``."""
    window = world.rate_windows.get(token or "")
    if window is None:
        used, ttl = 0, WINDOW_SECONDS
    else:
        used, ttl = int(window[1]), max(0.0, window[0] + WINDOW_SECONDS - now)
    return {
        LIMIT_HEADER: str(world.rate_limit),
        REMAINING_HEADER: str(max(0, world.rate_limit - used)),
        RESET_HEADER: str(int(now * 1000) + int(ttl) * 1000),
    }
