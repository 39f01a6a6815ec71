"""The rules of the rooms (ARCHITECTURE.md), read from the source with ``ast``:

* ``mockserver/core`` imports only ``mockserver.core`` and names no API, not even in a string
  (docstrings and comments aside);
* ``mockserver/apis/<x>`` imports ``mockserver.core`` and ``mockserver.apis.<x>``, never another
  API nor the rest of the package;
* no import cycle inside ``mockserver``, counting imports inside functions and under
  ``TYPE_CHECKING`` too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import mockserver
from mockserver.apis import API_NAMES

PACKAGE = Path(mockserver.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str) -> set[str]:
    """The ``mockserver`` modules ``name`` imports (``from package import module`` names the module)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module == "mockserver" or module.startswith("mockserver.")}


def test_the_package_is_read() -> None:
    assert "mockserver.core.dispatch" in MODULES
    assert "mockserver.core.registry" in imported("mockserver.core.dispatch")
    assert "mockserver.apis.gitter.markup" in imported("mockserver.apis.gitter.render")


def core_modules() -> list[str]:
    return [name for name in MODULES if name.startswith("mockserver.core")]


@pytest.mark.parametrize("name", core_modules())
def test_core_imports_only_core(name: str) -> None:
    outside = sorted(module for module in imported(name) if not module.startswith("mockserver.core"))
    assert outside == [], f"{name} imports {outside}"


def code_words(tree: ast.AST) -> Iterator[str]:
    """Identifiers and string constants, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.alias):
            yield node.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


@pytest.mark.parametrize("name", core_modules())
def test_core_names_no_api(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    named = sorted({api for word in code_words(tree) for api in API_NAMES if api in word.lower()})
    assert named == [], f"{name} names {named} in its code"


@pytest.mark.parametrize("api", API_NAMES)
def test_an_api_imports_core_and_itself_only(api: str) -> None:
    own = f"mockserver.apis.{api}"
    modules = [name for name in MODULES if name == own or name.startswith(own + ".")]
    assert f"{own}.api" in modules
    for name in modules:
        outside = sorted(
            module
            for module in imported(name)
            if not (module.startswith("mockserver.core") or module == own or module.startswith(own + "."))
        )
        assert outside == [], f"{name} imports {outside}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = {name: {module for module in imported(name) if module in MODULES and module != name} for name in MODULES}
    assert cycles(graph) == []
