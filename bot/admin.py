"""``python -m bot admin``: server-side commands for whoever runs the bot.

The first coordinator cannot be invited by anyone, so it is created here from
its Telegram user id (which a person can read from their own account with any
"user info" bot, or from the server operator's own records). The id is turned
into a pseudonym at once and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services import open_storage
from bot.settings import Settings
from flows.registry import LOCALES
from storage.audit import AuditLog, AuditReport
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
