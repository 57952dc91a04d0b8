"""The bots a benchmark runs: Yardem as shipped, and the floor.

The floor is a bare python-telegram-bot bot doing the least work a press can
take: answer the callback query and edit the message into the next screen. It
runs PTB's own concurrent update processing with the same number of updates at
once as Yardem (64) and no rate limiter, so the gap between the two is
Yardem's own work: storage, encryption, the flow engine, rendering, its
per-chat ordering and its sending policy.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crowd import LABELS
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler

from bot.application import build_application
from bot.settings import Settings
from tests.fakebot import TEST_TOKEN

CONCURRENCY = 64
"""Yardem's PerChatUpdateProcessor runs 64 updates at once; the floor gets the same."""

_SCREENS = {
    # callback data -> (text, the one button on the next screen)
    "menu": ("Main menu", InlineKeyboardButton(LABELS[1], callback_data="topic")),
    "topic": ("A topic", InlineKeyboardButton(LABELS[2], callback_data="menu")),
}


def floor(base_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    application = (
        ApplicationBuilder()
        .token(TEST_TOKEN)
        .base_url(base_url)
        .concurrent_updates(CONCURRENCY)
        .build()
    )

    async def start(update: Update, context: object) -> None:
        text, button = _SCREENS["menu"]
        assert update.effective_chat is not None
        markup = InlineKeyboardMarkup([[button]])
        await update.effective_chat.send_message(text, reply_markup=markup)

    async def press(update: Update, context: object) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        text, button = _SCREENS.get(query.data or "", _SCREENS["menu"])
        await query.edit_message_text(text, reply_markup=InlineKeyboardMarkup([[button]]))

    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(press))
    return application


def yardem(base_url: str, scratch: Path) -> Application[Any, Any, Any, Any, Any, Any]:
    """Yardem as shipped, with its data and its key in two folders of ``scratch``.

    The per-account flood limit and the newcomer cap are set out of the way, as
    in the end-to-end tests: simulated members press far faster than a person
    and arrive by the thousand, and what those limits cost is bench_flood.py's
    question, not this one's.
    """
    return build_application(
        Settings(
            bot_token=TEST_TOKEN,
            bot_api_url=base_url,
            data_dir=scratch / "data",
            root_key_file=scratch / "config" / "root.key",
            flood_burst=1_000_000,
            new_members_per_hour=1_000_000,
        )
    )


@contextlib.asynccontextmanager
async def running(application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """The start and stop sequence of Application.run_polling, inside our own event loop."""
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        try:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield
            finally:
                await application.updater.stop()
                await application.stop()
        finally:
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


def quiet_logs() -> None:
    """Warnings only: the root-key notices of a fresh data directory are expected here."""
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
