"""Settings that screens state are filled in when the screen is drawn."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import Translator, translators
from bot.screens import node_screen
from bot.settings import load_settings
from flows.engine import Position, Session
from flows.registry import LOCALES, build_registry, read_sources
from flows.values import VALUE_NAMES, TextValues


def test_every_translator_fills_the_settings() -> None:
    registry = build_registry(read_sources())
    made = translators(registry, TextValues(retention_days=7))
    assert set(made) == set(LOCALES)
    for translator in made.values():
        # Uyghur isolates the Latin run, so compare without the bidi marks.
        shown = translator.finish("after {retention_days} days")
        assert shown.strip("\u2068\u2069") == "after 7 days"


def test_a_member_s_answer_cannot_override_a_setting() -> None:
    tr = Translator("en", None, values=TextValues(retention_days=7).as_mapping())
    assert tr.finish("{retention_days} {country}", {"retention_days": "1", "country": "DE"}) == (
        "7 DE"
    )


def test_unknown_names_stay_as_written() -> None:
    tr = Translator("en", None, values=TextValues(retention_days=7).as_mapping())
    assert tr.finish("{retention_dayz}") == "{retention_dayz}"


def test_text_values_name_every_field() -> None:
    assert TextValues(retention_days=12).as_mapping() == {"retention_days": "12"}
    assert {"retention_days"} == VALUE_NAMES


def test_settings_give_the_screens_their_retention(tmp_path: Path) -> None:
    settings = load_settings({"RETENTION_DAYS": "45"}, env_file=tmp_path / "none.env")
    assert settings.text_values == TextValues(retention_days=45)


@pytest.mark.parametrize(("flow", "node"), [("about", "stored"), ("volunteer", "intro")])
def test_the_shipped_screens_state_the_configured_retention(flow: str, node: str) -> None:
    registry = build_registry(read_sources())
    tr = translators(registry, TextValues(retention_days=45))["en"]
    screen = node_screen(registry, tr, Session(Position(flow, node)))
    assert "45 days" in screen.text
    assert "{" not in screen.text
