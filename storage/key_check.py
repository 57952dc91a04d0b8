"""Refusing a root key that does not belong to the database."""

from __future__ import annotations

import hmac

from storage.crypto import Pseudonymizer
from storage.database import Database
from storage.errors import KeyFileError


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
        raise KeyFileError(
            "the root key does not belong to this database (wrong ROOT_KEY, a replaced key "
            "file, or key 1 removed): restore the original key"
        )
