"""The dependencies handlers need, opened once at start-up and closed at shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.content import Content
from bot.members import Clock, Members
from bot.settings import Settings
from storage.crypto import FieldCipher, Pseudonymizer
from storage.database import Database
from storage.keys import RootKeys, generate_root_key_file, load_root_keys
from storage.members import MemberRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    content: Content
    members: Members
    database: Database
    clock: Clock

    async def close(self) -> None:
        await self.database.close()


def root_keys(settings: Settings) -> RootKeys:
    """Load the root keys, generating a key file on the very first run."""
    if not settings.root_key and not settings.key_file.exists():
        keys = generate_root_key_file(settings.key_file)
        log.warning(
            "Generated a new root key at %s. Back it up offline now: without it the stored "
            "data cannot be read. In production keep it off the server's disk "
            "(set ROOT_KEY from a secret store, or mount the file from tmpfs).",
            settings.key_file,
        )
        return keys
    return load_root_keys(path=settings.key_file, env_value=settings.root_key)


async def open_services(settings: Settings, clock: Clock) -> Services:
    content = Content(settings.flows_dir, settings.locales_dir)
    keys = root_keys(settings)
    database = await Database.open(settings.database_file)
    members = Members(MemberRepository(database, FieldCipher(keys)), Pseudonymizer(keys), clock)
    return Services(settings, content, members, database, clock)
