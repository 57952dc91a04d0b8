"""The translation glossary: key terms and the one word each locale uses for them.

``locales/glossary.csv`` has the columns ``term,en,zh_Hans,zh_Hant,ug``. A cell
may list alternatives separated by ``|`` (the first is preferred), for forms
that legitimately differ, such as a Uyghur stem whose last vowel weakens
before a suffix. A translation whose English contains a term (a whole word,
any case, plural allowed) must contain one of its locale's alternatives, so a
frightened reader meets the same word for the same thing on every screen.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.errors import DefinitionError

GLOSSARY_FILE = "glossary.csv"
_COLUMNS = ("term", "en", "zh_Hans", "zh_Hant", "ug")


@dataclass(frozen=True)
class Term:
    id: str
    english: str
    translations: Mapping[str, tuple[str, ...]]

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(
            rf"(?<!\w){re.escape(self.english)}(?:s|es)?(?!\w)", re.IGNORECASE | re.UNICODE
        )

    def used_in(self, english: str) -> bool:
        return self.pattern.search(english) is not None

    def honoured_by(self, locale: str, translation: str) -> bool:
        wanted = self.translations.get(locale, ())
        folded = translation.casefold()
        return not wanted or any(word.casefold() in folded for word in wanted)


def parse_glossary(text: str, origin: str = GLOSSARY_FILE) -> tuple[Term, ...]:
    # Spreadsheet programs save CSV with a byte-order mark.
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows or tuple(cell.strip() for cell in rows[0]) != _COLUMNS:
        raise DefinitionError(f"{origin}: the header must be {','.join(_COLUMNS)}")
    terms: list[Term] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(_COLUMNS):
            raise DefinitionError(f"{origin}:{number}: expected {len(_COLUMNS)} cells")
        cells = [cell.strip() for cell in row]
        if not all(cells):
            raise DefinitionError(f"{origin}:{number}: every cell needs a value")
        term_id, english, *translated = cells
        if term_id in seen:
            raise DefinitionError(f"{origin}:{number}: term {term_id!r} appears twice")
        seen.add(term_id)
        alternatives = {
            locale: tuple(word.strip() for word in cell.split("|") if word.strip())
            for locale, cell in zip(_COLUMNS[2:], translated, strict=True)
        }
        if not all(alternatives.values()):
            # A cell of bare separators would silently accept any translation.
            raise DefinitionError(f"{origin}:{number}: every cell needs a word")
        terms.append(Term(term_id, english, MappingProxyType(alternatives)))
    return tuple(terms)


def misses(terms: tuple[Term, ...], locale: str, english: str, translation: str) -> Iterator[Term]:
    """The terms the English uses whose glossary word the translation lacks."""
    for term in terms:
        if term.used_in(english) and not term.honoured_by(locale, translation):
            yield term
