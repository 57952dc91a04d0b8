"""Strangers when Yardem is full: a kind word, and the crisis path kept open longest.

A stranger is anyone without stored state. Under attack a script can make
thousands of accounts, each of which would become a member row; past
``NEW_MEMBERS_PER_HOUR`` in an hour a stranger is told, in their Telegram
language, that Yardem is full for now and that nothing about them was
stored, once an hour. The note carries one button, the main menu's
"Detained or stopped now": pressing it admits them on the crisis path's own
allowance, straight into the detained flow in that language. Volunteers and
coordinators are never turned away, and an invite link is redeemed before
this gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError

from bot import limit_texts
from bot.callbacks import ChooseButton, decode
from bot.context import YardemContext
from bot.i18n import suggest_locale
from bot.members import MemberState
from bot.screens import Button, Screen
from bot.telegram_io import send_screen
from flows.engine import MENU, screen_token
from flows.model import MessageNode, text_context
from flows.registry import Registry

log = logging.getLogger(__name__)

CRISIS_OPTION = "detained"
"""The main menu's option for someone detained or stopped now."""


def crisis_button(registry: Registry) -> tuple[str, ChooseButton] | None:
    """The main menu's crisis option, as (English label, action); None if the menu lacks it."""
    node = registry.node(MENU.flow, MENU.node)
    if not isinstance(node, MessageNode):
        return None
    for index, option in enumerate(node.options):
        if option.id == CRISIS_OPTION:
            return option.label, ChooseButton(screen_token(MENU), index)
    return None


def _is_crisis(update: Update, registry: Registry) -> bool:
    query = update.callback_query
    found = crisis_button(registry)
    if query is None or found is None:
        return False
    pressed = decode(query.data)
    return pressed.layout == registry.layout and pressed.action == found[1]


@dataclass(frozen=True)
class Admitted:
    state: MemberState | None
    """Already stored for a stranger who came in on the crisis path, else None."""


async def admit(update: Update, context: YardemContext, key: bytes) -> Admitted | None:
    """Whether a stranger may start now; None if not (and they were told, once an hour)."""
    services = context.services
    registry = services.content.current.registry
    gate = services.limits.newcomers
    now = services.clock().timestamp()
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return None
    crisis = _is_crisis(update, registry)
    if gate.admit(now, crisis=crisis):
        if not crisis:
            return Admitted(None)
        # The crisis button was shown in this language: go on in it, no picker first.
        state = MemberState(locale=suggest_locale(user.language_code))
        await services.members.save(key, state)
        return Admitted(state)
    if await services.staff.get(key) is not None:
        return Admitted(None)
    if gate.first_refusal(now):
        log.warning(
            "%d new members this hour: further strangers are asked to come back later "
            "(NEW_MEMBERS_PER_HOUR)",
            gate.per_hour,
        )
    if gate.tell(key, now):
        await _refuse(context, chat.id, user.language_code, crisis_open=gate.crisis_open(now))
    return None


async def _refuse(
    context: YardemContext, chat_id: int, language_code: str | None, *, crisis_open: bool
) -> None:
    snapshot = context.services.content.current
    tr = snapshot.translators[suggest_locale(language_code)]
    text = tr.finish(limit_texts.newcomer_busy(tr))
    rows: tuple[tuple[Button, ...], ...] = ()
    found = crisis_button(snapshot.registry)
    if crisis_open and found is not None:
        label, action = found
        text += "\n\n" + tr.finish(limit_texts.newcomer_crisis(tr))
        translated = tr.pgettext(text_context(MENU.flow, MENU.node, CRISIS_OPTION), label)
        rows = ((Button(tr.finish(translated), action),),)
    try:
        # Not remembered for /wipe: nothing about a stranger is stored, not even this.
        await send_screen(context.bot, chat_id, Screen(text, rows), snapshot.registry.layout)
    except TelegramError as error:
        log.info("a stranger could not be told Yardem is full: %s", type(error).__name__)
