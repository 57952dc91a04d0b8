"""Roles and holders bound to the root key: a MAC over the fields that give authority.

Whoever can write the database file could otherwise make a mole a
coordinator, give them any language, or move a request to them. Each row of
the tables below carries ``mac``: HMAC-SHA256, under a key derived from the
root key, of the table, the row's key and the covered fields. Every read
verifies it; a row that fails is treated as absent (not staff, not held, no
such invite) and logged without ids. Every write that changes a covered
field verifies the row first (a tampered row is never re-sealed, which
would launder the edit) and seals it again in the same transaction.

Covered fields are listed by name in :data:`STAFF`, :data:`REFERRALS` and
:data:`INVITES`; adding one is one line. Fields holding NULL or '' are left
out of the MAC, so a new column whose default is NULL or '' leaves every
existing MAC valid, while setting it, or clearing a field that was set,
changes the MAC.

A MAC cannot stop a row being put back to an earlier genuine state (a removed
account's old row restored from a copy of the file); the audit chain records
every removal and role change, and its head kept elsewhere shows a rewind.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import aiosqlite

from storage.database import Database
from storage.errors import StorageError

log = logging.getLogger(__name__)

_DOMAIN = b"yardem/row-mac/v1"


@dataclass(frozen=True)
class Sealed:
    """A table whose rows carry a MAC: its key column and the fields covered."""

    table: str
    key_column: str
    fields: tuple[str, ...]

    @property
    def columns(self) -> str:
        """``field, ..., mac`` for a SELECT: covered fields first, the MAC last."""
        return ", ".join((*self.fields, "mac"))


STAFF = Sealed(
    "staff",
    "staff_key",
    (
        "role",
        "status",
        "label",
        "languages",
    ),
)
REFERRALS = Sealed(
    "referrals",
    "id",
    (
        "member_key",
        "status",
        "volunteer",
        "language",
    ),
)
INVITES = Sealed(
    "invites",
    "code_hash",
    (
        "role",
        "created_by",
        "expires_at",
    ),
)
TABLES = (STAFF, REFERRALS, INVITES)


class TamperedRow(StorageError):
    """A row's MAC does not match: it was edited outside the bot."""


def row_key(audit_key: bytes) -> bytes:
    """The MAC key, derived from the audit chain's key (itself derived from the root key)."""
    return hmac.new(audit_key, _DOMAIN, hashlib.sha256).digest()


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b" + bytes(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a sealed field holds an unexpected {type(value).__name__}")
    return (b"i" if isinstance(value, int) else b"s") + str(value).encode()


def _blob(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None


def _frame(part: bytes) -> bytes:
    return len(part).to_bytes(4, "big") + part


class RowSeal:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def mac(self, sealed: Sealed, row_id: object, values: Mapping[str, object]) -> bytes:
        digest = hmac.new(self._key, _DOMAIN, hashlib.sha256)
        digest.update(_frame(sealed.table.encode()) + _frame(_bytes(row_id)))
        # Sorted by name and without defaults: a new column left at its default
        # does not change the MAC of any row written before it existed.
        for name in sorted(sealed.fields):
            value = values[name]
            if value is None or value == "":
                continue
            digest.update(_frame(name.encode()) + _frame(_bytes(value)))
        return digest.digest()

    def valid(self, sealed: Sealed, row_id: object, row: Sequence[object]) -> bool:
        """``row`` is the covered fields then the MAC, as :attr:`Sealed.columns` selects them."""
        stored = _blob(row[len(sealed.fields)])
        if stored is None:
            ok = False
        else:
            values = dict(zip(sealed.fields, row[: len(sealed.fields)], strict=True))
            ok = hmac.compare_digest(stored, self.mac(sealed, row_id, values))
        if not ok:
            log.error(
                "a row of %s failed its integrity check (edited outside the bot?): "
                "it is treated as absent",
                sealed.table,
            )
        return ok

    async def _read(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> Sequence[object] | None:
        async with connection.execute(
            f"SELECT {sealed.columns} FROM {sealed.table} WHERE {sealed.key_column} = ?",  # noqa: S608 -- names are literals of this module
            (row_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else tuple(row)

    async def check(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> bytes | None:
        """The row's MAC if it exists and verifies, else None (missing or tampered)."""
        row = await self._read(connection, sealed, row_id)
        if row is None or not self.valid(sealed, row_id, row):
            return None
        return _blob(row[-1])

    async def reseal(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> None:
        """Seal the row as it is now; only after verifying it, or for a row just written."""
        row = await self._read(connection, sealed, row_id)
        if row is None:
            return
        values = dict(zip(sealed.fields, row[: len(sealed.fields)], strict=True))
        await connection.execute(
            f"UPDATE {sealed.table} SET mac = ? WHERE {sealed.key_column} = ?",  # noqa: S608 -- names are literals of this module
            (self.mac(sealed, row_id, values), row_id),
        )

    @contextlib.asynccontextmanager
    async def changing(
        self, connection: aiosqlite.Connection, sealed: Sealed, row_id: object
    ) -> AsyncIterator[None]:
        """Verify the row, let the caller change it, seal it again: one transaction's work.

        A missing row is left to the caller's statements (they change nothing);
        a tampered one raises TamperedRow and the transaction rolls back.
        """
        row = await self._read(connection, sealed, row_id)
        if row is not None and not self.valid(sealed, row_id, row):
            raise TamperedRow(f"a row of {sealed.table} was edited outside the bot")
        yield
        await self.reseal(connection, sealed, row_id)


@dataclass(frozen=True)
class Unsealed:
    table: str
    row_id: object
    values: dict[str, object]


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
            current = await seal._read(connection, sealed, row.row_id)
            if current is None or current[-1] is not None:
                continue
            if dict(zip(sealed.fields, current[:-1], strict=True)) != row.values:
                continue
            await seal.reseal(connection, sealed, row.row_id)
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
                stored = _blob(row[-1])
                if stored is None or not hmac.compare_digest(
                    stored, seal.mac(sealed, row[0], values)
                ):
                    bad += 1
            if bad:
                failing[sealed.table] = bad
    return failing
