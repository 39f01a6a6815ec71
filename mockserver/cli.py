"""``chatmock``: parse arguments, call library code, print results.

Exit codes: 0 success, 1 a validation failure, 2 a usage error. A usage error (an unknown
option, API or id, a bad port, URL, duration or file) is one line on stderr,
``chatmock <command>: <what is wrong, naming the value>``, with no traceback and nothing done.

The base install (no extras) runs every command but ``test`` and ``validate``, which need
pytest and hypothesis (the ``suite`` extra): without them, they say so in one line. Options
other modules declare (``proxy``, ``test`` ...) get the same value checks as ``serve``'s by
their names (:data:`COMMON_TYPES`).
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import importlib.util
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from mockserver.apis import API_NAMES
from mockserver.core.registry import RegistryError, UnknownIdError, load_registry

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
DISTRIBUTION = "chatmock-server"
ADMIN_TOKEN_ENV = "CHATMOCK_ADMIN_TOKEN"
SUITE_MODULES = ("pytest", "hypothesis", "hypothesis_jsonschema")  # the suite extra
SUITE_COMMANDS = {"test": "contract_tests.command", "validate": "contract_tests.report"}
SUITE_HELP = {"test": "run the contract suite (needs the suite extra)", "validate": "validate a live API (needs the suite extra)"}
PASSTHROUGH = ("test", "validate")  # commands that hand options after -- to pytest


class UsageError(Exception):
    """A command-line input error; its message is one line naming the bad value."""


def _fail(message: str, code: int = EXIT_USAGE, prog: str = "chatmock") -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return code


def version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


# value types shared by every command ------------------------------------------------------
def did_you_mean(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name (case aside first), or nothing."""
    choices = list(known)
    by_case = {choice.lower(): choice for choice in choices}
    close = [by_case[value.lower()]] if value.lower() in by_case else difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def api_name(text: str) -> str:
    if text not in API_NAMES:
        raise argparse.ArgumentTypeError(f"unknown API {text!r}{did_you_mean(text, API_NAMES)}; known: {', '.join(API_NAMES)}")
    return text


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def _number(text: str, kind: type[float] | type[int], what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def seconds(text: str) -> float:
    """A duration over zero, in seconds."""
    value: float = _number(text, float, "a number of seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a duration (seconds, more than 0)")
    return value


def seconds_or_zero(text: str) -> float:
    """A duration in seconds; 0 answers at once."""
    value: float = _number(text, float, "a number of seconds")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a duration (seconds, 0 or more)")
    return value


def count(minimum: int) -> Callable[[str], int]:
    """A whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        value: int = _number(text, int, "a whole number")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    parse.__name__ = f"count>={minimum}"
    return parse


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL (e.g. http://lingr.com)")
    return text


def base_url(text: str) -> str:
    """``URL`` or ``api=URL`` (the contract suite's ``--base-url``)."""
    name, sep, url = text.partition("=")
    if sep and "/" not in name and ":" not in name:
        api_name(name)
        http_url(url)
        return text
    return http_url(text)


# options whose names mean the same in every command, checked alike wherever they are declared
COMMON_TYPES: dict[str, Callable[[str], Any]] = {
    "api": api_name,
    "port": port_number,
    "lingr_observe_port": port_number,
    "upstream": http_url,
    "base_url": base_url,
}


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``chatmock serve: argument --port: 80000 is not a port number (1-65535)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _apply_common_types(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                _apply_common_types(sub)
        elif action.dest in COMMON_TYPES and action.type in (None, int, str):
            action.type = COMMON_TYPES[action.dest]


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
    width = max((len(row[0]) for row in rows), default=0)
    method_width = max((len(row[1]) for row in rows), default=0)
    for row_id, method, url, statuses in rows:
        print(f"{row_id:<{width}}  {method:<{method_width}}  {url}  {statuses}".rstrip(" -"))
    return EXIT_OK


def _read_instance(file: str) -> Any:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{file} is not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{file} is not JSON: {error}") from None


def cmd_schemas_validate(args: argparse.Namespace) -> int:
    registry = load_registry()
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
        message = str(error.args[0])
        if args.id in registry.endpoints:
            documented = ", ".join(str(status) for status in sorted(registry.endpoint(args.id).responses))
            return _fail(f"{message} (documented: {documented})")
        return _fail(f"{message}{did_you_mean(args.id, [*registry.endpoints, *registry.models])}; see 'chatmock schemas list'")
    try:
        instance = _read_instance(args.file)
    except ValueError as error:
        return _fail(str(error))
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


def cmd_schemas_asyncapi(args: argparse.Namespace) -> int:
    from mockserver.apis import api_class

    document = api_class(args.api).asyncapi_document(load_registry(), args.base_url, False)
    if document is None:
        return _fail(f"{args.api} has no realtime (WebSocket) API, so no AsyncAPI document")
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return EXIT_OK


# parser -----------------------------------------------------------------------
Handler = Callable[[argparse.Namespace], int]
AddCommand = Callable[[Any], None]


def build_parser(extra: Sequence[AddCommand] = ()) -> argparse.ArgumentParser:
    parser = Parser(prog="chatmock", description="Contracts, mock server and contract tests for Gitter, Rocket.Chat, Lingr and BOCCO.")
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    schemas = commands.add_parser("schemas", help="list, check and export the API schemas")
    schema_commands = schemas.add_subparsers(dest="schemas_command", required=True, metavar="SUBCOMMAND")
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
    asyncapi = schema_commands.add_parser("asyncapi", help="print the AsyncAPI 3.0 document of one API's realtime (WebSocket) API")
    asyncapi.add_argument("--api", required=True, type=api_name, help=f"one of {', '.join(API_NAMES)}")
    asyncapi.add_argument("--base-url", default="http://127.0.0.1:8000", help="the mock's base URL for 'servers'")
    asyncapi.set_defaults(handler=cmd_schemas_asyncapi)

    for add in extra:
        add(commands)
    _add_out_to_test(commands)
    _apply_common_types(parser)
    return parser


def missing_suite() -> list[str]:
    """The modules of the ``suite`` extra that are not installed."""
    return [name for name in SUITE_MODULES if importlib.util.find_spec(name) is None]


def _suite_placeholder(name: str) -> AddCommand:
    """``name`` listed in ``--help`` when its module cannot load without the suite extra."""

    def add(commands: Any) -> None:
        commands.add_parser(name, help=SUITE_HELP[name]).set_defaults(handler=lambda args: _suite_missing(name))

    return add


def _suite_missing(command: str) -> int:
    print(f"chatmock {command} needs the suite extra: pip install '{DISTRIBUTION}[suite]'", file=sys.stderr)
    return EXIT_USAGE


def _extra_commands() -> list[AddCommand]:
    """Commands whose modules import the server stack or the suite, loaded when they can be."""
    found: list[AddCommand] = []
    suite_missing = bool(missing_suite())
    for module_name in ("mockserver.serve", "contract_tests.command", "mockserver.proxy.command", "contract_tests.report"):
        suite_command = next((name for name, owner in SUITE_COMMANDS.items() if owner == module_name), None)
        if suite_command is not None and suite_missing:
            found.append(_suite_placeholder(suite_command))
            continue
        try:
            module = __import__(module_name, fromlist=["add_command"])
        except ModuleNotFoundError as error:
            if suite_command is not None and (error.name or "").partition(".")[0] in SUITE_MODULES:
                found.append(_suite_placeholder(suite_command))
                continue
            raise
        found.append(module.add_command)
    return found


def _add_out_to_test(commands: Any) -> None:
    """``chatmock test --out DIR``, like ``validate``'s, when the ``test`` command does not
    declare it itself: the suite's ``--out`` (ledger and hypothesis' database) then gets it."""
    test = commands.choices.get("test")
    if test is None or "--out" in test._option_string_actions or not any(a.dest == "pytest_args" for a in test._actions):
        return
    test.add_argument(
        "--out", default="reports", help="directory for ledger.json and hypothesis' database (.hypothesis) (default: reports)"
    )
    test.set_defaults(out_from_cli=True)


def _keep_suite_output_in(args: argparse.Namespace) -> None:
    """``test --out`` added here: handed to the suite's own ``--out`` (pytest's cache is off: ``-p no:cacheprovider``)."""
    extra = getattr(args, "pytest_args", None)
    if not getattr(args, "out_from_cli", False) or not isinstance(extra, list) or any(item.startswith("--out") for item in extra):
        return
    out = ["--out", str(Path(args.out).resolve())]
    args.pytest_args = [*extra, *out] if extra[:1] == ["--"] else ["--", *extra, *out]


def _command_word(argv: Sequence[str]) -> str | None:
    return next((item for item in argv if not item.startswith("-")), None)


def _subparser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub)command that was given."""
    current = parser
    for dest in ("command", "schemas_command"):
        chosen = getattr(args, dest, None)
        actions = [action for action in current._actions if isinstance(action, argparse._SubParsersAction)]
        if chosen is None or not actions:
            break
        current = actions[0].choices[chosen]
    return current


def _unrecognized(parser: argparse.ArgumentParser, argv: Sequence[str], extras: Sequence[str], command: str | None) -> str:
    message = f"unrecognized arguments: {' '.join(extras)}"
    if command in PASSTHROUGH:
        first = next((index for index, item in enumerate(argv) if item == extras[0]), len(argv))
        example = " ".join(["chatmock", *argv[:first], "--", *argv[first:]])
        return f"{message}; pytest options go after --, e.g. {example}"
    options = [option for option in parser._option_string_actions if option.startswith("--")]
    return message + did_you_mean(extras[0].partition("=")[0], options)


def _check_bind(args: argparse.Namespace) -> None:
    """``proxy``/``record`` bind as ``serve`` does: elsewhere than loopback only with an admin
    token, and the port must be free before anything is printed."""
    from mockserver.background import BindError, check_bindable, is_loopback

    if not is_loopback(args.host) and not os.environ.get(ADMIN_TOKEN_ENV):
        raise UsageError(f"binding {args.host} exposes /__chatmock/; set {ADMIN_TOKEN_ENV} to an admin token first")
    try:
        check_bindable(args.host, args.port)
    except BindError as error:
        raise UsageError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_word(argv)
    if command in SUITE_COMMANDS and missing_suite():
        return _suite_missing(command)
    parser = build_parser(_extra_commands())
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed in one line
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    prog = _subparser(parser, args).prog
    if extras:
        return _fail(_unrecognized(_subparser(parser, args), argv, extras, command), prog=prog)
    try:
        if args.command in ("proxy", "record"):
            _check_bind(args)
        if args.command in SUITE_COMMANDS:
            _keep_suite_output_in(args)
        handler: Handler = args.handler
        return handler(args)
    except UsageError as error:
        return _fail(str(error), prog=prog)
    except RegistryError as error:
        return _fail(f"broken schema: {error}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
