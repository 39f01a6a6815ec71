"""``chatmock test ...``: the contract suite from the command line (same options as pytest).

``--out DIR`` (default ``reports``) is where the run writes: the coverage ledger
(``DIR/ledger.json``) and hypothesis' database (``DIR/.hypothesis``); pytest's cache is off.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

SUITE_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = "reports"


def add_command(commands: Any) -> None:
    parser = commands.add_parser("test", help="run the contract suite (pytest options pass through, after --)")
    parser.add_argument("--target", choices=("inprocess", "http", "live"), help="default: inprocess")
    parser.add_argument("--api", action="append", help="only this API (repeatable)")
    parser.add_argument("--base-url", action="append", help="api=URL (or CHATMOCK_<API>_URL)")
    parser.add_argument("--allow-writes", action="store_true", help="live: also run tests that post (needs CHATMOCK_<API>_ROOM)")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, help=f"directory for ledger.json and hypothesis' database (.hypothesis) (default: {DEFAULT_OUT})"
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments, after --")
    parser.set_defaults(handler=run_tests)


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    argv = [str(SUITE_DIR), "-p", "no:cacheprovider", "--rootdir", str(SUITE_DIR)]
    if args.target:
        argv += ["--target", args.target]
    for api in args.api or ():
        argv += ["--api", api]
    for url in args.base_url or ():
        argv += ["--base-url", url]
    if args.allow_writes:
        argv.append("--allow-writes")
    out = getattr(args, "out", None)
    if out:
        argv += ["--out", str(Path(out).resolve())]
    extra = list(args.pytest_args or ())
    return argv + (extra[1:] if extra[:1] == ["--"] else extra)


def run_tests(args: argparse.Namespace) -> int:
    """pytest in a child process: the CLI has imported modules pytest would need to rewrite."""
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_arguments(args)])
