"""Realistic broken variants of a valid instance, derived from its schema (tests/test_schemas.py
proves with them that each schema rejects what it must).

Each mutation says whether the schema is bound to reject it: dropping a required field or
changing a typed field's type of a plain object schema must fail; inside ``oneOf``/``anyOf``
another branch may legitimately match.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from contract_tests.mutations import UNDOCUMENTED

_WRONG_TYPE: dict[str, Any] = {
    "string": 12345,
    "integer": "12345",
    "number": "1.5",
    "boolean": "true",
    "array": {"not": "an array"},
    "object": ["not", "an", "object"],
    "null": 0,
}


@dataclass(frozen=True)
class Mutation:
    description: str
    instance: Any
    must_reject: bool
    field: str


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    return list(declared or [])


def _replaced(instance: Any, path: tuple[Any, ...], value: Any) -> Any:
    broken = copy.deepcopy(instance)
    node = broken
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return broken


def _dropped(instance: Any, path: tuple[Any, ...]) -> Any:
    broken = copy.deepcopy(instance)
    node = broken
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return broken


def _label(path: tuple[Any, ...]) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def mutations(schema: Mapping[str, Any], instance: Any, *, depth: int = 3) -> Iterator[Mutation]:
    """Broken variants of ``instance`` (valid against ``schema``), outermost first."""
    yield from _walk(schema, instance, instance, (), True, depth)


def _walk(schema: Any, root: Any, node: Any, path: tuple[Any, ...], binding: bool, depth: int) -> Iterator[Mutation]:
    if not isinstance(schema, Mapping) or depth < 0:
        return
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, ()):
            yield from _walk(branch, root, node, path, binding and keyword == "allOf", depth)
    if "enum" in schema and isinstance(node, str) and path:
        yield Mutation(f"{_label(path)}: value outside the enum", _replaced(root, path, UNDOCUMENTED), binding, _label(path))
    if "const" in schema and path and node == schema["const"]:
        other = UNDOCUMENTED if isinstance(node, str) else [node]
        yield Mutation(f"{_label(path)}: not the constant", _replaced(root, path, other), binding, _label(path))
    types = _types(schema)
    if path and types:
        wrong = next((value for name, value in _WRONG_TYPE.items() if name not in types and not _fits(value, types)), None)
        if wrong is not None:
            yield Mutation(f"{_label(path)}: wrong type (not {'/'.join(types)})", _replaced(root, path, wrong), binding, _label(path))
    if isinstance(node, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name in node:
                yield Mutation(
                    f"{_label((*path, name))}: required field missing", _dropped(root, (*path, name)), binding, _label((*path, name))
                )
        for name, value in node.items():
            if name in properties:
                yield from _walk(properties[name], root, value, (*path, name), binding, depth - 1)
    elif isinstance(node, list) and node and isinstance(schema.get("items"), Mapping):
        yield from _walk(schema["items"], root, node[0], (*path, 0), binding, depth - 1)


def _fits(value: Any, types: list[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, str):
        return "string" in types
    if isinstance(value, list):
        return "array" in types
    if isinstance(value, dict):
        return "object" in types
    return "null" in types and value is None
