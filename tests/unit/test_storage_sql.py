"""Storage's SQL stays portable, so a PostgreSQL backend needs a dialect, not a rewrite.

Every string literal under ``storage/`` (f-strings with their fields blanked)
and every migration is scanned for SQLite-only forms. A few SQLite-only
statements have one home each: transaction control in ``storage/dialect.py``,
pragmas and checkpoints in the SQLite adapter's connection code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.dialect import POSTGRESQL, SQLITE

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN: dict[str, str] = {
    r"\bINSERT\s+OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)\b": "use INSERT ... ON CONFLICT (...)",
    r"\bREPLACE\s+INTO\b": "use INSERT ... ON CONFLICT (...) DO UPDATE",
    r"\bWHERE\s+(1|0|TRUE|FALSE)\b(?!\s*[=<>!])": "leave out a WHERE that is always true",
    r"\bAUTOINCREMENT\b": "SQLite only; use an explicit key",
    r"\b_?ROWID_?\b": "SQLite only; use the primary key",
    r"\b(DATETIME|JULIANDAY|STRFTIME|IFNULL|TOTAL|GROUP_CONCAT)\s*\(": "SQLite-only function",
}
"""Never anywhere in storage."""

CONFINED: dict[str, frozenset[str]] = {
    r"\bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b": frozenset({"storage/dialect.py"}),
    r"\bPRAGMA\b": frozenset({"storage/sqlite/database.py", "storage/sqlite/backup.py"}),
    r"\bWAL_CHECKPOINT\b": frozenset({"storage/sqlite/database.py"}),
}
"""SQLite-only statements, each allowed in its own place only."""

STATEMENT = re.compile(
    r"^\s*(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S
)
ADAPTER = "storage/sqlite/"


def literals(source: str, filename: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in line order; an f-string's fields read as ``{}``."""
    return sorted(_literals(ast.parse(source, filename=filename)))


def _literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    parts.append(value.value)
                else:
                    parts.append("{}")
            yield node.lineno, "".join(parts)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            yield node.lineno, node.value


def problems(files: dict[str, str]) -> list[str]:
    found = []
    for filename, source in sorted(files.items()):
        texts = [(1, source)] if filename.endswith(".sql") else literals(source, filename)
        for line, text in texts:
            for pattern, why in FORBIDDEN.items():
                if re.search(pattern, text, re.I):
                    found.append(f"{filename}:{line}: {pattern}: {why}")
            for pattern, homes in CONFINED.items():
                if re.search(pattern, text, re.I) and filename not in homes:
                    found.append(f"{filename}:{line}: {pattern} belongs in {sorted(homes)}")
            if (
                filename.endswith(".py")
                and not filename.startswith(ADAPTER)
                and STATEMENT.search(text)
            ):
                found.append(f"{filename}:{line}: SQL outside the adapter ({ADAPTER})")
    return found


def storage_files() -> dict[str, str]:
    paths = [*(ROOT / "storage").rglob("*.py"), *(ROOT / "storage").rglob("*.sql")]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in sorted(paths)}


def test_storage_sql_is_portable() -> None:
    files = storage_files()
    assert any(name.startswith(ADAPTER) for name in files)
    assert any(name.endswith(".sql") for name in files)
    bad = problems(files)
    assert not bad, "SQL that a second backend could not run:\n" + "\n".join(bad)


def test_the_scan_finds_each_forbidden_form() -> None:
    source = (
        "A = 'INSERT OR IGNORE INTO t (a) VALUES (?)'\n"
        "B = f'SELECT COUNT(*) FROM t WHERE 1{X}'\n"
        "C = 'BEGIN IMMEDIATE'\n"
        "D = 'PRAGMA wal_checkpoint(TRUNCATE)'\n"
        "E = 'replace into t values (1)'\n"
        "F = 'SELECT 1 FROM t WHERE 1 = 1'\n"
    )
    assert problems({"storage/sqlite/sample.py": source}) == [
        r"storage/sqlite/sample.py:1: \bINSERT\s+OR\s+(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)\b: "
        "use INSERT ... ON CONFLICT (...)",
        r"storage/sqlite/sample.py:2: \bWHERE\s+(1|0|TRUE|FALSE)\b(?!\s*[=<>!]): "
        "leave out a WHERE that is always true",
        r"storage/sqlite/sample.py:3: \bBEGIN\s+(IMMEDIATE|EXCLUSIVE|DEFERRED)\b belongs in "
        "['storage/dialect.py']",
        r"storage/sqlite/sample.py:4: \bPRAGMA\b belongs in "
        "['storage/sqlite/backup.py', 'storage/sqlite/database.py']",
        r"storage/sqlite/sample.py:4: \bWAL_CHECKPOINT\b belongs in ['storage/sqlite/database.py']",
        r"storage/sqlite/sample.py:5: \bREPLACE\s+INTO\b: "
        "use INSERT ... ON CONFLICT (...) DO UPDATE",
    ]


def test_sql_outside_the_adapter_is_found() -> None:
    source = "Q = 'SELECT id FROM referrals WHERE id = ?'\nDOC = 'Select one of these.'\n"
    assert problems({"storage/referrals.py": source}) == [
        "storage/referrals.py:1: SQL outside the adapter (storage/sqlite/)"
    ]


@pytest.mark.parametrize(
    ("sql", "numbered"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"),
        ("SELECT '?' FROM t WHERE b = ?", "SELECT '?' FROM t WHERE b = $1"),
        ('SELECT "a?" FROM t WHERE b IN (?, ?)', 'SELECT "a?" FROM t WHERE b IN ($1, $2)'),
    ],
)
def test_the_dialect_rewrites_placeholders_outside_literals(sql: str, numbered: str) -> None:
    assert SQLITE.statement(sql) == sql
    assert POSTGRESQL.statement(sql) == numbered
