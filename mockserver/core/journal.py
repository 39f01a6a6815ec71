"""A bounded journal of recent requests and responses, with secrets redacted by field."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

REDACTED = "[REDACTED]"
SECRET_KEYS = re.compile(
    r"^(password|pass|passwd|token|access_token|authtoken|auth_token|refresh_token|session|session_id|"
    r"apikey|api_key|app_key|resume|secret|x-auth-token|authorization|cookie|set-cookie|x-chatmock-admin-token)$",
    re.IGNORECASE,
)


MAX_DEPTH = 32


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value with every secret-named field's value replaced; nesting deeper
    than ``MAX_DEPTH`` is cut (hostile bodies must not break the journal)."""
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        return {key: REDACTED if SECRET_KEYS.match(str(key)) else redact(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, depth + 1) for item in value]
    return value


def redact_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key: REDACTED if SECRET_KEYS.match(key) else value for key, value in pairs}


@dataclass(slots=True)
class Entry:
    """One exchange as it happened; secrets are redacted when it is read (:meth:`public`),
    so recording costs no copy on the request path."""

    time: float
    method: str
    path: str
    raw_query: bytes  # as the ASGI scope gave them: decoded only when read
    raw_headers: list[tuple[bytes, bytes]]
    params: Any
    status: int
    endpoint: str | None
    response: bytes | str  # the encoded JSON body, or a label for other replies
    violations: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        response: Any = self.response
        if isinstance(response, bytes):
            try:
                response = redact(orjson.loads(response)) if response else None
            except orjson.JSONDecodeError:
                response = "<not JSON>"
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": redact_pairs(parse_qsl(self.raw_query.decode("utf-8", "replace"), keep_blank_values=True)),
            "headers": redact_pairs((key.decode("latin-1"), value.decode("latin-1")) for key, value in self.raw_headers),
            "params": redact(self.params),
            "status": self.status,
            "endpoint": self.endpoint,
            "response": response,
            "violations": list(self.violations),
        }


class Journal:
    def __init__(self, size: int = 500) -> None:
        self.size = size  # 0: record nothing
        self._entries: deque[Entry] = deque(maxlen=size)

    def record(self, entry: Entry) -> None:
        self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        return [entry.public() for entry in list(self._entries)]

    def violations(self) -> list[dict[str, Any]]:
        return [entry.public() for entry in list(self._entries) if entry.violations]

    def clear(self) -> None:
        self._entries.clear()
