"""The one error handler: log without payloads, and never leave a member unanswered."""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace
from pathlib import Path

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import texts
from bot.context import YardemContext
from bot.i18n import suggest_locale
from bot.members import MemberState
from bot.screens import node_screen, with_notice
from bot.telegram_io import delete_messages, remove_keyboard, send_screen
from flows import engine

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
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    try:
        services = context.services
        bot = context.bot
        snapshot = services.content.current
        key = services.members.key_for(user.id)
        state: MemberState | None = None
        storage_works = True
        try:
            state = await services.members.load(key)
        except Exception as exc:  # storage may be what failed
            storage_works = False
            log.error("member state unavailable while apologising: %s", type(exc).__name__)
        # What the member typed in the failed turn may be personal: it goes.
        incoming = update.message
        typed = incoming is not None and not (incoming.text or "").startswith("/")
        if typed and incoming and not await delete_messages(bot, chat.id, [incoming.message_id]):
            incoming = None  # deleted, so nothing to record
        # Old buttons go, so only the apology's menu can be pressed.
        query_message = update.callback_query.message if update.callback_query else None
        old_screens = {
            state.screen_message if state else None,
            query_message.message_id if isinstance(query_message, Message) else None,
        }
        for message_id in old_screens - {None}:
            assert message_id is not None
            await remove_keyboard(bot, chat.id, message_id)
        locale = (state.locale if state else None) or suggest_locale(user.language_code)
        tr = snapshot.translators[locale]
        menu = engine.step(snapshot.registry, None, engine.Restart()).session
        screen = with_notice(
            tr.finish(texts.something_went_wrong(tr)), node_screen(snapshot.registry, tr, menu)
        )
        sent: list[int] = []
        try:
            await send_screen(bot, chat.id, screen, snapshot.registry.layout, sent)
        finally:
            if storage_works:
                # The menu's buttons only work if the stored place is the menu
                # too, and /wipe must be able to delete the apology.
                fresh = replace(
                    state or MemberState(), session=menu, screen_message=sent[-1] if sent else None
                )
                await services.members.save(key, fresh)
                await services.members.remember(
                    key, [*([incoming.message_id] if incoming else []), *sent]
                )
    except TelegramError as exc:  # Telegram itself is failing; nothing more to do now
        log.warning("could not tell the member about an error: %s", type(exc).__name__)
    except Exception as exc:  # the apology itself must never raise
        log.error("could not tell the member about an error: %s", type(exc).__name__)
