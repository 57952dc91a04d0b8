"""Drawing screens in a Telegram chat: send, edit in place, delete."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.callbacks import encode
from bot.screens import Screen, split_text

log = logging.getLogger(__name__)

DELETE_BATCH = 100
"""deleteMessages takes at most 100 ids a call."""
EDITABLE_FOR = timedelta(hours=46)
"""Telegram lets a bot delete a message for 48 h after it was sent, and an
edit does not extend that. A screen drawn over an older message could never be
wiped, so past this age a screen is sent anew (which /wipe can delete)."""


def keyboard(screen: Screen, layout: str) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=encode(button.action, layout))
                for button in row
            ]
            for row in screen.rows
        ]
    )


async def send_screen(bot: Bot, chat_id: int, screen: Screen, layout: str) -> list[int]:
    """Send a screen as one or more messages (keyboard on the last); return their ids."""
    chunks = split_text(screen.text)
    sent: list[int] = []
    for number, chunk in enumerate(chunks, start=1):
        markup = keyboard(screen, layout) if number == len(chunks) else None
        message = await bot.send_message(chat_id, chunk, reply_markup=markup, protect_content=True)
        sent.append(message.message_id)
    return sent


async def replace_screen(
    bot: Bot, message: Message, chat_id: int, screen: Screen, layout: str, now: datetime
) -> list[int]:
    """Draw over the message a button was pressed on, so the chat does not grow.

    Returns the ids of messages sent anew: none when the edit worked. Falls back
    to sending when the screen needs several messages, the old message is too
    old to be wiped later, or it can no longer be edited.
    """
    chunks = split_text(screen.text)
    if len(chunks) == 1 and now - message.date < EDITABLE_FOR:
        try:
            await bot.edit_message_text(
                chunks[0],
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=keyboard(screen, layout),
            )
            return []
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return []
            log.info("could not edit a screen in place (%s); sending it anew", type(exc).__name__)
    return await send_screen(bot, chat_id, screen, layout)


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Old screens lose their buttons so only the newest screen can be pressed."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramError as exc:
        log.info("could not remove an old keyboard (%s)", type(exc).__name__)


async def delete_messages(bot: Bot, chat_id: int, message_ids: Sequence[int]) -> None:
    """Delete what Telegram still allows; a message already gone is not an error."""
    ids = sorted(set(message_ids))
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH])
        except TelegramError as exc:
            log.info("some messages could not be deleted (%s)", type(exc).__name__)
