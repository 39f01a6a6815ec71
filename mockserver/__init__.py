"""chatmock's mock server and schema registry: ``from mockserver import create_app``.

``create_app`` is imported on first use (PEP 562), so ``import mockserver`` alone stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
