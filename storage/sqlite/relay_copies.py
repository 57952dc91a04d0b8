"""Where the bot's copies of relayed words sit, kept per referral in one encrypted blob.

The record and the padded blob format are :mod:`storage.relay_copies`; these
functions run inside a repository's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aiosqlite

from storage.crypto import FieldCipher
from storage.relay_copies import Copy, pack, unpack
from storage.sqlite.conditions import LIVE_SQL

_TABLE = "relay_copies"
_COLUMN = "copies"


async def _load(
    connection: aiosqlite.Connection, cipher: FieldCipher, referral_id: str
) -> list[Copy] | None:
    async with connection.execute(
        "SELECT copies FROM relay_copies WHERE referral_id = ?", (referral_id,)
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    plain = cipher.decrypt(bytes(row[0]), table=_TABLE, column=_COLUMN, row=referral_id.encode())
    return unpack(plain)


async def _store(
    connection: aiosqlite.Connection, cipher: FieldCipher, referral_id: str, copies: list[Copy]
) -> None:
    if not copies:
        await connection.execute("DELETE FROM relay_copies WHERE referral_id = ?", (referral_id,))
        return
    blob = cipher.encrypt(pack(copies), table=_TABLE, column=_COLUMN, row=referral_id.encode())
    await connection.execute(
        "INSERT INTO relay_copies (referral_id, copies) VALUES (?, ?) "
        "ON CONFLICT (referral_id) DO UPDATE SET copies = excluded.copies",
        (referral_id, blob),
    )


async def add(
    connection: aiosqlite.Connection,
    cipher: FieldCipher,
    referral_id: str,
    copies: Sequence[Copy],
) -> bool:
    """Append copies, inside the caller's transaction.

    False if the referral is gone or closed meanwhile: its copies were already
    removed, so the caller must remove these at once.
    """
    async with connection.execute(
        f"SELECT 1 FROM referrals WHERE id = ? AND {LIVE_SQL}",  # noqa: S608 -- literals
        (referral_id,),
    ) as cur:
        if await cur.fetchone() is None:
            return False
    kept = await _load(connection, cipher, referral_id) or []
    await _store(connection, cipher, referral_id, [*kept, *copies])
    return True


async def take(
    connection: aiosqlite.Connection,
    cipher: FieldCipher,
    referral_id: str,
    which: Callable[[Copy], bool] | None = None,
) -> list[Copy]:
    """Remove and return the referral's copies (those ``which`` selects, if given)."""
    kept = await _load(connection, cipher, referral_id)
    if kept is None:
        return []
    taken = [c for c in kept if which is None or which(c)]
    if taken:
        await _store(connection, cipher, referral_id, [c for c in kept if c not in taken])
    return taken


async def referral_ids(connection: aiosqlite.Connection) -> list[str]:
    async with connection.execute("SELECT referral_id FROM relay_copies") as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def rekey(
    connection: aiosqlite.Connection, cipher: FieldCipher, staff: Callable[[bytes], bytes]
) -> int:
    """Give every copy in a volunteer's chat its account's new pseudonym (a key rotation).

    Inside the caller's transaction; the blobs are sealed again under the active key.
    """
    changed = 0
    for referral_id in await referral_ids(connection):
        kept = await _load(connection, cipher, referral_id) or []
        moved = [
            Copy(
                None if c.staff_key is None else staff(c.staff_key),
                c.message_id,
                c.kind,
                c.sent_hour,
            )
            for c in kept
        ]
        await _store(connection, cipher, referral_id, moved)
        changed += 1
    return changed
