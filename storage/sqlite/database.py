"""The SQLite database: connection settings, file permissions, transactions and migrations.

Repositories are the only code that speaks SQL; they reach the connection
through :meth:`Database.transaction` and :meth:`Database.snapshot`, which
serialise use of the single connection between concurrent updates. Those two
are also the boundary where the driver's errors (sqlite3, aiosqlite) become
the storage exception tree (:mod:`storage.errors`), and where WAL checkpoints
run: a transaction opened with ``erasing=True`` that changed anything is
followed by a checkpoint, so deleted bytes leave the disk without any
repository asking for it.

Migrations are ``storage/migrations/NNNN_<name>.sql``, numbered from 0001
without gaps, applied in order, each in its own transaction together with the
``PRAGMA user_version`` that records it. Their SQL stays portable because a
PostgreSQL backend is planned.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiosqlite

from storage.dialect import SQLITE
from storage.errors import (
    BackendError,
    ConstraintViolation,
    DatabaseBusy,
    DatabaseUnavailable,
    MigrationError,
    StorageError,
)

_LOG = logging.getLogger(__name__)

_MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
_BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def ordered_migrations(files: Iterable[tuple[str, str]]) -> tuple[Migration, ...]:
    """Turn (file name, SQL) pairs into migrations ordered 1..N, or raise MigrationError.

    A misnamed ``.sql`` file is an error rather than skipped: silently ignoring
    a schema change is worse than refusing to start.
    """
    by_version: dict[int, Migration] = {}
    for file_name, sql in files:
        match = _MIGRATION_FILE.fullmatch(file_name)
        if match is None:
            raise MigrationError(
                f"migration file {file_name!r} is not named NNNN_<lowercase_name>.sql"
            )
        version = int(match["version"])
        if version in by_version:
            raise MigrationError(f"two migration files are numbered {version:04d}")
        by_version[version] = Migration(version=version, name=match["name"], sql=sql)
    ordered = tuple(by_version[version] for version in sorted(by_version))
    _check_sequence(ordered)
    return ordered


def packaged_migrations() -> tuple[Migration, ...]:
    """The migrations shipped in :mod:`storage.migrations`."""
    root = importlib.resources.files("storage.migrations")
    files = [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.name.endswith(".sql")
    ]
    return ordered_migrations(files)


def split_statements(sql: str) -> list[str]:
    """Split a migration script into single statements.

    Uses SQLite's own notion of a complete statement, so semicolons inside
    string literals and trigger bodies do not cut a statement short.
    Transaction control is refused: each migration runs inside one
    transaction that the migrator owns.
    """
    statements: list[str] = []
    start = 0
    for index, char in enumerate(sql):
        if char != ";":
            continue
        candidate = sql[start : index + 1]
        if not sqlite3.complete_statement(candidate):
            continue
        start = index + 1
        if not _strip_comments(candidate).rstrip(";").strip():
            continue
        first_word = _strip_comments(candidate).split(None, 1)[0].rstrip(";").upper()
        if first_word in _TRANSACTION_CONTROL:
            raise MigrationError(
                f"migrations must not contain {first_word}: each runs in its own transaction"
            )
        statements.append(candidate.strip())
    if _strip_comments(sql[start:]).strip():
        raise MigrationError("migration script ends with a statement missing its ';'")
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()


def _check_sequence(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 0001, 0002, ... without gaps or duplicates; "
                f"expected {expected:04d}, found {migration.version:04d}_{migration.name}"
            )


def _prepare_files(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Creating the file ourselves with mode 0600 means it is never readable by
    # others, and SQLite gives its -wal and -shm files the same mode.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(candidate, 0o600)


async def _pragma(connection: aiosqlite.Connection, statement: str) -> object:
    async with connection.execute(statement) as cursor:
        row = await cursor.fetchone()
    return None if row is None else row[0]


async def _configure(connection: aiosqlite.Connection) -> None:
    await _pragma(connection, f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    mode = await _pragma(connection, "PRAGMA journal_mode = WAL")
    if str(mode).lower() != "wal":
        raise StorageError("the database could not be switched to WAL mode")
    await _pragma(connection, "PRAGMA synchronous = NORMAL")
    # Overwrite deleted content with zeros so erased data leaves the file.
    await _pragma(connection, "PRAGMA secure_delete = ON")
    await _pragma(connection, "PRAGMA foreign_keys = ON")
    # Sorts and temporary tables stay in memory rather than in stray temp files.
    await _pragma(connection, "PRAGMA temp_store = MEMORY")
    # The schema is ours alone; do not let it run functions with side effects.
    await _pragma(connection, "PRAGMA trusted_schema = OFF")
    # These pragmas are silently ignored in some builds and states; verify them,
    # because erasure and cascades depend on them.
    if await _pragma(connection, "PRAGMA secure_delete") != 1:
        raise StorageError("SQLite refused secure_delete; erased data would stay on disk")
    if await _pragma(connection, "PRAGMA foreign_keys") != 1:
        raise StorageError("SQLite refused foreign_keys; cascading deletes would not run")


class Database:
    """One SQLite database file opened with Yardem's settings and schema.

    Create it with :meth:`open`; it is also an async context manager that
    closes the connection on exit.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection: aiosqlite.Connection | None = connection
        self._path = path
        # One connection serves every coroutine; without this lock a statement
        # of one update could land inside another update's transaction.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, *, migrations: Sequence[Migration] | None = None) -> Database:
        """Open (creating if needed) the database at ``path`` and migrate it.

        ``migrations`` replaces the packaged migrations; it exists for tests.
        """
        steps = packaged_migrations() if migrations is None else tuple(migrations)
        _check_sequence(steps)
        _prepare_files(path)
        # isolation_level=None: transactions are explicit, never implicit.
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            try:
                await _configure(connection)
            except sqlite3.DatabaseError as error:
                raise StorageError(
                    f"{path} cannot be used as a database ({error}); is it a Yardem database file?"
                ) from None
            database = cls(connection, path)
            await database._migrate(steps)
        except BaseException:
            await connection.close()
            raise
        return database

    @property
    def path(self) -> Path:
        return self._path

    @property
    def connection(self) -> aiosqlite.Connection:
        """The raw connection, for repositories only; prefer transaction() and snapshot()."""
        if self._connection is None:
            raise StorageError("the database is closed")
        return self._connection

    @contextlib.asynccontextmanager
    async def transaction(self, *, erasing: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed on normal exit, rolled back on any exception.

        With ``erasing``, a commit that changed any row is followed by a WAL
        checkpoint: until then deleted rows survive in WAL frames.
        """
        async with self._lock:
            connection = self.connection
            changes = connection.total_changes
            try:
                # The write lock is taken up front, so a second process waits
                # on busy_timeout instead of failing half way through.
                await connection.execute(SQLITE.begin_write)
                yield connection
                await connection.execute("COMMIT")
            except sqlite3.Error as error:
                await self._rollback(connection)
                raise backend_error(error) from error
            except BaseException:
                # Also after a failed or cancelled BEGIN or COMMIT: the next
                # user of the shared connection must start outside a transaction.
                await self._rollback(connection)
                raise
            changed = connection.total_changes != changes
        if erasing and changed:
            await self.checkpoint()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read transaction: every statement inside sees the same committed state.

        It always ends in a rollback, so nothing written inside it persists.
        """
        async with self._lock:
            connection = self.connection
            try:
                await connection.execute(SQLITE.begin_read)
                yield connection
            except sqlite3.Error as error:
                raise backend_error(error) from error
            finally:
                await self._rollback(connection)

    async def checkpoint(self) -> None:
        """Move the WAL into the database file and truncate it.

        Runs after every erasing transaction; repositories never call it.
        """
        async with self._lock:
            result = await _pragma_row(self.connection, "PRAGMA wal_checkpoint(TRUNCATE)")
        if result is None or result[0] != 0:
            # Another connection is still reading; the next checkpoint will
            # finish the job. Nothing identifying goes into this message.
            _LOG.warning("WAL checkpoint was blocked by a reader; deleted data may linger")

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        async with self._lock:
            return await _user_version(self.connection)

    async def close(self) -> None:
        """Close the connection; SQLite checkpoints and removes the WAL file."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _migrate(self, migrations: Sequence[Migration]) -> None:
        newest = len(migrations)
        current = await self.schema_version()
        if current > newest:
            raise MigrationError(
                f"database schema version {current} is newer than this code knows "
                f"({newest}); refusing to downgrade: run the newer Yardem release"
            )
        for migration in migrations[current:]:
            statements = split_statements(migration.sql)
            try:
                async with self.transaction() as connection:
                    # Re-read inside the write lock: another process may have
                    # applied it between our check and our BEGIN.
                    if await _user_version(connection) >= migration.version:
                        continue
                    for statement in statements:
                        await connection.execute(statement)
                    # Recorded in the same transaction: a migration is applied
                    # entirely and marked, or not at all.
                    await connection.execute(f"PRAGMA user_version = {migration.version:d}")
            except BackendError as error:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed: {error}"
                ) from error
            _LOG.info("applied migration %04d_%s", migration.version, migration.name)

    @staticmethod
    async def _rollback(connection: aiosqlite.Connection) -> None:
        # Unconditional: in_transaction is read on this thread and may not yet
        # reflect a BEGIN still queued on the connection's worker thread.
        # "No transaction is active" is the harmless outcome suppressed here.
        with contextlib.suppress(sqlite3.Error):
            await connection.execute("ROLLBACK")


_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_READONLY,
    }
)


def backend_error(error: sqlite3.Error) -> BackendError:
    """The storage error for a driver error: what callers may catch without knowing SQLite."""
    message = str(error) or type(error).__name__
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintViolation(message)
    code = getattr(error, "sqlite_errorcode", None)
    # Extended codes carry the primary code in their low byte.
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _BUSY:
        return DatabaseBusy(message)
    if primary in _UNAVAILABLE:
        return DatabaseUnavailable(message)
    return BackendError(message)


async def _pragma_row(connection: aiosqlite.Connection, statement: str) -> sqlite3.Row | None:
    async with connection.execute(statement) as cursor:
        return await cursor.fetchone()


async def _user_version(connection: aiosqlite.Connection) -> int:
    row = await _pragma_row(connection, "PRAGMA user_version")
    return 0 if row is None else int(row[0])
