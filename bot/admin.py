"""``python -m bot admin``: server-side commands for whoever runs the bot.

The first coordinator cannot be invited by anyone, so it is created here from
its Telegram user id (which a person can read from their own account with any
"user info" bot, or from the server operator's own records). The id is turned
into a pseudonym at once and never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.services import open_storage
from bot.settings import Settings
from flows.registry import LOCALES
from storage.audit import AuditLog, AuditReport
from storage.integrity import RowSeal, Unsealed, row_key, seal_unsealed, unsealed_rows
from storage.staff import StaffRepository


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
        member = await StaffRepository(
            storage.database, storage.cipher, pseudonymizer.audit_key()
        ).add(
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
        return await AuditLog(storage.database, storage.pseudonymizer.audit_key()).verify()
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
        staff = StaffRepository(storage.database, storage.cipher, storage.pseudonymizer.audit_key())
        member = await staff.by_label(label)
        if member is None:
            return None
        if action == "remove":
            change = await staff.remove(member.key, actor="admin", today=today, announce_all=True)
        else:
            change = await staff.set_active(
                member.key, action == "reinstate", actor="admin", today=today, announce_all=True
            )
    finally:
        await storage.database.close()
    return Managed(label, len(change.returned))


async def roster(settings: Settings) -> list[str]:
    """One line per account: label, role, state, languages. No ids or names exist to show."""
    storage = await open_storage(settings)
    try:
        staff = StaffRepository(storage.database, storage.cipher, storage.pseudonymizer.audit_key())
        everyone = await staff.everyone()
    finally:
        await storage.database.close()
    return [
        f"{m.label}  {m.role:<11}  {'active' if m.active else 'suspended':<9}  "
        f"{' '.join(sorted(m.languages)) or '-'}"
        for m in everyone
    ]


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
