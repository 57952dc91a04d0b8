"""The audit log: who (by pseudonymous label) did what to which referral, and on which day.

Rows form a hash chain: each row's hash covers the previous row's hash and its
own fields, so an edited, removed or reordered row breaks every hash after it.
Writers append inside the transaction of the change they record, so a change
and its audit row land together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage.database import Database

GENESIS = bytes(32)


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
    async with connection.execute(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
    ) as cursor:
        last = await cursor.fetchone()
    seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, bytes(last[1]))
    day = today.isoformat()
    digest = _chain_hash(key, prev, seq, day, actor, action, referral or "")
    await connection.execute(
        "INSERT INTO audit_log (seq, day, actor, action, referral, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, day, actor, action, referral, prev, digest),
    )


@dataclass(frozen=True)
class AuditReport:
    entries: int
    first_broken: int | None
    """The sequence number of the first row whose hash does not follow; None if intact."""
    head: str
    """The last hash (hex): record it elsewhere to notice rows cut off the end."""

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
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT seq, day, actor, action, referral, prev_hash, hash "
                "FROM audit_log ORDER BY seq"
            ) as cursor,
        ):
            rows = list(await cursor.fetchall())
        prev = GENESIS
        expected_seq = 1
        for seq, day, actor, action, referral, prev_hash, stored in rows:
            recomputed = _chain_hash(self._key, prev, int(seq), day, actor, action, referral or "")
            if int(seq) != expected_seq or bytes(prev_hash) != prev or bytes(stored) != recomputed:
                return AuditReport(len(rows), int(seq), prev.hex())
            prev = recomputed
            expected_seq += 1
        return AuditReport(len(rows), None, prev.hex())
