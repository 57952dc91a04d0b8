"""The SQLite adapter's boundary: driver errors become storage errors, erasing checkpoints.

Repositories never see sqlite3's exceptions cross a port, and never call a
WAL checkpoint themselves: a transaction opened as erasing does it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage.errors import (
    BackendError,
    ConstraintViolation,
    DatabaseBusy,
    DatabaseUnavailable,
    StorageError,
)
from storage.referrals import Referral
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.database import Database, backend_error
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository
from tests.unit.storage_samples import AUDIT_KEY, CIPHER, PSEUDONYMS

TODAY = date(2024, 5, 17)
NOW = datetime(2024, 5, 17, 12, tzinfo=UTC)
ALICE = PSEUDONYMS.member_key(1_000_001)


def _wal_size(path: Path) -> int:
    return Path(f"{path}-wal").stat().st_size


async def _add_member(db: Database, key: bytes) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
            (key, b"s", TODAY.isoformat()),
        )


async def _message_then_duplicate_member(db: Database) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO chat_messages (member_key, message_id, sent_hour) VALUES (?, 1, 1)",
            (ALICE,),
        )
        await connection.execute(
            "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
            (ALICE, b"s", TODAY.isoformat()),
        )


# Errors mapped where a transaction ends -------------------------------------------


async def test_a_refused_constraint_is_a_constraint_violation_and_rolls_back(
    db: Database,
) -> None:
    await _add_member(db, ALICE)
    with pytest.raises(ConstraintViolation, match="UNIQUE") as raised:
        await _message_then_duplicate_member(db)
    assert isinstance(raised.value, StorageError)
    assert not isinstance(raised.value, sqlite3.Error)
    assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT COUNT(*) FROM chat_messages") as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == 0
    # The shared connection is usable afterwards.
    await _add_member(db, PSEUDONYMS.member_key(2))


async def test_a_repository_reports_a_schema_refusal_as_a_storage_error(db: Database) -> None:
    members = SqliteMemberRepository(db, CIPHER)
    # Not saved first: the foreign key refuses, and the port says so in storage terms.
    with pytest.raises(StorageError, match="save the member first") as raised:
        await members.remember_messages(ALICE, [1], now=NOW)
    assert not isinstance(raised.value, sqlite3.Error)


async def test_a_writer_held_up_past_the_timeout_gets_database_busy(db_path: Path) -> None:
    first = await Database.open(db_path)
    second = await Database.open(db_path)
    try:
        await second.connection.execute("PRAGMA busy_timeout = 0")
        async with first.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
                (ALICE, b"s", TODAY.isoformat()),
            )
            with pytest.raises(DatabaseBusy):
                async with second.transaction():
                    pass
        # The first writer's change landed; the second can write now.
        await _add_member(second, PSEUDONYMS.member_key(2))
    finally:
        await first.close()
        await second.close()


async def test_a_broken_statement_in_a_read_is_a_backend_error(db: Database) -> None:
    with pytest.raises(BackendError) as raised:
        async with db.snapshot() as connection:
            await connection.execute("SELECT nothing FROM nowhere")
    assert type(raised.value) is BackendError
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


def _coded(error: sqlite3.Error, code: int) -> sqlite3.Error:
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.IntegrityError("FOREIGN KEY constraint failed"), ConstraintViolation),
        (_coded(sqlite3.OperationalError("database is locked"), sqlite3.SQLITE_BUSY), DatabaseBusy),
        (
            _coded(sqlite3.OperationalError("database table is locked"), sqlite3.SQLITE_LOCKED),
            DatabaseBusy,
        ),
        (
            _coded(sqlite3.OperationalError("disk I/O error"), sqlite3.SQLITE_IOERR_READ),
            DatabaseUnavailable,
        ),
        (
            _coded(sqlite3.DatabaseError("file is not a database"), sqlite3.SQLITE_NOTADB),
            DatabaseUnavailable,
        ),
        (
            _coded(sqlite3.OperationalError("database or disk is full"), sqlite3.SQLITE_FULL),
            DatabaseUnavailable,
        ),
        (sqlite3.ProgrammingError("Incorrect number of bindings"), BackendError),
    ],
    ids=lambda value: type(value).__name__,
)
def test_driver_errors_map_to_the_storage_tree(
    error: sqlite3.Error, expected: type[BackendError]
) -> None:
    mapped = backend_error(error)
    assert type(mapped) is expected
    assert str(mapped) == str(error)


# Checkpoints belong to erasing transactions ---------------------------------------


async def test_an_erasing_transaction_that_deleted_leaves_an_empty_wal(
    db: Database, db_path: Path
) -> None:
    members = SqliteMemberRepository(db, CIPHER)
    await members.save(ALICE, {"secret": "state"}, today=TODAY)
    assert _wal_size(db_path) > 0
    await members.erase(ALICE)
    assert _wal_size(db_path) == 0


async def test_an_erasing_transaction_that_changed_nothing_does_not_checkpoint(
    db: Database, db_path: Path
) -> None:
    members = SqliteMemberRepository(db, CIPHER)
    await members.save(ALICE, {}, today=TODAY)
    wal = _wal_size(db_path)
    assert await members.forget_old_messages(now=NOW) == 0
    assert _wal_size(db_path) == wal > 0


async def test_an_ordinary_write_does_not_checkpoint(db: Database, db_path: Path) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)",
            (ALICE, b"s", TODAY.isoformat()),
        )
    assert _wal_size(db_path) > 0


async def test_expiry_erases_a_row_edited_outside_the_bot_and_tells_nobody(
    db: Database, db_path: Path
) -> None:
    await SqliteMemberRepository(db, CIPHER).save(ALICE, {}, today=TODAY)
    referrals = SqliteReferralRepository(db, CIPHER, AUDIT_KEY)
    long_ago = TODAY - timedelta(days=30)
    opened = await referrals.open(
        ALICE,
        topic="red_notice",
        urgency="general",
        country=None,
        language="ug",
        chat_id=5_550_001_234,
        today=long_ago,
        notify_at=None,
        rate_key=PSEUDONYMS.rate_key(ALICE, long_ago.isoformat()),
        daily_limit=3,
    )
    assert isinstance(opened, Referral)
    async with db.transaction() as connection:
        await connection.execute("UPDATE referrals SET language = 'en' WHERE id = ?", (opened.id,))
    assert await referrals.expire_unclaimed(before=TODAY, today=TODAY) == []
    assert await referrals.count() == 0
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert (entries[-1].action, entries[-1].referral) == ("expire", opened.id)
    # Its encrypted chat reference left the file with it.
    assert _wal_size(db_path) == 0


# Expiry and the audit chain under concurrent writers ------------------------------


async def test_two_workers_expiring_and_claiming_at_once_keep_every_referral_once(
    db_path: Path,
) -> None:
    """Worker A expires while worker B claims the same requests, on two connections.

    Every request ends exactly one way (claimed, or expired and reported once),
    and the audit chain both wrote to has no gap, no repeat and verifies.
    """
    first = await Database.open(db_path)
    second = await Database.open(db_path)
    try:
        people = [PSEUDONYMS.member_key(3_000_000 + n) for n in range(16)]
        members = SqliteMemberRepository(first, CIPHER)
        for key in people:
            await members.save(key, {}, today=TODAY)
        volunteer = PSEUDONYMS.member_key(4_000_000)
        await SqliteStaffRepository(first, CIPHER, AUDIT_KEY).add(
            volunteer,
            role="volunteer",
            label="vol00001",
            locale="en",
            chat_id=4000,
            actor="cli",
            today=TODAY,
        )
        a = SqliteReferralRepository(first, CIPHER, AUDIT_KEY)
        b = SqliteReferralRepository(second, CIPHER, AUDIT_KEY)
        long_ago = TODAY - timedelta(days=30)
        filed: list[Referral] = []
        for n, key in enumerate(people):
            opened = await a.open(
                key,
                topic="red_notice",
                urgency="general",
                country=None,
                language="ug",
                chat_id=9000 + n,
                today=long_ago,
                notify_at=None,
                rate_key=PSEUDONYMS.rate_key(key, long_ago.isoformat()),
                daily_limit=3,
            )
            assert isinstance(opened, Referral)
            filed.append(opened)

        async def claims() -> list[str]:
            won = []
            for referral in filed:
                if await b.claim(referral.id, volunteer, actor="vol00001", today=TODAY):
                    won.append(referral.id)
            return won

        async def expiries() -> list[str]:
            gone: list[str] = []
            for _ in range(4):
                gone += [e.referral.id for e in await a.expire_unclaimed(before=TODAY, today=TODAY)]
            return gone

        claimed, expired = await asyncio.gather(claims(), expiries())
        gone = [e.referral.id for e in await a.expire_unclaimed(before=TODAY, today=TODAY)]
        expired += gone
        assert sorted(claimed + expired) == sorted(r.id for r in filed)
        assert not set(claimed) & set(expired)
        assert await a.count() == len(claimed)

        log = SqliteAuditLog(second, AUDIT_KEY)
        report = await log.verify()
        assert report.intact
        seqs = [entry.seq for entry in await log.entries()]
        assert seqs == list(range(1, len(seqs) + 1))
        actions = [entry.action for entry in await log.entries()]
        assert actions.count("expire") == len(expired)
        assert actions.count("claim") == len(claimed)
    finally:
        await first.close()
        await second.close()
