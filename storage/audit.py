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

This module holds the records and the chain's arithmetic, apart from any SQL;
the SQLite adapter is :mod:`storage.sqlite.audit`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

GENESIS = bytes(32)
CHECKPOINT = "checkpoint"
CHECKPOINT_ACTION = re.compile(r"^checkpoint:(\d+):([0-9a-f]{64})$")
RELAYED = "relayed"
REKEY = "rekey"
"""The action of the entry a key rotation appends: ``rekey:<last seq>:<old head>``."""


def chain_hash(
    key: bytes, prev: bytes, seq: int, day: str, actor: str, action: str, referral: str
) -> bytes:
    # Keyed: someone holding only the database can edit rows but not re-chain them.
    digest = hmac.new(key, b"yardem/audit/v1", hashlib.sha256)
    for part in (prev, str(seq).encode(), day.encode(), actor.encode(), action.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)
    encoded = referral.encode()
    digest.update(len(encoded).to_bytes(4, "big") + encoded)
    return digest.digest()


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


Row = tuple[int, str, str, str, str | None, bytes, bytes]
"""seq, day, actor, action, referral, prev_hash, hash: one stored entry."""


def anchor(rows: list[Row]) -> tuple[bytes, int, int | None]:
    """Where verification starts: the genesis, or the checkpoint that covers a compacted start."""
    if rows and rows[0][0] != 1:
        # A compacted log starts after a checkpoint entry that names its predecessor.
        for _, _, _, action, _, _, _ in rows:
            found = CHECKPOINT_ACTION.match(action)
            if found and int(found[1]) == rows[0][0] - 1:
                compacted = int(found[1])
                return bytes.fromhex(found[2]), compacted + 1, compacted
    return GENESIS, 1, None


def check(key: bytes, rows: list[Row], head: tuple[int, bytes] | None) -> AuditReport:
    """Verify rows (in seq order) from the genesis or from the checkpoint that covers them."""
    prev, expected_seq, compacted = anchor(rows)
    for seq, day, actor, action, referral, prev_hash, stored in rows:
        recomputed = chain_hash(key, prev, seq, day, actor, action, referral or "")
        if seq != expected_seq or prev_hash != prev or stored != recomputed:
            return AuditReport(len(rows), seq, prev.hex(), compacted)
        prev = recomputed
        expected_seq += 1
    # The head row must agree: rows cut off the end without rewinding it show here.
    if head is not None and head != (expected_seq - 1, prev):
        return AuditReport(len(rows), expected_seq, prev.hex(), compacted)
    return AuditReport(len(rows), None, prev.hex(), compacted)


@dataclass(frozen=True)
class Compaction:
    removed: int
    through: int
    """The sequence number of the last row removed; the checkpoint names it and its hash."""


@dataclass(frozen=True)
class Rechained:
    entries: int
    """Entries re-chained under the new key."""
    broken_at: int | None
    """The first entry that did not verify under the old key; it and those after it
    were left exactly as they were, so the log still shows where it broke."""
    old_head: str
    new_head: str
