"""The coverage ledger: per API, endpoint by status (and body error code) seen versus
documented, listing what was documented and never exercised, and marking the endpoints that
drift from their contract (with the cause, from :mod:`contract_tests.causes`).

Under pytest-xdist every worker keeps its own ledger and hands it to the controller at the end
(``workeroutput``); the controller merges them and is the only one to print and write the ledger.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests.checks import general_path
from mockserver.apis import API_NAMES
from mockserver.core.registry import Endpoint, Registry, load_registry

if TYPE_CHECKING:
    from contract_tests.causes import Cause, CauseBook

Key = tuple[int, str | None]  # (status, body error code)
WORKER_OUTPUT = "chatmock_ledger"


class Ledger:
    def __init__(self) -> None:
        self.seen: dict[str, dict[Key, int]] = defaultdict(lambda: defaultdict(int))

    def record(self, endpoint_id: str, status: int, code: str | None = None) -> None:
        self.seen[endpoint_id][(status, code)] += 1

    # across processes ---------------------------------------------------------------------------
    def state(self) -> list[list[Any]]:
        """What was seen, as JSON-able rows ``[endpoint, status, code, count]``."""
        return [[endpoint_id, status, code, count] for endpoint_id, seen in self.seen.items() for (status, code), count in seen.items()]

    def merge(self, rows: Iterable[Iterable[Any]]) -> None:
        """Add another ledger's :meth:`state` (an xdist worker's)."""
        for endpoint_id, status, code, count in rows:
            self.seen[str(endpoint_id)][(int(status), None if code is None else str(code))] += int(count)

    # the report ---------------------------------------------------------------------------------
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

    def report(self, registry: Registry, apis: Iterable[str], drift: Mapping[str, list[Cause]] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        drift = drift or {}
        for api in apis:
            rows = []
            for endpoint in sorted(registry.endpoints_of(api), key=lambda item: item.id):
                documented = sorted(self.documented(endpoint), key=lambda key: (key[0], key[1] or ""))
                missing = [key for key in documented if not self._covered(endpoint, key)]
                seen = self.seen.get(endpoint.id, {})
                row: dict[str, Any] = {
                    "endpoint": endpoint.id,
                    "documented": [_label(key) for key in documented],
                    "seen": {_label(key): count for key, count in sorted(seen.items(), key=lambda item: (item[0][0], item[0][1] or ""))},
                    "missing": [_label(key) for key in missing],
                }
                if endpoint.id in drift:
                    row["drift"] = [_drift_row(cause) for cause in drift[endpoint.id]]
                rows.append(row)
            total = sum(len(row["documented"]) for row in rows)
            covered = total - sum(len(row["missing"]) for row in rows)
            result[api] = {
                "covered": covered,
                "documented": total,
                "drifting": [row["endpoint"] for row in rows if row.get("drift")],
                "endpoints": rows,
            }
        return result

    def table(self, report: dict[str, Any]) -> str:
        lines = ["chatmock coverage ledger (documented status[/code]: seen count; MISSING = never exercised; DRIFT = breaks its contract)"]
        for api, data in report.items():
            drifting = f"; {len(data['drifting'])} drifting" if data.get("drifting") else ""
            lines.append(f"{api}: {data['covered']}/{data['documented']} documented responses exercised{drifting}")
            for row in data["endpoints"]:
                seen = ", ".join(f"{label}x{count}" for label, count in row["seen"].items()) or "-"
                missing = f"  MISSING {', '.join(row['missing'])}" if row["missing"] else ""
                drift = "".join(f"  DRIFT {item['where']}" for item in row.get("drift", ()))
                lines.append(f"  {row['endpoint']:<40} {seen}{missing}{drift}")
        return "\n".join(lines)

    def write_json(self, report: dict[str, Any], path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2), encoding="utf-8")


def _drift_row(cause: Cause) -> dict[str, Any]:
    return {
        "where": general_path(cause.instance_path) if cause.instance_path else cause.title,
        "title": cause.title,
        "status": cause.status,
        "problem": cause.problem,
        "instance_path": cause.instance_path,
        "schema_path": cause.schema_path,
        "observed_type": cause.observed,
        "reported_by": cause.test or None,
        "blocked": len(cause.blocked),
        "curl": cause.curl,
    }


class LedgerReport:
    """A pytest plugin object holding the session's ledger; at the end of the run it prints the
    ledger and writes it as JSON (registered by the suite's ``pytest_configure``)."""

    def __init__(self, json_path: Path, *, causes: CauseBook | None = None, apis: Iterable[str] = (), worker: bool = False) -> None:
        self.ledger = Ledger()
        self.json_path = json_path
        self.causes = causes
        self.apis = tuple(apis)
        self.worker = worker

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if self.worker and output is not None:
            output[WORKER_OUTPUT] = self.ledger.state()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist's controller: a worker is done; add its ledger."""
        self.ledger.merge(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, ()))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.worker:
            return
        drift = self.causes.by_endpoint() if self.causes is not None else {}
        if not self.ledger.seen and not drift:
            return
        seen_apis = {endpoint_id.partition(".")[0] for endpoint_id in [*self.ledger.seen, *drift]}
        apis = [api for api in API_NAMES if api in seen_apis or (api in self.apis and self.ledger.seen)]
        report = self.ledger.report(load_registry(), apis, drift)
        terminalreporter.write_sep("=", "chatmock coverage ledger")
        terminalreporter.write_line(self.ledger.table(report))
        self.ledger.write_json(report, self.json_path)
        terminalreporter.write_line(f"ledger JSON: {self.json_path}")


LEDGER_REPORT = pytest.StashKey[LedgerReport]()


def _label(key: Key) -> str:
    status, code = key
    return str(status) if code is None else f"{status}/{code}"
