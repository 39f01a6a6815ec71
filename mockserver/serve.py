"""``chatmock serve``: run the mock under uvicorn and say where each API lives.

Everything that can be wrong with the command line is found before the banner: the options'
values (:mod:`mockserver.cli`'s types), the bind rule (a non-loopback ``--host`` needs
``CHATMOCK_ADMIN_TOKEN``), the seed file (read and checked here, then by the mock), and the
ports (bound before the banner says they are served). Each is one line and exit 2.

``--log`` prints one line per finished request (:func:`log_line`), fed by the mock's
``on_exchange`` hook, so it costs nothing without the flag. ``--cors`` wraps the API routes
(never the admin API, whose cross-site protection relies on the preflight failing) in
Starlette's CORS middleware.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.admin import ADMIN_HEADER, ADMIN_PREFIX, is_admin_path
from mockserver.apis import API_NAMES
from mockserver.app import create_app
from mockserver.background import HEAD_TIMEOUT, HEADER_LIMIT, LOOPBACK, BindError, bind, is_loopback, origin, uvicorn_config
from mockserver.cli import UsageError, api_name, count, did_you_mean, seconds, seconds_or_zero
from mockserver.core.journal import REDACTED
from mockserver.core.registry import load_registry
from mockserver.core.secrets import is_secret_name
from mockserver.core.settings import Settings
from mockserver.mock import SeedError

__all__ = ["LOOPBACK", "add_command", "base_urls", "is_loopback", "log_line", "run_loop", "run_serve", "with_cors"]

ADMIN_TOKEN_ENV = "CHATMOCK_ADMIN_TOKEN"
DEFAULTS = Settings()

DEFAULT_CREDENTIALS = {
    "gitter": "Authorization: Bearer gitter-token-alice (or gitter-token-bob)",
    "rocketchat": "POST /api/v1/login user=alice password=alice-password (or X-Auth-Token: rc-pat-alice + X-User-Id: aLiCEx3kPq7RtZ2mW)",
    "lingr": "session/create user=alice password=alice-password",
    "bocco": "POST /alpha/sessions apikey=bocco-api-key email=alice@example.com password=alice-password",
}


def add_command(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the mock server")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; elsewhere needs CHATMOCK_ADMIN_TOKEN)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--api",
        action="append",
        type=api_name,
        help=f"serve only this API (repeatable; {', '.join(API_NAMES)}); one API is served at the root",
    )
    parser.add_argument("--seed", metavar="FILE", help="a world to load instead of the default one (JSON file)")
    parser.add_argument(
        "--longpoll-timeout",
        type=seconds_or_zero,
        default=30.0,
        metavar="S",
        help="seconds a Lingr observe / BOCCO subscribe is held (default 30; 0 answers at once)",
    )
    parser.add_argument(
        "--stream-keepalive", type=seconds, default=15.0, metavar="S", help="seconds between Gitter stream keep-alive newlines (default 15)"
    )
    parser.add_argument("--strict", action="store_true", help="validate every response against its schema; a violation answers 500")
    parser.add_argument(
        "--lingr-observe-port", type=int, metavar="P", help="also serve the app on this port (real Lingr observes on :8080)"
    )
    parser.add_argument("--rocketchat-host", metavar="NAME", help="route requests with this Host header to Rocket.Chat")
    parser.add_argument(
        "--rocketchat-version",
        metavar="V",
        help="Rocket.Chat server version to imitate (3.0 to 8.x, e.g. 7.5.0); default: accept everything the documentation shows",
    )
    parser.add_argument(
        "--journal-size", type=count(0), default=500, metavar="N", help="requests kept in the journal (default 500; 0: none)"
    )
    parser.add_argument("--body-limit", type=count(1), default=1024 * 1024, metavar="BYTES", help="largest request body (default 1 MiB)")
    parser.add_argument(
        "--header-limit",
        type=count(1024),
        default=HEADER_LIMIT,
        metavar="BYTES",
        help=f"largest request line + headers; larger answers 431 (default {HEADER_LIMIT // 1024} KiB)",
    )
    parser.add_argument("--log", "-v", action="store_true", help="print one line per request (secrets redacted)")
    parser.add_argument("--cors", action="store_true", help="answer browser preflights and add CORS headers to API responses (not admin)")
    parser.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="with --cors, allow only this origin (repeatable; default: any)"
    )
    parser.add_argument(
        "--admin-host",
        action="append",
        metavar="NAME",
        help="a Host name the admin API answers besides the loopback names and --host (repeatable)",
    )
    parser.add_argument(
        "--session-idle-timeout",
        type=seconds,
        metavar="S",
        help="expire issued sessions and tokens after S idle seconds (default: never, as the real APIs)",
    )
    parser.add_argument(
        "--auth-failure-limit",
        type=count(1),
        metavar="N",
        help="failed credential checks per client and minute before the API's too-many-requests answer (default: no limit)",
    )
    parser.add_argument(
        "--read-timeout",
        type=seconds,
        metavar="S",
        help=f"seconds a client may take to send its request line and headers, and its body (default {DEFAULTS.read_timeout:g})",
    )
    parser.set_defaults(handler=run_serve)


def base_urls(host: str, port: int, apis: tuple[str, ...], root: bool) -> dict[str, str]:
    registry = load_registry()
    urls = {}
    for name in apis:
        api = registry.api(name)
        for server in api.servers:
            prefix = server.prefix.removeprefix(api.servers[0].prefix) if root else server.prefix
            label = name if server is api.servers[0] else f"{name} ({server.name})"
            urls[label] = origin(host, port) + prefix
    return urls


# the seed file -------------------------------------------------------------------------------
def read_seed_file(file: str) -> dict[str, Any]:
    """The seed document in ``file``: readable, JSON, an object keyed by known API names."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read seed file {file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"seed file {file} is not UTF-8 text (byte {error.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"seed file {file} is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"{type(document).__name__} {json.dumps(document)[:20]}"
        raise UsageError(f"seed file {file}: a seed is a JSON object keyed by API name ({', '.join(API_NAMES)}), not {kind}")
    for name, world in document.items():
        if name not in API_NAMES:
            raise UsageError(f"seed file {file}: unknown API {name!r}{did_you_mean(name, API_NAMES)}; known: {', '.join(API_NAMES)}")
        if not isinstance(world, dict):
            raise UsageError(f"seed file {file}: the {name} world must be a JSON object, not {type(world).__name__}")
    return document


# --log -----------------------------------------------------------------------------------------
_UNPRINTABLE = {code: f"\\x{code:02x}" for code in (*range(32), 127)}


def _printable(text: str, limit: int = 300) -> str:
    """``text`` on one line: control characters escaped, long text cut."""
    text = text.translate(_UNPRINTABLE)
    return text if len(text) <= limit else text[:limit] + "..."


def _query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return "&".join(f"{name}={REDACTED if is_secret_name(name) else value}" for name, value in pairs)


def log_line(entry: Any) -> str:
    """One finished request (a journal ``Entry``) as ``chatmock serve --log`` prints it:
    ``12:00:01.234 lingr      POST   /lingr/api/session/create 200 lingr.session.create 2.1ms 0 violations``.
    Values of secret-named query parameters are ``[REDACTED]``; headers and bodies are never printed."""
    endpoint: str | None = entry.endpoint
    api = entry.api or (endpoint.partition(".")[0] if endpoint else "-")
    query = _query(entry.raw_query) if entry.raw_query else ""
    target = _printable(entry.path + (f"?{query}" if query else ""))
    clock = time.strftime("%H:%M:%S", time.localtime(entry.time)) + f".{int(entry.time * 1000) % 1000:03d}"
    violations = len(entry.violations)
    return (
        f"{clock} {api:<10} {entry.method:<6} {target} {entry.status} {endpoint or '-'} {entry.duration * 1000:.1f}ms "
        f"{violations} violation{'' if violations == 1 else 's'}"
    )


def request_logger(stream: IO[str] | None = None) -> Callable[[Any], None]:
    """The ``on_exchange`` hook of ``--log``: prints :func:`log_line` of each finished request."""

    def log(entry: Any) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout never fails a request
            print(log_line(entry), file=stream or sys.stdout, flush=True)

    return log


# --cors ----------------------------------------------------------------------------------------
def with_cors(app: ASGIApp, origins: Sequence[str] = ("*",)) -> ASGIApp:
    """``app`` with CORS on every path but the admin API's: preflights (``OPTIONS`` with
    ``Access-Control-Request-Method``) are answered, responses carry ``Access-Control-Allow-Origin``
    and expose their headers. No credentials mode (cookies): the APIs authenticate by header or parameter."""
    cors = CORSMiddleware(app, allow_origins=list(origins), allow_methods=["*"], allow_headers=["*"], expose_headers=["*"])

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_admin_path(scope.get("path", "")):
            await cors(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route


# the command -----------------------------------------------------------------------------------
def _admin_hosts(args: argparse.Namespace) -> frozenset[str]:
    """``--admin-host`` names, and the address ``--host`` binds when it is one address (the
    banner's admin URL then works); ``0.0.0.0``/``::`` name no host, so only ``--admin-host`` does."""
    hosts = {name.strip().lower() for name in args.admin_host or ()}
    host = args.host.lower()
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):
        hosts.update((host, f"[{host}]") if ":" in host else (host,))
    return frozenset(hosts)


def _core_options(args: argparse.Namespace) -> dict[str, Any]:
    """The core's options given on the command line (an option left out keeps the core's default)."""
    options: dict[str, Any] = {}
    admin_hosts = _admin_hosts(args)
    if admin_hosts:
        options["admin_hosts"] = admin_hosts
    if args.session_idle_timeout is not None:
        options["session_idle_timeout"] = args.session_idle_timeout
    if args.auth_failure_limit is not None:
        options["auth_failure_limit"] = args.auth_failure_limit
    if args.read_timeout is not None:
        options["read_timeout"] = args.read_timeout
    if args.log:
        options["on_exchange"] = request_logger()
    return options


def _build_app(args: argparse.Namespace, apis: tuple[str, ...], admin_token: str | None, seed: Mapping[str, Any] | None) -> Any:
    try:
        return create_app(
            apis,
            strict=args.strict,
            longpoll_timeout=args.longpoll_timeout,
            stream_keepalive=args.stream_keepalive,
            seed=seed,
            journal_size=args.journal_size,
            body_limit=args.body_limit,
            admin_token=admin_token,
            rocketchat_host=args.rocketchat_host,
            api_options={"rocketchat": {"version": args.rocketchat_version}} if args.rocketchat_version else None,
            freeze_gc=True,
            **_core_options(args),
        )
    except SeedError as error:
        raise UsageError(f"seed file {args.seed}: {_printable(str(error))}") from None
    except (ValueError, TypeError) as error:
        raise UsageError(f"cannot start: {_printable(str(error))}") from None


def _bind_all(host: str, ports: list[int]) -> list[socket.socket]:
    bound: list[socket.socket] = []
    try:
        for port in ports:
            bound.append(bind(host, port))
    except BindError as error:
        _close(bound)
        raise UsageError(str(error)) from None
    return bound


def _close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


def _banner(args: argparse.Namespace, app: Any, apis: tuple[str, ...], admin_token: str | None, observe: bool) -> None:
    root = len(apis) == 1
    print(f"chatmock serving {', '.join(apis)} on {origin(args.host, args.port)}", flush=True)
    for label, url in base_urls(args.host, args.port, apis, root).items():
        print(f"  {label:<20} {url}")
    if observe:
        print(f"  lingr observe (2nd)  {origin(args.host, args.lingr_observe_port)}{'' if root else '/lingr'}/api/event/observe")
    if args.seed:
        print(f"world seeded from {args.seed}; users (credentials: GET {ADMIN_PREFIX}/credentials):")
        credentials: Mapping[str, Mapping[str, Any]] = app.state.chatmock.credentials()
        for name in apis:
            users = ", ".join(credentials.get(name, {})) or "(none: an empty world)"
            print(f"  {name:<11} {users}")
    else:
        print("default credentials (alice; bob likewise):")
        for name in apis:
            print(f"  {name:<11} {DEFAULT_CREDENTIALS[name]}")
    notes = [note for flag, note in ((args.log, "logging each request"), (args.cors, "CORS on")) if flag]
    if notes:
        print("  " + "; ".join(notes))
    console = f"console: {origin(args.host, args.port)}{ADMIN_PREFIX}/"
    admin = f"admin API: {origin(args.host, args.port)}{ADMIN_PREFIX}/docs" + (f" (header {ADMIN_HEADER})" if admin_token else "")
    print(console, flush=True)
    print(admin, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    try:
        return _serve(args)
    except UsageError as error:
        print(f"chatmock serve: {error}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    apis = tuple(dict.fromkeys(args.api or API_NAMES))
    admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    if not is_loopback(args.host) and admin_token is None:
        raise UsageError(f"binding {args.host} exposes {ADMIN_PREFIX}/; set {ADMIN_TOKEN_ENV} to an admin token first")
    if args.cors_origin and not args.cors:
        raise UsageError("--cors-origin needs --cors")
    observe = bool(args.lingr_observe_port) and "lingr" in apis
    if observe and args.lingr_observe_port == args.port:
        raise UsageError(f"--lingr-observe-port {args.lingr_observe_port} is --port too; choose another port")
    seed = read_seed_file(args.seed) if args.seed else None
    ports = [args.port] + ([args.lingr_observe_port] if observe else [])
    sockets = _bind_all(args.host, ports)  # a busy port is said before the (slower) worlds load
    try:
        app = _build_app(args, apis, admin_token, seed)
    except UsageError:
        _close(sockets)
        raise
    served = with_cors(app, args.cors_origin or ["*"]) if args.cors else app
    _banner(args, app, apis, admin_token, observe)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # uvicorn re-raises SIGTERM after its shutdown: end as on Ctrl-C
    try:
        with contextlib.suppress(KeyboardInterrupt):
            head_timeout = args.read_timeout if args.read_timeout is not None else HEAD_TIMEOUT
            bound = list(zip(ports, sockets, strict=True))
            run_loop(_serve_all(served, args.host, bound, args.header_limit, head_timeout, frame_limit=args.body_limit))
    finally:
        signal.signal(signal.SIGTERM, previous)
        _close(sockets)
    print("chatmock stopped", flush=True)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_loop(main: Any) -> None:
    """uvloop when installed (uvicorn[standard] brings it), asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve_all(
    app: Any,
    host: str,
    bound: list[tuple[int, socket.socket]],
    header_limit: int = HEADER_LIMIT,
    head_timeout: float = HEAD_TIMEOUT,
    frame_limit: int | None = None,
) -> None:
    servers = [
        (
            uvicorn.Server(uvicorn_config(app, host, port, header_limit=header_limit, head_timeout=head_timeout, frame_limit=frame_limit)),
            sock,
        )
        for port, sock in bound
    ]
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
