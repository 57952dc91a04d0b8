"""Root key rotation on a real SQLite file: chained pseudonyms, resumable re-encryption, and
the switch that re-keys everything derived from the pepper."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from storage.content_records import ContentFiles, Draft, LocaleSwitch
from storage.crypto import FieldCipher, Pseudonymizer, pepper_of
from storage.errors import KeyFileError
from storage.keys import RootKeys, add_key, format_root_keys, parse_root_keys
from storage.referrals import Referral
from storage.relay_copies import copies_at
from storage.sqlite import rotation
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.content import SqliteContentRepository
from storage.sqlite.database import Database
from storage.sqlite.key_check import verify_root_key
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository

OLD = RootKeys(keys={1: b"\x21" * 32}, active=1, pseudonym_key_id=1)
BOTH = RootKeys(keys={1: b"\x21" * 32, 2: b"\x22" * 32}, active=2, pseudonym_key_id=1)
NEW = RootKeys(
    keys={2: b"\x22" * 32}, active=2, pseudonym_key_id=2, peppers=(pepper_of(b"\x21" * 32),)
)
TODAY = date(2024, 7, 1)
NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)
MEMBER_ID, OTHER_ID, COORD_ID, VOLUNTEER_ID = 7_000_001, 7_000_002, 7_000_003, 7_000_004
INVITE_CODE = "a-code-given-out-before"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


# Keys and pseudonyms ------------------------------------------------------------------


def test_the_key_file_keeps_retired_peppers_in_order() -> None:
    keys = RootKeys(
        keys={3: b"\x03" * 32}, active=3, pseudonym_key_id=3, peppers=(b"\x01" * 32, b"\x02" * 32)
    )
    text = format_root_keys(keys)
    assert text.index(_b64(b"\x01" * 32)) < text.index(_b64(b"\x02" * 32)) < text.index("3:")
    assert parse_root_keys(text) == keys
    assert _b64(b"\x01" * 32) not in repr(keys)
    with pytest.raises(KeyFileError, match="line 1"):
        parse_root_keys("pepper:not base64!\n1:" + _b64(b"\x01" * 32))


def test_add_key_keeps_the_peppers() -> None:
    assert add_key(NEW).peppers == NEW.peppers


def test_a_chained_pseudonym_is_the_old_one_rechained() -> None:
    old, new = Pseudonymizer(OLD), Pseudonymizer(NEW)
    assert new.member_key(MEMBER_ID) == new.rechain(old.member_key(MEMBER_ID))
    assert new.invite_hash(INVITE_CODE) == new.rechain(old.invite_hash(INVITE_CODE))
    assert new.member_key(MEMBER_ID) != old.member_key(MEMBER_ID)
    # Adding a key changes no pseudonym: the pepper moves only at --finish.
    assert Pseudonymizer(BOTH).member_key(MEMBER_ID) == old.member_key(MEMBER_ID)
    assert Pseudonymizer(BOTH).check_value() == old.check_value()


def test_the_check_value_tells_generations_apart_and_is_unchanged_without_a_chain() -> None:
    old, new = Pseudonymizer(OLD), Pseudonymizer(NEW)
    # What databases from before rotation existed recorded.
    pepper = pepper_of(OLD.keys[1])
    assert old.check_value() == hmac.new(pepper, b"yardem/key-check/v1", hashlib.sha256).digest()
    assert new.check_value() != old.check_value()
    previous = new.previous()
    assert previous is not None
    assert previous.check_value() == old.check_value()
    assert old.previous() is None
    # Derived keys move with the last pepper.
    assert new.audit_key() != old.audit_key()
    assert new.content_key() != old.content_key()


async def test_a_half_done_rotation_is_named_at_start(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "y.db") as db:
        await verify_root_key(db, Pseudonymizer(OLD))
        with pytest.raises(KeyFileError, match="rotate-key --finish"):
            await verify_root_key(db, Pseudonymizer(NEW))
        with pytest.raises(KeyFileError, match="does not belong"):
            await verify_root_key(
                db, Pseudonymizer(RootKeys(keys={1: b"\x30" * 32}, active=1, pseudonym_key_id=1))
            )


# The schema ---------------------------------------------------------------------------


async def test_every_blob_column_is_known_to_the_rotation(tmp_path: Path) -> None:
    """A new column holding a pseudonym or a ciphertext must be re-keyed: classify it there."""
    async with await Database.open(tmp_path / "y.db") as db, db.snapshot() as connection:
        async with connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ) as cursor:
            tables = [str(row[0]) for row in await cursor.fetchall()]
        blobs = set()
        for table in tables:
            async with connection.execute(f"PRAGMA table_info({table})") as cursor:
                for column in await cursor.fetchall():
                    if str(column[2]).upper() == "BLOB":
                        blobs.add((table, str(column[1])))
    known = {(f.table, f.column) for f in rotation.ENCRYPTED}
    known |= set(rotation.PSEUDONYMS) | set(rotation.OTHER_BLOBS)
    assert blobs == known


# Re-encryption ------------------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "yardem.db")
    yield database
    await database.close()


class Interrupted(Exception):
    pass


async def test_reencryption_killed_mid_way_loses_nothing_and_resumes(db: Database) -> None:
    members = SqliteMemberRepository(db, FieldCipher(OLD))
    keys = [Pseudonymizer(OLD).member_key(8_000_000 + n) for n in range(30)]
    for n, key in enumerate(keys):
        await members.save(key, {"n": n}, today=TODAY)
    cipher = FieldCipher(BOTH)
    batches: list[int] = []

    def stop_after_three(table: str, done: int, seen: int) -> None:
        batches.append(done)
        if len(batches) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        await rotation.reencrypt(db, cipher, batch=4, report=stop_after_three)
    left = await rotation.outdated(db, cipher)
    assert left == {"members": {1: 30 - 12}}, "three whole batches of four committed, no more"
    both = SqliteMemberRepository(db, cipher)
    assert [await both.load(key) for key in keys] == [{"n": n} for n in range(30)]

    resumed = await rotation.reencrypt(db, cipher, batch=4)
    assert resumed.done["members"] == 18
    assert resumed.current["members"] == 12, "rows already under the new key are skipped"
    assert await rotation.outdated(db, cipher) == {}
    # Nothing needs key 1 any more.
    only_new = SqliteMemberRepository(db, FieldCipher(NEW))
    assert [await only_new.load(key) for key in keys] == [{"n": n} for n in range(30)]


async def test_an_unreadable_field_is_left_and_counted(db: Database) -> None:
    members = SqliteMemberRepository(db, FieldCipher(OLD))
    key = Pseudonymizer(OLD).member_key(MEMBER_ID)
    await members.save(key, {"a": 1}, today=TODAY)
    async with db.transaction() as connection:
        async with connection.execute("SELECT state FROM members") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        await connection.execute("UPDATE members SET state = ?", (bytes(row[0]) + b"\0",))
    result = await rotation.reencrypt(db, FieldCipher(BOTH))
    assert result.unreadable["members"] == 1
    left = await rotation.outdated(db, FieldCipher(BOTH))
    assert left == {"members": {1: 1}}
    with pytest.raises(Exception, match="open with none of the root keys"):
        rotation.require_all_under_active(left)


async def test_the_rotation_row_waits_for_the_bot(db: Database) -> None:
    await rotation.begin(db, 2)
    assert not await rotation.start_reencrypting(db, bot_running=True)
    assert await rotation.note_bot_keys(db, frozenset({1})) == rotation.Rotation(2, "added", False)
    await rotation.require_target(db, frozenset({1}))  # nothing under key 2 yet: allowed
    await rotation.note_bot_keys(db, frozenset({1, 2}))
    assert await rotation.start_reencrypting(db, bot_running=True)
    with pytest.raises(KeyFileError, match="root key 2"):
        await rotation.note_bot_keys(db, frozenset({1}))
    with pytest.raises(KeyFileError, match="root key 2"):
        await rotation.require_target(db, frozenset({1}))


# The switch ---------------------------------------------------------------------------


@dataclass
class World:
    referral: Referral
    volunteer_label: str
    coordinator_label: str


def _files() -> ContentFiles:
    return ContentFiles({"main.yaml": "id: main\n"}, {"ug": "# ug\n"}, "# t\n")


async def _populate(db: Database) -> World:
    """Everything that holds a pseudonym, a label or a MAC, under the old key."""
    cipher, names = FieldCipher(OLD), Pseudonymizer(OLD)
    audit_key = names.audit_key()
    members = SqliteMemberRepository(db, cipher)
    staff = SqliteStaffRepository(db, cipher, audit_key)
    referrals = SqliteReferralRepository(db, cipher, audit_key)
    member, other = names.member_key(MEMBER_ID), names.member_key(OTHER_ID)
    coord, vol = names.member_key(COORD_ID), names.member_key(VOLUNTEER_ID)
    await members.save(member, {"place": "asylum"}, today=TODAY)
    await members.remember_messages(member, [11, 12], now=NOW)
    await members.save(other, {"place": "menu"}, today=TODAY)
    coordinator = await staff.add(
        coord,
        role="coordinator",
        label=names.label(coord),
        locale="en",
        chat_id=COORD_ID,
        actor="admin",
        today=TODAY,
    )
    volunteer = await staff.add(
        vol,
        role="volunteer",
        label=names.label(vol),
        locale="en",
        chat_id=VOLUNTEER_ID,
        actor=coordinator.label,
        today=TODAY,
    )
    await staff.toggle_requested_language(vol, "ug")
    await staff.ask_for_languages(vol, actor=volunteer.label, today=TODAY)
    await staff.decide_language(vol, "ug", True, actor=coordinator.label, today=TODAY)
    await staff.toggle_requested_language(vol, "en")
    await staff.ask_for_languages(vol, actor=volunteer.label, today=TODAY)
    await staff.add_invite(
        names.invite_hash(INVITE_CODE),
        "volunteer",
        created_by=coordinator.label,
        expires_at=2_000_000_000,
        today=TODAY,
    )
    opened = await referrals.open(
        member,
        topic="family",
        urgency="general",
        country=None,
        language="ug",
        chat_id=MEMBER_ID,
        today=TODAY,
        notify_at=None,
        rate_key=names.rate_key(member, TODAY.isoformat()),
        daily_limit=3,
    )
    assert isinstance(opened, Referral)
    await referrals.add_notice(opened.id, coord, 501)
    claimed = await referrals.claim(opened.id, vol, actor=volunteer.label, today=TODAY)
    assert claimed is not None
    await referrals.remember_copies(opened.id, copies_at(vol, [77], "text", NOW))
    await referrals.remember_copies(opened.id, copies_at(None, [78], "text", NOW))
    await referrals.relayed(opened.id, actor=volunteer.label, today=TODAY)
    # A removed account's label stays in the log; it must not stay linkable either.
    gone = names.member_key(7_000_009)
    await staff.add(
        gone,
        role="volunteer",
        label=names.label(gone),
        locale="en",
        chat_id=1,
        actor=coordinator.label,
        today=TODAY,
    )
    await staff.remove(gone, actor=coordinator.label, today=TODAY)
    content = SqliteContentRepository(db, names.content_key(), audit_key)
    await content.publish(
        _files(), after=0, base=0, publisher=coordinator.label, day=TODAY, summary={"n": 1}
    )
    await content.save_draft(Draft(coord, 1, _files(), TODAY))
    await content.switch_locale(LocaleSwitch("ug", False, coordinator.label, TODAY))
    await verify_root_key(db, names)
    return World(claimed, volunteer.label, coordinator.label)


async def _rotate(db: Database) -> rotation.Switched:
    await rotation.begin(db, 2)
    assert await rotation.start_reencrypting(db, bot_running=False)
    await rotation.reencrypt(db, FieldCipher(BOTH))
    assert await rotation.outdated(db, FieldCipher(BOTH)) == {}
    return await rotation.switch(
        db, Pseudonymizer(OLD), Pseudonymizer(NEW), FieldCipher(NEW), today=TODAY
    )


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_the_switch_moves_everything_to_the_new_key(db: Database) -> None:
    world = await _populate(db)
    switched = await _rotate(db)
    assert (switched.members, switched.accounts, switched.invites) == (2, 2, 1)
    assert switched.failing_rows == 0
    assert switched.content_signed == 3

    # Nothing opens or verifies with the old key alone, everything with the new one.
    cipher, names = FieldCipher(NEW), Pseudonymizer(NEW)
    audit_key = names.audit_key()
    await verify_root_key(db, names)
    members = SqliteMemberRepository(db, cipher)
    staff = SqliteStaffRepository(db, cipher, audit_key)
    referrals = SqliteReferralRepository(db, cipher, audit_key)
    member, coord = names.member_key(MEMBER_ID), names.member_key(COORD_ID)
    vol = names.member_key(VOLUNTEER_ID)
    assert await members.load(member) == {"place": "asylum"}
    assert await members.deletable_messages(member, now=NOW) == [11, 12]
    assert await members.load(names.member_key(OTHER_ID)) == {"place": "menu"}

    volunteer = await staff.get(vol)
    coordinator = await staff.get(coord)
    assert volunteer is not None
    assert coordinator is not None
    assert (volunteer.role, volunteer.languages) == ("volunteer", frozenset({"ug"}))
    assert coordinator.is_coordinator
    assert volunteer.label == names.label(vol) != world.volunteer_label
    assert coordinator.label == names.label(coord) != world.coordinator_label
    assert await staff.chat_id(volunteer) == VOLUNTEER_ID
    assert await staff.pending_languages(vol) == {"en": True}
    assert await referrals.claims_on(vol, TODAY) == 1

    held = await referrals.held_by(vol)
    assert [r.id for r in held] == [world.referral.id]
    assert held[0].member_key == member
    assert await referrals.member_chat(held[0]) == MEMBER_ID
    assert await referrals.active_for_member(member) is not None
    assert await referrals.take_notices(world.referral.id) == [(coord, 501)]
    copies = await referrals.take_copies(world.referral.id)
    assert {c.staff_key for c in copies} == {vol, None}
    # The day's request counter still counts for the member.
    again = await referrals.open(
        names.member_key(OTHER_ID),
        topic="family",
        urgency="general",
        country=None,
        language="ug",
        chat_id=OTHER_ID,
        today=TODAY,
        notify_at=None,
        rate_key=names.rate_key(member, TODAY.isoformat()),
        daily_limit=1,
    )
    assert not isinstance(again, Referral), "the member's counter moved with them"

    # An invite link given out before the rotation still works, once.
    invite = await staff.redeem_invite(names.invite_hash(INVITE_CODE), now=1_700_000_000)
    assert invite is not None
    assert invite.created_by == coordinator.label

    content = SqliteContentRepository(db, names.content_key(), audit_key)
    version = await content.version(1)
    assert version.info.publisher == coordinator.label
    assert await content.draft(coord) is not None
    assert (await content.locale_switches())["ug"].changed_by == coordinator.label

    log = SqliteAuditLog(db, audit_key)
    report = await log.verify()
    assert report.intact
    entries = await log.entries()
    assert entries[-1].action.startswith("rekey:")
    text = " ".join(f"{e.actor} {e.action}" for e in entries)
    assert world.coordinator_label not in text
    assert world.volunteer_label not in text
    assert f"add-volunteer:{volunteer.label}" in text
    assert not (await SqliteAuditLog(db, Pseudonymizer(OLD).audit_key()).verify()).intact
    assert await rotation.pending(db) is None

    # Neither the old pseudonyms nor the old labels are left in the file.
    await db.checkpoint()
    old = Pseudonymizer(OLD)
    stored = _file_bytes(db.path)
    for user_id in (MEMBER_ID, OTHER_ID, COORD_ID, VOLUNTEER_ID):
        assert old.member_key(user_id) not in stored
    assert old.invite_hash(INVITE_CODE) not in stored
    assert world.volunteer_label.encode() not in stored
    assert world.coordinator_label.encode() not in stored
    removed = old.label(old.member_key(7_000_009))
    assert removed.encode() not in stored, "a removed account's label is replaced in the log"


async def test_the_switch_never_seals_a_row_edited_outside_the_bot(db: Database) -> None:
    world = await _populate(db)
    with sqlite3.connect(db.path) as raw:
        raw.execute("UPDATE staff SET role = 'coordinator' WHERE role = 'volunteer'")
        raw.execute("UPDATE audit_log SET action = 'claim' WHERE seq = 3")
    raw.close()
    switched = await _rotate(db)
    assert switched.failing_rows == 1
    assert switched.audit.broken_at == 3
    names = Pseudonymizer(NEW)
    staff = SqliteStaffRepository(db, FieldCipher(NEW), names.audit_key())
    assert await staff.get(names.member_key(VOLUNTEER_ID)) is None, "still no account"
    assert await staff.get(names.member_key(COORD_ID)) is not None
    report = await SqliteAuditLog(db, names.audit_key()).verify()
    assert report.first_broken == 3, "the log still shows where it was edited"
    assert world.referral.id


async def test_the_switch_refuses_a_database_of_another_generation(db: Database) -> None:
    await _populate(db)
    await rotation.begin(db, 2)
    with pytest.raises(KeyFileError, match="generation"):
        await rotation.switch(
            db, Pseudonymizer(NEW), Pseudonymizer(NEW), FieldCipher(NEW), today=TODAY
        )


async def test_a_second_rotation_chains_through_both_retired_peppers(db: Database) -> None:
    await _populate(db)
    await _rotate(db)
    both = add_key(NEW)
    third = RootKeys(
        keys={3: both.keys[3]},
        active=3,
        pseudonym_key_id=3,
        peppers=(*NEW.peppers, pepper_of(NEW.keys[2])),
    )
    await rotation.begin(db, 3)
    assert await rotation.start_reencrypting(db, bot_running=False)
    await rotation.reencrypt(db, FieldCipher(both))
    await rotation.switch(
        db, Pseudonymizer(NEW), Pseudonymizer(third), FieldCipher(third), today=TODAY
    )
    names = Pseudonymizer(third)
    assert len(third.peppers) == 2
    assert names.member_key(MEMBER_ID) == names.rechain(Pseudonymizer(NEW).member_key(MEMBER_ID))
    await verify_root_key(db, names)
    members = SqliteMemberRepository(db, FieldCipher(third))
    assert await members.load(names.member_key(MEMBER_ID)) == {"place": "asylum"}
    staff = SqliteStaffRepository(db, FieldCipher(third), names.audit_key())
    volunteer = await staff.get(names.member_key(VOLUNTEER_ID))
    assert volunteer is not None
    assert volunteer.languages == frozenset({"ug"})
    log = SqliteAuditLog(db, names.audit_key())
    assert (await log.verify()).intact
    assert [e.action.split(":")[0] for e in await log.entries()][-2:] == ["rekey", "rekey"]


async def test_fields_that_open_with_no_key_are_cleared_only_as_the_bot_would(
    db: Database,
) -> None:
    world = await _populate(db)
    with sqlite3.connect(db.path) as raw:
        for table, column in (
            ("members", "state"),
            ("referrals", "chat_ref"),
            ("relay_copies", "copies"),
            ("staff", "chat_ref"),
        ):
            raw.execute(
                f"UPDATE {table} SET {column} = CAST({column} || X'00' AS BLOB) WHERE rowid = 1"  # noqa: S608
            )
    raw.close()
    cipher = FieldCipher(BOTH)
    found = await rotation.unreadable(db, cipher)
    assert found.counts == {"members": 1, "referrals": 1, "relay_copies": 1, "staff": 1}
    assert found.accounts == [world.coordinator_label]
    left = await rotation.drop_unreadable(db, cipher)
    assert left.counts == {"staff": 1}, "an account is never changed behind anyone's back"
    members = SqliteMemberRepository(db, cipher)
    names = Pseudonymizer(OLD)
    states = [await members.load(names.member_key(i)) for i in (MEMBER_ID, OTHER_ID)]
    assert {} in states, "the unreadable state was reset"
    assert {"place": "menu"} in states or {"place": "asylum"} in states
    referrals = SqliteReferralRepository(db, cipher, names.audit_key())
    assert await referrals.member_chat(world.referral) is None
    assert await referrals.take_copies(world.referral.id) == []
