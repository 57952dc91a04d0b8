"""The one error handler: log without payloads, and never leave a member unanswered."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.context import YardemContext
from bot.conversation import Conversation
from bot.i18n import suggest_locale
from bot.member_handlers import load_turn
from bot.telegram_io import send_screen

log = logging.getLogger(__name__)


def _where(exc: BaseException) -> str:
    """File and line of each frame: enough to debug, and no values from the update."""
    frames = traceback.extract_tb(exc.__traceback__)
    innermost_first = frames[::-1][:6]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in innermost_first)


async def on_error(update: object, context: YardemContext) -> None:
    exc = context.error
    if exc is None:
        return
    if isinstance(exc, Forbidden):
        log.info("a member has blocked the bot; the reply was not delivered")
        return
    if isinstance(exc, BadRequest):  # a NetworkError subclass in PTB, but our mistake
        log.error("Telegram refused a request: %s at %s", type(exc).__name__, _where(exc))
    elif isinstance(exc, RetryAfter | NetworkError):
        log.warning("Telegram unreachable or rate-limited: %s", type(exc).__name__)
    else:
        log.error("update failed: %s at %s", type(exc).__name__, _where(exc))
    if isinstance(update, Update):
        await _apologise(update, context)


async def _apologise(update: Update, context: YardemContext) -> None:
    """The menu with an apology, carried out like any other turn.

    Like a turn, it deletes what the member typed, strips old buttons and
    records what it sent for /wipe. If storage is what failed, the member is
    still answered, and nothing is stored.
    """
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    incoming = update.message
    typed = incoming is not None and not (incoming.text or "").startswith("/")
    query_message = update.callback_query.message if update.callback_query else None
    try:
        try:
            turn = await load_turn(update, context)
        except Exception as exc:  # storage may be what failed
            log.error("member state unavailable while apologising: %s", type(exc).__name__)
            await _apologise_without_storage(update, context)
            return
        if turn is not None:
            await turn.carry_out(
                turn.conversation.apologise(typed=typed),
                pressed=query_message if isinstance(query_message, Message) else None,
                incoming=incoming,
            )
    except TelegramError as exc:  # Telegram itself is failing; nothing more to do now
        log.warning("could not tell the member about an error: %s", type(exc).__name__)
    except Exception as exc:  # the apology itself must never raise
        log.error("could not tell the member about an error: %s", type(exc).__name__)


async def _apologise_without_storage(update: Update, context: YardemContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None
    assert chat is not None
    snapshot = context.services.content.current
    conversation = Conversation(snapshot, None, suggest_locale(user.language_code))
    for screen in conversation.apologise(typed=False).screens:
        await send_screen(context.bot, chat.id, screen, snapshot.registry.layout)
