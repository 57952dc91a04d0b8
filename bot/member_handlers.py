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

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import decode
from bot.content import Snapshot
from bot.context import YardemApplication, YardemContext
from bot.conversation import Conversation, Outcome
from bot.i18n import suggest_locale
from bot.members import MemberState
from bot.telegram_io import delete_messages, remove_keyboard, replace_screen, send_screen

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
            await self._wipe(outcome, pressed, incoming)
            return
        services = self.context.services
        bot = self.context.bot
        layout = self.snapshot.registry.layout
        previous = self.conversation.state
        screen_message = previous.screen_message if previous else None
        sent: list[int] = []
        for number, screen in enumerate(outcome.screens):
            if number == 0 and outcome.in_place and pressed is not None:
                new = await replace_screen(
                    bot, pressed, self.chat_id, screen, layout, services.clock()
                )
                if not new and screen.rows:
                    screen_message = pressed.message_id
            else:
                new = await send_screen(bot, self.chat_id, screen, layout)
            sent += new
            if new and screen.rows:
                screen_message = new[-1]
        if previous and previous.screen_message not in (None, screen_message):
            await remove_keyboard(bot, self.chat_id, previous.screen_message)
        kept_incoming: list[int] = []
        if incoming is not None:
            if outcome.delete_incoming:
                await delete_messages(bot, self.chat_id, [incoming.message_id])
            else:
                kept_incoming.append(incoming.message_id)
        # Stored only once drawn, so the stored place is what the member sees;
        # then the ids, which need the member's row to exist.
        await services.members.save(self.key, replace(outcome.state, screen_message=screen_message))
        await services.members.remember(self.key, [*kept_incoming, *sent])

    async def _wipe(
        self, outcome: Outcome, pressed: Message | None, incoming: Message | None
    ) -> None:
        services = self.context.services
        doomed = await services.members.deletable(self.key)
        doomed += [m.message_id for m in (pressed, incoming) if m is not None]
        # The stored data goes first: if Telegram fails below, nothing is kept.
        await services.members.erase(self.key)
        await delete_messages(self.context.bot, self.chat_id, doomed)
        for screen in outcome.screens:
            for message_id in await send_screen(self.context.bot, self.chat_id, screen, ""):
                self.context.job_queue.run_once(  # type: ignore[union-attr]
                    _delete_later,  # type: ignore[arg-type]  # PTB types jobs by its default context
                    DONE_MESSAGE_LIFETIME,
                    data=(self.chat_id, message_id),  # held in memory only
                )


async def _delete_later(context: YardemContext) -> None:
    job = context.job
    if job is None or not isinstance(job.data, tuple):
        return
    chat_id, message_id = job.data
    await delete_messages(context.bot, chat_id, [message_id])


async def _turn(update: Update, context: YardemContext) -> Turn | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return None
    services = context.services
    key = services.members.key_for(user.id)
    state: MemberState | None = await services.members.load(key)
    snapshot = services.content.current
    conversation = Conversation(snapshot, state, suggest_locale(user.language_code))
    return Turn(context, chat.id, key, snapshot, conversation)


def _command_handler(name: str) -> CommandHandler[YardemContext, None]:
    async def handle(update: Update, context: YardemContext) -> None:
        turn = await _turn(update, context)
        if turn is not None:
            outcome = turn.conversation.command(name)
            await turn.carry_out(outcome, incoming=update.effective_message)

    return CommandHandler(name, handle, filters=filters.ChatType.PRIVATE)


async def on_message(update: Update, context: YardemContext) -> None:
    """Typed text answers a free-text question; anything else is deleted from the chat."""
    turn = await _turn(update, context)
    message = update.effective_message
    if turn is None or message is None:
        return
    outcome = turn.conversation.typed(message.text, can_delete=True)
    await turn.carry_out(outcome, incoming=message)


async def on_button(update: Update, context: YardemContext) -> None:
    query = update.callback_query
    if query is None:
        return
    # Stop the spinner first; the screen change is the real answer. A press
    # that waited while the bot was down can no longer be answered, but the
    # member still deserves the screen.
    try:
        await query.answer()
    except BadRequest:
        log.info("a button press was too old to acknowledge; answering with the screen")
    turn = await _turn(update, context)
    if turn is None:
        return
    pressed = query.message if isinstance(query.message, Message) else None
    await turn.carry_out(turn.conversation.press(decode(query.data)), pressed=pressed)


COMMANDS = ("start", "menu", "language", "wipe")


def register(application: YardemApplication) -> None:
    for name in COMMANDS:
        application.add_handler(_command_handler(name))
    application.add_handler(CallbackQueryHandler(on_button))
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, on_message))
