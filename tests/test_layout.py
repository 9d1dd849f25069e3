"""The shape of the package: small modules, no import cycle among them, and pandas' private API
reached from one place only (pdpar._pandas)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "pdpar"

#: Most lines in a module of the package.
MAX_LINES = 350

#: pandas' private API: its private modules, and private attributes pdpar would need.
PRIVATE_PANDAS = re.compile(
    r"pandas\._libs|pandas\.core|pd\.core\.|\._mgr\b|__finalize__|_constructor|_grouper\b"
    r"|_selected_obj|_obj_with_exclusions|_wrap_applied_output|\._id\b")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports, anywhere in its code (a function's own
    imports too), leaving out its own parent packages."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c in modules and c != name
                  and not name.startswith(c + ".")}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for other in sorted(graph[node]):
            if state.get(other) == 1:
                return stack[stack.index(other):] + [other]
            if other not in state and (found := visit(other, stack)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_no_module_of_the_package_is_long():
    lengths = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_the_package_has_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # a package importing its own modules, which import nothing of it, is not a cycle
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", [name for name in sorted(_modules())
                                  if not name.startswith(("pdpar._pandas.", "pdpar._pandas"))])
def test_private_pandas_api_only_in_the_compat_package(name):
    assert PRIVATE_PANDAS.findall(_modules()[name].read_text()) == []


def test_the_private_api_pattern_finds_what_the_compat_package_uses():
    source = "\n".join(path.read_text() for name, path in _modules().items()
                       if name.startswith("pdpar._pandas"))
    assert {"pandas._libs", "pandas.core", "._mgr", "__finalize__"} <= set(
        PRIVATE_PANDAS.findall(source))
