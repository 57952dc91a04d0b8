"""Reading, checking and sealing MAC-bound rows in SQLite (see :mod:`storage.integrity`)."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Sequence

import aiosqlite

from storage.integrity import TABLES, RowSeal, Sealed, TamperedRow, Unsealed, blob
from storage.sqlite.database import Database


async def _read(
    connection: aiosqlite.Connection, sealed: Sealed, row_id: object
) -> Sequence[object] | None:
    async with connection.execute(
        f"SELECT {sealed.columns} FROM {sealed.table} WHERE {sealed.key_column} = ?",  # noqa: S608 -- names are literals of storage.integrity
        (row_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else tuple(row)


async def _reseal(
    connection: aiosqlite.Connection, seal: RowSeal, sealed: Sealed, row_id: object
) -> None:
    row = await _read(connection, sealed, row_id)
    if row is None:
        return
    values = dict(zip(sealed.fields, row[: len(sealed.fields)], strict=True))
    await connection.execute(
        f"UPDATE {sealed.table} SET mac = ? WHERE {sealed.key_column} = ?",  # noqa: S608 -- names are literals of storage.integrity
        (seal.mac(sealed, row_id, values), row_id),
    )


class SqliteRowSeal(RowSeal):
    """A :class:`RowSeal` that also reads and writes the rows it vouches for."""

    async def check(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> bytes | None:
        """The row's MAC if it exists and verifies, else None (missing or tampered)."""
        row = await _read(connection, sealed, row_id)
        if row is None or not self.valid(sealed, row_id, row):
            return None
        return blob(row[-1])

    async def reseal(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> None:
        """Seal the row as it is now; only after verifying it, or for a row just written."""
        await _reseal(connection, self, sealed, row_id)

    @contextlib.asynccontextmanager
    async def changing(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> AsyncIterator[None]:
        """Verify the row, let the caller change it, seal it again: one transaction's work.

        A missing row is left to the caller's statements (they change nothing);
        a tampered one raises TamperedRow and the transaction rolls back.
        """
        row = await _read(connection, sealed, row_id)
        if row is not None and not self.valid(sealed, row_id, row):
            raise TamperedRow(f"a row of {sealed.table} was edited outside the bot")
        yield
        await self.reseal(connection, sealed, row_id)


async def unsealed_rows(db: Database) -> list[Unsealed]:
    """Rows without any MAC: written before sealing existed (or stripped by someone)."""
    found: list[Unsealed] = []
    async with db.snapshot() as connection:
        for sealed in TABLES:
            async with connection.execute(
                f"SELECT {sealed.key_column}, {sealed.columns} FROM {sealed.table} "  # noqa: S608 -- literals
                "WHERE mac IS NULL"
            ) as cursor:
                for row in await cursor.fetchall():
                    values = dict(zip(sealed.fields, tuple(row)[1:-1], strict=True))
                    found.append(Unsealed(sealed.table, row[0], values))
    return found


async def seal_unsealed(db: Database, seal: RowSeal, rows: Sequence[Unsealed]) -> int:
    """Seal exactly these rows, if they are still unsealed and unchanged since shown."""
    by_table = {sealed.table: sealed for sealed in TABLES}
    done = 0
    async with db.transaction() as connection:
        for row in rows:
            sealed = by_table[row.table]
            current = await _read(connection, sealed, row.row_id)
            if current is None or current[-1] is not None:
                continue
            if dict(zip(sealed.fields, current[:-1], strict=True)) != row.values:
                continue
            await _reseal(connection, seal, sealed, row.row_id)
            done += 1
    return done


async def count_failing(db: Database, seal: RowSeal) -> dict[str, int]:
    """How many rows of each sealed table fail their check (missing MACs included)."""
    failing: dict[str, int] = {}
    async with db.snapshot() as connection:
        for sealed in TABLES:
            async with connection.execute(
                f"SELECT {sealed.key_column}, {sealed.columns} FROM {sealed.table}"  # noqa: S608 -- literals
            ) as cursor:
                rows = await cursor.fetchall()
            bad = 0
            for row in rows:
                values = dict(zip(sealed.fields, tuple(row)[1:-1], strict=True))
                stored = blob(row[-1])
                if stored is None or not hmac.compare_digest(
                    stored, seal.mac(sealed, row[0], values)
                ):
                    bad += 1
            if bad:
                failing[sealed.table] = bad
    return failing
