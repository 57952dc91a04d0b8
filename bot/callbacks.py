"""Callback data: what a button says it does, never trusted as given.

Format ``<layout>|<verb>[|<arg>...]``. ``layout`` is the flows' structure hash;
a screen button also names the screen it was drawn for, and the engine
refuses it unless that is the member's current screen. Anything that does
not parse decodes to an action of ``None``, answered with the menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.registry import LOCALES

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


Action = (
    ChooseButton
    | BackButton
    | MenuButton
    | ResumeButton
    | LanguagePicker
    | PickLanguage
    | WipeAsk
    | WipeConfirm
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
}


def encode(action: Action, layout: str) -> str:
    if isinstance(action, ChooseButton):
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
    if verb == "l" and len(args) == 1 and args[0] in LOCALES:
        return PickLanguage(args[0])
    if verb == "b" and len(args) == 1 and _TOKEN.match(args[0]):
        return BackButton(args[0])
    if verb == "c" and len(args) == 2 and _TOKEN.match(args[0]):
        index = args[1]
        if index.isascii() and index.isdigit() and int(index) <= MAX_OPTION_INDEX:
            return ChooseButton(args[0], int(index))
    return None


def decode(data: str | None) -> Pressed:
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return Pressed(None, None)
    layout, _, rest = data.partition("|")
    if not _LAYOUT.match(layout) or not rest:
        return Pressed(None, None)
    verb, *args = rest.split("|")
    return Pressed(layout, _action(verb, args))
