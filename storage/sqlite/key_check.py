"""Refusing a root key that does not belong to the database."""

from __future__ import annotations

import hmac

from storage.crypto import Pseudonymizer
from storage.errors import KeyFileError
from storage.sqlite.database import Database


async def stored_check(db: Database) -> bytes | None:
    async with (
        db.snapshot() as connection,
        connection.execute("SELECT pepper_check FROM key_check WHERE id = 1") as cursor,
    ):
        row = await cursor.fetchone()
    return None if row is None else bytes(row[0])


async def verify_root_key(db: Database, pseudonymizer: Pseudonymizer) -> None:
    """Record the key's fingerprint on first use; afterwards refuse any other key."""
    expected = pseudonymizer.check_value()
    async with db.transaction() as connection:
        async with connection.execute("SELECT pepper_check FROM key_check WHERE id = 1") as cursor:
            row = await cursor.fetchone()
        if row is None:
            await connection.execute(
                "INSERT INTO key_check (id, pepper_check) VALUES (1, ?)", (expected,)
            )
            return
    if not hmac.compare_digest(bytes(row[0]), expected):
        previous = pseudonymizer.previous()
        if previous is not None and hmac.compare_digest(bytes(row[0]), previous.check_value()):
            # The key file was rewritten by a rotation whose last step did not run.
            raise KeyFileError(
                "a root key rotation is half done (the key file is new, the database not yet): "
                "with the bot stopped, run 'python -m bot admin rotate-key --finish'"
            )
        raise KeyFileError(
            "the root key does not belong to this database (wrong ROOT_KEY, a replaced key "
            "file, key 1 removed, or a key file from before a rotation): restore the current key"
        )
