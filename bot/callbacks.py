"""Callback data: what a button says it does, never trusted as given.

Format ``<layout>|<verb>[|<arg>...]``. ``layout`` is the flows' structure hash;
a screen button also names the screen it was drawn for, and the engine
refuses it unless that is the member's current screen. Anything that does
not parse decodes to an action of ``None``, answered with the menu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.referral_terms import Field, Outcome
from flows.locales import is_locale_code
from flows.registry import LOCALES
from storage.referrals import valid_referral_id

MAX_CALLBACK_BYTES = 64
_TOKEN = re.compile(r"^[0-9a-f]{8}$")
_LAYOUT = re.compile(r"^[0-9a-f]{6}$")
MAX_OPTION_INDEX = 99
_FIELDS = frozenset(Field)


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
    """One answer of the referral questions; ``value`` is checked by the conversation."""

    field: Field
    value: str


@dataclass(frozen=True)
class CancelAsk:
    pass


@dataclass(frozen=True)
class CancelConfirm:
    pass


# Staff buttons: every referral id, label, locale and outcome is checked when
# decoded; whether the presser may act on it is decided by bot/staff_decisions.py.


@dataclass(frozen=True)
class Claim:
    referral: str


@dataclass(frozen=True)
class Talk:
    """Aim the volunteer's next messages at this request's member."""

    referral: str


@dataclass(frozen=True)
class Release:
    referral: str


@dataclass(frozen=True)
class AskHandover:
    referral: str


@dataclass(frozen=True)
class Assign:
    """A coordinator passes a request waiting for hand-over to the account ``label``."""

    referral: str
    label: str


@dataclass(frozen=True)
class AskClose:
    referral: str


@dataclass(frozen=True)
class Close:
    referral: str
    outcome: Outcome


@dataclass(frozen=True)
class ToggleLanguage:
    locale: str


@dataclass(frozen=True)
class LanguagesDone:
    pass


@dataclass(frozen=True)
class DecideLanguage:
    """A coordinator approves or refuses the language ``label`` asked to serve in."""

    label: str
    locale: str
    approve: bool


class StaffChange(StrEnum):
    SUSPEND = "S"
    REINSTATE = "A"
    REMOVE = "R"


@dataclass(frozen=True)
class ManageStaff:
    """A coordinator suspends, reinstates or removes the account ``label``."""

    label: str
    change: StaffChange


PANEL_VERBS = frozenset("TPQZ")
"""T: the text desk, P: its preview (bot/desk/);
Q, Z: the language switch (bot/locale_switch.py)."""


@dataclass(frozen=True)
class PanelPress:
    """A press on a coordinator panel whose module reads its own arguments.

    The codec checks only the shape (a known panel, at most two short
    arguments); the desk and the language switch validate the arguments against
    their own state, so nothing here is trusted either.
    """

    panel: str
    args: tuple[str, ...]


StaffAction = (
    PanelPress
    | Claim
    | Talk
    | Release
    | AskHandover
    | Assign
    | AskClose
    | Close
    | ToggleLanguage
    | LanguagesDone
    | DecideLanguage
    | ManageStaff
)
"""A volunteer's or coordinator's button, encoded ``s|<verb>|<arg>...`` without
the flows' layout, since staff screens do not come from the flows."""


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
_ARG = re.compile(r"^[0-9A-Za-z_-]{1,16}$")
STAFF_PREFIX = "s"
_BY_REFERRAL: dict[str, type[Claim | Talk | Release | AskHandover | AskClose]] = {
    "c": Claim,
    "t": Talk,
    "r": Release,
    "h": AskHandover,
    "x": AskClose,
}


def _staff_words(action: StaffAction) -> tuple[str, ...]:
    """The verb and arguments a staff action is sent as."""
    match action:
        case PanelPress(panel, args):
            return (panel, *args)
        case Claim() | Talk() | Release() | AskHandover() | AskClose():
            verb = next(v for v, kind in _BY_REFERRAL.items() if isinstance(action, kind))
            return (verb, action.referral)
        case Assign(referral, label):
            return ("a", referral, label)
        case Close(referral, outcome):
            return ("o", referral, outcome.value)
        case ToggleLanguage(locale):
            return ("g", locale)
        case LanguagesDone():
            return ("d",)
        case DecideLanguage(label, locale, approve):
            return ("Y" if approve else "N", label, locale)
        case ManageStaff(label, change):
            return (change.value, label)


def _staff_action(verb: str, args: list[str]) -> StaffAction | None:
    """The staff action the words name, if each argument is of its kind; else None."""
    if not all(_ARG.fullmatch(arg) for arg in args):
        return None
    match verb, args:
        case (_, [referral]) if verb in _BY_REFERRAL and valid_referral_id(referral):
            return _BY_REFERRAL[verb](referral)
        case ("a", [referral, label]) if valid_referral_id(referral):
            return Assign(referral, label)
        case ("o", [referral, outcome]) if valid_referral_id(referral) and outcome in _OUTCOMES:
            return Close(referral, Outcome(outcome))
        case ("g", [locale]) if locale in LOCALES:
            return ToggleLanguage(locale)
        case ("d", []):
            return LanguagesDone()
        case ("Y" | "N", [label, locale]) if locale in LOCALES:
            return DecideLanguage(label, locale, approve=verb == "Y")
        case (_, [label]) if verb in _CHANGES:
            return ManageStaff(label, StaffChange(verb))
    return None


_OUTCOMES = frozenset(Outcome)
_CHANGES = frozenset(StaffChange)


def encode(action: Action, layout: str) -> str:
    if isinstance(action, StaffAction):
        data = "|".join((STAFF_PREFIX, *_staff_words(action)))
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
    if verb == "a" and len(args) == 2 and args[0] in _FIELDS and _ARG.fullmatch(args[1]):
        return Answer(Field(args[0]), args[1])
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
        if verb in PANEL_VERBS:
            shaped = len(args) <= 2 and all(_ARG.fullmatch(arg) for arg in args)
            return Pressed(None, PanelPress(verb, tuple(args)) if shaped else None)
        return Pressed(None, _staff_action(verb, args))
    if not _LAYOUT.fullmatch(layout) or not rest:
        return Pressed(None, None)
    verb, *args = rest.split("|")
    return Pressed(layout, _action(verb, args))
