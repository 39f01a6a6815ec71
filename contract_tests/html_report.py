"""The self-contained HTML report of ``chatmock validate``: summary, the API's endpoints (from
the registry) with their coverage ledger row, and every failure with its curl line.

No scripts, no external resources; every text is escaped, and passed through ``scrub``."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockserver.core.registry import load_registry

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ok{color:#1a7f37}.bad{color:#b42318}.missing{color:#9a6700}
code,pre{font-family:ui-monospace,monospace;font-size:90%}pre{background:#f6f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap}
.summary span{margin-right:1.5em}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _endpoint_rows(api: str, ledger: dict[str, Any]) -> str:
    rows_by_id = {row["endpoint"]: row for row in ledger.get(api, {}).get("endpoints", [])}
    registry = load_registry()
    rows = []
    for endpoint in sorted(registry.endpoints_of(api), key=lambda item: item.id):
        row = rows_by_id.get(endpoint.id, {})
        seen = ", ".join(f"{label}&times;{_e(count)}" for label, count in row.get("seen", {}).items()) or "-"
        missing = ", ".join(_e(label) for label in row.get("missing", [])) or ""
        documented = ", ".join(_e(label) for label in row.get("documented", [])) or ", ".join(
            str(status) for status in sorted(endpoint.responses)
        )
        rows.append(
            f"<tr><td><code>{_e(endpoint.id)}</code></td><td>{_e('|'.join(endpoint.methods))}</td>"
            f"<td><code>{_e(endpoint.server.url + endpoint.path)}</code></td><td>{_e(endpoint.summary)}</td>"
            f"<td>{documented}</td><td class='ok'>{seen}</td><td class='missing'>{missing}</td></tr>"
        )
    return "".join(rows)


def _ledger_summary(api: str, ledger: dict[str, Any]) -> str:
    data = ledger.get(api)
    if not data:
        return "<p>No coverage ledger was written (no request reached the server).</p>"
    return f"<p>Coverage ledger: <b>{_e(data['covered'])}/{_e(data['documented'])}</b> documented responses exercised.</p>"


def _failures(results: Any, scrub: Callable[[str], str]) -> str:
    if not results.failed:
        return "<p class='ok'>No failures.</p>"
    parts = []
    for failure in results.failed:
        curls = "".join(f"<pre>{_e(scrub(line))}</pre>" for line in failure.curl) or "<p>(no curl line)</p>"
        parts.append(
            f"<h3 class='bad'>{_e(failure.kind)}: <code>{_e(scrub(failure.test))}</code></h3>"
            f"<p>{_e(scrub(failure.message.splitlines()[0] if failure.message else ''))}</p>"
            f"<p>Reproduce:</p>{curls}<details><summary>details</summary><pre>{_e(scrub(failure.detail))}</pre></details>"
        )
    return "".join(parts)


def render_html(
    *, api: str, base_url: str, started: float, exit_code: int, results: Any, ledger: dict[str, Any], scrub: Callable[[str], str]
) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started))
    verdict = "ok" if exit_code == 0 else "bad"
    summary = (
        f"<p class='summary'><span>API <b>{_e(api)}</b></span><span>base URL <code>{_e(base_url)}</code></span><span>{_e(when)}</span></p>"
        f"<p class='summary {verdict}'><span>{results.passed} passed</span><span>{results.failures} failed</span>"
        f"<span>{results.errors} errors</span><span>{results.skipped} skipped</span><span>{results.seconds:.1f} s</span>"
        f"<span>pytest exit code {exit_code}</span></p>"
    )
    body = (
        f"<h1>chatmock validate: {_e(api)}</h1>{summary}"
        f"<h2>Endpoints and coverage ledger</h2>{_ledger_summary(api, ledger)}"
        "<table><tr><th>endpoint</th><th>method</th><th>real URL</th><th>summary</th><th>documented</th><th>seen</th>"
        f"<th>missing</th></tr>{_endpoint_rows(api, ledger)}</table>"
        f"<h2>Failures</h2>{_failures(results, scrub)}"
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>chatmock validate {_e(api)}</title><style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
    return scrub(page)


def write_html(path: Path, **parts: Any) -> None:
    path.write_text(render_html(**parts), encoding="utf-8")
