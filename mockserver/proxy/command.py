"""``chatmock proxy`` and ``chatmock record``: run the validating proxy under uvicorn.

    chatmock proxy --api lingr --upstream http://lingr.com [--port 8001] [--record DIR] [--report FILE]
    chatmock record --api lingr --upstream http://lingr.com --out DIR      # = proxy --record DIR

At exit (Ctrl-C) a short drift table is printed and, with ``--report``, the JSON report
written. Per-request output is none: no URL, header or body is ever printed.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import uvicorn

from mockserver.core.registry import UnknownIdError, load_registry
from mockserver.proxy.app import DRIFT_PATH, create_proxy_app
from mockserver.proxy.leaks import find_leaks
from mockserver.proxy.report import DriftReport, safe_url

DEFAULT_PORT = 8001


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", required=True, help="gitter, rocketchat, lingr or bocco")
    parser.add_argument("--upstream", required=True, help="the real server's origin (and path prefix, if any), e.g. http://lingr.com")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--report", help="write the drift report (JSON) to this file at exit")


def add_command(commands: Any) -> None:
    proxy = commands.add_parser("proxy", help="forward to a real server, validating every response against the schemas")
    _common(proxy)
    proxy.add_argument("--record", metavar="DIR", help="also write each JSON response as a redacted fixture under DIR/<api>/")
    proxy.set_defaults(handler=run_proxy)
    record = commands.add_parser("record", help="proxy --record: write each response as a redacted fixture")
    _common(record)
    record.add_argument(
        "--out", required=True, metavar="DIR", help="fixtures directory (DIR/<api>/<endpoint-id>.<status>.json + index.json)"
    )
    record.set_defaults(handler=run_record)


def run_record(args: argparse.Namespace) -> int:
    args.record = args.out
    return run_proxy(args)


def run_proxy(args: argparse.Namespace) -> int:
    try:
        app = create_proxy_app(args.api, args.upstream, record_dir=args.record)
    except UnknownIdError as error:
        print(f"chatmock: {error.args[0]}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"chatmock: cannot record: {error.strerror}", file=sys.stderr)
        return 2
    api = load_registry().api(args.api)
    origin = f"http://{args.host}:{args.port}"
    print(f"chatmock proxy: {args.api} at {origin} -> {safe_url(args.upstream)}", flush=True)
    print(f"  point the client's base URL ({api.servers[0].url}) at {origin}; drift so far: {origin}{DRIFT_PATH}")
    if args.record:
        print(f"  recording redacted fixtures into {Path(args.record) / args.api}")
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # uvicorn re-raises the signal after shutdown: end as on Ctrl-C
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return finish(app.state.proxy.report, args.report, args.record)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def finish(report: DriftReport, report_file: str | None, record_dir: str | None) -> int:
    """Print the drift table, write the report and check the recording for leaks."""
    print(report.table(), flush=True)
    if report_file:
        report.write(Path(report_file))
        print(f"drift report written to {report_file}")
    if record_dir:
        leaks = find_leaks(Path(record_dir))
        for leak in leaks:
            print(f"LEAK {leak}", file=sys.stderr)
        if leaks:
            return 1
    return 0
