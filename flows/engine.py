"""The flow engine: a pure function from (session, input) to (session, events).

It never talks to Telegram or storage. The caller persists the returned
session and turns the events into messages, which keeps every rule about
where a member may go testable without a network.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from flows.model import (
    MAIN_FLOW,
    MAIN_NODE,
    EndNode,
    HandoffNode,
    MessageNode,
    QuestionNode,
    Validator,
    resolve,
)
from flows.registry import Registry

MAX_HISTORY = 32
"""Back goes this far; older steps are forgotten rather than stored forever."""


@dataclass(frozen=True)
class Position:
    flow: str
    node: str


MENU = Position(MAIN_FLOW, MAIN_NODE)


@dataclass(frozen=True)
class Session:
    position: Position = MENU
    history: tuple[Position, ...] = ()
    answers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "at": [self.position.flow, self.position.node],
            "history": [[p.flow, p.node] for p in self.history],
            "answers": dict(self.answers),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Session:
        """Rebuild a stored session; anything malformed starts over at the menu."""
        try:
            at = Position(*map(str, data["at"]))
            history = tuple(Position(*map(str, item)) for item in data.get("history", ()))
            answers = {str(k): str(v) for k, v in dict(data.get("answers", {})).items()}
        except (KeyError, TypeError, ValueError):
            return cls()
        return cls(at, history[-MAX_HISTORY:], MappingProxyType(answers))


# Inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Restart:
    """Go to the main menu and forget the way there."""


@dataclass(frozen=True)
class Refresh:
    """Show the current screen again (after a restart or a language change)."""


@dataclass(frozen=True)
class Choose:
    """A button press on the screen identified by ``token``."""

    token: str
    index: int


@dataclass(frozen=True)
class Back:
    token: str


@dataclass(frozen=True)
class Text:
    text: str


Input = Restart | Refresh | Choose | Back | Text


# Events ---------------------------------------------------------------------


@dataclass(frozen=True)
class Show:
    position: Position


@dataclass(frozen=True)
class Stale:
    """The input referred to a screen that is not the current one."""


@dataclass(frozen=True)
class UseButtons:
    """Text arrived where only buttons are understood."""


@dataclass(frozen=True)
class InvalidAnswer:
    validator: Validator
    max_length: int


@dataclass(frozen=True)
class ConsentGiven:
    """The member agreed to be referred; the caller creates the referral."""

    position: Position
    answers: Mapping[str, str]


Event = Show | Stale | UseButtons | InvalidAnswer | ConsentGiven


@dataclass(frozen=True)
class Step:
    session: Session
    events: tuple[Event, ...]


def screen_token(position: Position) -> str:
    """A short tag of a screen for callback data; not a secret, only a match."""
    digest = hashlib.blake2s(f"{position.flow}:{position.node}".encode(), digest_size=4)
    return digest.hexdigest()


# C0 and C1 controls, zero-width characters and every bidi control (U+061C too).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def validate_answer(text: str, validator: Validator, max_length: int) -> str | None:
    """The normalised answer, or None if it does not pass."""
    value = _CONTROL.sub("", text).strip()
    if not value or len(value) > max_length:
        return None
    if validator is Validator.NUMBER:
        return value if value.isascii() and value.isdigit() else None
    if validator is Validator.COUNTRY_CODE:
        # Check before upper-casing: "ß".upper() is "SS", "ﬀ".upper() is "FF".
        return value.upper() if len(value) == 2 and value.isascii() and value.isalpha() else None
    return value


def _menu(events: tuple[Event, ...] = ()) -> Step:
    return Step(Session(), (*events, Show(MENU)))


def _go(registry: Registry, session: Session, target: str, **answers: str) -> Step:
    destination = Position(*resolve(session.position.flow, target))
    if registry.node(destination.flow, destination.node) is None:
        return _menu((Stale(),))
    merged = MappingProxyType({**session.answers, **answers})
    history = (*session.history, session.position)[-MAX_HISTORY:]
    return Step(Session(destination, history, merged), (Show(destination),))


def step(registry: Registry, session: Session | None, event: Input) -> Step:
    if session is None or isinstance(event, Restart):
        return _menu()
    node = registry.node(session.position.flow, session.position.node)
    if node is None:
        return _menu((Stale(),))
    if isinstance(event, Refresh):
        return Step(session, (Show(session.position),))
    if isinstance(event, Back):
        if event.token != screen_token(session.position):
            return _menu((Stale(),))
        if not session.history:
            return _menu()
        previous = session.history[-1]
        if registry.node(previous.flow, previous.node) is None:
            return _menu((Stale(),))
        return Step(
            replace(session, position=previous, history=session.history[:-1]), (Show(previous),)
        )
    if isinstance(event, Text):
        if isinstance(node, QuestionNode) and node.free_text is not None:
            value = validate_answer(event.text, node.free_text.validator, node.free_text.max_length)
            if value is None:
                return Step(
                    session,
                    (
                        InvalidAnswer(node.free_text.validator, node.free_text.max_length),
                        Show(session.position),
                    ),
                )
            return _go(registry, session, node.next, **{node.answer: value})
        return Step(session, (UseButtons(), Show(session.position)))
    # A button press: it must belong to the screen the member is on.
    if event.token != screen_token(session.position) or event.index < 0:
        return _menu((Stale(),))
    if isinstance(node, MessageNode | EndNode):
        if event.index >= len(node.options):
            return _menu((Stale(),))
        return _go(registry, session, node.options[event.index].goto)
    if isinstance(node, QuestionNode):
        if event.index >= len(node.choices):
            return _menu((Stale(),))
        return _go(registry, session, node.next, **{node.answer: node.choices[event.index].id})
    if isinstance(node, HandoffNode):
        if event.index == 0:
            moved = _leave(registry, session, node.next)
            return Step(
                moved.session, (ConsentGiven(session.position, session.answers), *moved.events)
            )
        if event.index == 1:
            return _leave(registry, session, node.declined)
    return _menu((Stale(),))


def _leave(registry: Registry, session: Session, target: str) -> Step:
    """Leave a consent screen: it is answered, so the way back skips it.

    Back from the screen after it goes to the screen before it, never to a
    consent already given (or refused); a target that is the screen before it
    is reached exactly as Back would reach it.
    """
    destination = Position(*resolve(session.position.flow, target))
    if registry.node(destination.flow, destination.node) is None:
        return _menu((Stale(),))
    history = session.history
    if history and history[-1] == destination:
        history = history[:-1]
    return Step(Session(destination, history, session.answers), (Show(destination),))
