"""A bounded journal of recent requests and responses, with secrets redacted by name.

Bounded twice: at most ``size`` entries, and at most :data:`TOTAL_BYTES` of request headers
and response bodies together (the oldest entries go first). A single entry keeps at most
:data:`FIELD_BYTES` of its response body and of each header value; what is cut is said in
place (``"<truncated: N bytes>"``), so a hostile header or a huge page cannot grow the
process.

Entries are numbered (``seq``, from 1, never reused, not even after a clear), so a reader
pages through them by number (:meth:`Journal.page`, :meth:`Journal.get`) and a watcher (the
console's event stream) learns of new ones through ``on_change``, called only while
``watchers`` is non-zero: with no watcher recording costs nothing more."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.core.secrets import SECRET_NAME

REDACTED = "[REDACTED]"
SECRET_KEYS = SECRET_NAME  # the name other modules import; see mockserver.core.secrets
MAX_DEPTH = 32
FIELD_BYTES = 64 * 1024  # a response body or a header value kept whole up to this size
TOTAL_BYTES = 32 * 1024 * 1024  # every entry's headers and response together


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of a JSON value with every secret-named field's value replaced; nesting deeper
    than ``MAX_DEPTH`` is cut (hostile bodies must not break the journal)."""
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        return {key: REDACTED if SECRET_NAME.match(str(key)) else redact(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, depth + 1) for item in value]
    return value


def redact_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {key: REDACTED if SECRET_NAME.match(key) else value for key, value in pairs}


def _truncated(size: int) -> str:
    return f"<truncated: {size} bytes, over the journal's {FIELD_BYTES}-byte cap>"


@dataclass(slots=True)
class Entry:
    """One exchange as it happened; secrets are redacted when it is read (:meth:`public`),
    so recording costs no copy on the request path. The dispatcher builds it by position
    (``Dispatcher._record``): a new field goes last, or there too."""

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
    api: str | None = None  # the API that answered (None: no API serves the path)
    duration: float = 0.0  # seconds from the request's arrival to its last byte sent
    size: int = 0  # bytes this entry holds (set by the journal)
    fault: str | None = None  # the fault rule that changed this exchange ("#3 rate_limit")
    principal: object = None  # who was authenticated (the API's own object): read through .user
    seq: int = 0  # the entry's number in the journal (set by the journal)

    @property
    def user(self) -> str | None:
        return principal_name(self.principal)

    def summary(self) -> dict[str, Any]:
        """What a list of exchanges shows: no headers, parameters or bodies."""
        return {
            "seq": self.seq,
            "time": self.time,
            "duration": self.duration,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "endpoint": self.endpoint,
            "user": self.user,
            "violations": len(self.violations),
            "fault": self.fault,
        }

    def public(self) -> dict[str, Any]:
        response: Any = self.response
        if isinstance(response, bytes):
            try:
                response = redact(orjson.loads(response)) if response else None
            except orjson.JSONDecodeError:
                response = "<not JSON>"
        return {
            "time": self.time,
            "duration": self.duration,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "query": redact_pairs(parse_qsl(self.raw_query.decode("utf-8", "replace"), keep_blank_values=True)),
            "headers": redact_pairs((key.decode("latin-1"), value.decode("latin-1")) for key, value in self.raw_headers),
            "params": redact(self.params),
            "status": self.status,
            "endpoint": self.endpoint,
            "response": response,
            "violations": list(self.violations),
            "fault": self.fault,
            "user": self.user,
            "seq": self.seq,
        }


NAME_ATTRIBUTES = ("username", "nickname", "name", "email", "id")


def principal_name(principal: object) -> str | None:
    """A readable name of an authenticated principal (its ``username``, ``nickname``, ``name``,
    ``email`` or ``id``, the first it has), or None."""
    if principal is None:
        return None
    for attribute in NAME_ATTRIBUTES:
        value = getattr(principal, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def _bounded(entry: Entry) -> int:
    """Cut the entry's oversized parts in place; returns the bytes it then holds. An entry
    smaller than one field's cap in all (nearly every one) is measured in one pass and left."""
    size = len(entry.response) + len(entry.raw_query)
    for name, value in entry.raw_headers:
        size += len(name) + len(value)
    if size > FIELD_BYTES:
        size = _cut(entry)
    if entry.method not in _BODILESS:
        for name, value in entry.raw_headers:
            if name == b"content-length" and value.isdigit() and len(value) <= 18:
                size += int(value)  # the parameters parsed from the body are kept too
    return size


_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _cut(entry: Entry) -> int:
    """The slow path of :func:`_bounded`: each part over its cap replaced by a note."""
    if len(entry.response) > FIELD_BYTES:
        entry.response = _truncated(len(entry.response))
    if len(entry.raw_query) > FIELD_BYTES:
        entry.raw_query = b"truncated=" + str(len(entry.raw_query)).encode()
    size = len(entry.response) + len(entry.raw_query)
    headers = entry.raw_headers
    for index, (name, value) in enumerate(headers):
        if len(value) > FIELD_BYTES:
            if headers is entry.raw_headers:
                headers = list(headers)  # the scope's own list stays untouched
            headers[index] = (name, _truncated(len(value)).encode())
        size += len(name) + len(headers[index][1])
    entry.raw_headers = headers
    return size


class Journal:
    def __init__(self, size: int = 500, total_bytes: int = TOTAL_BYTES) -> None:
        self.size = size  # 0: record nothing
        self.total_bytes = total_bytes
        self._entries: deque[Entry] = deque()
        self._bytes = 0
        self.last_seq = 0  # the number of the last entry recorded
        self.cleared = 0  # how many times it was cleared
        self.watchers = 0  # readers waiting for news (the console's event streams)
        self.on_change: Callable[[], None] | None = None  # called after a record or a clear while watched

    def record(self, entry: Entry) -> None:
        entry.size = size = _bounded(entry)
        self.last_seq = entry.seq = self.last_seq + 1
        entries = self._entries
        if entries and len(entries) >= self.size:
            self._bytes -= entries.popleft().size
        entries.append(entry)
        self._bytes += size
        while self._bytes > self.total_bytes and entries:
            self._bytes -= entries.popleft().size
        if self.watchers and self.on_change is not None:
            self.on_change()

    def get(self, seq: int) -> Entry | None:
        """The entry numbered ``seq``, if still held (numbers are consecutive: found at once)."""
        entries = self._entries
        if not entries:
            return None
        index = seq - entries[0].seq
        return entries[index] if 0 <= index < len(entries) else None

    def page(self, before: int | None, limit: int, keep: Callable[[Entry], bool] | None = None) -> tuple[list[Entry], bool]:
        """Up to ``limit`` entries numbered below ``before`` (None: from the newest), newest
        first, that ``keep`` accepts; and whether older entries remain. It reads back from
        ``before``: a page costs ``limit`` steps whatever the journal holds (a rare filter
        scans further)."""
        entries = self._entries
        found: list[Entry] = []
        if not entries:
            return found, False
        index = len(entries) - 1 if before is None else min(len(entries) - 1, before - entries[0].seq - 1)
        while index >= 0:
            entry = entries[index]
            index -= 1
            if keep is None or keep(entry):
                found.append(entry)
                if len(found) == limit:
                    break
        return found, index >= 0  # older entries remain (with a filter: perhaps none it keeps)

    def entries(self, endpoint: str | None = None, limit: int | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """The entries held, oldest first, redacted: only those of ``endpoint`` (an endpoint
        id), only those that arrived at or after ``since`` (epoch seconds), only the last
        ``limit`` of them."""
        found = [
            entry
            for entry in list(self._entries)
            if (endpoint is None or entry.endpoint == endpoint) and (since is None or entry.time >= since)
        ]
        if limit is not None:
            found = found[len(found) - limit :] if limit else []
        return [entry.public() for entry in found]

    def violations(self) -> list[dict[str, Any]]:
        return [entry.public() for entry in list(self._entries) if entry.violations]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
        self.cleared += 1
        if self.watchers and self.on_change is not None:
            self.on_change()
