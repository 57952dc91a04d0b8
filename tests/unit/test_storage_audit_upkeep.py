"""The audit chain over time: relay counts sealed by day, compaction, concurrency, upgrade."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest

from storage.audit import GENESIS, Compaction, chain_hash
from storage.errors import StorageError
from storage.sqlite import audit
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.database import Database, packaged_migrations

DAY = date(2024, 5, 1)
KEY = b"\x21" * 32
OTHER_KEY = b"\x22" * 32


async def _append(db: Database, day: date, action: str = "claim", key: bytes = KEY) -> None:
    async with db.transaction() as connection:
        await audit.append(
            connection, key, actor="vera0001", action=action, referral="abcdefgh", today=day
        )


async def _daily(db: Database, days: int) -> None:
    """One entry a day for ``days`` days from DAY."""
    for offset in range(days):
        await _append(db, DAY + timedelta(days=offset), f"close:{offset}")


async def _execute(db: Database, sql: str, *args: object) -> None:
    async with db.transaction() as connection:
        await connection.execute(sql, args)


async def _seqs(db: Database) -> list[int]:
    return [entry.seq for entry in await SqliteAuditLog(db, KEY).entries()]


# Relayed messages -------------------------------------------------------------


async def _relay(db: Database, referral: str, *, from_member: bool, day: date) -> None:
    async with db.transaction() as connection:
        await audit.count_relay(connection, referral=referral, from_member=from_member, today=day)


async def test_relayed_messages_are_counted_then_sealed_as_one_entry_a_day(db: Database) -> None:
    log = SqliteAuditLog(db, KEY)
    for _ in range(3):
        await _relay(db, "aaaaaaaa", from_member=True, day=DAY)
    await _relay(db, "aaaaaaaa", from_member=False, day=DAY)
    await _relay(db, "bbbbbbbb", from_member=False, day=DAY)
    await _relay(db, "aaaaaaaa", from_member=True, day=DAY + timedelta(days=1))
    assert await log.entries() == [], "no row per message"
    assert [(c.day, c.referral, c.from_member, c.from_staff) for c in await log.relay_counts()] == [
        (DAY.isoformat(), "aaaaaaaa", 3, 1),
        (DAY.isoformat(), "bbbbbbbb", 0, 1),
        ((DAY + timedelta(days=1)).isoformat(), "aaaaaaaa", 1, 0),
    ]

    assert await log.seal_relay_counts(before=DAY + timedelta(days=1)) == 2
    entries = await log.entries()
    assert [(e.day, e.actor, e.action, e.referral) for e in entries] == [
        (DAY.isoformat(), "system", "relayed:member=3,volunteer=1", "aaaaaaaa"),
        (DAY.isoformat(), "system", "relayed:member=0,volunteer=1", "bbbbbbbb"),
    ]
    assert len(await log.relay_counts()) == 1, "the day still going on is not sealed"
    assert (await log.verify()).intact
    assert await log.seal_relay_counts(before=DAY + timedelta(days=1)) == 0, "sealed once"


# Compaction -------------------------------------------------------------------


async def test_old_entries_are_compacted_into_a_checkpoint_and_the_chain_still_verifies(
    db: Database,
) -> None:
    log = SqliteAuditLog(db, KEY)
    await _daily(db, 10)
    before = await log.verify()
    done = await log.compact(before=DAY + timedelta(days=6), today=DAY + timedelta(days=10))
    assert done == Compaction(removed=6, through=6)
    entries = await log.entries()
    assert [e.seq for e in entries] == [7, 8, 9, 10, 11]
    assert entries[-1].action == f"checkpoint:6:{(await _hash_of(db, 7, prev=True)).hex()}"
    report = await log.verify()
    assert report.intact
    assert report.compacted_through == 6
    assert report.entries == 5
    assert report.head != before.head, "the checkpoint is the new head"
    # The chain goes on from the checkpoint.
    await _append(db, DAY + timedelta(days=11))
    assert (await log.verify()).intact
    # Nothing old left: nothing to do.
    assert await log.compact(before=DAY + timedelta(days=6), today=DAY + timedelta(days=11)) is None


async def _hash_of(db: Database, seq: int, *, prev: bool = False) -> bytes:
    column = "prev_hash" if prev else "hash"
    async with (
        db.snapshot() as connection,
        connection.execute(f"SELECT {column} FROM audit_log WHERE seq = ?", (seq,)) as cur,  # noqa: S608
    ):
        row = await cur.fetchone()
    assert row is not None
    return bytes(row[0])


async def test_a_second_compaction_replaces_the_first_checkpoint(db: Database) -> None:
    log = SqliteAuditLog(db, KEY)
    await _daily(db, 5)
    await log.compact(before=DAY + timedelta(days=3), today=DAY + timedelta(days=20))
    await _daily(db, 3)  # more entries, dated early again
    for offset in range(3):
        await _append(db, DAY + timedelta(days=30 + offset))
    second = await log.compact(before=DAY + timedelta(days=25), today=DAY + timedelta(days=40))
    assert second is not None
    report = await log.verify()
    assert report.intact
    assert report.compacted_through == second.through
    checkpoints = [e for e in await log.entries() if e.action.startswith("checkpoint:")]
    assert len(checkpoints) == 1, "the first checkpoint was old enough to go too"


async def test_only_a_leading_run_of_old_entries_goes(db: Database) -> None:
    """A day's relay counts are sealed the next day with their own day: they wait."""
    log = SqliteAuditLog(db, KEY)
    await _append(db, DAY)
    await _append(db, DAY + timedelta(days=50))
    await _append(db, DAY + timedelta(days=1))
    done = await log.compact(before=DAY + timedelta(days=40), today=DAY + timedelta(days=60))
    assert done == Compaction(removed=1, through=1)
    assert await _seqs(db) == [2, 3, 4]
    assert (await log.verify()).intact


async def test_a_broken_chain_is_not_compacted(db: Database) -> None:
    log = SqliteAuditLog(db, KEY)
    await _daily(db, 5)
    await _execute(db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(StorageError, match="broken at entry 2"):
        await log.compact(before=DAY + timedelta(days=4), today=DAY + timedelta(days=9))
    assert await _seqs(db) == [1, 2, 3, 4, 5], "the evidence stays"


@pytest.mark.parametrize(
    ("tamper", "first_broken"),
    [
        pytest.param("DELETE FROM audit_log WHERE seq = 7", 8, id="first-kept-row-removed"),
        pytest.param("DELETE FROM audit_log WHERE seq IN (7, 8)", 9, id="more-cut-off"),
        pytest.param(
            "UPDATE audit_log SET action = 'checkpoint:8:' || substr(action, 14) WHERE seq = 11",
            7,
            id="checkpoint-edited",
        ),
        pytest.param("DELETE FROM audit_log WHERE seq = 11", 7, id="checkpoint-removed"),
        pytest.param("UPDATE audit_log SET day = '2020-01-01' WHERE seq = 9", 9, id="kept-row"),
    ],
)
async def test_tampering_after_compaction_is_found(
    db: Database, tamper: str, first_broken: int
) -> None:
    log = SqliteAuditLog(db, KEY)
    await _daily(db, 10)
    await log.compact(before=DAY + timedelta(days=6), today=DAY + timedelta(days=10))
    await _execute(db, tamper)
    report = await log.verify()
    assert not report.intact
    assert report.first_broken == first_broken


async def test_a_checkpoint_cannot_be_forged_without_the_key(db: Database) -> None:
    """Cutting a prefix and chaining a made-up checkpoint needs the key."""
    log = SqliteAuditLog(db, KEY)
    await _daily(db, 6)
    through = 3
    kept_prev = await _hash_of(db, through + 1, prev=True)
    await _execute(db, "DELETE FROM audit_log WHERE seq <= ?", through)
    # The forger appends a checkpoint naming the cut, chained with a key of their own.
    async with db.transaction() as connection:
        await audit.append(
            connection,
            OTHER_KEY,
            actor="system",
            action=f"checkpoint:{through}:{kept_prev.hex()}",
            referral=None,
            today=DAY + timedelta(days=9),
        )
    report = await log.verify()
    assert not report.intact
    assert report.first_broken == 7


# Concurrent writers and the upgrade ---------------------------------------------


async def test_two_writers_on_one_file_never_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first = await Database.open(path)
    second = await Database.open(path)
    try:

        async def writer(database: Database, name: str) -> None:
            for number in range(40):
                async with database.transaction() as connection:
                    await audit.append(
                        connection,
                        KEY,
                        actor=name,
                        action=f"n{number}",
                        referral=None,
                        today=DAY,
                    )
                if number == 20 and name == "a":
                    # Compaction meanwhile, from one writer, of all that is there so far.
                    await SqliteAuditLog(database, KEY).compact(
                        before=DAY + timedelta(days=1), today=DAY
                    )

        await asyncio.gather(writer(first, "a"), writer(second, "b"))
        report = await SqliteAuditLog(first, KEY).verify()
        assert report.intact
        assert report.compacted_through is not None
        seqs = await _seqs(second)
        # 80 entries and one checkpoint, numbered without a gap or a repeat.
        assert seqs == list(range(report.compacted_through + 1, 82))
    finally:
        await first.close()
        await second.close()


async def test_an_existing_log_goes_on_after_the_upgrade(tmp_path: Path) -> None:
    """A log written before audit_head existed: the migration starts the head at its last row."""
    path = tmp_path / "old.db"
    migrations = packaged_migrations()
    before = [m for m in migrations if m.version < 5]  # 0005_integrity adds audit_head
    assert migrations[len(before)].name == "integrity"
    old = await Database.open(path, migrations=before)
    prev = GENESIS
    async with old.transaction() as connection:
        for seq in (1, 2, 3):
            digest = chain_hash(KEY, prev, seq, DAY.isoformat(), "cli", "x", "")
            await connection.execute(
                "INSERT INTO audit_log (seq, day, actor, action, referral, prev_hash, hash) "
                "VALUES (?, ?, 'cli', 'x', NULL, ?, ?)",
                (seq, DAY.isoformat(), prev, digest),
            )
            prev = digest
    await old.close()
    upgraded = await Database.open(path)
    try:
        await _append(upgraded, DAY)
        report = await SqliteAuditLog(upgraded, KEY).verify()
        assert report.intact
        assert report.entries == 4
    finally:
        await upgraded.close()
