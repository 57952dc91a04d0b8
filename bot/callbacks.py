"""Callback data: what a button says it does, never trusted as given.

Format ``<version>|<verb>[|<arg>...]``. The version is the registry's; a
screen button also names the screen it was drawn for, and the engine refuses
it unless that is the member's current screen. Anything that does not parse
is :class:`Unknown`, answered with the menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.registry import LOCALES

MAX_CALLBACK_BYTES = 64
_TOKEN = re.compile(r"^[0-9a-f]{8}$")
_VERSION = re.compile(r"^[0-9a-f]{6}$")


@dataclass(frozen=True)
class ChooseButton:
    version: str
    token: str
    index: int


@dataclass(frozen=True)
class BackButton:
    version: str
    token: str


@dataclass(frozen=True)
class MenuButton:
    pass


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
class WipeCancel:
    pass


@dataclass(frozen=True)
class Unknown:
    pass


Action = (
    ChooseButton
    | BackButton
    | MenuButton
    | LanguagePicker
    | PickLanguage
    | WipeAsk
    | WipeConfirm
    | WipeCancel
)
Decoded = Action | Unknown

_SIMPLE: dict[str, Action] = {
    "m": MenuButton(),
    "L": LanguagePicker(),
    "w": WipeAsk(),
    "W": WipeConfirm(),
    "x": WipeCancel(),
}


def encode(action: Action, version: str) -> str:
    if isinstance(action, ChooseButton):
        data = f"{action.version}|c|{action.token}|{action.index}"
    elif isinstance(action, BackButton):
        data = f"{action.version}|b|{action.token}"
    elif isinstance(action, PickLanguage):
        data = f"{version}|l|{action.locale}"
    else:
        verb = next(key for key, value in _SIMPLE.items() if value == action)
        data = f"{version}|{verb}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError("callback data over Telegram's 64 bytes")
    return data


def decode(data: str | None) -> Decoded:
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        return Unknown()
    parts = data.split("|")
    if not _VERSION.match(parts[0]) or len(parts) < 2:
        return Unknown()
    version, verb, args = parts[0], parts[1], parts[2:]
    if verb in _SIMPLE and not args:
        return _SIMPLE[verb]
    if verb == "l" and len(args) == 1 and args[0] in LOCALES:
        return PickLanguage(args[0])
    if verb == "b" and len(args) == 1 and _TOKEN.match(args[0]):
        return BackButton(version, args[0])
    if (
        verb == "c"
        and len(args) == 2
        and _TOKEN.match(args[0])
        and args[1].isascii()
        and args[1].isdigit()
        and len(args[1]) <= 2
    ):
        return ChooseButton(version, args[0], int(args[1]))
    return Unknown()
