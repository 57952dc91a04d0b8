"""Root keys: the secrets every field key and the pseudonym pepper derive from.

The root keys live in a file or the ``ROOT_KEY`` environment variable, never in
the database, so a copy of the database alone reveals nothing. Several key ids
can be live at once so that keys can be rotated without downtime.

File format (UTF-8 text)::

    # comment lines start with '#'
    pepper:<base64 of 32 bytes>  <- an earlier pseudonym pepper (after a rotation)
    1:<base64 of 32 bytes>
    2:<base64 of 32 bytes>      <- the last key line is the active key

``pepper:`` lines, oldest first, keep the pseudonym peppers of root keys that a
rotation retired: a member's pseudonym is chained through every pepper in turn
(see :class:`storage.crypto.Pseudonymizer`), so it stays computable from the
Telegram id after the root key it first came from is gone.

Error messages name files and line numbers, never the key text itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from storage.errors import KeyFileError

KEY_BYTES = 32
MIN_KEY_ID = 1
# The key id is stored in two bytes of every ciphertext header.
MAX_KEY_ID = 0xFFFF

_HEADER = """\
# Yardem root keys.
#
# Every encrypted field and every member pseudonym in the database derives from
# these keys. Without them the database cannot be read: back this file up
# offline (paper or an encrypted drive kept elsewhere). Anyone who holds it and
# a copy of the database can read everything in it.
#
# In production keep it off the server's disk: pass it in the ROOT_KEY
# environment variable from a secret store instead. Never commit it to a
# repository, never paste it into a chat or an issue.
#
# One key per line, '<id>:<base64 of 32 bytes>'. The last line is the active
# key, used for new encryptions; older keys stay to open older data until
# 'python -m bot admin rotate-key --finish' has re-encrypted it and removed
# them. The lowest id also derives the pseudonym pepper. 'pepper:' lines keep
# the peppers of keys a rotation removed: every pseudonym is chained through
# them, so never delete or reorder them.
"""
PEPPER_PREFIX = "pepper"


@dataclass(frozen=True)
class RootKeys:
    """The live root keys, the active one, and the one the pseudonym pepper uses.

    ``pseudonym_key_id`` must be the lowest key id: rotation only ever adds
    higher ids, and removes the lowest only when it moves its pepper into
    ``peppers``. ``peppers`` are the peppers of root keys retired by earlier
    rotations, oldest first: pseudonyms are chained through them.
    """

    # repr=False: a RootKeys that reaches a log or a traceback must not leak keys.
    keys: Mapping[int, bytes] = field(repr=False)
    active: int
    pseudonym_key_id: int
    peppers: tuple[bytes, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyFileError("no root key given: at least one key is needed")
        for key_id, key in self.keys.items():
            if isinstance(key_id, bool) or not isinstance(key_id, int):
                raise KeyFileError("a root key id is not an integer")
            if not MIN_KEY_ID <= key_id <= MAX_KEY_ID:
                raise KeyFileError(
                    f"root key id {key_id} is out of range {MIN_KEY_ID}..{MAX_KEY_ID}"
                )
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise KeyFileError(f"root key {key_id} is not exactly {KEY_BYTES} bytes")
        if self.active not in self.keys:
            raise KeyFileError(f"active root key id {self.active} is not among the keys")
        lowest = min(self.keys)
        if self.pseudonym_key_id != lowest:
            raise KeyFileError(
                f"pseudonym key id must be the lowest key id {lowest}, "
                f"not {self.pseudonym_key_id}: removing it would change every pseudonym"
            )
        for pepper in self.peppers:
            if not isinstance(pepper, bytes) or len(pepper) != KEY_BYTES:
                raise KeyFileError(f"a retired pepper is not exactly {KEY_BYTES} bytes")
        # A private copy behind a read-only view keeps the frozen promise honest.
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        object.__setattr__(self, "peppers", tuple(self.peppers))


def parse_root_keys(text: str) -> RootKeys:
    """Parse the root key file format; the last key line is the active key."""
    keys: dict[int, bytes] = {}
    peppers: list[bytes] = []
    active: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key_id_text, sep, key_text = line.partition(":")
        key_id_text = key_id_text.strip()
        if sep and key_id_text == PEPPER_PREFIX:
            peppers.append(_decode_key(key_text.strip(), where=f"root keys line {number}"))
            continue
        if not sep or not key_id_text.isascii() or not key_id_text.isdigit():
            raise KeyFileError(
                f"root keys line {number}: expected '<id>:<base64 key>' (comments start with '#')"
            )
        key_id = int(key_id_text)
        if not MIN_KEY_ID <= key_id <= MAX_KEY_ID:
            raise KeyFileError(
                f"root keys line {number}: key id {key_id} is out of range "
                f"{MIN_KEY_ID}..{MAX_KEY_ID}"
            )
        if key_id in keys:
            raise KeyFileError(f"root keys line {number}: key id {key_id} appears twice")
        keys[key_id] = _decode_key(key_text.strip(), where=f"root keys line {number}")
        active = key_id
    if active is None:
        raise KeyFileError("root keys: no key line found, expected '<id>:<base64 key>'")
    return RootKeys(keys=keys, active=active, pseudonym_key_id=min(keys), peppers=tuple(peppers))


def format_root_keys(keys: RootKeys) -> str:
    """Render ``keys`` in the file format, with an explanatory header."""
    order = sorted(key_id for key_id in keys.keys if key_id != keys.active)
    order.append(keys.active)
    lines = [f"{PEPPER_PREFIX}:{_b64(pepper)}" for pepper in keys.peppers]
    lines += [f"{key_id}:{_b64(keys.keys[key_id])}" for key_id in order]
    return _HEADER + "\n".join(lines) + "\n"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def generate_root_key_file(path: Path) -> RootKeys:
    """Create ``path`` holding one fresh key with id 1, readable by its owner only.

    The file appears complete or not at all, and an existing file is never
    replaced: overwriting a root key would make the database unreadable.
    """
    keys = RootKeys(
        keys={MIN_KEY_ID: secrets.token_bytes(KEY_BYTES)},
        active=MIN_KEY_ID,
        pseudonym_key_id=MIN_KEY_ID,
    )
    write_root_key_file(path, keys)
    return keys


def write_root_key_file(path: Path, keys: RootKeys, *, replace: bool = False) -> None:
    """Write ``keys`` to ``path`` (mode 0600), complete or not at all.

    Without ``replace`` an existing file is never touched: a root key silently
    overwritten would make the database unreadable.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = format_root_keys(keys).encode("utf-8")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL with mode 0600 at creation: the key is never readable by others,
    # not even for the instant before a chmod.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(temporary, path)
        else:
            # link() fails if the target exists, so unlike rename() it cannot
            # clobber a key file created meanwhile.
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise KeyFileError(
                    f"root key file {path} already exists; refusing to overwrite it"
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(path.parent)


def shred_key_file(path: Path) -> None:
    """Overwrite a key file with zeros, then delete it.

    Best effort only: journalling file systems, SSDs and snapshots may keep
    the old blocks, so a key that lay on a disk should be treated as copied.
    """
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        os.write(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.unlink(path)
    _fsync_directory(path.parent)


def load_root_keys(*, path: Path, env_value: str | None) -> RootKeys:
    """Load the root keys from ``env_value`` (``ROOT_KEY``) if set, else from ``path``.

    ``env_value`` may hold the file format or a single bare base64 key (id 1).
    A missing file raises :class:`KeyFileError`; generating one is the
    caller's decision.
    """
    if env_value is not None and env_value.strip():
        value = env_value.strip()
        # ':' never occurs in base64, so it tells the two forms apart.
        if ":" in value or "#" in value:
            return parse_root_keys(value)
        key = _decode_key(value, where="ROOT_KEY")
        return RootKeys(keys={MIN_KEY_ID: key}, active=MIN_KEY_ID, pseudonym_key_id=MIN_KEY_ID)
    return parse_root_keys(_read_key_file(path))


def add_key(keys: RootKeys) -> RootKeys:
    """Return ``keys`` plus a fresh key at the next id, which becomes active."""
    new_id = max(keys.keys) + 1
    if new_id > MAX_KEY_ID:
        raise KeyFileError(f"no root key id left: ids end at {MAX_KEY_ID}")
    return RootKeys(
        keys={**keys.keys, new_id: secrets.token_bytes(KEY_BYTES)},
        active=new_id,
        pseudonym_key_id=keys.pseudonym_key_id,
        peppers=keys.peppers,
    )


def _decode_key(text: str, *, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{where}: the key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{where}: the key is {len(key)} bytes, expected {KEY_BYTES} "
            "(base64 of 32 random bytes)"
        )
    return key


def _read_key_file(path: Path) -> str:
    try:
        # Symlinks are followed (secret mounts often use them); the checks
        # below apply to the file actually opened.
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyFileError(f"root key file {path} not found: create it or set ROOT_KEY") from None
    except OSError as error:
        raise KeyFileError(
            f"root key file {path} cannot be opened ({error.strerror}): "
            "it must be a regular file readable by the bot's user"
        ) from None
    try:
        # fstat on the open descriptor: the file checked is the file read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"root key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"root key file {path} is open to other users: run 'chmod 600 {path}'"
            )
        chunks: list[bytes] = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"root key file {path} is not UTF-8 text") from None


def _fsync_directory(directory: Path) -> None:
    # Makes the new directory entry durable; best effort where unsupported.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
