"""CONTRIBUTING.md's recipe, followed for real: a throwaway Rocket.Chat read endpoint added to
a temporary copy of the project in exactly three files (schema, handler, request spec). Each
missing step fails loudly and names the file to edit; with all three, the mock serves it and
the contract suite and the schema tests pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENDPOINT = "rocketchat.recipe.whoami"

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "id": ENDPOINT,
    "summary": "The username of the authenticated user (a throwaway endpoint of the contributing recipe)",
    "methods": ["GET"],
    "path": "/api/v1/recipe.whoami",
    "server": "rest",
    "auth": "headers",
    "request": {},
    "responses": {
        "200": {
            "description": "the caller's username",
            "contentType": "application/json",
            "schema": {
                "type": "object",
                "required": ["username", "success"],
                "properties": {"username": {"type": "string"}, "success": {"const": True}},
            },
        },
        "400": {
            "description": "invalid parameters",
            "contentType": "application/json",
            "schema": {"$ref": "_defs.json#/definitions/FailureBody"},
        },
        "401": {"description": "not logged in", "contentType": "application/json", "schema": {"$ref": "_defs.json#/definitions/AuthError"}},
    },
    "errors": [
        {
            "status": 401,
            "when": "no or wrong credentials",
            "body": {"status": "error", "message": "You must be logged in to do this."},
            "source": "inferred: as rocketchat.me",
        },
        {"status": 400, "when": "invalid query parameters", "source": "inferred: as rocketchat.me"},
    ],
    "sources": ["inferred: a throwaway endpoint of tests/test_contributing_recipe.py"],
}

HANDLER = """
    @handles("rocketchat.recipe.whoami")
    async def recipe_whoami(self, call: Call) -> Reply:
        return JsonReply(200, {"username": principal(call).username, "success": True})
"""

SPEC = """

@SPECS.request_for("rocketchat.recipe.whoami")
def recipe_whoami(ctx: Ctx) -> RequestSpec:
    return RequestSpec()


SPECS.names_no_id("rocketchat.recipe.whoami")
"""


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300, check=False)


def start_the_mock(copy: Path) -> subprocess.CompletedProcess[str]:
    return run(copy, "-c", "from mockserver import create_app; create_app(['rocketchat'])")


def add_after(path: Path, anchor: str, text: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert anchor in source, f"{path}: {anchor!r} moved; update the recipe test"
    path.write_text(source.replace(anchor, anchor + text, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recipe")
    for name in ("mockserver", "contract_tests", "schemas", "fixtures", "tests"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_recipe_adds_an_endpoint_in_three_files(copy: Path) -> None:
    # 1. the schema file alone: the mock refuses to start, naming the endpoint and the file
    (copy / "schemas" / "rocketchat" / f"{ENDPOINT}.json").write_text(json.dumps(SCHEMA, indent=2), encoding="utf-8")
    started = start_the_mock(copy)
    assert started.returncode != 0
    assert f"no handler for {ENDPOINT}" in started.stderr
    assert "add a @handles method in mockserver/apis/rocketchat/api.py" in started.stderr

    # 2. the handler: the mock starts; the suite refuses to collect, naming the spec file
    add_after(
        copy / "mockserver" / "apis" / "rocketchat" / "api.py",
        '    name = "rocketchat"\n',
        textwrap.indent(textwrap.dedent(HANDLER), "    "),
    )
    started = start_the_mock(copy)
    assert started.returncode == 0, started.stderr
    collected = run(copy, "-m", "pytest", "contract_tests", "--api", "rocketchat", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == pytest.ExitCode.USAGE_ERROR, collected.stdout + collected.stderr
    assert f"no request spec for {ENDPOINT}: add one in contract_tests/apis/rocketchat.py" in collected.stdout + collected.stderr

    # 3. the request spec: the endpoint's contract tests and the schema tests pass
    spec_file = copy / "contract_tests" / "apis" / "rocketchat.py"
    spec_file.write_text(spec_file.read_text(encoding="utf-8") + SPEC, encoding="utf-8")
    suite = run(copy, "-m", "pytest", "contract_tests", "--api", "rocketchat", "-q", "-p", "no:cacheprovider", "-k", "recipe")
    assert suite.returncode == 0, suite.stdout[-3000:] + suite.stderr[-3000:]
    assert " passed" in suite.stdout
    schema_checks = run(
        copy,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-x",
        "tests/test_schemas.py",
        "tests/test_schemas_rocketchat.py",
        "tests/test_registry.py",
        "tests/test_access_control.py",
        "-k",
        "rocketchat or registry or meta",
    )
    assert schema_checks.returncode == 0, schema_checks.stdout[-3000:] + schema_checks.stderr[-3000:]
