"""Walking a draft as a member would, without being one.

The walk lives here, in memory, per coordinator: it never touches the members
table (the coordinator's own member state, if any, stays as it was) and a
consent screen files nothing. Every screen is drawn by the same
:func:`bot.screens.node_screen` members get, in the chosen language, under a
preview mark; its buttons carry ``s|P|...`` data that only this module reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import BackButton, ChooseButton, MenuButton, PanelPress, encode
from bot.desk import texts
from bot.i18n import LANGUAGE_NAMES, Translator
from bot.screens import node_screen
from flows import engine
from flows.model import QuestionNode
from flows.registry import Registry

PREVIEW_VERB = "P"
_BACK = "b"
_MENU = "m"
QUIT = "q"


@dataclass
class Preview:
    registry: Registry
    translators: Mapping[str, Translator]
    locale: str
    session: engine.Session
    notice: str | None = None

    @property
    def tr(self) -> Translator:
        return self.translators[self.locale]

    def press(self, args: tuple[str, ...]) -> bool:
        """Move on for a preview button's arguments; False for a stale or forged one."""
        self.notice = None
        if args == (_MENU,):
            self.session = engine.step(self.registry, self.session, engine.Restart()).session
            return True
        if len(args) != 2 or args[0] != engine.screen_token(self.session.position):
            return False
        if args[1] == _BACK:
            event: engine.Input = engine.Back(args[0])
        elif args[1].isascii() and args[1].isdigit():
            event = engine.Choose(args[0], int(args[1]))
        else:
            return False
        moved = engine.step(self.registry, self.session, event)
        if any(isinstance(e, engine.Stale) for e in moved.events):
            return False
        if any(isinstance(e, engine.ConsentGiven) for e in moved.events):
            self.notice = texts.preview_handoff(self.tr)
        self.session = moved.session
        return True

    def draw(self, viewer: Translator) -> tuple[str, InlineKeyboardMarkup]:
        """The screen under the preview mark (in the coordinator's language ``viewer``)."""
        tr = self.tr
        screen = node_screen(self.registry, tr, self.session)
        node = self.registry.node(self.session.position.flow, self.session.position.node)
        notice = self.notice
        if isinstance(node, QuestionNode) and node.free_text is not None:
            notice = texts.preview_typed(viewer)
        mark = texts.preview_mark(viewer, LANGUAGE_NAMES.get(self.locale, self.locale))
        parts = [viewer.finish(mark), *([viewer.finish(notice)] if notice else []), screen.text]
        rows: list[list[InlineKeyboardButton]] = []
        for row in screen.rows:
            buttons = [
                InlineKeyboardButton(button.label, callback_data=data)
                for button in row
                if (data := _data(button.action)) is not None
            ]
            if buttons:
                rows.append(buttons)
        rows.append(
            [
                InlineKeyboardButton(
                    viewer.finish(texts.end_preview_label(viewer)),
                    callback_data=encode(PanelPress(PREVIEW_VERB, (QUIT,)), ""),
                )
            ]
        )
        return "\n\n".join(parts), InlineKeyboardMarkup(rows)


def _data(action: object) -> str | None:
    if isinstance(action, ChooseButton):
        args: tuple[str, ...] = (action.token, str(action.index))
    elif isinstance(action, BackButton):
        args = (action.token, _BACK)
    elif isinstance(action, MenuButton):
        args = (_MENU,)
    else:
        return None  # language and wipe belong to the member's own chat, not to a preview
    return encode(PanelPress(PREVIEW_VERB, args), "")
