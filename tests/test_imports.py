"""The package's import graph: no cycles, and the layers DESIGN.md draws.

The graph is read from the source with ``ast`` (module-level imports only: an import inside a
function runs when the function is called, after every module has loaded). A cycle makes the
order of imports matter and every module in it depend on all the others; the backends never
import each other, and the arithmetic core (``shapes``) imports nothing from the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "conv_tutorial"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The package modules an ``import from`` names: the module itself, or its imported submodules."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    if not target.startswith("conv_tutorial"):
        return []
    names = [f"{target}.{alias.name}" for alias in node.names]
    return [name if name in MODULES else target for name in names]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        edges: set[str] = set()
        for node in ast.parse(path.read_text()).body:  # module level only
            if isinstance(node, ast.ImportFrom):
                edges.update(_resolve(module, path.name == "__init__.py", node))
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.startswith("conv_tutorial"))
        graph[module] = {e for e in edges if e != module}
    return graph


MODULES = {_module_name(p) for p in PACKAGE.rglob("*.py")}
GRAPH = _graph()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    # The reader must see the edges everyone knows are there, or the other tests prove nothing.
    assert "conv_tutorial._checks" in GRAPH["conv_tutorial.numpy.im2col"]
    assert "conv_tutorial.shapes" in GRAPH["conv_tutorial._checks"]
    assert "conv_tutorial.numpy.im2col" in GRAPH["conv_tutorial.numpy"]


def test_no_import_cycle():
    # Package __init__ files count as modules too: none imports a module that imports it back.
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(("backend", "other"), [("numpy", "torch"), ("torch", "numpy")])
def test_backends_never_import_each_other(backend, other):
    importers = [
        module
        for module, edges in GRAPH.items()
        if module.startswith(f"conv_tutorial.{backend}") and any(e.startswith(f"conv_tutorial.{other}") for e in edges)
    ]
    assert importers == []


def test_the_arithmetic_core_imports_nothing_from_the_package():
    assert GRAPH["conv_tutorial.shapes"] == set()
