"""Every command-line input error is one line on stderr naming the bad value (and the file),
exit 2, no traceback, nothing printed on stdout and nothing started or written.

One parametrized test per class of error; the commands run in-process through ``main`` (the
last test runs a few of them as a user would, in a child process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver import cli, serve
from mockserver.app import create_app
from mockserver.background import free_port

KNOWN = "known: gitter, rocketchat, lingr, bocco"


@pytest.fixture(autouse=True)
def _no_gc_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    """``chatmock serve`` freezes the collector's view of each world: process-wide, so not here."""

    def create(*args: Any, **kwargs: Any) -> Any:
        return create_app(*args, **{**kwargs, "freeze_gc": False})

    monkeypatch.setattr(serve, "create_app", create)
    monkeypatch.delenv("CHATMOCK_ADMIN_TOKEN", raising=False)


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert code == 2, (code, captured.out, captured.err)
    assert captured.out == "", "nothing else is printed (no banner)"
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert lines[0].startswith("chatmock"), lines[0]
    return lines[0]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture
def instance(tmp_path: Path) -> str:
    path = tmp_path / "instance.json"
    path.write_text("{}")
    return str(path)


# unknown API names, wherever an API is named --------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--api", "slack"],
        ["serve", "--api", "lingr", "--api", "slack"],
        ["schemas", "list", "--api", "slack"],
        ["schemas", "openapi", "--api", "slack"],
        ["proxy", "--api", "slack", "--upstream", "http://127.0.0.1:9"],
        ["record", "--api", "slack", "--upstream", "http://127.0.0.1:9", "--out", "never-written"],
        ["test", "--api", "slack"],
        ["test", "--base-url", "slack=http://127.0.0.1:9"],
        ["validate", "--api", "slack", "--base-url", "http://127.0.0.1:9"],
    ],
    ids=" ".join,
)
def test_unknown_api(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_line_error(capsys, *argv)
    assert "unknown API 'slack'" in line
    assert KNOWN in line
    assert not list(tmp_path.iterdir()), "nothing written"


def test_unknown_api_suggests_the_close_name(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, "serve", "--api", "rocket.chat")
    assert "(did you mean 'rocketchat'?)" in line


# seed files -------------------------------------------------------------------------------------
SEEDS: dict[str, tuple[bytes, str]] = {
    "a-list": (b"[1, 2, 3]", "a seed is a JSON object keyed by API name"),
    "not-json": (b"{\n", "is not JSON: Expecting property name enclosed in double quotes at line 2 column 1"),
    "not-utf8": (b"\xff\xfe{}", "is not UTF-8 text"),
    "unknown-api": (b'{"slack": {}}', f"unknown API 'slack'; {KNOWN}"),
    "api-typo": (b'{"rocket.chat": {}}', "unknown API 'rocket.chat' (did you mean 'rocketchat'?)"),
    "world-not-an-object": (b'{"lingr": []}', "the lingr world must be a JSON object, not list"),
    "wrong-shape": (b'{"lingr": {"users": "alice"}}', "lingr"),
}


@pytest.mark.parametrize("case", sorted(SEEDS))
def test_bad_seed_file(case: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    content, expected = SEEDS[case]
    seed = tmp_path / f"{case}.json"
    seed.write_bytes(content)
    port = free_port()
    line = one_line_error(capsys, "serve", "--port", str(port), "--seed", str(seed))
    assert f"seed file {seed}" in line
    assert expected in line
    assert port_is_free(port), "the port was let go"


def test_missing_seed_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = one_line_error(capsys, "serve", "--port", str(free_port()), "--seed", str(tmp_path / "nope.json"))
    assert line == f"chatmock serve: cannot read seed file {tmp_path / 'nope.json'}: No such file or directory"


# ports ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "bad"),
    [
        (["serve", "--port", "80000"], "80000"),
        (["serve", "--port", "0"], "0"),
        (["serve", "--port", "-1"], "-1"),
        (["serve", "--port", "http"], "'http'"),
        (["serve", "--lingr-observe-port", "65536"], "65536"),
        (["proxy", "--api", "lingr", "--upstream", "http://127.0.0.1:9", "--port", "80000"], "80000"),
        (["record", "--api", "lingr", "--upstream", "http://127.0.0.1:9", "--out", "rec", "--port", "70000"], "70000"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_port_out_of_range(argv: list[str], bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, *argv)
    assert f"{bad} is not a port number (1-65535)" in line


@pytest.mark.parametrize("command", ["serve", "serve-observe", "proxy", "record"])
def test_port_in_use_is_said_before_any_banner(
    command: str, busy_port: int, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    upstream = ["--api", "lingr", "--upstream", "http://127.0.0.1:9", "--port", str(busy_port)]
    argv = {
        "serve": ["serve", "--port", str(busy_port)],
        "serve-observe": ["serve", "--port", str(free_port()), "--lingr-observe-port", str(busy_port)],
        "proxy": ["proxy", *upstream],
        "record": ["record", *upstream, "--out", "rec"],
    }[command]
    line = one_line_error(capsys, *argv)
    assert line.endswith(f"port {busy_port} is already in use on 127.0.0.1")
    assert not (tmp_path / "rec").exists()


def test_observe_port_equal_to_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    line = one_line_error(capsys, "serve", "--port", str(port), "--lingr-observe-port", str(port))
    assert f"--lingr-observe-port {port} is --port too" in line


# URLs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "bad"),
    [
        (["proxy", "--api", "lingr", "--upstream", "not-a-url"], "not-a-url"),
        (["proxy", "--api", "lingr", "--upstream", "lingr.com"], "lingr.com"),
        (["proxy", "--api", "lingr", "--upstream", "ftp://lingr.com"], "ftp://lingr.com"),
        (["proxy", "--api", "lingr", "--upstream", "http://lingr.com:99999"], "http://lingr.com:99999"),
        (["record", "--api", "lingr", "--upstream", "http://", "--out", "rec"], "http://"),
        (["validate", "--api", "lingr", "--base-url", "not-a-url"], "not-a-url"),
        (["test", "--base-url", "lingr=ftp://x"], "ftp://x"),
        (["schemas", "openapi", "--api", "lingr", "--base-url", "127.0.0.1:8000"], "127.0.0.1:8000"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_not_an_http_url(argv: list[str], bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, *argv)
    assert repr(bad) in line
    assert "URL" in line


# schema ids -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schema_id", "suggestion"),
    [("lingr.room.sya", "lingr.room.say"), ("bocco.message", "bocco.Message"), ("gitter.room.list", "gitter.rooms.list"), ("zzz", None)],
)
def test_unknown_schema_id(schema_id: str, suggestion: str | None, instance: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, "schemas", "validate", schema_id, instance)
    assert f"unknown endpoint id {schema_id!r}" in line
    assert "chatmock schemas list" in line
    if suggestion:
        assert f"(did you mean {suggestion!r}?)" in line
    else:
        assert "did you mean" not in line


def test_unknown_status_lists_the_documented_ones(instance: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, "schemas", "validate", "gitter.rooms.list", instance, "--status", "299")
    assert "gitter.rooms.list documents no status 299 (documented: 200" in line


@pytest.mark.parametrize("content", [b"\xff\xfe", b"{not json"], ids=["not-utf8", "not-json"])
def test_unreadable_instance_names_the_file(content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(content)
    line = one_line_error(capsys, "schemas", "validate", "bocco.Message", str(path))
    assert str(path) in line


# durations and counts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--longpoll-timeout", "-1"),
        ("--longpoll-timeout", "inf"),
        ("--stream-keepalive", "0"),
        ("--session-idle-timeout", "-5"),
        ("--read-timeout", "nan"),
        ("--read-timeout", "soon"),
        ("--auth-failure-limit", "0"),
        ("--journal-size", "-1"),
        ("--body-limit", "0"),
        ("--header-limit", "10"),
    ],
)
def test_bad_duration_or_count(option: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, "serve", option, value)
    assert line.startswith(f"chatmock serve: argument {option}: ")
    assert value in line


# options --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["test", "-k", "session"], "pytest options go after --, e.g. chatmock test -- -k session"),
        (["test", "--api", "lingr", "-k", "session"], "pytest options go after --, e.g. chatmock test --api lingr -- -k session"),
        (["validate", "--api", "lingr", "--base-url", "http://127.0.0.1:9", "-x"], "pytest options go after --"),
        (["serve", "--prot", "9105"], "unrecognized arguments: --prot 9105 (did you mean '--port'?)"),
        (["schemas", "list", "--jsn"], "unrecognized arguments: --jsn (did you mean '--json'?)"),
        (["serv"], "invalid choice: 'serv'"),
        ([], "the following arguments are required: COMMAND"),
        (["serve", "--cors-origin", "http://localhost:3000"], "--cors-origin needs --cors"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_bad_option(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert expected in one_line_error(capsys, *argv)


@pytest.mark.parametrize("command", ["serve", "proxy", "record"])
def test_a_public_bind_needs_the_admin_token(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    extra = [] if command == "serve" else ["--api", "lingr", "--upstream", "http://127.0.0.1:9"]
    extra += ["--out", "rec"] if command == "record" else []
    line = one_line_error(capsys, command, *extra, "--host", "0.0.0.0")
    assert line == f"chatmock {command}: binding 0.0.0.0 exposes /__chatmock/; set CHATMOCK_ADMIN_TOKEN to an admin token first"


@pytest.mark.parametrize("command", ["test", "validate"])
def test_suite_commands_without_the_suite_extra(command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "SUITE_MODULES", ("chatmock_no_such_module",))
    line = one_line_error(capsys, command, "--api", "lingr")
    assert line == f"chatmock {command} needs the suite extra: pip install 'chatmock-server[suite]'"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"chatmock-server {version('chatmock-server')}\n"


# as a user runs them --------------------------------------------------------------------------------
def test_errors_in_a_child_process_are_one_line(tmp_path: Path) -> None:
    seed = tmp_path / "shape.json"
    seed.write_text(json.dumps({"lingr": {"users": "alice"}}))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = str(holder.getsockname()[1])
        for argv in (
            ["serve", "--port", str(free_port()), "--seed", str(seed)],
            ["serve", "--port", busy],
            ["schemas", "list", "--api", "slack"],
            ["proxy", "--api", "lingr", "--upstream", "not-a-url"],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "mockserver.cli", *argv],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={**os.environ, "CHATMOCK_ADMIN_TOKEN": ""},
            )
            assert result.returncode == 2, result
            assert result.stdout == ""
            assert len(result.stderr.splitlines()) == 1, result.stderr
            assert "Traceback" not in result.stderr


def test_an_unknown_rocketchat_version_is_one_line() -> None:
    """`--rocketchat-version` is checked by the Rocket.Chat module: an unknown one stops serve in one line."""
    import subprocess
    import sys

    from mockserver.background import free_port

    done = subprocess.run(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(free_port()), "--rocketchat-version", "99.1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "99.1" in lines[0]
    assert "Traceback" not in done.stderr
