"""Notices in staff chats that announce several requests at once (urgent digests).

A digest is one message in one volunteer's or coordinator's chat that lists
several open requests, each with its Claim button; it is recorded as one
``referral_notices`` row per request, all with the same message id. These
queries find and take such shared messages, so that a digest is redrawn
rather than overwritten when one of its requests is taken, and retired as a
whole when a new round replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.sqlite.database import Database

_CHUNK = 500
"""Ids per statement, well under every backend's limit on bound parameters."""


class SqliteNoticeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take_with_companions(
        self, referral_ids: Sequence[str]
    ) -> list[tuple[str, bytes, int]]:
        """Forget the notices about these referrals and every notice sharing a message with one.

        Returns (referral id, staff key, message id) rows: the messages are the
        caller's to delete, and companions not among ``referral_ids`` to show anew.
        """
        taken: list[tuple[str, bytes, int]] = []
        async with self._db.transaction() as connection:
            for start in range(0, len(referral_ids), _CHUNK):
                chunk = list(referral_ids[start : start + _CHUNK])
                marks = ", ".join("?" for _ in chunk)
                async with connection.execute(
                    "DELETE FROM referral_notices WHERE (staff_key, message_id) IN "  # noqa: S608 -- only placeholders are interpolated
                    "(SELECT staff_key, message_id FROM referral_notices "
                    f"WHERE referral_id IN ({marks})) "
                    "RETURNING referral_id, staff_key, message_id",
                    chunk,
                ) as cursor:
                    rows = await cursor.fetchall()
                taken.extend((str(r[0]), bytes(r[1]), int(r[2])) for r in rows)
        return taken

    async def sharing(self, staff_key: bytes, message_id: int) -> list[str]:
        """The referrals a message in this account's chat still announces, oldest id first."""
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT referral_id FROM referral_notices WHERE staff_key = ? AND message_id = ? "
                "ORDER BY referral_id",
                (staff_key, message_id),
            ) as cursor,
        ):
            return [str(row[0]) for row in await cursor.fetchall()]
