"""Where the data and the root key live, and when a new installation may be made.

The rules, each for a bad day it prevents:

- The root key never lies inside ``DATA_DIR`` (unless ``ALLOW_KEY_BESIDE_DATA=1``):
  whoever copies the data volume, a backup or a seized disk, would hold both.
  By default it lives in the user's configuration folder.
- A database is made only on a first run: the bot when there is neither a key
  nor a database (the README's first command on a fresh machine), or
  ``python -m bot init`` for a key provisioned beforehand. Admin commands never
  make one: a typo in ``DATA_DIR`` must not look like an empty service.
- A key without a database means the data volume is missing (or ``DATA_DIR``
  is wrong); a database without its key cannot be read. Both are refused.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import BotError, SettingsError
from bot.settings import Settings
from storage.keys import RootKeys, generate_root_key_file, load_root_keys

log = logging.getLogger(__name__)

LOCK_FILE = "yardem.lock"
_DOCKER_USER = "uid 10001 in the Docker image"


class InstallationError(SettingsError):
    """``DATA_DIR``, the key or the database is not where it should be; one line says what to do."""


class RunningError(BotError):
    """The bot is running, and what was asked needs it stopped."""


class Purpose(enum.Enum):
    BOT = "bot"
    """``python -m bot``: makes a key and a database only when neither exists."""
    INIT = "init"
    """``python -m bot init``: makes the database, with the given key or a new one."""
    ADMIN = "admin"
    """Every admin command: the database must exist already."""
    SCRATCH = "scratch"
    """``python -m bot try``: a throwaway database in a temporary directory, made quietly."""


@dataclass(frozen=True)
class Preparation:
    create_database: bool
    generate_key: bool


def database_present(settings: Settings) -> bool:
    """A database file with something in it (a 0-byte file is what a failed mount leaves)."""
    try:
        return settings.database_file.stat().st_size > 0
    except (FileNotFoundError, NotADirectoryError):
        return False


def check_data_dir(settings: Settings) -> None:
    """``DATA_DIR`` is a folder this user can write, or can be created."""
    data_dir = settings.data_dir
    existing = data_dir
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InstallationError(f"DATA_DIR={data_dir} cannot be used: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == data_dir else f"cannot be created in {existing}"
        raise InstallationError(
            f"DATA_DIR={data_dir} {what} by this user (uid {os.getuid()}): fix its owner or "
            f"permissions (a bind-mounted folder must be writable by {_DOCKER_USER})"
        )


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _key_file_checks(settings: Settings) -> None:
    key_file = settings.key_file
    legacy = settings.legacy_key_file
    if settings.root_key_file is None and not key_file.exists() and legacy.exists():
        raise InstallationError(
            f"the root key lies beside the data in {legacy}: move it out of DATA_DIR with "
            f"'python -m bot admin move-key' (to {key_file}), or keep it there with "
            f"ROOT_KEY_FILE={legacy} and ALLOW_KEY_BESIDE_DATA=1"
        )
    if _inside(key_file, settings.data_dir) and not settings.allow_key_beside_data:
        raise InstallationError(
            f"ROOT_KEY_FILE={key_file} lies inside DATA_DIR={settings.data_dir}: whoever copies "
            "the data (a backup, a seized disk) could read everything; keep it elsewhere, or "
            "set ALLOW_KEY_BESIDE_DATA=1"
        )


def prepare(settings: Settings, purpose: Purpose) -> Preparation:
    """Decide what may be created, or refuse; nothing is written here."""
    check_data_dir(settings)
    has_database = database_present(settings)
    if settings.root_key is None:
        _key_file_checks(settings)
        has_key = settings.key_file.exists() or settings.key_file.is_symlink()
        key_source = f"ROOT_KEY_FILE={settings.key_file}"
    else:
        has_key = True
        key_source = "ROOT_KEY"
    if purpose is Purpose.ADMIN and not has_database:
        raise InstallationError(
            f"no database in DATA_DIR={settings.data_dir}: start the bot once, or run "
            "'python -m bot init', to create it; if one should be there, the data volume "
            "may not be mounted"
        )
    if has_database and not has_key:
        raise InstallationError(
            f"root key file {settings.key_file} is missing but DATA_DIR={settings.data_dir} "
            "holds a database: restore the key (or set ROOT_KEY) instead of starting without it"
        )
    if purpose is Purpose.BOT and has_key and not has_database:
        raise InstallationError(
            f"DATA_DIR={settings.data_dir} holds no database but a root key is given "
            f"({key_source}): the data volume may not be mounted; for a new installation "
            "with this key, run 'python -m bot init' once"
        )
    return Preparation(create_database=not has_database, generate_key=not has_key)


def load_keys(settings: Settings, preparation: Preparation) -> RootKeys:
    if not preparation.generate_key:
        return load_root_keys(path=settings.key_file, env_value=settings.root_key)
    keys = generate_root_key_file(settings.key_file)
    log.warning(
        "FIRST RUN: generated a new root key at %s. Back it up offline now: without it the "
        "stored data cannot be read, and a backup of DATA_DIR does not contain it.",
        settings.key_file,
    )
    return keys


def announce_new_database(settings: Settings) -> None:
    log.warning(
        "FIRST RUN: creating a new, empty database in DATA_DIR=%s. If you expected existing "
        "data, stop now: DATA_DIR or the data volume is wrong.",
        settings.data_dir,
    )


@contextlib.contextmanager
def running_lock(settings: Settings) -> Iterator[None]:
    """Held (shared) while the bot runs, so ``admin restore`` can tell it must wait."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(settings.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_lock(settings: Settings) -> Iterator[None]:
    """Taken by ``admin restore``; refuses at once while a bot holds the running lock."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(settings.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunningError(
                f"the bot is running on DATA_DIR={settings.data_dir}: stop it first"
            ) from None
        yield
    finally:
        os.close(fd)
