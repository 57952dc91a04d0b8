"""The dependencies handlers need, opened once at start-up and closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.content import Content
from bot.members import Clock, Members
from bot.settings import Settings
from storage.audit import AuditLog
from storage.content import SqliteContentRepository
from storage.crypto import FieldCipher, Pseudonymizer
from storage.database import Database
from storage.errors import KeyFileError
from storage.key_check import verify_root_key
from storage.keys import RootKeys, generate_root_key_file, load_root_keys
from storage.members import MemberRepository
from storage.referrals import ReferralRepository
from storage.staff import StaffRepository

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

    async def close(self) -> None:
        await self.database.close()


def root_keys(settings: Settings) -> RootKeys:
    """Load the root keys; generate a key file only for a brand-new installation.

    A missing key beside an existing database means a mount or a secret did
    not arrive; a fresh key would silently make every stored state unreadable.
    """
    if settings.root_key or settings.key_file.exists():
        keys = load_root_keys(path=settings.key_file, env_value=settings.root_key)
    elif settings.database_file.exists():
        raise KeyFileError(
            f"root key file {settings.key_file} is missing but {settings.database_file} exists: "
            "restore the key (or set ROOT_KEY) instead of starting without it"
        )
    else:
        keys = generate_root_key_file(settings.key_file)
        log.warning(
            "Generated a new root key at %s. Back it up offline now: without it the stored "
            "data cannot be read.",
            settings.key_file,
        )
    if not settings.root_key and settings.key_file.resolve().is_relative_to(
        settings.data_dir.resolve()
    ):
        log.warning(
            "The root key lies beside the data in %s: whoever takes the disk can read "
            "everything. In production keep it elsewhere (ROOT_KEY from a secret store, "
            "or ROOT_KEY_FILE on tmpfs).",
            settings.data_dir,
        )
    return keys


@dataclass(frozen=True)
class Storage:
    """The database with the keys checked against it: what every entry point opens first."""

    database: Database
    pseudonymizer: Pseudonymizer
    cipher: FieldCipher


async def open_storage(settings: Settings) -> Storage:
    keys = root_keys(settings)
    database = await Database.open(settings.database_file)
    pseudonymizer = Pseudonymizer(keys)
    try:
        await verify_root_key(database, pseudonymizer)
    except BaseException:
        await database.close()
        raise
    return Storage(database, pseudonymizer, FieldCipher(keys))


def content_repository(storage: Storage) -> SqliteContentRepository:
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


async def open_services(settings: Settings, clock: Clock) -> Services:
    storage = await open_storage(settings)
    database, pseudonymizer, cipher = storage.database, storage.pseudonymizer, storage.cipher
    try:
        content = await open_content(settings, storage)
    except BaseException:
        await database.close()
        raise
    members = Members(MemberRepository(database, cipher), pseudonymizer, clock)
    return Services(
        content,
        members,
        database,
        clock,
        settings,
        pseudonymizer,
        StaffRepository(database, cipher, pseudonymizer.audit_key()),
        ReferralRepository(database, cipher, pseudonymizer.audit_key()),
        AuditLog(database, pseudonymizer.audit_key()),
    )
