"""Layering: the flow and storage packages stay pure and independent of each other,
and within storage only the SQLite adapter (storage/sqlite/) knows SQLite."""

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


# Storage: records and ports apart from the SQLite adapter --------------------------

DRIVERS = frozenset({"aiosqlite", "sqlite3"})
ADAPTER = "storage/sqlite/"
COMPOSITION = frozenset({"services.py", "admin.py", "key_rotation.py", "key_follow.py"})
"""The bot modules that may name the SQLite adapter: the composition root, and the
operator's CLI commands that work on the database file itself (by file name, so the
rule survives bot/ moving into sub-packages)."""


def imported_names(source: str, filename: str) -> Iterator[tuple[int, str]]:
    """(line, full dotted module) of every absolute import, ``from a import b`` as ``a.b``."""
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def driver_violations(files: dict[str, str]) -> list[str]:
    """Storage modules outside the adapter that import a driver or the adapter itself."""
    found = []
    for filename, source in sorted(files.items()):
        if filename.startswith(ADAPTER):
            continue
        for line, name in imported_names(source, filename):
            top = name.split(".")[0]
            if top in DRIVERS or name == "storage.sqlite" or name.startswith("storage.sqlite."):
                found.append(f"{filename}:{line}: imports {name}")
    return sorted(set(found))


def test_only_the_sqlite_adapter_imports_the_driver() -> None:
    files = package_files("storage")
    assert any(name.startswith(ADAPTER) for name in files)
    for required in ("storage/ports.py", "storage/referrals.py", "storage/staff.py"):
        assert required in files
    bad = driver_violations(files)
    assert not bad, "records, ports and helpers must not know SQLite:\n" + "\n".join(bad)


def test_the_bot_names_the_adapter_only_in_its_composition_root() -> None:
    bad = [
        f"{filename}:{line}: imports {name}"
        for filename, source in sorted(package_files("bot").items())
        if Path(filename).name not in COMPOSITION
        for line, name in imported_names(source, filename)
        if name.startswith("storage.sqlite")
    ]
    assert not bad, "the bot depends on storage.ports; only the root picks SQLite:\n" + "\n".join(
        sorted(set(bad))
    )


def test_driver_checker_reports_file_and_line() -> None:
    source = (
        "import sqlite3\n"
        "from storage.sqlite.database import Database\n"
        "from storage import sqlite\n"
        "import aiosqlite as a\n"
        "from storage.referrals import Referral\n"
    )
    assert driver_violations({"storage/records.py": source}) == [
        "storage/records.py:1: imports sqlite3",
        "storage/records.py:2: imports storage.sqlite.database",
        "storage/records.py:2: imports storage.sqlite.database.Database",
        "storage/records.py:3: imports storage.sqlite",
        "storage/records.py:4: imports aiosqlite",
    ]
    assert driver_violations({"storage/sqlite/members.py": source}) == []
