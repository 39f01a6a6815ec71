"""Fixtures shared by the unit tests: the registry and fresh mock apps and clients.

``mock_client(api, **options)`` serves one API at the root (``create_app([api], strict=True,
**options)``) through a Starlette ``TestClient``; at teardown, strict mode must have recorded no
schema violation. ``mock_app`` is the same without a client. Assertions on replies live in
``mock_support`` (a module, so tests import it instead of conftest).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mock_support import MockApp, MockClient
from starlette.testclient import TestClient

from mockserver.app import ChatMockApp, create_app
from mockserver.core.registry import Registry, load_registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def mock_app() -> Iterator[MockApp]:
    """``mock_app(api, **options)``: a fresh app serving ``api`` at the root, strict unless
    ``strict=False``; its strict-mode violations must be none at teardown."""
    made: list[ChatMockApp] = []

    def make(api: str, **options: Any) -> ChatMockApp:
        options.setdefault("strict", True)
        app = create_app([api], **options)
        made.append(app)
        return app

    yield make
    for app in made:
        assert app.state.chatmock.dispatcher.violations == []


@pytest.fixture
def mock_client(mock_app: MockApp) -> Iterator[MockClient]:
    """``mock_client(api, **options)``: a ``TestClient`` on ``mock_app(api, **options)``."""
    opened: list[TestClient] = []

    def make(api: str, **options: Any) -> TestClient:
        client = TestClient(mock_app(api, **options))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
