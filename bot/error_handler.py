"""The one error handler: log without payloads, and never leave anyone unanswered.

A member gets the menu with an apology; a volunteer or coordinator an apology
in their own language and nothing else: no member menu, and no member state
is written for a staff account.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import staff_texts
from bot.actors import Staff, identify, private_sender
from bot.context import YardemContext
from bot.conversation import Conversation
from bot.i18n import suggest_locale
from bot.member_handlers import load_turn
from bot.telegram_io import send_screen
from storage.staff import StaffMember

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
        # Later handler groups would run without what failed (the actor, say).
        raise ApplicationHandlerStop


async def _apologise(update: Update, context: YardemContext) -> None:
    """The menu with an apology, carried out like any other turn.

    Like a turn, it deletes what the member typed, strips old buttons and
    records what it sent for /wipe. If storage is what failed, the member is
    still answered, and nothing is stored.
    """
    if private_sender(update) is None:
        return
    incoming = update.message
    typed = incoming is not None and not (incoming.text or "").startswith("/")
    query_message = update.callback_query.message if update.callback_query else None
    try:
        try:
            # Again, not from the failed update's context: PTB gives the error
            # handler a fresh one, and the lookup may be what failed.
            actor = await identify(update, context.services)
            if isinstance(actor, Staff):
                await _apologise_to_staff(update, context, actor.account)
                return
            turn = await load_turn(update, context, actor)
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


async def _apologise_to_staff(update: Update, context: YardemContext, account: StaffMember) -> None:
    """A pop-up on the pressed button, else a message: never a member's menu."""
    translators = context.services.content.current.translators
    tr = translators.get(account.locale) or translators["en"]
    text = tr.finish(staff_texts.went_wrong(tr))
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(text, show_alert=True)
            return
        except BadRequest:
            log.debug("a failed staff press was too old to answer; saying so in the chat")
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, protect_content=True)


async def _apologise_without_storage(update: Update, context: YardemContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None
    assert chat is not None
    snapshot = context.services.content.current
    conversation = Conversation(snapshot, None, suggest_locale(user.language_code))
    for screen in conversation.apologise(typed=False).screens:
        await send_screen(context.bot, chat.id, screen, snapshot.registry.layout)
