"""Drawing screens in a Telegram chat: send, edit in place, delete."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.callbacks import encode
from bot.screens import Screen, split_text

log = logging.getLogger(__name__)

DELETE_BATCH = 100
"""deleteMessages takes at most 100 ids a call."""


def keyboard(screen: Screen, version: str) -> InlineKeyboardMarkup | None:
    if not screen.rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=encode(button.action, version))
                for button in row
            ]
            for row in screen.rows
        ]
    )


async def send_screen(bot: Bot, chat_id: int, screen: Screen, version: str) -> list[int]:
    """Send a screen as one or more messages (keyboard on the last); return their ids."""
    chunks = split_text(screen.text)
    sent: list[int] = []
    for number, chunk in enumerate(chunks, start=1):
        markup = keyboard(screen, version) if number == len(chunks) else None
        message = await bot.send_message(chat_id, chunk, reply_markup=markup, protect_content=True)
        sent.append(message.message_id)
    return sent


async def replace_screen(
    bot: Bot, message: Message | None, chat_id: int, screen: Screen, version: str
) -> list[int]:
    """Draw over the message a button was pressed on, so the chat does not grow.

    Falls back to sending anew when the screen needs several messages or the
    old one can no longer be edited.
    """
    chunks = split_text(screen.text)
    if message is not None and len(chunks) == 1:
        try:
            await bot.edit_message_text(
                chunks[0],
                chat_id=chat_id,
                message_id=message.message_id,
                reply_markup=keyboard(screen, version),
            )
            return []
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return []
            log.info("could not edit a screen in place (%s); sending it anew", type(exc).__name__)
    return await send_screen(bot, chat_id, screen, version)


async def delete_messages(bot: Bot, chat_id: int, message_ids: Sequence[int]) -> None:
    """Delete what Telegram still allows; a message already gone is not an error."""
    ids = sorted(set(message_ids))
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH])
        except BadRequest as exc:
            log.info("some messages could not be deleted (%s)", type(exc).__name__)
