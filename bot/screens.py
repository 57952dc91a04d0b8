"""Screens: what the member sees, built from engine events, free of Telegram.

A :class:`Screen` is text plus rows of buttons whose actions are callback
actions. The Telegram adapter and the terminal walker both draw screens, so
what ``python -m bot try`` shows is what a member gets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import texts
from bot.callbacks import (
    Action,
    BackButton,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    ResumeButton,
    WipeAsk,
    WipeConfirm,
)
from bot.i18n import Translator, language_name
from flows.engine import (
    MENU,
    Event,
    InvalidAnswer,
    Session,
    Show,
    Stale,
    UseButtons,
    screen_token,
)
from flows.messages import node_messages
from flows.model import (
    EndNode,
    HandoffNode,
    MessageNode,
    QuestionNode,
    resolve,
    text_context,
)
from flows.registry import Registry

MAX_MESSAGE_CHARS = 4096


@dataclass(frozen=True)
class Button:
    label: str
    action: Action


@dataclass(frozen=True)
class Screen:
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(button for row in self.rows for button in row)


def node_screen(registry: Registry, tr: Translator, session: Session) -> Screen:
    position = session.position
    node = registry.node(position.flow, position.node)
    if node is None:
        raise LookupError("the session points at a node that is not in the registry")
    text = tr.pgettext(text_context(position.flow, node.id), node.text)
    if any(tr.pending(m.context, m.msgid) for m in node_messages(position.flow, node)):
        # English stands in for a translation not done yet: say so in the member's words.
        text = tr.with_pending_marker(text)
    text = tr.finish(text, session.answers)
    token = screen_token(position)

    def button(part: str, label: str, index: int) -> Button:
        translated = tr.pgettext(text_context(position.flow, node.id, part), label)
        return Button(tr.finish(translated), ChooseButton(token, index))

    rows: list[tuple[Button, ...]] = []
    if isinstance(node, MessageNode | EndNode):
        rows = [(button(o.id, o.label, i),) for i, o in enumerate(node.options)]
    elif isinstance(node, QuestionNode):
        rows = [(button(c.id, c.label, i),) for i, c in enumerate(node.choices)]
    elif isinstance(node, HandoffNode):
        # A consent screen offers one way back, its own "No": a Back beside it
        # would be a second, different way for a member deciding under stress.
        decline = button("decline", node.decline_label, 1)
        menu = Button(tr.finish(texts.menu_label(tr)), MenuButton())
        declines_to_menu = resolve(position.flow, node.declined) == (MENU.flow, MENU.node)
        return Screen(
            text,
            (
                (button("consent", node.consent_label, 0),),
                (decline,) if declines_to_menu else (decline, menu),
            ),
        )
    if position == MENU:
        rows.append(
            (
                Button(tr.finish(texts.language_label(tr)), LanguagePicker()),
                Button(tr.finish(texts.wipe_label(tr)), WipeAsk()),
            )
        )
    else:
        rows.append(
            (
                Button(tr.finish(texts.back_label(tr)), BackButton(token)),
                Button(tr.finish(texts.menu_label(tr)), MenuButton()),
            )
        )
    return Screen(text, tuple(rows))


def notice_for(event: Event, tr: Translator) -> str | None:
    if isinstance(event, Stale):
        return texts.stale(tr)
    if isinstance(event, UseButtons):
        return texts.use_buttons(tr)
    if isinstance(event, InvalidAnswer):
        return texts.invalid_answer(tr, event.validator, event.max_length)
    return None


def screen_for_events(
    events: Sequence[Event], registry: Registry, tr: Translator, session: Session
) -> Screen:
    """One screen: notices first, then the screen the last Show asks for."""
    notices = [tr.finish(notice) for event in events if (notice := notice_for(event, tr))]
    shown = any(isinstance(event, Show) for event in events)
    screen = node_screen(registry, tr, session) if shown else Screen("")
    text = "\n\n".join([*notices, screen.text]) if screen.text else "\n\n".join(notices)
    return Screen(text, screen.rows)


def with_notice(notice: str, screen: Screen) -> Screen:
    return Screen(f"{notice}\n\n{screen.text}", screen.rows)


def language_screen(
    translators: Mapping[str, Translator],
    suggested: str,
    locales: Sequence[str],
    *,
    lead: str | None = None,
    leave: Translator | None = None,
) -> Screen:
    """The picker, prompting in every language since the member's may not be known.

    ``locales``: the languages members may pick, each named in its own words by
    CLDR (isolated where the language is written right to left).
    ``leave`` (the member's translator, once they have a language) adds a row
    to go back to where they were or to the menu.
    """
    ordered = _ordered(suggested, locales)
    prompts = "\n".join(
        translators[locale].finish(texts.choose_language(translators[locale])) for locale in ordered
    )
    text = prompts if lead is None else f"{lead}\n\n{prompts}"
    rows: list[tuple[Button, ...]] = [
        (Button(language_name(locale), PickLanguage(locale)),) for locale in ordered
    ]
    if leave is not None:
        rows.append(_leave_row(leave))
    return Screen(text, tuple(rows))


def _leave_row(tr: Translator) -> tuple[Button, ...]:
    return (
        Button(tr.finish(texts.back_label(tr)), ResumeButton()),
        Button(tr.finish(texts.menu_label(tr)), MenuButton()),
    )


def _ordered(suggested: str, locales: Sequence[str]) -> tuple[str, ...]:
    """The suggestion first, so a thumb finds it; the rest in a fixed order."""
    first = (suggested,) if suggested in locales else ()
    return (*first, *(locale for locale in locales if locale != suggested))


def wipe_screen(tr: Translator) -> Screen:
    return Screen(
        tr.finish(texts.wipe_question(tr)),
        (
            (Button(tr.finish(texts.wipe_confirm_label(tr)), WipeConfirm()),),
            (Button(tr.finish(texts.wipe_cancel_label(tr)), ResumeButton()),),
        ),
    )


def telegram_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(window: str) -> int:
    """Where to end a chunk: the last paragraph break, else line break, else space."""
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator)
        if position > 0:
            return position
    return len(window)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut a long text into messages under Telegram's limit, at the gentlest break."""
    chunks: list[str] = []
    rest = text.strip()
    while telegram_length(rest) > limit:
        window = rest[:limit]
        while telegram_length(window) > limit:  # surrogate pairs take two units
            window = window[:-1]
        cut = _cut(window)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks
