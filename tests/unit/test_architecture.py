"""Layering: the flow and storage packages stay pure and independent of each other."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)

ALLOWED: dict[str, frozenset[str]] = {
    # Babel (already a runtime dependency) gives flows CLDR locale data and PO reading.
    "flows": frozenset({"babel", "pydantic", "yaml", "flows"}),
    "storage": frozenset({"aiosqlite", "cryptography", "pydantic", "storage"}),
}


def imported_modules(source: str, filename: str) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of every import; relative imports count as the package."""
    package = Path(filename).parts[0]
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:
                yield node.lineno, package
            elif node.module is not None:
                yield node.lineno, node.module.split(".")[0]


def violations(package: str, files: dict[str, str]) -> list[str]:
    """``file:line: imports X`` for every import outside what ``package`` may use."""
    allowed = ALLOWED[package]
    found = []
    for filename, source in sorted(files.items()):
        for line, module in imported_modules(source, filename):
            if module not in STDLIB and module not in allowed:
                found.append(f"{filename}:{line}: imports {module}")
    return found


def package_files(package: str) -> dict[str, str]:
    paths = sorted((ROOT / package).rglob("*.py"))
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in paths
        if ".venv" not in path.parts
    }


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    files = package_files(package)
    assert len(files) >= 3, f"{package}/ has too few modules; is the path right?"
    bad = violations(package, files)
    assert not bad, f"{package}/ imports outside its allowed set:\n" + "\n".join(bad)


@pytest.mark.parametrize(("package", "other"), [("flows", "storage"), ("storage", "flows")])
def test_packages_do_not_import_each_other_nor_the_bot(package: str, other: str) -> None:
    forbidden = {other, "bot", "telegram"}
    bad = [
        f"{filename}:{line}: imports {module}"
        for filename, source in sorted(package_files(package).items())
        for line, module in imported_modules(source, filename)
        if module in forbidden
    ]
    assert not bad, f"{package}/ must not import {sorted(forbidden)}:\n" + "\n".join(bad)


def test_stdlib_names_are_what_we_expect() -> None:
    for name in ("__future__", "ast", "collections", "dataclasses", "sqlite3", "typing"):
        assert name in STDLIB
    for name in ("yaml", "pydantic", "telegram", "bot", "flows", "storage"):
        assert name not in STDLIB


def test_checker_reports_offending_file_and_line() -> None:
    source = (
        "from __future__ import annotations\n"
        "import json\n"
        "from . import model\n"
        "from flows.model import Flow\n"
        "import telegram.ext\n"
        "def f() -> None:\n"
        "    from storage import database\n"
        "    import httpx as h\n"
    )
    assert violations("flows", {"flows/sample.py": source}) == [
        "flows/sample.py:5: imports telegram",
        "flows/sample.py:7: imports storage",
        "flows/sample.py:8: imports httpx",
    ]
    assert violations("storage", {"storage/sample.py": source}) == [
        "storage/sample.py:4: imports flows",
        "storage/sample.py:5: imports telegram",
        "storage/sample.py:8: imports httpx",
    ]


def _bot_imports(filename: str) -> set[str]:
    """The ``bot.<module>`` names one bot module imports (``from bot import x`` counts as x)."""
    source = (ROOT / "bot" / filename).read_text(encoding="utf-8")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.ImportFrom) and node.module == "bot":
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            found.add((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("bot."))
    return found


@pytest.mark.parametrize(
    ("module", "other"),
    [("member_handlers", "staff_handlers"), ("staff_handlers", "member_handlers")],
)
def test_member_and_staff_sides_do_not_import_each_other(module: str, other: str) -> None:
    """bot/routing.py joins them; a side that imports the other would route behind its back."""
    assert other not in _bot_imports(f"{module}.py")


def test_staff_rules_are_pure() -> None:
    """bot/staff_decisions.py decides without Telegram or the database, like the conversation."""
    source = (ROOT / "bot" / "staff_decisions.py").read_text(encoding="utf-8")
    modules = {module for _, module in imported_modules(source, "bot/staff_decisions.py")}
    assert "telegram" not in modules
    assert not {"services", "context", "referral_desk"} & _bot_imports("staff_decisions.py")
