"""Referrals in SQLite: a member's consented request for a volunteer, and its life cycle.

A referral holds only codes (topic, urgency, country, language), days, its
status, the claiming volunteer's pseudonym and, while it is not closed, the
member's chat id encrypted and bound to the referral's row. Every change of
hands is written to the audit chain in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from storage.crypto import FieldCipher
from storage.deletable import sent_hour
from storage.errors import StorageError
from storage.integrity import REFERRALS, row_key
from storage.referrals import (
    CRISIS,
    URGENT,
    Escalated,
    Expired,
    Fixed,
    Held,
    Referral,
    Refused,
    Status,
    Withdrawn,
    new_referral_id,
)
from storage.relay_copies import REMOVE_FIXED_AFTER_HOURS, Copy
from storage.sqlite import audit, relay_copies
from storage.sqlite.conditions import (
    ACTIVE_STAFF_SQL,
    HELD_BY_SQL,
    HELD_SQL,
    LIVE_SQL,
    RELEASE_SET_SQL,
    UNDER_CAP_SQL,
    URGENT_SQL,
)
from storage.sqlite.database import Database
from storage.sqlite.integrity import SqliteRowSeal

_TABLE = "referrals"
_CHAT_COLUMN = "chat_ref"
# SET expressions all see the row as it was, so "not urgent" means before the change.
_STARTS_ROUNDS = f"status = 'open' AND NOT {URGENT_SQL}"
_ESCALATE_SQL = (
    "UPDATE referrals SET urgency = ?, country = COALESCE(?, country), "  # noqa: S608 -- literals of this module
    f"notify_count = CASE WHEN {_STARTS_ROUNDS} THEN 0 ELSE notify_count END, "
    f"notify_at = CASE WHEN {_STARTS_ROUNDS} THEN ? ELSE notify_at END WHERE id = ?"
)
_COLUMNS = (
    "id, member_key, topic, urgency, country, language, status, volunteer, outcome, "
    "created_day, notify_count"
)
_WIDTH = len(_COLUMNS.split(","))
_EXPIRES = "status = 'open' AND queued_day < ?"
"""An open referral nobody claimed since it (last) entered the queue before the day given."""
_STATUSES: tuple[Status, ...] = ("open", "claimed", "handover", "closed")
_SELECT = f"SELECT {_COLUMNS}, {REFERRALS.columns} FROM referrals"  # noqa: S608 -- literals
"""The referral, then the sealed fields and MAC that vouch for its holder."""


def _blob(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise StorageError("a referral's key column does not hold bytes")
    return bytes(value)


def _status(value: object) -> Status:
    for status in _STATUSES:
        if value == status:
            return status
    raise StorageError("a referral has an unknown status")


def _age(row: tuple[object, ...]) -> tuple[str, str]:
    """Oldest first: (created day, id) of a row selected with ``_COLUMNS`` first."""
    return (str(row[9]), str(row[0]))


def _referral(row: tuple[object, ...]) -> Referral:
    rid, key, topic, urgency, country, language, status, volunteer, outcome, day, count = row
    return Referral(
        str(rid),
        _blob(key),
        str(topic),
        str(urgency),
        None if country is None else str(country),
        str(language),
        _status(status),
        None if volunteer is None else _blob(volunteer),
        None if outcome is None else str(outcome),
        date.fromisoformat(str(day)),
        int(str(count)),
    )


async def _take_notices(
    connection: aiosqlite.Connection, referral_id: str
) -> list[tuple[bytes, int]]:
    async with connection.execute(
        "DELETE FROM referral_notices WHERE referral_id = ? RETURNING staff_key, message_id",
        (referral_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [(bytes(r[0]), int(r[1])) for r in rows]


class SqliteReferralRepository:
    def __init__(self, db: Database, cipher: FieldCipher, audit_key: bytes) -> None:
        self._db = db
        self._cipher = cipher
        self._audit_key = audit_key
        self._seal = SqliteRowSeal(row_key(audit_key))

    def _verified(self, row: aiosqlite.Row | tuple[object, ...]) -> Referral | None:
        """The referral, if its holder and status verify; a tampered one is treated as absent."""
        values = tuple(row)
        if not self._seal.valid(REFERRALS, values[0], values[_WIDTH:]):
            return None
        return _referral(values[:_WIDTH])

    async def _one(
        self, connection: aiosqlite.Connection, where: str, args: tuple[object, ...]
    ) -> Referral | None:
        async with connection.execute(
            f"{_SELECT} WHERE {where}",
            args,
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else self._verified(row)

    async def _many(self, where: str, args: tuple[object, ...]) -> list[Referral]:
        async with (
            self._db.snapshot() as connection,
            connection.execute(f"{_SELECT} WHERE {where}", args) as cur,
        ):
            rows = await cur.fetchall()
        return [referral for row in rows if (referral := self._verified(row)) is not None]

    async def open(
        self,
        member_key: bytes,
        *,
        topic: str,
        urgency: str,
        country: str | None,
        language: str,
        chat_id: int,
        today: date,
        notify_at: int | None,
        rate_key: bytes,
        daily_limit: int,
    ) -> Referral | Held | Escalated | Refused:
        """File a referral unless the member has one open or asked too often today.

        A crisis request (someone detained or stopped now) is never refused. If the
        member has a request open, that one is escalated to carry it: one open
        request per member still holds, so a flood cannot multiply requests. Past the
        daily limit it is filed anyway, but counted: the first one beyond the limit
        is announced at once, and any later one that day is :class:`Held` until
        ``notify_at``, the next round of re-announcements. So an account that
        cancels and re-files in a loop rings volunteers' phones no faster than one
        unclaimed urgent request already does, while a person who is really held,
        even after several tries that day, still reaches a volunteer.
        """
        crisis = urgency == CRISIS
        referral_id = new_referral_id()
        sealed = self._cipher.encrypt(
            str(chat_id).encode(), table=_TABLE, column=_CHAT_COLUMN, row=referral_id.encode()
        )
        day = today.isoformat()
        async with self._db.transaction() as connection:
            # Any such row counts, even one that fails its check: one per member.
            async with connection.execute(
                f"SELECT id FROM referrals WHERE member_key = ? AND {LIVE_SQL}",  # noqa: S608 -- literals
                (member_key,),
            ) as cur:
                found = await cur.fetchone()
            if found is not None:
                if not crisis:
                    return Refused("already_open")
                existing = await self._one(connection, "id = ?", (str(found[0]),))
                if existing is not None:
                    return await self._escalate(
                        connection, existing, country=country, today=today, notify_at=notify_at
                    )
                # Someone detained now is never refused, and a row edited outside
                # the bot cannot carry their request (its holder cannot be
                # trusted): it goes, as a withdrawal would take it, and the
                # crisis request is filed in its place.
                await connection.execute("DELETE FROM referrals WHERE id = ?", (str(found[0]),))
            async with connection.execute(
                "SELECT count FROM referral_requests WHERE rate_key = ?", (rate_key,)
            ) as cur:
                row = await cur.fetchone()
            filed_today = 0 if row is None else int(row[0])
            if filed_today >= daily_limit and not crisis:
                return Refused("daily_limit")
            held = crisis and filed_today > daily_limit
            await connection.execute(
                "INSERT INTO referral_requests (rate_key, day, count) VALUES (?, ?, 1) "
                "ON CONFLICT (rate_key) DO UPDATE SET count = referral_requests.count + 1",
                (rate_key, day),
            )
            await connection.execute(
                "INSERT INTO referrals (id, member_key, topic, urgency, country, language, status, "
                "chat_ref, created_day, queued_day, notify_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                (
                    referral_id,
                    member_key,
                    topic,
                    urgency,
                    country,
                    language,
                    sealed,
                    day,
                    day,
                    notify_at if urgency in URGENT else None,
                ),
            )
            await self._seal.reseal(connection, REFERRALS, referral_id)
            await audit.append(
                connection,
                self._audit_key,
                actor="member",
                action="request",
                referral=referral_id,
                today=today,
            )
            referral = await self._one(connection, "id = ?", (referral_id,))
        assert referral is not None
        return Held(referral) if held else referral

    async def _escalate(
        self,
        connection: aiosqlite.Connection,
        referral: Referral,
        *,
        country: str | None,
        today: date,
        notify_at: int | None,
    ) -> Escalated:
        """Mark an open request as a crisis, inside ``open``'s transaction.

        Its rounds of re-announcements start unless it was urgent already (or is
        held by a volunteer); the country the member gave now, where they are,
        replaces the one they gave before. Not counted against the daily limit: a
        request is escalated at most once, and filing it was counted.
        """
        if referral.urgency == CRISIS:
            return Escalated(referral, changed=False, notices=[])
        # Urgency and country are not sealed today; going through the seal keeps
        # the row verifying should either ever be.
        async with self._seal.changing(connection, REFERRALS, referral.id):
            await connection.execute(_ESCALATE_SQL, (CRISIS, country, notify_at, referral.id))
        notices = await _take_notices(connection, referral.id)
        await audit.append(
            connection,
            self._audit_key,
            actor="member",
            action="escalate",
            referral=referral.id,
            today=today,
        )
        escalated = await self._one(connection, "id = ?", (referral.id,))
        assert escalated is not None
        return Escalated(escalated, changed=True, notices=notices)

    async def get(self, referral_id: str) -> Referral | None:
        async with self._db.snapshot() as connection:
            return await self._one(connection, "id = ?", (referral_id,))

    async def active_for_member(self, member_key: bytes) -> Referral | None:
        async with self._db.snapshot() as connection:
            return await self._one(connection, f"member_key = ? AND {LIVE_SQL}", (member_key,))

    async def held_by(self, staff_key: bytes) -> list[Referral]:
        """The referrals a volunteer holds now, oldest first."""
        return await self._many(
            f"{HELD_BY_SQL} ORDER BY created_day, id",
            (staff_key,),
        )

    async def member_chat(self, referral: Referral) -> int | None:
        async with self._db.snapshot() as connection:
            return await self._chat(connection, referral.id)

    async def _chat(self, connection: aiosqlite.Connection, referral_id: str) -> int | None:
        async with connection.execute(
            "SELECT chat_ref FROM referrals WHERE id = ?", (referral_id,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else self._open_chat(referral_id, row[0])

    def _open_chat(self, referral_id: str, sealed: object) -> int | None:
        if sealed is None:
            return None
        plain = self._cipher.decrypt(
            _blob(sealed), table=_TABLE, column=_CHAT_COLUMN, row=referral_id.encode()
        )
        return int(plain.decode())

    async def held_counts(self) -> dict[bytes, int]:
        """How many referrals each account holds now (only those whose holder verifies)."""
        held = await self._many(HELD_SQL, ())
        counts: dict[bytes, int] = {}
        for referral in held:
            if referral.volunteer is not None:
                counts[referral.volunteer] = counts.get(referral.volunteer, 0) + 1
        return counts

    async def _transition(
        self,
        referral_id: str,
        *,
        set_sql: str,
        where_sql: str,
        args: tuple[object, ...],
        actor: str,
        action: str,
        today: date,
        then: tuple[str, tuple[object, ...]] | None = None,
        erasing: bool = False,
    ) -> Referral | None:
        """One guarded UPDATE: it changes the row only if ``where_sql`` still holds.

        ``then`` is one more statement run in the same transaction if it did;
        ``erasing`` when the change drops data that must leave the file.
        """
        async with self._db.transaction(erasing=erasing) as connection:
            # Only a row that verifies changes hands, and only as it verified (the
            # MAC in the WHERE): a tampered holder or status is never sealed as genuine.
            mac = await self._seal.check(connection, REFERRALS, referral_id)
            if mac is None:
                return None
            async with connection.execute(
                f"UPDATE referrals SET {set_sql} WHERE ({where_sql}) AND id = ? AND mac = ? "  # noqa: S608 -- fragments are literals of this module
                "RETURNING id",
                (*args, referral_id, mac),
            ) as cur:
                changed = await cur.fetchone()
            if changed is None:
                return None
            await self._seal.reseal(connection, REFERRALS, referral_id)
            if then is not None:
                await connection.execute(*then)
            await audit.append(
                connection,
                self._audit_key,
                actor=actor,
                action=action,
                referral=referral_id,
                today=today,
            )
            return await self._one(connection, "id = ?", (referral_id,))

    async def claim(
        self,
        referral_id: str,
        staff_key: bytes,
        *,
        actor: str,
        today: date,
        max_held: int | None = None,
    ) -> Referral | None:
        """The first claim wins: the UPDATE only matches while the referral is open.

        With ``max_held`` the claim also fails if the account already holds that
        many; a claim that lands is counted for the account's day.
        """
        cap_sql, cap_args = (
            ("", ()) if max_held is None else (f" AND {UNDER_CAP_SQL}", (staff_key, max_held))
        )
        claimed = await self._transition(
            referral_id,
            set_sql="status = 'claimed', volunteer = ?, notify_at = NULL",
            where_sql=f"status = 'open' AND {ACTIVE_STAFF_SQL}{cap_sql}",
            args=(staff_key, staff_key, *cap_args),
            actor=actor,
            action="claim",
            today=today,
            then=(
                "INSERT INTO staff_claims (staff_key, day, count) VALUES (?, ?, 1) "
                "ON CONFLICT (staff_key, day) DO UPDATE SET count = staff_claims.count + 1",
                (staff_key, today.isoformat()),
            ),
        )
        return claimed

    async def release(
        self, referral_id: str, staff_key: bytes, *, actor: str, today: date, next_round_at: int
    ) -> Referral | None:
        """Back to the queue; if urgent, its next re-announcement is due at ``next_round_at``."""
        return await self._transition(
            referral_id,
            set_sql=RELEASE_SET_SQL,
            where_sql=HELD_BY_SQL,
            args=(today.isoformat(), False, next_round_at, staff_key),
            actor=actor,
            action="release",
            today=today,
        )

    async def ask_handover(
        self, referral_id: str, staff_key: bytes, *, actor: str, today: date
    ) -> Referral | None:
        return await self._transition(
            referral_id,
            set_sql="status = 'handover'",
            where_sql="volunteer = ? AND status = 'claimed'",
            args=(staff_key,),
            actor=actor,
            action="ask-handover",
            today=today,
        )

    async def reassign(
        self,
        referral_id: str,
        new_volunteer: bytes,
        *,
        actor: str,
        today: date,
        max_held: int | None = None,
    ) -> Referral | None:
        cap_sql, cap_args = (
            ("", ()) if max_held is None else (f" AND {UNDER_CAP_SQL}", (new_volunteer, max_held))
        )
        return await self._transition(
            referral_id,
            set_sql="status = 'claimed', volunteer = ?",
            where_sql=f"status = 'handover' AND {ACTIVE_STAFF_SQL}{cap_sql}",
            args=(new_volunteer, new_volunteer, *cap_args),
            actor=actor,
            action="reassign",
            today=today,
        )

    async def close(
        self, referral_id: str, staff_key: bytes, outcome: str, *, actor: str, today: date
    ) -> Referral | None:
        """Close with an outcome code; the member's chat reference is dropped at once."""
        closed = await self._transition(
            referral_id,
            set_sql="status = 'closed', outcome = ?, chat_ref = NULL, notify_at = NULL, "
            "closed_day = ?",
            where_sql=HELD_BY_SQL,
            args=(outcome, today.isoformat(), staff_key),
            actor=actor,
            action=f"close:{outcome}",
            today=today,
            erasing=True,
        )
        return closed

    async def withdraw(self, member_key: bytes, *, today: date, action: str) -> Withdrawn | None:
        """The member cancels (or wipes): the referral is deleted, not kept.

        Returns it with the notices sent about it, for the caller to retire, and
        the copies of relayed words, for the caller to remove from both chats.
        """
        async with self._db.transaction(erasing=True) as connection:
            referral = await self._one(connection, f"member_key = ? AND {LIVE_SQL}", (member_key,))
            if referral is None:
                # One that fails its check goes too (erasing is always safe), but
                # nobody is told: its holder cannot be trusted.
                await connection.execute(
                    f"DELETE FROM referrals WHERE member_key = ? AND {LIVE_SQL}",  # noqa: S608 -- literals
                    (member_key,),
                )
                return None
            notices = await _take_notices(connection, referral.id)
            copies = await relay_copies.take(connection, self._cipher, referral.id)
            chat = await self._chat(connection, referral.id)
            await connection.execute("DELETE FROM referrals WHERE id = ?", (referral.id,))
            await audit.append(
                connection,
                self._audit_key,
                actor="member",
                action=action,
                referral=referral.id,
                today=today,
            )
        return Withdrawn(referral, notices, copies, chat)

    async def relayed(self, referral_id: str, *, actor: str, today: date) -> None:
        """Count a relayed message (``actor`` "member" or a volunteer's label) for today.

        The audit chain gets the day's counts once the day is over, not a row
        per message (see storage.audit).
        """
        async with self._db.transaction() as connection:
            await audit.count_relay(
                connection, referral=referral_id, from_member=actor == "member", today=today
            )

    # Notices ------------------------------------------------------------

    async def add_notice(self, referral_id: str, staff_key: bytes, message_id: int) -> bool:
        """Record a notice; False if the referral was claimed or gone meanwhile."""
        async with (
            self._db.transaction() as connection,
            connection.execute(
                # The account may have been removed meanwhile too: nothing is recorded
                # then, rather than the foreign key refusing the whole write.
                "INSERT INTO referral_notices (referral_id, staff_key, message_id) "
                "SELECT ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM referrals WHERE id = ? AND status = 'open') "
                "AND EXISTS (SELECT 1 FROM staff WHERE staff_key = ?) "
                "ON CONFLICT (referral_id, staff_key, message_id) DO NOTHING",
                (referral_id, staff_key, message_id, referral_id, staff_key),
            ) as cur,
        ):
            return cur.rowcount == 1

    async def take_notices(self, referral_id: str) -> list[tuple[bytes, int]]:
        """The notices sent for a referral, forgotten as they are returned."""
        async with self._db.transaction() as connection:
            return await _take_notices(connection, referral_id)

    # The bot's copies of relayed words -----------------------------------------

    async def remember_copies(self, referral_id: str, copies: list[Copy]) -> bool:
        """Keep where copies sit for the referral's life; False if it is gone or closed."""
        if not copies:
            return True
        async with self._db.transaction() as connection:
            return await relay_copies.add(connection, self._cipher, referral_id, copies)

    async def take_copies(self, referral_id: str) -> list[Copy]:
        """Every copy about the referral, forgotten as returned (to be removed now)."""
        async with self._db.transaction() as connection:
            return await relay_copies.take(connection, self._cipher, referral_id)

    async def take_fixed_copies(self, *, now: datetime) -> list[Fixed]:
        """Voice and video notes relayed long enough ago that Telegram soon forbids deleting them.

        No edit can blank them, so they are removed while deleting still works.
        """
        last_hour = sent_hour(now) - REMOVE_FIXED_AFTER_HOURS
        found: list[Fixed] = []
        async with self._db.snapshot() as connection:
            ids = await relay_copies.referral_ids(connection)
        for referral_id in ids:
            async with self._db.transaction() as connection:
                referral = await self._one(connection, "id = ?", (referral_id,))
                if referral is None:
                    continue
                taken = await relay_copies.take(
                    connection,
                    self._cipher,
                    referral_id,
                    lambda c: c.kind == "fixed" and c.sent_hour <= last_hour,
                )
                if taken:
                    found.append(Fixed(referral, await self._chat(connection, referral_id), taken))
        return found

    # Claims per account ------------------------------------------------------

    async def claims_on(self, staff_key: bytes, day: date) -> int:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT count FROM staff_claims WHERE staff_key = ? AND day = ?",
                (staff_key, day.isoformat()),
            ) as cur,
        ):
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def claims_since(self, day: date) -> dict[bytes, int]:
        """Claims per account from ``day`` on (days, never finer)."""
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT staff_key, SUM(count) FROM staff_claims WHERE day >= ? GROUP BY staff_key",
                (day.isoformat(),),
            ) as cur,
        ):
            return {bytes(row[0]): int(row[1]) for row in await cur.fetchall()}

    async def forget_claims(self, *, before: date) -> int:
        async with (
            self._db.transaction() as connection,
            connection.execute(
                "DELETE FROM staff_claims WHERE day < ?", (before.isoformat(),)
            ) as cur,
        ):
            return cur.rowcount

    # Scheduled work ------------------------------------------------------

    async def due_renotify(self, *, now: int) -> list[Referral]:
        return await self._many(
            "status = 'open' AND notify_at IS NOT NULL AND notify_at <= ? ORDER BY notify_at",
            (now,),
        )

    async def mark_notified(self, referral: Referral, *, now: int, next_at: int | None) -> bool:
        """Compare-and-set, so two workers never both re-notify the same round.

        ``next_at`` None ends the rounds.
        """
        async with (
            self._db.transaction() as connection,
            connection.execute(
                "UPDATE referrals SET notify_at = ?, notify_count = notify_count + 1 "
                "WHERE id = ? AND status = 'open' AND notify_count = ? AND notify_at <= ?",
                (next_at, referral.id, referral.notify_count, now),
            ) as cur,
        ):
            return cur.rowcount == 1

    async def expire_unclaimed(self, *, before: date, today: date) -> list[Expired]:
        """Delete open referrals queued before ``before``; return what is needed to tell people.

        One statement decides what expires, inside one write transaction, so a
        claim by another worker either lands first (and keeps its referral) or
        waits and finds it gone: no worker can expire what another just claimed,
        and two workers expiring at once each take different referrals. A row
        that fails its check expires too (erasing is always safe) but nobody is
        told: its member cannot be trusted.
        """
        stale = (before.isoformat(),)
        async with self._db.transaction(erasing=True) as connection:
            # Notices first: deleting a referral cascades to them.
            async with connection.execute(
                "DELETE FROM referral_notices WHERE referral_id IN "  # noqa: S608 -- literals
                f"(SELECT id FROM referrals WHERE {_EXPIRES}) "
                "RETURNING referral_id, staff_key, message_id",
                stale,
            ) as cur:
                notices: dict[str, list[tuple[bytes, int]]] = {}
                for row in await cur.fetchall():
                    notices.setdefault(str(row[0]), []).append((bytes(row[1]), int(row[2])))
            async with connection.execute(
                f"DELETE FROM referrals WHERE {_EXPIRES} "  # noqa: S608 -- literals
                f"RETURNING {_COLUMNS}, {REFERRALS.columns}, {_CHAT_COLUMN}",
                stale,
            ) as cur:
                gone = sorted((tuple(found) for found in await cur.fetchall()), key=_age)
            expired: list[Expired] = []
            for values in gone:
                referral_id = str(values[0])
                await audit.append(
                    connection,
                    self._audit_key,
                    actor="system",
                    action="expire",
                    referral=referral_id,
                    today=today,
                )
                referral = self._verified(values[:-1])
                if referral is not None:
                    chat = self._open_chat(referral_id, values[-1])
                    for_it = sorted(notices.get(referral_id, []))
                    expired.append(Expired(referral, chat, for_it))
        return expired

    async def purge_closed(self, *, before: date) -> int:
        async with (
            self._db.transaction(erasing=True) as connection,
            connection.execute(
                "DELETE FROM referrals WHERE status = 'closed' AND closed_day < ?",
                (before.isoformat(),),
            ) as cur,
        ):
            removed = cur.rowcount
        return removed

    async def forget_request_counts(self, *, before: date) -> int:
        async with (
            self._db.transaction(erasing=True) as connection,
            connection.execute(
                "DELETE FROM referral_requests WHERE day < ?", (before.isoformat(),)
            ) as cur,
        ):
            removed = cur.rowcount
        return removed

    async def count(self, status: Status | None = None) -> int:
        sql, args = (
            ("SELECT COUNT(*) FROM referrals", ())
            if status is None
            else ("SELECT COUNT(*) FROM referrals WHERE status = ?", (status,))
        )
        async with self._db.snapshot() as connection, connection.execute(sql, args) as cur:
            row = await cur.fetchone()
        if row is None:
            raise StorageError("COUNT returned nothing")
        return int(row[0])
