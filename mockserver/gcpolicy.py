"""The garbage-collection policy of ``chatmock serve`` (``create_app(freeze_gc=True)``).

Everything a loaded world holds lives as long as the world, so each load moves it out of the
collector's sight (``gc.freeze``) and full collections stay short however many messages were
seeded. Messages posted later only accumulate, so after every full collection its survivors
join the frozen ones, and a full collection follows every middle-generation one (each walks
only what survived since the last). A reset unfreezes first, so the previous world is
collectable again. It is process-wide: embedders opt in.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def frozen_reload() -> Iterator[None]:
    """Around a (re)load of the worlds: unfreeze before, freeze what was loaded after (also
    after a refused seed: the world in force is frozen again)."""
    gc.unfreeze()  # the old world becomes collectable again
    try:
        yield
    finally:
        _freeze_loaded()


def _freeze_loaded() -> None:
    gc.collect()
    gc.freeze()
    gc.collect()  # measures the (now empty) oldest generation: the next full collection comes soon and is small
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 1)  # a full collection per middle one: small, frequent pauses


def freeze_survivors(phase: str, info: Mapping[str, int]) -> None:
    """After each full collection, the survivors join the permanent generation. Posted messages
    only accumulate, so otherwise every full collection walks all of them again: pauses of 300 to
    670 ms after 300,000 posted Rocket.Chat messages. With this, and a full collection after every
    middle-generation one, pauses stay near 15 ms. Cyclic garbage that was alive at such a moment
    is reclaimed at the next reset (which unfreezes and collects); none was found after long POST
    runs."""
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()
