"""`content import` takes a new language as the desk does; `content export` grows the glossary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content_cli import UnusableDirectory, read_files, write_files
from flows.glossary import parse_glossary
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES_DIR, catalog_locales
from storage.content_records import ContentFiles

ZH_HANS = LOCALES_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def checkout(tmp_path: Path) -> Path:
    directory = tmp_path / "set"
    shutil.copytree(DEFINITIONS_DIR, directory / "flows" / "definitions")
    shutil.copytree(LOCALES_DIR, directory / "locales", ignore=shutil.ignore_patterns("*.mo"))
    return directory


def add_catalog(directory: Path, name: str, language: str) -> Path:
    text = ZH_HANS.read_text(encoding="utf-8").replace("Language: zh_Hans", f"Language: {language}")
    path = directory / "locales" / name / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_catalog_cldr_knows_comes_in_as_a_new_language(tmp_path: Path) -> None:
    directory = checkout(tmp_path)
    add_catalog(directory, "tr", "tr")
    sources = read_files(directory)
    assert set(sources.po_files) == {"zh_Hans", "zh_Hant", "ug", "tr"}
    assert catalog_locales(directory / "locales") == ("zh_Hans", "zh_Hant", "tr", "ug")


@pytest.mark.parametrize(
    ("name", "language", "says"),
    [
        ("tlh", "tlh", "'tlh' is not a language CLDR knows"),  # unknown to CLDR
        ("tr", "../tr", "'../tr' is not a language CLDR knows"),  # malformed
        ("tr", "kk", "its 'Language:' header names 'kk', its directory 'tr'"),
    ],
)
def test_an_unknown_or_malformed_language_is_refused_with_one_line(
    tmp_path: Path, name: str, language: str, says: str
) -> None:
    directory = checkout(tmp_path)
    add_catalog(directory, name, language)
    with pytest.raises(UnusableDirectory) as refused:
        read_files(directory)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_export_gives_the_glossary_a_column_for_an_added_language(tmp_path: Path) -> None:
    glossary = (LOCALES_DIR / "glossary.csv").read_text(encoding="utf-8")
    po = ZH_HANS.read_text(encoding="utf-8")
    files = ContentFiles({}, {"zh_Hans": po, "tr": po})
    write_files(tmp_path, files, glossary=glossary)
    written = (tmp_path / "locales" / "glossary.csv").read_text(encoding="utf-8")
    assert written.splitlines()[0] == "term,en,zh_Hans,zh_Hant,ug,tr"
    assert all(term.gaps == ("tr",) for term in parse_glossary(written))
    # Nothing added: the glossary is written as it is.
    write_files(tmp_path, ContentFiles({}, {"zh_Hans": po}), glossary=glossary)
    assert (tmp_path / "locales" / "glossary.csv").read_text(encoding="utf-8") == glossary
