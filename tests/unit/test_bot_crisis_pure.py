"""The crisis path's pure parts: one question for someone detained now, the way back, labels."""

from __future__ import annotations

import pytest

from bot import referral_texts, texts
from bot.callbacks import Answer, BackButton, ChooseButton, MenuButton, Pressed
from bot.content import Snapshot, load_snapshot
from bot.conversation import Conversation, Outcome
from bot.i18n import Translator
from bot.members import MemberState
from bot.referral_choices import COUNTRIES, ReferralRequest, choices
from bot.referral_screens import status_screen
from bot.screens import Screen
from flows.engine import Position, Session
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES, LOCALES_DIR
from flows.values import TextValues

DETAINED = Position("detained", "intro")
URGENT = Position("volunteer", "urgent")
INTRO = Position("volunteer", "intro")
SENT = Position("volunteer", "sent")


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return load_snapshot(DEFINITIONS_DIR, LOCALES_DIR, TextValues(retention_days=30))


def at(snapshot: Snapshot, locale: str, *path: Position) -> Conversation:
    """A member of ``locale`` on the last screen of ``path``, having come through the others."""
    session = Session(path[-1], path[:-1])
    return Conversation(snapshot, MemberState(locale, session=session), locale)


def press(conversation: Conversation, action: object) -> tuple[Conversation, Outcome]:
    layout = conversation.snapshot.registry.layout
    outcome = conversation.press(Pressed(layout, action))  # type: ignore[arg-type]
    return Conversation(conversation.snapshot, outcome.state, conversation.suggested), outcome


def button(screen: Screen, label: str) -> object:
    return next(b.action for b in screen.buttons if b.label == label)


def consent(conversation: Conversation, outcome_screen: Screen) -> tuple[Conversation, Outcome]:
    """Press the first button of a consent screen: its "Yes"."""
    action = outcome_screen.rows[0][0].action
    assert isinstance(action, ChooseButton)
    return press(conversation, action)


def screen_of(conversation: Conversation) -> Screen:
    return conversation.resume().screens[0]


@pytest.mark.parametrize("locale", LOCALES)
def test_detained_now_asks_one_question_where_the_member_is(
    snapshot: Snapshot, locale: str
) -> None:
    member = at(snapshot, locale, Position("main", "menu"), DETAINED, URGENT)
    tr = snapshot.translators[locale]
    member, outcome = consent(member, screen_of(member))
    [question] = outcome.screens
    # The only question, with no "Question 1 of 1" above it.
    assert question.text == tr.finish(referral_texts.question(tr, "c", held_now=True))
    assert question.text != tr.finish(referral_texts.question(tr, "c"))
    assert [a.field for a in (b.action for b in question.buttons) if isinstance(a, Answer)] == [
        "c"
    ] * (len(COUNTRIES) + 1)
    # Answering it files the request, in the language the member reads.
    member, filed = press(member, Answer("c", "PL"))
    assert filed.referral == ReferralRequest("detained", "detained", "PL", locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_ordinary_request_still_asks_where_the_member_lives(
    snapshot: Snapshot, locale: str
) -> None:
    tr = snapshot.translators[locale]
    member = at(snapshot, locale, Position("main", "menu"), INTRO)
    member, outcome = consent(member, screen_of(member))
    member, outcome = press(member, Answer("t", "travel"))
    member, outcome = press(member, Answer("u", "detained"))
    text = outcome.screens[0].text
    assert text.startswith(tr.finish(referral_texts.step(tr, 3, 4)))
    assert tr.finish(referral_texts.question(tr, "c")) in text
    assert tr.finish(referral_texts.question(tr, "c", held_now=True)) not in text


def test_where_are_you_now_is_translated(snapshot: Snapshot) -> None:
    english = referral_texts.question(Translator("en", None), "c", held_now=True)
    assert english == "Where are you now?"
    for locale in ("zh_Hans", "zh_Hant", "ug"):
        tr = snapshot.translators[locale]
        assert referral_texts.question(tr, "c", held_now=True) != english


@pytest.mark.parametrize("locale", LOCALES)
def test_back_after_the_request_is_sent_skips_the_consent(snapshot: Snapshot, locale: str) -> None:
    tr = snapshot.translators[locale]
    member = at(snapshot, locale, Position("main", "menu"), DETAINED, URGENT)
    member, _ = consent(member, screen_of(member))
    member, sent = press(member, Answer("c", "TR"))
    assert member.state is not None
    assert member.state.session.position == SENT
    back = button(sent.screens[0], tr.finish(texts.back_label(tr)))
    assert isinstance(back, BackButton)
    member, _ = press(member, back)
    assert member.state is not None
    assert member.state.session.position == DETAINED, "the screen before the consent"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("handoff", [URGENT, INTRO])
def test_a_consent_screen_has_one_way_back(
    snapshot: Snapshot, locale: str, handoff: Position
) -> None:
    member = at(snapshot, locale, Position("main", "menu"), DETAINED, handoff)
    screen = screen_of(member)
    actions = [b.action for b in screen.buttons]
    assert not any(isinstance(a, BackButton) for a in actions)
    assert [a.index for a in actions if isinstance(a, ChooseButton)] == [0, 1]
    # The "No" that goes to the menu is the only way out; another "No" keeps Menu beside it.
    menus = [a for a in actions if isinstance(a, MenuButton)]
    assert len(menus) == (1 if handoff == URGENT else 0)


@pytest.mark.parametrize("locale", LOCALES)
def test_cancel_during_the_questions_says_what_it_cancels(snapshot: Snapshot, locale: str) -> None:
    tr = snapshot.translators[locale]
    member = at(snapshot, locale, Position("main", "menu"), DETAINED, URGENT)
    member, outcome = consent(member, screen_of(member))
    cancel = outcome.screens[0].rows[-1][0]
    assert cancel.label == tr.finish(referral_texts.cancel_label(tr))
    assert isinstance(cancel.action, MenuButton)
    if locale != "en":
        assert cancel.label != "✖ Cancel this request", "translated"
    assert referral_texts.cancel_label(Translator("en", None)) == "✖ Cancel this request"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("claimed", [False, True])
def test_an_escalation_says_the_open_request_is_now_urgent(
    snapshot: Snapshot, locale: str, claimed: bool
) -> None:
    tr = snapshot.translators[locale]
    member = at(snapshot, locale, Position("main", "menu"), DETAINED, SENT)
    outcome = member.escalated(claimed=claimed)
    [screen] = outcome.screens
    expected = referral_texts.escalated_claimed if claimed else referral_texts.escalated_waiting
    assert screen.text == tr.finish(expected(tr))
    assert outcome.state == member.state, "nothing else changes"
    # The same way on as after a new request: Back to the screen before the handoff.
    assert any(isinstance(b.action, BackButton) for b in screen.buttons)


@pytest.mark.parametrize("locale", LOCALES)
def test_status_says_an_open_request_is_urgent(snapshot: Snapshot, locale: str) -> None:
    tr = snapshot.translators[locale]
    urgent = status_screen(tr, "urgent")
    assert urgent.text == tr.finish(referral_texts.status_urgent(tr))
    assert urgent.text != status_screen(tr, "open").text
    assert [b.label for b in urgent.buttons] == [b.label for b in status_screen(tr, "open").buttons]


def test_the_countries_where_members_are_held_are_offered() -> None:
    # Named in ../shared/content/FACTS.md as places people were detained, held or
    # deported from (Morocco, Poland, Tajikistan, Indonesia), and by issue 9.
    for code in ("MA", "PL", "RS", "QA", "ID", "TJ"):
        assert code in COUNTRIES
    assert len(set(COUNTRIES)) == len(COUNTRIES)
    ug = choices("c", Translator("ug", None), "ug")
    assert ug["PL"] == "پولشا"
    assert choices("c", Translator("zh_Hant", None), "zh_Hant")["MA"] == "摩洛哥"
