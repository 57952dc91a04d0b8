"""What happens when a member writes or presses a button.

Every handler loads the member's encrypted state under their pseudonymous key,
runs the pure engine, saves the new state and draws the resulting screen.
Nothing from the update is trusted beyond the sender's id: callback data is
decoded strictly and checked against the member's current screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import texts
from bot.callbacks import (
    BackButton,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    WipeAsk,
    WipeCancel,
    WipeConfirm,
    decode,
)
from bot.content import Snapshot
from bot.context import YardemApplication, YardemContext
from bot.i18n import Translator, suggest_locale
from bot.members import MemberState
from bot.screens import Screen, language_screen, screen_for_events, wipe_screen, with_notice
from bot.telegram_io import delete_messages, replace_screen, send_screen
from flows import engine

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """One update's view of one member."""

    context: YardemContext
    chat_id: int
    key: bytes
    state: MemberState | None
    snapshot: Snapshot
    suggested: str

    @property
    def tr(self) -> Translator:
        locale = self.state.locale if self.state and self.state.locale else self.suggested
        return self.snapshot.translators[locale]

    @property
    def has_language(self) -> bool:
        return self.state is not None and self.state.locale is not None

    async def save(self, state: MemberState) -> None:
        await self.context.services.members.save(self.key, state)
        self.state = state

    async def remember(self, message_ids: list[int]) -> None:
        if self.state is not None:
            await self.context.services.members.remember(self.key, message_ids)

    async def send(self, screen: Screen) -> None:
        bot = self.context.bot
        await self.remember(
            await send_screen(bot, self.chat_id, screen, self.snapshot.registry.version)
        )

    async def draw(self, screen: Screen, over: Message | None) -> None:
        bot = self.context.bot
        version = self.snapshot.registry.version
        await self.remember(await replace_screen(bot, over, self.chat_id, screen, version))

    async def advance(
        self, event: engine.Input, *, over: Message | None = None, notice: str | None = None
    ) -> None:
        state = self.state or MemberState()
        step = engine.step(self.snapshot.registry, state.session, event)
        await self.save(replace(state, session=step.session))
        screen = screen_for_events(step.events, self.snapshot.registry, self.tr, step.session)
        if notice:
            screen = with_notice(self.tr.finish(notice), screen)
        if any(isinstance(event, engine.Stale) for event in step.events):
            # The pressed message may be far up the chat; answer where the member looks.
            over = None
        await self.draw(screen, over)


async def _turn(update: Update, context: YardemContext) -> Turn | None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return None
    services = context.services
    key = services.members.key_for(user.id)
    return Turn(
        context,
        chat.id,
        key,
        await services.members.load(key),
        services.content.current,
        suggest_locale(user.language_code),
    )


async def _greet(turn: Turn, over: Message | None = None) -> None:
    """First contact: the safety notice and the language picker."""
    if turn.state is None:
        await turn.save(MemberState())
    tr = turn.tr
    screen = language_screen(
        turn.snapshot.translators, turn.suggested, lead=tr.finish(texts.safety_notice(tr))
    )
    await turn.draw(screen, over)


async def _remember_incoming(turn: Turn, update: Update) -> None:
    """The member's own messages are deleted by /wipe too."""
    if update.effective_message is not None:
        await turn.remember([update.effective_message.message_id])


async def on_start(update: Update, context: YardemContext) -> None:
    turn = await _turn(update, context)
    if turn is None:
        return
    if not turn.has_language:
        await _greet(turn)
        await _remember_incoming(turn, update)
        return
    await _remember_incoming(turn, update)
    await turn.advance(engine.Refresh(), notice=texts.welcome_back(turn.tr))


async def on_menu(update: Update, context: YardemContext) -> None:
    turn = await _turn(update, context)
    if turn is None:
        return
    await _remember_incoming(turn, update)
    if not turn.has_language:
        await _greet(turn)
        return
    await turn.advance(engine.Restart())


async def on_language(update: Update, context: YardemContext) -> None:
    turn = await _turn(update, context)
    if turn is None:
        return
    if turn.state is None:
        await turn.save(MemberState())
    await _remember_incoming(turn, update)
    current = turn.state.locale if turn.state and turn.state.locale else turn.suggested
    await turn.send(language_screen(turn.snapshot.translators, current))


async def on_wipe(update: Update, context: YardemContext) -> None:
    turn = await _turn(update, context)
    if turn is None:
        return
    await _remember_incoming(turn, update)
    await turn.send(wipe_screen(turn.tr))


async def on_message(update: Update, context: YardemContext) -> None:
    """Typed text answers a free-text question; anything else gets the buttons again."""
    turn = await _turn(update, context)
    if turn is None:
        return
    await _remember_incoming(turn, update)
    if not turn.has_language:
        await _greet(turn)
        await _remember_incoming(turn, update)
        return
    message = update.effective_message
    text = message.text if message is not None else None
    if text and not text.startswith("/"):
        await turn.advance(engine.Text(text))
    else:
        await turn.advance(engine.Refresh(), notice=texts.use_buttons(turn.tr))


async def _wipe(turn: Turn, pressed_on: Message | None) -> None:
    services = turn.context.services
    tr = turn.tr
    doomed = await services.members.deletable(turn.key) if turn.state is not None else []
    if pressed_on is not None:
        doomed.append(pressed_on.message_id)
    await delete_messages(turn.context.bot, turn.chat_id, doomed)
    await services.members.erase(turn.key)
    turn.state = None
    # Deliberately not remembered: nothing about the member is stored any more.
    await send_screen(turn.context.bot, turn.chat_id, Screen(tr.finish(texts.wipe_done(tr))), "")


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
    over = query.message if isinstance(query.message, Message) else None
    action = decode(query.data)
    version = turn.snapshot.registry.version

    if isinstance(action, WipeConfirm):
        await _wipe(turn, over)
        return
    if isinstance(action, PickLanguage):
        await _pick_language(turn, action.locale, over)
        return
    if not turn.has_language:
        await _greet(turn, over)
        return
    if isinstance(action, WipeAsk):
        await turn.draw(wipe_screen(turn.tr), over)
    elif isinstance(action, LanguagePicker):
        locale = turn.state.locale if turn.state and turn.state.locale else turn.suggested
        await turn.draw(language_screen(turn.snapshot.translators, locale), over)
    elif isinstance(action, MenuButton | WipeCancel):
        await turn.advance(engine.Restart(), over=over)
    elif isinstance(action, ChooseButton) and action.version == version:
        await turn.advance(engine.Choose(action.token, action.index), over=over)
    elif isinstance(action, BackButton) and action.version == version:
        await turn.advance(engine.Back(action.token), over=over)
    else:  # forged, malformed, or drawn for an older set of flows
        await turn.advance(engine.Restart(), notice=texts.stale(turn.tr))


async def _pick_language(turn: Turn, locale: str, over: Message | None) -> None:
    first_time = not turn.has_language
    previous = turn.state or MemberState()
    await turn.save(replace(previous, locale=locale))
    if first_time:
        # Keep the safety notice on screen, now in the member's own language.
        tr = turn.tr
        await turn.draw(Screen(tr.finish(texts.safety_notice(tr))), over)
        await turn.advance(engine.Restart())
    else:
        await turn.advance(engine.Refresh(), over=over)


def register(application: YardemApplication) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", on_start, filters=private))
    application.add_handler(CommandHandler("menu", on_menu, filters=private))
    application.add_handler(CommandHandler("language", on_language, filters=private))
    application.add_handler(CommandHandler("wipe", on_wipe, filters=private))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, on_message))
