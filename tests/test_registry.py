"""The registry's checks: a broken schema file is refused with its file and JSON pointer, and the
fast (jsonschema-rs) meta-checks used at start-up agree with the reference validator."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from mockserver.core import paths
from mockserver.core.registry import Registry, RegistryError, load, load_registry
from mockserver.core.validate import Checker

SAY = Path("lingr") / "lingr.room.say.json"


def _checkers(registry: Registry) -> Iterator[tuple[str, Checker]]:
    for api in registry.apis.values():
        yield f"{api.name} errorSchema", api.error_checker
    for endpoint in registry.endpoints.values():
        for name, checker in (("params", endpoint.params_checker), ("path", endpoint.path_checker)):
            if checker is not None:
                yield f"{endpoint.id} {name}", checker
        for status, response in endpoint.responses.items():
            for checker in (response.checker, response.item_checker, *response.header_checkers.values()):
                if checker is not None:
                    yield f"{endpoint.id} {status}", checker


def test_every_bundled_schema_passes_the_reference_draft7_check() -> None:
    checked = 0
    for name, checker in _checkers(load_registry()):
        try:
            jsonschema.Draft7Validator.check_schema(checker.schema)
        except jsonschema.SchemaError as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{name}: {error.message}")
        checked += 1
    assert checked > 100


def test_every_schema_file_passes_its_meta_schema_by_the_reference_validator() -> None:
    root = paths.schemas_dir()
    endpoint_meta = jsonschema.Draft7Validator(json.loads((root / "_meta" / "endpoint.json").read_text(encoding="utf-8")))
    api_meta = jsonschema.Draft7Validator(json.loads((root / "_meta" / "api.json").read_text(encoding="utf-8")))
    files = sorted(root.glob("*/*.json"))
    for file in files:
        if file.parent.name.startswith("_") or (file.name.startswith("_") and file.name != "_api.json"):
            continue
        meta = api_meta if file.name == "_api.json" else endpoint_meta
        errors = [error.message for error in meta.iter_errors(json.loads(file.read_text(encoding="utf-8")))]
        assert errors == [], f"{file}: {errors[:3]}"
    assert len(files) > 40


@pytest.fixture
def schemas_copy(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(paths.schemas_dir(), target)
    return target


def _edit(root: Path, change: object) -> None:
    file = root / SAY
    document = json.loads(file.read_text(encoding="utf-8"))
    change(document)  # type: ignore[operator]
    file.write_text(json.dumps(document), encoding="utf-8")


def test_a_file_breaking_its_meta_schema_is_named_with_its_pointer(schemas_copy: Path) -> None:
    _edit(schemas_copy, lambda document: document.update(methods="POST"))
    with pytest.raises(RegistryError) as raised:
        load(schemas_copy)
    assert raised.value.file.name == SAY.name
    assert raised.value.pointer == "/methods"


def test_a_broken_json_schema_inside_a_file_is_named_with_its_pointer(schemas_copy: Path) -> None:
    _edit(schemas_copy, lambda document: document["request"]["params"]["schema"]["properties"].update(text={"type": 12}))
    with pytest.raises(RegistryError) as raised:
        load(schemas_copy)
    assert raised.value.file.name == SAY.name
    assert raised.value.pointer == "/request/params/schema/properties/text/type"
    assert "invalid JSON Schema" in raised.value.message


def test_a_file_that_is_not_json_is_refused(schemas_copy: Path) -> None:
    (schemas_copy / SAY).write_text("{not json", encoding="utf-8")
    with pytest.raises(RegistryError, match="not JSON"):
        load(schemas_copy)
