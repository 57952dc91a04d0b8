"""Reloading flows: a bad set changes nothing, a good one swaps in whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import texts
from bot.content import Content, load_snapshot
from flows.errors import RegistryError
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES, LOCALES_DIR
from flows.values import TextValues

VALUES = TextValues(retention_days=30)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    flows_dir = tmp_path / "flows"
    locales_dir = tmp_path / "locales"
    shutil.copytree(DEFINITIONS_DIR, flows_dir)
    shutil.copytree(LOCALES_DIR, locales_dir, ignore=shutil.ignore_patterns("*.mo"))
    return flows_dir, locales_dir


def test_a_broken_edit_is_refused_and_the_old_set_keeps_serving(dirs: tuple[Path, Path]) -> None:
    flows_dir, locales_dir = dirs
    content = Content(flows_dir, locales_dir, VALUES)
    before = content.current
    main = flows_dir / "main.yaml"
    main.write_text(main.read_text().replace("goto: about:intro", "goto: about:nowhere"))
    with pytest.raises(RegistryError) as error:
        content.reload()
    assert "main/menu" in str(error.value)
    assert "about:nowhere" in str(error.value)
    assert content.current is before


def test_english_changed_without_translation_is_refused(dirs: tuple[Path, Path]) -> None:
    flows_dir, locales_dir = dirs
    content = Content(flows_dir, locales_dir, VALUES)
    about = flows_dir / "about.yaml"
    about.write_text(about.read_text().replace("Is this chat safe?", "Is this chat private?"))
    with pytest.raises(RegistryError, match="untranslated"):
        content.reload()


def test_a_valid_edit_swaps_in_with_a_new_version(dirs: tuple[Path, Path]) -> None:
    flows_dir, locales_dir = dirs
    content = Content(flows_dir, locales_dir, VALUES)
    before = content.current.registry.version
    main = flows_dir / "main.yaml"
    # Reordering the menu changes no text, so every translation still applies.
    text = main.read_text()
    red, about = text.index("      - id: red_notices"), text.index("      - id: about")
    main.write_text(text[:red] + text[about:] + text[red:about])
    after = content.reload()
    assert after.registry.version != before
    menu = after.registry.node("main", "menu")
    assert menu is not None
    ids = [option.id for option in menu.options]  # type: ignore[union-attr]
    assert ids.index("about") < ids.index("red_notices")
    assert content.current is after


@pytest.mark.parametrize("locale", LOCALES)
def test_wipe_pop_ups_fit_telegrams_200_characters(locale: str) -> None:
    tr = load_snapshot(DEFINITIONS_DIR, LOCALES_DIR, VALUES).translators[locale]
    for text in (texts.wipe_done(tr), texts.wipe_partly_done(tr), texts.wipe_done_staff(tr)):
        assert len(tr.finish(text)) <= 200
