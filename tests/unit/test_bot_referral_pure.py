"""Pure referral parts: staff and answer buttons, the four questions, day settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import (
    MAX_CALLBACK_BYTES,
    Answer,
    AskClose,
    AskHandover,
    Assign,
    Claim,
    Close,
    DecideLanguage,
    LanguagesDone,
    ManageStaff,
    Pressed,
    Release,
    StaffAction,
    StaffChange,
    Talk,
    ToggleLanguage,
    decode,
    encode,
)
from bot.errors import SettingsError
from bot.i18n import Translator
from bot.referral_choices import (
    COUNTRIES,
    FIELDS,
    NO_COUNTRY,
    TOPICS,
    URGENCIES,
    ReferralRequest,
    choices,
    label,
    next_field,
    valid,
)
from bot.referral_terms import Outcome
from bot.settings import load_settings
from flows.catalog import parse_po
from flows.registry import LOCALES

LAYOUT = "abc123"
ARG = st.from_regex(r"[0-9A-Za-z_-]{1,16}", fullmatch=True)


# Staff buttons ---------------------------------------------------------------


REFERRAL_ID = st.text("abcdefghjkmnpqrstuvwxyz23456789", min_size=8, max_size=8)
STAFF_ACTION = st.one_of(
    st.builds(Claim, REFERRAL_ID),
    st.builds(Talk, REFERRAL_ID),
    st.builds(Release, REFERRAL_ID),
    st.builds(AskHandover, REFERRAL_ID),
    st.builds(AskClose, REFERRAL_ID),
    st.builds(Assign, REFERRAL_ID, ARG),
    st.builds(Close, REFERRAL_ID, st.sampled_from(Outcome)),
    st.builds(ToggleLanguage, st.sampled_from(LOCALES)),
    st.just(LanguagesDone()),
    st.builds(DecideLanguage, ARG, st.sampled_from(LOCALES), st.booleans()),
    st.builds(ManageStaff, ARG, st.sampled_from(StaffChange)),
)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        (Claim("abcdefgh"), "s|c|abcdefgh"),
        (Talk("abcdefgh"), "s|t|abcdefgh"),
        (Close("abcdefgh", Outcome.NO_RESPONSE), "s|o|abcdefgh|no_response"),
        (Assign("abcdefgh", "vera0001"), "s|a|abcdefgh|vera0001"),
        (DecideLanguage("vera0001", "zh_Hans", approve=False), "s|N|vera0001|zh_Hans"),
        (ManageStaff("A" * 16, StaffChange.REINSTATE), "s|A|" + "A" * 16),
        (LanguagesDone(), "s|d"),
    ],
)
def test_staff_action_round_trips(action: StaffAction, data: str) -> None:
    """The wire format stays what buttons already in chats carry."""
    assert encode(action, LAYOUT) == data
    assert LAYOUT not in data  # staff screens do not come from the flows
    assert decode(data) == Pressed(None, action)


@given(action=STAFF_ACTION)
def test_every_staff_action_round_trips(action: StaffAction) -> None:
    data = encode(action, LAYOUT)
    assert data.startswith("s|")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == Pressed(None, action)


@pytest.mark.parametrize(
    "data",
    [
        "s",
        "s|",
        "s||abcdefgh",
        "s|z|abcdefgh",  # unknown verb
        "s|cg|abcdefgh",  # a verb is one letter
        "s|C|abcdefgh",
        "s|c|abcdefgh|b|c",  # too many args
        "s|c|a|b|c|d",
        "s|c|",  # an empty arg
        "s|c|abcdefgh|",
        "s|c||abcdefgh",
        "s|c|abc defg",
        "s|c|abc.defg",
        "s|c|abc/def",
        "s|c|abcdéfgh",
        "s|c|abc٣",
        "s|c|" + "a" * 17,  # longer than any argument
        "s|c|\nabcdefgh",
        "s|c|abc\x00def",
        "s|c|abcdefgh " + "x" * 50,
        "s|c|abcdefgh\n",
        "s|l",  # a verb no button carries any more
        "s|c|abcdefgi",  # not a referral id: i is not in its alphabet
        "s|c|abcdefg",
        "s|o|abcdefgh|sorted",  # not an outcome
        "s|o|abcdefgh",
        "s|g|xx",  # not a locale
        "s|Y|vera0001|zh",
        "s|Y|vera0001",
        "s|S|vera0001|en",
        "s|d|en",
        "s|a|abcdefgh",
    ],
)
def test_forged_staff_data_decodes_to_nothing(data: str) -> None:
    assert decode(data) == Pressed(None, None)


@given(st.text(max_size=70))
def test_decoded_staff_actions_are_well_formed(text: str) -> None:
    pressed = decode("s|" + text)
    if pressed.action is None:
        return
    assert isinstance(pressed.action, StaffAction)
    assert pressed.layout is None
    assert encode(pressed.action, LAYOUT) == "s|" + text


def test_staff_action_over_64_bytes_is_refused_at_encoding() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Assign("x" * 40, "y" * 40), LAYOUT)


# Answer buttons --------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        Answer("t", "red_notice"),
        Answer("u", "immediate_risk"),
        Answer("c", "TR"),
        Answer("c", NO_COUNTRY),
        Answer("l", "zh_Hant"),
    ],
)
def test_answer_round_trips(answer: Answer) -> None:
    data = encode(answer, LAYOUT)
    assert data == f"{LAYOUT}|a|{answer.field}|{answer.value}"
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == Pressed(LAYOUT, answer)


def test_every_offered_answer_fits_and_round_trips() -> None:
    tr = Translator("en", None)
    for field in FIELDS:
        for code in choices(field, tr, "en"):
            answer = Answer(field, code)
            data = encode(answer, "ffffff")
            assert len(data.encode()) <= MAX_CALLBACK_BYTES
            assert decode(data) == Pressed("ffffff", answer)


@pytest.mark.parametrize(
    "data",
    [
        f"{LAYOUT}|a|z|TR",  # unknown field
        f"{LAYOUT}|a|T|TR",
        f"{LAYOUT}|a|tu|TR",
        f"{LAYOUT}|a||TR",
        f"{LAYOUT}|a|c",
        f"{LAYOUT}|a|c|",
        f"{LAYOUT}|a|c|TR|x",
        f"{LAYOUT}|a|c|T R",
        f"{LAYOUT}|a|c|T|R",
        f"{LAYOUT}|a|t|" + "x" * 17,
        f"{LAYOUT}|a",
        f"{LAYOUT}|a|c|TR\n",
    ],
)
def test_forged_answers_decode_to_nothing(data: str) -> None:
    assert decode(data) == Pressed(LAYOUT, None)


def test_answer_over_64_bytes_is_refused_at_encoding() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        encode(Answer("t", "x" * 60), LAYOUT)


# The four questions ----------------------------------------------------------

COMPLETE = {"t": "red_notice", "u": "detained", "c": "TR", "l": "ug"}


def test_from_answers_builds_a_request() -> None:
    assert ReferralRequest.from_answers(COMPLETE) == ReferralRequest(
        "red_notice", "detained", "TR", "ug"
    )


def test_no_country_becomes_none() -> None:
    request = ReferralRequest.from_answers({**COMPLETE, "c": NO_COUNTRY})
    assert request == ReferralRequest("red_notice", "detained", None, "ug")


def test_extra_answers_are_ignored() -> None:
    assert ReferralRequest.from_answers({**COMPLETE, "x": "anything"}) is not None


@pytest.mark.parametrize("missing", FIELDS)
def test_from_answers_needs_every_field(missing: str) -> None:
    answers = {field: value for field, value in COMPLETE.items() if field != missing}
    assert ReferralRequest.from_answers(answers) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t", "travelling"),
        ("t", "RED_NOTICE"),
        ("t", ""),
        ("u", "urgent"),
        ("c", "tr"),
        ("c", "CN"),
        ("c", "None"),
        ("l", "fr"),
        ("l", "zh"),
    ],
)
def test_from_answers_refuses_an_invalid_value(field: str, value: str) -> None:
    assert not valid(field, value)
    assert ReferralRequest.from_answers({**COMPLETE, field: value}) is None


def test_valid_accepts_every_listed_code() -> None:
    for field, codes in (
        ("t", TOPICS),
        ("u", URGENCIES),
        ("c", (*COUNTRIES, NO_COUNTRY)),
        ("l", LOCALES),
    ):
        assert all(valid(field, code) for code in codes)
    assert not valid("x", "TR")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, "t"),
        ({"t": "asylum"}, "u"),
        ({"t": "asylum", "u": "general"}, "c"),
        ({"t": "asylum", "u": "general", "c": "TR"}, "l"),
        (COMPLETE, None),
        ({"u": "general", "c": "TR", "l": "ug"}, "t"),
        ({"t": "asylum", "c": "TR"}, "u"),
    ],
)
def test_next_field_asks_in_order(answers: dict[str, str], expected: str | None) -> None:
    assert next_field(answers) == expected


ANOTHER = "Another country, or rather not say"
PO = f"""
msgid ""
msgstr ""
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "{ANOTHER}"
msgstr "其他国家，或不便透露"
"""


@pytest.mark.parametrize(
    ("locale", "turkey", "germany"),
    [
        ("zh_Hans", "土耳其", "德国"),
        ("zh_Hant", "土耳其", "德國"),
        ("ug", "تۈركىيە", "گېرمانىيە"),
    ],
)
def test_country_names_come_from_cldr_in_the_members_language(
    locale: str, turkey: str, germany: str
) -> None:
    listed = choices("c", Translator(locale, None), locale)
    assert listed["TR"] == turkey
    assert listed["DE"] == germany


def test_country_list_for_every_locale() -> None:
    names: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        listed = choices("c", Translator(locale, None), locale)
        assert list(listed) == [*COUNTRIES, NO_COUNTRY]
        assert list(listed)[-1] == NO_COUNTRY
        # Every listed country has a real name, not its bare code.
        assert all(listed[code] and listed[code] != code for code in COUNTRIES)
        names[locale] = listed
    assert names["en"]["TR"] in {"Türkiye", "Turkey"}
    assert names["en"]["DE"] == "Germany"
    # Each locale has its own names: no silent fallback to another language.
    for code in ("DE", "TW", "KR"):
        assert len({names[locale][code] for locale in ("en", "zh_Hans", "zh_Hant", "ug")}) == 4


def test_another_country_is_last_and_translated() -> None:
    tr = Translator("zh_Hans", parse_po(PO, locale="zh_Hans", origin="test.po"))
    listed = choices("c", tr, "zh_Hans")
    assert list(listed.items())[-1] == (NO_COUNTRY, "其他国家，或不便透露")
    assert choices("c", Translator("en", None), "en")[NO_COUNTRY] == ANOTHER
    assert label("c", None, tr, "zh_Hans") == "其他国家，或不便透露"
    assert label("c", "TR", tr, "zh_Hans") == "土耳其"


def test_other_questions_list_their_codes() -> None:
    tr = Translator("en", None)
    assert tuple(choices("t", tr, "en")) == TOPICS
    assert tuple(choices("u", tr, "en")) == URGENCIES
    assert tuple(choices("l", tr, "ug")) == LOCALES
    assert choices("l", tr, "en")["ug"] == "ئۇيغۇرچە"
    with pytest.raises(ValueError, match="unknown referral field"):
        choices("x", tr, "en")


# Day settings ----------------------------------------------------------------


def test_day_settings_default_to_30_and_14(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "absent.env")
    assert settings.retention_days == 30
    assert settings.referral_expiry_days == 14


@pytest.mark.parametrize("name", ["RETENTION_DAYS", "REFERRAL_EXPIRY_DAYS"])
@pytest.mark.parametrize(("text", "days"), [("7", 7), (" 7 ", 7), ("1", 1), ("3650", 3650)])
def test_day_settings_accept_whole_days(name: str, text: str, days: int, tmp_path: Path) -> None:
    settings = load_settings({name: text}, env_file=tmp_path / "absent.env")
    chosen = settings.retention_days if name == "RETENTION_DAYS" else settings.referral_expiry_days
    other = settings.referral_expiry_days if name == "RETENTION_DAYS" else settings.retention_days
    assert chosen == days
    assert other == (14 if name == "RETENTION_DAYS" else 30)


def test_day_settings_from_the_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RETENTION_DAYS=60\nREFERRAL_EXPIRY_DAYS=5\n")
    settings = load_settings({}, env_file=env)
    assert (settings.retention_days, settings.referral_expiry_days) == (60, 5)


@pytest.mark.parametrize("name", ["RETENTION_DAYS", "REFERRAL_EXPIRY_DAYS"])
@pytest.mark.parametrize("text", ["0", "-1", "abc", "99999", "3651", "7.5", "1e3", "٧", "+7"])
def test_day_settings_refuse_other_values(name: str, text: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({name: text}, env_file=tmp_path / "absent.env")
    message = str(error.value)
    assert name in message
    assert repr(text) in message
    assert "\n" not in message
