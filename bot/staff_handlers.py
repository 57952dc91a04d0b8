"""Telegram handlers for volunteers and coordinators.

Who someone is comes only from the sender's Telegram id, looked up by its
pseudonym; button data names a verb and a referral or label and is checked
against that account's role and hold before anything changes. A command from
anyone else is answered as a member's stray message would be, so the bot does
not reveal that staff commands exist; a staff button from anyone else (which
only a forger has) gets a plain "not available" pop-up.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot import referral_texts, staff_texts
from bot.actors import Staff, private_sender
from bot.callbacks import (
    AskClose,
    AskHandover,
    Assign,
    Claim,
    Close,
    DecideLanguage,
    LanguagesDone,
    ManageStaff,
    Release,
    StaffAction,
    StaffChange,
    Talk,
    ToggleLanguage,
    decode,
)
from bot.context import YardemContext
from bot.i18n import LANGUAGE_NAMES, Translator, suggest_locale
from bot.referral_choices import label
from bot.referral_desk import Desk, button, claims_counted_from, reference
from bot.referral_terms import Field, Outcome
from bot.relay_policy import judge
from bot.staff_decisions import (
    Decision,
    Facts,
    OnAccount,
    OnReferral,
    OwnLanguages,
    PassOn,
    Reason,
    Refused,
    claim_alert_due,
    coordinators,
    decide,
    handover_candidates,
    invite_role,
    may_see_roster,
)
from bot.telegram_io import remove_keyboard
from flows.registry import LOCALES
from storage.errors import StorageError
from storage.referrals import Referral
from storage.staff import StaffMember

log = logging.getLogger(__name__)

INVITE_LIFETIME = timedelta(hours=48)


def _desk(context: YardemContext) -> Desk:
    return Desk(context.bot, context.services)


async def _say(desk: Desk, member: StaffMember, text: Callable[[Translator], str]) -> None:
    await desk.tell_staff(member, text)


# Invites ---------------------------------------------------------------------


async def redeem_invite(update: Update, context: YardemContext, code: str) -> bool:
    """``/start <code>``: register the sender if the code is a live invite."""
    sender = private_sender(update)
    if sender is None or len(code) > 64:
        return False
    user, chat = sender
    services = context.services
    key = services.members.key_for(user.id)
    # Any account, a suspended one too: the actor names only active ones.
    existing = await services.staff.get(key)
    desk = _desk(context)
    if existing is not None:
        # Not consumed: an invite must not re-activate a suspended account or
        # change someone's role behind the coordinators' backs.
        tr = desk.tr(existing.locale)
        await context.bot.send_message(
            chat.id, tr.finish(staff_texts.already_registered(tr)), protect_content=True
        )
        return True
    invite = await services.staff.redeem_invite(
        services.pseudonymizer.invite_hash(code), now=int(services.clock().timestamp())
    )
    if invite is None:
        return False
    state = await services.members.load(key)
    locale = state.locale if state and state.locale else suggest_locale(user.language_code)
    member = await services.staff.add(
        key,
        role=invite.role,
        label=services.pseudonymizer.label(key),
        locale=locale,
        chat_id=chat.id,
        actor=invite.created_by,
        today=services.clock().date(),
    )
    await _say(desk, member, lambda tr: staff_texts.welcome(tr, member.is_coordinator))
    if member.is_coordinator:
        await _say(desk, member, lambda tr: staff_texts.help_text(tr, True))
    else:
        await _show_languages(desk, member, None)
    inviter = await services.staff.by_label(invite.created_by)
    if inviter is not None and inviter.active:
        # Whoever used a stolen link is at least noticed at once.
        await _say(
            desk,
            inviter,
            lambda tr: staff_texts.invite_used(tr, member.label, member.is_coordinator),
        )
    return True


async def _invite(update: Update, context: YardemContext, member: StaffMember) -> None:
    desk = _desk(context)
    role = invite_role(member, context.args or [])
    if isinstance(role, Refused):
        await _say(desk, member, staff_texts.not_allowed)
        return
    if role is None:
        await _say(desk, member, staff_texts.invite_usage)
        return
    services = context.services
    code = secrets.token_urlsafe(24)
    expires = services.clock() + INVITE_LIFETIME
    await services.staff.add_invite(
        services.pseudonymizer.invite_hash(code),
        role,
        created_by=member.label,
        expires_at=int(expires.timestamp()),
        today=services.clock().date(),
    )
    link = f"https://t.me/{context.bot.username}?start={code}"
    hours = int(INVITE_LIFETIME.total_seconds() // 3600)
    tr = desk.tr(member.locale)
    chat = update.effective_chat
    assert chat is not None
    # Not protected: the coordinator must be able to copy the link to the invitee.
    await context.bot.send_message(
        chat.id, tr.finish(staff_texts.invite_created(tr, link, hours)), protect_content=False
    )


# Languages -------------------------------------------------------------------


def _languages_markup(
    tr: Translator, chosen: frozenset[str], pending: frozenset[str] = frozenset()
) -> InlineKeyboardMarkup:
    def mark(code: str) -> str:
        return "✅ " if code in chosen else "⏳ " if code in pending else ""

    rows = [[button(mark(code) + LANGUAGE_NAMES[code], ToggleLanguage(code))] for code in LOCALES]
    rows.append([button(staff_texts.done_label(tr), LanguagesDone())])
    return InlineKeyboardMarkup(rows)


async def _show_languages(desk: Desk, member: StaffMember, message: Message | None) -> None:
    tr = desk.tr(member.locale)
    pending = frozenset(await desk.services.staff.pending_languages(member.key))
    markup = _languages_markup(tr, member.languages, pending)
    if message is None:
        await desk.tell_staff(member, staff_texts.pick_languages, markup)
        return
    try:
        await message.edit_reply_markup(markup)
    except BadRequest:
        log.debug("the language picker was unchanged")


# Lists -----------------------------------------------------------------------


def _referral_line(tr: Translator, referral: Referral, current: bool) -> str:
    line = staff_texts.mine_item(
        tr,
        reference(referral.id),
        label(Field.TOPIC, referral.topic, tr, tr.locale),
        LANGUAGE_NAMES.get(referral.language, referral.language),
        label(Field.URGENCY, referral.urgency, tr, tr.locale),
    )
    if referral.country:
        # Only the holder sees the country, never the notice every volunteer gets.
        line += f" · {label(Field.COUNTRY, referral.country, tr, tr.locale)}"
    return f"{line} {staff_texts.current_mark(tr)}" if current else line


async def _mine(desk: Desk, member: StaffMember) -> None:
    held = await desk.services.referrals.held_by(member.key)
    if not held:
        await _say(desk, member, staff_texts.mine_empty)
        return
    for referral in held:
        rid = referral.id
        tr = desk.tr(member.locale)
        markup = InlineKeyboardMarkup(
            [
                [
                    button(staff_texts.talk_label(tr), Talk(rid)),
                    button(staff_texts.release_label(tr), Release(rid)),
                ],
                [
                    button(staff_texts.handover_label(tr), AskHandover(rid)),
                    button(staff_texts.close_label(tr), AskClose(rid)),
                ],
            ]
        )
        line = partial(_referral_line, referral=referral, current=member.current_referral == rid)
        await desk.tell_staff(member, line, markup)


def _roster_line(
    tr: Translator, other: StaffMember, held: int, claims: int, pending: frozenset[str]
) -> str:
    languages = " ".join(sorted(other.languages))
    role = staff_texts.role_name(tr, other.is_coordinator)
    line = staff_texts.roster_item(tr, other.label, role, languages, other.active)
    line += " · " + staff_texts.roster_load(tr, held, claims)
    if pending:
        line += " · " + staff_texts.roster_pending(tr, " ".join(sorted(pending)))
    return line


async def _roster(desk: Desk, member: StaffMember) -> None:
    if not may_see_roster(member):
        await _say(desk, member, staff_texts.not_allowed)
        return
    services = desk.services
    others = [m for m in await services.staff.everyone() if m.key != member.key]
    if not others:
        await _say(desk, member, staff_texts.roster_empty)
        return
    held = await services.referrals.held_counts()
    claims = await services.referrals.claims_since(claims_counted_from(services.clock().date()))
    pending = await services.staff.pending_by_account()
    for other in others:
        tr = desk.tr(member.locale)
        toggle = (
            button(staff_texts.suspend_label(tr), ManageStaff(other.label, StaffChange.SUSPEND))
            if other.active
            else button(
                staff_texts.reinstate_label(tr), ManageStaff(other.label, StaffChange.REINSTATE)
            )
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    toggle,
                    button(
                        staff_texts.remove_label(tr), ManageStaff(other.label, StaffChange.REMOVE)
                    ),
                ]
            ]
        )
        line = partial(
            _roster_line,
            other=other,
            held=held.get(other.key, 0),
            claims=claims.get(other.key, 0),
            pending=pending.get(other.key, frozenset()),
        )
        await desk.tell_staff(member, line, markup)


# Commands and messages -------------------------------------------------------


async def on_command(
    update: Update, context: YardemContext, name: str, member: StaffMember
) -> None:
    """One of :data:`COMMANDS`, from an active staff account (routing sends the rest away)."""
    desk = _desk(context)
    if name == "mine":
        await _mine(desk, member)
    elif name == "volunteers":
        await _roster(desk, member)
    elif name == "invite":
        await _invite(update, context, member)
    elif name == "languages":
        await _show_languages(desk, member, None)
    else:
        await _say(desk, member, lambda tr: staff_texts.help_text(tr, member.is_coordinator))


async def relay_from_staff(message: Message, context: YardemContext, member: StaffMember) -> None:
    desk = _desk(context)
    verdict = judge(message)
    tr = desk.tr(member.locale)
    problem: str | None
    if verdict.kind is None or verdict.refusal is not None:
        problem = (
            staff_texts.relay_refused_file(tr)
            if verdict.refusal == "file"
            else staff_texts.relay_refused_kind(tr)
        )
    else:
        problem = await desk.relay_from_volunteer(member, message, verdict.kind)
    if problem is not None:
        await context.bot.send_message(message.chat_id, tr.finish(problem), protect_content=True)


async def refuse_staff_edit(message: Message, context: YardemContext, member: StaffMember) -> None:
    """An edit never reaches the member: the copy they have cannot follow it."""
    tr = _desk(context).tr(member.locale)
    await context.bot.send_message(
        message.chat_id, tr.finish(staff_texts.relay_edit_refused(tr)), protect_content=True
    )


# Buttons ---------------------------------------------------------------------


async def on_staff_button(update: Update, context: YardemContext) -> None:
    query = update.callback_query
    if query is None:
        return
    pressed = decode(query.data)
    actor = context.actor
    member = actor.account if isinstance(actor, Staff) else None
    action = pressed.action
    desk = _desk(context)
    if member is None or not isinstance(action, StaffAction):
        # Not a volunteer (any more), or data no staff button carries.
        await _answer(query, desk.tr(_locale_of(update)), staff_texts.not_allowed)
        return
    message = query.message if isinstance(query.message, Message) else None
    decision = decide(member, action, await _facts(desk, member, action))
    refusal = (
        _refusal(decision)
        if isinstance(decision, Refused)
        else await _carry_out(desk, member, action, decision, message)
    )
    await _answer(query, desk.tr(member.locale), refusal)


async def _facts(desk: Desk, member: StaffMember, action: StaffAction) -> Facts:
    """What :func:`bot.staff_decisions.decide` needs to judge this press, from storage."""
    services = desk.services
    cap = services.settings.max_held_requests
    referral_id = getattr(action, "referral", None)
    referral = await services.referrals.get(referral_id) if referral_id else None
    label_named = getattr(action, "label", None)
    target = await services.staff.by_label(label_named) if label_named else None
    taker = member if isinstance(action, Claim) else target if isinstance(action, Assign) else None
    held = len(await services.referrals.held_by(taker.key)) if taker is not None else 0
    return Facts(max_held=cap, referral=referral, target=target, held=held)


def _refusal(refused: Refused) -> Callable[[Translator], str]:
    match refused.reason:
        case Reason.CLAIM_LOST:
            return staff_texts.claim_lost
        case Reason.HELD_LIMIT:
            return lambda tr: staff_texts.held_limit(tr, refused.limit)
        case Reason.TARGET_FULL:
            return lambda tr: staff_texts.target_full(tr, refused.label)
        case Reason.COORDINATORS_BY_ADMIN:
            return staff_texts.coordinators_by_admin
        case Reason.ALREADY_DECIDED:
            return staff_texts.already_decided
        case Reason.NOT_ALLOWED:
            return staff_texts.not_allowed


async def _carry_out(
    desk: Desk,
    member: StaffMember,
    action: StaffAction,
    allowed: Decision,
    message: Message | None,
) -> Refusal:
    """Make the change :func:`decide` allowed; storage may still refuse it (a race)."""
    match action, allowed:
        case Claim(), OnReferral(referral):
            return await _claim(desk, member, referral)
        case Talk(), OnReferral(referral):
            return await _talk(desk, member, referral)
        case Release(), OnReferral(referral):
            return await _release(desk, member, referral)
        case AskHandover(), OnReferral(referral):
            return await _handover(desk, member, referral)
        case AskClose(), OnReferral(referral):
            return await _close_ask(desk, member, referral)
        case Close(outcome=outcome), OnReferral(referral):
            return await _close(desk, member, referral, outcome, message)
        case Assign(), PassOn(referral, target):
            return await _assign(desk, member, referral, target, message)
        case ToggleLanguage(locale), OwnLanguages(direct):
            return await _toggle_language(desk, member, locale, direct, message)
        case LanguagesDone(), OwnLanguages():
            return await _languages_done(desk, member, message)
        case DecideLanguage(locale=locale, approve=approve), OnAccount(target):
            return await _decide_language(desk, member, target, locale, approve, message)
        case ManageStaff(change=change), OnAccount(target):
            return await _manage(desk, member, target, change)
    raise AssertionError(f"{type(allowed).__name__} does not answer {type(action).__name__}")


def _locale_of(update: Update) -> str:
    user = update.effective_user
    return suggest_locale(user.language_code if user else None)


async def _answer(
    query: CallbackQuery, tr: Translator, refusal: Callable[[Translator], str] | None
) -> None:
    try:
        if refusal is None:
            await query.answer()
        else:
            await query.answer(tr.finish(refusal(tr)), show_alert=True)
    except BadRequest:
        log.debug("a staff button press was too old to answer")


Refusal = Callable[[Translator], str] | None


async def _clear_buttons(desk: Desk, message: Message | None) -> None:
    """The question a press answered loses its buttons, so it cannot be answered twice."""
    if message is not None:
        await remove_keyboard(desk.bot, message.chat_id, message.message_id)


async def _claim(desk: Desk, member: StaffMember, referral: Referral) -> Refusal:
    services = desk.services
    today = services.clock().date()
    claimed = await services.referrals.claim(
        referral.id,
        member.key,
        actor=member.label,
        today=today,
        max_held=services.settings.max_held_requests,
    )
    if claimed is None:
        return staff_texts.claim_lost
    await desk.retire_notices(claimed)
    # Claiming does not choose whom the volunteer's messages go to: only Talk
    # here (or Reply) does, so a reply meant for one member never reaches another.
    await _offer_talk(desk, member, claimed.id)
    if not await desk.tell_member(claimed, referral_texts.claimed):
        await _say(
            desk, member, lambda tr: staff_texts.member_unreachable(tr, reference(claimed.id))
        )
    claims_today = await services.referrals.claims_on(member.key, today)
    if claim_alert_due(claims_today, services.settings.claim_alert_per_day):
        for coordinator in coordinators(await services.staff.everyone(), but=member.key):
            await desk.tell_staff(
                coordinator, lambda tr: staff_texts.claim_alert(tr, member.label, claims_today)
            )
    return None


async def _offer_talk(desk: Desk, member: StaffMember, referral_id: str) -> None:
    """Tell a new holder where their messages go now, with the button that changes it."""
    fresh = await desk.services.staff.get(member.key)
    current = fresh.current_referral if fresh is not None else None
    tr = desk.tr(member.locale)
    markup = InlineKeyboardMarkup([[button(staff_texts.talk_label(tr), Talk(referral_id))]])
    await desk.tell_staff(
        member,
        lambda tr: staff_texts.hold_note(
            tr, reference(referral_id), reference(current) if current else None
        ),
        markup,
    )


async def _talk(desk: Desk, member: StaffMember, referral: Referral) -> Refusal:
    await desk.services.staff.set_current(member.key, referral.id)
    await _say(desk, member, lambda tr: staff_texts.now_talking(tr, reference(referral.id)))
    return None


async def _release(desk: Desk, member: StaffMember, referral: Referral) -> Refusal:
    services = desk.services
    chat = await services.referrals.member_chat(referral)
    released = await services.referrals.release(
        referral.id,
        member.key,
        actor=member.label,
        today=services.clock().date(),
        next_round_at=desk.next_round_at(),  # requeue() below announces it now
    )
    if released is None:
        return staff_texts.not_allowed
    cleared = await desk.end_relay(referral.id, chat)
    await _say(desk, member, lambda tr: staff_texts.released(tr, reference(referral.id)))
    await desk.requeue([referral.id], cleared={referral.id} if cleared else set())
    return None


async def _handover(desk: Desk, member: StaffMember, referral: Referral) -> Refusal:
    services = desk.services
    asked = await services.referrals.ask_handover(
        referral.id, member.key, actor=member.label, today=services.clock().date()
    )
    if asked is None:
        return staff_texts.not_allowed
    await _say(desk, member, lambda tr: staff_texts.handover_asked(tr, reference(referral.id)))
    staff = await services.staff.everyone()
    candidates = handover_candidates(member, staff, referral.language)
    for coordinator in coordinators(staff):
        rows = [[button(c.label, Assign(referral.id, c.label))] for c in candidates]
        text: Callable[[Translator], str] = (
            (lambda tr: staff_texts.handover_request(tr, reference(referral.id), member.label))
            if rows
            else staff_texts.no_one_to_assign
        )
        await desk.tell_staff(coordinator, text, InlineKeyboardMarkup(rows) if rows else None)
    return None


async def _assign(
    desk: Desk,
    member: StaffMember,
    referral: Referral,
    target: StaffMember,
    message: Message | None,
) -> Refusal:
    services = desk.services
    previous = referral.volunteer
    chat = await services.referrals.member_chat(referral)
    moved = await services.referrals.reassign(
        referral.id,
        target.key,
        actor=member.label,
        today=services.clock().date(),
        max_held=services.settings.max_held_requests,
    )
    if moved is None:
        return staff_texts.claim_lost
    # The next volunteer starts afresh; what was said leaves both phones.
    cleared = await desk.end_relay(referral.id, chat)
    if previous is not None:
        before = await services.staff.get(previous)
        if before is not None:
            await _say(
                desk,
                before,
                lambda tr: staff_texts.handed_over(tr, reference(referral.id), target.label),
            )
    await _say(desk, target, lambda tr: staff_texts.assigned_to_you(tr, reference(referral.id)))
    # A coordinator's choice does not choose whom the new holder writes to.
    await _offer_talk(desk, target, referral.id)
    if await desk.tell_member(moved, referral_texts.handed_over, chat) and cleared:
        await desk.tell_member(moved, referral_texts.copies_removed, chat)
    await _say(
        desk, member, lambda tr: staff_texts.handed_over(tr, reference(referral.id), target.label)
    )
    await _clear_buttons(desk, message)
    return None


async def _close_ask(desk: Desk, member: StaffMember, referral: Referral) -> Refusal:
    tr = desk.tr(member.locale)
    rows = [
        [button(text, Close(referral.id, code))] for code, text in staff_texts.outcomes(tr).items()
    ]
    await desk.tell_staff(
        member,
        lambda tr: staff_texts.close_question(tr, reference(referral.id)),
        InlineKeyboardMarkup(rows),
    )
    return None


async def _close(
    desk: Desk, member: StaffMember, referral: Referral, outcome: Outcome, message: Message | None
) -> Refusal:
    services = desk.services
    chat = await services.referrals.member_chat(referral)
    closed = await services.referrals.close(
        referral.id, member.key, outcome, actor=member.label, today=services.clock().date()
    )
    if closed is None:
        return staff_texts.not_allowed
    cleared = await desk.end_relay(referral.id, chat)
    told = await desk.tell_member(closed, referral_texts.closed, chat)
    if told and cleared:
        await desk.tell_member(closed, referral_texts.copies_removed, chat)
    outcome_text = staff_texts.closed if told else staff_texts.closed_untold
    await _say(desk, member, lambda tr: outcome_text(tr, reference(referral.id)))
    await _clear_buttons(desk, message)
    return None


async def _toggle_language(
    desk: Desk, member: StaffMember, locale: str, direct: bool, message: Message | None
) -> Refusal:
    staff = desk.services.staff
    if direct:
        await staff.set_languages(member.key, set(member.languages) ^ {locale})
    else:
        # Added: waits for a coordinator's approval; dropped: at once.
        await staff.toggle_requested_language(member.key, locale)
    updated = await staff.get(member.key)
    if updated is not None:
        await _show_languages(desk, updated, message)
    return None


async def _languages_done(desk: Desk, member: StaffMember, message: Message | None) -> Refusal:
    await _clear_buttons(desk, message)
    services = desk.services
    asked = await services.staff.ask_for_languages(
        member.key, actor=member.label, today=services.clock().date()
    )
    await _say(desk, member, staff_texts.languages_saved)
    pending = sorted(await services.staff.pending_languages(member.key))
    if pending:
        names = ", ".join(LANGUAGE_NAMES[code] for code in pending)
        await _say(desk, member, lambda tr: staff_texts.languages_waiting(tr, names))
    for language in asked:
        await _ask_coordinators(desk, member, language)
    await _say(desk, member, lambda tr: staff_texts.help_text(tr, member.is_coordinator))
    return None


async def _ask_coordinators(desk: Desk, member: StaffMember, language: str) -> None:
    for coordinator in coordinators(await desk.services.staff.everyone()):
        tr = desk.tr(coordinator.locale)
        markup = InlineKeyboardMarkup(
            [
                [
                    button(
                        staff_texts.approve_label(tr),
                        DecideLanguage(member.label, language, approve=True),
                    ),
                    button(
                        staff_texts.refuse_label(tr),
                        DecideLanguage(member.label, language, approve=False),
                    ),
                ]
            ]
        )
        await desk.tell_staff(
            coordinator,
            lambda tr: staff_texts.language_request(tr, member.label, LANGUAGE_NAMES[language]),
            markup,
        )


async def _decide_language(
    desk: Desk,
    member: StaffMember,
    volunteer: StaffMember,
    language: str,
    approve: bool,
    message: Message | None,
) -> Refusal:
    services = desk.services
    decided = await services.staff.decide_language(
        volunteer.key, language, approve, actor=member.label, today=services.clock().date()
    )
    if not decided:
        return staff_texts.already_decided
    name = LANGUAGE_NAMES[language]
    if message is not None:
        tr = desk.tr(member.locale)
        try:
            await message.edit_text(
                tr.finish(
                    staff_texts.language_decided(tr, volunteer.label, name, approve, member.label)
                )
            )
        except BadRequest:
            log.debug("the language request was already answered")
    outcome = staff_texts.language_approved if approve else staff_texts.language_refused
    if volunteer.active:
        await _say(desk, volunteer, lambda tr: outcome(tr, name))
    return None


async def _manage(
    desk: Desk, member: StaffMember, target: StaffMember, change_to: StaffChange
) -> Refusal:
    services = desk.services
    today = services.clock().date()
    try:
        # Reach the person before their encrypted chat reference is deleted.
        chat = await services.staff.chat_id(target)
    except StorageError:
        return staff_texts.not_allowed  # removed by someone else a moment ago
    cleared: set[str] = set()
    if change_to is not StaffChange.REINSTATE:
        for held in await services.referrals.held_by(target.key):
            if await desk.end_relay(held.id, await services.referrals.member_chat(held)):
                cleared.add(held.id)
    if change_to is StaffChange.REMOVE:
        change = await services.staff.remove(
            target.key, actor=member.label, today=today, next_round_at=desk.next_round_at()
        )
        notice = staff_texts.access_ended
        for message_id in change.notices:
            try:
                await desk.bot.delete_message(chat, message_id)
            except TelegramError:
                log.debug("a removed volunteer's notice could not be deleted")
    else:
        change = await services.staff.set_active(
            target.key,
            change_to is StaffChange.REINSTATE,
            actor=member.label,
            today=today,
            next_round_at=desk.next_round_at(),
        )
        notice = (
            staff_texts.access_restored
            if change_to is StaffChange.REINSTATE
            else staff_texts.access_paused
        )
    await desk.tell_staff(target, notice, chat_id=chat)
    await desk.requeue(change.returned, cleared=cleared)
    returned = len(change.returned)
    await _say(desk, member, lambda tr: staff_texts.staff_changed(tr, target.label, returned))
    return None


COMMANDS = ("mine", "volunteers", "invite", "languages")
