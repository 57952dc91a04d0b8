from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from storage.crypto import FieldCipher
from storage.errors import DecryptionError, StorageError
from storage.keys import RootKeys
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from tests.unit.storage_samples import PSEUDONYMS, disk_bytes

ALICE = PSEUDONYMS.member_key(1_000_001)
BOB = PSEUDONYMS.member_key(1_000_002)
TODAY = date(2024, 5, 17)
# Half past the hour, so the hour-granular window is exercised off its edges.
NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
CANARY = "CANARY-Ürümqi-ئۈرۈمچی-乌鲁木齐-7f3a9c"


async def test_save_load_round_trip(members: SqliteMemberRepository) -> None:
    state = {"flow": "main", "node": "start", "answers": {"country": "TR"}, "text": CANARY}
    assert await members.load(ALICE) is None
    await members.save(ALICE, state, today=TODAY)
    assert await members.load(ALICE) == state
    await members.save(ALICE, {"flow": "other"}, today=TODAY + timedelta(days=1))
    assert await members.load(ALICE) == {"flow": "other"}
    assert await members.load(BOB) is None
    assert await members.count() == 1


async def test_state_is_not_plaintext_on_disk(
    db: Database, members: SqliteMemberRepository, db_path: Path
) -> None:
    await members.save(ALICE, {"text": CANARY, "flow": "asylum_steps"}, today=TODAY)
    canaries = [CANARY.encode("utf-8"), b"asylum_steps", CANARY.encode("utf-16-le")]
    live = disk_bytes(db_path)
    assert ALICE in live  # the scan does see row contents
    for canary in canaries:
        assert canary not in live
    await db.close()
    closed = disk_bytes(db_path)
    assert ALICE in closed
    for canary in canaries:
        assert canary not in closed


async def test_updated_day_is_day_granular(db: Database, members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {}, today=TODAY)
    async with db.connection.execute("SELECT updated_day FROM members") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == "2024-05-17"
    with pytest.raises(TypeError):
        await members.save(ALICE, {}, today=NOW)


async def test_member_key_must_be_a_pseudonym(members: SqliteMemberRepository) -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        await members.save(b"1000001", {}, today=TODAY)
    with pytest.raises(ValueError, match="pseudonym"):
        await members.load(b"1000001")


async def test_erase_removes_row_messages_and_bytes(
    db: Database, members: SqliteMemberRepository, db_path: Path
) -> None:
    await members.save(ALICE, {"flow": "main"}, today=TODAY)
    await members.save(BOB, {"flow": "main"}, today=TODAY)
    await members.remember_messages(ALICE, [11, 12, 13], now=NOW)
    await members.remember_messages(BOB, [21], now=NOW)
    assert ALICE in disk_bytes(db_path)

    await members.erase(ALICE)

    assert await members.load(ALICE) is None
    assert await members.deletable_messages(ALICE, now=NOW) == []
    assert await members.load(BOB) == {"flow": "main"}
    assert await members.deletable_messages(BOB, now=NOW) == [21]
    assert await members.count() == 1
    live = disk_bytes(db_path)
    assert ALICE not in live
    assert BOB in live
    await db.close()
    assert ALICE not in disk_bytes(db_path)


async def test_erase_of_unknown_member_is_harmless(members: SqliteMemberRepository) -> None:
    await members.erase(ALICE)
    assert await members.count() == 0


async def test_tampered_or_moved_state_fails_closed(
    db: Database, members: SqliteMemberRepository
) -> None:
    await members.save(ALICE, {"who": "alice"}, today=TODAY)
    await members.save(BOB, {"who": "bob"}, today=TODAY)
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE members SET state = (SELECT state FROM members WHERE member_key = ?) "
            "WHERE member_key = ?",
            (ALICE, BOB),
        )
    with pytest.raises(DecryptionError):
        await members.load(BOB)
    assert await members.load(ALICE) == {"who": "alice"}


async def test_wrong_root_key_fails_closed(db: Database, members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {"who": "alice"}, today=TODAY)
    other = SqliteMemberRepository(
        db, FieldCipher(RootKeys(keys={1: b"\x06" * 32}, active=1, pseudonym_key_id=1))
    )
    with pytest.raises(DecryptionError):
        await other.load(ALICE)


async def test_deletable_messages_window(members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {}, today=TODAY)
    await members.remember_messages(ALICE, [5, 3, 4], now=NOW)
    await members.remember_messages(ALICE, [3], now=NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=10)
    assert await members.deletable_messages(ALICE, now=NOW) == [3, 4, 5]
    await members.remember_messages(ALICE, [9], now=later)
    assert await members.deletable_messages(ALICE, now=NOW + timedelta(hours=46)) == [3, 4, 5, 9]
    assert await members.deletable_messages(ALICE, now=NOW + timedelta(hours=48)) == [9]
    assert await members.deletable_messages(ALICE, now=later + timedelta(hours=48)) == []


async def test_forget_old_messages(members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {}, today=TODAY)
    await members.save(BOB, {}, today=TODAY)
    await members.remember_messages(ALICE, [1, 2], now=NOW)
    await members.remember_messages(BOB, [3], now=NOW + timedelta(hours=20))
    assert await members.forget_old_messages(now=NOW + timedelta(hours=46)) == 0
    assert await members.forget_old_messages(now=NOW + timedelta(hours=48)) == 2
    assert await members.deletable_messages(ALICE, now=NOW) == []
    assert await members.deletable_messages(BOB, now=NOW + timedelta(hours=20)) == [3]
    assert await members.forget_old_messages(now=NOW + timedelta(hours=48)) == 0
    assert await members.load(ALICE) == {}


async def test_purge_idle(members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {"a": 1}, today=date(2024, 1, 1))
    await members.save(BOB, {"b": 2}, today=date(2024, 3, 1))
    await members.remember_messages(ALICE, [1], now=NOW)
    assert await members.purge_idle(before=date(2024, 1, 1)) == 0
    assert await members.purge_idle(before=date(2024, 2, 1)) == 1
    assert await members.load(ALICE) is None
    assert await members.deletable_messages(ALICE, now=NOW) == []
    assert await members.load(BOB) == {"b": 2}
    assert await members.count() == 1
    with pytest.raises(TypeError):
        await members.purge_idle(before=NOW)


async def test_remember_messages_for_unknown_member_raises(members: SqliteMemberRepository) -> None:
    with pytest.raises(StorageError, match="save the member first"):
        await members.remember_messages(ALICE, [1], now=NOW)
    await members.save(ALICE, {}, today=TODAY)
    await members.remember_messages(ALICE, [], now=NOW)
    await members.remember_messages(ALICE, [1, 1], now=NOW)
    assert await members.deletable_messages(ALICE, now=NOW) == [1]


async def test_naive_datetimes_are_refused(members: SqliteMemberRepository) -> None:
    await members.save(ALICE, {}, today=TODAY)
    with pytest.raises(ValueError, match="timezone"):
        await members.remember_messages(ALICE, [1], now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone"):
        await members.deletable_messages(ALICE, now=NOW.replace(tzinfo=None))
