"""The exceptions of the storage package.

Everything the storage package raises derives from :class:`StorageError`, so
the bot can catch one type at its edges and never needs to know the backend.
Messages never carry key material, plaintext or identifiers: they may end up
in logs.

The tree::

    StorageError
    ├── KeyFileError           the root key is missing, malformed or not this database's
    ├── DecryptionError        a ciphertext does not open (tampered, moved, wrong key)
    ├── MigrationError         the schema files are inconsistent, or the database is newer
    ├── ContentIntegrityError  a content row fails its MAC
    ├── VersionConflict        someone else published the next content version first
    ├── UnknownVersion         no such content version
    ├── TamperedRow            (storage.integrity) a sealed row was edited outside the bot
    └── BackendError           the database itself failed; mapped from the driver's
        │                      errors (sqlite3/aiosqlite) where a transaction ends,
        │                      so no driver exception crosses a port
        ├── ConstraintViolation   a UNIQUE, FOREIGN KEY or CHECK constraint refused a write
        ├── DatabaseBusy          another writer held the lock past the busy timeout
        └── DatabaseUnavailable   the file cannot be used: I/O error, corrupt, closed, ...

Each mapped error keeps the driver's exception as ``__cause__`` (for the
operator's traceback); its message is the driver's, which names tables and
constraints but no stored values.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error raised by the storage package."""


class KeyFileError(StorageError):
    """The root key file or the ``ROOT_KEY`` value is missing, malformed or insecure.

    The message is one line telling the operator what to fix.
    """


class DecryptionError(StorageError):
    """A ciphertext could not be opened.

    Raised for a tampered or truncated blob, a wrong or unknown key, and a
    ciphertext moved to another table, column or row. Decryption fails closed:
    no partial or unauthenticated plaintext is ever returned.
    """


class MigrationError(StorageError):
    """The schema migrations are inconsistent or the database is newer than this code."""


class ContentIntegrityError(StorageError):
    """A stored content version, draft or language switch fails its MAC or cannot be read.

    Such a row is never served: it was edited outside the bot (or the root key is
    not the one it was written under). ``number`` is the version (None for a
    draft or a switch); the message says which and why, never any content.
    """

    def __init__(self, message: str, *, number: int | None = None) -> None:
        super().__init__(message)
        self.number = number


class VersionConflict(StorageError):
    """Another publish took the next version number first; nothing was stored.

    ``newest`` is the newest number now: rebuild on it (merge) and try again.
    """

    def __init__(self, expected: int, newest: int) -> None:
        super().__init__(
            f"version {expected + 1} was not published: the newest version is {newest}, "
            f"not {expected} (someone else published meanwhile)"
        )
        self.expected = expected
        self.newest = newest


class UnknownVersion(StorageError):
    """No published version has this number."""

    def __init__(self, number: int) -> None:
        super().__init__(f"there is no published content version {number}")
        self.number = number


class BackendError(StorageError):
    """The database failed underneath a repository; the change was rolled back."""


class ConstraintViolation(BackendError):
    """A schema constraint (UNIQUE, FOREIGN KEY, CHECK, NOT NULL) refused the write."""


class DatabaseBusy(BackendError):
    """Another writer held the database past the busy timeout; trying again may work."""


class DatabaseUnavailable(BackendError):
    """The database cannot be used (I/O error, corrupt or foreign file, out of space)."""
