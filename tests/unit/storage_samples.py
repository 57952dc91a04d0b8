"""The keys the storage tests encrypt and pseudonymize with, and a look at the disk.

One test root key for every storage test module: each test has its own
database, so nothing is shared but the key. A test about a wrong or second
key makes its own.
"""

from __future__ import annotations

from pathlib import Path

from storage.crypto import FieldCipher, Pseudonymizer
from storage.keys import RootKeys

ROOT = RootKeys(keys={1: b"\x5e" * 32}, active=1, pseudonym_key_id=1)
CIPHER = FieldCipher(ROOT)
PSEUDONYMS = Pseudonymizer(ROOT)
AUDIT_KEY = PSEUDONYMS.audit_key()


def disk_bytes(db_path: Path) -> bytes:
    """The database file and its WAL, as someone who seized the disk would read them."""
    data = b""
    for candidate in (db_path, Path(f"{db_path}-wal")):
        if candidate.exists():
            data += candidate.read_bytes()
    return data
