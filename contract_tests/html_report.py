"""The self-contained HTML report of ``chatmock validate``.

In reading order: the verdict; the drift, one entry per cause (endpoint, instance path, schema
path, observed type, the test that reports it, the tests it blocked, a curl line); the other
failures; why tests were skipped, grouped by reason; the API's endpoints (from the registry)
with their coverage ledger row, drifting ones marked.

No scripts, no external resources; every text is escaped and passed through ``scrub``. Long
lines wrap, so the page fits a 1280-pixel window without scrolling sideways.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mockserver.core.registry import load_registry

EXIT_MEANINGS = {
    0: "every test that ran passed",
    1: "tests failed",
    2: "the run could not start or was interrupted",
    4: "pytest usage error",
    5: "no test ran: nothing was validated",
}

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1240px;overflow-wrap:break-word}
table{border-collapse:collapse;margin:1em 0;width:100%;table-layout:fixed}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f3f3f3}
col.id{width:19%}col.method{width:6%}col.url{width:22%}col.summary{width:17%}col.doc{width:12%}col.seen{width:14%}col.missing{width:10%}
td ul{margin:0;padding-left:1.2em}
.ok{color:#1a7f37}.bad{color:#b42318}.missing{color:#9a6700}.none{color:#666}
tr.drift td{background:#fff1f0}.badge{display:inline-block;background:#b42318;color:#fff;border-radius:3px;padding:0 4px;font-size:80%}
code,pre{font-family:ui-monospace,monospace;font-size:90%}
pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}
td code{overflow-wrap:anywhere}
.cause{border-left:4px solid #b42318;padding:.2em .8em;margin:1em 0}
.cause dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0}.cause dt{color:#555}.cause dd{margin:0}
.summary span{margin-right:1.5em}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _drift_rows(api: str, ledger: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    rows = ledger.get(api, {}).get("endpoints", [])
    return {row["endpoint"]: row["drift"] for row in rows if row.get("drift")}


def _endpoint_rows(api: str, base_url: str, ledger: dict[str, Any]) -> str:
    rows_by_id = {row["endpoint"]: row for row in ledger.get(api, {}).get("endpoints", [])}
    registry = load_registry()
    primary = registry.api(api).servers[0]
    rows = []
    for endpoint in sorted(registry.endpoints_of(api), key=lambda item: item.id):
        row = rows_by_id.get(endpoint.id, {})
        seen = "<br>".join(f"{_e(label)}&nbsp;&times;{_e(count)}" for label, count in row.get("seen", {}).items())
        seen_cell = f"<td class='ok'>{seen}</td>" if seen else "<td class='none'>not seen</td>"
        missing = "<br>".join(_e(label) for label in row.get("missing", []))
        documented = "<br>".join(_e(label) for label in row.get("documented", [])) or "<br>".join(
            str(status) for status in sorted(endpoint.responses)
        )
        url = (base_url if endpoint.server == primary and base_url else endpoint.server.url) + endpoint.path
        drift = row.get("drift") or []
        badge = "".join(f" <span class='badge' title='{_e(item.get('problem', ''))}'>drift</span>" for item in drift[:1])
        where = "".join(f"<br><small class='bad'>{_e(item.get('where', ''))}</small>" for item in drift)
        rows.append(
            f"<tr{' class=drift' if drift else ''}><td><code>{_e(endpoint.id)}</code>{badge}{where}</td>"
            f"<td>{'<br>'.join(_e(method) for method in endpoint.methods)}</td><td><code>{_e(url)}</code></td><td>{_e(endpoint.summary)}</td>"
            f"<td>{documented}</td>{seen_cell}<td class='missing'>{missing}</td></tr>"
        )
    return "".join(rows)


def _ledger_summary(api: str, ledger: dict[str, Any]) -> str:
    data = ledger.get(api)
    if not data:
        return "<p>No coverage ledger was written (no request reached the server).</p>"
    drifting = data.get("drifting") or []
    marked = f" <span class='bad'>{len(drifting)} endpoint(s) drift from their contract.</span>" if drifting else ""
    return f"<p>Coverage ledger: <b>{_e(data['covered'])}/{_e(data['documented'])}</b> documented responses exercised.{marked}</p>"


def _tests_list(tests: Iterable[str], scrub: Callable[[str], str], limit: int = 200) -> str:
    shown = list(tests)
    items = "".join(f"<li><code>{_e(scrub(test))}</code></li>" for test in shown[:limit])
    more = f"<li>... and {len(shown) - limit} more</li>" if len(shown) > limit else ""
    return f"<ul>{items}{more}</ul>"


def _causes(api: str, results: Any, ledger: dict[str, Any], scrub: Callable[[str], str]) -> str:
    """One entry per cause: from the ledger's drift, with the blocked tests from the JUnit XML."""
    blocked_by: dict[str, list[str]] = {}
    for skip in results.skips:
        if skip.blocked_by:
            blocked_by.setdefault(skip.blocked_by, []).append(skip.test)
    parts = []
    for endpoint_id, drifts in sorted(_drift_rows(api, ledger).items()):
        for drift in drifts:
            title = drift.get("title", endpoint_id)
            facts = [
                ("endpoint", f"<code>{_e(endpoint_id)}</code>"),
                ("problem", _e(scrub(drift.get("problem", "")))),
                ("instance path", f"<code>{_e(drift.get('instance_path') or '-')}</code>"),
                ("schema path", f"<code>{_e(drift.get('schema_path') or '-')}</code>"),
                ("observed type", _e(drift.get("observed_type") or "-")),
                ("status", _e(drift.get("status") or "-")),
                (
                    "reported by",
                    f"<code>{_e(scrub(drift['reported_by']))}</code>"
                    if drift.get("reported_by")
                    else "no test of this endpoint failed on it: it was met in the calls that prepare other tests",
                ),
            ]
            dl = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
            curl = f"<p>Reproduce:</p><pre>{_e(scrub(drift['curl']))}</pre>" if drift.get("curl") else ""
            blocked = blocked_by.get(title, [])
            listed = (
                f"<details><summary>{len(blocked)} test(s) blocked by it (skipped)</summary>{_tests_list(blocked, scrub)}</details>"
                if blocked
                else ""
            )
            parts.append(f"<div class='cause'><h3 class='bad'>{_e(scrub(title))}</h3><dl>{dl}</dl>{curl}{listed}</div>")
    return "".join(parts)


def _failures(results: Any, covered: set[str], scrub: Callable[[str], str]) -> str:
    """Failures not already shown as a cause (a cause's own failure is listed there)."""
    parts = []
    for failure in results.failed:
        if failure.cause and failure.cause in covered:
            continue
        curls = "".join(f"<pre>{_e(scrub(line))}</pre>" for line in failure.curl) or "<p>(no request to reproduce)</p>"
        cause = f"<p>Cause: {_e(scrub(failure.cause))}</p>" if failure.cause else ""
        parts.append(
            f"<h3 class='bad'>{_e(failure.kind)}: <code>{_e(scrub(failure.test))}</code></h3>{cause}"
            f"<p>{_e(scrub(failure.message.splitlines()[0] if failure.message else ''))}</p>"
            f"<p>Reproduce:</p>{curls}<details><summary>details</summary><pre>{_e(scrub(failure.detail))}</pre></details>"
        )
    return "".join(parts)


def _skips(results: Any, scrub: Callable[[str], str]) -> str:
    if not results.skips:
        return "<p>No test was skipped.</p>"
    reasons = Counter(skip.reason for skip in results.skips)
    rows = []
    for reason, count in reasons.most_common():
        tests = [skip.test for skip in results.skips if skip.reason == reason]
        rows.append(
            f"<tr><td>{count}</td><td>{_e(scrub(reason))}<details><summary>tests</summary>{_tests_list(tests, scrub)}</details></td></tr>"
        )
    return f"<table><colgroup><col style='width:6em'><col></colgroup><tr><th>tests</th><th>reason</th></tr>{''.join(rows)}</table>"


def render_html(
    *, api: str, base_url: str, started: float, exit_code: int, results: Any, ledger: dict[str, Any], scrub: Callable[[str], str]
) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started))
    verdict = "ok" if exit_code == 0 else "bad"
    meaning = EXIT_MEANINGS.get(exit_code, "")
    blocked = f"<span>{results.blocked} of them blocked by a cause</span>" if results.blocked else ""
    summary = (
        f"<p class='summary'><span>API <b>{_e(api)}</b></span><span>base URL <code>{_e(base_url)}</code></span><span>{_e(when)}</span></p>"
        f"<p class='summary {verdict}'><span>{results.passed} passed</span><span>{results.failures} failed</span>"
        f"<span>{results.errors} errors</span><span>{results.skipped} skipped</span>{blocked}<span>{results.seconds:.1f} s</span>"
        f"<span>exit code {exit_code}{f': {_e(meaning)}' if meaning else ''}</span></p>"
    )
    causes = _causes(api, results, ledger, scrub)
    covered = {drift.get("title", "") for drifts in _drift_rows(api, ledger).values() for drift in drifts}
    others = _failures(results, covered, scrub)
    if not causes and not others:
        failures = "<p class='ok'>No failures.</p>" if exit_code == 0 else f"<p class='bad'>No test failed, but: {_e(meaning)}.</p>"
    else:
        failures = (f"<h3>Drift, by cause</h3>{causes}" if causes else "") + (f"<h3>Other failures</h3>{others}" if others else "")
    body = (
        f"<h1>chatmock validate: {_e(api)}</h1>{summary}"
        f"<h2>Failures</h2>{failures}"
        f"<h2>Skipped, by reason</h2>{_skips(results, scrub)}"
        f"<h2>Endpoints and coverage ledger</h2>{_ledger_summary(api, ledger)}"
        "<table><colgroup><col class=id><col class=method><col class=url><col class=summary><col class=doc><col class=seen>"
        "<col class=missing></colgroup><tr><th>endpoint</th><th>method</th><th>URL</th><th>summary</th><th>documented</th>"
        f"<th>seen</th><th>missing</th></tr>{_endpoint_rows(api, base_url, ledger)}</table>"
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>chatmock validate {_e(api)}</title><style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
    return scrub(page)


def write_html(path: Path, **parts: Any) -> None:
    path.write_text(render_html(**parts), encoding="utf-8")
