"""The flow engine: a pure function from (session, input) to (session, events)."""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.engine import (
    MAX_HISTORY,
    MENU,
    Back,
    Choose,
    ConsentGiven,
    Input,
    InvalidAnswer,
    Position,
    Refresh,
    Restart,
    Session,
    Show,
    Stale,
    Step,
    Text,
    UseButtons,
    screen_token,
    step,
    validate_answer,
)
from flows.model import Validator
from flows.registry import Registry, RegistrySources, build_registry, read_sources

MAIN_YAML = """\
id: main
start: menu
nodes:
  - id: menu
    kind: message
    unsourced: menu
    text: Menu
    options:
      - id: a
        label: A
        goto: a
      - id: quiz
        label: Quiz
        goto: quiz:ask
      - id: ghost
        label: Leads nowhere
        goto: gone:nowhere
  - id: a
    kind: message
    unsourced: menu
    text: Screen A
    options:
      - id: b
        label: B
        goto: b
      - id: again
        label: A again
        goto: a
  - id: b
    kind: end
    unsourced: menu
    text: Screen B
    options:
      - id: quiz
        label: Quiz
        goto: quiz:ask
"""

QUIZ_YAML = """\
id: quiz
start: ask
nodes:
  - id: ask
    kind: question
    unsourced: menu
    text: Which topic?
    answer: topic
    choices:
      - id: red
        label: Red
      - id: blue
        label: Blue
    next: country
  - id: country
    kind: question
    unsourced: menu
    text: Which country?
    answer: country
    free_text:
      validator: country_code
    next: age
  - id: age
    kind: question
    unsourced: menu
    text: How old?
    answer: age
    free_text:
      validator: number
      max_length: 3
    next: note
  - id: note
    kind: question
    unsourced: menu
    text: A word?
    answer: note
    free_text:
      max_length: 5
    next: refer
  - id: refer
    kind: handoff
    unsourced: menu
    text: May we refer you?
    consent_label: Yes, refer me
    decline_label: No, thanks
    next: done
    declined: main:menu
  - id: done
    kind: end
    unsourced: menu
    text: Done.
"""

MAIN_WITHOUT_A = """\
id: main
start: menu
nodes:
  - id: menu
    kind: message
    unsourced: menu
    text: Menu
    options:
      - id: b
        label: B
        goto: b
  - id: b
    kind: end
    unsourced: menu
    text: Screen B
"""
"""The main flow after an edit that removed node ``a``."""

A = Position("main", "a")
B = Position("main", "b")
ASK = Position("quiz", "ask")
COUNTRY = Position("quiz", "country")
AGE = Position("quiz", "age")
NOTE = Position("quiz", "note")
REFER = Position("quiz", "refer")
DONE = Position("quiz", "done")

STALE_MENU = Step(Session(), (Stale(), Show(MENU)))

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Unicode's Bidi_Control property (PropList.txt)."""


def registry_of(**files: str) -> Registry:
    return build_registry(RegistrySources({f"{k}.yaml": v for k, v in files.items()}, {}))


@cache
def small() -> Registry:
    return registry_of(main=MAIN_YAML, quiz=QUIZ_YAML)


@cache
def shipped() -> Registry:
    return build_registry(read_sources())


def at(position: Position, *, history: tuple[Position, ...] = (), **answers: str) -> Session:
    return Session(position, history, MappingProxyType(answers))


def press(session: Session, index: int, registry: Registry | None = None) -> Step:
    return step(registry or small(), session, Choose(screen_token(session.position), index))


def back(session: Session) -> Step:
    return step(small(), session, Back(screen_token(session.position)))


def say(session: Session, text: str) -> Step:
    return step(small(), session, Text(text))


# Start and restart -----------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [Restart(), Refresh(), Choose(screen_token(A), 0), Back(screen_token(A)), Text("hi")],
    ids=lambda event: type(event).__name__,
)
def test_no_session_starts_at_the_menu(event: Input) -> None:
    assert step(small(), None, event) == Step(Session(), (Show(MENU),))


def test_restart_forgets_position_history_and_answers() -> None:
    session = at(NOTE, history=(MENU, ASK, COUNTRY, AGE), topic="red", country="DE")
    assert step(small(), session, Restart()) == Step(Session(), (Show(MENU),))


def test_refresh_shows_the_same_screen_again() -> None:
    session = at(AGE, history=(MENU, ASK), topic="red")
    assert step(small(), session, Refresh()) == Step(session, (Show(AGE),))


# Buttons ---------------------------------------------------------------------


def test_choose_moves_and_pushes_history() -> None:
    first = press(Session(), 0)
    assert first == Step(Session(A, (MENU,)), (Show(A),))
    second = press(first.session, 0)
    assert second == Step(Session(B, (MENU, A)), (Show(B),))


def test_choose_on_an_end_node_follows_its_options() -> None:
    assert press(at(B, history=(MENU, A)), 0) == Step(Session(ASK, (MENU, A, B)), (Show(ASK),))


def test_choose_follows_a_cross_flow_target() -> None:
    result = press(Session(), 1)
    assert result.session.position == ASK
    assert result.events == (Show(ASK),)


def test_target_missing_from_the_registry_is_stale() -> None:
    assert press(Session(), 2) == STALE_MENU


@pytest.mark.parametrize(
    ("token", "index"),
    [
        ("wrong", 0),
        (screen_token(A), 0),  # a button of another screen
        (screen_token(MENU).upper(), 0),
        (screen_token(MENU), 3),  # one past the last option
        (screen_token(MENU), 99),
        (screen_token(MENU), -1),
        (screen_token(MENU), -3),
    ],
)
def test_wrong_token_or_index_is_stale_and_nothing_else(token: str, index: int) -> None:
    session = at(MENU, history=(A,), topic="red")
    assert step(small(), session, Choose(token, index)) == STALE_MENU


@pytest.mark.parametrize(
    ("position", "index"),
    [(ASK, 2), (ASK, -1), (COUNTRY, 0), (REFER, 2), (REFER, -1), (DONE, 0)],
)
def test_out_of_range_on_other_node_kinds_is_stale(position: Position, index: int) -> None:
    assert press(at(position, history=(MENU,), topic="red"), index) == STALE_MENU


def test_screen_tokens_are_short_stable_and_distinct() -> None:
    positions = [
        Position(flow.id, node.id) for flow in shipped().flows.values() for node in flow.nodes
    ]
    tokens = [screen_token(position) for position in positions]
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) == 8 for token in tokens)
    assert screen_token(Position("main", "menu")) == screen_token(MENU)


# Back ------------------------------------------------------------------------


def test_back_pops_history() -> None:
    session = at(B, history=(MENU, A), topic="red")
    result = back(session)
    assert result == Step(at(A, history=(MENU,), topic="red"), (Show(A),))
    assert back(result.session) == Step(at(MENU, topic="red"), (Show(MENU),))


def test_back_with_empty_history_goes_to_the_menu() -> None:
    assert back(at(A, topic="red")) == Step(Session(), (Show(MENU),))


def test_back_with_a_stale_token_is_stale() -> None:
    session = at(B, history=(MENU, A))
    assert step(small(), session, Back(screen_token(A))) == STALE_MENU
    assert step(small(), session, Back("")) == STALE_MENU


def test_back_to_a_screen_that_no_longer_exists_is_stale() -> None:
    session = at(A, history=(Position("main", "removed"),))
    assert back(session) == STALE_MENU


# Questions -------------------------------------------------------------------


def test_choice_question_records_the_choice_id() -> None:
    result = press(at(ASK, history=(MENU,)), 1)
    assert result == Step(at(COUNTRY, history=(MENU, ASK), topic="blue"), (Show(COUNTRY),))


def test_choice_question_does_not_take_text() -> None:
    session = at(ASK, history=(MENU,))
    assert say(session, "red") == Step(session, (UseButtons(), Show(ASK)))


def test_free_text_answer_is_validated_recorded_and_moves_on() -> None:
    session = at(COUNTRY, history=(MENU, ASK), topic="red")
    result = say(session, " de\u200f ")
    assert result == Step(
        at(AGE, history=(MENU, ASK, COUNTRY), topic="red", country="DE"), (Show(AGE),)
    )


def test_whole_questionnaire_collects_every_answer() -> None:
    session = press(Session(), 1).session
    session = press(session, 0).session
    session = say(session, "tr").session
    session = say(session, "42").session
    session = say(session, "\u2067hi\u2069").session
    assert session.position == REFER
    assert dict(session.answers) == {"topic": "red", "country": "TR", "age": "42", "note": "hi"}
    assert session.history == (MENU, ASK, COUNTRY, AGE, NOTE)


@pytest.mark.parametrize(
    ("position", "text", "validator", "max_length"),
    [
        (COUNTRY, "deu", Validator.COUNTRY_CODE, 64),
        (COUNTRY, "d1", Validator.COUNTRY_CODE, 64),
        (COUNTRY, "ÄB", Validator.COUNTRY_CODE, 64),
        (COUNTRY, "  ", Validator.COUNTRY_CODE, 64),
        (AGE, "4a", Validator.NUMBER, 3),
        (AGE, "١٢", Validator.NUMBER, 3),  # Arabic-Indic digits are not ASCII digits
        (AGE, "1234", Validator.NUMBER, 3),
        (AGE, "-1", Validator.NUMBER, 3),
        (NOTE, "hello!", Validator.TEXT, 5),
        (NOTE, "\x00\n\u200b", Validator.TEXT, 5),
    ],
)
def test_invalid_answer_keeps_the_session(
    position: Position, text: str, validator: Validator, max_length: int
) -> None:
    session = at(position, history=(MENU, ASK), topic="red")
    assert say(session, text) == Step(
        session, (InvalidAnswer(validator, max_length), Show(position))
    )


@pytest.mark.parametrize(
    ("text", "validator", "max_length", "expected"),
    [
        ("hello", Validator.TEXT, 5, "hello"),
        ("hello!", Validator.TEXT, 5, None),
        ("  hi  ", Validator.TEXT, 5, "hi"),
        ("he\u2067llo\u2069", Validator.TEXT, 5, "hello"),
        ("a\u202eb\u202c", Validator.TEXT, 5, "ab"),
        ("a\u200eb\u200fc", Validator.TEXT, 5, "abc"),
        ("a\u061cb", Validator.TEXT, 5, "ab"),  # Arabic letter mark, common in Uyghur text
        ("a\x85b\x9fc", Validator.TEXT, 5, "abc"),  # C1 controls (U+0085 is a line break)
        ("line\nbreak", Validator.TEXT, 9, "linebreak"),
        ("a\tb\x7f", Validator.TEXT, 5, "ab"),
        ("\x00", Validator.TEXT, 5, None),
        ("", Validator.TEXT, 5, None),
        ("ئۇيغۇرچە", Validator.TEXT, 8, "ئۇيغۇرچە"),
        ("007", Validator.NUMBER, 3, "007"),
        (" 7 ", Validator.NUMBER, 3, "7"),
        ("1.5", Validator.NUMBER, 3, None),
        ("²", Validator.NUMBER, 3, None),
        ("de", Validator.COUNTRY_CODE, 64, "DE"),
        ("\u2066cn\u2069", Validator.COUNTRY_CODE, 64, "CN"),
        ("c n", Validator.COUNTRY_CODE, 64, None),
        ("d", Validator.COUNTRY_CODE, 64, None),
        ("ß", Validator.COUNTRY_CODE, 64, None),  # "ß".upper() == "SS"
        ("ﬀ", Validator.COUNTRY_CODE, 64, None),  # "ﬀ".upper() == "FF"
        ("ıt", Validator.COUNTRY_CODE, 64, None),  # dotless i upper-cases to ASCII "I"
    ],
)
def test_validate_answer(
    text: str, validator: Validator, max_length: int, expected: str | None
) -> None:
    assert validate_answer(text, validator, max_length) == expected


_FORBIDDEN = sorted(BIDI_CONTROLS | {"\x00", "\n", "\x1b", "\x7f", "\x85", "\x9b", "\u200b"})


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        st.one_of(st.characters(), st.sampled_from([*_FORBIDDEN, "a", "Z", "7", " "])),
        max_size=12,
    ),
    validator=st.sampled_from(list(Validator)),
    max_length=st.integers(1, 8),
)
def test_validated_answers_carry_no_control_or_bidi_characters(
    text: str, validator: Validator, max_length: int
) -> None:
    value = validate_answer(text, validator, max_length)
    if value is None:
        return
    assert value
    assert len(value) <= max_length
    assert value == value.strip()
    bad = [c for c in value if unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS]
    assert not bad, f"{value!r} keeps {bad!r}"
    if validator is Validator.NUMBER:
        assert value.isascii()
        assert value.isdigit()
    if validator is Validator.COUNTRY_CODE:
        assert len(value) == 2
        assert value.isascii()
        assert value.isalpha()
        assert value.isupper()


def test_text_on_a_message_asks_for_buttons() -> None:
    session = at(A, history=(MENU,), topic="red")
    assert say(session, "hello") == Step(session, (UseButtons(), Show(A)))


def test_text_on_a_handoff_asks_for_buttons() -> None:
    session = at(REFER, history=(MENU,))
    assert say(session, "yes") == Step(session, (UseButtons(), Show(REFER)))


# Handoff ---------------------------------------------------------------------


def test_consent_emits_consent_given_then_shows_next() -> None:
    session = at(REFER, history=(MENU, ASK), topic="red", country="DE")
    result = press(session, 0)
    assert result.events == (
        ConsentGiven(REFER, MappingProxyType({"topic": "red", "country": "DE"})),
        Show(DONE),
    )
    # The consent screen is answered: it is not on the way back.
    assert result.session == at(DONE, history=(MENU, ASK), topic="red", country="DE")


def test_back_after_consent_goes_to_the_screen_before_the_consent() -> None:
    sent = press(at(REFER, history=(MENU, ASK), topic="red"), 0).session
    result = back(sent)
    assert result.session.position == ASK
    assert result.events == (Show(ASK),)


def test_decline_goes_to_declined_without_consent() -> None:
    session = at(REFER, history=(MENU, ASK), topic="red")
    result = press(session, 1)
    assert result == Step(at(MENU, history=(MENU, ASK), topic="red"), (Show(MENU),))
    assert not any(isinstance(event, ConsentGiven) for event in result.events)


def test_decline_to_the_screen_before_is_exactly_back() -> None:
    # volunteer:urgent is reached from detained:intro and declines to it: "No, go
    # back" must not leave a second detained:intro (or the consent) to go back to.
    session = at(REFER, history=(A, MENU), topic="red")
    assert press(session, 1) == Step(at(MENU, history=(A,), topic="red"), (Show(MENU),))


# A registry that changed under a stored session ------------------------------


@pytest.mark.parametrize(
    "event",
    [Refresh(), Text("hi"), Choose(screen_token(A), 0), Back(screen_token(A))],
    ids=lambda event: type(event).__name__,
)
def test_position_removed_from_registry_is_stale(event: Input) -> None:
    without_a = registry_of(main=MAIN_WITHOUT_A, quiz=QUIZ_YAML)
    assert without_a.node("main", "a") is None
    assert without_a.node("main", "menu") is not None
    session = at(A, history=(MENU,), topic="red")
    assert step(without_a, session, event) == STALE_MENU


def test_flow_removed_from_registry_is_stale() -> None:
    only_main = registry_of(main=MAIN_YAML)
    assert step(only_main, at(COUNTRY, history=(MENU, ASK)), Text("de")) == STALE_MENU


# History ---------------------------------------------------------------------


def test_history_is_capped_at_max_history() -> None:
    session = press(Session(), 0).session  # menu -> a
    for _ in range(MAX_HISTORY + 8):
        session = press(session, 1).session  # a -> a
    assert session.position == A
    assert len(session.history) == MAX_HISTORY
    assert MENU not in session.history  # the oldest step was forgotten
    session = press(session, 0).session  # a -> b
    assert len(session.history) == MAX_HISTORY
    assert session.history[-1] == A


# Persistence -----------------------------------------------------------------


def test_session_json_round_trip() -> None:
    session = at(NOTE, history=(MENU, ASK, COUNTRY), topic="red", country="DE")
    stored = json.dumps(session.to_json())
    assert Session.from_json(json.loads(stored)) == session
    assert Session.from_json(Session().to_json()) == Session()


def test_session_from_json_trims_history() -> None:
    data = at(A).to_json()
    data["history"] = [["main", f"n{i}"] for i in range(MAX_HISTORY + 5)]
    restored = Session.from_json(data)
    assert len(restored.history) == MAX_HISTORY
    assert restored.history[-1] == Position("main", f"n{MAX_HISTORY + 4}")


@pytest.mark.parametrize(
    "raw",
    [
        "{}",
        "[]",
        "null",
        "42",
        '"main:menu"',
        '{"at": null}',
        '{"at": "main"}',
        '{"at": ["main"]}',
        '{"at": ["main", "a", "x"]}',
        '{"at": ["main", "a"], "history": 5}',
        '{"at": ["main", "a"], "history": [["main"]]}',
        '{"at": ["main", "a"], "answers": 5}',
        '{"at": ["main", "a"], "answers": ["x"]}',
    ],
)
def test_malformed_json_gives_a_fresh_session(raw: str) -> None:
    data: Any = json.loads(raw)
    assert Session.from_json(data) == Session()


# Random walks ----------------------------------------------------------------


def _positions(registry: Registry) -> list[Position]:
    return [Position(flow.id, node.id) for flow in registry.flows.values() for node in flow.nodes]


@pytest.mark.parametrize("which", ["shipped", "small"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_random_inputs_never_escape_the_registry(which: str, data: st.DataObject) -> None:
    registry = shipped() if which == "shipped" else small()
    known = _positions(registry)
    other_tokens = st.sampled_from([screen_token(p) for p in known] + ["", "zz", "00000000"])
    session = Session()
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        current = screen_token(session.position)
        kind = data.draw(st.sampled_from(["choose", "back", "restart", "refresh", "text"]))
        event: Input
        if kind == "choose":
            token = current if data.draw(st.booleans()) else data.draw(other_tokens)
            event = Choose(token, data.draw(st.integers(-2, 8)))
        elif kind == "back":
            event = Back(current if data.draw(st.booleans()) else data.draw(other_tokens))
        elif kind == "restart":
            event = Restart()
        elif kind == "refresh":
            event = Refresh()
        else:
            event = Text(data.draw(st.text(max_size=20)))
        result = step(registry, session, event)
        assert any(isinstance(e, Show) for e in result.events), (session, event)
        assert result.events[-1] == Show(result.session.position), (session, event)
        session = result.session
        assert session.position in known
        assert len(session.history) <= MAX_HISTORY
        assert all(p in known for p in session.history)
