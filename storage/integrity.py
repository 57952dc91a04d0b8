"""Roles and holders bound to the root key: a MAC over the fields that give authority.

Whoever can write the database file could otherwise make a mole a
coordinator, give them any language, or move a request to them. Each row of
the tables below carries ``mac``: HMAC-SHA256, under a key derived from the
root key, of the table, the row's key and the covered fields. Every read
verifies it; a row that fails is treated as absent (not staff, not held, no
such invite) and logged without ids. Every write that changes a covered
field verifies the row first (a tampered row is never re-sealed, which
would launder the edit) and seals it again in the same transaction.

Covered fields are listed by name in :data:`STAFF`, :data:`REFERRALS` and
:data:`INVITES`; adding one is one line. Fields holding NULL or '' are left
out of the MAC, so a new column whose default is NULL or '' leaves every
existing MAC valid, while setting it, or clearing a field that was set,
changes the MAC.

This module computes and checks MACs; reading and sealing rows is the
adapter's (:mod:`storage.sqlite.integrity`).

A MAC cannot stop a row being put back to an earlier genuine state (a removed
account's old row restored from a copy of the file); the audit chain records
every removal and role change, and its head kept elsewhere shows a rewind.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.errors import StorageError

log = logging.getLogger(__name__)

_DOMAIN = b"yardem/row-mac/v1"


@dataclass(frozen=True)
class Sealed:
    """A table whose rows carry a MAC: its key column and the fields covered."""

    table: str
    key_column: str
    fields: tuple[str, ...]

    @property
    def columns(self) -> str:
        """``field, ..., mac`` for a SELECT: covered fields first, the MAC last."""
        return ", ".join((*self.fields, "mac"))


STAFF = Sealed(
    "staff",
    "staff_key",
    (
        "role",
        "status",
        "label",
        "languages",
    ),
)
REFERRALS = Sealed(
    "referrals",
    "id",
    (
        "member_key",
        "status",
        "volunteer",
        "language",
    ),
)
INVITES = Sealed(
    "invites",
    "code_hash",
    (
        "role",
        "created_by",
        "expires_at",
    ),
)
TABLES = (STAFF, REFERRALS, INVITES)


class TamperedRow(StorageError):
    """A row's MAC does not match: it was edited outside the bot."""


def row_key(audit_key: bytes) -> bytes:
    """The MAC key, derived from the audit chain's key (itself derived from the root key)."""
    return hmac.new(audit_key, _DOMAIN, hashlib.sha256).digest()


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b" + bytes(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a sealed field holds an unexpected {type(value).__name__}")
    return (b"i" if isinstance(value, int) else b"s") + str(value).encode()


def blob(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None


def _frame(part: bytes) -> bytes:
    return len(part).to_bytes(4, "big") + part


class RowSeal:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def mac(self, sealed: Sealed, row_id: object, values: Mapping[str, object]) -> bytes:
        digest = hmac.new(self._key, _DOMAIN, hashlib.sha256)
        digest.update(_frame(sealed.table.encode()) + _frame(_bytes(row_id)))
        # Sorted by name and without defaults: a new column left at its default
        # does not change the MAC of any row written before it existed.
        for name in sorted(sealed.fields):
            value = values[name]
            if value is None or value == "":
                continue
            digest.update(_frame(name.encode()) + _frame(_bytes(value)))
        return digest.digest()

    def valid(self, sealed: Sealed, row_id: object, row: Sequence[object]) -> bool:
        """``row`` is the covered fields then the MAC, as :attr:`Sealed.columns` selects them."""
        stored = blob(row[len(sealed.fields)])
        if stored is None:
            ok = False
        else:
            values = dict(zip(sealed.fields, row[: len(sealed.fields)], strict=True))
            ok = hmac.compare_digest(stored, self.mac(sealed, row_id, values))
        if not ok:
            log.error(
                "a row of %s failed its integrity check (edited outside the bot?): "
                "it is treated as absent",
                sealed.table,
            )
        return ok


@dataclass(frozen=True)
class Unsealed:
    table: str
    row_id: object
    values: dict[str, object]
