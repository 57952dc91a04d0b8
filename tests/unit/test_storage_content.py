"""Published content versions, drafts and language switches on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from datetime import date
from pathlib import Path

import pytest

from storage.content import pack_files, unpack_files
from storage.content_records import (
    BrokenVersion,
    ContentFiles,
    Draft,
    LocaleSwitch,
    VersionInfo,
)
from storage.crypto import Pseudonymizer
from storage.errors import ContentIntegrityError, UnknownVersion, VersionConflict
from storage.keys import RootKeys
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.content import SqliteContentRepository
from storage.sqlite.database import Database
from storage.sqlite.staff import SqliteStaffRepository
from tests.unit.storage_samples import AUDIT_KEY, CIPHER, PSEUDONYMS

OTHER = Pseudonymizer(RootKeys(keys={1: b"\x0c" * 32}, active=1, pseudonym_key_id=1))
TODAY = date(2024, 6, 3)
COORDINATOR = PSEUDONYMS.member_key(3_000_001)
SECOND = PSEUDONYMS.member_key(3_000_002)
SUMMARY = {"texts": {"en": {"changed": ["main.menu"]}}, "layout_changed": False}


def files(marker: str = "one") -> ContentFiles:
    return ContentFiles(
        {"main.yaml": f"id: main\n# {marker}\n", "info.yaml": "id: info\n"},
        {"ug": f'msgid ""\nmsgstr ""\n# {marker} ئۇيغۇرچە\n', "zh_Hans": "# 简体\n"},
        "# template\n",
    )


def repository(db: Database, pseudonyms: Pseudonymizer = PSEUDONYMS) -> SqliteContentRepository:
    return SqliteContentRepository(db, pseudonyms.content_key(), pseudonyms.audit_key())


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared fresh database, with two coordinators to publish."""
    staff = SqliteStaffRepository(db, CIPHER, AUDIT_KEY)
    for key, chat in ((COORDINATOR, 1), (SECOND, 2)):
        await staff.add(
            key,
            role="coordinator",
            label=PSEUDONYMS.label(key),
            locale="en",
            chat_id=chat,
            actor="admin",
            today=TODAY,
        )
    return db


@pytest.fixture
def content(db: Database) -> SqliteContentRepository:
    return repository(db)


async def publish(
    content: SqliteContentRepository, after: int, marker: str = "one", base: int | None = None
) -> VersionInfo:
    return await content.publish(
        files(marker),
        after=after,
        base=after if base is None else base,
        publisher="c0ffee00",
        day=TODAY,
        summary=SUMMARY,
    )


# Versions --------------------------------------------------------------------


async def test_versions_are_numbered_from_one_and_read_back_whole(
    content: SqliteContentRepository,
) -> None:
    assert await content.newest_number() == 0
    first = await publish(content, 0)
    second = await publish(content, 1, "two")
    assert (first.number, second.number) == (1, 2)
    assert await content.newest_number() == 2
    stored = await content.version(2)
    assert stored.files == files("two")
    assert stored.info == VersionInfo(2, 1, "c0ffee00", TODAY, SUMMARY)
    assert (await content.version(1)).files == files("one")
    with pytest.raises(UnknownVersion):
        await content.version(3)


async def test_a_publish_on_a_stale_number_fails_and_stores_nothing(
    content: SqliteContentRepository,
) -> None:
    await publish(content, 0)
    with pytest.raises(VersionConflict) as raised:
        await publish(content, 0, "late")
    assert (raised.value.expected, raised.value.newest) == (0, 1)
    assert await content.newest_number() == 1
    assert (await content.version(1)).files == files("one")


async def test_concurrent_publishes_from_two_processes_never_overwrite(
    db: Database, db_path: Path
) -> None:
    """Two connections, as two workers would have: each publish gets its own number or fails."""
    other = await Database.open(db_path)
    try:
        repositories = [repository(db), repository(other)]
        outcomes: list[int | str] = []

        async def writer(index: int) -> None:
            repo = repositories[index % 2]
            for _ in range(20):
                newest = await repo.newest_number()
                try:
                    info = await publish(repo, newest, f"writer {index}")
                except VersionConflict:
                    outcomes.append("conflict")
                    continue
                outcomes.append(info.number)

        await asyncio.gather(*(writer(index) for index in range(4)))
    finally:
        await other.close()
    numbers = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert sorted(numbers) == list(range(1, len(numbers) + 1)), "dense, each number once"
    assert len(outcomes) == 80
    assert await repository(db).newest_number() == len(numbers)
    for number in numbers:
        await repository(db).version(number)  # every stored row verifies


async def test_two_publishes_on_the_same_number_one_wins(db: Database, db_path: Path) -> None:
    other = await Database.open(db_path)
    try:
        results = await asyncio.gather(
            publish(repository(db), 0, "a"),
            publish(repository(other), 0, "b"),
            return_exceptions=True,
        )
    finally:
        await other.close()
    won = [result for result in results if isinstance(result, VersionInfo)]
    lost = [result for result in results if isinstance(result, VersionConflict)]
    assert len(won) == 1
    assert len(lost) == 1
    stored = await repository(db).version(1)
    assert stored.files == files("a" if won[0] is results[0] else "b")


async def test_rollback_is_a_new_version_with_the_old_files(
    content: SqliteContentRepository,
) -> None:
    await publish(content, 0, "good")
    await publish(content, 1, "bad")
    old = await content.version(1)
    rolled = await content.publish(
        old.files, after=2, base=1, publisher="c0ffee00", day=TODAY, summary=SUMMARY
    )
    assert rolled.number == 3
    assert rolled.base == 1
    assert (await content.version(3)).files == files("good")
    assert (await content.version(2)).files == files("bad"), "history is never rewritten"
    history = await content.history()
    assert [entry.number for entry in history] == [3, 2, 1]


async def test_each_publish_is_audited(db: Database, content: SqliteContentRepository) -> None:
    await publish(content, 0)
    entries = await SqliteAuditLog(db, PSEUDONYMS.audit_key()).entries()
    assert [(e.actor, e.action) for e in entries][-1] == ("c0ffee00", "content-publish:1")
    assert (await SqliteAuditLog(db, PSEUDONYMS.audit_key()).verify()).intact


async def test_only_days_are_stored(content: SqliteContentRepository) -> None:
    from datetime import UTC, datetime

    with pytest.raises(TypeError):
        await content.publish(
            files(),
            after=0,
            base=0,
            publisher="x",
            day=datetime.now(UTC),
            summary={},
        )


def test_file_names_must_be_safe_paths() -> None:
    for name in ("../main.yaml", "main.yml", "sub/main.yaml", "Main.yaml", ".yaml"):
        with pytest.raises(ValueError, match="not allowed"):
            ContentFiles({name: "id: x\n"}, {})
    for locale in ("../ug", "ug/LC_MESSAGES", "", "UG"):
        with pytest.raises(ValueError, match="not allowed"):
            ContentFiles({}, {locale: ""})


def test_a_blob_that_inflates_past_the_cap_is_refused() -> None:
    bomb = zlib.compress(b"{" + b" " * (40 * 1024 * 1024) + b"}", 9)
    with pytest.raises(ValueError, match="too much"):
        unpack_files(bomb)
    assert unpack_files(pack_files(files())) == files()


# Tampering ---------------------------------------------------------------------


def tamper(db_path: Path, sql: str, *params: object) -> None:
    """Edit the database file directly, as someone holding the disk could."""
    with sqlite3.connect(db_path) as raw:
        raw.execute(sql, params)


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        pytest.param("UPDATE content_versions SET publisher = 'mole'", (), id="publisher"),
        pytest.param("UPDATE content_versions SET day = '2020-01-01'", (), id="day"),
        pytest.param("UPDATE content_versions SET summary = '{}'", (), id="summary"),
        pytest.param("UPDATE content_versions SET base = 0", (), id="base"),
        pytest.param(
            "UPDATE content_versions SET files = ?",
            (pack_files(files("evil")),),
            id="files",
        ),
        pytest.param(
            "UPDATE content_versions SET files = ?, files_digest = ?",
            (pack_files(files("evil")), bytes(32)),
            id="files-and-digest",
        ),
        pytest.param("UPDATE content_versions SET mac = zeroblob(32)", (), id="mac"),
    ],
)
async def test_an_edited_version_is_refused(
    db_path: Path, content: SqliteContentRepository, sql: str, params: tuple[object, ...]
) -> None:
    await publish(content, 0)
    await publish(content, 1, "two")
    tamper(db_path, sql + " WHERE number = 2", *params)
    with pytest.raises(ContentIntegrityError) as raised:
        await content.version(2)
    assert raised.value.number == 2
    assert "evil" not in str(raised.value)
    assert (await content.version(1)).files == files("one"), "the others still serve"


async def test_swapping_two_versions_numbers_is_refused(
    db_path: Path, content: SqliteContentRepository
) -> None:
    await publish(content, 0, "old")
    await publish(content, 1, "new")
    tamper(db_path, "UPDATE content_versions SET number = number + 10")
    tamper(db_path, "UPDATE content_versions SET number = 1 WHERE number = 12")
    tamper(db_path, "UPDATE content_versions SET number = 2 WHERE number = 11")
    for number in (1, 2):
        with pytest.raises(ContentIntegrityError):
            await content.version(number)


async def test_a_version_written_under_another_root_key_is_refused(
    db: Database, content: SqliteContentRepository
) -> None:
    await repository(db, OTHER).publish(
        files("forged"), after=0, base=0, publisher="x", day=TODAY, summary={}
    )
    with pytest.raises(ContentIntegrityError):
        await content.version(1)


async def test_history_marks_a_broken_version_and_lists_the_rest(
    db_path: Path, content: SqliteContentRepository
) -> None:
    for after in range(3):
        await publish(content, after, f"v{after + 1}")
    tamper(db_path, "UPDATE content_versions SET publisher = 'mole' WHERE number = 2")
    history = await content.history()
    assert [type(entry) for entry in history] == [VersionInfo, BrokenVersion, VersionInfo]
    assert history[1].number == 2
    assert "mole" not in str(history[1])
    assert len(await content.history(limit=2)) == 2


# Drafts ----------------------------------------------------------------------


async def test_each_coordinator_has_one_draft_that_survives_reopening(
    db: Database, db_path: Path, content: SqliteContentRepository
) -> None:
    assert await content.draft(COORDINATOR) is None
    await content.save_draft(Draft(COORDINATOR, 0, files("first"), TODAY))
    await content.save_draft(Draft(COORDINATOR, 1, files("second"), TODAY))
    await content.save_draft(Draft(SECOND, 0, files("theirs"), TODAY))
    await db.close()
    reopened = await Database.open(db_path)
    try:
        again = repository(reopened)
        mine = await again.draft(COORDINATOR)
        assert mine == Draft(COORDINATOR, 1, files("second"), TODAY)
        theirs = await again.draft(SECOND)
        assert theirs is not None
        assert theirs.files == files("theirs")
        await again.discard_draft(COORDINATOR)
        assert await again.draft(COORDINATOR) is None
        assert await again.draft(SECOND) is not None
    finally:
        await reopened.close()


async def test_a_draft_goes_with_its_coordinator(
    content: SqliteContentRepository, staff: SqliteStaffRepository
) -> None:
    await content.save_draft(Draft(COORDINATOR, 0, files(), TODAY))
    await staff.remove(COORDINATOR, actor="admin", today=TODAY, announce_all=True)
    assert await content.draft(COORDINATOR) is None


async def test_an_edited_or_moved_draft_is_refused(
    db_path: Path, content: SqliteContentRepository
) -> None:
    await content.save_draft(Draft(COORDINATOR, 0, files("mine"), TODAY))
    await content.save_draft(Draft(SECOND, 0, files("theirs"), TODAY))
    # Another coordinator's draft copied over mine, MAC and all, does not open as mine.
    tamper(
        db_path,
        "UPDATE content_drafts SET files = (SELECT files FROM content_drafts WHERE owner_key = ?),"
        " files_digest = (SELECT files_digest FROM content_drafts WHERE owner_key = ?),"
        " mac = (SELECT mac FROM content_drafts WHERE owner_key = ?) WHERE owner_key = ?",
        SECOND,
        SECOND,
        SECOND,
        COORDINATOR,
    )
    with pytest.raises(ContentIntegrityError):
        await content.draft(COORDINATOR)
    tamper(db_path, "UPDATE content_drafts SET base = 5 WHERE owner_key = ?", SECOND)
    with pytest.raises(ContentIntegrityError):
        await content.draft(SECOND)


async def test_a_draft_needs_a_pseudonym_not_an_id(content: SqliteContentRepository) -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        await content.save_draft(Draft(b"12345678", 0, files(), TODAY))


# Languages -------------------------------------------------------------------


async def test_languages_are_switched_and_audited(
    db: Database, content: SqliteContentRepository
) -> None:
    assert dict(await content.locale_switches()) == {}
    await content.switch_locale(LocaleSwitch("tr", True, "c0ffee00", TODAY))
    await content.switch_locale(LocaleSwitch("ug", False, "c0ffee00", TODAY))
    await content.switch_locale(LocaleSwitch("ug", True, "beef0000", TODAY))
    switches = await content.locale_switches()
    assert switches == {
        "tr": LocaleSwitch("tr", True, "c0ffee00", TODAY),
        "ug": LocaleSwitch("ug", True, "beef0000", TODAY),
    }
    actions = [e.action for e in await SqliteAuditLog(db, PSEUDONYMS.audit_key()).entries()]
    assert actions[-3:] == ["content-locale-on:tr", "content-locale-off:ug", "content-locale-on:ug"]
    with pytest.raises(ValueError, match="locale"):
        await content.switch_locale(LocaleSwitch("../x", True, "c0ffee00", TODAY))


async def test_an_edited_language_switch_is_refused(
    db_path: Path, content: SqliteContentRepository
) -> None:
    await content.switch_locale(LocaleSwitch("ug", True, "c0ffee00", TODAY))
    tamper(db_path, "UPDATE content_locales SET enabled = 0")
    with pytest.raises(ContentIntegrityError):
        await content.locale_switches()
