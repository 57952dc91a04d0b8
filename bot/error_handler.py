"""The one error handler: log without payloads, and never leave a member unanswered."""

from __future__ import annotations

import logging
import traceback
from dataclasses import replace
from pathlib import Path

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot import texts
from bot.context import YardemContext
from bot.i18n import suggest_locale
from bot.screens import node_screen, with_notice
from bot.telegram_io import send_screen
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
        snapshot = services.content.current
        step = engine.step(snapshot.registry, None, engine.Restart())
        locale = suggest_locale(user.language_code)
        key = services.members.key_for(user.id)
        state = None
        try:
            state = await services.members.load(key)
        except Exception as exc:  # storage may be what failed
            log.error("member state unavailable while apologising: %s", type(exc).__name__)
        if state is not None:
            locale = state.locale or locale
        tr = snapshot.translators[locale]
        screen = with_notice(
            tr.finish(texts.something_went_wrong(tr)),
            node_screen(snapshot.registry, tr, step.session),
        )
        sent = await send_screen(context.bot, chat.id, screen, snapshot.registry.layout)
        if state is not None:
            # The menu's buttons only work if the stored place is the menu too,
            # and /wipe must be able to delete the apology.
            await services.members.save(
                key, replace(state, session=step.session, screen_message=sent[-1])
            )
            # The member's own message of the failed turn was never recorded.
            incoming = [update.message.message_id] if update.message else []
            await services.members.remember(key, [*incoming, *sent])
    except Exception as exc:  # the apology itself must never raise
        log.error("could not tell the member about an error: %s", type(exc).__name__)
