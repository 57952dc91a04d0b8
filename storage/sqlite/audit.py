"""The audit log in SQLite: appends inside the caller's transaction, verification, upkeep.

The chain's arithmetic and records are :mod:`storage.audit`. Concurrent writers
(several workers, a PostgreSQL backend) never fork the chain: an append first
takes the one-row ``audit_head`` with an ``UPDATE ... RETURNING``, which each
backend serialises, instead of reading "the last seq" that two writers could
read alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import aiosqlite

from storage.audit import (
    CHECKPOINT,
    REKEY,
    AuditEntry,
    AuditReport,
    Compaction,
    Rechained,
    RelayCount,
    Row,
    anchor,
    chain_hash,
    check,
    relayed_action,
)
from storage.errors import StorageError
from storage.sqlite.database import Database


async def append(
    connection: aiosqlite.Connection,
    key: bytes,
    *,
    actor: str,
    action: str,
    referral: str | None,
    today: date,
) -> None:
    """Append one entry; call inside the transaction that makes the change."""
    # Taking the head row first is what serialises writers: a second one waits
    # here until the first commits, then reads the head the first wrote.
    async with connection.execute(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
    ) as cursor:
        head = await cursor.fetchone()
    if head is None:
        raise StorageError("the audit log has no head row; the database is damaged")
    seq, prev = int(head[0]), bytes(head[1])
    day = today.isoformat()
    digest = chain_hash(key, prev, seq, day, actor, action, referral or "")
    await connection.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (digest,))
    await connection.execute(
        "INSERT INTO audit_log (seq, day, actor, action, referral, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, day, actor, action, referral, prev, digest),
    )


async def count_relay(
    connection: aiosqlite.Connection, *, referral: str, from_member: bool, today: date
) -> None:
    """Count one relayed message for the request today; one statement, safe for any writer."""
    await connection.execute(
        "INSERT INTO relay_counts (day, referral, from_member, from_staff) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (day, referral) DO UPDATE SET "
        "from_member = relay_counts.from_member + excluded.from_member, "
        "from_staff = relay_counts.from_staff + excluded.from_staff",
        (today.isoformat(), referral, int(from_member), int(not from_member)),
    )


async def _rows(connection: aiosqlite.Connection) -> tuple[list[Row], tuple[int, bytes] | None]:
    async with connection.execute(
        "SELECT seq, day, actor, action, referral, prev_hash, hash FROM audit_log ORDER BY seq"
    ) as cursor:
        rows = [
            (int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], bytes(r[5]), bytes(r[6]))
            for r in await cursor.fetchall()
        ]
    async with connection.execute("SELECT seq, hash FROM audit_head WHERE id = 1") as cursor:
        head = await cursor.fetchone()
    return rows, None if head is None else (int(head[0]), bytes(head[1]))


class SqliteAuditLog:
    def __init__(self, db: Database, key: bytes) -> None:
        self._db = db
        self._key = key

    async def entries(self) -> list[AuditEntry]:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT seq, day, actor, action, referral FROM audit_log ORDER BY seq"
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [AuditEntry(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def verify(self) -> AuditReport:
        async with self._db.snapshot() as connection:
            rows, head = await _rows(connection)
        return check(self._key, rows, head)

    async def relay_counts(self) -> list[RelayCount]:
        """The counts of days not yet sealed into the chain."""
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT day, referral, from_member, from_staff FROM relay_counts "
                "ORDER BY day, referral"
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [RelayCount(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def seal_relay_counts(self, *, before: date) -> int:
        """Write each finished day's counts into the chain as one entry per request."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "DELETE FROM relay_counts WHERE day < ? "
                "RETURNING day, referral, from_member, from_staff",
                (before.isoformat(),),
            ) as cursor:
                rows = sorted(
                    (str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in await cursor.fetchall()
                )
            for day, referral, from_member, from_staff in rows:
                await append(
                    connection,
                    self._key,
                    actor="system",
                    action=relayed_action(from_member, from_staff),
                    referral=referral,
                    today=date.fromisoformat(day),
                )
        return len(rows)

    async def compact(self, *, before: date, today: date) -> Compaction | None:
        """Replace the rows dated before ``before`` by a checkpoint; None if there were none.

        Only an intact chain is compacted: a checkpoint vouches for what it
        replaces, and must not launder an edit. A broken chain raises
        StorageError and stays as it is, for someone to look at.
        """
        async with self._db.transaction(erasing=True) as connection:
            # Take the head first, as an append does: no writer moves it meanwhile.
            await connection.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
            rows, head = await _rows(connection)
            report = check(self._key, rows, head)
            if not report.intact:
                raise StorageError(
                    f"the audit log is broken at entry {report.first_broken}; not compacting it"
                )
            cutoff = before.isoformat()
            # Only a leading run of old rows: a later row dated earlier (a day's
            # relay counts, sealed the next day) waits for its neighbours.
            old = 0
            while old < len(rows) and rows[old][1] < cutoff:
                old += 1
            if old == 0:
                return None
            through, last_hash = rows[old - 1][0], rows[old - 1][6]
            await append(
                connection,
                self._key,
                actor="system",
                action=f"{CHECKPOINT}:{through}:{last_hash.hex()}",
                referral=None,
                today=today,
            )
            await connection.execute("DELETE FROM audit_log WHERE seq <= ?", (through,))
        return Compaction(old, through)


async def rechain(
    connection: aiosqlite.Connection,
    old_key: bytes,
    new_key: bytes,
    *,
    relabel: Callable[[str, str], tuple[str, str]],
    today: date,
) -> Rechained:
    """Re-key the chain for a root key rotation, inside the caller's transaction.

    Every entry that verifies under ``old_key`` is hashed again under
    ``new_key`` (its actor and action passed through ``relabel`` first), so
    ``verify-audit`` checks the whole log with the new key alone. An entry that
    does not verify is never re-hashed: that would launder an edit. Last, an
    entry records the old head (``rekey:<seq>:<hash>``), for whoever compares
    it with one noted down before.
    """
    await connection.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
    rows, head = await _rows(connection)
    report = check(old_key, rows, head)
    good = [row for row in rows if report.first_broken is None or row[0] < report.first_broken]
    prev, _, _ = anchor(rows)
    for seq, day, actor, action, referral, _, _ in good:
        actor, action = relabel(actor, action)
        digest = chain_hash(new_key, prev, seq, day, actor, action, referral or "")
        await connection.execute(
            "UPDATE audit_log SET actor = ?, action = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (actor, action, prev, digest, seq),
        )
        prev = digest
    if report.intact:
        await connection.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
    old_seq = head[0] if head is not None else 0
    await append(
        connection,
        new_key,
        actor="admin",
        action=f"{REKEY}:{old_seq}:{report.head}",
        referral=None,
        today=today,
    )
    async with connection.execute("SELECT hash FROM audit_head WHERE id = 1") as cursor:
        row = await cursor.fetchone()
    new_head = bytes(row[0]).hex() if row is not None else ""
    return Rechained(len(good), report.first_broken, report.head, new_head)
