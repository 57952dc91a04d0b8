"""The Telegram side of the per-account limits in :mod:`bot.rate_limits`.

:class:`FloodCheck` judges every update before it queues anywhere, and
:func:`guard`, the first handler, carries the verdict out: an account sending
faster than a person does is slowed, then ignored for a while, before its
update touches the database, so its flood costs the others almost nothing.
A wipe has its own allowance and always gets through. The relay has its own
pace both ways (:func:`relay_allowed`), so neither a member nor a volunteer
can bury the other side's chat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import limit_texts
from bot.actors import private_sender
from bot.context import YardemContext
from bot.i18n import Translator, suggest_locale
from bot.rate_limits import FLOOD_IGNORE_MINUTES, Verdict
from bot.services import Services
from bot.updates import is_wipe
from storage.errors import StorageError

log = logging.getLogger(__name__)


_verdict: ContextVar[Verdict | None] = ContextVar("flood_verdict", default=None)
"""The verdict FloodCheck gave this update, for :func:`guard` in the same task."""


class FloodCheck:
    """The per-account check, run by the update processor before anything queues.

    An update to drop silently goes no further: it never waits for a shared
    slot, so a flood of many accounts is thrown away as fast as it arrives
    instead of lining up in front of everyone else. The services arrive when
    the application has started; until then everything goes on.
    """

    def __init__(self) -> None:
        self.services: Services | None = None

    def __call__(self, update: object) -> bool:
        services = self.services
        if services is None or not isinstance(update, Update):
            return True
        verdict = _check(services, update)
        _verdict.set(verdict)
        return verdict is not Verdict.DROP


def _check(services: Services, update: Update) -> Verdict:
    sender = private_sender(update)
    if sender is None:
        return Verdict.SERVE
    user, _ = sender
    key = services.members.key_for(user.id)
    return services.limits.flood.check(key, services.clock().timestamp(), wipe=is_wipe(update))


async def guard(update: Update, context: YardemContext) -> None:
    """Stop what FloodCheck refused; tell the account once when it is slowed or ignored."""
    sender = private_sender(update)
    if sender is None:
        return
    user, chat = sender
    services = context.services
    verdict = _verdict.get()
    if verdict is None:  # processed without FloodCheck (an update fed in directly)
        verdict = _check(services, update)
    if verdict is Verdict.SERVE:
        return
    key = services.members.key_for(user.id)
    if verdict is Verdict.SLOWED:
        log.info("an account is sending faster than a person does; it is being slowed")
        await tell(context, key, chat.id, user.language_code, limit_texts.slowed)
    elif verdict is Verdict.IGNORED:
        log.warning("an account flooded the bot; ignored for %d minutes", FLOOD_IGNORE_MINUTES)
        await tell(
            context,
            key,
            chat.id,
            user.language_code,
            lambda tr: limit_texts.ignored(tr, FLOOD_IGNORE_MINUTES),
        )
    raise ApplicationHandlerStop


async def tell(
    context: YardemContext,
    key: bytes,
    chat_id: int,
    language_code: str | None,
    text: Callable[[Translator], str],
) -> None:
    """One note in the account's own language; a member's is kept for /wipe."""
    services = context.services
    try:
        state = await services.members.load(key)
        locale = state.locale if state is not None else None
        if locale is None:
            staff = await services.staff.get(key)
            locale = staff.locale if staff is not None else suggest_locale(language_code)
    except StorageError:
        state, locale = None, suggest_locale(language_code)
    tr = _translator(services, locale)
    try:
        sent = await context.bot.send_message(chat_id, tr.finish(text(tr)), protect_content=True)
    except TelegramError as error:
        log.info("a note about sending too fast was not delivered: %s", type(error).__name__)
        return
    if state is not None:
        try:
            await services.members.remember(key, [sent.message_id])
        except StorageError:
            log.info("a member wiped while being told to slow down")


def _translator(services: Services, locale: str) -> Translator:
    translators = services.content.current.translators
    return translators.get(locale) or translators["en"]


async def relay_allowed(
    context: YardemContext,
    direction: str,
    key: bytes,
    chat_id: int,
    locale: str,
) -> bool:
    """Whether a relayed message may go on; the sender hears (now and then) when not.

    ``direction`` is "member" (member to volunteer) or "staff" (volunteer to member).
    """
    services = context.services
    allowed, tell_now = services.limits.relay.allow(direction, key, services.clock().timestamp())
    if allowed:
        return True
    log.info("a relayed message was held back: its sender is sending too fast")
    if tell_now:
        tr = _translator(services, locale)
        try:
            sent = await context.bot.send_message(
                chat_id, tr.finish(limit_texts.relay_too_fast(tr)), protect_content=True
            )
        except TelegramError as error:
            log.info("a note about the relay's pace was not delivered: %s", type(error).__name__)
            return False
        if direction == "member":
            try:
                await services.members.remember(key, [sent.message_id])
            except StorageError:
                log.info("a member wiped while being told about the relay's pace")
    return False
