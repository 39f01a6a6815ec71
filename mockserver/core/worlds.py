"""Reading world documents (the per-API parts of a seed file): the JSON file of a default
world, and the small pieces each API's ``credentials`` function is built from. No API word."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

Credentials = dict[str, dict[str, str]]  # user name -> that user's credentials, by parameter name


class WorldError(ValueError):
    """A world document an API cannot load: where (a JSON path into the API's part of the
    seed, e.g. ``$.users[0].username``) and what is wrong. ``/__chatmock/seed`` answers it as
    ``bad seed: <api>: <path>: <what>``; any other exception of a loader is reported with
    the path ``$``."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path
        self.what = what


def read_world_file(path: Path) -> dict[str, Any]:
    """A world document from a JSON file; a world is a JSON object."""
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{path.name} must hold a JSON object")
    return loaded


def first(values: Any) -> Any:
    """The first item of a JSON list, or None."""
    return values[0] if isinstance(values, list) and values else None


def entries(document: Mapping[str, Any], key: str) -> Iterator[Mapping[str, Any]]:
    """The objects listed under ``key`` (anything else there is skipped)."""
    listed = document.get(key, [])
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, Mapping):
            yield item


def given(values: Mapping[str, Any]) -> dict[str, str]:
    """Only the non-empty string values: a credential the world does not give is left out."""
    return {key: value for key, value in values.items() if isinstance(value, str) and value}
