"""Steps a member takes in the end-to-end tests, each waiting for what it needs.

A step acts, then waits for the one result the next step depends on (a screen
with this text, a button with this label on a message changed since the step
began, a callback answer), never for a quiet moment: on a loaded machine the
bot may pause longer than any quiet period between two parts of one answer.

How the bot marks the end of its work differs by button, and the steps rely on
it: a member's button press is answered first, to stop the spinner, and the
screen follows (``bot/member_handlers.on_button``), so member steps wait for the
screen; a staff button is answered after its action is carried out
(``bot/staff_handlers.on_staff_button``), so staff steps wait for the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.members import MemberState
from flows.model import text_context
from tests.e2e.harness import RunningBot
from tests.fakebot import BotMessage, FakeUser


def flow_text(tr: Translator, flow: str, node: str, english: str) -> str:
    return tr.finish(tr.pgettext(text_context(flow, node), english))


def label(bot: RunningBot, tr: Translator, flow: str, node: str, option: str) -> str:
    found = bot.snapshot.registry.node(flow, node)
    assert found is not None
    english = next(o.label for o in found.options if o.id == option)  # type: ignore[union-attr]
    return tr.finish(tr.pgettext(text_context(flow, node, option), english))


def node_text(bot: RunningBot, tr: Translator, flow: str, node: str) -> str:
    found = bot.snapshot.registry.node(flow, node)
    assert found is not None
    return flow_text(tr, flow, node, found.text)


def menu_text(bot: RunningBot, locale: str = "en") -> str:
    return node_text(bot, bot.tr(locale), "main", "menu")


async def tap(
    bot: RunningBot,
    user: FakeUser,
    button_label: str,
    *,
    message_id: int | None = None,
    text: str | None = None,
    containing: str | None = None,
    button: str | None = None,
    predicate: Callable[[BotMessage], bool] | None = None,
) -> BotMessage:
    """Press ``button_label`` (once it is shown) and return the message it leads to.

    The message is described like ``FakeUser.wait_for_message``: its ``text``,
    a part it is ``containing``, a ``button`` it has, or a ``predicate``; it
    must have been sent or edited after the press.
    """
    _require_expectation(text, containing, button, predicate)
    mark = bot.server.mark()
    if message_id is None:
        await user.tap(button_label)
    else:
        user.press(button_label, message_id=message_id)
    return await user.wait_for_message(
        text=text, containing=containing, button=button, predicate=predicate, after=mark
    )


async def say(
    bot: RunningBot,
    user: FakeUser,
    message: str,
    *,
    text: str | None = None,
    containing: str | None = None,
    button: str | None = None,
    predicate: Callable[[BotMessage], bool] | None = None,
) -> BotMessage:
    """Send a text or command and return the bot's message it leads to (see ``tap``)."""
    _require_expectation(text, containing, button, predicate)
    mark = bot.server.mark()
    user.send_text(message)
    return await user.wait_for_message(
        text=text, containing=containing, button=button, predicate=predicate, after=mark
    )


def any_message(message: BotMessage) -> bool:
    """For a step that waits for the bot's answer, whatever it is (the test then reads it)."""
    return True


def _require_expectation(*conditions: object) -> None:
    if all(condition is None for condition in conditions):
        raise TypeError("say what the step waits for: text, containing, button or predicate")


async def choose_language(bot: RunningBot, member: FakeUser, locale: str) -> BotMessage:
    """A new member's /start and language choice; returns the main menu it leads to."""
    picker = await say(bot, member, "/start", button=LANGUAGE_NAMES[locale])
    menu = await tap(
        bot,
        member,
        LANGUAGE_NAMES[locale],
        message_id=picker.message_id,
        text=menu_text(bot, locale),
    )
    # Saved last, after the menu is drawn: the turn is over once it is stored.
    await stored_state(bot, member, lambda state: state.locale == locale, f"language {locale}")
    return menu


async def ask_to_wipe(bot: RunningBot, user: FakeUser, locale: str = "en") -> BotMessage:
    """/wipe: returns the question, once it shows its confirm button."""
    tr = bot.tr(locale)
    return await say(bot, user, "/wipe", button=tr.finish(texts.wipe_confirm_label(tr)))


async def wipe(bot: RunningBot, user: FakeUser, locale: str = "en") -> str:
    """/wipe and confirm; returns the press's query id once it is answered.

    The wipe answers with its result as a pop-up after the deletions
    (``bot/member_handlers.Turn.wipe``), so the chat is clean by then; only the
    volunteers' farewell comes after it.
    """
    question = await ask_to_wipe(bot, user, locale)
    tr = bot.tr(locale)
    query = user.press(tr.finish(texts.wipe_confirm_label(tr)), message_id=question.message_id)
    await bot.server.wait_for_answer(query)
    return query


async def stored_state(
    bot: RunningBot,
    user: FakeUser,
    holds: Callable[[MemberState], bool],
    what: str,
) -> MemberState:
    """The member's stored state, once ``holds`` is true of it.

    A member's state is saved after their screen is drawn, so a test that
    reads the database right after seeing the screen waits here for the save.
    """
    key = bot.services.members.key_for(user.user_id)
    found: list[MemberState] = []

    async def saved() -> bool:
        state = await bot.services.members.load(key)
        if state is None or not holds(state):
            return False
        found.append(state)
        return True

    await bot.server.wait_for(saved, what=f"the stored state of {user}: {what}")
    return found[-1]


async def state_at(bot: RunningBot, user: FakeUser, flow: str, node: str) -> MemberState:
    """The member's stored state, once it has them on this screen."""

    def there(state: MemberState) -> bool:
        return (state.session.position.flow, state.session.position.node) == (flow, node)

    return await stored_state(bot, user, there, f"at {flow}/{node}")
