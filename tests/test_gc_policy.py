"""``create_app(freeze_gc=True)`` (what ``chatmock serve`` uses): the loaded world leaves the
collector's sight, later full collections freeze their survivors, and a reset makes everything
collectable again first. Process-wide, so the test restores the collector afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from mockserver import gcpolicy
from mockserver.app import create_app


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        if gcpolicy.freeze_survivors in gc.callbacks:
            gc.callbacks.remove(gcpolicy.freeze_survivors)
        gc.set_threshold(*threshold)
        gc.unfreeze()


def test_serve_policy_freezes_the_world_and_the_survivors_of_full_collections(restored_gc: None) -> None:
    application = create_app(["lingr"], freeze_gc=True)
    assert gcpolicy.freeze_survivors in gc.callbacks
    assert gc.get_threshold()[2] == 1
    frozen_after_load = gc.get_freeze_count()
    assert frozen_after_load > 1000
    with TestClient(application) as client:
        session = client.post("/api/session/create", data={"user": "alice", "password": "alice-password"}).json()["session"]
        for index in range(50):
            said = client.post("/api/room/say", data={"session": session, "room": "lounge", "text": f"hello {index}"})
            assert said.json()["status"] == "ok"
        gc.collect()  # a full collection: its survivors (the new messages among them) join the frozen ones
        assert gc.get_freeze_count() > frozen_after_load
        assert gc.get_count()[2] == 0
        client.post("/__chatmock/reset")
        # the reset unfroze, dropped the old world (collectable again) and froze the new one
        assert gc.get_freeze_count() > 1000


def test_without_the_policy_nothing_is_frozen(restored_gc: None) -> None:
    gc.unfreeze()
    create_app(["lingr"])
    assert gc.get_freeze_count() == 0
    assert gcpolicy.freeze_survivors not in gc.callbacks
