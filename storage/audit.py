"""The audit log: who (by pseudonymous label) did what to which referral, and on which day.

Rows form a hash chain: each row's hash covers the previous row's hash and its
own fields, so an edited, removed or reordered row breaks every hash after it.
Writers append inside the transaction of the change they record, so a change
and its audit row land together or not at all.

Concurrent writers (several workers, a PostgreSQL backend) never fork the
chain: an append first takes the one-row ``audit_head`` with an
``UPDATE ... RETURNING``, which each backend serialises, instead of reading
"the last seq" that two writers could read alike.

Relayed messages are not one row each: they are counted per request and day
(``relay_counts``) and sealed into the chain as one entry once the day is over.

Rows older than the retention period are compacted: a checkpoint entry,
chained like any other, records the sequence number and hash of the last row
removed, and the rows up to it are deleted. Verification then starts from that
hash; nobody without the key can forge a checkpoint, so a prefix cut off
without one still shows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage.database import Database
from storage.errors import StorageError

GENESIS = bytes(32)
CHECKPOINT = "checkpoint"
_CHECKPOINT = re.compile(r"^checkpoint:(\d+):([0-9a-f]{64})$")
RELAYED = "relayed"
REKEY = "rekey"
"""The action of the entry a key rotation appends: ``rekey:<last seq>:<old head>``."""


def _chain_hash(
    key: bytes, prev: bytes, seq: int, day: str, actor: str, action: str, referral: str
) -> bytes:
    # Keyed: someone holding only the database can edit rows but not re-chain them.
    digest = hmac.new(key, b"yardem/audit/v1", hashlib.sha256)
    for part in (prev, str(seq).encode(), day.encode(), actor.encode(), action.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)
    encoded = referral.encode()
    digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.digest()


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
    digest = _chain_hash(key, prev, seq, day, actor, action, referral or "")
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


def relayed_action(from_member: int, from_staff: int) -> str:
    return f"{RELAYED}:member={from_member},volunteer={from_staff}"


@dataclass(frozen=True)
class AuditReport:
    entries: int
    first_broken: int | None
    """The sequence number of the first row whose hash does not follow; None if intact."""
    head: str
    """The last hash (hex): record it elsewhere to notice rows cut off the end."""
    compacted_through: int | None = None
    """Rows up to this sequence number were compacted into a checkpoint."""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    day: str
    actor: str
    action: str
    referral: str | None


@dataclass(frozen=True)
class RelayCount:
    day: str
    referral: str
    from_member: int
    from_staff: int


_Row = tuple[int, str, str, str, str | None, bytes, bytes]


def _anchor(rows: list[_Row]) -> tuple[bytes, int, int | None]:
    """Where verification starts: the genesis, or the checkpoint that covers a compacted start."""
    if rows and rows[0][0] != 1:
        # A compacted log starts after a checkpoint entry that names its predecessor.
        for _, _, _, action, _, _, _ in rows:
            found = _CHECKPOINT.match(action)
            if found and int(found[1]) == rows[0][0] - 1:
                compacted = int(found[1])
                return bytes.fromhex(found[2]), compacted + 1, compacted
    return GENESIS, 1, None


def _check(key: bytes, rows: list[_Row], head: tuple[int, bytes] | None) -> AuditReport:
    """Verify rows (in seq order) from the genesis or from the checkpoint that covers them."""
    prev, expected_seq, compacted = _anchor(rows)
    for seq, day, actor, action, referral, prev_hash, stored in rows:
        recomputed = _chain_hash(key, prev, seq, day, actor, action, referral or "")
        if seq != expected_seq or prev_hash != prev or stored != recomputed:
            return AuditReport(len(rows), seq, prev.hex(), compacted)
        prev = recomputed
        expected_seq += 1
    # The head row must agree: rows cut off the end without rewinding it show here.
    if head is not None and head != (expected_seq - 1, prev):
        return AuditReport(len(rows), expected_seq, prev.hex(), compacted)
    return AuditReport(len(rows), None, prev.hex(), compacted)


async def _rows(connection: aiosqlite.Connection) -> tuple[list[_Row], tuple[int, bytes] | None]:
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


@dataclass(frozen=True)
class Compaction:
    removed: int
    through: int
    """The sequence number of the last row removed; the checkpoint names it and its hash."""


class AuditLog:
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
        return _check(self._key, rows, head)

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
        async with self._db.transaction() as connection:
            # Take the head first, as an append does: no writer moves it meanwhile.
            await connection.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
            rows, head = await _rows(connection)
            report = _check(self._key, rows, head)
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
        await self._db.checkpoint()
        return Compaction(old, through)


@dataclass(frozen=True)
class Rechained:
    entries: int
    """Entries re-chained under the new key."""
    broken_at: int | None
    """The first entry that did not verify under the old key; it and those after it
    were left exactly as they were, so the log still shows where it broke."""
    old_head: str
    new_head: str


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
    report = _check(old_key, rows, head)
    good = [row for row in rows if report.first_broken is None or row[0] < report.first_broken]
    prev, _, _ = _anchor(rows)
    for seq, day, actor, action, referral, _, _ in good:
        actor, action = relabel(actor, action)
        digest = _chain_hash(new_key, prev, seq, day, actor, action, referral or "")
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
