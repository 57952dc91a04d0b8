"""The exceptions of the storage package.

Everything the storage package raises on purpose derives from
:class:`StorageError`, so the bot can catch one type at its edges. Messages
never carry key material, plaintext or identifiers: they may end up in logs.
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
