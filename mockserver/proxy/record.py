"""Recording: each JSON response written as a redacted fixture in the ``fixtures/`` layout.

``DIR/<api>/<endpoint-id>.<status>.json`` for the first response of an endpoint and status,
``<endpoint-id>.<status>.<n>.json`` (n = 2, 3, ...) for later ones, each listed in
``DIR/<api>/index.json`` with id, part ``response``, status and source
``recorded: <METHOD> <path template>`` (the template, so no id or token of a real path is
written), as :mod:`mockserver.core.fixtures` reads them. An existing directory is extended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockserver.core.registry import Endpoint
from mockserver.proxy.redact import Redactor

INDEX = "index.json"


class Recorder:
    def __init__(self, out: Path, api: str, redactor: Redactor) -> None:
        self.directory = out / api
        self.redactor = redactor
        self.directory.mkdir(parents=True, exist_ok=True)
        index_file = self.directory / INDEX
        self.index: list[dict[str, Any]] = json.loads(index_file.read_text(encoding="utf-8")) if index_file.exists() else []
        self.written: list[Path] = []

    def record(self, endpoint: Endpoint, method: str, status: int, body: Any, note: str = "") -> Path:
        """Redact ``body`` and write it as the next fixture of ``endpoint`` and ``status``."""
        redacted = self.redactor.redact(body)
        file = self._next_file(endpoint.id, status)
        _write_json(file, redacted)
        entry: dict[str, Any] = {
            "file": file.name,
            "id": endpoint.id,
            "part": "response",
            "status": status,
            "source": f"recorded: {method} {endpoint.path}",
        }
        if note:
            entry["note"] = self.redactor.text(note)
        self.index.append(entry)
        _write_json(self.directory / INDEX, self.index)
        self.written.append(file)
        return file

    def _next_file(self, endpoint_id: str, status: int) -> Path:
        file = self.directory / f"{endpoint_id}.{status}.json"
        number = 2
        while file.exists():
            file = self.directory / f"{endpoint_id}.{status}.{number}.json"
            number += 1
        return file


def _write_json(file: Path, value: Any) -> None:
    temporary = file.with_name(file.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(file)
