"""Root key rotation in the database, in two steps.

1. **Re-encryption**, while the bot runs: every encrypted field not yet under
   the new (active) key is opened and sealed again under it, in small
   transactions keyed by the row, so members wait milliseconds at most. A run
   that is killed loses nothing (each batch commits whole or not at all) and
   the next run skips the rows already done. Nothing is written under the new
   key before every process that reads the database holds it: the
   ``key_rotation`` row records the target key and whether the running bot has
   it, and once re-encryption has begun a process without it refuses to start.

2. **The switch**, with the bot stopped, in one transaction: everything
   derived from the pseudonym pepper moves to the new key's pepper. Stored
   pseudonyms cannot be recomputed (the Telegram ids are not stored), so each
   is chained: new = HMAC(new pepper, old), which is what the bot computes from
   an id through the chain of peppers (see :class:`storage.crypto.Pseudonymizer`).
   Every table holding a pseudonym, an invite hash or a rate key is re-keyed;
   fields bound to a pseudonym are encrypted again for their new row; accounts
   get new labels (an old label could be recomputed from an id with the old
   key); row MACs, content MACs and the audit chain are re-signed under the
   new keys, each only if it verified under the old ones, so an edit made
   outside the bot is never laundered into a valid row.

The caller (``python -m bot admin rotate-key``) keeps the key file in step:
see ``bot/key_rotation.py``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import aiosqlite

from storage.audit import Rechained
from storage.crypto import FieldCipher, Pseudonymizer
from storage.errors import DecryptionError, KeyFileError, StorageError
from storage.integrity import INVITES, REFERRALS, STAFF, RowSeal, Sealed, row_key
from storage.sqlite import audit, content, relay_copies
from storage.sqlite.database import Database
from storage.sqlite.integrity import SqliteRowSeal


@dataclass(frozen=True)
class EncryptedField:
    """A column of FieldCipher blobs, bound to (table, column, row)."""

    table: str
    column: str
    key_column: str
    text_key: bool
    """The row part of the associated data is the key's UTF-8 (TEXT keys) or its bytes."""

    def row(self, key: object) -> bytes:
        return str(key).encode() if self.text_key else bytes(key)  # type: ignore[call-overload]


ENCRYPTED = (
    EncryptedField("members", "state", "member_key", text_key=False),
    EncryptedField("staff", "chat_ref", "staff_key", text_key=False),
    EncryptedField("referrals", "chat_ref", "id", text_key=True),
    EncryptedField("relay_copies", "copies", "referral_id", text_key=True),
)
"""Every encrypted column. tests/unit/test_storage_rotation.py checks that every BLOB
column of the schema is listed here or in :data:`OTHER_BLOBS`."""

PSEUDONYMS = (
    ("members", "member_key"),
    ("chat_messages", "member_key"),
    ("staff", "staff_key"),
    ("referrals", "member_key"),
    ("referrals", "volunteer"),
    ("referral_notices", "staff_key"),
    ("language_requests", "staff_key"),
    ("staff_claims", "staff_key"),
    ("content_drafts", "owner_key"),
    ("invites", "code_hash"),
    ("referral_requests", "rate_key"),
)
"""Columns holding a value derived from the pepper and a person: all re-keyed by :func:`switch`."""

OTHER_BLOBS = (
    ("key_check", "pepper_check"),
    ("staff", "mac"),
    ("referrals", "mac"),
    ("invites", "mac"),
    ("audit_log", "prev_hash"),
    ("audit_log", "hash"),
    ("audit_head", "hash"),
    ("content_versions", "files"),
    ("content_versions", "files_digest"),
    ("content_versions", "mac"),
    ("content_drafts", "files"),
    ("content_drafts", "files_digest"),
    ("content_drafts", "mac"),
    ("content_locales", "mac"),
)
"""MACs, hashes and public content: re-signed by :func:`switch` where keyed, else untouched."""


# The rotation row --------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    target: int
    phase: str
    """``added`` (nothing under the target yet) or ``reencrypting``."""
    bot_ready: bool


async def pending(db: Database) -> Rotation | None:
    async with (
        db.snapshot() as connection,
        connection.execute(
            "SELECT target, phase, bot_ready FROM key_rotation WHERE id = 1"
        ) as cursor,
    ):
        row = await cursor.fetchone()
    return None if row is None else Rotation(int(row[0]), str(row[1]), bool(row[2]))


async def begin(db: Database, target: int) -> None:
    """Record that root key ``target`` was added; no field uses it yet."""
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO key_rotation (id, target, phase, bot_ready) VALUES (1, ?, 'added', 0) "
            "ON CONFLICT (id) DO UPDATE SET target = excluded.target, phase = 'added', "
            "bot_ready = 0",
            (target,),
        )


def _missing(target: int) -> KeyFileError:
    return KeyFileError(
        f"this database is being re-encrypted under root key {target}, which these root keys "
        "lack: use the key file (or ROOT_KEY value) that 'python -m bot admin rotate-key' wrote"
    )


async def require_target(db: Database, key_ids: frozenset[int]) -> None:
    """Refuse keys that lack the key fields may already be encrypted under."""
    found = await pending(db)
    if found is not None and found.phase == "reencrypting" and found.target not in key_ids:
        raise _missing(found.target)


async def note_bot_keys(db: Database, key_ids: frozenset[int]) -> Rotation | None:
    """The running bot says which keys it holds (at start, and after taking a new one).

    Once re-encryption has begun, a bot without the target key must not run:
    it could not read what the rotation wrote. Before that it may, and the
    rotation waits until a bot holds the key.
    """
    async with db.transaction() as connection:
        async with connection.execute(
            "SELECT target, phase FROM key_rotation WHERE id = 1"
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        target, phase = int(row[0]), str(row[1])
        if phase == "reencrypting" and target not in key_ids:
            raise _missing(target)
        ready = target in key_ids
        await connection.execute("UPDATE key_rotation SET bot_ready = ? WHERE id = 1", (ready,))
    return Rotation(target, phase, ready)


async def start_reencrypting(db: Database, *, bot_running: bool) -> bool:
    """Begin writing under the target key: only once the running bot holds it (or none runs)."""
    async with (
        db.transaction() as connection,
        connection.execute(
            "UPDATE key_rotation SET phase = 'reencrypting' WHERE id = 1 "
            "AND (phase = 'reencrypting' OR bot_ready = 1 OR ?) RETURNING 1",
            (not bot_running,),
        ) as cursor,
    ):
        return await cursor.fetchone() is not None


# Re-encryption ----------------------------------------------------------------


@dataclass
class Reencrypted:
    done: dict[str, int] = field(default_factory=dict)
    """Fields sealed again under the active key, per table."""
    current: dict[str, int] = field(default_factory=dict)
    """Fields that were under it already (a resumed run skips them)."""
    unreadable: dict[str, int] = field(default_factory=dict)
    """Fields that open with none of the keys (edited outside the bot): left as they are."""


Report = Callable[[str, int, int], None]
"""Called after each committed batch with the table, fields re-encrypted so far, and rows seen."""


def _under(cipher: FieldCipher, blob: bytes) -> int | None:
    try:
        return cipher.key_id_of(bytes(blob))
    except DecryptionError:
        return None


async def reencrypt(
    db: Database,
    cipher: FieldCipher,
    *,
    batch: int = 200,
    pause: float = 0.0,
    report: Report | None = None,
) -> Reencrypted:
    """Seal every encrypted field again under the active key, ``batch`` rows a transaction.

    ``pause`` seconds between transactions leave the write lock free for the
    running bot: a writer that found it taken sleeps and retries (SQLite's busy
    handler), and back-to-back batches would keep finding it taken.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    result = Reencrypted()
    active = cipher.active
    for place in ENCRYPTED:
        done = current = unreadable = seen = 0
        last: object = None
        while True:
            after = "" if last is None else f"AND {place.key_column} > ? "
            async with db.transaction() as connection:
                async with connection.execute(
                    f"SELECT {place.key_column}, {place.column} FROM {place.table} "  # noqa: S608 -- names are literals of this module
                    f"WHERE {place.column} IS NOT NULL {after}"
                    f"ORDER BY {place.key_column} LIMIT ?",
                    (batch,) if last is None else (last, batch),
                ) as cursor:
                    rows = [tuple(row) for row in await cursor.fetchall()]
                if not rows:
                    break
                for key, blob in rows:
                    if _under(cipher, blob) == active:
                        current += 1
                        continue
                    where = {"table": place.table, "column": place.column, "row": place.row(key)}
                    try:
                        fresh = cipher.reencrypt(bytes(blob), **where)  # type: ignore[arg-type]
                    except DecryptionError:
                        unreadable += 1
                        continue
                    # Compare-and-set: a write by the bot since the read wins.
                    await connection.execute(
                        f"UPDATE {place.table} SET {place.column} = ? "  # noqa: S608 -- literals
                        f"WHERE {place.key_column} = ? AND {place.column} = ?",
                        (fresh, key, blob),
                    )
                    done += 1
            seen += len(rows)
            last = rows[-1][0]
            if report is not None:
                report(place.table, done, seen)
            if pause:
                await asyncio.sleep(pause)
        result.done[place.table] = done
        result.current[place.table] = current
        result.unreadable[place.table] = unreadable
    return result


async def outdated(db: Database, cipher: FieldCipher) -> dict[str, dict[int | None, int]]:
    """Fields not under the active key, per table and key id (None: no valid header)."""
    found: dict[str, dict[int | None, int]] = {}
    async with db.snapshot() as connection:
        for place in ENCRYPTED:
            async with connection.execute(
                f"SELECT {place.column} FROM {place.table} "  # noqa: S608 -- literals
                f"WHERE {place.column} IS NOT NULL"
            ) as cursor:
                for (blob,) in await cursor.fetchall():
                    key_id = _under(cipher, blob)
                    if key_id != cipher.active:
                        per_key = found.setdefault(place.table, {})
                        per_key[key_id] = per_key.get(key_id, 0) + 1
    return found


# The switch -----------------------------------------------------------------------

_LABEL = re.compile(r"^[0-9a-f]{8}$")
_LABEL_ACTIONS = frozenset(
    {
        "add-volunteer",
        "add-coordinator",
        "remove",
        "suspend",
        "reinstate",
        "approve-language",
        "refuse-language",
    }
)
"""Audit actions whose first argument is an account's label (see storage/staff.py)."""


class _Labels:
    """Old label -> new label: accounts get theirs, labels of removed accounts a random one."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def __call__(self, label: str) -> str:
        if label in self.known:
            return self.known[label]
        if not _LABEL.fullmatch(label):
            return label  # "admin", "member", "system"
        fresh = secrets.token_hex(4)
        self.known[label] = fresh
        return fresh

    def entry(self, actor: str, action: str) -> tuple[str, str]:
        verb, sep, rest = action.partition(":")
        if sep and verb in _LABEL_ACTIONS:
            who, more, tail = rest.partition(":")
            action = f"{verb}:{self(who)}{more}{tail}"
        return self(actor), action


@dataclass(frozen=True)
class Switched:
    members: int
    accounts: int
    invites: int
    failing_rows: int
    """Sealed rows that failed their MAC before and still do (never re-sealed)."""
    content_signed: int
    content_failing: int
    audit: Rechained


def _b(value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise StorageError(f"a {type(value).__name__} where bytes were stored")
    return bytes(value)


async def _rows(
    connection: aiosqlite.Connection, sql: str, args: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    async with connection.execute(sql, args) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


async def _verified(
    connection: aiosqlite.Connection, seal: RowSeal, sealed: Sealed
) -> tuple[set[object], int]:
    """Keys of the rows that verify under ``seal``, and how many do not."""
    rows = await _rows(
        connection,
        f"SELECT {sealed.key_column}, {sealed.columns} FROM {sealed.table}",  # noqa: S608 -- literals
    )
    good = {row[0] for row in rows if seal.valid(sealed, row[0], row[1:])}
    return good, len(rows) - len(good)


async def switch(
    db: Database,
    old: Pseudonymizer,
    new: Pseudonymizer,
    cipher: FieldCipher,
    *,
    today: date,
) -> Switched:
    """Move everything derived from ``old``'s pepper to ``new``'s, in one transaction.

    ``cipher`` must open every field (the re-encryption step put them all under
    its active key) and seals them again under it. Run with the bot stopped.
    """
    old_seal = RowSeal(row_key(old.audit_key()))
    new_seal = SqliteRowSeal(row_key(new.audit_key()))
    labels = _Labels()
    # The old pseudonyms and labels are deleted: erasing pushes them out of the WAL too.
    async with db.transaction(erasing=True) as connection:
        stored = await _rows(connection, "SELECT pepper_check FROM key_check WHERE id = 1")
        if not stored or _b(stored[0][0]) != old.check_value():
            raise KeyFileError("the database is not at the key generation being replaced")
        # Which sealed rows are genuine, judged before anything changes.
        good_staff, bad_staff = await _verified(connection, old_seal, STAFF)
        good_referrals, bad_referrals = await _verified(connection, old_seal, REFERRALS)
        good_invites, bad_invites = await _verified(connection, old_seal, INVITES)

        # Accounts: a new row under the new pseudonym (its chat reference sealed
        # for that row, a new label), children moved to it, the old row deleted.
        # Portable order: foreign keys hold after every statement.
        staff_rows = await _rows(connection, "SELECT staff_key, label, chat_ref FROM staff")
        staff_map: dict[bytes, bytes] = {}
        inserts: list[tuple[object, ...]] = []
        for key, label, chat_ref in staff_rows:
            was = _b(key)
            now = new.rechain(was)
            staff_map[was] = now
            labels.known[str(label)] = new.label(now)
            plain = cipher.decrypt(_b(chat_ref), table="staff", column="chat_ref", row=was)
            sealed = cipher.encrypt(plain, table="staff", column="chat_ref", row=now)
            inserts.append((now, labels.known[str(label)], sealed, was))
        # Old labels out of the way first: a new label may equal another's old one.
        await connection.execute("UPDATE staff SET label = '~' || label")
        await connection.executemany(
            "INSERT INTO staff (staff_key, role, status, label, locale, languages, chat_ref, "
            "current_referral, joined_day, mac) SELECT ?, role, status, ?, locale, languages, ?, "
            "current_referral, joined_day, mac FROM staff WHERE staff_key = ?",
            inserts,
        )
        content_signed, content_failing = await content.rekey(
            connection,
            old.content_key(),
            new.content_key(),
            owner=lambda key: staff_map.get(key, new.rechain(key)),
            label=labels,
        )
        moves = [(now, was) for was, now in staff_map.items()]
        for table in ("referral_notices", "language_requests", "staff_claims"):
            await connection.executemany(
                f"UPDATE {table} SET staff_key = ? WHERE staff_key = ?",  # noqa: S608 -- literals
                moves,
            )
        # Holders, including accounts removed since (closed requests keep them).
        holders = await _rows(
            connection, "SELECT DISTINCT volunteer FROM referrals WHERE volunteer IS NOT NULL"
        )
        await connection.executemany(
            "UPDATE referrals SET volunteer = ? WHERE volunteer = ?",
            [(new.rechain(_b(h)), _b(h)) for (h,) in holders],
        )
        await connection.executemany(
            "DELETE FROM staff WHERE staff_key = ?", [(was,) for was in staff_map]
        )

        # Members, the same way; their state is bound to the pseudonym.
        member_rows = await _rows(connection, "SELECT member_key, state, updated_day FROM members")
        member_map: dict[bytes, bytes] = {}
        new_members: list[tuple[object, ...]] = []
        for key, state, day in member_rows:
            was = _b(key)
            now = new.rechain(was)
            member_map[was] = now
            plain = cipher.decrypt(_b(state), table="members", column="state", row=was)
            new_members.append(
                (now, cipher.encrypt(plain, table="members", column="state", row=now), day)
            )
        await connection.executemany(
            "INSERT INTO members (member_key, state, updated_day) VALUES (?, ?, ?)", new_members
        )
        member_moves = [(now, was) for was, now in member_map.items()]
        for table in ("chat_messages", "referrals"):
            await connection.executemany(
                f"UPDATE {table} SET member_key = ? WHERE member_key = ?",  # noqa: S608 -- literals
                member_moves,
            )
        await connection.executemany(
            "DELETE FROM members WHERE member_key = ?", [(was,) for was in member_map]
        )

        # Invites: the hash of a code given out before still matches, chained.
        invite_rows = await _rows(connection, "SELECT code_hash, created_by FROM invites")
        invite_map: dict[bytes, bytes] = {}
        for code_hash, created_by in invite_rows:
            was = _b(code_hash)
            invite_map[was] = new.rechain(was)
            await connection.execute(
                "UPDATE invites SET code_hash = ?, created_by = ? WHERE code_hash = ?",
                (invite_map[was], labels(str(created_by)), was),
            )

        # Today's request counters, recomputed for the members who have one.
        counters = await _rows(connection, "SELECT rate_key, day FROM referral_requests")
        days = {str(day) for _, day in counters}
        rates = {
            old.rate_key(was, day): new.rate_key(now, day)
            for was, now in member_map.items()
            for day in days
        }
        for rate_key, _ in counters:
            was = _b(rate_key)
            if was in rates:
                await connection.execute(
                    "UPDATE referral_requests SET rate_key = ? WHERE rate_key = ?",
                    (rates[was], was),
                )
            else:
                # A member who wiped since: the counter can no longer be linked.
                await connection.execute("DELETE FROM referral_requests WHERE rate_key = ?", (was,))

        await relay_copies.rekey(
            connection, cipher, lambda key: staff_map.get(key, new.rechain(key))
        )

        # Seal again what was genuine before; the rest keeps its old MAC and fails.
        for key in good_staff:
            await new_seal.reseal(connection, STAFF, staff_map[_b(key)])
        for referral_id in good_referrals:
            await new_seal.reseal(connection, REFERRALS, referral_id)
        for code_hash in good_invites:
            await new_seal.reseal(connection, INVITES, invite_map[_b(code_hash)])

        chained = await audit.rechain(
            connection, old.audit_key(), new.audit_key(), relabel=labels.entry, today=today
        )
        await connection.execute(
            "UPDATE key_check SET pepper_check = ? WHERE id = 1", (new.check_value(),)
        )
        await connection.execute("DELETE FROM key_rotation WHERE id = 1")
    return Switched(
        members=len(member_map),
        accounts=len(staff_map),
        invites=len(invite_map),
        failing_rows=bad_staff + bad_referrals + bad_invites,
        content_signed=content_signed,
        content_failing=content_failing,
        audit=chained,
    )


def require_all_under_active(found: dict[str, dict[int | None, int]]) -> None:
    """Raise if any field is still under another key: the old keys cannot go yet."""
    total = sum(sum(per_key.values()) for per_key in found.values())
    if total:
        tables = ", ".join(sorted(found))
        raise StorageError(
            f"{total} encrypted field(s) in {tables} open with none of the root keys (edited "
            "outside the bot?), so the old keys cannot be removed yet"
        )


@dataclass(frozen=True)
class Unreadable:
    counts: dict[str, int]
    """Fields that open with none of the keys, per table."""
    accounts: list[str]
    """Labels of the accounts among them: only removing the account clears those."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def _unreadable_keys(db: Database, cipher: FieldCipher) -> dict[EncryptedField, list[object]]:
    found: dict[EncryptedField, list[object]] = {}
    async with db.snapshot() as connection:
        for place in ENCRYPTED:
            rows = await _rows(
                connection,
                f"SELECT {place.key_column}, {place.column} FROM {place.table} "  # noqa: S608 -- literals
                f"WHERE {place.column} IS NOT NULL",
            )
            for key, blob in rows:
                try:
                    cipher.decrypt(
                        _b(blob), table=place.table, column=place.column, row=place.row(key)
                    )
                except DecryptionError:
                    found.setdefault(place, []).append(key)
    return found


async def unreadable(db: Database, cipher: FieldCipher) -> Unreadable:
    """Every field that opens with none of ``cipher``'s keys (a scan that decrypts all)."""
    found = await _unreadable_keys(db, cipher)
    labels: list[str] = []
    async with db.snapshot() as connection:
        for place, keys in found.items():
            if place.table == "staff":
                for key in keys:
                    rows = await _rows(
                        connection, "SELECT label FROM staff WHERE staff_key = ?", (key,)
                    )
                    labels.extend(str(row[0]) for row in rows)
    return Unreadable({place.table: len(keys) for place, keys in found.items()}, sorted(labels))


async def drop_unreadable(db: Database, cipher: FieldCipher) -> Unreadable:
    """Clear fields that open with no key, as the bot treats each when it meets one.

    A member's state is reset to nothing (their saved place and language go; their
    deletable message ids stay), a request loses the member's chat reference (the
    member can no longer be reached through it), a request's relay copies are
    forgotten (they can no longer be cleared from phones). An account's chat
    reference is left: only removing the account clears it. Returns what is left.
    """
    found = await _unreadable_keys(db, cipher)
    async with db.transaction(erasing=True) as connection:
        for place, keys in found.items():
            for key in keys:
                if place.table == "members":
                    empty = cipher.encrypt(b"{}", table="members", column="state", row=_b(key))
                    await connection.execute(
                        "UPDATE members SET state = ? WHERE member_key = ?", (empty, key)
                    )
                elif place.table == "referrals":
                    await connection.execute(
                        "UPDATE referrals SET chat_ref = NULL WHERE id = ?", (key,)
                    )
                elif place.table == "relay_copies":
                    await connection.execute(
                        "DELETE FROM relay_copies WHERE referral_id = ?", (key,)
                    )
    return await unreadable(db, cipher)
