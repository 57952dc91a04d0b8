"""Callback data: what a button says it does, never trusted as given.

Format ``<layout>|<verb>[|<arg>...]``. ``layout`` is the flows' structure hash;
a screen button also names the screen it was drawn for, and the engine
refuses it unless that is the member's current screen. Anything that does
not parse decodes to an action of ``None``, answered with the menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.locales import is_locale_code

MAX_CALLBACK_BYTES = 64
_TOKEN = re.compile(r"^[0-9a-f]{8}$")
_LAYOUT = re.compile(r"^[0-9a-f]{6}$")
MAX_OPTION_INDEX = 99


@dataclass(frozen=True)
class ChooseButton:
    token: str
    index: int


@dataclass(frozen=True)
class BackButton:
    token: str


@dataclass(frozen=True)
class MenuButton:
    pass


@dataclass(frozen=True)
class ResumeButton:
    """Leave a side screen (language, wipe) and return to where the member was."""


@dataclass(frozen=True)
class LanguagePicker:
    pass


@dataclass(frozen=True)
class PickLanguage:
    locale: str


@dataclass(frozen=True)
class WipeAsk:
    pass


@dataclass(frozen=True)
class WipeConfirm:
    pass


@dataclass(frozen=True)
class Answer:
    """One answer of the referral questions: ``field`` is t, u, c or l."""

    field: str
    value: str


@dataclass(frozen=True)
class CancelAsk:
    pass


@dataclass(frozen=True)
class CancelConfirm:
    pass


@dataclass(frozen=True)
class StaffAction:
    """A volunteer's or coordinator's button: verb and arguments, checked by the handler.

    Encoded ``s|<verb>|<arg>...`` without the flows' layout, since staff
    screens do not come from the flows. Nothing here is trusted: the handler
    checks the presser's role and hold on the referral before anything changes.
    """

    verb: str
    args: tuple[str, ...] = ()


Action = (
    ChooseButton
    | BackButton
    | MenuButton
    | ResumeButton
    | LanguagePicker
    | PickLanguage
    | WipeAsk
    | WipeConfirm
    | Answer
    | CancelAsk
    | CancelConfirm
    | StaffAction
)


@dataclass(frozen=True)
class Pressed:
    layout: str | None
    action: Action | None
    """None when the data is malformed or forged."""


_SIMPLE: dict[str, Action] = {
    "m": MenuButton(),
    "r": ResumeButton(),
    "L": LanguagePicker(),
    "w": WipeAsk(),
    "W": WipeConfirm(),
    "x": CancelAsk(),
    "X": CancelConfirm(),
}
ANSWER_FIELDS = frozenset("tucl")
STAFF_VERBS = frozenset("cgdtrhxoaSARlYNQZTP")
"""T: the text desk, P: its preview (bot/desk/); Q, Z: the language switch (bot/locale_switch.py);
the rest: bot/staff_handlers.py."""
_ARG = re.compile(r"^[0-9A-Za-z_-]{1,16}$")
STAFF_PREFIX = "s"


def encode(action: Action, layout: str) -> str:
    if isinstance(action, StaffAction):
        data = "|".join((STAFF_PREFIX, action.verb, *action.args))
    elif isinstance(action, Answer):
        data = f"{layout}|a|{action.field}|{action.value}"
    elif isinstance(action, ChooseButton):
        data = f"{layout}|c|{action.token}|{action.index}"
    elif isinstance(action, BackButton):
        data = f"{layout}|b|{action.token}"
    elif isinstance(action, PickLanguage):
        data = f"{layout}|l|{action.locale}"
    else:
        verb = next(key for key, value in _SIMPLE.items() if value == action)
        data = f"{layout}|{verb}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over Telegram's 64 bytes")
    return data


def _action(verb: str, args: list[str]) -> Action | None:
    if verb in _SIMPLE and not args:
        return _SIMPLE[verb]
    # Only the shape here: whether members may pick it is the conversation's question.
    if verb == "l" and len(args) == 1 and is_locale_code(args[0]):
        return PickLanguage(args[0])
    if verb == "b" and len(args) == 1 and _TOKEN.fullmatch(args[0]):
        return BackButton(args[0])
    if verb == "a" and len(args) == 2 and args[0] in ANSWER_FIELDS and _ARG.fullmatch(args[1]):
        return Answer(args[0], args[1])
    if verb == "c" and len(args) == 2 and _TOKEN.fullmatch(args[0]):
        index = args[1]
        if index.isascii() and index.isdigit() and int(index) <= MAX_OPTION_INDEX:
            return ChooseButton(args[0], int(index))
    return None


def decode(data: str | None) -> Pressed:
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return Pressed(None, None)
    layout, _, rest = data.partition("|")
    if layout == STAFF_PREFIX:
        verb, *args = rest.split("|")
        if verb in STAFF_VERBS and len(args) <= 2 and all(_ARG.fullmatch(a) for a in args):
            return Pressed(None, StaffAction(verb, tuple(args)))
        return Pressed(None, None)
    if not _LAYOUT.fullmatch(layout) or not rest:
        return Pressed(None, None)
    verb, *args = rest.split("|")
    return Pressed(layout, _action(verb, args))
