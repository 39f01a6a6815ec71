"""Where the package's data lives, installed as a wheel or editable from a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _data_dir(name: str) -> Path:
    """``mockserver/_data/<name>`` in a wheel, ``<checkout>/<name>`` in an editable install."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"chatmock data directory {name!r} not found beside {_PACKAGE}")


def schemas_dir() -> Path:
    return _data_dir("schemas")


def fixtures_dir() -> Path:
    return _data_dir("fixtures")
