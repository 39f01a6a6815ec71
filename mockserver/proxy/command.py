"""``chatmock proxy`` and ``chatmock record``: run the validating proxy under uvicorn.

    chatmock proxy --api lingr --upstream http://lingr.com [--port 8001] [--record DIR] [--report FILE] [--cors]
    chatmock record --api lingr --upstream http://lingr.com --out DIR      # = proxy --record DIR

They bind as ``chatmock serve`` does (``mockserver.cli`` checks the rule before the handler
runs: an address other than loopback only with ``CHATMOCK_ADMIN_TOKEN`` set, which then guards
``/__chatmock/drift``), on a socket bound before the banner says it is served
(:func:`mockserver.background.bind`), with the same request-head limit. ``--cors`` answers
browser preflights and adds CORS headers to forwarded responses (never to ``/__chatmock/``),
with :func:`mockserver.serve.with_cors`.

At exit (Ctrl-C) a short drift table is printed and, with ``--report``, the JSON report
written; a recording is checked for leaks, including every secret the session saw.
Per-request output is none: no URL, header or body is ever printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import uvicorn

from mockserver.background import BindError, bind, origin, uvicorn_config
from mockserver.core.registry import UnknownIdError, load_registry
from mockserver.proxy.app import DRIFT_PATH, create_proxy_app
from mockserver.proxy.leaks import find_leaks
from mockserver.proxy.redact import Redactor
from mockserver.proxy.report import DriftReport, safe_url

DEFAULT_PORT = 8001
ADMIN_TOKEN_ENV = "CHATMOCK_ADMIN_TOKEN"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", required=True, help="gitter, rocketchat, lingr or bocco")
    parser.add_argument("--upstream", required=True, help="the real server's origin (and path prefix, if any), e.g. http://lingr.com")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; elsewhere needs CHATMOCK_ADMIN_TOKEN)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--report", help="write the drift report (JSON) to this file at exit")
    parser.add_argument("--cors", action="store_true", help="answer browser preflights and add CORS headers to responses (not admin)")
    parser.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="with --cors, allow only this origin (repeatable; default: any)"
    )


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


def _fail(args: argparse.Namespace, message: str) -> int:
    print(f"chatmock {getattr(args, 'command', None) or 'proxy'}: {message}", file=sys.stderr)
    return 2


def served_app(app: Any, cors: bool, origins: list[str] | None) -> Any:
    """``app``, wrapped in ``chatmock serve``'s CORS handling when asked."""
    if not cors:
        return app
    from mockserver.serve import with_cors

    return with_cors(app, origins or ["*"])


def run_proxy(args: argparse.Namespace) -> int:
    if args.cors_origin and not args.cors:
        return _fail(args, "--cors-origin needs --cors")
    try:
        app = create_proxy_app(args.api, args.upstream, record_dir=args.record, admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None)
    except UnknownIdError as error:
        return _fail(args, str(error.args[0]))
    except OSError as error:
        return _fail(args, f"cannot record: {error.strerror}")
    try:
        sock = bind(args.host, args.port)
    except BindError as error:
        return _fail(args, str(error))
    api = load_registry().api(args.api)
    here = origin(args.host, args.port)
    print(f"chatmock proxy: {args.api} at {here} -> {safe_url(args.upstream)}", flush=True)
    print(f"  point the client's base URL ({api.servers[0].url}) at {here}; drift so far: {here}{DRIFT_PATH}")
    if args.cors:
        print("  CORS on")
    if args.record:
        print(f"  recording redacted fixtures into {Path(args.record) / args.api}")
    config = uvicorn_config(served_app(app, args.cors, args.cors_origin), args.host, args.port, lifespan="on")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # uvicorn re-raises the signal after shutdown: end as on Ctrl-C
    try:
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    proxy = app.state.proxy
    return finish(proxy.report, args.report, args.record, proxy.redactor)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def finish(report: DriftReport, report_file: str | None, record_dir: str | None, redactor: Redactor | None = None) -> int:
    """Print the drift table, write the report and check the recording for leaks (with every
    secret the redactor learned, of any length)."""
    print(report.table(), flush=True)
    if report_file:
        report.write(Path(report_file))
        print(f"drift report written to {report_file}")
    if record_dir:
        leaks = find_leaks(Path(record_dir), redactor.secret_values() if redactor is not None else ())
        for leak in leaks:
            print(f"LEAK {leak}", file=sys.stderr)
        if leaks:
            return 1
    return 0
