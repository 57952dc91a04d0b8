"""Concurrent update processing that keeps each chat's updates in order.

Different members are served at the same time; two updates from one chat
(a double tap, a message sent while a screen is drawn) run one after the
other, so a member's state is never read and written by two handlers at once.
A chat waits for its own turn before it takes one of the shared slots, so one
chat flooding the bot cannot hold every slot while its updates queue up; past
a long queue, a flooding chat's extra updates are dropped, except a wipe. A
wipe never waits for a shared slot either: a flood may hold them all.

While an update runs, the sending policy knows which chat it answers (and
whether it is a wipe), and may take its slot back while one of its requests
waits (see :mod:`bot.sending`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import sending
from bot.callbacks import WipeAsk, WipeConfirm, decode

log = logging.getLogger(__name__)

MAX_QUEUED_PER_CHAT = 64
"""Well above what a person sends at once (an album is ten messages, a
forwarded batch a few dozen); past it the chat is a script flooding the bot."""


def is_wipe(update: object) -> bool:
    """A member in danger must be able to wipe even while their chat is busy."""
    if not isinstance(update, Update):
        return False
    if update.message is not None and (update.message.text or "").split(" ")[0] == "/wipe":
        return True
    query = update.callback_query
    return query is not None and isinstance(decode(query.data).action, WipeConfirm | WipeAsk)


MAX_PENDING = 1 << 20
"""PTB's own bound counts waiting updates too; ours counts only running ones.
It bounds nothing else (PTB creates a task per update before taking it), and a
wipe must not queue behind a flood at it, so it is set out of the way."""


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = 64,
        *,
        screen: Callable[[object], bool] | None = None,
    ) -> None:
        """``screen`` says whether an update may go on at all (False drops it).

        It runs before the chat's turn and the shared slots, so what it drops
        (a flooding account's updates, see bot.flood) never waits behind, nor
        delays, anyone else's.
        """
        # PTB takes its semaphore before we see the update, so it is set wide and
        # the real limit on running handlers is ours, taken after the chat's turn.
        super().__init__(MAX_PENDING)
        self._screen = screen
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        # Chat ids live here only while an update of that chat is in flight.
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @staticmethod
    def _chat_of(update: object) -> int | None:
        if isinstance(update, Update) and update.effective_chat is not None:
            return update.effective_chat.id
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._screen is not None and not self._screen(update):
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        chat = self._chat_of(update)
        if chat is None:
            async with sending.Slot(self._slots) as slot:
                with sending.answering(None, slot):
                    await coroutine
            return
        wipe = is_wipe(update)
        if self._waiting.get(chat, 0) >= MAX_QUEUED_PER_CHAT and not wipe:
            log.warning("dropped an update from a chat that is flooding the bot")
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                if wipe:
                    # In order within its chat, but past the shared slots a flood
                    # may hold; its answers go out at once and its farewell to
                    # volunteers goes first among bulk sends (sending.wiping).
                    with sending.wiping(chat):
                        await coroutine
                else:
                    async with sending.Slot(self._slots) as slot:
                        with sending.answering(chat, slot):
                            await coroutine
        finally:
            self._waiting[chat] -= 1
            if self._waiting[chat] == 0:
                del self._waiting[chat]
                del self._locks[chat]

    async def initialize(self) -> None:
        """Nothing to set up: locks are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to release."""
