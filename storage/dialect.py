"""The few places where SQL differs between the backends, kept in one seam.

Repositories write portable SQL with ``?`` placeholders (see
``tests/unit/test_storage_sql.py`` for the forms refused). What differs is
here: how a write transaction takes its lock, how a read sees one snapshot, and
the placeholder style, which :meth:`Dialect.statement` rewrites outside string
literals. SQLite needs no rewriting; a PostgreSQL adapter would use
:data:`POSTGRESQL` (``$1, $2, ...`` as asyncpg expects).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Dialect:
    name: str
    begin_write: str
    """Starts a write transaction that holds the write lock from its first statement,
    so a second writer waits rather than failing half way through."""
    begin_read: str
    """Starts a read transaction in which every statement sees the same committed state."""
    placeholders: Literal["qmark", "numbered"]

    def statement(self, sql: str) -> str:
        """``sql`` with its ``?`` placeholders in this dialect's style."""
        if self.placeholders == "qmark":
            return sql
        out: list[str] = []
        number = 0
        quote: str | None = None
        for char in sql:
            if quote is not None:
                if char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "?":
                number += 1
                out.append(f"${number}")
                continue
            out.append(char)
        return "".join(out)


SQLITE = Dialect(
    name="sqlite",
    # IMMEDIATE takes the write lock up front (SQLite has one writer at a time).
    begin_write="BEGIN IMMEDIATE",
    begin_read="BEGIN",
    placeholders="qmark",
)
POSTGRESQL = Dialect(
    name="postgresql",
    # Rows are locked by the statements themselves (UPDATE ... RETURNING, ON CONFLICT).
    begin_write="BEGIN ISOLATION LEVEL READ COMMITTED",
    begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    placeholders="numbered",
)
