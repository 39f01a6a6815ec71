"""Generic proofs for every schema: fixtures validate, broken variants are rejected,
generated instances round-trip, the index of shared/api (beside the checkout) is covered, and
every citation of the shipped data is one a user can follow."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema
from schema_mutations import mutations

from mockserver.core.fixtures import Fixture, fixtures
from mockserver.core.registry import load_registry, thaw
from mockserver.core.validate import Checker

REGISTRY = load_registry()
FIXTURES = fixtures()
SHARED_API = Path(__file__).resolve().parents[2] / "shared" / "api"
ROOT = Path(__file__).resolve().parents[1]
SEED_FILES = {
    "000_f2a5967895916ceb.txt",
    "001_9b598478bf7b292c.txt",
    "002_0f8f93cf6b7fe958.txt",
    "003_caf86ae2eae10d61.txt",
    "004_5e83940a12cde1f2.txt",
}


def _checker(fixture: Fixture) -> Checker:
    if fixture.part == "model":
        return REGISTRY.model(fixture.id).checker
    endpoint = REGISTRY.endpoint(fixture.id)
    if fixture.part == "request":
        assert endpoint.params_checker is not None, f"{fixture.id} has no params schema"
        return endpoint.params_checker
    assert fixture.status is not None, f"{fixture.name}: a response fixture needs a status"
    checker = endpoint.response(fixture.status).checker
    assert checker is not None, f"{fixture.id} {fixture.status} has no body schema"
    return checker


def _response_schemas() -> list[tuple[str, Checker]]:
    found = []
    for endpoint in REGISTRY.endpoints.values():
        for status, response in endpoint.responses.items():
            if response.checker is not None:
                found.append((f"{endpoint.id}.{status}", response.checker))
            if response.item_checker is not None:
                found.append((f"{endpoint.id}.{status}.item", response.item_checker))
    found += [(model.id, model.checker) for model in REGISTRY.models.values()]
    return sorted(found, key=lambda pair: pair[0])


RESPONSE_SCHEMAS = _response_schemas()


def test_every_api_is_described() -> None:
    assert set(REGISTRY.apis) == {"gitter", "rocketchat", "lingr", "bocco"}
    for api in REGISTRY.apis:
        assert any(REGISTRY.endpoints_of(api)), api
        assert any(fixture.api == api for fixture in FIXTURES), api


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.name)
def test_fixture_validates(fixture: Fixture) -> None:
    errors = _checker(fixture).errors(fixture.load())
    assert errors == [], f"{fixture.name} ({fixture.source}): {errors[:3]}"


def test_every_fixture_file_is_indexed() -> None:
    # compared by <api>/<file>: under tox the fixtures are read from the installed copy, the
    # checkout's files are the ones a contributor adds
    indexed = {(fixture.file.parent.name, fixture.file.name) for fixture in FIXTURES}
    checkout = Path(__file__).resolve().parents[1] / "fixtures"
    on_disk = {(path.parent.name, path.name) for path in checkout.glob("*/*.json") if path.name != "index.json"}
    assert on_disk - indexed == set(), "fixtures missing from their index.json"
    assert all(fixture.file.exists() for fixture in FIXTURES)
    assert all(fixture.source for fixture in FIXTURES)


@pytest.mark.parametrize("fixture", [fixture for fixture in FIXTURES if fixture.part != "request"], ids=lambda fixture: fixture.name)
def test_fixture_broken_variants_rejected(fixture: Fixture) -> None:
    checker = _checker(fixture)
    instance = fixture.load()
    found = list(mutations(checker.schema, instance))
    rejected = [mutation for mutation in found if not checker.is_valid(mutation.instance)]
    accepted_binding = [mutation.description for mutation in found if mutation.must_reject and checker.is_valid(mutation.instance)]
    assert accepted_binding == [], f"{fixture.name}: broken variants accepted: {accepted_binding[:5]}"
    assert rejected or not found, f"{fixture.name}: no broken variant rejected"


@pytest.mark.parametrize(("name", "checker"), RESPONSE_SCHEMAS, ids=[name for name, _ in RESPONSE_SCHEMAS])
def test_generated_instances_round_trip_and_break(name: str, checker: Checker) -> None:
    """hypothesis-jsonschema generates instances of every response and model schema: each
    validates, and a realistic broken variant of one of them is rejected."""
    generated: list[Any] = []

    @settings(max_examples=5, database=None, derandomize=True, suppress_health_check=list(HealthCheck), deadline=None)
    @given(from_schema(_short_arrays(thaw(checker.schema))))
    def round_trip(value: Any) -> None:
        assert checker.errors(json.loads(json.dumps(value))) == []
        generated.append(value)

    round_trip()
    assert generated, f"{name}: nothing generated"
    example = max(generated, key=lambda value: len(json.dumps(value)))
    broken = [mutation for mutation in mutations(checker.schema, example) if not checker.is_valid(mutation.instance)]
    wrong_shape: Any = {"error": "not a list"} if isinstance(example, list) else ["not", "this", "shape"]
    assert broken or not checker.is_valid(wrong_shape), f"{name}: no broken variant rejected"


def _short_arrays(node: Any, cap: int = 1) -> Any:
    """The same schema with arrays capped at ``cap`` items (where it allows that): every
    instance of it is an instance of the original, and generation gets ~100x faster."""
    if isinstance(node, list):
        return [_short_arrays(item, cap) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: value if key in ("enum", "const") else _short_arrays(value, cap) for key, value in node.items()}
    if (out.get("type") == "array" or "items" in out) and out.get("minItems", 0) <= cap:
        out["maxItems"] = min(out.get("maxItems", cap), cap)
    return out


def _documented_index() -> list[tuple[str, str, str]]:
    """(api, method, normalised path) rows of shared/api/README.md's endpoint index."""
    text = (SHARED_API / "README.md").read_text(encoding="utf-8")
    sections = {"Gitter": "gitter", "Rocket.Chat": "rocketchat", "Lingr": "lingr", "BOCCO": "bocco"}
    rows: list[tuple[str, str, str]] = []
    api = ""
    for line in text.splitlines():
        if line.startswith("### "):
            api = next((name for title, name in sections.items() if title in line), "")
        elif api and line.startswith("| ") and not line.startswith(("| method", "|---")):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows.append((api, cells[0], cells[1]))
    return rows


def _shape(path: str) -> str:
    path = re.sub(r"^:[0-9]+", "", path.split(" (", maxsplit=1)[0].strip("` "))
    path = re.sub(r":[A-Za-z_]+|\{[A-Za-z_]+\}", "{}", path)
    return path.rstrip("/")


@pytest.mark.skipif(not SHARED_API.exists(), reason="shared/api is not beside this checkout")
def test_every_documented_endpoint_has_a_schema() -> None:
    served = {(endpoint.api, _shape(endpoint.path)) for endpoint in REGISTRY.endpoints.values()}
    missing = []
    for api, _method, path in _documented_index():
        previous = ""
        for one in path.split(" (", maxsplit=1)[0].split(","):
            shape = _shape(one.replace("stream: ", ""))
            if "/" not in shape:
                continue
            if previous and shape.count("/") == 1:  # "/v1/rooms/:roomId/chatMessages, /events"
                shape = previous.rsplit("/", 1)[0] + shape
            previous = shape
            if shape.startswith("/api/") or shape.startswith("/v1/") or shape.startswith("/alpha/") or api == "bocco":
                candidates = {shape, "/alpha" + shape}
            else:
                candidates = {shape}
            if not any((api, candidate) in served for candidate in candidates):
                missing.append((api, one))
    assert missing == []


# --------------------------------------------------------------------------- citations
def _shipped_files() -> list[Path]:
    return sorted(path for folder in ("schemas", "fixtures") for path in (ROOT / folder).rglob("*") if path.is_file())


def _citations() -> Iterator[tuple[str, str]]:
    """(where, citation string) of every source field of the shipped data (schemas/README.md, Sources)."""
    for path in sorted((ROOT / "schemas").glob("*/*.json")):
        if path.parent.name == "_meta" or path.name == "_defs.json":
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        for source in document["sources"]:
            yield where, source
        for case in document.get("errors", []):
            yield f"{where} errors[{case['status']}]", case.get("source", "inferred")
        for status, response in document.get("responses", {}).items():
            if "source" in response:
                yield f"{where} responses.{status}", response["source"]
    for path in sorted((ROOT / "fixtures").glob("*/index.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            yield f"{path.relative_to(ROOT).as_posix()} {entry['file']}", entry["source"]


def _citation_problem(citation: str) -> str | None:
    """None when every part of ``citation`` (parts joined by '; ') is a seed file name, an
    http(s) URL or marked inferred; else what is wrong."""
    for part in re.split(r";\s+(?=(?:seed|public|inferred)\b)", citation):
        if part == "inferred" or part.startswith("inferred: "):
            continue
        seed = re.fullmatch(r"seed: (\S+)( \(.+\))?", part, flags=re.DOTALL)
        if seed:
            if seed.group(1) not in SEED_FILES:
                return f"unknown seed file {seed.group(1)!r}"
            continue
        if not re.match(r"public: https?://[^\s,;()]+[^\s,;().]", part):
            return f"neither a seed file, a URL nor inferred: {part!r}"
    return None


def test_shipped_data_cites_nothing_beside_the_repository() -> None:
    """schemas/ and fixtures/ are packaged: no path of the checkout's surroundings (shared/...)."""
    files = _shipped_files()
    offending = [path.relative_to(ROOT).as_posix() for path in files if "shared/" in path.read_text(encoding="utf-8")]
    assert offending == []
    assert len(files) > 100


def test_every_citation_is_a_url_a_seed_file_or_inferred() -> None:
    citations = list(_citations())
    problems = [f"{where}: {problem}" for where, citation in citations if (problem := _citation_problem(citation))]
    assert problems == []
    assert len(citations) > 300
    assert sum("public: http" in citation for _, citation in citations) > 100


@pytest.mark.parametrize(
    ("citation", "ok"),
    [
        ("seed: 002_0f8f93cf6b7fe958.txt", True),
        ("seed: 003_caf86ae2eae10d61.txt (Session doctest)", True),
        ("public: https://github.com/42wim/matterbridge/issues/921 (status); inferred: body", True),
        ("inferred", True),
        ("public: shared/api/bocco.md 2.1", False),
        ("public: gitterHQ/docs 04.Rooms-resource.md", False),
        ("seed: 009_0000000000000000.txt", False),
        ("public: http://api-docs.bocco.me/reference.html#post-sessions", True),
        ("recorded: GET /v1/rooms", False),
    ],
)
def test_citation_check(citation: str, ok: bool) -> None:
    assert (_citation_problem(citation) is None) is ok
