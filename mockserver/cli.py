"""``chatmock``: parse arguments, call library code, print results.

Exit codes: 0 success, 1 a validation failure, 2 a usage error (unknown id, unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mockserver.apis import API_NAMES
from mockserver.core.registry import RegistryError, UnknownIdError, load_registry

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"chatmock: {message}", file=sys.stderr)
    return code


# schemas ----------------------------------------------------------------------
def cmd_schemas_list(args: argparse.Namespace) -> int:
    registry = load_registry()
    rows: list[tuple[str, str, str, str]] = []
    for endpoint in sorted(registry.endpoints.values(), key=lambda item: item.id):
        if args.api and endpoint.api not in args.api:
            continue
        statuses = ",".join(str(status) for status in sorted(endpoint.responses))
        rows.append((endpoint.id, "|".join(endpoint.methods), endpoint.server.url + endpoint.path, statuses))
    for model in sorted(registry.models.values(), key=lambda item: item.id):
        if args.api and model.api not in args.api:
            continue
        rows.append((model.id, "model", "-", "-"))
    if args.json:
        print(json.dumps([dict(zip(("id", "method", "url", "statuses"), row, strict=True)) for row in rows], indent=2))
        return EXIT_OK
    width = max(len(row[0]) for row in rows)
    method_width = max(len(row[1]) for row in rows)
    for row_id, method, url, statuses in rows:
        print(f"{row_id:<{width}}  {method:<{method_width}}  {url}  {statuses}".rstrip(" -"))
    return EXIT_OK


def _read_instance(file: str) -> Any:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {file}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{file} is not JSON: {error}") from None


def cmd_schemas_validate(args: argparse.Namespace) -> int:
    registry = load_registry()
    try:
        instance = _read_instance(args.file)
    except ValueError as error:
        return _fail(str(error))
    try:
        if args.id in registry.models:
            checker = registry.model(args.id).checker
            target = args.id
        else:
            endpoint = registry.endpoint(args.id)
            if args.request:
                if endpoint.params_checker is None:
                    return _fail(f"{endpoint.id} takes no parameters")
                checker, target = endpoint.params_checker, f"{endpoint.id} request"
            else:
                status = args.status if args.status is not None else min(endpoint.responses)
                response = endpoint.response(status)
                if response.checker is None:
                    return _fail(f"{endpoint.id} {status} is not a JSON body ({response.content_type})")
                checker, target = response.checker, f"{endpoint.id} {status}"
    except UnknownIdError as error:
        return _fail(f"{error.args[0]} (see 'chatmock schemas list')")
    violation = checker.best(instance)
    if violation is None:
        print(f"valid: {args.file} against {target}")
        return EXIT_OK
    print(f"invalid: {args.file} against {target}: {violation}")
    return EXIT_INVALID


def cmd_schemas_openapi(args: argparse.Namespace) -> int:
    from mockserver.core.openapi import openapi_document

    registry = load_registry()
    try:
        document = openapi_document(registry, args.api, base_url=args.base_url)
    except UnknownIdError as error:
        return _fail(str(error.args[0]))
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return EXIT_OK


# parser -----------------------------------------------------------------------
Handler = Callable[[argparse.Namespace], int]


def build_parser(extra: Sequence[Callable[[argparse._SubParsersAction], None]] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatmock", description="Contracts, mock server and contract tests for Gitter, Rocket.Chat, Lingr and BOCCO."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    schemas = commands.add_parser("schemas", help="list, check and export the API schemas")
    schema_commands = schemas.add_subparsers(dest="schemas_command", required=True)
    listing = schema_commands.add_parser("list", help="every endpoint id and model id, with method and path")
    listing.add_argument("--api", action="append", help=f"only this API (repeatable): {', '.join(API_NAMES)}")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=cmd_schemas_list)
    validate = schema_commands.add_parser("validate", help="validate a JSON file against an endpoint response, request or model")
    validate.add_argument("id", help="endpoint id (e.g. lingr.room.say) or model id (e.g. bocco.Message)")
    validate.add_argument("file", help="JSON file, or - for standard input")
    validate.add_argument("--status", type=int, help="response status (default: the endpoint's first documented status)")
    validate.add_argument("--request", action="store_true", help="validate the request parameters instead of a response")
    validate.set_defaults(handler=cmd_schemas_validate)
    openapi = schema_commands.add_parser("openapi", help="print the OpenAPI 3.1 document of one API")
    openapi.add_argument("--api", required=True, help=f"one of {', '.join(API_NAMES)}")
    openapi.add_argument("--base-url", default="http://127.0.0.1:8000", help="the mock's base URL for 'servers'")
    openapi.set_defaults(handler=cmd_schemas_openapi)

    for add in extra:
        add(commands)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Commands whose modules import the server stack, loaded only when present."""
    found = []
    for module_name in ("mockserver.serve", "contract_tests.command", "mockserver.proxy.command", "contract_tests.report"):
        try:
            module = __import__(module_name, fromlist=["add_command"])
        except ModuleNotFoundError as error:
            if error.name is None or not module_name.startswith(error.name):
                raise
            continue
        found.append(module.add_command)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_extra_commands())
    args = parser.parse_args(argv)
    try:
        handler: Handler = args.handler
        return handler(args)
    except RegistryError as error:
        return _fail(f"broken schema: {error}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
