"""Start-up's first contact with the Bot API: retried with backoff, then one clear line.

A server that boots before its network, a proxy still starting, a DNS hiccup:
these pass in seconds, so start-up waits and retries them. A rejected token
is not retried. What finally fails names ``BOT_API_URL``, the setting to check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.errors import BotError
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_PAUSE = 30.0


class UnreachableError(BotError):
    """The Bot API did not answer after every retry."""


def pauses(retries: int) -> list[float]:
    """1, 2, 4, 8, ... seconds between attempts, never more than MAX_PAUSE."""
    return [min(MAX_PAUSE, float(2**attempt)) for attempt in range(retries)]


async def reach_bot_api(
    settings: Settings,
    file_url: str,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Call ``getMe`` until it answers; raise UnreachableError after the last retry.

    ``InvalidToken`` and other refusals propagate at once: retrying cannot fix them.
    """
    bot = Bot(settings.require_token(), base_url=settings.bot_api_url, base_file_url=file_url)
    waits = pauses(settings.bot_api_retries)
    attempts = len(waits) + 1
    for attempt in range(1, attempts + 1):
        try:
            async with bot:  # initialize() calls getMe
                return
        except BadRequest:  # a NetworkError in PTB, but retrying cannot fix it
            raise
        except (NetworkError, RetryAfter) as error:
            failure: TelegramError = error
            pause = waits[attempt - 1] if attempt <= len(waits) else 0.0
        if attempt == attempts:
            raise UnreachableError(
                f"cannot reach the Bot API at BOT_API_URL={settings.bot_api_url} after "
                f"{attempts} attempt(s) ({type(failure).__name__}): check the network, DNS, "
                "a proxy or firewall, or BOT_API_URL"
            )
        log.warning(
            "the Bot API at BOT_API_URL=%s did not answer (%s); retrying in %.0f s "
            "(attempt %d of %d)",
            settings.bot_api_url,
            type(failure).__name__,
            pause,
            attempt,
            attempts,
        )
        await sleep(pause)
