"""Unit tests for the pure parts of the bot: settings, callbacks, i18n, bidi, splitting, logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.bidi import FSI, PDI, isolate_ltr
from bot.callbacks import (
    MAX_CALLBACK_BYTES,
    MAX_OPTION_INDEX,
    Action,
    BackButton,
    ChooseButton,
    LanguagePicker,
    MenuButton,
    PickLanguage,
    Pressed,
    ResumeButton,
    WipeAsk,
    WipeConfirm,
    decode,
    encode,
)
from bot.errors import SettingsError
from bot.i18n import Translator, substitute, suggest_locale, translators
from bot.logs import RedactingFilter
from bot.screens import split_text, telegram_length
from bot.settings import load_settings
from flows.catalog import parse_po
from flows.engine import MENU, screen_token
from flows.registry import LOCALES, build_registry, read_sources
from flows.values import TextValues

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


# Settings -------------------------------------------------------------------


def test_settings_defaults_without_anything(tmp_path: Path) -> None:
    settings = load_settings({"HOME": "/home/op"}, env_file=tmp_path / "absent.env")
    assert settings.bot_token is None
    assert settings.bot_api_url == "https://api.telegram.org/bot"
    assert settings.data_dir == Path("data")
    assert settings.key_file == Path("/home/op/.config/yardem/root.key")
    assert settings.webhook_url is None


def test_missing_token_says_what_to_set_and_points_to_try(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "absent.env")
    with pytest.raises(SettingsError) as error:
        settings.require_token()
    assert "BOT_TOKEN" in str(error.value)
    assert "python -m bot try" in str(error.value)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f'# comment\nBOT_TOKEN="{TOKEN}"\nexport DATA_DIR=/srv/a\nLOG_LEVEL=debug\n')
    settings = load_settings({"DATA_DIR": "/srv/b"}, env_file=env)
    assert settings.bot_token == TOKEN
    assert settings.data_dir == Path("/srv/b")
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"BOT_TOKEN": "nope"}, "BOT_TOKEN"),
        ({"BOT_API_URL": "ftp://x"}, "BOT_API_URL"),
        ({"WEBHOOK_URL": "https://example.org"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "http://example.org", "WEBHOOK_SECRET": "s" * 20}, "https"),
        ({"WEBHOOK_URL": "https://example.org", "WEBHOOK_SECRET": "short"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_give_one_clear_line(
    environ: dict[str, str], fragment: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ, env_file=tmp_path / "absent.env")
    message = str(error.value)
    assert fragment in message
    assert "\n" not in message


def test_plain_http_api_only_on_this_machine(tmp_path: Path) -> None:
    absent = tmp_path / "absent.env"
    assert load_settings({"BOT_API_URL": "http://127.0.0.1:8081/bot"}, env_file=absent)
    with pytest.raises(SettingsError, match="https"):
        load_settings({"BOT_API_URL": "http://bot-api.internal/bot"}, env_file=absent)


def test_malformed_env_file_names_the_line(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("GOOD=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env:2"):
        load_settings({}, env_file=env)


def test_settings_repr_hides_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "BOT_TOKEN": TOKEN,
            "ROOT_KEY": "c2VjcmV0",
            "WEBHOOK_URL": "https://example.org",
            "WEBHOOK_SECRET": "a-very-secret-value",
        },
        env_file=tmp_path / "absent.env",
    )
    text = repr(settings)
    assert TOKEN not in text
    assert "c2VjcmV0" not in text
    assert "a-very-secret-value" not in text
    assert settings.webhook_url == "https://example.org"


# Callback data ---------------------------------------------------------------


ACTIONS: list[Action] = [
    ChooseButton(screen_token(MENU), 7),
    BackButton(screen_token(MENU)),
    MenuButton(),
    ResumeButton(),
    LanguagePicker(),
    PickLanguage("zh_Hant"),
    WipeAsk(),
    WipeConfirm(),
]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_round_trips_within_64_bytes(action: Action) -> None:
    data = encode(action, "abc123")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert decode(data) == Pressed("abc123", action)


def test_widest_possible_choice_fits() -> None:
    data = encode(ChooseButton("ffffffff", MAX_OPTION_INDEX), "ffffff")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "garbage",
        "abc123",
        "abc123|",
        "ABC123|m",
        "x" * 65,
    ],
)
def test_data_without_a_layout_is_refused_whole(data: str | None) -> None:
    assert decode(data) == Pressed(None, None)


@pytest.mark.parametrize(
    "data",
    [
        "abc123|c|zzzzzzzz|1",
        "abc123|c|0123abcd|-1",
        "abc123|c|0123abcd|100",
        "abc123|c|0123abcd|1|extra",
        "abc123|c|0123abcd|١",
        "abc123|l|../../etc",
        "abc123|l|zh_hans",
        "abc123|l|en_US_POSIX",
        "abc123|m|x",
        "abc123|W|now",
        "abc123|?",
    ],
)
def test_forged_actions_decode_to_nothing(data: str) -> None:
    assert decode(data) == Pressed("abc123", None)


def test_a_language_button_decodes_by_shape_alone() -> None:
    # Whether members may pick it is the conversation's question (the live set and
    # the switches decide), so a language added since the code was written decodes.
    assert decode("abc123|l|tr") == Pressed("abc123", PickLanguage("tr"))
    assert decode("abc123|l|zh_Hans") == Pressed("abc123", PickLanguage("zh_Hans"))


@given(st.text(max_size=80))
def test_decode_never_raises(data: str) -> None:
    decode(data)


# i18n ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("en", "en"),
        ("de", "en"),
        ("zh", "zh_Hans"),
        ("zh-cn", "zh_Hans"),
        ("zh-hans", "zh_Hans"),
        ("zh-hant", "zh_Hant"),
        ("zh-hant-tw", "zh_Hant"),
        ("zh-TW", "zh_Hant"),
        ("zh-hk", "zh_Hant"),
        ("zh-mo", "zh_Hant"),
        ("ug", "ug"),
    ],
)
def test_language_code_only_suggests(code: str | None, locale: str) -> None:
    assert suggest_locale(code) == locale


def test_substitute_cannot_reach_attributes() -> None:
    assert substitute("{0.__class__} {name} {missing}", {"name": "x"}) == (
        "{0.__class__} x {missing}"
    )


PO = """
msgid ""
msgstr ""
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "one file"
msgid_plural "{n} files"
msgstr[0] "ONE"
msgstr[1] "MANY {n}"

#, fuzzy
msgid "Fuzzy"
msgstr "NOT SHOWN"

msgctxt "f.n"
msgid "Hello"
msgstr "Salam"
"""


def test_translator_plural_context_and_fuzzy_fallback() -> None:
    registry = build_registry(read_sources())
    catalog = parse_po(PO, locale="ug", origin="test.po")
    tr = dict(translators(registry, TextValues(retention_days=30)))["ug"]
    tr = Translator("ug", catalog, tr._plural)
    assert tr.ngettext("one file", "{n} files", 1) == "ONE"
    assert tr.ngettext("one file", "{n} files", 5) == "MANY {n}"
    assert tr.gettext("Fuzzy") == "Fuzzy"
    assert tr.pgettext("f.n", "Hello") == "Salam"
    assert tr.pgettext("other", "Hello") == "Hello"
    assert tr.right_to_left


def test_every_locale_has_a_translator() -> None:
    registry = build_registry(read_sources())
    assert set(translators(registry, TextValues(retention_days=30))) == set(LOCALES)


# Bidi ------------------------------------------------------------------------


def test_latin_runs_are_isolated_in_rtl_text() -> None:
    text = "ئىنتېرپول CCF دېگەن /wipe ۋە https://example.org/a بار"
    isolated = isolate_ltr(text)
    assert f"{FSI}CCF{PDI}" in isolated
    assert f"{FSI}/wipe{PDI}" in isolated
    assert f"{FSI}https://example.org/a{PDI}" in isolated
    assert isolated.replace(FSI, "").replace(PDI, "") == text
    assert isolate_ltr(isolated) == isolated


def test_brackets_around_a_latin_run_stay_outside_its_isolate() -> None:
    isolated = isolate_ltr("ئورگان (CCF) ۋە (UN Refugee Convention 1951) بار")
    assert f"({FSI}CCF{PDI})" in isolated
    assert f"({FSI}UN Refugee Convention 1951{PDI})" in isolated
    assert f"{FSI}f(x){PDI}" in isolate_ltr("ئا f(x) ب")


@given(st.text(max_size=200))
def test_isolation_only_adds_marks(text: str) -> None:
    if FSI in text or PDI in text:
        return
    isolated = isolate_ltr(text)
    assert isolated.replace(FSI, "").replace(PDI, "") == text
    assert isolated.count(FSI) == isolated.count(PDI)


# Splitting -------------------------------------------------------------------


def test_short_text_is_one_message() -> None:
    assert split_text("hello\n\nworld") == ["hello\n\nworld"]


def test_long_text_splits_at_paragraphs_under_the_limit() -> None:
    paragraphs = [f"paragraph {i} " + "x" * 900 for i in range(10)]
    chunks = split_text("\n\n".join(paragraphs))
    assert all(len(chunk) <= 4096 for chunk in chunks)
    assert len(chunks) > 1
    assert all(chunk.startswith("paragraph") for chunk in chunks)
    assert "\n\n".join(chunks) == "\n\n".join(paragraphs)


def test_a_single_huge_word_is_still_cut() -> None:
    chunks = split_text("y" * 9000)
    assert [len(chunk) for chunk in chunks] == [4096, 4096, 808]


def test_limit_counts_utf16_units_like_telegram() -> None:
    chunks = split_text("😀" * 3000)  # each emoji is two UTF-16 units
    assert [telegram_length(chunk) for chunk in chunks] == [4096, 1904]


@given(st.text(min_size=1, max_size=12000))
def test_split_respects_the_limit_and_keeps_the_words(text: str) -> None:
    chunks = split_text(text, limit=500)
    assert all(0 < telegram_length(chunk) <= 500 for chunk in chunks)
    # Nothing but whitespace at the cuts may go missing.
    assert "".join("".join(chunks).split()) == "".join(text.split())


# Logs ------------------------------------------------------------------------


def test_redaction_removes_token_and_ids() -> None:
    redactor = RedactingFilter([TOKEN])
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "url %s for chat %d", (f"/bot{TOKEN}/send", 987654321), None
    )
    redactor.filter(record)
    text = record.getMessage()
    assert TOKEN not in text
    assert "987654321" not in text
    assert "[redacted]" in text


def test_library_log_arguments_are_dropped() -> None:
    """PTB logs whole payloads it cannot parse; only the payload's type is shown."""
    redactor = RedactingFilter([TOKEN])
    payload = {"message": {"from": {"first_name": "Canaryname"}, "text": "my secret"}}
    record = logging.LogRecord(
        "telegram.ext._utils.webhookhandler",
        logging.CRITICAL,
        __file__,
        1,
        "Received data was: %r",
        (payload,),
        None,
    )
    redactor.filter(record)
    text = record.getMessage()
    assert "Canaryname" not in text
    assert "my secret" not in text
    assert text == "Received data was: <dict>"


def test_exception_text_is_reduced_to_its_type() -> None:
    redactor = RedactingFilter([])
    try:
        raise ValueError("contains what the member typed")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "bot.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    redactor.filter(record)
    handler = logging.StreamHandler()
    formatted = handler.format(record)
    assert "what the member typed" not in formatted
    assert "ValueError" in formatted
