"""``/locales``: coordinators switch the languages members may pick on or off.

A language is in the live set when its catalog is (shipped in ``locales/`` or
published since). A shipped one is on unless switched off; one a coordinator
added is off until switched on, and may be switched on only while its catalog
translates every text, so members never get a language that is mostly English.
English, the source, is always on. Every switch asks for a confirmation, is
written with an audit entry (:meth:`storage.content.SqliteContentRepository.switch_locale`)
and reaches every worker with the next content poll.

Buttons say ``s|Q|<locale>|<1 or 0>`` (ask) and ``s|Z|<locale>|<1, 0 or c>``
(confirm, or cancel); nothing in them is trusted: the presser must be an active
coordinator and the language is looked up in the live set again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import locale_texts, staff_texts
from bot.actors import Staff, coordinator_of
from bot.callbacks import PanelPress, decode
from bot.content import Snapshot, locale_complete
from bot.context import YardemApplication, YardemContext
from bot.i18n import Translator, language_name
from bot.referral_desk import Desk, button
from flows.pending import pending_texts
from flows.registry import SOURCE_LOCALE
from storage.staff import StaffMember

StrayHandler = Callable[[Update, YardemContext], Awaitable[None]]

log = logging.getLogger(__name__)

COMMAND = "locales"
ASK = "Q"
CONFIRM = "Z"
_ON, _OFF, _CANCEL = "1", "0", "c"


def _switchable(snapshot: Snapshot) -> tuple[str, ...]:
    return tuple(locale for locale in snapshot.registry.locales if locale != SOURCE_LOCALE)


def _untranslated(snapshot: Snapshot, locale: str) -> int:
    registry = snapshot.registry
    catalog = registry.catalogs.get(locale)
    return len(pending_texts(registry.flows.values(), catalog, registry.template))


def _overview(tr: Translator, snapshot: Snapshot) -> tuple[str, InlineKeyboardMarkup]:
    lines = [locale_texts.overview_title(tr)]
    rows = []
    for locale in _switchable(snapshot):
        name = language_name(locale)
        on = locale in snapshot.member_locales
        line = locale_texts.state_on(tr, name) if on else locale_texts.state_off(tr, name)
        missing = _untranslated(snapshot, locale)
        if missing:
            line += f" · {locale_texts.untranslated(tr, missing)}"
        lines.append(line)
        label = (
            locale_texts.switch_off_label(tr, name)
            if on
            else locale_texts.switch_on_label(tr, name)
        )
        rows.append([button(label, PanelPress(ASK, (locale, _OFF if on else _ON)))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _show(desk: Desk, member: StaffMember) -> None:
    snapshot = desk.services.content.current
    tr = desk.tr(member.locale)
    text, markup = _overview(tr, snapshot)
    await desk.tell_staff(member, lambda _: text, markup)


def _may_switch_on(snapshot: Snapshot, locale: str, shipped: Snapshot) -> bool:
    """A shipped language may always come back on; an added one only when complete."""
    return locale in shipped.registry.catalogs or locale_complete(snapshot, locale)


async def _ask(desk: Desk, member: StaffMember, locale: str, enabled: bool) -> str | None:
    """The confirmation; or a refusal for a pop-up."""
    content = desk.services.content
    snapshot = content.current
    tr = desk.tr(member.locale)
    name = language_name(locale)
    if enabled and not _may_switch_on(snapshot, locale, content.shipped):
        return locale_texts.incomplete(tr, name, _untranslated(snapshot, locale))
    value = _ON if enabled else _OFF
    markup = InlineKeyboardMarkup(
        [
            [
                button(locale_texts.confirm_label(tr), PanelPress(CONFIRM, (locale, value))),
                button(locale_texts.cancel_label(tr), PanelPress(CONFIRM, (locale, _CANCEL))),
            ]
        ]
    )
    question = locale_texts.confirm_on if enabled else locale_texts.confirm_off
    await desk.tell_staff(member, lambda tr: question(tr, name), markup)
    return None


async def _confirm(desk: Desk, member: StaffMember, locale: str, value: str) -> str | None:
    content = desk.services.content
    tr = desk.tr(member.locale)
    if value == _CANCEL:
        await desk.tell_staff(member, locale_texts.cancelled)
        return None
    enabled = value == _ON
    name = language_name(locale)
    # Checked again: the set may have changed between the question and the answer.
    if enabled and not _may_switch_on(content.current, locale, content.shipped):
        return locale_texts.incomplete(tr, name, _untranslated(content.current, locale))
    await content.switch_locale(
        locale, enabled, by=member.label, today=desk.services.clock().date()
    )
    log.info("a coordinator switched a language %s", "on" if enabled else "off")
    done = locale_texts.now_on if enabled else locale_texts.now_off
    await desk.tell_staff(member, lambda tr: done(tr, name))
    await _show(desk, member)
    return None


def _command(stray: StrayHandler) -> CommandHandler[YardemContext, None]:
    async def handle(update: Update, context: YardemContext) -> None:
        member = coordinator_of(context)
        if member is None:
            # Answered like any stray message: the command's existence is not confirmed.
            await stray(update, context)
            return
        await _show(Desk(context.bot, context.services), member)

    return CommandHandler(
        COMMAND, handle, filters=filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    )


async def _on_button(update: Update, context: YardemContext) -> None:
    query = update.callback_query
    if query is None:
        return
    desk = Desk(context.bot, context.services)
    actor = context.actor
    member = actor.account if isinstance(actor, Staff) else None
    action = decode(query.data).action
    refusal: str | None
    if (
        member is None
        or not member.is_coordinator
        or not isinstance(action, PanelPress)
        or len(action.args) != 2
    ):
        tr = desk.tr(member.locale if member is not None else SOURCE_LOCALE)
        refusal = staff_texts.not_allowed(tr)
    else:
        locale, value = action.args
        tr = desk.tr(member.locale)
        if locale not in _switchable(context.services.content.current):
            refusal = locale_texts.unknown_language(tr)
        elif action.panel == ASK and value in (_ON, _OFF):
            refusal = await _ask(desk, member, locale, value == _ON)
        elif action.panel == CONFIRM and value in (_ON, _OFF, _CANCEL):
            refusal = await _confirm(desk, member, locale, value)
        else:
            refusal = staff_texts.not_allowed(tr)
    try:
        if refusal is None:
            await query.answer()
        else:
            await query.answer(tr.finish(refusal), show_alert=True)
    except BadRequest:
        log.debug("a language switch press was too old to answer")


def register(application: YardemApplication, stray: StrayHandler) -> None:
    """Before the staff buttons' handler, which would take every ``s|`` press."""
    application.add_handler(_command(stray))
    application.add_handler(CallbackQueryHandler(_on_button, pattern=rf"^s\|[{ASK}{CONFIRM}]\|"))
