"""Field encryption and pseudonyms, both derived from the root keys.

Field blobs are self-describing so that keys can rotate::

    version (1 byte, = 1) | key id (2 bytes, big endian) | nonce (12 bytes) | ciphertext + tag

The associated data binds the header and the blob's location (table, column,
row), so a ciphertext copied to another row, column or table, or relabelled
with another key id, fails to open instead of being read in the wrong place.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import DecryptionError, KeyFileError
from storage.keys import RootKeys

FORMAT_VERSION = 1
_FIELD_INFO = b"yardem/field-encryption/v1"
_PSEUDONYM_INFO = b"yardem/pseudonym/v1"
_CHAIN_DOMAIN = b"yardem/pseudonym-chain/v1"
_KEY_CHECK = b"yardem/key-check/v1"
_AAD_DOMAIN = b"yardem"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER_BYTES = 3
_MIN_BLOB_BYTES = _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES
_LABEL_CHARS = 8


def _derive(root_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root_key)


def pepper_of(root_key: bytes) -> bytes:
    """The pseudonym pepper a root key derives: what a ``pepper:`` line keeps once it is retired."""
    return _derive(root_key, _PSEUDONYM_INFO)


def _frame(part: bytes) -> bytes:
    # Length prefixes make the encoding injective: no two (table, column, row)
    # triples can serialise to the same bytes, whatever bytes they contain.
    return len(part).to_bytes(4, "big") + part


def _associated_data(header: bytes, table: str, column: str, row: bytes) -> bytes:
    return (
        header
        + _frame(_AAD_DOMAIN)
        + _frame(table.encode("utf-8"))
        + _frame(column.encode("utf-8"))
        + _frame(bytes(row))
    )


class FieldCipher:
    """AES-256-GCM encryption of single database fields, bound to their location."""

    def __init__(self, root: RootKeys) -> None:
        self._root = root
        self._ciphers: dict[int, AESGCM] = {}

    @property
    def active(self) -> int:
        """The key id new encryptions use."""
        return self._root.active

    @property
    def key_ids(self) -> frozenset[int]:
        return frozenset(self._root.keys)

    def adopt(self, root: RootKeys) -> None:
        """Take on a newer key set (a rotation's new key) while running.

        Every key held now must be in it unchanged, so nothing readable
        becomes unreadable; the new set's active key is used from now on.
        """
        for key_id, key in self._root.keys.items():
            if root.keys.get(key_id) != key:
                raise KeyFileError(
                    f"the new root keys lack key {key_id} or change it; keeping the old ones"
                )
        self._root = root

    def encrypt(self, plaintext: bytes, *, table: str, column: str, row: bytes) -> bytes:
        """Encrypt ``plaintext`` for the field at (``table``, ``column``, ``row``)."""
        key_id = self._root.active
        header = FORMAT_VERSION.to_bytes(1, "big") + key_id.to_bytes(2, "big")
        # Random 96-bit nonces are safe for far more than 2**32 messages per
        # key, which this service will never approach; rotation resets the count.
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher(key_id).encrypt(
            nonce, bytes(plaintext), _associated_data(header, table, column, row)
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, table: str, column: str, row: bytes) -> bytes:
        """Open ``blob`` stored at (``table``, ``column``, ``row``) or raise DecryptionError."""
        blob = bytes(blob)
        if len(blob) < _MIN_BLOB_BYTES:
            raise DecryptionError("ciphertext is truncated")
        if blob[0] != FORMAT_VERSION:
            raise DecryptionError("ciphertext has an unknown format version")
        key_id = int.from_bytes(blob[1:_HEADER_BYTES], "big")
        if key_id not in self._root.keys:
            raise DecryptionError("ciphertext uses an unknown key id")
        header = blob[:_HEADER_BYTES]
        nonce = blob[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        sealed = blob[_HEADER_BYTES + _NONCE_BYTES :]
        try:
            return self._cipher(key_id).decrypt(
                nonce, sealed, _associated_data(header, table, column, row)
            )
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, wrong key, or moved"
            ) from None

    def key_id_of(self, blob: bytes) -> int:
        """The key id in ``blob``'s header (not authenticated until decrypted)."""
        if len(blob) < _HEADER_BYTES or blob[0] != FORMAT_VERSION:
            raise DecryptionError("ciphertext has no valid header")
        return int.from_bytes(blob[1:_HEADER_BYTES], "big")

    def reencrypt(self, blob: bytes, *, table: str, column: str, row: bytes) -> bytes:
        """Open ``blob`` with whatever key it names and seal it again under the active key."""
        plaintext = self.decrypt(blob, table=table, column=column, row=row)
        return self.encrypt(plaintext, table=table, column=column, row=row)

    def _cipher(self, key_id: int) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = AESGCM(_derive(self._root.keys[key_id], _FIELD_INFO))
            self._ciphers[key_id] = cipher
        return cipher


class Pseudonymizer:
    """Stable, non-reversible keys for Telegram users, so no id is ever stored.

    The pepper derives from the lowest root key id. A rotation replaces it
    without knowing anyone's Telegram id by chaining: the new pseudonym is
    HMAC(new pepper, old pseudonym), so the pseudonym of an id is computed
    through every pepper in turn (the retired ones kept as ``pepper:`` lines,
    the current one last), and the database is re-keyed by applying
    :meth:`rechain` to every stored pseudonym. Whoever holds only a retired key
    can compute the old pseudonyms, which the database no longer contains.
    Invite hashes are chained the same way. Everything else (the audit, row
    and content MAC keys, labels, rate keys) derives from the last pepper
    alone, so a rotation changes it outright.
    """

    def __init__(self, root: RootKeys) -> None:
        self._stages = (*root.peppers, pepper_of(root.keys[root.pseudonym_key_id]))

    @classmethod
    def from_stages(cls, stages: tuple[bytes, ...]) -> Pseudonymizer:
        if not stages:
            raise ValueError("a pseudonymizer needs at least one pepper")
        made = cls.__new__(cls)
        made._stages = tuple(stages)
        return made

    @property
    def _pepper(self) -> bytes:
        return self._stages[-1]

    def previous(self) -> Pseudonymizer | None:
        """The generation before the last rotation (its last pepper removed), if any."""
        return Pseudonymizer.from_stages(self._stages[:-1]) if len(self._stages) > 1 else None

    def then(self, root_key: bytes) -> Pseudonymizer:
        """The next generation: this chain followed by ``root_key``'s pepper."""
        return Pseudonymizer.from_stages((*self._stages, pepper_of(root_key)))

    def _chained(self, message: bytes) -> bytes:
        value = hmac.new(self._stages[0], message, hashlib.sha256).digest()
        for pepper in self._stages[1:]:
            value = hmac.new(pepper, _CHAIN_DOMAIN + value, hashlib.sha256).digest()
        return value

    def rechain(self, previous_value: bytes) -> bytes:
        """A pseudonym (or invite hash) of the previous generation, as this one computes it."""
        return hmac.new(
            self._pepper, _CHAIN_DOMAIN + bytes(previous_value), hashlib.sha256
        ).digest()

    def member_key(self, telegram_id: int) -> bytes:
        """The 32-byte pseudonym of the Telegram user ``telegram_id``."""
        if isinstance(telegram_id, bool) or not isinstance(telegram_id, int):
            raise TypeError("telegram_id must be an int")
        return self._chained(b"telegram-user:" + str(telegram_id).encode("ascii"))

    def check_value(self) -> bytes:
        """A fingerprint of the peppers, safe to store: it reveals no pseudonym."""
        message = _KEY_CHECK
        if len(self._stages) > 1:
            # Without earlier peppers the value is what it always was, so
            # databases from before rotation existed still match.
            message += b"/chain:" + hashlib.sha256(b"".join(self._stages[:-1])).digest()
        return hmac.new(self._pepper, message, hashlib.sha256).digest()

    def invite_hash(self, code: str) -> bytes:
        """The keyed hash stored for an invite code, so the table holds no usable code."""
        return self._chained(b"invite:" + code.encode("utf-8"))

    def rate_key(self, member_key: bytes, day: str) -> bytes:
        """Today's request counter for a member: unlinkable to their pseudonym without the key."""
        return hmac.new(
            self._pepper, b"rate:" + day.encode() + b":" + member_key, hashlib.sha256
        ).digest()

    def audit_key(self) -> bytes:
        """The audit chain's MAC key: whoever edits the log without it cannot re-chain it."""
        return hmac.new(self._pepper, b"yardem/audit-chain/v1", hashlib.sha256).digest()

    def content_key(self) -> bytes:
        """The MAC key of published content: an offline edit of a version cannot be re-signed."""
        return hmac.new(self._pepper, b"yardem/content-mac/v1", hashlib.sha256).digest()

    def label(self, key: bytes) -> str:
        """A short display label for a pseudonym; it reveals neither the key nor the id."""
        digest = hmac.new(self._pepper, b"label:" + bytes(key), hashlib.sha256).hexdigest()
        return digest[:_LABEL_CHARS]
