"""Telegram handlers for members: load, decide, store, draw.

Each handler loads the member's encrypted state under their pseudonymous key,
asks :mod:`bot.conversation` what the update means, then carries the outcome
out. Nothing from the update is trusted beyond the sender's id: callback data
is decoded strictly and checked against the member's current screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from bot import flood, newcomers, referral_texts, sending, texts
from bot.actors import Actor, Unknown
from bot.callbacks import WipeConfirm, decode
from bot.content import Snapshot
from bot.context import YardemContext
from bot.conversation import Conversation, Outcome
from bot.i18n import suggest_locale
from bot.members import MemberState
from bot.referral_desk import Desk
from bot.referral_terms import Status, WithdrawReason, status_of
from bot.relay_policy import judge
from bot.screens import Screen
from bot.telegram_io import (
    blank_out,
    delete_messages,
    remove_keyboard,
    replace_screen,
    send_screen,
)
from storage.referrals import Escalated, Referral, Refused

log = logging.getLogger(__name__)

DONE_MESSAGE_LIFETIME = timedelta(minutes=1)
"""The wipe confirmation removes itself, so nothing of the bot stays on screen."""


@dataclass
class Turn:
    """One update's view of one member."""

    context: YardemContext
    chat_id: int
    key: bytes
    snapshot: Snapshot
    conversation: Conversation

    async def carry_out(
        self, outcome: Outcome, *, pressed: Message | None = None, incoming: Message | None = None
    ) -> None:
        if outcome.state is None:
            raise ValueError("erasing outcomes are carried out by Turn.wipe")
        services = self.context.services
        bot = self.context.bot
        layout = self.snapshot.registry.layout
        previous = self.conversation.state
        if previous is None:
            # The row must exist before any id is recorded against it.
            await services.members.save(self.key, MemberState())
        desk = Desk(bot, services)
        withdrawn = await desk.withdraw(self.key, WithdrawReason.CANCEL) if outcome.cancel else None
        if outcome.referral is not None:
            filed = await desk.file(self.key, self.chat_id, outcome.referral)
            after = Conversation(self.snapshot, outcome.state, self.conversation.suggested)
            if isinstance(filed, Refused):
                outcome = after.refused(filed.reason)
            elif isinstance(filed, Escalated):
                outcome = after.escalated(claimed=status_of(filed.referral) is not Status.OPEN)
        if incoming is not None:
            # Typed text may hold a name or a story: it goes before anything else,
            # and stays recorded for /wipe if it could not be deleted now.
            gone = outcome.delete_incoming and not await delete_messages(
                bot, self.chat_id, [incoming.message_id]
            )
            if not gone:
                await services.members.remember(self.key, [incoming.message_id], at=incoming.date)
        screen_message = previous.screen_message if previous else None
        redrawn: set[int] = set()
        sent: list[int] = []
        try:
            for number, screen in enumerate(outcome.screens):
                if number == 0 and outcome.in_place and pressed is not None:
                    new = await replace_screen(
                        bot, pressed, self.chat_id, screen, layout, services.clock(), sent
                    )
                    if not new:
                        redrawn.add(pressed.message_id)
                        if screen.rows:
                            screen_message = pressed.message_id
                else:
                    new = await send_screen(bot, self.chat_id, screen, layout, sent)
                if new and screen.rows:
                    screen_message = new[-1]
        finally:
            # Whatever reached the chat can be wiped, even if a later part failed.
            await services.members.remember(self.key, sent)
        stale_keyboards = {previous.screen_message if previous else None}
        if pressed is not None:
            stale_keyboards.add(pressed.message_id)
        for message_id in stale_keyboards - redrawn - {None, screen_message}:
            assert message_id is not None
            await remove_keyboard(bot, self.chat_id, message_id)
        # Stored once drawn, so the stored place is what the member sees.
        drawn = outcome.state or MemberState()
        await services.members.save(self.key, replace(drawn, screen_message=screen_message))
        if withdrawn is not None:
            await desk.farewell(withdrawn)

    async def wipe(self, query: CallbackQuery, pressed: Message | None) -> None:
        services = self.context.services
        bot = self.context.bot
        tr = self.conversation.tr
        state = self.conversation.state
        doomed = await services.members.deletable(self.key)
        if pressed is not None:
            doomed.append(pressed.message_id)
        # The stored data goes first: if Telegram fails below, nothing is kept.
        desk = Desk(bot, services)
        withdrawn = await desk.withdraw(self.key, WithdrawReason.WIPE)
        await services.members.erase(self.key)
        # The screens in view may be older than Telegram's 48 hours and then
        # cannot be deleted; blank them first (edits have no age limit).
        for shown in {
            state.screen_message if state else None,
            pressed.message_id if pressed else None,
        }:
            if shown is not None:
                await blank_out(bot, self.chat_id, shown)
        failed = await delete_messages(bot, self.chat_id, doomed)
        if await services.staff.get(self.key) is not None:
            text = tr.finish(texts.wipe_done_staff(tr))
        else:
            text = tr.finish(texts.wipe_partly_done(tr) if failed else texts.wipe_done(tr))
        try:
            # A pop-up leaves nothing in the chat.
            await query.answer(text, show_alert=True)
        except BadRequest:
            await self._confirm_in_chat(text)
        if withdrawn is not None:
            # Last: the member's own chat is clean before volunteers hear of it.
            await desk.farewell(withdrawn)

    async def _confirm_in_chat(self, text: str) -> None:
        """When the press is too old for a pop-up: a message that deletes itself."""
        for message_id in await send_screen(self.context.bot, self.chat_id, Screen(text), ""):
            self.context.job_queue.run_once(  # type: ignore[union-attr]
                _delete_later,  # type: ignore[arg-type]  # PTB types jobs by its default context
                DONE_MESSAGE_LIFETIME,
                data=(self.chat_id, message_id),  # held in memory only
            )


@sending.scheduled
async def _delete_later(context: YardemContext) -> None:
    job = context.job
    if job is None or not isinstance(job.data, tuple):
        return
    chat_id, message_id = job.data
    with sending.urgent():  # the last trace of a wipe: no backlog of notices holds it up
        await delete_messages(context.bot, chat_id, [message_id])


async def load_turn(update: Update, context: YardemContext, actor: Actor) -> Turn | None:
    """The member's side of an update from anyone in a private chat (staff use menus too)."""
    if isinstance(actor, Unknown):
        return None
    services = context.services
    key = actor.key
    state: MemberState | None = await services.members.load(key)
    if state is None:
        # A stranger: under attack, Yardem may be full for this hour.
        admitted = await newcomers.admit(update, context, key)
        if admitted is None:
            return None
        state = admitted.state
    snapshot = services.content.current
    suggested = suggest_locale(actor.language_code, snapshot.member_locales)
    conversation = Conversation(snapshot, state, suggested)
    return Turn(context, actor.chat_id, key, snapshot, conversation)


async def on_command(update: Update, context: YardemContext, name: str) -> None:
    """One of :data:`COMMANDS`, from anyone in a private chat."""
    turn = await load_turn(update, context, context.actor)
    if turn is None:
        return
    if name == "status":
        referral = await context.services.referrals.active_for_member(turn.key)
        view = (
            "none"
            if referral is None
            else "claimed"
            if status_of(referral) is not Status.OPEN
            else "urgent"
            if referral.urgent
            else "open"
        )
        outcome = turn.conversation.status(view)
    else:
        outcome = turn.conversation.command(name)
    await turn.carry_out(outcome, incoming=update.effective_message)


async def on_edit(update: Update, context: YardemContext) -> None:
    """A member's edited message: in a conversation, they hear that edits are not relayed.

    The relay's copy cannot follow an edit, and relaying the new version as a
    new message would let words reach someone they were not first sent to.
    Anywhere else an edit changes nothing, as before the bot asked for edits.
    """
    message = update.edited_message
    if message is None or (message.text or "").startswith("/"):
        return
    turn = await load_turn(update, context, context.actor)
    if turn is None:
        return
    referral = await context.services.referrals.active_for_member(turn.key)
    if referral is not None and status_of(referral) is not Status.OPEN:
        await _relay(turn, referral, message, edited=True)


async def on_message(update: Update, context: YardemContext) -> None:
    """A member's message: relayed once a volunteer holds their request, else
    a free-text answer or something to delete from the chat."""
    turn = await load_turn(update, context, context.actor)
    message = update.effective_message
    if turn is None or message is None:
        return
    services = context.services
    referral = await services.referrals.active_for_member(turn.key)
    is_command = (message.text or "").startswith("/")
    if referral is not None and status_of(referral) is not Status.OPEN and not is_command:
        if turn.conversation.state is None:
            await services.members.save(turn.key, MemberState())
        # The member's own message stays in their chat; /wipe can delete it.
        await services.members.remember(turn.key, [message.message_id], at=message.date)
        if not await flood.relay_allowed(
            context, "member", turn.key, turn.chat_id, turn.conversation.locale
        ):
            return
        await _relay(turn, referral, message, edited=False)
        return
    outcome = turn.conversation.typed(message.text, can_delete=True)
    if referral is not None and not is_command and outcome.delete_incoming:
        tr = turn.conversation.tr
        outcome = turn.conversation.resume(notice=referral_texts.waiting_typed(tr), in_place=False)
        outcome = replace(outcome, delete_incoming=True)
    await turn.carry_out(outcome, incoming=message)


async def _relay(turn: Turn, referral: Referral, message: Message, *, edited: bool) -> None:
    """Pass a member's message to their volunteer, or say why it was not."""
    context = turn.context
    tr = turn.conversation.tr
    verdict = judge(message)
    problem: str | None = None
    if edited:
        # The volunteer's copy cannot follow an edit; it is never relayed.
        problem = referral_texts.relay_edit_refused(tr)
    elif verdict.kind is None or verdict.refusal is not None:
        # A contact or a location the member sent by mistake leaves their phone too.
        await delete_messages(context.bot, turn.chat_id, [message.message_id])
        problem = (
            referral_texts.relay_refused_file(tr)
            if verdict.refusal == "file"
            else referral_texts.relay_refused_kind(tr)
        )
    elif not await Desk(context.bot, context.services).relay_from_member(
        referral, message, verdict.kind
    ):
        problem = referral_texts.not_delivered(tr)
    if problem is not None:
        sent = await send_screen(context.bot, turn.chat_id, Screen(tr.finish(problem)), "")
        await context.services.members.remember(turn.key, sent)


async def on_button(update: Update, context: YardemContext) -> None:
    query = update.callback_query
    if query is None:
        return
    pressed = decode(query.data)
    turn = await load_turn(update, context, context.actor)
    if turn is None:
        await _acknowledge(query)
        return
    message = query.message if isinstance(query.message, Message) else None
    if isinstance(pressed.action, WipeConfirm):
        # Answered by the wipe itself, with its result as a pop-up.
        await turn.wipe(query, message)
        return
    # Stop the spinner first; the screen change is the real answer.
    await _acknowledge(query)
    state = turn.conversation.state
    on_current = (
        message is not None and state is not None and message.message_id == state.screen_message
    )
    outcome = turn.conversation.press(pressed, on_current_screen=on_current)
    await turn.carry_out(outcome, pressed=message)


async def _acknowledge(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except BadRequest:
        # A press that waited while the bot was down can no longer be
        # acknowledged, but the member still deserves the screen.
        log.debug("a button press was too old to acknowledge")


COMMANDS = ("start", "menu", "language", "wipe", "status")
