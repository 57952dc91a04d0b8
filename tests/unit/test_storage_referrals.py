"""Referrals on a real SQLite file: life cycle, first-claim-wins, encryption, expiry, purges."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import FieldCipher
from storage.errors import ConstraintViolation, DecryptionError
from storage.keys import RootKeys
from storage.referrals import (
    Escalated,
    Held,
    Referral,
    Refused,
    Withdrawn,
    new_referral_id,
    valid_referral_id,
)
from storage.relay_copies import Copy, copies_at
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository
from tests.unit.storage_samples import AUDIT_KEY, CIPHER, PSEUDONYMS, disk_bytes

ALICE = PSEUDONYMS.member_key(1_000_001)
BOB = PSEUDONYMS.member_key(1_000_002)
CAROL = PSEUDONYMS.member_key(1_000_003)
VERA = PSEUDONYMS.member_key(2_000_001)
VICTOR = PSEUDONYMS.member_key(2_000_002)
CONTENDERS = [PSEUDONYMS.member_key(3_000_000 + n) for n in range(6)]
ALICE_CHAT = 5_550_001_234
BOB_CHAT = 5_550_009_876
CAROL_CHAT = 5_550_004_444
TODAY = date(2024, 5, 17)
NOON = datetime(2024, 5, 17, 12, tzinfo=UTC)
ID_ALPHABET = set("abcdefghjkmnpqrstuvwxyz23456789")


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared fresh database, with members to file for and volunteers to claim."""
    members = SqliteMemberRepository(db, CIPHER)
    for key in (ALICE, BOB, CAROL):
        await members.save(key, {}, today=TODAY)
    # Only active staff accounts can be given a referral.
    staff = SqliteStaffRepository(db, CIPHER, AUDIT_KEY)
    for n, key in enumerate((VERA, VICTOR, *CONTENDERS)):
        await staff.add(
            key,
            role="volunteer",
            label=f"vol{n:05d}",
            locale="en",
            chat_id=7000 + n,
            actor="cli",
            today=TODAY,
        )
    return db


async def request(
    referrals: SqliteReferralRepository,
    member: bytes = ALICE,
    *,
    chat_id: int = ALICE_CHAT,
    urgency: str = "general",
    country: str | None = "TR",
    today: date = TODAY,
    notify_at: int | None = None,
    daily_limit: int = 3,
) -> Referral | Held | Escalated | Refused:
    return await referrals.open(
        member,
        topic="red_notice",
        urgency=urgency,
        country=country,
        language="ug",
        chat_id=chat_id,
        today=today,
        notify_at=notify_at,
        rate_key=PSEUDONYMS.rate_key(member, today.isoformat()),
        daily_limit=daily_limit,
    )


async def file(
    referrals: SqliteReferralRepository,
    member: bytes = ALICE,
    *,
    chat_id: int = ALICE_CHAT,
    urgency: str = "general",
    country: str | None = "TR",
    today: date = TODAY,
    notify_at: int | None = None,
    daily_limit: int = 3,
) -> Referral:
    result = await request(
        referrals,
        member,
        chat_id=chat_id,
        urgency=urgency,
        country=country,
        today=today,
        notify_at=notify_at,
        daily_limit=daily_limit,
    )
    assert isinstance(result, Referral), result
    return result


async def claim(
    referrals: SqliteReferralRepository, referral: Referral, who: bytes
) -> Referral | None:
    return await referrals.claim(referral.id, who, actor=who.hex()[:8], today=TODAY)


async def actions(db: Database) -> list[tuple[str, str | None]]:
    """The audit entries about referrals (the fixture's staff accounts left out)."""
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    return [(entry.action, entry.referral) for entry in entries if entry.referral is not None]


def _wal_size(db_path: Path) -> int:
    return Path(f"{db_path}-wal").stat().st_size


async def _raw_chat_ref(db: Database, referral_id: str) -> bytes | None:
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT chat_ref FROM referrals WHERE id = ?", (referral_id,)) as cur,
    ):
        row = await cur.fetchone()
    assert row is not None
    return None if row[0] is None else bytes(row[0])


# Opening ---------------------------------------------------------------------


async def test_open_files_an_open_referral(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals, urgency="detained", notify_at=100)
    assert referral.status == "open"
    assert referral.member_key == ALICE
    assert (referral.topic, referral.urgency, referral.country, referral.language) == (
        "red_notice",
        "detained",
        "TR",
        "ug",
    )
    assert referral.volunteer is None
    assert referral.outcome is None
    assert referral.created_day == TODAY
    assert referral.notify_count == 0
    assert referral.urgent
    assert valid_referral_id(referral.id)
    assert await referrals.get(referral.id) == referral
    assert await referrals.active_for_member(ALICE) == referral
    assert await referrals.active_for_member(BOB) is None
    assert await referrals.member_chat(referral) == ALICE_CHAT
    assert await referrals.count() == 1
    assert await referrals.count("open") == 1
    assert await referrals.count("claimed") == 0
    assert await actions(db) == [("request", referral.id)]


async def test_country_may_be_absent(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals, country=None)
    assert referral.country is None
    assert not referral.urgent


async def test_second_open_for_the_same_member_is_refused(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    first = await file(referrals)
    second = await request(referrals, daily_limit=10)
    assert second == Refused("already_open")
    assert await referrals.count() == 1
    assert await referrals.active_for_member(ALICE) == first
    # Another member is not affected.
    assert (await file(referrals, BOB, chat_id=BOB_CHAT)).member_key == BOB
    assert [action for action, _ in await actions(db)] == ["request", "request"]


async def test_also_refused_while_claimed(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    assert await claim(referrals, referral, VERA) is not None
    refused = await request(referrals, daily_limit=10)
    assert refused == Refused("already_open")


async def test_daily_limit_counts_filed_requests(referrals: SqliteReferralRepository) -> None:
    first = await file(referrals, daily_limit=2)
    # A refusal for an open referral does not use up the day's allowance.
    refused = await request(referrals, daily_limit=2)
    assert refused == Refused("already_open")
    assert await referrals.withdraw(ALICE, today=TODAY, action="cancel") == Withdrawn(
        first, [], [], ALICE_CHAT
    )
    second = await file(referrals, daily_limit=2)
    assert second.id != first.id
    assert await referrals.withdraw(ALICE, today=TODAY, action="cancel") == Withdrawn(
        second, [], [], ALICE_CHAT
    )
    limited = await request(referrals, daily_limit=2)
    assert limited == Refused("daily_limit")
    assert await referrals.count() == 0
    # Other members and the next day have their own allowance.
    await file(referrals, BOB, chat_id=BOB_CHAT, daily_limit=2)
    tomorrow = await file(referrals, today=TODAY + timedelta(days=1), daily_limit=2)
    assert tomorrow.created_day == TODAY + timedelta(days=1)


async def test_forget_request_counts_resets_the_allowance(
    referrals: SqliteReferralRepository,
) -> None:
    await file(referrals, daily_limit=1)
    await referrals.withdraw(ALICE, today=TODAY, action="cancel")
    assert await referrals.forget_request_counts(before=TODAY) == 0
    assert await referrals.forget_request_counts(before=TODAY + timedelta(days=1)) == 1
    assert isinstance(await file(referrals, daily_limit=1), Referral)


async def test_erasing_the_member_does_not_reset_the_daily_limit(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    await file(referrals, daily_limit=1)
    await referrals.withdraw(ALICE, today=TODAY, action="wipe")
    members = SqliteMemberRepository(db, CIPHER)
    await members.erase(ALICE)
    await members.save(ALICE, {}, today=TODAY)
    assert await request(referrals, daily_limit=1) == Refused("daily_limit")
    # The counter is keyed so that it does not name the member.
    assert ALICE not in await _request_keys(db)
    assert PSEUDONYMS.rate_key(ALICE, TODAY.isoformat()) in await _request_keys(db)


async def test_referral_of_an_unknown_member_is_refused_by_the_schema(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    stranger = PSEUDONYMS.member_key(9_999_999)
    with pytest.raises(ConstraintViolation, match="FOREIGN KEY"):
        await file(referrals, stranger)
    assert await referrals.count() == 0
    # The whole request rolled back, its count included.
    assert await _request_keys(db) == []


async def _request_keys(db: Database) -> list[bytes]:
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT rate_key FROM referral_requests") as cur,
    ):
        return [bytes(row[0]) for row in await cur.fetchall()]


# Ids ------------------------------------------------------------------------


async def test_ids_are_random_not_sequential(referrals: SqliteReferralRepository) -> None:
    ids = [(await file(referrals, key, chat_id=n)).id for n, key in enumerate((ALICE, BOB, CAROL))]
    assert len(set(ids)) == 3
    assert all(len(rid) == 8 and set(rid) <= ID_ALPHABET for rid in ids)


def test_new_ids_are_valid_and_distinct() -> None:
    ids = {new_referral_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(valid_referral_id(rid) for rid in ids)
    # Every letter of the alphabet turns up, and nothing outside it does.
    assert set("".join(ids)) == ID_ALPHABET


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abcdefg",
        "abcdefghj",
        "ABCDEFGH",
        "abcdefgi",  # i, l, o, 0 and 1 are left out: they are easy to misread
        "abcdefgl",
        "abcdefgo",
        "abcdefg0",
        "abcdefg1",
        "abcdefg-",
        "abcd efg",
        "abcdefg\n",
        "abcdefgé",
        "abcdefg٣",
    ],
)
def test_valid_referral_id_rejects(value: str) -> None:
    assert not valid_referral_id(value)


@given(st.text(max_size=12))
def test_valid_referral_id_is_exactly_eight_alphabet_characters(value: str) -> None:
    expected = re.fullmatch(r"[a-hjkmnp-z2-9]{8}", value) is not None
    assert valid_referral_id(value) is expected


@given(st.text(alphabet=sorted(ID_ALPHABET), min_size=8, max_size=8))
def test_any_eight_alphabet_characters_are_valid(value: str) -> None:
    assert valid_referral_id(value)


# Claiming --------------------------------------------------------------------


async def test_first_claim_wins(db: Database, referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals, urgency="detained", notify_at=100)
    won = await claim(referrals, referral, VERA)
    assert won is not None
    assert won.status == "claimed"
    assert won.volunteer == VERA
    assert await claim(referrals, referral, VICTOR) is None
    assert await claim(referrals, referral, VERA) is None
    stored = await referrals.get(referral.id)
    assert stored is not None
    assert stored.volunteer == VERA
    # A claimed referral is no longer re-notified.
    assert await referrals.due_renotify(now=10**9) == []
    assert await referrals.held_by(VERA) == [won]
    assert await referrals.held_by(VICTOR) == []
    assert await actions(db) == [("request", referral.id), ("claim", referral.id)]


async def test_concurrent_claims_have_exactly_one_winner(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals)
    results = await asyncio.gather(*(claim(referrals, referral, who) for who in CONTENDERS))
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].volunteer in CONTENDERS
    stored = await referrals.get(referral.id)
    assert stored == winners[0]
    assert [action for action, _ in await actions(db)].count("claim") == 1


async def test_two_concurrent_claims(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    first, second = await asyncio.gather(
        claim(referrals, referral, VERA), claim(referrals, referral, VICTOR)
    )
    assert (first is None) != (second is None)


async def test_claim_of_unknown_referral(referrals: SqliteReferralRepository) -> None:
    await file(referrals)
    assert await referrals.claim("zzzzzzzz", VERA, actor="v", today=TODAY) is None


async def test_only_an_active_account_can_claim(
    db: Database, referrals: SqliteReferralRepository, staff: SqliteStaffRepository
) -> None:
    referral = await file(referrals)
    stranger = PSEUDONYMS.member_key(4_000_001)
    assert await claim(referrals, referral, stranger) is None
    await staff.set_active(VERA, False, actor="c", today=TODAY)
    assert await claim(referrals, referral, VERA) is None
    stored = await referrals.get(referral.id)
    assert stored is not None
    assert (stored.status, stored.volunteer) == ("open", None)
    assert "claim" not in [action for action, _ in await actions(db)]
    await staff.set_active(VERA, True, actor="c", today=TODAY)
    assert await claim(referrals, referral, VERA) is not None


# Release, handover, reassign -------------------------------------------------


async def test_release_only_by_the_holder(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals, urgency="immediate_risk", notify_at=100)
    await claim(referrals, referral, VERA)
    assert (
        await referrals.release(referral.id, VICTOR, actor="x", today=TODAY, next_round_at=500)
        is None
    )
    held = await referrals.get(referral.id)
    assert held is not None
    assert (held.status, held.volunteer) == ("claimed", VERA)

    released = await referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=500)
    assert released is not None
    assert released.status == "open"
    assert released.volunteer is None
    assert released.notify_count == 0
    # An urgent referral is due for a notice again at once.
    assert await referrals.due_renotify(now=499) == []
    assert [r.id for r in await referrals.due_renotify(now=500)] == [referral.id]
    assert (
        await referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=500)
        is None
    )
    assert await claim(referrals, referral, VICTOR) is not None
    assert [action for action, _ in await actions(db)] == ["request", "claim", "release", "claim"]


async def test_released_general_referral_is_not_renotified(
    referrals: SqliteReferralRepository,
) -> None:
    referral = await file(referrals, notify_at=100)
    await claim(referrals, referral, VERA)
    assert (
        await referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=500)
        is not None
    )
    assert await referrals.due_renotify(now=10**9) == []


async def test_handover_then_reassign(db: Database, referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    assert await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY) is None
    assert await referrals.reassign(referral.id, VICTOR, actor="c", today=TODAY) is None
    await claim(referrals, referral, VERA)
    # Only a claimed referral can be handed over, only by its holder, only once.
    assert await referrals.reassign(referral.id, VICTOR, actor="c", today=TODAY) is None
    assert await referrals.ask_handover(referral.id, VICTOR, actor="x", today=TODAY) is None
    asked = await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY)
    assert asked is not None
    assert (asked.status, asked.volunteer) == ("handover", VERA)
    assert await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY) is None
    assert await referrals.held_by(VERA) == [asked]

    moved = await referrals.reassign(referral.id, VICTOR, actor="c", today=TODAY)
    assert moved is not None
    assert (moved.status, moved.volunteer) == ("claimed", VICTOR)
    assert await referrals.held_by(VERA) == []
    assert await referrals.held_by(VICTOR) == [moved]
    assert await referrals.reassign(referral.id, VERA, actor="c", today=TODAY) is None
    # The former holder can neither close nor release it any more.
    assert await referrals.close(referral.id, VERA, "informed", actor="v", today=TODAY) is None
    assert (
        await referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=1) is None
    )
    assert await actions(db) == [
        ("request", referral.id),
        ("claim", referral.id),
        ("ask-handover", referral.id),
        ("reassign", referral.id),
    ]


async def test_reassign_only_to_an_active_account(
    referrals: SqliteReferralRepository, staff: SqliteStaffRepository
) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY)
    await staff.set_active(VICTOR, False, actor="c", today=TODAY)
    assert await referrals.reassign(referral.id, VICTOR, actor="c", today=TODAY) is None
    assert await referrals.reassign(referral.id, b"\x00" * 32, actor="c", today=TODAY) is None
    stored = await referrals.get(referral.id)
    assert stored is not None
    assert (stored.status, stored.volunteer) == ("handover", VERA)
    moved = await referrals.reassign(referral.id, CONTENDERS[0], actor="c", today=TODAY)
    assert moved is not None
    assert moved.volunteer == CONTENDERS[0]


async def test_holder_can_release_during_handover(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY)
    released = await referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=1)
    assert released is not None
    assert released.status == "open"


async def test_held_by_lists_oldest_first(referrals: SqliteReferralRepository) -> None:
    newer = await file(referrals, ALICE, today=TODAY)
    older = await file(referrals, BOB, chat_id=BOB_CHAT, today=TODAY - timedelta(days=2))
    other = await file(referrals, CAROL, chat_id=CAROL_CHAT)
    for referral in (newer, older):
        await claim(referrals, referral, VERA)
    await claim(referrals, other, VICTOR)
    assert [r.id for r in await referrals.held_by(VERA)] == [older.id, newer.id]


# Closing ---------------------------------------------------------------------


async def test_close_only_by_the_holder(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    referral = await file(referrals)
    assert await referrals.close(referral.id, VERA, "informed", actor="v", today=TODAY) is None
    await claim(referrals, referral, VERA)
    blob = await _raw_chat_ref(db, referral.id)
    assert blob is not None
    assert blob in disk_bytes(db_path)

    assert await referrals.close(referral.id, VICTOR, "informed", actor="x", today=TODAY) is None
    assert await referrals.member_chat(referral) == ALICE_CHAT

    closed = await referrals.close(
        referral.id, VERA, "lawyer", actor="v", today=TODAY + timedelta(days=1)
    )
    assert closed is not None
    assert closed.status == "closed"
    assert closed.outcome == "lawyer"
    assert closed.volunteer == VERA
    assert await referrals.member_chat(closed) is None
    assert await _raw_chat_ref(db, referral.id) is None
    # The dropped reference left the file and the WAL, not only the row.
    assert blob not in disk_bytes(db_path)
    assert await referrals.held_by(VERA) == []
    assert await referrals.active_for_member(ALICE) is None
    assert await referrals.close(referral.id, VERA, "other", actor="v", today=TODAY) is None
    assert (await actions(db))[-1] == ("close:lawyer", referral.id)
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert entries[-1].day == (TODAY + timedelta(days=1)).isoformat()
    assert entries[-1].actor == "v"


async def test_after_close_the_member_may_ask_again(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    await referrals.close(referral.id, VERA, "informed", actor="v", today=TODAY)
    again = await file(referrals)
    assert again.id != referral.id
    assert await referrals.active_for_member(ALICE) == again
    assert await referrals.count("closed") == 1
    assert await referrals.count("open") == 1


# Withdrawing -----------------------------------------------------------------


async def test_withdraw_deletes_the_row(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    referral = await file(referrals)
    await file(referrals, BOB, chat_id=BOB_CHAT)
    await claim(referrals, referral, VERA)
    blob = await _raw_chat_ref(db, referral.id)
    assert blob is not None
    withdrawn = await referrals.withdraw(ALICE, today=TODAY, action="wipe")
    assert withdrawn is not None
    assert withdrawn.referral.id == referral.id
    assert withdrawn.referral.volunteer == VERA
    assert await referrals.get(referral.id) is None
    assert await referrals.member_chat(referral) is None
    assert await referrals.held_by(VERA) == []
    assert await referrals.count() == 1
    assert blob not in disk_bytes(db_path)
    assert (await actions(db))[-1] == ("wipe", referral.id)
    assert await referrals.withdraw(ALICE, today=TODAY, action="wipe") is None


async def test_withdraw_returns_the_notices_to_retire(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    assert await referrals.add_notice(referral.id, VERA, 31)
    assert await referrals.add_notice(referral.id, VICTOR, 32)
    withdrawn = await referrals.withdraw(ALICE, today=TODAY, action="cancel")
    assert withdrawn is not None
    assert withdrawn.referral == referral
    assert sorted(withdrawn.notices) == sorted([(VERA, 31), (VICTOR, 32)])
    assert await referrals.take_notices(referral.id) == []


async def test_withdraw_leaves_closed_referrals(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    await referrals.close(referral.id, VERA, "informed", actor="v", today=TODAY)
    assert await referrals.withdraw(ALICE, today=TODAY, action="cancel") is None
    assert await referrals.get(referral.id) is not None


# Encryption of the chat reference --------------------------------------------


async def test_chat_ref_is_encrypted(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    referral = await file(referrals)
    blob = await _raw_chat_ref(db, referral.id)
    assert blob is not None
    digits = str(ALICE_CHAT).encode()
    assert digits not in blob
    assert ALICE_CHAT.to_bytes(8, "big") not in blob
    assert ALICE_CHAT.to_bytes(8, "little") not in blob
    disk = disk_bytes(db_path)
    assert referral.id.encode() in disk  # the scan does see the row
    assert digits not in disk
    await db.close()
    assert digits not in disk_bytes(db_path)


async def test_chat_ref_moved_to_another_row_fails_closed(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    alice = await file(referrals)
    bob = await file(referrals, BOB, chat_id=BOB_CHAT)
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE referrals SET chat_ref = (SELECT chat_ref FROM referrals WHERE id = ?) "
            "WHERE id = ?",
            (alice.id, bob.id),
        )
    with pytest.raises(DecryptionError):
        await referrals.member_chat(bob)
    assert await referrals.member_chat(alice) == ALICE_CHAT


async def test_chat_ref_needs_the_right_key(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals)
    other_root = RootKeys(keys={1: b"\x08" * 32}, active=1, pseudonym_key_id=1)
    other = SqliteReferralRepository(db, FieldCipher(other_root), AUDIT_KEY)
    with pytest.raises(DecryptionError):
        await other.member_chat(referral)


# Re-notification -------------------------------------------------------------


async def test_due_renotify_and_mark_notified_compare_and_set(
    referrals: SqliteReferralRepository,
) -> None:
    urgent = await file(referrals, urgency="detained", notify_at=100)
    await file(referrals, BOB, chat_id=BOB_CHAT, urgency="general", notify_at=100)
    assert await referrals.due_renotify(now=99) == []
    [due] = await referrals.due_renotify(now=100)
    assert due.id == urgent.id

    assert await referrals.mark_notified(due, now=100, next_at=200)
    # A second worker holding the same round loses.
    assert not await referrals.mark_notified(due, now=100, next_at=200)
    assert await referrals.due_renotify(now=199) == []
    [again] = await referrals.due_renotify(now=200)
    assert again.notify_count == 1
    # A stale round is refused even once the next one is due.
    assert not await referrals.mark_notified(due, now=200, next_at=300)
    # A round that is not yet due is refused.
    assert not await referrals.mark_notified(again, now=199, next_at=300)
    assert await referrals.mark_notified(again, now=200, next_at=300)
    stored = await referrals.get(urgent.id)
    assert stored is not None
    assert stored.notify_count == 2


async def test_concurrent_marks_have_one_winner(referrals: SqliteReferralRepository) -> None:
    await file(referrals, urgency="immediate_risk", notify_at=100)
    [due] = await referrals.due_renotify(now=100)
    results = await asyncio.gather(
        *(referrals.mark_notified(due, now=100, next_at=200) for _ in range(4))
    )
    assert sorted(results) == [False, False, False, True]


async def test_mark_notified_refuses_a_claimed_referral(
    referrals: SqliteReferralRepository,
) -> None:
    await file(referrals, urgency="detained", notify_at=100)
    [due] = await referrals.due_renotify(now=100)
    await claim(referrals, due, VERA)
    assert not await referrals.mark_notified(due, now=100, next_at=200)


async def test_mark_notified_without_a_next_round_ends_the_rounds(
    referrals: SqliteReferralRepository,
) -> None:
    urgent = await file(referrals, urgency="detained", notify_at=100)
    [due] = await referrals.due_renotify(now=100)
    assert await referrals.mark_notified(due, now=100, next_at=None)
    assert await referrals.due_renotify(now=10**12) == []
    stored = await referrals.get(urgent.id)
    assert stored is not None
    assert (stored.status, stored.notify_count) == ("open", 1)
    # It can still be claimed.
    assert await claim(referrals, urgent, VERA) is not None


async def test_due_renotify_is_ordered_by_time(referrals: SqliteReferralRepository) -> None:
    late = await file(referrals, urgency="detained", notify_at=300)
    early = await file(referrals, BOB, chat_id=BOB_CHAT, urgency="detained", notify_at=100)
    assert [r.id for r in await referrals.due_renotify(now=300)] == [early.id, late.id]


# Notices, expiry, purge ------------------------------------------------------


async def test_notices_are_taken_once(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    assert await referrals.add_notice(referral.id, VERA, 11)
    assert await referrals.add_notice(referral.id, VICTOR, 12)
    assert not await referrals.add_notice(referral.id, VERA, 11)  # a repeat is ignored
    assert not await referrals.add_notice("zzzzzzzz", VERA, 13)  # no such referral
    assert sorted(await referrals.take_notices(referral.id)) == sorted([(VERA, 11), (VICTOR, 12)])
    assert await referrals.take_notices(referral.id) == []
    assert await referrals.take_notices("zzzzzzzz") == []


async def test_no_notice_is_recorded_once_claimed(referrals: SqliteReferralRepository) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    assert not await referrals.add_notice(referral.id, VICTOR, 14)
    assert await referrals.take_notices(referral.id) == []


async def test_expire_unclaimed_takes_only_old_open_referrals(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    cutoff = TODAY - timedelta(days=14)
    old_open = await file(referrals, ALICE, today=cutoff - timedelta(days=1))
    old_claimed = await file(referrals, BOB, chat_id=BOB_CHAT, today=cutoff - timedelta(days=3))
    at_cutoff = await file(referrals, CAROL, chat_id=CAROL_CHAT, today=cutoff)
    await claim(referrals, old_claimed, VERA)
    await referrals.add_notice(old_open.id, VERA, 21)
    await referrals.add_notice(old_open.id, VICTOR, 22)
    await referrals.add_notice(at_cutoff.id, VERA, 23)

    expired = await referrals.expire_unclaimed(before=cutoff, today=TODAY)

    assert len(expired) == 1
    [gone] = expired
    assert gone.referral == old_open
    assert gone.member_chat == ALICE_CHAT
    assert sorted(gone.notices) == sorted([(VERA, 21), (VICTOR, 22)])
    assert await referrals.get(old_open.id) is None
    assert await referrals.get(old_claimed.id) is not None
    assert await referrals.get(at_cutoff.id) is not None
    assert await referrals.take_notices(at_cutoff.id) == [(VERA, 23)]
    assert (await actions(db))[-1] == ("expire", old_open.id)
    entries = await SqliteAuditLog(db, AUDIT_KEY).entries()
    assert (entries[-1].actor, entries[-1].day) == ("system", TODAY.isoformat())
    assert await referrals.expire_unclaimed(before=cutoff, today=TODAY) == []


async def test_expiry_counts_from_the_return_to_the_queue(
    referrals: SqliteReferralRepository, staff: SqliteStaffRepository
) -> None:
    long_ago = TODAY - timedelta(days=40)
    released = await file(referrals, ALICE, today=long_ago)
    returned = await file(referrals, BOB, chat_id=BOB_CHAT, today=long_ago)
    waiting = await file(referrals, CAROL, chat_id=CAROL_CHAT, today=long_ago)
    await claim(referrals, released, VERA)
    await claim(referrals, returned, VICTOR)
    assert (
        await referrals.release(released.id, VERA, actor="v", today=TODAY, next_round_at=1)
        is not None
    )
    assert (await staff.set_active(VICTOR, False, actor="c", today=TODAY)).returned == [returned.id]
    expired = await referrals.expire_unclaimed(before=TODAY - timedelta(days=14), today=TODAY)
    assert [gone.referral.id for gone in expired] == [waiting.id]
    assert await referrals.get(released.id) is not None
    assert await referrals.get(returned.id) is not None
    # Once they have waited the full time again, they expire too.
    later = TODAY + timedelta(days=15)
    expired = await referrals.expire_unclaimed(before=later - timedelta(days=14), today=later)
    assert sorted(gone.referral.id for gone in expired) == sorted([released.id, returned.id])


async def test_expiry_frees_the_member_to_ask_again(referrals: SqliteReferralRepository) -> None:
    await file(referrals, today=TODAY - timedelta(days=20))
    assert len(await referrals.expire_unclaimed(before=TODAY, today=TODAY)) == 1
    assert isinstance(await file(referrals), Referral)


async def test_purge_closed_deletes_only_old_closed_referrals(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    old = await file(referrals, ALICE)
    recent = await file(referrals, BOB, chat_id=BOB_CHAT)
    still_open = await file(referrals, CAROL, chat_id=CAROL_CHAT, today=TODAY - timedelta(days=90))
    for referral in (old, recent):
        await claim(referrals, referral, VERA)
    await referrals.close(old.id, VERA, "informed", actor="v", today=TODAY)
    await referrals.close(recent.id, VERA, "informed", actor="v", today=TODAY + timedelta(days=10))
    # Another write, so the WAL holds frames before the purge.
    await claim(referrals, still_open, VICTOR)
    assert _wal_size(db_path) > 0

    assert await referrals.purge_closed(before=TODAY) == 0
    assert await referrals.purge_closed(before=TODAY + timedelta(days=1)) == 1

    assert _wal_size(db_path) == 0
    assert await referrals.get(old.id) is None
    assert await referrals.get(recent.id) is not None
    assert await referrals.get(still_open.id) is not None
    assert await referrals.purge_closed(before=TODAY + timedelta(days=1)) == 0
    assert await referrals.purge_closed(before=TODAY + timedelta(days=11)) == 1
    assert await referrals.count() == 1


async def test_journey_leaves_an_intact_audit_chain(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals)
    await claim(referrals, referral, VERA)
    await referrals.relayed(referral.id, actor="vera0001", today=TODAY)
    await referrals.close(referral.id, VERA, "ngo", actor="vera0001", today=TODAY)
    report = await SqliteAuditLog(db, AUDIT_KEY).verify()
    assert report.intact
    assert report.entries == len(await SqliteAuditLog(db, AUDIT_KEY).entries())
    assert [action for action, _ in await actions(db)] == ["request", "claim", "close:ngo"]
    # A relayed message is counted for the day, and sealed into the chain once it is over.
    await SqliteAuditLog(db, AUDIT_KEY).seal_relay_counts(before=TODAY + timedelta(days=1))
    assert [action for action, _ in await actions(db)][-1] == "relayed:member=0,volunteer=1"
    assert (await SqliteAuditLog(db, AUDIT_KEY).verify()).intact


# Several workers on one database file ----------------------------------------


@pytest.fixture
async def second_worker(db: Database, db_path: Path) -> AsyncIterator[SqliteReferralRepository]:
    other = await Database.open(db_path)
    yield SqliteReferralRepository(other, CIPHER, AUDIT_KEY)
    await other.close()


async def test_concurrent_opens_file_one_referral(referrals: SqliteReferralRepository) -> None:
    results = await asyncio.gather(*(file_or_refusal(referrals) for _ in range(3)))
    assert sum(isinstance(result, Referral) for result in results) == 1
    assert [r for r in results if not isinstance(r, Referral)] == [Refused("already_open")] * 2
    assert await referrals.count() == 1


async def file_or_refusal(
    referrals: SqliteReferralRepository,
) -> Referral | Held | Escalated | Refused:
    return await request(referrals, daily_limit=10)


async def test_claims_from_two_workers_have_one_winner(
    referrals: SqliteReferralRepository, second_worker: SqliteReferralRepository
) -> None:
    referral = await file(referrals)
    first, second = await asyncio.gather(
        claim(referrals, referral, VERA), claim(second_worker, referral, VICTOR)
    )
    assert (first is None) != (second is None)
    stored = await second_worker.get(referral.id)
    assert stored is not None
    assert stored.volunteer == (VERA if first is not None else VICTOR)


async def test_renotify_rounds_from_two_workers_fire_once(
    referrals: SqliteReferralRepository, second_worker: SqliteReferralRepository
) -> None:
    await file(referrals, urgency="detained", notify_at=100)
    [mine] = await referrals.due_renotify(now=100)
    [theirs] = await second_worker.due_renotify(now=100)
    results = await asyncio.gather(
        referrals.mark_notified(mine, now=100, next_at=200),
        second_worker.mark_notified(theirs, now=100, next_at=200),
    )
    assert sorted(results) == [False, True]


async def test_expiry_from_two_workers_fires_once(
    db: Database, referrals: SqliteReferralRepository, second_worker: SqliteReferralRepository
) -> None:
    old = await file(referrals, today=TODAY - timedelta(days=30))
    await file(referrals, BOB, chat_id=BOB_CHAT, today=TODAY - timedelta(days=30))
    mine, theirs = await asyncio.gather(
        referrals.expire_unclaimed(before=TODAY, today=TODAY),
        second_worker.expire_unclaimed(before=TODAY, today=TODAY),
    )
    expired = [gone.referral.member_key for gone in (*mine, *theirs)]
    assert sorted(expired) == sorted([ALICE, BOB])
    assert await referrals.count() == 0
    assert [action for action, _ in await actions(db)].count("expire") == 2
    assert (await SqliteAuditLog(db, AUDIT_KEY).verify()).intact
    assert old.id not in {r.id for r in await referrals.due_renotify(now=10**9)}


async def test_relay_copies_live_as_long_as_the_request_and_are_taken_once(
    db: Database, referrals: SqliteReferralRepository, db_path: Path
) -> None:
    referral = await file(referrals, ALICE)
    later = NOON + timedelta(hours=50)
    early = copies_at(VICTOR, [11, 12], "text", NOON)
    assert await referrals.remember_copies(referral.id, early)
    assert await referrals.remember_copies(referral.id, copies_at(None, [13], "media", later))
    taken = await referrals.take_copies(referral.id)
    assert taken == [*early, Copy(None, 13, "media", early[0].sent_hour + 50)]
    assert [c.deletable(later) for c in taken] == [False, False, True]
    assert await referrals.take_copies(referral.id) == []
    # Stored encrypted: neither the volunteer's key nor a message id shows on disk.
    await referrals.remember_copies(referral.id, copies_at(VICTOR, [987654321], "own", later))
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT copies FROM relay_copies") as cur,
    ):
        [(blob,)] = await cur.fetchall()
    assert VICTOR.hex().encode() not in bytes(blob)
    assert b"987654321" not in disk_bytes(db_path)
    padded = len(bytes(blob)) - 31  # version, key id, nonce and tag
    assert padded >= 256
    assert padded & (padded - 1) == 0, "padded to a power of two: a blob tells only a bucket"
    withdrawn = await referrals.withdraw(ALICE, today=TODAY, action="wipe")
    assert withdrawn is not None
    assert withdrawn.copies == copies_at(VICTOR, [987654321], "own", later)
    assert withdrawn.member_chat == ALICE_CHAT
    assert not await referrals.remember_copies(referral.id, early), "gone with the referral"


async def test_copies_arriving_after_the_close_are_not_kept(
    referrals: SqliteReferralRepository,
) -> None:
    referral = await file(referrals, ALICE)
    await claim(referrals, referral, VERA)
    await referrals.close(referral.id, VERA, "informed", actor="v", today=TODAY)
    # The caller removes them at once instead: nothing would ever clear them later.
    assert not await referrals.remember_copies(referral.id, copies_at(VERA, [9], "text", NOON))
    assert await referrals.take_copies(referral.id) == []


async def test_relay_copies_moved_to_another_referral_fail_closed(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    first = await file(referrals, ALICE)
    second = await file(referrals, BOB, chat_id=BOB_CHAT)
    await referrals.remember_copies(first.id, copies_at(VICTOR, [5], "text", NOON))
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO relay_copies (referral_id, copies) "
            "SELECT ?, copies FROM relay_copies WHERE referral_id = ?",
            (second.id, first.id),
        )
    with pytest.raises(DecryptionError):
        await referrals.take_copies(second.id)


async def test_voice_notes_are_taken_before_telegram_stops_deleting_them(
    referrals: SqliteReferralRepository,
) -> None:
    referral = await file(referrals, ALICE)
    await referrals.remember_copies(referral.id, copies_at(None, [1], "fixed", NOON))
    await referrals.remember_copies(referral.id, copies_at(VICTOR, [2], "text", NOON))
    assert await referrals.take_fixed_copies(now=NOON + timedelta(hours=43)) == []
    [due] = await referrals.take_fixed_copies(now=NOON + timedelta(hours=44))
    assert (due.referral.id, due.member_chat) == (referral.id, ALICE_CHAT)
    assert due.copies == copies_at(None, [1], "fixed", NOON)
    assert due.copies[0].deletable(NOON + timedelta(hours=45))
    assert await referrals.take_copies(referral.id) == copies_at(VICTOR, [2], "text", NOON)


async def test_a_cap_on_held_requests_and_claims_counted_by_day(
    referrals: SqliteReferralRepository,
) -> None:
    held = [await file(referrals, member) for member in (ALICE, BOB)]
    third = await file(referrals, CAROL, chat_id=CAROL_CHAT)
    for referral in held:
        assert await referrals.claim(referral.id, VERA, actor="v", today=TODAY, max_held=2)
    assert await referrals.claim(third.id, VERA, actor="v", today=TODAY, max_held=2) is None
    assert await referrals.held_counts() == {VERA: 2}
    await referrals.release(held[0].id, VERA, actor="v", today=TODAY, next_round_at=0)
    assert await referrals.claim(third.id, VERA, actor="v", today=TODAY, max_held=2)
    assert await referrals.claims_on(VERA, TODAY) == 3
    assert await referrals.claims_since(TODAY) == {VERA: 3}
    assert await referrals.claims_since(TODAY + timedelta(days=1)) == {}
    # A hand-over respects the cap of the volunteer it goes to.
    await referrals.ask_handover(third.id, VERA, actor="v", today=TODAY)
    await referrals.claim(held[0].id, VICTOR, actor="w", today=TODAY)
    assert await referrals.reassign(third.id, VICTOR, actor="c", today=TODAY, max_held=1) is None
    assert await referrals.reassign(third.id, VICTOR, actor="c", today=TODAY, max_held=2)
    assert await referrals.forget_claims(before=TODAY + timedelta(days=1)) == 2
    assert await referrals.claims_since(TODAY) == {}


# Someone detained now is never refused ------------------------------------------


async def _day_count(db: Database, member: bytes = ALICE) -> int:
    rate_key = PSEUDONYMS.rate_key(member, TODAY.isoformat())
    rows = await db.connection.execute_fetchall(
        "SELECT count FROM referral_requests WHERE rate_key = ?", (rate_key,)
    )
    return int(next(iter(rows))[0])


async def test_the_daily_limit_does_not_refuse_someone_detained_now(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    await file(referrals, daily_limit=1)
    await referrals.withdraw(ALICE, today=TODAY, action="cancel")
    assert await request(referrals, daily_limit=1) == Refused("daily_limit")
    # The first crisis request beyond the limit is filed and due for announcing at once.
    first = await request(referrals, urgency="detained", notify_at=100, daily_limit=1)
    assert isinstance(first, Referral)
    assert (first.status, first.urgency) == ("open", "detained")
    await referrals.withdraw(ALICE, today=TODAY, action="cancel")
    # Re-filing beyond that is still filed, never refused, but held for the next round.
    for _ in range(3):
        held = await request(referrals, urgency="detained", notify_at=100, daily_limit=1)
        assert isinstance(held, Held)
        assert held.referral.status == "open"
        assert await referrals.due_renotify(now=99) == []
        assert [r.id for r in await referrals.due_renotify(now=100)] == [held.referral.id]
        await referrals.withdraw(ALICE, today=TODAY, action="cancel")
    assert await _day_count(db) == 5, "crisis requests are counted too"
    # An ordinary request is still refused.
    assert await request(referrals, daily_limit=1) == Refused("daily_limit")


async def test_an_open_request_is_escalated_not_refused(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    ordinary = await file(referrals, country="DE")
    assert await referrals.add_notice(ordinary.id, VERA, 11)
    escalated = await request(referrals, urgency="detained", country="PL", notify_at=100)
    assert isinstance(escalated, Escalated)
    assert escalated.changed
    now = escalated.referral
    assert now.id == ordinary.id
    assert (now.topic, now.urgency, now.country, now.status) == (
        "red_notice",
        "detained",
        "PL",  # where they are now, which matters more than where they live
        "open",
    )
    assert now.urgent
    assert escalated.notices == [(VERA, 11)], "the old notices are handed over to be replaced"
    assert await referrals.take_notices(ordinary.id) == []
    # Its urgent rounds start: due at the next round, from round one.
    assert await referrals.due_renotify(now=99) == []
    [due] = await referrals.due_renotify(now=100)
    assert (due.id, due.notify_count) == (ordinary.id, 0)
    assert await referrals.count() == 1, "still one open request per member"
    assert await _day_count(db) == 1, "an escalation is not a new request"
    assert await actions(db) == [("request", ordinary.id), ("escalate", ordinary.id)]


async def test_escalating_without_a_country_keeps_the_one_given(
    referrals: SqliteReferralRepository,
) -> None:
    await file(referrals, country="DE")
    escalated = await request(referrals, urgency="detained", country=None, notify_at=100)
    assert isinstance(escalated, Escalated)
    assert escalated.referral.country == "DE"


async def test_a_claimed_request_is_escalated_without_rounds(
    referrals: SqliteReferralRepository,
) -> None:
    referral = await file(referrals)
    assert await claim(referrals, referral, VERA) is not None
    escalated = await request(referrals, urgency="detained", notify_at=100)
    assert isinstance(escalated, Escalated)
    assert escalated.changed
    assert (escalated.referral.status, escalated.referral.volunteer) == ("claimed", VERA)
    assert escalated.referral.urgency == "detained"
    assert await referrals.due_renotify(now=10**12) == []


async def test_an_urgent_request_keeps_its_rounds_when_escalated(
    referrals: SqliteReferralRepository,
) -> None:
    await file(referrals, urgency="immediate_risk", notify_at=100)
    [due] = await referrals.due_renotify(now=100)
    assert await referrals.mark_notified(due, now=100, next_at=400)
    escalated = await request(referrals, urgency="detained", notify_at=200)
    assert isinstance(escalated, Escalated)
    assert escalated.referral.urgency == "detained"
    assert escalated.referral.notify_count == 1
    assert await referrals.due_renotify(now=399) == []
    assert len(await referrals.due_renotify(now=400)) == 1


async def test_a_request_marked_detained_already_is_left_as_it_is(
    db: Database, referrals: SqliteReferralRepository
) -> None:
    referral = await file(referrals, urgency="detained", country="TR", notify_at=100)
    again = await request(referrals, urgency="detained", country="PL", notify_at=500)
    assert again == Escalated(referral, changed=False, notices=[])
    assert await referrals.get(referral.id) == referral
    assert await actions(db) == [("request", referral.id)]
