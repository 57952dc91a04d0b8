"""Drawing screens in a Telegram chat: send, edit in place, delete."""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Message
from telegram.error import BadRequest, TelegramError

from bot.callbacks import encode
from bot.screens import Screen, split_text

log = logging.getLogger(__name__)

BLANK = "·"
"""What an undeletable old screen is overwritten with: nothing to read."""
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


async def send_screen(
    bot: Bot, chat_id: int, screen: Screen, layout: str, sent: list[int] | None = None
) -> list[int]:
    """Send a screen as one or more messages (keyboard on the last); return their ids.

    Each id is also appended to ``sent`` as soon as its message exists, so a
    caller can record what reached the chat even when a later part fails.
    """
    chunks = split_text(screen.text)
    new: list[int] = []
    for number, chunk in enumerate(chunks, start=1):
        markup = keyboard(screen, layout) if number == len(chunks) else None
        message = await bot.send_message(chat_id, chunk, reply_markup=markup, protect_content=True)
        new.append(message.message_id)
        if sent is not None:
            sent.append(message.message_id)
    return new


async def replace_screen(
    bot: Bot,
    message: Message,
    chat_id: int,
    screen: Screen,
    layout: str,
    now: datetime,
    sent: list[int] | None = None,
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
            log.debug("could not edit a screen in place (%s); sending it anew", type(exc).__name__)
    return await send_screen(bot, chat_id, screen, layout, sent)


async def remove_keyboard(bot: Bot, chat_id: int, message_id: int) -> None:
    """Old screens lose their buttons so only the newest screen can be pressed."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramError as exc:
        log.debug("could not remove an old keyboard (%s)", type(exc).__name__)


async def blank_out(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Overwrite a message the bot may no longer delete: edits have no age limit."""
    try:
        await bot.edit_message_text(BLANK, chat_id=chat_id, message_id=message_id)
    except TelegramError as exc:
        log.debug("could not blank out an old message (%s)", type(exc).__name__)
        return False
    return True


def _grey_png(side: int) -> bytes:
    """A plain grey square: what a blanked photo, video or document shows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = b"".join(b"\x00" + b"\xc8" * side for _ in range(side))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


BLANK_PHOTO = _grey_png(64)


async def blank_media(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Replace a photo, video or document (and its caption) the bot may no longer delete.

    editMessageText cannot touch a media message and editMessageCaption leaves
    the picture, so the media itself is swapped for a grey square, captionless.
    Voice and video notes cannot be edited at all; they are removed in time.
    """
    try:
        await bot.edit_message_media(
            InputMediaPhoto(BLANK_PHOTO), chat_id=chat_id, message_id=message_id
        )
    except TelegramError as exc:
        log.debug("could not blank out an old photo or file (%s)", type(exc).__name__)
        return False
    return True


async def delete_messages(bot: Bot, chat_id: int, message_ids: Sequence[int]) -> list[int]:
    """Delete what Telegram still allows; return the ids whose deletion failed.

    Telegram skips messages it will not delete (too old, already gone) without
    an error; an error means the request itself failed.
    """
    ids = sorted(set(message_ids))
    failed: list[int] = []
    for start in range(0, len(ids), DELETE_BATCH):
        batch = ids[start : start + DELETE_BATCH]
        try:
            await bot.delete_messages(chat_id, batch)
        except TelegramError as exc:
            log.debug("a deletion request failed (%s)", type(exc).__name__)
            failed += batch
    return failed
