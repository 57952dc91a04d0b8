"""The flow package's modules import one another without a cycle.

Imports inside functions count: they are how a cycle hides (the checks once
imported the registry while the registry imported the checks to load a set).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def flows_imports(source: str) -> set[str]:
    """The ``flows.*`` modules a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("flows."))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flows."):
            found.add(str(node.module))
    return found


def graph() -> dict[str, set[str]]:
    modules = {
        module_name(path): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "flows").glob("*.py"))
    }
    return {name: flows_imports(source) & set(modules) for name, source in modules.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for other in sorted(edges.get(name, ())):
            found = visit(other, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(edges):
        found = visit(name, [])
        if found:
            return found
    return None


def test_the_flow_modules_import_without_a_cycle() -> None:
    edges = graph()
    assert len(edges) >= 10, "flows/ has too few modules; is the path right?"
    found = cycle(edges)
    assert found is None, "import cycle: " + " -> ".join(found or [])


def test_a_cycle_hidden_in_a_function_is_found() -> None:
    registry = "def load():\n    from flows.inspect import inspect\n"
    checks = "from flows.registry import Registry\n"
    edges = {
        "flows.registry": flows_imports(registry),
        "flows.inspect": flows_imports(checks),
    }
    assert cycle(edges) == ["flows.inspect", "flows.registry", "flows.inspect"]
