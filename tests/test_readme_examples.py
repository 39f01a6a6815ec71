"""The README's curl examples run against a mock started on a free port, as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
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
            assert status == "200", f"{line}: HTTP {status} {body[:200]}"
            parsed = json.loads(body)
            assert not (isinstance(parsed, dict) and parsed.get("status") == "error"), f"{line}: {body[:200]}"
            assert not re.search(r"Traceback", body)
