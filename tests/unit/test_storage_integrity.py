"""Roles, holders and invites bound by a MAC: an edit of the file is refused, not obeyed."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from storage.integrity import REFERRALS, STAFF, RowSeal, Sealed, TamperedRow, row_key
from storage.referrals import Escalated, Referral, Refused
from storage.sqlite.database import Database
from storage.sqlite.integrity import count_failing, seal_unsealed, unsealed_rows
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository
from storage.staff import StaffMember
from tests.unit.storage_samples import AUDIT_KEY, CIPHER, PSEUDONYMS

SEAL = RowSeal(row_key(AUDIT_KEY))
TODAY = date(2024, 6, 3)
VERA = PSEUDONYMS.member_key(3_000_001)
MOLE = PSEUDONYMS.member_key(3_000_002)
MEMBER = PSEUDONYMS.member_key(3_000_003)


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared fresh database, with a member to file requests for."""
    await SqliteMemberRepository(db, CIPHER).save(MEMBER, {}, today=TODAY)
    return db


async def _sql(db: Database, sql: str, *args: object) -> None:
    async with db.transaction() as connection:
        await connection.execute(sql, args)


async def _volunteer(staff: SqliteStaffRepository, key: bytes, label: str) -> StaffMember:
    member = await staff.add(
        key, role="volunteer", label=label, locale="en", chat_id=1, actor="c", today=TODAY
    )
    await staff.set_languages(key, ["en"])
    return member


async def _held(staff: SqliteStaffRepository, referrals: SqliteReferralRepository) -> Referral:
    await _volunteer(staff, VERA, "vera0001")
    await _volunteer(staff, MOLE, "mole0002")
    filed = await referrals.open(
        MEMBER,
        topic="travel",
        urgency="general",
        country=None,
        language="en",
        chat_id=5,
        today=TODAY,
        notify_at=None,
        rate_key=b"r" * 32,
        daily_limit=3,
    )
    assert isinstance(filed, Referral)
    claimed = await referrals.claim(filed.id, VERA, actor="vera0001", today=TODAY)
    assert claimed is not None
    return claimed


# The MAC itself ---------------------------------------------------------------

VALUES = {"role": "volunteer", "status": "active", "label": "vera0001", "languages": "en"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "coordinator"), ("status", "suspended"), ("label", "x"), ("languages", "en ug")],
)
def test_every_covered_field_changes_the_mac(field: str, value: str) -> None:
    assert SEAL.mac(STAFF, VERA, {**VALUES, field: value}) != SEAL.mac(STAFF, VERA, VALUES)


def test_the_mac_binds_its_row_its_table_and_its_key() -> None:
    mac = SEAL.mac(STAFF, VERA, VALUES)
    assert SEAL.mac(STAFF, MOLE, VALUES) != mac, "copied to another account, it fails"
    other_table = Sealed("other", "staff_key", STAFF.fields)
    assert SEAL.mac(other_table, VERA, VALUES) != mac
    assert RowSeal(row_key(b"\x00" * 32)).mac(STAFF, VERA, VALUES) != mac


def test_a_new_field_at_its_default_keeps_old_macs_and_setting_it_does_not() -> None:
    """Adding a covered column is one line, and rows sealed before it still verify."""
    wider = Sealed("staff", "staff_key", (*STAFF.fields, "pending"))
    before = SEAL.mac(STAFF, VERA, VALUES)
    assert SEAL.mac(wider, VERA, {**VALUES, "pending": None}) == before
    assert SEAL.mac(wider, VERA, {**VALUES, "pending": ""}) == before
    assert SEAL.mac(wider, VERA, {**VALUES, "pending": "ug"}) != before
    # Clearing a field that was set shows too.
    assert SEAL.mac(STAFF, VERA, {**VALUES, "languages": ""}) != before


def test_types_are_told_apart() -> None:
    values = {"role": "x", "created_by": "c", "expires_at": 5}
    as_text = {**values, "expires_at": "5"}
    invites = Sealed("invites", "code_hash", ("role", "created_by", "expires_at"))
    assert SEAL.mac(invites, b"h", values) != SEAL.mac(invites, b"h", as_text)


# Accounts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE staff SET role = 'coordinator' WHERE label = 'mole0002'",
        "UPDATE staff SET languages = 'en ug zh_Hans zh_Hant' WHERE label = 'mole0002'",
        "UPDATE staff SET label = 'vera0009' WHERE label = 'mole0002'",
        "UPDATE staff SET mac = NULL WHERE label = 'mole0002'",
        "UPDATE staff SET mac = (SELECT mac FROM staff WHERE label = 'vera0001') "
        "WHERE label = 'mole0002'",
    ],
)
async def test_an_edited_account_is_no_account(
    db: Database, staff: SqliteStaffRepository, edit: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _volunteer(staff, VERA, "vera0001")
    await _volunteer(staff, MOLE, "mole0002")
    await _sql(db, edit)
    with caplog.at_level(logging.ERROR, logger="storage.integrity"):
        assert await staff.get(MOLE) is None
        assert await staff.by_label("mole0002") is None
        assert [m.label for m in await staff.everyone()] == ["vera0001"]
        assert [m.label for m in await staff.to_notify("ug")] == []
    assert "failed its integrity check" in caplog.text
    for secret in ("mole0002", MOLE.hex(), "3000002"):
        assert secret not in caplog.text, "logged without ids or labels"
    assert await count_failing(db, SEAL) == {"staff": 1}
    # Nothing the bot does re-seals it as it stands.
    with pytest.raises(TamperedRow):
        await staff.set_languages(MOLE, ["en"])
    with pytest.raises(TamperedRow):
        await staff.set_active(MOLE, False, actor="c", today=TODAY)
    assert await staff.get(MOLE) is None


async def test_a_genuine_re_registration_replaces_what_was_edited(
    db: Database, staff: SqliteStaffRepository
) -> None:
    await _volunteer(staff, MOLE, "mole0002")
    await _sql(db, "UPDATE staff SET languages = 'en ug zh_Hans' WHERE label = 'mole0002'")
    again = await staff.add(
        MOLE, role="volunteer", label="mole0002", locale="en", chat_id=1, actor="c", today=TODAY
    )
    assert again.languages == frozenset(), "languages it gave itself are gone"
    # A genuine account keeps its languages when re-registered.
    await staff.set_languages(MOLE, ["en"])
    kept = await staff.add(
        MOLE, role="coordinator", label="mole0002", locale="en", chat_id=1, actor="c", today=TODAY
    )
    assert kept.languages == frozenset({"en"})
    assert kept.is_coordinator


async def test_removing_an_edited_account_still_works(
    db: Database, staff: SqliteStaffRepository
) -> None:
    await _volunteer(staff, MOLE, "mole0002")
    await _sql(db, "UPDATE staff SET role = 'coordinator' WHERE label = 'mole0002'")
    await staff.remove(MOLE, actor="admin", today=TODAY)
    assert await count_failing(db, SEAL) == {}


async def test_an_invite_edited_to_a_coordinators_is_no_invite(
    db: Database, staff: SqliteStaffRepository
) -> None:
    await staff.add_invite(b"h" * 32, "volunteer", created_by="c", expires_at=10**10, today=TODAY)
    await staff.add_invite(b"g" * 32, "volunteer", created_by="c", expires_at=10**10, today=TODAY)
    await _sql(db, "UPDATE invites SET role = 'coordinator' WHERE code_hash = ?", b"h" * 32)
    assert await staff.redeem_invite(b"h" * 32, now=0) is None
    genuine = await staff.redeem_invite(b"g" * 32, now=0)
    assert genuine is not None
    assert genuine.role == "volunteer"


# Requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "stripped"),
    [
        pytest.param("UPDATE referrals SET volunteer = ?", False, id="holder"),
        pytest.param("UPDATE referrals SET language = 'ug' WHERE ? IS NOT NULL", False, id="lang"),
        pytest.param(
            "UPDATE referrals SET status = 'handover' WHERE ? IS NOT NULL", False, id="st"
        ),
        pytest.param("UPDATE referrals SET volunteer = ?", True, id="holder-unsealed"),
    ],
)
async def test_a_request_moved_outside_the_bot_is_held_by_nobody(
    db: Database,
    staff: SqliteStaffRepository,
    referrals: SqliteReferralRepository,
    edit: str,
    stripped: bool,
) -> None:
    referral = await _held(staff, referrals)
    if stripped:
        # An unchecked row (its MAC removed) is refused like an edited one.
        await _sql(db, "UPDATE referrals SET mac = NULL")
    await _sql(db, edit, MOLE)
    assert await referrals.get(referral.id) is None
    assert await referrals.held_by(MOLE) == []
    assert await referrals.held_by(VERA) == []
    assert await referrals.active_for_member(MEMBER) is None
    for change in (
        referrals.release(referral.id, MOLE, actor="m", today=TODAY, next_round_at=0),
        referrals.close(referral.id, MOLE, "other", actor="m", today=TODAY),
        referrals.ask_handover(referral.id, MOLE, actor="m", today=TODAY),
        referrals.release(referral.id, VERA, actor="v", today=TODAY, next_round_at=0),
    ):
        assert await change is None, "no transition seals the edit as genuine"
    # Suspending the account it was moved to does not hand it back to the queue.
    change = await staff.set_active(MOLE, False, actor="c", today=TODAY)
    assert change.returned == []
    # The member cannot file a second one meanwhile, and a wipe erases it.
    refused = await referrals.open(
        MEMBER,
        topic="travel",
        urgency="general",
        country=None,
        language="en",
        chat_id=5,
        today=TODAY,
        notify_at=None,
        rate_key=b"s" * 32,
        daily_limit=3,
    )
    assert refused == Refused("already_open")
    assert await referrals.withdraw(MEMBER, today=TODAY, action="wipe") is None
    assert await referrals.count() == 0


async def test_genuine_transitions_keep_the_seal(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    referral = await _held(staff, referrals)
    asked = await referrals.ask_handover(referral.id, VERA, actor="v", today=TODAY)
    assert asked is not None
    moved = await referrals.reassign(referral.id, MOLE, actor="c", today=TODAY)
    assert moved is not None
    assert moved.volunteer == MOLE
    change = await staff.set_active(MOLE, False, actor="c", today=TODAY)
    assert change.returned == [referral.id]
    back = await referrals.get(referral.id)
    assert back is not None
    assert back.status == "open"
    assert await count_failing(db, SEAL) == {}


# A database from before sealing ------------------------------------------------------


async def test_rows_from_before_sealing_are_listed_then_sealed_as_shown(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    referral = await _held(staff, referrals)
    await _sql(db, "UPDATE staff SET mac = NULL")
    await _sql(db, "UPDATE referrals SET mac = NULL")
    assert await staff.get(VERA) is None
    rows = await unsealed_rows(db)
    assert sorted((row.table, str(row.values.get("label", ""))) for row in rows) == [
        ("referrals", ""),
        ("staff", "mole0002"),
        ("staff", "vera0001"),
    ]
    # A row changed after it was shown is not sealed blindly.
    await _sql(db, "UPDATE staff SET role = 'coordinator' WHERE label = 'mole0002'")
    assert await seal_unsealed(db, SEAL, rows) == 2
    assert await staff.get(VERA) is not None
    assert await staff.get(MOLE) is None
    held = await referrals.get(referral.id)
    assert held is not None
    assert held.volunteer == VERA
    assert REFERRALS.table in {row.table for row in rows}


# Writes the relay's hardening added (issue 8, items 1-4) --------------------------------


async def _asked(staff: SqliteStaffRepository, key: bytes, *languages: str) -> None:
    for language in languages:
        await staff.toggle_requested_language(key, language)
    await staff.ask_for_languages(key, actor="v", today=TODAY)


async def test_languages_approved_refused_or_dropped_keep_the_seal(
    db: Database, staff: SqliteStaffRepository
) -> None:
    await staff.add(
        VERA, role="volunteer", label="vera0001", locale="en", chat_id=1, actor="c", today=TODAY
    )
    await _asked(staff, VERA, "en", "ug")
    assert await staff.decide_language(VERA, "en", True, actor="c", today=TODAY)
    assert await staff.decide_language(VERA, "ug", False, actor="c", today=TODAY)
    member = await staff.get(VERA)
    assert member is not None, "an approved volunteer still counts as staff"
    assert member.languages == frozenset({"en"})
    assert [m.label for m in await staff.to_notify("en")] == ["vera0001"]
    assert await count_failing(db, SEAL) == {}
    # Dropping a language is a write of the sealed row too.
    await staff.toggle_requested_language(VERA, "en")
    dropped = await staff.get(VERA)
    assert dropped is not None
    assert dropped.languages == frozenset()
    assert await count_failing(db, SEAL) == {}


async def test_whom_a_volunteer_writes_to_is_not_sealed_and_changing_it_breaks_nothing(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    """current_referral is no authority: the relay checks the request's sealed holder."""
    referral = await _held(staff, referrals)
    await staff.set_current(VERA, referral.id)
    assert await staff.leave_target(VERA, keep="other") == referral.id
    await staff.set_current(VERA, referral.id)
    assert await staff.drop_target(referral.id) == [VERA]
    assert await staff.get(VERA) is not None
    assert await count_failing(db, SEAL) == {}


async def test_no_language_is_approved_for_an_edited_account(
    db: Database, staff: SqliteStaffRepository
) -> None:
    await _volunteer(staff, MOLE, "mole0002")
    await _asked(staff, MOLE, "ug")
    await _sql(db, "UPDATE staff SET role = 'coordinator' WHERE label = 'mole0002'")
    with pytest.raises(TamperedRow):
        await staff.decide_language(MOLE, "ug", True, actor="c", today=TODAY)
    with pytest.raises(TamperedRow):
        await staff.toggle_requested_language(MOLE, "zh_Hans")
    assert await staff.get(MOLE) is None, "nothing sealed the edit as genuine"
    assert await staff.pending_languages(MOLE) == {"ug": True}, "the request still waits"


async def test_claims_are_counted_and_escalations_keep_the_seal(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    referral = await _held(staff, referrals)
    assert await referrals.claims_on(VERA, TODAY) == 1
    escalated = await referrals.open(
        MEMBER,
        topic="detained",
        urgency="detained",
        country="DE",
        language="en",
        chat_id=5,
        today=TODAY,
        notify_at=None,
        rate_key=b"r" * 32,
        daily_limit=3,
    )
    assert isinstance(escalated, Escalated)
    assert escalated.changed
    assert escalated.referral.id == referral.id
    assert escalated.referral.volunteer == VERA
    assert await count_failing(db, SEAL) == {}
    assert await referrals.held_counts() == {VERA: 1}


async def test_a_crisis_request_is_filed_even_over_a_request_edited_outside_the_bot(
    db: Database, staff: SqliteStaffRepository, referrals: SqliteReferralRepository
) -> None:
    """Someone detained now is never refused; the edited row cannot carry their request."""
    referral = await _held(staff, referrals)
    await _sql(db, "UPDATE referrals SET volunteer = ?", MOLE)
    assert await referrals.held_counts() == {}, "an edited holder holds nothing"
    filed = await referrals.open(
        MEMBER,
        topic="detained",
        urgency="detained",
        country="DE",
        language="en",
        chat_id=5,
        today=TODAY,
        notify_at=None,
        rate_key=b"r" * 32,
        daily_limit=3,
    )
    assert isinstance(filed, Referral)
    assert filed.id != referral.id
    assert filed.status == "open"
    assert filed.volunteer is None
    assert await referrals.get(referral.id) is None
    assert await referrals.count() == 1
    assert await count_failing(db, SEAL) == {}
