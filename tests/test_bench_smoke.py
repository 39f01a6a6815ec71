"""bench/run.py imports and its formatting, ratio and parsing helpers work on synthetic numbers.
No server, no load: benchmarks never run in pytest (see BENCHMARKS.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import calls, profile, report, run, suite, wrk  # noqa: E402
from mockserver.apis import API_NAMES  # noqa: E402

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/gitter/v1/rooms
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.20ms  30.00ms   90.00%
    Req/Sec     2.45k   100.00     2.60k    80.00%
  Latency Distribution
     50%  850.00us
     75%    4.50ms
     90%    6.00ms
     99%    1.20s
  12250 requests in 5.00s, 13.10MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   2450.00
Transfer/sec:      2.62MB
"""


def test_ratio_and_median() -> None:
    assert report.ratio(700.0, 1000.0) == pytest.approx(0.7)
    assert report.ratio(None, 1000.0) is None
    assert report.ratio(5.0, 0.0) is None
    assert report.median([3.0, 1.0, 2.0]) == 2.0
    assert report.median([]) is None
    assert report.fmt_ratio(0.6789) == "0.68x"
    assert report.fmt_ratio(None) == "-"
    assert [report.fmt_number(value) for value in (12345.6, 42.42, 3.14159, 0.01234, None)] == ["12,346", "42.4", "3.14", "0.012", "-"]


def test_targets_state_met_missed_and_not_measured() -> None:
    assert report.Target("GET", 0.75, 0.7, at_least=True, unit="x").verdict == "met"
    assert report.Target("POST p99", 51.0, 50.0, at_least=False, unit=" ms").verdict == "MISSED"
    assert report.Target("POST p99", 9.0, 50.0, at_least=False, provisional=True).verdict == "unproven"
    assert report.Target("POST p99", 51.0, 50.0, at_least=False, provisional=True).verdict == "MISSED"
    line = report.Target("Prism", None, 3.0, at_least=True, unit="x", note="Prism not installed").line()
    assert line.startswith("not measured")
    assert "Prism not installed" in line
    assert ">= 3.00x" in line


def test_table_pads_columns_and_checks_row_width() -> None:
    text = report.table(["call", "req/s"], [["gitter GET", "1,234"], ["lingr POST", "9"]])
    lines = text.splitlines()
    assert lines[0] == "| call       | req/s |"
    assert lines[1] == "|------------|-------|"
    assert len({len(line) for line in lines}) == 1
    with pytest.raises(ValueError, match="cells"):
        report.table(["a", "b"], [["only one"]])


def test_wrk_output_is_parsed_in_milliseconds() -> None:
    result = wrk.parse(WRK_OUTPUT)
    assert result.rps == 2450.0
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert (result.requests, result.non_2xx, result.socket_errors) == (12250, 4, 3)
    with pytest.raises(ValueError, match="wrk"):
        wrk.parse("wrk: connection refused")


def test_wrk_scripts_carry_method_headers_and_unique_bodies() -> None:
    by_label = {call.label: call for call in calls.representative_calls()}
    assert {call.api for call in by_label.values()} == set(API_NAMES)
    gitter = wrk.lua_script(by_label["gitter POST"])
    assert 'wrk.method = "POST"' in gitter
    assert 'wrk.headers["Content-Type"] = "application/json"' in gitter
    assert 'wrk.body = "{\\"text\\": \\"bench message\\"}"' in gitter
    bocco = wrk.lua_script(by_label["bocco POST"])
    assert "request = function()" in bocco
    assert "counter = counter + 1" in bocco
    assert "wrk.body" not in bocco
    assert wrk.lua_script(by_label["bocco POST"]) != bocco  # a fresh prefix per run
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        wrk.run("http://example.com:80", by_label["gitter GET"], 1, 1)


def test_seed_adds_messages_and_observer_sessions() -> None:
    seed = calls.bench_seed(messages=3, observers=2, heavy=("lingr", "bocco"))
    lingr = seed["lingr"]
    assert {item["session"] for item in lingr["sessions"]} >= {calls.LINGR_SESSION, calls.observer_session(0), calls.observer_session(1)}
    lounge = next(room for room in lingr["rooms"] if room["id"] == calls.LINGR_ROOM)
    ids = [int(message["id"]) for message in lounge["messages"]]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    family = next(room for room in seed["bocco"]["rooms"] if room["uuid"] == calls.BOCCO_ROOM)
    assert sum(message["text"].startswith("seeded") for message in family["messages"]) == 3
    assert seed["gitter"]["rateLimit"] >= 10**6
    untouched = next(room for room in seed["gitter"]["rooms"] if room.get("id") == calls.GITTER_ROOM)
    assert not any(message["text"].startswith("seeded") for message in untouched["messages"])


def test_suite_output_is_counted() -> None:
    # the pinned hypothesis prints "Test case:" per example, older releases "Trying example:"
    output = "Test case: run(\n    params={},\n)\nTrying example: run(params={'a': 1})\n3 passed, 2 deselected in 4.50s\n"
    assert suite.parse(output) == (2, 4.5)
    assert suite.outcome(output) == "3 passed, 2 deselected in 4.50s"


def test_profile_hotspots_leave_idle_samples_out() -> None:
    collapsed = (
        "main (mockserver/cli.py);run_forever (asyncio/base_events.py);select (selectors.py) 50\n"
        "main (mockserver/cli.py);_run (mockserver/core/dispatch.py);redact (mockserver/core/journal.py) 30\n"
        "main (mockserver/cli.py);_run (mockserver/core/dispatch.py) 10\n"
    )
    spots = {spot.function: spot for spot in profile.hotspots(collapsed)}
    assert spots["_run (mockserver/core/dispatch.py)"].inclusive == pytest.approx(1.0)
    assert spots["redact (mockserver/core/journal.py)"].own == pytest.approx(0.75)
    assert profile.own_top(collapsed, top=1)[0].function == "redact (mockserver/core/journal.py)"


def test_report_renders_targets_from_synthetic_results() -> None:
    results = run.Results()
    results.mock["gitter GET"] = run.Measured(800.0, 1.0, 5.0)
    results.bare["gitter GET"] = run.Measured(1000.0, 0.5, 2.0)
    results.mock["lingr POST"] = run.Measured(500.0, 2.0, 9.0)
    results.bare["lingr POST"] = run.Measured(1000.0, 0.5, 2.0)
    results.heavy["lingr POST"] = run.Measured(400.0, 3.0, 60.0)
    results.heavy_sizes["lingr POST"] = 500_000
    results.prism_note = "Prism not installed"
    results.heavy["gitter POST"] = run.Measured(400.0, 3.0, 20.0)
    results.heavy_sizes["gitter POST"] = 50_000
    results.serve_ready = [0.8, 0.9, 1.2]
    config, output = run.parse_args(["--quick", "--skip", "suite"])
    assert output is None
    assert config.duration <= 2
    assert config.skip == ["suite"]
    text = run.render(config, results, "0.10 0.20 0.30")
    assert "0.80x" in text
    assert "0.50x" in text
    verdicts = {item.name: item.verdict for item in run.targets(results)}
    assert verdicts["gitter GET mock/bare req/s"] == "met"
    assert verdicts["lingr POST mock/bare req/s"] == "MISSED"
    assert verdicts["lingr POST p99"] == "MISSED"
    assert verdicts["gitter POST p99"] == "unproven"
    assert verdicts["GET mock/Prism req/s"] == "not measured"
    assert verdicts["chatmock serve ready (median)"] == "met"
    assert "Prism not installed" in text


def test_instructions_driver_builds_each_request_as_wrk_sends_it() -> None:
    from bench import instructions

    post = {"method": "POST", "path": "/x", "headers": {"Content-Type": "text/plain"}, "body": "a=é&u=", "unique": True}
    raw = instructions._request(post, 7)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n")
    assert body == "a=é&u=00000000-0000-4000-8000-000000000007".encode()
    assert f"Content-Length: {len(body)}".encode() in head  # bytes, not characters
    get = {"method": "GET", "path": "/y?q=1", "headers": {}, "body": "", "unique": False}
    assert instructions._request(get, 1) == b"GET /y?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"


def test_instructions_cpu_run_measures_one_call_of_this_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import instructions

    assert instructions.main(["--only", "lingr GET", "--requests", "200"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("| lingr GET |"))
    assert float(row.split("|")[2].split()[0]) > 0
