"""The README's curl examples run against a mock started on a free port, as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver.app import create_app
from mockserver.background import serve_in_thread

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
CURL_LINES = [line.strip() for line in README.splitlines() if line.strip().startswith("curl ")]


def test_the_readme_has_curl_examples_for_every_api() -> None:
    for prefix in ("/gitter/", "/rocketchat/", "/lingr/", "/bocco/"):
        assert any(prefix in line for line in CURL_LINES), prefix


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples_work_as_written() -> None:
    with serve_in_thread(create_app(strict=True)) as server:
        for line in CURL_LINES:
            argv = [part.replace("http://127.0.0.1:8000", server.url) for part in shlex.split(line)]
            result = subprocess.run([*argv, "-sS", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30, check=False)
            body, _, status = result.stdout.rpartition("\n")
            assert result.returncode == 0, f"{line}: {result.stderr}"
            assert status in ("200", "201"), f"{line}: HTTP {status} {body[:200]}"
            parsed = json.loads(body)
            assert not (isinstance(parsed, dict) and parsed.get("status") == "error"), f"{line}: {body[:200]}"
            assert not re.search(r"Traceback", body)


def _live_examples() -> list[tuple[dict[str, str], list[str]]]:
    """(environment, argv) of each README live-run example, continuation lines joined."""
    section = README.split("### Against a live server", 1)[1].split("`--base-url", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", section)
    examples = []
    for line in joined.splitlines():
        words = shlex.split(line.strip()) if line.strip().startswith("CHATMOCK_") else []
        if not words:
            continue
        env = dict(word.split("=", 1) for word in words if re.match(r"^CHATMOCK_[A-Z_]+=", word))
        argv = [word for word in words if not re.match(r"^CHATMOCK_[A-Z_]+=", word)]
        examples.append((env, argv))
    return examples


# what the mock's default world answers for each credential the examples leave as "..."
MOCK_SECRETS = {
    "CHATMOCK_GITTER_TOKEN": "gitter-token-alice",
    "CHATMOCK_ROCKETCHAT_TOKEN": "rc-pat-alice",
    "CHATMOCK_ROCKETCHAT_USER_ID": "aLiCEx3kPq7RtZ2mW",
    "CHATMOCK_LINGR_USER": "alice",
    "CHATMOCK_LINGR_PASSWORD": "alice-password",
    "CHATMOCK_BOCCO_API_KEY": "bocco-api-key",
    "CHATMOCK_BOCCO_EMAIL": "alice@example.com",
    "CHATMOCK_BOCCO_PASSWORD": "alice-password",
    "CHATMOCK_BOCCO_ROOM": "FA000000-0000-4000-8000-000000000001",
}
LIVE_EXAMPLES = _live_examples()


def test_the_readme_has_a_live_example_per_api() -> None:
    apis = {argv[argv.index("--api") + 1] for _, argv in LIVE_EXAMPLES}
    assert apis == {"gitter", "rocketchat", "lingr", "bocco"}


@pytest.mark.parametrize(("env", "argv"), LIVE_EXAMPLES, ids=[argv[argv.index("--api") + 1] for _, argv in LIVE_EXAMPLES])
def test_live_examples_run_against_a_mock_posing_as_the_live_server(env: dict[str, str], argv: list[str], tmp_path: Path) -> None:
    """Each live example as written, with the real URLs pointed at a mock on a free port and
    the "..." credentials filled with the mock's (a few tests: those of valid requests)."""
    root = Path(__file__).resolve().parents[1]
    with serve_in_thread(create_app(longpoll_timeout=1.0)) as server:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("CHATMOCK_")}
        for key, value in env.items():
            if key.endswith("_URL"):
                api = key.removeprefix("CHATMOCK_").removesuffix("_URL").lower()
                environ[key] = f"{server.url}/{api}"
            else:
                environ[key] = MOCK_SECRETS[key] if value in ("...", "<room-uuid>") else value
        environ.update(
            CHATMOCK_GITTER_STREAM_URL=f"{server.url}/gitter/stream",
            CHATMOCK_GITTER_WS_URL=f"{server.url}/gitter/ws",
            CHATMOCK_LINGR_OBSERVE_URL=f"{server.url}/lingr",
            CHATMOCK_RATE_LIMIT="0",
            CHATMOCK_HYPOTHESIS_PROFILE="live",
        )
        assert argv[0] == "pytest"
        command = [sys.executable, "-m", *argv, "-q", "-k", "valid_request", "--ledger-json", str(tmp_path / "ledger.json")]
        result = subprocess.run(command, cwd=root, env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout
    for key in env:
        if not key.endswith("_URL"):
            assert environ[key] not in result.stdout.replace("alice@example.com", ""), f"{key} printed"
