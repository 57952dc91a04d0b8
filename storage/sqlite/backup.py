"""Backups of the database file, taken and restored with SQLite's online backup API.

A backup is one self-contained SQLite file (no ``-wal``), mode 0600, copied
page by page inside one read transaction: a consistent snapshot even while
the bot writes. It holds everything the database holds (encrypted fields,
pseudonyms, the audit chain) and not the root key, without which it cannot
be read. Restoring checks that the backup belongs to the root key at hand.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageError


class BackupError(StorageError):
    """A backup cannot be made or used; the message is one line saying why."""


@dataclass(frozen=True)
class BackupInfo:
    schema_version: int
    pepper_check: bytes | None
    size: int


def _connect_existing(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    # mode=rw / ro: SQLite never creates a file here.
    mode = "ro" if read_only else "rw"
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=10)


def _create_private(path: Path) -> None:
    """Create an empty file only its owner can read; refuse if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose a new file name") from None
    except OSError as error:
        raise BackupError(f"cannot create {path} ({error.strerror})") from None
    os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target_path: Path) -> None:
    """Copy every page of ``source`` into the (new, empty) file ``target_path``, self-contained."""
    target = sqlite3.connect(target_path)
    try:
        # pages=-1: one step, so one read transaction: a consistent snapshot
        # that writers in WAL mode never wait for.
        source.backup(target)
        # A single file: no WAL beside it that a copy could forget.
        target.execute("PRAGMA journal_mode = DELETE").fetchone()
        result = target.execute("PRAGMA integrity_check").fetchone()
        if result is None or result[0] != "ok":
            raise BackupError(f"the copy in {target_path} failed SQLite's integrity check")
    finally:
        target.close()
    _fsync(target_path)
    with contextlib.suppress(OSError):
        _fsync(target_path.parent)


def backup_database(source: Path, target: Path) -> BackupInfo:
    """Copy the live database ``source`` to the new file ``target`` (mode 0600)."""
    _create_private(target)
    try:
        connection = _connect_existing(source)
        try:
            _copy(connection, target)
        finally:
            connection.close()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        raise
    return inspect_backup(target)


def inspect_backup(path: Path) -> BackupInfo:
    """Read a backup's schema version and key fingerprint, without changing it."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        connection = _connect_existing(path, read_only=True)
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            try:
                row = connection.execute("SELECT pepper_check FROM key_check WHERE id = 1")
                found = row.fetchone()
            except sqlite3.OperationalError:
                found = None
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a Yardem backup ({error})") from None
    return BackupInfo(version, None if found is None else bytes(found[0]), path.stat().st_size)


def belongs_to(info: BackupInfo, expected_check: bytes) -> bool:
    return info.pepper_check is not None and hmac.compare_digest(info.pepper_check, expected_check)


def restore_database(source: Path, target: Path) -> None:
    """Replace ``target`` with a copy of the backup ``source``.

    The caller makes sure no bot runs and that replacing is wanted. The copy
    is made beside ``target`` and renamed over it, so an interrupted restore
    leaves the old database (or none) rather than half of each; a stale WAL of
    the old database is removed first, or SQLite would replay it into the new.
    """
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.restore")
    _create_private(temporary)
    try:
        connection = _connect_existing(source, read_only=True)
        try:
            _copy(connection, temporary)
        finally:
            connection.close()
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    with contextlib.suppress(OSError):
        _fsync(target.parent)
