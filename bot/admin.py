"""``python -m bot admin``: server-side commands for whoever runs the bot.

The first coordinator cannot be invited by anyone, so it is created here from
its Telegram user id (which a person can read from their own account with any
"user info" bot, or from the server operator's own records). The id is turned
into a pseudonym at once and never stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.errors import BotError
from bot.installation import (
    InstallationError,
    Purpose,
    check_data_dir,
    database_present,
    exclusive_lock,
    prepare,
)
from bot.services import open_storage
from bot.settings import Settings
from flows.registry import LOCALES
from storage.audit import AuditReport
from storage.crypto import Pseudonymizer
from storage.integrity import STAFF, RowSeal, Unsealed, row_key
from storage.keys import load_root_keys, shred_key_file, write_root_key_file
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.backup import (
    BackupError,
    BackupInfo,
    backup_database,
    belongs_to,
    inspect_backup,
    restore_database,
)
from storage.sqlite.database import Database, packaged_migrations
from storage.sqlite.integrity import count_failing, seal_unsealed, unsealed_rows
from storage.sqlite.key_check import verify_root_key
from storage.sqlite.staff import SqliteStaffRepository


class AdminError(BotError):
    """An admin command cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class Added:
    label: str


async def add_coordinator(
    settings: Settings, telegram_user_id: int, locale: str, today: date
) -> Added:
    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
    storage = await open_storage(settings)
    pseudonymizer = storage.pseudonymizer
    try:
        key = pseudonymizer.member_key(telegram_user_id)
        staff = SqliteStaffRepository(storage.database, storage.cipher, pseudonymizer.audit_key())
        existing = await staff.get(key)
        if existing is not None:
            # Re-adding would silently reactivate a suspended account or change a role.
            state = "active" if existing.active else "suspended"
            raise AdminError(
                f"that account already exists as {existing.label} ({existing.role}, {state}): "
                f"to lift a suspension use 'python -m bot admin reinstate {existing.label}'"
            )
        member = await staff.add(
            key,
            role="coordinator",
            label=pseudonymizer.label(key),
            locale=locale,
            # In a private chat the chat id is the user's id.
            chat_id=telegram_user_id,
            actor="admin",
            today=today,
        )
    finally:
        await storage.database.close()
    return Added(member.label)


async def verify_audit(settings: Settings) -> AuditReport:
    storage = await open_storage(settings)
    try:
        return await SqliteAuditLog(storage.database, storage.pseudonymizer.audit_key()).verify()
    finally:
        await storage.database.close()


@dataclass(frozen=True)
class Managed:
    label: str
    returned: int


async def manage(settings: Settings, label: str, action: str, today: date) -> Managed | None:
    """Suspend, reinstate or remove any account by label; None if there is no such label.

    Coordinators cannot do this to each other in the bot, so that one stolen
    coordinator invite cannot lock the others out; the server's operator can.
    Returned requests are announced by the running bot within a minute.
    """
    storage = await open_storage(settings)
    try:
        staff = SqliteStaffRepository(
            storage.database, storage.cipher, storage.pseudonymizer.audit_key()
        )
        # Labels are shown in lower case; an operator may type them otherwise.
        member = await staff.by_label(label.strip().lower())
        if member is None:
            return None
        if action == "reinstate" and member.active:
            raise AdminError(f"{member.label} is not suspended; nothing to reinstate")
        if action == "suspend" and not member.active:
            raise AdminError(f"{member.label} is already suspended")
        if action == "remove":
            change = await staff.remove(member.key, actor="admin", today=today, announce_all=True)
        else:
            change = await staff.set_active(
                member.key, action == "reinstate", actor="admin", today=today, announce_all=True
            )
    finally:
        await storage.database.close()
    return Managed(member.label, len(change.returned))


async def roster(settings: Settings) -> list[str]:
    """One line per account: label, role, state, languages. No ids or names exist to show."""
    storage = await open_storage(settings)
    try:
        staff = SqliteStaffRepository(
            storage.database, storage.cipher, storage.pseudonymizer.audit_key()
        )
        everyone = await staff.everyone()
    finally:
        await storage.database.close()
    return [
        f"{m.label}  {m.role:<11}  {'active' if m.active else 'suspended':<9}  "
        f"{' '.join(sorted(m.languages)) or '-'}"
        for m in everyone
    ]


async def failing_accounts(settings: Settings) -> int:
    """Account rows that fail their integrity check: ``list`` leaves them out, and says so."""
    storage = await open_storage(settings)
    try:
        seal = RowSeal(row_key(storage.pseudonymizer.audit_key()))
        return (await count_failing(storage.database, seal)).get(STAFF.table, 0)
    finally:
        await storage.database.close()


def _describe(row: Unsealed, label: Callable[[bytes], str]) -> str:
    """A line an operator can check: labels and codes, never a key."""
    values = row.values
    if row.table == "staff":
        languages = str(values["languages"] or "-")
        return f"account {values['label']}  {values['role']}  {values['status']}  {languages}"
    if row.table == "referrals":
        holder = values["volunteer"]
        held = label(holder) if isinstance(holder, bytes) else "-"
        return f"request #{row.row_id}  {values['status']}  {values['language']}  held by {held}"
    return f"invite  {values['role']}  from {values['created_by']}"


async def seal_rows(settings: Settings, *, confirm: bool) -> tuple[list[str], int]:
    """Rows without a MAC (a database from before sealing); sealed only with ``confirm``.

    The operator reads the list first: sealing vouches for every line of it,
    so a role or a holder that looks wrong must be fixed (removed) instead.
    """
    storage = await open_storage(settings)
    try:
        rows = await unsealed_rows(storage.database)
        lines = [_describe(row, storage.pseudonymizer.label) for row in rows]
        done = 0
        if confirm and rows:
            seal = RowSeal(row_key(storage.pseudonymizer.audit_key()))
            done = await seal_unsealed(storage.database, seal, rows)
    finally:
        await storage.database.close()
    return lines, done


# Backups --------------------------------------------------------------------


async def backup(settings: Settings, target: Path) -> BackupInfo:
    """Copy the database to ``target`` while the bot may run; the key is checked first."""
    storage = await open_storage(settings)
    await storage.database.close()
    try:
        return await asyncio.to_thread(backup_database, settings.database_file, target)
    except BackupError as error:
        raise AdminError(str(error)) from None


async def restore(settings: Settings, source: Path, *, replace: bool) -> BackupInfo:
    """Put the backup ``source`` in place of the database, if it belongs to the key at hand."""
    check_data_dir(settings)
    try:
        info = inspect_backup(source)
    except BackupError as error:
        raise AdminError(str(error)) from None
    if info.pepper_check is None:
        raise AdminError(f"{source} is not a Yardem backup (no key check in it)")
    newest = len(packaged_migrations())
    if info.schema_version > newest:
        raise AdminError(
            f"{source} comes from a newer Yardem (schema {info.schema_version} > {newest}): "
            "restore it with that release"
        )
    try:
        preparation = prepare(settings, Purpose.INIT)
    except InstallationError as error:
        raise AdminError(str(error)) from None
    if preparation.generate_key:
        raise AdminError(
            f"no root key at ROOT_KEY_FILE={settings.key_file} (nor ROOT_KEY): a backup can "
            "only be read with the key it was made with; put that key in place first"
        )
    keys = load_root_keys(path=settings.key_file, env_value=settings.root_key)
    if not belongs_to(info, Pseudonymizer(keys).check_value()):
        raise AdminError(
            f"{source} does not belong to this root key: it was made with another key, "
            "so nothing in it could be read; nothing was changed"
        )
    with exclusive_lock(settings):
        if database_present(settings) and not replace:
            raise AdminError(
                f"DATA_DIR={settings.data_dir} already holds a database: add --replace to "
                "overwrite it (take a backup of it first if you may want it back)"
            )
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        await asyncio.to_thread(restore_database, source, settings.database_file)
        # Open it as the bot will: migrations applied, the key checked once more.
        storage = await open_storage(settings)
        await storage.database.close()
    return info


# The key's place ----------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    source: Path
    destination: Path
    is_default: bool


async def move_key(settings: Settings, destination: Path | None) -> Moved:
    """Move the root key file out of ``DATA_DIR`` (or anywhere else), checked against the data.

    The copy is written and read back before the original is overwritten and
    deleted, so an interruption leaves at least one good key file.
    """
    check_data_dir(settings)
    if not database_present(settings):
        raise AdminError(
            f"no database in DATA_DIR={settings.data_dir} to check the key against: "
            "check DATA_DIR before moving the key"
        )
    if settings.root_key is not None:
        raise AdminError("the root key comes from ROOT_KEY, not from a file: nothing to move")
    if settings.config_dir is None and destination is None:
        raise AdminError("there is no home directory for the default key place: name DEST")
    default = settings.config_dir / "root.key" if settings.config_dir is not None else None
    if settings.root_key_file is not None:
        source = settings.root_key_file
    elif default is not None and default.exists():
        source = default
    else:
        source = settings.legacy_key_file
    target = destination or default
    assert target is not None
    if not source.exists():
        raise AdminError(f"no root key file at {source} to move")
    if target.exists() or target.is_symlink():
        raise AdminError(f"{target} already exists; refusing to overwrite a key file")
    if target.resolve().is_relative_to(settings.data_dir.resolve()):
        raise AdminError(f"{target} lies inside DATA_DIR={settings.data_dir}: choose another place")
    keys = load_root_keys(path=source, env_value=None)
    database = await Database.open(settings.database_file)
    try:
        await verify_root_key(database, Pseudonymizer(keys))
    finally:
        await database.close()
    write_root_key_file(target, keys)
    if load_root_keys(path=target, env_value=None) != keys:
        raise AdminError(f"the copy at {target} does not read back the same; {source} was kept")
    shred_key_file(source)
    return Moved(source, target, is_default=target == default)
