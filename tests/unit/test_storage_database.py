from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from storage.errors import MigrationError, StorageError
from storage.sqlite.database import (
    Database,
    Migration,
    ordered_migrations,
    packaged_migrations,
    split_statements,
)


def _wal_size(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


async def _value(db: Database, sql: str) -> object:
    async with db.connection.execute(sql) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def test_pragmas_in_effect(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "yardem.db") as db:
        assert await _value(db, "PRAGMA journal_mode") == "wal"
        assert await _value(db, "PRAGMA foreign_keys") == 1
        assert await _value(db, "PRAGMA secure_delete") == 1
        assert await _value(db, "PRAGMA synchronous") == 1  # NORMAL
        assert await _value(db, "PRAGMA busy_timeout") == 5000


async def test_migrations_apply_once_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    newest = len(packaged_migrations())
    assert newest >= 1
    async with await Database.open(path) as db:
        assert await db.schema_version() == newest
        async with db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (b"k" * 32, b"s", "2024-01-01"),
            )
    for _ in range(2):
        async with await Database.open(path) as db:
            assert await db.schema_version() == newest
            assert await _value(db, "SELECT COUNT(*) FROM members") == 1
            tables = await _value(
                db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('members', 'chat_messages')"
            )
            assert tables == 2


async def test_newer_database_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    async with await Database.open(path):
        pass
    newest = len(packaged_migrations())
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {newest + 1}")
    raw.close()
    with pytest.raises(MigrationError, match="downgrade"):
        await Database.open(path)


async def test_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "yardem.db"
    async with await Database.open(path) as db:
        async with db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (b"k" * 32, b"s", "2024-01-01"),
            )
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert sidecar.exists()
            assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


async def test_existing_loose_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    async with await Database.open(path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_non_database_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    path.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(StorageError):
        await Database.open(path)


async def test_failed_migration_rolls_back_entirely(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    good = Migration(1, "first", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "second", "CREATE TABLE b (x INTEGER);\nINSERT INTO missing VALUES (1);")
    with pytest.raises(MigrationError, match="0002_second"):
        await Database.open(path, migrations=[good, bad])
    async with await Database.open(path, migrations=[good]) as db:
        assert await db.schema_version() == 1
        assert await _value(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'") == 0


async def test_pending_migrations_apply_in_order(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    first = Migration(1, "first", "CREATE TABLE a (x INTEGER);")
    second = Migration(2, "second", "INSERT INTO a (x) VALUES (7);")
    async with await Database.open(path, migrations=[first]) as db:
        assert await db.schema_version() == 1
    async with await Database.open(path, migrations=[first, second]) as db:
        assert await db.schema_version() == 2
        assert await _value(db, "SELECT x FROM a") == 7
    async with await Database.open(path, migrations=[first, second]) as db:
        assert await _value(db, "SELECT COUNT(*) FROM a") == 1


async def test_out_of_sequence_migrations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError):
        await Database.open(tmp_path / "x.db", migrations=[Migration(2, "two", "")])


def test_ordered_migrations_sorts_and_validates() -> None:
    ordered = ordered_migrations([("0002_b.sql", "B"), ("0001_a.sql", "A")])
    assert [(m.version, m.name, m.sql) for m in ordered] == [(1, "a", "A"), (2, "b", "B")]


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(["0001_a.sql", "0003_c.sql"], id="gap"),
        pytest.param(["0002_b.sql"], id="not-from-one"),
        pytest.param(["0001_a.sql", "0001_b.sql"], id="duplicate"),
        pytest.param(["0001_a.sql", "2_b.sql"], id="misnamed"),
        pytest.param(["0001_A.sql"], id="uppercase"),
    ],
)
def test_bad_migration_numbering_is_refused(names: list[str]) -> None:
    with pytest.raises(MigrationError):
        ordered_migrations([(name, "") for name in names])


def test_packaged_migrations_are_portable_enough() -> None:
    for migration in packaged_migrations():
        upper = migration.sql.upper()
        for sqlite_only in ("AUTOINCREMENT", "WITHOUT ROWID", "INSERT OR ", "STRICT"):
            assert sqlite_only not in upper, (migration.name, sqlite_only)


def test_split_statements() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER g AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'y;z';
    END;
    -- trailing comment
    """
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[1].startswith("CREATE TRIGGER")


@pytest.mark.parametrize(
    "sql", ["COMMIT;", "BEGIN;\nCREATE TABLE t (x INTEGER);", "CREATE TABLE t"]
)
def test_split_statements_refuses(sql: str) -> None:
    with pytest.raises(MigrationError):
        split_statements(sql)


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "yardem.db") as db:

        async def failing() -> None:
            async with db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                    (b"k" * 32, b"s", "2024-01-01"),
                )
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await failing()
        assert await _value(db, "SELECT COUNT(*) FROM members") == 0
        assert not db.connection.in_transaction


async def test_concurrent_transactions_do_not_interleave(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "yardem.db") as db:

        async def insert(index: int) -> None:
            async with db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                    (bytes([index]) * 32, b"s", "2024-01-01"),
                )
                await asyncio.sleep(0)
                if index % 2:
                    raise ValueError("roll this one back")

        results = await asyncio.gather(*(insert(i) for i in range(10)), return_exceptions=True)
        assert sum(isinstance(result, ValueError) for result in results) == 5
        assert await _value(db, "SELECT COUNT(*) FROM members") == 5


async def test_snapshot_discards_writes(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "yardem.db") as db:
        async with db.snapshot() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (b"k" * 32, b"s", "2024-01-01"),
            )
        assert await _value(db, "SELECT COUNT(*) FROM members") == 0


async def test_checkpoint_truncates_wal(tmp_path: Path) -> None:
    path = tmp_path / "yardem.db"
    async with await Database.open(path) as db:
        async with db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (b"k" * 32, b"s", "2024-01-01"),
            )
        assert _wal_size(path) > 0
        await db.checkpoint()
        assert _wal_size(path) == 0


async def test_closed_database_refuses_use(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "yardem.db")
    await db.close()
    await db.close()
    with pytest.raises(StorageError):
        _ = db.connection


async def test_cancelled_transaction_leaves_connection_clean(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "yardem.db") as db:
        entered = asyncio.Event()

        async def stuck() -> None:
            async with db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                    (b"k" * 32, b"s", "2024-01-01"),
                )
                entered.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(stuck())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (b"j" * 32, b"s", "2024-01-01"),
            )
        assert await _value(db, "SELECT COUNT(*) FROM members") == 1
