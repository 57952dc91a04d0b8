"""The audit log's keyed hash chain: appends verify; any edit, removal or reordering is found."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest

from storage.audit import GENESIS, AuditEntry, AuditReport, chain_hash
from storage.sqlite import audit
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.database import Database

TODAY = date(2024, 5, 17)
KEY = b"\x11" * 32
OTHER_KEY = b"\x12" * 32
ROWS: list[tuple[str, str, str | None]] = [
    ("member", "request", "abcdefgh"),
    ("vera0001", "claim", "abcdefgh"),
    ("cli", "add-volunteer:vict0002", None),
    ("vera0001", "relay", "abcdefgh"),
    ("vera0001", "close:informed", "abcdefgh"),
    ("system", "expire", "stuvwxyz"),
]


@pytest.fixture
async def chained(db: Database) -> Database:
    for offset, (actor, action, referral) in enumerate(ROWS):
        async with db.transaction() as connection:
            await audit.append(
                connection,
                KEY,
                actor=actor,
                action=action,
                referral=referral,
                today=TODAY + timedelta(days=offset),
            )
    return db


def summary(report: AuditReport) -> tuple[int, int | None]:
    return report.entries, report.first_broken


async def hashes(db: Database) -> list[bytes]:
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT hash FROM audit_log ORDER BY seq") as cur,
    ):
        return [bytes(row[0]) for row in await cur.fetchall()]


async def execute(db: Database, sql: str, *args: object) -> None:
    async with db.transaction() as connection:
        await connection.execute(sql, args)


async def test_empty_log_is_intact(db: Database) -> None:
    report = await SqliteAuditLog(db, KEY).verify()
    assert summary(report) == (0, None)
    assert report.head == GENESIS.hex()
    assert report.intact
    assert await SqliteAuditLog(db, KEY).entries() == []


async def test_appends_form_an_intact_chain(chained: Database) -> None:
    report = await SqliteAuditLog(chained, KEY).verify()
    assert summary(report) == (len(ROWS), None)
    assert report.intact
    assert report.head == (await hashes(chained))[-1].hex()
    assert await SqliteAuditLog(chained, KEY).entries() == [
        AuditEntry(seq, (TODAY + timedelta(days=seq - 1)).isoformat(), actor, action, referral)
        for seq, (actor, action, referral) in enumerate(ROWS, start=1)
    ]


async def test_rows_link_to_their_predecessor(chained: Database) -> None:
    async with (
        chained.snapshot() as connection,
        connection.execute("SELECT prev_hash, hash FROM audit_log ORDER BY seq") as cur,
    ):
        rows = [(bytes(r[0]), bytes(r[1])) for r in await cur.fetchall()]
    assert rows[0][0] == GENESIS
    for (_, previous), (link, _) in itertools.pairwise(rows):
        assert link == previous
    assert len({digest for _, digest in rows}) == len(rows)


async def test_several_appends_in_one_transaction(db: Database) -> None:
    async with db.transaction() as connection:
        for action in ("return", "return", "suspend:x"):
            await audit.append(
                connection, KEY, actor="c", action=action, referral=None, today=TODAY
            )
    assert summary(await SqliteAuditLog(db, KEY).verify()) == (3, None)


async def test_append_rolls_back_with_its_transaction(chained: Database) -> None:
    async def failed_change() -> None:
        async with chained.transaction() as connection:
            await audit.append(
                connection, KEY, actor="v", action="claim", referral="abcdefgh", today=TODAY
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await failed_change()
    assert len(await SqliteAuditLog(chained, KEY).entries()) == len(ROWS)
    assert (await SqliteAuditLog(chained, KEY).verify()).intact


Tamper = Callable[[Database], Awaitable[None]]


async def _edit_actor(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET actor = 'someone' WHERE seq = 3")


async def _edit_action(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET action = 'close:lawyer' WHERE seq = 5")


async def _edit_day(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET day = '2024-01-01' WHERE seq = 2")


async def _edit_referral(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET referral = 'zzzzzzzz' WHERE seq = 4")


async def _drop_referral(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET referral = NULL WHERE seq = 4")


async def _delete_middle(db: Database) -> None:
    await execute(db, "DELETE FROM audit_log WHERE seq = 3")


async def _delete_first(db: Database) -> None:
    await execute(db, "DELETE FROM audit_log WHERE seq = 1")


async def _swap_seq(db: Database) -> None:
    async with db.transaction() as connection:
        await connection.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2")
        await connection.execute("UPDATE audit_log SET seq = 2 WHERE seq = 4")
        await connection.execute("UPDATE audit_log SET seq = 4 WHERE seq = -1")


async def _renumber_after_delete(db: Database) -> None:
    async with db.transaction() as connection:
        await connection.execute("DELETE FROM audit_log WHERE seq = 3")
        for seq in range(4, len(ROWS) + 1):
            await connection.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq - 1, seq))


async def _edit_last_hash(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET hash = zeroblob(32) WHERE seq = ?", len(ROWS))


async def _edit_prev_hash(db: Database) -> None:
    await execute(db, "UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 2")


async def _insert_forged(db: Database) -> None:
    await execute(
        db,
        "INSERT INTO audit_log (seq, day, actor, action, referral, prev_hash, hash) "
        "SELECT 7, day, actor, action, referral, hash, hash FROM audit_log WHERE seq = 6",
    )


async def _rehash_edited_row(db: Database, key: bytes = KEY) -> None:
    """Even a forger who recomputes the edited row's own hash breaks the next link."""
    async with (
        db.snapshot() as connection,
        connection.execute(
            "SELECT seq, day, action, referral, prev_hash FROM audit_log WHERE seq = 3"
        ) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    seq, day, action, referral, prev = row
    forged = chain_hash(key, bytes(prev), int(seq), day, "someone", action, referral or "")
    await execute(db, "UPDATE audit_log SET actor = 'someone', hash = ? WHERE seq = 3", forged)


async def _rehash_without_the_key(db: Database) -> None:
    """Without the key, a recomputed hash does not even match its own row."""
    await _rehash_edited_row(db, OTHER_KEY)


@pytest.mark.parametrize(
    ("tamper", "first_broken", "entries"),
    [
        pytest.param(_edit_actor, 3, 6, id="actor"),
        pytest.param(_edit_action, 5, 6, id="action"),
        pytest.param(_edit_day, 2, 6, id="day"),
        pytest.param(_edit_referral, 4, 6, id="referral"),
        pytest.param(_drop_referral, 4, 6, id="referral-null"),
        pytest.param(_delete_middle, 4, 5, id="delete-middle"),
        pytest.param(_delete_first, 2, 5, id="delete-first"),
        pytest.param(_swap_seq, 2, 6, id="swap-seq"),
        pytest.param(_renumber_after_delete, 3, 5, id="delete-and-renumber"),
        pytest.param(_edit_last_hash, 6, 6, id="hash"),
        pytest.param(_edit_prev_hash, 2, 6, id="prev-hash"),
        pytest.param(_insert_forged, 7, 7, id="insert-copy"),
        pytest.param(_rehash_edited_row, 4, 6, id="rehashed-row"),
        pytest.param(_rehash_without_the_key, 3, 6, id="rehashed-without-key"),
    ],
)
async def test_tampering_is_found_at_the_first_broken_row(
    chained: Database, tamper: Tamper, first_broken: int, entries: int
) -> None:
    await tamper(chained)
    report = await SqliteAuditLog(chained, KEY).verify()
    assert summary(report) == (entries, first_broken)
    assert not report.intact


async def test_appending_after_tampering_does_not_heal_the_chain(chained: Database) -> None:
    await _edit_actor(chained)
    async with chained.transaction() as connection:
        await audit.append(connection, KEY, actor="v", action="claim", referral=None, today=TODAY)
    assert summary(await SqliteAuditLog(chained, KEY).verify()) == (len(ROWS) + 1, 3)


async def test_the_chain_is_keyed(chained: Database) -> None:
    assert summary(await SqliteAuditLog(chained, OTHER_KEY).verify()) == (len(ROWS), 1)


async def test_head_changes_when_the_tail_is_cut(chained: Database) -> None:
    """Cutting rows off the end shows against the head row; rewinding that too leaves a
    valid chain, and only a head recorded elsewhere shows it."""
    before = await SqliteAuditLog(chained, KEY).verify()
    await execute(chained, "DELETE FROM audit_log WHERE seq = ?", len(ROWS))
    assert summary(await SqliteAuditLog(chained, KEY).verify()) == (len(ROWS) - 1, len(ROWS))
    await execute(
        chained,
        "UPDATE audit_head SET seq = seq - 1, "
        "hash = (SELECT hash FROM audit_log WHERE seq = ?) WHERE id = 1",
        len(ROWS) - 1,
    )
    after = await SqliteAuditLog(chained, KEY).verify()
    assert summary(after) == (len(ROWS) - 1, None)
    assert after.head != before.head
    assert after.head == (await hashes(chained))[-1].hex()
