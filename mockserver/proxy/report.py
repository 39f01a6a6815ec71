"""The drift report: per endpoint, how many responses passed through and how each drifted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mockserver.proxy.check import DriftFinding


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment (they may carry credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class Drift:
    finding: DriftFinding
    status: int
    count: int = 1

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "count": self.count, **asdict(self.finding)}


@dataclass
class EndpointDrift:
    requests: int = 0
    conforming: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    drift: dict[tuple[int, str, str, str], Drift] = field(default_factory=dict)


class DriftReport:
    """Collects findings as responses pass; renders JSON (``--report``, ``/__chatmock/drift``) and a table."""

    def __init__(self, api: str, upstream: str) -> None:
        self.api = api
        self.upstream = safe_url(upstream)
        self.started = time.time()
        self.endpoints: dict[str, EndpointDrift] = {}
        self.unmatched: dict[tuple[str, str], int] = {}

    def observe(self, endpoint_id: str, status: int, findings: Iterable[DriftFinding]) -> None:
        entry = self.endpoints.setdefault(endpoint_id, EndpointDrift())
        entry.requests += 1
        entry.statuses[str(status)] = entry.statuses.get(str(status), 0) + 1
        found = list(findings)
        if not found:
            entry.conforming += 1
        self.add_findings(endpoint_id, status, found)

    def add_findings(self, endpoint_id: str, status: int, findings: Iterable[DriftFinding]) -> None:
        """Findings seen after the response was counted (stream items)."""
        entry = self.endpoints.setdefault(endpoint_id, EndpointDrift())
        for finding in findings:
            key = (status, finding.kind, finding.field, finding.schema_path)
            if key in entry.drift:
                entry.drift[key].count += 1
            else:
                entry.drift[key] = Drift(finding, status)

    def observe_unmatched(self, method: str, path: str) -> None:
        self.unmatched[(method, path)] = self.unmatched.get((method, path), 0) + 1

    def as_json(self) -> dict[str, Any]:
        endpoints = {
            endpoint_id: {
                "requests": entry.requests,
                "conforming": entry.conforming,
                "statuses": dict(sorted(entry.statuses.items())),
                "drift": [drift.as_json() for drift in entry.drift.values()],
            }
            for endpoint_id, entry in sorted(self.endpoints.items())
        }
        return {
            "api": self.api,
            "upstream": self.upstream,
            "started": _iso(self.started),
            "generated": _iso(time.time()),
            "summary": {
                "requests": sum(entry.requests for entry in self.endpoints.values()) + sum(self.unmatched.values()),
                "endpoints": len(self.endpoints),
                "drifting_endpoints": sorted(endpoint_id for endpoint_id, entry in self.endpoints.items() if entry.drift),
                "findings": sum(len(entry.drift) for entry in self.endpoints.values()),
                "unmatched": sum(self.unmatched.values()),
            },
            "endpoints": endpoints,
            "unmatched": [{"method": method, "path": path, "count": count} for (method, path), count in sorted(self.unmatched.items())],
        }

    def write(self, file: Path) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(file.name + ".tmp")
        temporary.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        temporary.replace(file)

    def table(self) -> str:
        """A short text table: one line per endpoint, then one per finding."""
        if not self.endpoints and not self.unmatched:
            return f"drift report ({self.api} via {self.upstream}): no traffic"
        width = max([len("endpoint"), *(len(name) for name in self.endpoints)])
        lines = [f"drift report ({self.api} via {self.upstream})", f"{'endpoint':<{width}}  requests  conforming  drift"]
        for endpoint_id, entry in sorted(self.endpoints.items()):
            lines.append(f"{endpoint_id:<{width}}  {entry.requests:>8}  {entry.conforming:>10}  {len(entry.drift):>5}")
            for drift in entry.drift.values():
                finding = drift.finding
                where = f" {finding.field}" if finding.field else ""
                lines.append(f"  {drift.status}{where}: {finding.problem} (x{drift.count})")
        if self.unmatched:
            lines.append(f"unmatched (no documented endpoint): {sum(self.unmatched.values())} request(s)")
            lines.extend(f"  {method} {path} (x{count})" for (method, path), count in sorted(self.unmatched.items())[:10])
        return "\n".join(lines)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
