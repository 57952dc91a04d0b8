"""A wipe goes first: it never queues behind a flood.

A member in danger who sends /wipe must not wait behind thousands of updates
from a flood. Three queues could hold it: python-telegram-bot's bound on
pending updates, the update processor's shared slots, and the rate limiter
that keeps the bot within Telegram's 30 messages a second, which a flood of
many accounts fills for minutes. The update processor (:mod:`bot.updates`)
lets a wipe past the first two and marks its task with :data:`wiping`;
:class:`WipeFirstRateLimiter` lets the calls made for it past the third.

The lane stays short: each account has a small allowance of wipes
(:mod:`bot.rate_limits`), and a wiped account is a stranger again, under the
newcomer cap.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

wiping: ContextVar[bool] = ContextVar("wiping", default=False)
"""True in the task that handles a wipe (a context variable is per task)."""


class WipeFirstRateLimiter(AIORateLimiter):
    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if wiping.get():
            try:
                return await callback(*args, **kwargs)
            except RetryAfter:
                pass  # Telegram itself asks to slow down: wait like every other call.
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
