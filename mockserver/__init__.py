"""chatmock's mock server and schema registry."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The Starlette app serving the selected APIs (see :func:`mockserver.app.create_app`)."""
    from mockserver.app import create_app as _create_app

    return _create_app(*args, **kwargs)
