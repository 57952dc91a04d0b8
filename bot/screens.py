"""Screens: what the member sees, built from engine events, free of Telegram.

A :class:`Screen` is text plus rows of buttons whose actions are callback
actions. The Telegram adapter and the terminal walker both draw screens, so
what ``python -m bot try`` shows is what a member gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot import texts
from bot.callbacks import (
    Action,
    BackButton,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    WipeAsk,
    WipeCancel,
    WipeConfirm,
)
from bot.i18n import LANGUAGE_NAMES, Translator
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
from flows.model import EndNode, HandoffNode, MessageNode, QuestionNode, text_context
from flows.registry import LOCALES, Registry

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
    answers = dict(session.answers)
    text = tr.finish(tr.pgettext(text_context(position.flow, node.id), node.text), **answers)
    token = screen_token(position)

    def button(part: str, label: str, index: int) -> Button:
        translated = tr.pgettext(text_context(position.flow, node.id, part), label)
        return Button(tr.finish(translated), ChooseButton(registry.version, token, index))

    rows: list[tuple[Button, ...]] = []
    if isinstance(node, MessageNode | EndNode):
        rows = [(button(o.id, o.label, i),) for i, o in enumerate(node.options)]
    elif isinstance(node, QuestionNode):
        rows = [(button(c.id, c.label, i),) for i, c in enumerate(node.choices)]
    elif isinstance(node, HandoffNode):
        rows = [
            (button("consent", node.consent_label, 0),),
            (button("decline", node.decline_label, 1),),
        ]
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
                Button(tr.finish(texts.back_label(tr)), BackButton(registry.version, token)),
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
    translators: Mapping[str, Translator], suggested: str, lead: str | None = None
) -> Screen:
    """The picker, prompting in every language since the member's is not yet known."""
    prompts = [
        translators[locale].finish(texts.choose_language(translators[locale]))
        for locale in _ordered(suggested)
    ]
    text = "\n".join(prompts) if lead is None else f"{lead}\n\n" + "\n".join(prompts)
    rows = tuple(
        (Button(LANGUAGE_NAMES[locale], PickLanguage(locale)),) for locale in _ordered(suggested)
    )
    return Screen(text, rows)


def _ordered(suggested: str) -> Iterable[str]:
    """The suggestion first, so a thumb finds it; the rest in a fixed order."""
    return (suggested, *(locale for locale in LOCALES if locale != suggested))


def wipe_screen(tr: Translator) -> Screen:
    return Screen(
        tr.finish(texts.wipe_question(tr)),
        (
            (Button(tr.finish(texts.wipe_confirm_label(tr)), WipeConfirm()),),
            (Button(tr.finish(texts.wipe_cancel_label(tr)), WipeCancel()),),
        ),
    )


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut at paragraph breaks, then line breaks, then spaces, never mid-word if avoidable."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = (
            max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0)
        )
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks
