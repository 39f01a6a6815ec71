"""The coverage ledger: per API, endpoint by status (and body error code) seen versus
documented, listing what was documented and never exercised."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from mockserver.apis import API_NAMES
from mockserver.core.registry import Endpoint, Registry, load_registry

Key = tuple[int, str | None]  # (status, body error code)


class Ledger:
    def __init__(self) -> None:
        self.seen: dict[str, dict[Key, int]] = defaultdict(lambda: defaultdict(int))

    def record(self, endpoint_id: str, status: int, code: str | None = None) -> None:
        self.seen[endpoint_id][(status, code)] += 1

    @staticmethod
    def documented(endpoint: Endpoint) -> set[Key]:
        keys: set[Key] = {(status, None) for status in endpoint.responses}
        keys.update((case.status, str(case.code)) for case in endpoint.errors if case.code is not None)
        return keys

    def _covered(self, endpoint: Endpoint, key: Key) -> bool:
        seen = self.seen.get(endpoint.id, {})
        status, code = key
        if code is None:
            return any(seen_status == status for seen_status, _ in seen)
        return (status, code) in seen

    def report(self, registry: Registry, apis: Iterable[str]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for api in apis:
            rows = []
            for endpoint in sorted(registry.endpoints_of(api), key=lambda item: item.id):
                documented = sorted(self.documented(endpoint), key=lambda key: (key[0], key[1] or ""))
                missing = [key for key in documented if not self._covered(endpoint, key)]
                seen = self.seen.get(endpoint.id, {})
                rows.append(
                    {
                        "endpoint": endpoint.id,
                        "documented": [_label(key) for key in documented],
                        "seen": {
                            _label(key): count for key, count in sorted(seen.items(), key=lambda item: (item[0][0], item[0][1] or ""))
                        },
                        "missing": [_label(key) for key in missing],
                    }
                )
            total = sum(len(row["documented"]) for row in rows)
            covered = total - sum(len(row["missing"]) for row in rows)
            result[api] = {"covered": covered, "documented": total, "endpoints": rows}
        return result

    def table(self, report: dict[str, Any]) -> str:
        lines = ["chatmock coverage ledger (documented status[/code]: seen count; MISSING = never exercised)"]
        for api, data in report.items():
            lines.append(f"{api}: {data['covered']}/{data['documented']} documented responses exercised")
            for row in data["endpoints"]:
                seen = ", ".join(f"{label}x{count}" for label, count in row["seen"].items()) or "-"
                missing = f"  MISSING {', '.join(row['missing'])}" if row["missing"] else ""
                lines.append(f"  {row['endpoint']:<40} {seen}{missing}")
        return "\n".join(lines)

    def write_json(self, report: dict[str, Any], path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")


class LedgerReport:
    """A pytest plugin object holding the session's ledger; at the end of the run it prints the
    ledger and writes it as JSON (registered by the suite's ``pytest_configure``)."""

    def __init__(self, json_path: Path) -> None:
        self.ledger = Ledger()
        self.json_path = json_path

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        ledger = self.ledger
        if not ledger.seen:
            return
        apis = [api for api in API_NAMES if any(endpoint_id.startswith(api + ".") for endpoint_id in ledger.seen)]
        report = ledger.report(load_registry(), apis)
        terminalreporter.write_sep("=", "chatmock coverage ledger")
        terminalreporter.write_line(ledger.table(report))
        ledger.write_json(report, self.json_path)
        terminalreporter.write_line(f"ledger JSON: {self.json_path}")


LEDGER_REPORT = pytest.StashKey[LedgerReport]()


def _label(key: Key) -> str:
    status, code = key
    return str(status) if code is None else f"{status}/{code}"
