"""The running bot takes on a rotation's new root key without a restart.

``python -m bot admin rotate-key`` appends the new key to the key file and
records it in the database, then waits: it writes nothing under the new key
until the running bot holds it, or members' fields would stop opening. Every
few seconds the bot looks for such a rotation; if it lacks the key it re-reads
the key file, takes the new set on if it only adds keys (the pseudonym pepper
unchanged), encrypts new data under the new key from then on, and says so in
the database. With ``ROOT_KEY`` (an environment value no process can change)
the bot must be restarted with the new value instead; it says so in its log.
"""

from __future__ import annotations

import hmac
import logging

from bot import sending
from bot.context import YardemContext
from bot.services import Services
from storage.crypto import Pseudonymizer
from storage.errors import KeyFileError
from storage.keys import load_root_keys
from storage.sqlite import rotation

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 5
"""How often the bot looks for a rotation waiting on it."""
_told: set[tuple[int, str]] = set()
"""What was logged already, so a waiting rotation is not logged every few seconds."""


def _tell_once(target: int, message: str) -> None:
    if (target, message) not in _told:
        _told.add((target, message))
        log.error("key rotation waits for root key %d: %s", target, message)


async def follow_keys(services: Services) -> bool:
    """Take on a rotation's new key if one waits on this bot; True if it was taken now."""
    pending = await rotation.pending(services.database)
    if pending is None or pending.target in services.cipher.key_ids:
        return False
    settings = services.settings
    if settings.root_key is not None:
        _tell_once(pending.target, "restart the bot with the new ROOT_KEY value")
        return False
    try:
        keys = load_root_keys(path=settings.key_file, env_value=None)
        if pending.target not in keys.keys:
            return False
        if not hmac.compare_digest(
            Pseudonymizer(keys).check_value(), services.pseudonymizer.check_value()
        ):
            raise KeyFileError("the key file's pseudonym pepper changed; restart the bot")
        services.cipher.adopt(keys)
    except KeyFileError as error:
        _tell_once(pending.target, str(error))
        return False
    await rotation.note_bot_keys(services.database, services.cipher.key_ids)
    log.warning("took on root key %d for a rotation: new data is encrypted under it", keys.active)
    return True


# It sends nothing today; marked so anything it ever sends is routine bulk, not
# taken for the answer of whichever update armed its timer.
@sending.scheduled
async def follow_keys_job(context: YardemContext) -> None:
    await follow_keys(context.services)
