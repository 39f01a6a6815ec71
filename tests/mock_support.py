"""Assertions shared by the mock tests (a plain module: pytest advises against importing conftest).

``assert_documented`` checks a reply against its endpoint's schema record; ``assert_error_shape``
checks a core-detected problem against the API's error schema.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from starlette.testclient import TestClient

from mockserver.apis import api_class
from mockserver.app import ChatMockApp
from mockserver.core.registry import load_registry
from mockserver.core.worlds import read_world_file

REGISTRY = load_registry()


class MockApp(Protocol):
    """The ``mock_app`` fixture: ``mock_app(api, **create_app options)``."""

    def __call__(self, api: str, **options: Any) -> ChatMockApp: ...


class MockClient(Protocol):
    """The ``mock_client`` fixture: ``mock_client(api, **create_app options)``."""

    def __call__(self, api: str, **options: Any) -> TestClient: ...


def assert_documented(endpoint_id: str, response: httpx.Response, status: int = 200) -> Any:
    """The reply has ``status``, the content type the endpoint documents for it and (JSON) a body
    its schema accepts; returns the body (bytes for a binary reply)."""
    assert response.status_code == status, response.text
    documented = REGISTRY.endpoint(endpoint_id).response(status)
    assert response.headers["content-type"] == documented.content_type
    if documented.binary:
        return response.content
    body = response.json()
    if documented.checker is not None:
        assert documented.checker.errors(body) == [], body
    return body


def schema_errors(endpoint_id: str, status: int, body: Any) -> list[str]:
    """What the endpoint's schema for ``status`` finds wrong with ``body`` (nothing: [])."""
    checker = REGISTRY.endpoint(endpoint_id).response(status).checker
    return [] if checker is None else checker.errors(body)


def assert_error_shape(api: str, response: httpx.Response, status: int | None = None) -> Any:
    """A problem the core detected (no documented case): the API's content type and error
    schema, a 4xx status (``status`` when given; Lingr answers every error with 200); returns the body."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == REGISTRY.api(api).content_type
    body = response.json()
    assert REGISTRY.api(api).error_checker.errors(body) == [], body
    return body


def default_world(api: str) -> dict[str, Any]:
    """A fresh copy of the API's default world document."""
    return read_world_file(api_class(api).world_file)
