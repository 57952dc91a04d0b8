"""Members' session state and the message ids the bot may still delete for them.

A member is known only by their pseudonym (32 bytes from
:class:`storage.crypto.Pseudonymizer`); their state is one encrypted JSON
object bound to that pseudonym. Dates are kept at day granularity and message
times at hour granularity, so the database records as little activity as the
features need.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from storage.crypto import FieldCipher
from storage.deletable import oldest_deletable_hour, sent_hour
from storage.errors import ConstraintViolation, StorageError
from storage.sqlite.conditions import LIVE_SQL
from storage.sqlite.database import Database

_TABLE = "members"
_STATE_COLUMN = "state"
_MEMBER_KEY_BYTES = 32


def _check_member_key(member_key: bytes) -> bytes:
    # A wrong-sized key is most likely a raw Telegram id passed by mistake:
    # refuse it rather than store an identifier in the clear.
    if not isinstance(member_key, bytes) or len(member_key) != _MEMBER_KEY_BYTES:
        raise ValueError("member_key must be a 32-byte pseudonym")
    return member_key


def _day(value: date) -> str:
    # datetime is a date subclass whose isoformat() would store the time of day.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError("a date (not a datetime) is required: only days are stored")
    return value.isoformat()


class SqliteMemberRepository:
    """Encrypted member state and deletable message ids, keyed by pseudonym."""

    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def load(self, member_key: bytes) -> dict[str, Any] | None:
        """The member's state, or None if there is none.

        Raises DecryptionError if the stored state does not open.
        """
        _check_member_key(member_key)
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT state FROM members WHERE member_key = ?", (member_key,)
            ) as cursor,
        ):
            row = await cursor.fetchone()
        if row is None:
            return None
        plaintext = self._cipher.decrypt(row[0], table=_TABLE, column=_STATE_COLUMN, row=member_key)
        try:
            state = json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise StorageError("stored member state is not valid JSON") from None
        if not isinstance(state, dict):
            raise StorageError("stored member state is not a JSON object")
        return state

    async def save(self, member_key: bytes, state: Mapping[str, Any], *, today: date) -> None:
        """Store ``state`` for the member, replacing any earlier state."""
        _check_member_key(member_key)
        plaintext = json.dumps(
            dict(state),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        ).encode("utf-8")
        blob = self._cipher.encrypt(plaintext, table=_TABLE, column=_STATE_COLUMN, row=member_key)
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?) "
                "ON CONFLICT (member_key) DO UPDATE "
                "SET state = excluded.state, updated_day = excluded.updated_day",
                (member_key, blob, _day(today)),
            )

    async def erase(self, member_key: bytes) -> None:
        """Delete everything stored about the member and push it out of the WAL."""
        _check_member_key(member_key)
        async with self._db.transaction(erasing=True) as connection:
            await connection.execute(
                "DELETE FROM chat_messages WHERE member_key = ?", (member_key,)
            )
            await connection.execute("DELETE FROM members WHERE member_key = ?", (member_key,))

    async def remember_messages(
        self, member_key: bytes, message_ids: Iterable[int], *, now: datetime
    ) -> None:
        """Record message ids sent in the member's chat, so /wipe can delete them.

        The member must have been saved first; otherwise StorageError is raised
        rather than losing the ids silently.
        """
        _check_member_key(member_key)
        hour = sent_hour(now)
        rows: list[tuple[bytes, int, int]] = []
        for message_id in message_ids:
            if isinstance(message_id, bool) or not isinstance(message_id, int):
                raise TypeError("message ids must be ints")
            rows.append((member_key, message_id, hour))
        if not rows:
            return
        try:
            async with self._db.transaction() as connection:
                await connection.executemany(
                    "INSERT INTO chat_messages (member_key, message_id, sent_hour) "
                    "VALUES (?, ?, ?) ON CONFLICT (member_key, message_id) DO NOTHING",
                    rows,
                )
        except ConstraintViolation:
            raise StorageError(
                "cannot remember messages for a member that is not saved; save the member first"
            ) from None

    async def deletable_messages(self, member_key: bytes, *, now: datetime) -> list[int]:
        """Ids of the member's messages that Telegram still lets the bot delete, ascending."""
        _check_member_key(member_key)
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT message_id FROM chat_messages "
                "WHERE member_key = ? AND sent_hour >= ? ORDER BY message_id",
                (member_key, oldest_deletable_hour(now)),
            ) as cursor,
        ):
            rows = await cursor.fetchall()
        return [int(row[0]) for row in rows]

    async def forget_old_messages(self, *, now: datetime) -> int:
        """Drop ids too old to delete in Telegram: keeping them would only record activity."""
        async with (
            self._db.transaction(erasing=True) as connection,
            connection.execute(
                "DELETE FROM chat_messages WHERE sent_hour < ?", (oldest_deletable_hour(now),)
            ) as cursor,
        ):
            removed = cursor.rowcount
        return removed

    async def purge_idle(self, *, before: date) -> int:
        """Erase members last updated before ``before``; returns how many.

        A member whose request for a volunteer is still open is not idle: the
        relay does not touch their state, and erasing them would end the
        conversation without a word to either side.
        """
        day = _day(before)
        idle = (
            "SELECT member_key FROM members WHERE updated_day < ? AND member_key NOT IN "  # noqa: S608 -- literals
            f"(SELECT member_key FROM referrals WHERE {LIVE_SQL})"
        )
        async with self._db.transaction(erasing=True) as connection:
            await connection.execute(
                f"DELETE FROM chat_messages WHERE member_key IN ({idle})",  # noqa: S608 -- literal
                (day,),
            )
            async with connection.execute(
                f"DELETE FROM members WHERE member_key IN ({idle})",  # noqa: S608 -- literal
                (day,),
            ) as cursor:
                removed = cursor.rowcount
        return removed

    async def count(self) -> int:
        """How many members have stored state."""
        async with (
            self._db.snapshot() as connection,
            connection.execute("SELECT COUNT(*) FROM members") as cursor,
        ):
            row = await cursor.fetchone()
        return 0 if row is None else int(row[0])
