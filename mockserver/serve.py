"""``chatmock serve``: run the mock under uvicorn and say where each API lives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import sys
from typing import Any

import uvicorn

from mockserver.admin import ADMIN_HEADER, ADMIN_PREFIX
from mockserver.apis import API_NAMES
from mockserver.app import create_app
from mockserver.core.registry import load_registry

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ADMIN_TOKEN_ENV = "CHATMOCK_ADMIN_TOKEN"

DEFAULT_CREDENTIALS = {
    "gitter": "Authorization: Bearer gitter-token-alice (or gitter-token-bob)",
    "rocketchat": "POST /api/v1/login user=alice password=alice-password (or X-Auth-Token: rc-pat-alice + X-User-Id)",
    "lingr": "session/create user=alice password=alice-password",
    "bocco": "POST /alpha/sessions apikey=bocco-api-key email=alice@example.com password=alice-password",
}


def add_command(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the mock server")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; elsewhere needs an admin token)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api", action="append", choices=API_NAMES, help="serve only this API (repeatable); one API is served at the root")
    parser.add_argument("--seed", help="a world to load instead of the default one (JSON file)")
    parser.add_argument(
        "--longpoll-timeout", type=float, default=30.0, help="seconds a Lingr observe / BOCCO subscribe is held (default 30)"
    )
    parser.add_argument("--stream-keepalive", type=float, default=15.0, help="seconds between Gitter stream keep-alive newlines")
    parser.add_argument("--strict", action="store_true", help="validate every response against its schema; a violation answers 500")
    parser.add_argument("--lingr-observe-port", type=int, help="also serve the app on this port (real Lingr observes on :8080)")
    parser.add_argument("--rocketchat-host", help="route requests with this Host header to Rocket.Chat")
    parser.add_argument("--journal-size", type=int, default=500)
    parser.add_argument("--body-limit", type=int, default=1024 * 1024, help="largest request body in bytes (default 1 MiB)")
    parser.set_defaults(handler=run_serve)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_urls(host: str, port: int, apis: tuple[str, ...], root: bool) -> dict[str, str]:
    registry = load_registry()
    origin = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    urls = {}
    for name in apis:
        api = registry.api(name)
        for server in api.servers:
            prefix = server.prefix.removeprefix(api.servers[0].prefix) if root else server.prefix
            label = name if server is api.servers[0] else f"{name} ({server.name})"
            urls[label] = origin + prefix
    return urls


def run_serve(args: argparse.Namespace) -> int:
    apis = tuple(dict.fromkeys(args.api or API_NAMES))
    admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    if not _is_loopback(args.host) and admin_token is None:
        print(f"chatmock: binding {args.host} exposes {ADMIN_PREFIX}/; set {ADMIN_TOKEN_ENV} to an admin token first", file=sys.stderr)
        return 2
    try:
        app = create_app(
            apis,
            strict=args.strict,
            longpoll_timeout=args.longpoll_timeout,
            stream_keepalive=args.stream_keepalive,
            seed=args.seed,
            journal_size=args.journal_size,
            body_limit=args.body_limit,
            admin_token=admin_token,
            rocketchat_host=args.rocketchat_host,
            freeze_gc=True,
        )
    except (OSError, ValueError) as error:
        print(f"chatmock: cannot start: {error}", file=sys.stderr)
        return 2
    root = len(apis) == 1
    print(f"chatmock serving {', '.join(apis)} on http://{args.host}:{args.port}", flush=True)
    for label, url in base_urls(args.host, args.port, apis, root).items():
        print(f"  {label:<20} {url}")
    if args.lingr_observe_port and "lingr" in apis:
        print(f"  lingr observe (2nd)  http://{args.host}:{args.lingr_observe_port}{'' if root else '/lingr'}/api/event/observe")
    print("default credentials (alice; bob likewise):")
    for name in apis:
        print(f"  {name:<11} {DEFAULT_CREDENTIALS[name]}")
    print(f"admin: http://{args.host}:{args.port}{ADMIN_PREFIX}/docs" + (f" (header {ADMIN_HEADER})" if admin_token else ""), flush=True)
    ports = [args.port] + ([args.lingr_observe_port] if args.lingr_observe_port and "lingr" in apis else [])
    with contextlib.suppress(KeyboardInterrupt):
        run_loop(_serve_all(app, args.host, ports))
    print("chatmock stopped", flush=True)
    return 0


def run_loop(main: Any) -> None:
    """uvloop when installed (uvicorn[standard] brings it), asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve_all(app: Any, host: str, ports: list[int]) -> None:
    servers = [
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")) for port in ports
    ]
    await asyncio.gather(*(server.serve() for server in servers))
