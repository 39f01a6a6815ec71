"""The documented examples under ``fixtures/<api>/``, listed by each API's ``index.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.core import paths


@dataclass(frozen=True)
class Fixture:
    api: str
    file: Path
    id: str
    part: str  # response | request | model
    status: int | None
    source: str
    note: str = ""

    @property
    def name(self) -> str:
        return self.file.name

    def load(self) -> Any:
        return json.loads(self.file.read_text(encoding="utf-8"))


def load_fixtures(root: Path | None = None) -> tuple[Fixture, ...]:
    """Every fixture of every API, in index order."""
    base = root or paths.fixtures_dir()
    found: list[Fixture] = []
    for index_file in sorted(base.glob("*/index.json")):
        api = index_file.parent.name
        for entry in json.loads(index_file.read_text(encoding="utf-8")):
            found.append(
                Fixture(
                    api=api,
                    file=index_file.parent / entry["file"],
                    id=entry["id"],
                    part=entry["part"],
                    status=entry.get("status"),
                    source=entry["source"],
                    note=entry.get("note", ""),
                )
            )
    return tuple(found)


@cache
def fixtures() -> tuple[Fixture, ...]:
    return load_fixtures()
