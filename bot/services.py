"""The dependencies handlers need, opened once at start-up and closed at shutdown.

The composition root: handlers see storage only through the ports of
:mod:`storage.ports`; this module is where the SQLite adapter is chosen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.content import Content
from bot.installation import Purpose, announce_new_database, load_keys, prepare
from bot.members import Clock, Members
from bot.rate_limits import Limits
from bot.settings import Settings
from storage.crypto import FieldCipher, Pseudonymizer
from storage.integrity import RowSeal, row_key
from storage.keys import RootKeys
from storage.ports import (
    AuditLog,
    ContentRepository,
    NoticeRepository,
    ReferralRepository,
    StaffRepository,
)
from storage.sqlite import rotation
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.content import SqliteContentRepository
from storage.sqlite.database import Database
from storage.sqlite.integrity import count_failing
from storage.sqlite.key_check import verify_root_key
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.notices import SqliteNoticeRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    content: Content
    members: Members
    database: Database
    clock: Clock
    settings: Settings
    pseudonymizer: Pseudonymizer
    staff: StaffRepository
    referrals: ReferralRepository
    audit: AuditLog
    limits: Limits
    """In-memory limiters: floods, relays, newcomers (per process)."""
    notices: NoticeRepository
    cipher: FieldCipher
    """Shared by every repository: a rotation's new key is taken on here (see bot/key_follow.py)."""

    async def close(self) -> None:
        await self.database.close()


@dataclass(frozen=True)
class Storage:
    """The database with the keys checked against it: what every entry point opens first."""

    database: Database
    pseudonymizer: Pseudonymizer
    cipher: FieldCipher
    keys: RootKeys


async def open_storage(settings: Settings, purpose: Purpose = Purpose.ADMIN) -> Storage:
    """Open the database with its key checked; create either only as ``purpose`` allows."""
    preparation = prepare(settings, purpose)
    keys = load_keys(settings, preparation)
    if preparation.create_database and purpose is not Purpose.SCRATCH:
        announce_new_database(settings)
    database = await Database.open(settings.database_file)
    pseudonymizer = Pseudonymizer(keys)
    try:
        await verify_root_key(database, pseudonymizer)
        # Fields may be under a rotation's new key already: refuse keys without it.
        await rotation.require_target(database, frozenset(keys.keys))
    except BaseException:
        await database.close()
        raise
    return Storage(database, pseudonymizer, FieldCipher(keys), keys)


def content_repository(storage: Storage) -> ContentRepository:
    pseudonymizer = storage.pseudonymizer
    return SqliteContentRepository(
        storage.database, pseudonymizer.content_key(), pseudonymizer.audit_key()
    )


async def open_content(settings: Settings, storage: Storage) -> Content:
    """The shipped files (which must pass), then the newest good published version."""
    content = Content(
        settings.flows_dir,
        settings.locales_dir,
        settings.text_values,
        content_repository(storage),
    )
    await content.load_published()
    return content


async def open_services(
    settings: Settings, clock: Clock, purpose: Purpose = Purpose.BOT
) -> Services:
    storage = await open_storage(settings, purpose)
    database, pseudonymizer, cipher = storage.database, storage.pseudonymizer, storage.cipher
    try:
        if purpose is Purpose.BOT:
            # A rotation waits until the running bot holds its new key.
            await rotation.note_bot_keys(database, cipher.key_ids)
        content = await open_content(settings, storage)
    except BaseException:
        await database.close()
        raise
    seal = RowSeal(row_key(pseudonymizer.audit_key()))
    for table, count in (await count_failing(database, seal)).items():
        # Loud at every start: such rows give no authority until someone looks.
        log.error(
            "%d row(s) of %s fail their integrity check and are ignored: edited outside "
            "the bot, or from before rows were sealed (python -m bot admin seal-rows)",
            count,
            table,
        )
    members = Members(SqliteMemberRepository(database, cipher), pseudonymizer, clock)
    return Services(
        content,
        members,
        database,
        clock,
        settings,
        pseudonymizer,
        SqliteStaffRepository(database, cipher, pseudonymizer.audit_key()),
        SqliteReferralRepository(database, cipher, pseudonymizer.audit_key()),
        SqliteAuditLog(database, pseudonymizer.audit_key()),
        Limits.build(
            burst=settings.flood_burst,
            per_minute=settings.flood_per_minute,
            new_members_per_hour=settings.new_members_per_hour,
        ),
        SqliteNoticeRepository(database),
        cipher,
    )
