"""The base install serves: the wheel installed WITHOUT extras (no pytest, no hypothesis) gives
``chatmock --version``, ``--help``, ``serve`` (a Lingr login answers), ``schemas``, ``proxy`` and
``record``, and ``test``/``validate`` say in one line which extra to install.

The wheel is built from this checkout (``pip wheel --no-build-isolation``, with the hatchling
of the dev extra) and installed into a fresh venv; pip takes the base dependencies from the
package registry or its cache. Without a reachable registry the module is skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.background import free_port

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "chatmock-server"
UNREACHABLE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Max retries exceeded",
    "ConnectTimeout",
    "Read timed out",
)


def _env() -> dict[str, str]:
    """The environment of a user's shell: nothing of this checkout's venv or test run."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "HYPOTHESIS_STORAGE_DIRECTORY", "CHATMOCK_ADMIN_TOKEN")
    return {key: value for key, value in os.environ.items() if key not in drop and not key.startswith("PYTEST_")}


def _run(*command: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel of this checkout and its base dependencies only."""
    work = tmp_path_factory.mktemp("base-install")
    # the dev extra's hatchling builds it here; without it pip fetches hatchling into an isolated build
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q", "-w", work / "dist", ROOT, cwd=work, timeout=600)
    if built.returncode != 0:
        _skip_if_unreachable(built.stderr)
        pytest.fail(f"pip wheel failed:\n{built.stderr[-2000:]}")
    (wheel,) = (work / "dist").glob("chatmock_server-*.whl")
    created = _run(sys.executable, "-m", "venv", work / "venv", cwd=work)
    assert created.returncode == 0, created.stderr[-2000:]
    python = work / "venv" / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=work, timeout=600)
    if installed.returncode != 0:
        _skip_if_unreachable(installed.stderr)
        pytest.fail(f"pip install {wheel.name} failed:\n{installed.stderr[-2000:]}")
    return work / "venv"


def _skip_if_unreachable(pip_errors: str) -> None:
    reason = next((line.strip() for line in pip_errors.splitlines() if any(mark in line for mark in UNREACHABLE)), None)
    if reason is not None:
        pytest.skip(f"pip cannot reach the package registry for the base dependencies: {reason}")


@pytest.fixture(scope="module")
def chatmock(venv: Path) -> Path:
    return venv / "bin" / "chatmock"


def test_the_venv_has_no_suite_and_its_own_copy(venv: Path) -> None:
    probe = _run(
        venv / "bin" / "python",
        "-c",
        "import importlib.util, mockserver; "
        "print(mockserver.__file__); print([m for m in ('pytest', 'hypothesis') if importlib.util.find_spec(m)])",
        cwd=venv,
    )
    assert probe.returncode == 0, probe.stderr
    location, suite = probe.stdout.splitlines()
    assert location.startswith(str(venv)), "the installed wheel, not this checkout"
    assert suite == "[]", "installed without the suite extra"


def test_version(chatmock: Path, venv: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    result = _run(chatmock, "--version", cwd=venv)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{DISTRIBUTION} {version}\n", "")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["serve", "--help"],
        ["schemas", "list"],
        ["schemas", "openapi", "--api", "lingr"],
        ["proxy", "--help"],
        ["record", "--help"],
    ],
    ids=" ".join,
)
def test_commands_of_the_base_install_run(argv: list[str], chatmock: Path, venv: Path) -> None:
    result = _run(chatmock, *argv, cwd=venv)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if argv == ["--help"]:
        for command in ("serve", "schemas", "test", "validate", "proxy", "record"):
            assert f"    {command} " in result.stdout


@pytest.mark.parametrize(
    "argv", [["test"], ["test", "--api", "lingr", "--", "-x"], ["validate", "--api", "lingr", "--base-url", "http://127.0.0.1:9"]]
)
def test_suite_commands_name_the_extra(argv: list[str], chatmock: Path, venv: Path) -> None:
    result = _run(chatmock, *argv, cwd=venv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"chatmock {argv[0]} needs the suite extra: pip install '{DISTRIBUTION}[suite]'\n"


@pytest.fixture
def served(chatmock: Path, venv: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [str(chatmock), "serve", "--port", str(port)], cwd=venv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with process:
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.communicate(timeout=15)


def test_serve_answers_a_lingr_login(served: tuple[subprocess.Popen[str], str]) -> None:
    process, url = served
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/__chatmock/health", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "chatmock serve did not come up"
            time.sleep(0.1)
    login = httpx.post(f"{url}/lingr/api/session/create", data={"user": "alice", "password": "alice-password"})
    assert login.status_code == 200
    assert login.json()["status"] == "ok"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"chatmock serving gitter, rocketchat, lingr, bocco on {url}" in out
    assert "chatmock stopped" in out
    assert "Traceback" not in err
