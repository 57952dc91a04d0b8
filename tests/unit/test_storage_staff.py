"""Volunteers, coordinators and invites on a real SQLite file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from storage.errors import DecryptionError, StorageError
from storage.referrals import Referral
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository
from storage.staff import Change, Invite, StaffMember
from tests.unit.storage_samples import AUDIT_KEY, CIPHER, PSEUDONYMS, disk_bytes

TODAY = date(2024, 5, 17)
VERA = PSEUDONYMS.member_key(2_000_001)
VICTOR = PSEUDONYMS.member_key(2_000_002)
COORD = PSEUDONYMS.member_key(2_000_003)
VERA_CHAT = 6_660_001_111
VICTOR_CHAT = 6_660_002_222
COORD_CHAT = 6_660_003_333
MEMBERS = [PSEUDONYMS.member_key(1_000_000 + n) for n in range(4)]


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared fresh database, with members to file requests for."""
    members = SqliteMemberRepository(db, CIPHER)
    for key in MEMBERS:
        await members.save(key, {}, today=TODAY)
    return db


async def add_team(staff: SqliteStaffRepository) -> tuple[StaffMember, StaffMember, StaffMember]:
    vera = await staff.add(
        VERA,
        role="volunteer",
        label="vera0001",
        locale="en",
        chat_id=VERA_CHAT,
        actor="c1",
        today=TODAY,
    )
    victor = await staff.add(
        VICTOR,
        role="volunteer",
        label="vict0002",
        locale="ug",
        chat_id=VICTOR_CHAT,
        actor="c1",
        today=TODAY,
    )
    coord = await staff.add(
        COORD,
        role="coordinator",
        label="coor0003",
        locale="zh_Hans",
        chat_id=COORD_CHAT,
        actor="cli",
        today=TODAY,
    )
    await staff.set_languages(VERA, ["ug", "en", "ug"])
    await staff.set_languages(VICTOR, ["zh_Hans"])
    return vera, victor, coord


async def file(referrals: SqliteReferralRepository, member: bytes, chat: int) -> Referral:
    result = await referrals.open(
        member,
        topic="travel",
        urgency="detained",
        country=None,
        language="ug",
        chat_id=chat,
        today=TODAY,
        notify_at=50,
        rate_key=PSEUDONYMS.rate_key(member, TODAY.isoformat()),
        daily_limit=5,
    )
    assert isinstance(result, Referral)
    return result


# Accounts --------------------------------------------------------------------


async def test_add_then_get_and_by_label(db: Database, staff: SqliteStaffRepository) -> None:
    assert await staff.get(VERA) is None
    assert await staff.by_label("vera0001") is None
    added = await staff.add(
        VERA,
        role="volunteer",
        label="vera0001",
        locale="ug",
        chat_id=VERA_CHAT,
        actor="c1",
        today=TODAY,
    )
    assert added == StaffMember(VERA, "volunteer", True, "vera0001", "ug", frozenset(), None)
    assert not added.is_coordinator
    assert await staff.get(VERA) == added
    assert await staff.by_label("vera0001") == added
    assert await staff.by_label("VERA0001") is None
    assert await staff.get(VICTOR) is None
    [entry] = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert (entry.actor, entry.action, entry.referral) == ("c1", "add-volunteer:vera0001", None)


async def test_languages_and_current_referral(staff: SqliteStaffRepository) -> None:
    await add_team(staff)
    vera = await staff.get(VERA)
    assert vera is not None
    assert vera.languages == frozenset({"ug", "en"})
    await staff.set_current(VERA, "abcdefgh")
    vera = await staff.get(VERA)
    assert vera is not None
    assert vera.current_referral == "abcdefgh"
    await staff.set_current(VERA, None)
    vera = await staff.get(VERA)
    assert vera is not None
    assert vera.current_referral is None


async def test_re_adding_changes_the_role_and_reactivates(staff: SqliteStaffRepository) -> None:
    await add_team(staff)
    await staff.set_active(VERA, False, actor="c1", today=TODAY)
    again = await staff.add(
        VERA,
        role="coordinator",
        label="vera0001",
        locale="en",
        chat_id=VERA_CHAT + 1,
        actor="cli",
        today=TODAY,
    )
    assert again.is_coordinator
    assert again.active
    assert again.languages == frozenset({"ug", "en"})
    assert await staff.chat_id(again) == VERA_CHAT + 1


async def test_everyone_lists_coordinators_then_volunteers(staff: SqliteStaffRepository) -> None:
    await add_team(staff)
    assert [m.label for m in await staff.everyone()] == ["coor0003", "vera0001", "vict0002"]


async def test_chat_id_round_trip_and_not_plaintext(
    db: Database, staff: SqliteStaffRepository, db_path: Path
) -> None:
    vera, victor, coord = await add_team(staff)
    assert await staff.chat_id(vera) == VERA_CHAT
    assert await staff.chat_id(victor) == VICTOR_CHAT
    assert await staff.chat_id(coord) == COORD_CHAT
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT chat_ref FROM staff WHERE staff_key = ?", (VERA,)) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    assert str(VERA_CHAT).encode() not in bytes(row[0])
    disk = disk_bytes(db_path)
    assert VERA in disk  # the scan does see the rows
    for chat in (VERA_CHAT, VICTOR_CHAT, COORD_CHAT):
        assert str(chat).encode() not in disk
    await db.close()
    closed = disk_bytes(db_path)
    for chat in (VERA_CHAT, VICTOR_CHAT, COORD_CHAT):
        assert str(chat).encode() not in closed


async def test_chat_ref_moved_between_accounts_fails_closed(
    db: Database, staff: SqliteStaffRepository
) -> None:
    vera, victor, _ = await add_team(staff)
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE staff SET chat_ref = (SELECT chat_ref FROM staff WHERE staff_key = ?) "
            "WHERE staff_key = ?",
            (VERA, VICTOR),
        )
    with pytest.raises(DecryptionError):
        await staff.chat_id(victor)
    assert await staff.chat_id(vera) == VERA_CHAT


async def test_chat_id_of_a_removed_account_raises(staff: SqliteStaffRepository) -> None:
    vera, _, _ = await add_team(staff)
    await staff.remove(VERA, actor="c1", today=TODAY)
    with pytest.raises(StorageError):
        await staff.chat_id(vera)


async def test_to_notify(staff: SqliteStaffRepository) -> None:
    await add_team(staff)
    assert {m.label for m in await staff.to_notify("ug")} == {"vera0001", "coor0003"}
    assert {m.label for m in await staff.to_notify("zh_Hans")} == {"vict0002", "coor0003"}
    assert {m.label for m in await staff.to_notify("zh_Hant")} == {"coor0003"}
    await staff.set_active(VERA, False, actor="c1", today=TODAY)
    await staff.set_active(COORD, False, actor="cli", today=TODAY)
    assert await staff.to_notify("ug") == []
    assert {m.label for m in await staff.to_notify("zh_Hans")} == {"vict0002"}
    await staff.set_active(VERA, True, actor="c1", today=TODAY)
    assert {m.label for m in await staff.to_notify("ug")} == {"vera0001"}


# Suspension and removal ------------------------------------------------------


async def test_suspension_returns_held_referrals_to_the_queue(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    await add_team(staff)
    claimed = await file(referrals, MEMBERS[0], 1)
    handed = await file(referrals, MEMBERS[1], 2)
    closed = await file(referrals, MEMBERS[2], 3)
    others = await file(referrals, MEMBERS[3], 4)
    for referral in (claimed, handed, closed):
        await referrals.claim(referral.id, VERA, actor="vera0001", today=TODAY)
    await referrals.claim(others.id, VICTOR, actor="vict0002", today=TODAY)
    await referrals.ask_handover(handed.id, VERA, actor="vera0001", today=TODAY)
    await referrals.close(closed.id, VERA, "informed", actor="vera0001", today=TODAY)
    await staff.set_current(VERA, claimed.id)

    returned = (await staff.set_active(VERA, False, actor="c1", today=TODAY)).returned

    assert sorted(returned) == sorted([claimed.id, handed.id])
    vera = await staff.get(VERA)
    assert vera is not None
    assert not vera.active
    assert vera.current_referral is None
    for referral_id in returned:
        back = await referrals.get(referral_id)
        assert back is not None
        assert (back.status, back.volunteer, back.notify_count) == ("open", None, 0)
    # Urgent referrals are due for a notice again at once.
    assert {r.id for r in await referrals.due_renotify(now=0)} == set(returned)
    still_closed = await referrals.get(closed.id)
    assert still_closed is not None
    assert (still_closed.status, still_closed.volunteer) == ("closed", VERA)
    kept = await referrals.get(others.id)
    assert kept is not None
    assert (kept.status, kept.volunteer) == ("claimed", VICTOR)
    assert await referrals.held_by(VERA) == []
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert (entries[-3].actor, entries[-3].action, entries[-3].referral) == (
        "c1",
        "suspend:vera0001",
        None,
    )
    assert sorted((e.action, e.referral or "") for e in entries[-2:]) == sorted(
        ("return", rid) for rid in returned
    )
    report = await SqliteAuditLog(db, AUDIT_KEY).verify()
    assert report.intact
    assert report.entries == len(entries)

    assert await staff.set_active(VERA, True, actor="c1", today=TODAY) == Change([], [])
    vera = await staff.get(VERA)
    assert vera is not None
    assert vera.active
    assert (await SqliteAuditLog(db, AUDIT_KEY).entries())[-1].action == "reinstate:vera0001"


async def test_remove_deletes_the_row_and_returns_referrals(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    await add_team(staff)
    held = await file(referrals, MEMBERS[0], 1)
    waiting = await file(referrals, MEMBERS[1], 2)
    assert await referrals.add_notice(held.id, VERA, 99)
    assert await referrals.add_notice(waiting.id, VERA, 98)
    assert await referrals.add_notice(waiting.id, VICTOR, 97)
    await referrals.claim(held.id, VERA, actor="vera0001", today=TODAY)
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT chat_ref FROM staff WHERE staff_key = ?", (VERA,)) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    blob = bytes(row[0])
    assert blob in disk_bytes(db_path)

    change = await staff.remove(VERA, actor="c1", today=TODAY)
    assert change.returned == [held.id]
    # The notices in the removed account's chat, for the caller to delete.
    assert sorted(change.notices) == [98, 99]

    assert await staff.get(VERA) is None
    assert await staff.by_label("vera0001") is None
    back = await referrals.get(held.id)
    assert back is not None
    assert (back.status, back.volunteer) == ("open", None)
    assert await referrals.take_notices(held.id) == []  # cascaded with the account
    assert await referrals.take_notices(waiting.id) == [(VICTOR, 97)]
    assert blob not in disk_bytes(db_path)
    assert (await SqliteAuditLog(db, AUDIT_KEY).entries())[-2].action == "remove:vera0001"
    assert {m.label for m in await staff.everyone()} == {"vict0002", "coor0003"}
    assert await staff.remove(VERA, actor="c1", today=TODAY) == Change([], [])


async def test_changes_to_an_unknown_account_do_nothing(
    db: Database, staff: SqliteStaffRepository
) -> None:
    assert await staff.set_active(VERA, False, actor="c1", today=TODAY) == Change([], [])
    assert await staff.remove(VERA, actor="c1", today=TODAY) == Change([], [])
    assert await SqliteAuditLog(db, AUDIT_KEY).entries() == []


# Invites ---------------------------------------------------------------------


async def _invite_count(db: Database) -> int:
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT COUNT(*) FROM invites") as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_invite_redeems_once(db: Database, staff: SqliteStaffRepository) -> None:
    volunteer_code = PSEUDONYMS.invite_hash("code-one")
    coordinator_code = PSEUDONYMS.invite_hash("code-two")
    await staff.add_invite(
        volunteer_code, "volunteer", created_by="coor0003", expires_at=1_000, today=TODAY
    )
    await staff.add_invite(
        coordinator_code, "coordinator", created_by="cli", expires_at=1_000, today=TODAY
    )
    assert await _invite_count(db) == 2
    assert await staff.redeem_invite(volunteer_code, now=999) == Invite("volunteer", "coor0003")
    assert await staff.redeem_invite(volunteer_code, now=999) is None
    assert await staff.redeem_invite(coordinator_code, now=500) == Invite("coordinator", "cli")
    assert await staff.redeem_invite(coordinator_code, now=500) is None
    assert await staff.redeem_invite(PSEUDONYMS.invite_hash("never-issued"), now=1) is None
    assert await _invite_count(db) == 0
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert [(e.actor, e.action, e.referral) for e in entries] == [
        ("coor0003", "invite-volunteer", None),
        ("cli", "invite-coordinator", None),
    ]


@pytest.mark.parametrize("now", [1_000, 1_001, 10**9])
async def test_expired_invite_is_refused_and_deleted(
    db: Database, staff: SqliteStaffRepository, now: int
) -> None:
    code = PSEUDONYMS.invite_hash("late")
    await staff.add_invite(code, "coordinator", created_by="c1", expires_at=1_000, today=TODAY)
    assert await staff.redeem_invite(code, now=now) is None
    assert await _invite_count(db) == 0
    # Deleted, not merely refused: the same code hash can be issued again.
    await staff.add_invite(code, "volunteer", created_by="c1", expires_at=now + 10, today=TODAY)
    assert await staff.redeem_invite(code, now=now) == Invite("volunteer", "c1")


async def test_drop_expired_invites(db: Database, staff: SqliteStaffRepository) -> None:
    for code, expires_at in (("a", 100), ("b", 200)):
        await staff.add_invite(
            PSEUDONYMS.invite_hash(code),
            "volunteer",
            created_by="c1",
            expires_at=expires_at,
            today=TODAY,
        )
    assert await staff.drop_expired_invites(now=99) == 0
    assert await staff.drop_expired_invites(now=100) == 1
    assert await _invite_count(db) == 1
    assert await staff.redeem_invite(PSEUDONYMS.invite_hash("b"), now=150) == Invite(
        "volunteer", "c1"
    )


async def test_invite_codes_are_not_stored(
    db: Database, staff: SqliteStaffRepository, db_path: Path
) -> None:
    code = "CANARY-invite-7f3a"
    await staff.add_invite(
        PSEUDONYMS.invite_hash(code), "volunteer", created_by="c1", expires_at=9, today=TODAY
    )
    assert code.encode() not in disk_bytes(db_path)
    assert await _invite_count(db) == 1
