"""Volunteers and coordinators in SQLite, and the invite codes that create them.

An account is keyed by the pseudonym of its Telegram id; coordinators see only
its short label. The chat id needed to send notices and relayed messages is
stored encrypted and bound to the account's row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import aiosqlite

from storage.crypto import FieldCipher
from storage.errors import StorageError
from storage.integrity import INVITES, REFERRALS, STAFF, TamperedRow, row_key
from storage.sqlite import audit
from storage.sqlite.conditions import (
    CLEAR_TARGET_SQL,
    HELD_BY_SQL,
    RELEASE_SET_SQL,
    SET_LANGUAGES_SQL,
)
from storage.sqlite.database import Database
from storage.sqlite.integrity import SqliteRowSeal
from storage.staff import Change, Invite, Role, StaffMember

_TABLE = "staff"
_CHAT_COLUMN = "chat_ref"


def _member(row: aiosqlite.Row | tuple[object, ...]) -> StaffMember:
    key, role, status, label, locale, languages, current = row
    assert isinstance(key, bytes)
    assert isinstance(languages, str)
    return StaffMember(
        key,
        "coordinator" if role == "coordinator" else "volunteer",
        status == "active",
        str(label),
        str(locale),
        frozenset(languages.split()),
        None if current is None else str(current),
    )


_COLUMNS = "staff_key, role, status, label, locale, languages, current_referral"
_SELECT = f"SELECT {_COLUMNS}, {STAFF.columns} FROM staff"  # noqa: S608 -- literals
"""The account, then the sealed fields and MAC that vouch for it."""
_WIDTH = len(_COLUMNS.split(","))


class SqliteStaffRepository:
    def __init__(self, db: Database, cipher: FieldCipher, audit_key: bytes) -> None:
        self._db = db
        self._cipher = cipher
        self._audit_key = audit_key
        self._seal = SqliteRowSeal(row_key(audit_key))

    def _verified(self, row: aiosqlite.Row | tuple[object, ...]) -> StaffMember | None:
        """The account, if its sealed fields verify; a tampered row is no account at all."""
        values = tuple(row)
        if not self._seal.valid(STAFF, values[0], values[_WIDTH:]):
            return None
        return _member(values[:_WIDTH])

    def _seal_chat(self, key: bytes, chat_id: int) -> bytes:
        return self._cipher.encrypt(
            str(chat_id).encode(), table=_TABLE, column=_CHAT_COLUMN, row=key
        )

    async def add(
        self,
        key: bytes,
        *,
        role: Role,
        label: str,
        locale: str,
        chat_id: int,
        actor: str,
        today: date,
    ) -> StaffMember:
        """Register (or re-register with a new role) an account; it starts active."""
        sealed = self._seal_chat(key, chat_id)
        async with self._db.transaction() as connection:
            # An account edited outside the bot keeps nothing it may have been
            # given that way: its languages start again from none.
            keep = await self._seal.check(connection, STAFF, key) is not None
            await connection.execute(
                "INSERT INTO staff (staff_key, role, status, label, locale, chat_ref, joined_day) "
                "VALUES (?, ?, 'active', ?, ?, ?, ?) ON CONFLICT (staff_key) DO UPDATE SET "
                "role = excluded.role, status = 'active', chat_ref = excluded.chat_ref, "
                "label = excluded.label, "
                "languages = CASE WHEN ? THEN staff.languages ELSE '' END",
                (key, role, label, locale, sealed, today.isoformat(), keep),
            )
            await self._seal.reseal(connection, STAFF, key)
            await audit.append(
                connection,
                self._audit_key,
                actor=actor,
                action=f"add-{role}:{label}",
                referral=None,
                today=today,
            )
        member = await self.get(key)
        assert member is not None
        return member

    async def get(self, key: bytes) -> StaffMember | None:
        return await self._one("staff_key = ?", key)

    async def by_label(self, label: str) -> StaffMember | None:
        return await self._one("label = ?", label)

    async def _one(self, where: str, value: object) -> StaffMember | None:
        async with (
            self._db.snapshot() as connection,
            connection.execute(f"{_SELECT} WHERE {where}", (value,)) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None else self._verified(row)

    async def everyone(self) -> list[StaffMember]:
        async with (
            self._db.snapshot() as connection,
            connection.execute(f"{_SELECT} ORDER BY role, label") as cur,
        ):
            rows = await cur.fetchall()
        return [member for row in rows if (member := self._verified(row)) is not None]

    async def to_notify(self, language: str) -> list[StaffMember]:
        """Active volunteers who handle ``language``, and every active coordinator."""
        return [
            member
            for member in await self.everyone()
            if member.active and (member.is_coordinator or language in member.languages)
        ]

    async def chat_id(self, member: StaffMember) -> int:
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT chat_ref FROM staff WHERE staff_key = ?", (member.key,)
            ) as cur,
        ):
            row = await cur.fetchone()
        if row is None:
            raise StorageError("no such account")
        plain = self._cipher.decrypt(
            bytes(row[0]), table=_TABLE, column=_CHAT_COLUMN, row=member.key
        )
        return int(plain.decode())

    async def set_languages(self, key: bytes, languages: Iterable[str]) -> None:
        async with (
            self._db.transaction() as connection,
            self._seal.changing(connection, STAFF, key),
        ):
            await connection.execute(
                SET_LANGUAGES_SQL,
                (" ".join(sorted(set(languages))), key),
            )

    async def set_current(self, key: bytes, referral_id: str | None) -> None:
        """Whom the account's messages go to: only ever set when they chose so in their chat."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE staff SET current_referral = ? WHERE staff_key = ?", (referral_id, key)
            )

    async def leave_target(self, key: bytes, keep: str) -> str | None:
        """Stop relaying the account's messages unless they go to ``keep``.

        Returns the referral they went to until now, if that changed, so the
        volunteer can be told before they write again.
        """
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT current_referral FROM staff WHERE staff_key = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            previous = None if row is None or row[0] is None else str(row[0])
            if previous is None or previous == keep:
                return None
            await connection.execute(CLEAR_TARGET_SQL, (key,))
        return previous

    async def drop_target(self, referral_id: str) -> list[bytes]:
        """Nobody's messages go to this referral any more (it changed hands or ended)."""
        async with (
            self._db.transaction() as connection,
            connection.execute(
                "UPDATE staff SET current_referral = NULL WHERE current_referral = ? "
                "RETURNING staff_key",
                (referral_id,),
            ) as cur,
        ):
            return [bytes(row[0]) for row in await cur.fetchall()]

    # Languages waiting for approval ---------------------------------------

    async def pending_languages(self, key: bytes) -> dict[str, bool]:
        """Languages the account asked for, each with whether coordinators were asked yet."""
        async with (
            self._db.snapshot() as connection,
            connection.execute(
                "SELECT language, asked FROM language_requests WHERE staff_key = ?", (key,)
            ) as cur,
        ):
            return {str(row[0]): bool(row[1]) for row in await cur.fetchall()}

    async def pending_by_account(self) -> dict[bytes, frozenset[str]]:
        async with (
            self._db.snapshot() as connection,
            connection.execute("SELECT staff_key, language FROM language_requests") as cur,
        ):
            rows = await cur.fetchall()
        found: dict[bytes, set[str]] = {}
        for row in rows:
            found.setdefault(bytes(row[0]), set()).add(str(row[1]))
        return {key: frozenset(languages) for key, languages in found.items()}

    async def toggle_requested_language(self, key: bytes, language: str) -> None:
        """A volunteer's tap on a language: drop it if held or asked for, else ask for it.

        Dropping needs nobody's approval; adding waits for a coordinator's.
        The row is verified first and sealed again, so it still counts as staff.
        """
        async with (
            self._db.transaction() as connection,
            self._seal.changing(connection, STAFF, key),
        ):
            async with connection.execute(
                "SELECT languages FROM staff WHERE staff_key = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return
            held = set(str(row[0]).split())
            async with connection.execute(
                "DELETE FROM language_requests WHERE staff_key = ? AND language = ? RETURNING 1",
                (key, language),
            ) as cur:
                withdrawn = await cur.fetchone() is not None
            if language in held:
                await connection.execute(
                    SET_LANGUAGES_SQL,
                    (" ".join(sorted(held - {language})), key),
                )
            elif not withdrawn:
                await connection.execute(
                    "INSERT INTO language_requests (staff_key, language, asked) VALUES (?, ?, 0) "
                    "ON CONFLICT (staff_key, language) DO NOTHING",
                    (key, language),
                )

    async def ask_for_languages(self, key: bytes, *, actor: str, today: date) -> list[str]:
        """Done choosing: the languages the coordinators must now be asked about."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "UPDATE language_requests SET asked = 1 WHERE staff_key = ? AND asked = 0 "
                "RETURNING language",
                (key,),
            ) as cur:
                asked = sorted(str(row[0]) for row in await cur.fetchall())
            for language in asked:
                await audit.append(
                    connection,
                    self._audit_key,
                    actor=actor,
                    action=f"ask-language:{language}",
                    referral=None,
                    today=today,
                )
        return asked

    async def decide_language(
        self, key: bytes, language: str, approve: bool, *, actor: str, today: date
    ) -> bool:
        """A coordinator approves or refuses; False if it is no longer waiting for a decision.

        The volunteer's row is verified first and sealed again with the
        language, so an approved volunteer still counts as staff.
        """
        async with (
            self._db.transaction() as connection,
            self._seal.changing(connection, STAFF, key),
        ):
            async with connection.execute(
                "DELETE FROM language_requests WHERE staff_key = ? AND language = ? AND asked = 1 "
                "RETURNING 1",
                (key, language),
            ) as cur:
                if await cur.fetchone() is None:
                    return False
            async with connection.execute(
                "SELECT label, languages FROM staff WHERE staff_key = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            if approve:
                languages = set(str(row[1]).split()) | {language}
                await connection.execute(
                    SET_LANGUAGES_SQL,
                    (" ".join(sorted(languages)), key),
                )
            verb = "approve" if approve else "refuse"
            await audit.append(
                connection,
                self._audit_key,
                actor=actor,
                action=f"{verb}-language:{row[0]}:{language}",
                referral=None,
                today=today,
            )
        return True

    async def set_active(
        self,
        key: bytes,
        active: bool,
        *,
        actor: str,
        today: date,
        next_round_at: int = 0,
        announce_all: bool = False,
    ) -> Change:
        """Suspend or reinstate; a suspension returns the account's referrals to the queue.

        Returned urgent referrals are due for their next announcement at
        ``next_round_at``; with ``announce_all`` (when no bot is at hand to
        announce them, as in the admin CLI) every returned referral is.
        """
        return await self._change(
            key,
            actor=actor,
            today=today,
            remove=False,
            active=active,
            next_round_at=next_round_at,
            announce_all=announce_all,
        )

    async def remove(
        self,
        key: bytes,
        *,
        actor: str,
        today: date,
        next_round_at: int = 0,
        announce_all: bool = False,
    ) -> Change:
        """Delete the account at once; its referrals go back to the queue."""
        return await self._change(
            key,
            actor=actor,
            today=today,
            remove=True,
            active=False,
            next_round_at=next_round_at,
            announce_all=announce_all,
        )

    async def _change(
        self,
        key: bytes,
        *,
        actor: str,
        today: date,
        remove: bool,
        active: bool,
        next_round_at: int,
        announce_all: bool,
    ) -> Change:
        # A removal drops the account's label and chat: they must leave the file too.
        async with self._db.transaction(erasing=remove) as connection:
            async with connection.execute(
                "SELECT label FROM staff WHERE staff_key = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return Change([], [])
            if not remove and await self._seal.check(connection, STAFF, key) is None:
                # Removing a tampered row is always safe; re-sealing one is not.
                raise TamperedRow("a staff row was edited outside the bot")
            label = str(row[0])
            returned: list[str] = []
            notices: list[int] = []
            if not active:
                async with connection.execute(
                    f"SELECT id, {REFERRALS.columns} FROM referrals WHERE {HELD_BY_SQL}",  # noqa: S608 -- literals
                    (key,),
                ) as cur:
                    held = [tuple(r) for r in await cur.fetchall()]
                for referral_id, *sealed_row in held:
                    # A request moved to this account outside the bot stays where it
                    # is (and unheld): returning it would seal the edit as genuine.
                    if not self._seal.valid(REFERRALS, referral_id, sealed_row):
                        continue
                    async with connection.execute(
                        f"UPDATE referrals SET {RELEASE_SET_SQL} "  # noqa: S608 -- literals
                        f"WHERE id = ? AND {HELD_BY_SQL} RETURNING id",
                        (today.isoformat(), announce_all, next_round_at, referral_id, key),
                    ) as cur:
                        if await cur.fetchone() is not None:
                            returned.append(str(referral_id))
                            await self._seal.reseal(connection, REFERRALS, referral_id)
                await connection.execute(CLEAR_TARGET_SQL, (key,))
            if remove:
                async with connection.execute(
                    "SELECT message_id FROM referral_notices WHERE staff_key = ?", (key,)
                ) as cur:
                    notices = [int(r[0]) for r in await cur.fetchall()]
                await connection.execute("DELETE FROM staff WHERE staff_key = ?", (key,))
                action = f"remove:{label}"
            else:
                await connection.execute(
                    "UPDATE staff SET status = ? WHERE staff_key = ?",
                    ("active" if active else "suspended", key),
                )
                await self._seal.reseal(connection, STAFF, key)
                action = f"{'reinstate' if active else 'suspend'}:{label}"
            await audit.append(
                connection, self._audit_key, actor=actor, action=action, referral=None, today=today
            )
            for referral_id in returned:
                await audit.append(
                    connection,
                    self._audit_key,
                    actor=actor,
                    action="return",
                    referral=referral_id,
                    today=today,
                )
        return Change(returned, notices)

    # Invites --------------------------------------------------------------

    async def add_invite(
        self, code_hash: bytes, role: Role, *, created_by: str, expires_at: int, today: date
    ) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO invites (code_hash, role, created_by, expires_at) VALUES (?, ?, ?, ?)",
                (code_hash, role, created_by, expires_at),
            )
            await self._seal.reseal(connection, INVITES, code_hash)
            await audit.append(
                connection,
                self._audit_key,
                actor=created_by,
                action=f"invite-{role}",
                referral=None,
                today=today,
            )

    async def redeem_invite(self, code_hash: bytes, *, now: int) -> Invite | None:
        """Use an invite once: the row is deleted whether or not it had expired."""
        async with (
            self._db.transaction() as connection,
            connection.execute(
                f"DELETE FROM invites WHERE code_hash = ? RETURNING {INVITES.columns}",  # noqa: S608 -- literals
                (code_hash,),
            ) as cur,
        ):
            row = await cur.fetchone()
        # An invite edited outside the bot (a volunteer's made a coordinator's) is no invite.
        if row is None or not self._seal.valid(INVITES, code_hash, tuple(row)):
            return None
        if int(row[2]) <= now:
            return None
        role: Role = "coordinator" if row[0] == "coordinator" else "volunteer"
        return Invite(role, str(row[1]))

    async def drop_expired_invites(self, *, now: int) -> int:
        async with (
            self._db.transaction() as connection,
            connection.execute("DELETE FROM invites WHERE expires_at <= ?", (now,)) as cur,
        ):
            return cur.rowcount
