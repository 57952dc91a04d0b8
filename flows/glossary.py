"""The translation glossary: key terms and the one word each locale uses for them.

``locales/glossary.csv`` has the columns ``term,en``, then one per translated
locale (``zh_Hans,zh_Hant,ug``...; a language being added gains one). A cell
may list alternatives separated by ``|`` (the first is preferred), for forms
that legitimately differ, such as a Uyghur stem whose last vowel weakens
before a suffix. A translation whose English contains a term (a whole word,
any case, plural allowed) must contain one of its locale's alternatives, so a
frightened reader meets the same word for the same thing on every screen.

A locale's cell may be empty while its translators have not fixed the word yet
(a language a coordinator is adding). Such a gap, and a catalog without a
column, are errors in the repository's check, where every shipped catalog is on
for members, and warnings on the live desk, where a new language is published
before the repository (and its glossary) takes it in; see :func:`with_columns`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flows.errors import DefinitionError
from flows.locales import SOURCE_LOCALE, is_catalog_locale

GLOSSARY_FILE = "glossary.csv"
_FIXED = ("term", SOURCE_LOCALE)
"""The first two columns; one column per translated locale follows."""


@dataclass(frozen=True)
class Term:
    id: str
    english: str
    translations: Mapping[str, tuple[str, ...]]
    """Locale → its words; a locale whose cell is empty has none yet (see :attr:`gaps`)."""
    gaps: tuple[str, ...] = ()
    """Locales whose cell is empty: a language being added whose translators have not
    fixed a word yet. :func:`flows.inspect.inspect` reports them."""

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


def glossary_locales(text: str, origin: str = GLOSSARY_FILE) -> tuple[str, ...]:
    """The translated locales the glossary has a column for, in its order."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header = tuple(cell.strip() for cell in rows[0]) if rows else ()
    locales = header[len(_FIXED) :]
    if header[: len(_FIXED)] != _FIXED or not locales:
        raise DefinitionError(f"{origin}: the header must be {','.join(_FIXED)},<locale>,...")
    for locale in locales:
        if not is_catalog_locale(locale):
            raise DefinitionError(f"{origin}: column {locale!r} is not a locale CLDR knows")
    if len(set(locales)) != len(locales):
        raise DefinitionError(f"{origin}: a locale has two columns")
    return locales


def parse_glossary(text: str, origin: str = GLOSSARY_FILE) -> tuple[Term, ...]:
    # Spreadsheet programs save CSV with a byte-order mark.
    locales = glossary_locales(text, origin)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    width = len(_FIXED) + len(locales)
    terms: list[Term] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise DefinitionError(f"{origin}:{number}: expected {width} cells")
        cells = [cell.strip() for cell in row]
        term_id, english, *translated = cells
        if not term_id or not english:
            raise DefinitionError(f"{origin}:{number}: every term needs an id and its English")
        if term_id in seen:
            raise DefinitionError(f"{origin}:{number}: term {term_id!r} appears twice")
        seen.add(term_id)
        alternatives = {
            locale: tuple(word.strip() for word in cell.split("|") if word.strip())
            for locale, cell in zip(locales, translated, strict=True)
            if cell
        }
        if not all(alternatives.values()):
            # A cell of bare separators would silently accept any translation.
            raise DefinitionError(f"{origin}:{number}: every cell needs a word")
        gaps = tuple(locale for locale in locales if locale not in alternatives)
        terms.append(Term(term_id, english, MappingProxyType(alternatives), gaps))
    return tuple(terms)


def with_columns(text: str, locales: Iterable[str]) -> str:
    """``text`` with an empty column for each of ``locales`` it lacks, for translators to fill.

    Unchanged when it has them all, so exporting a set into the repository
    touches the glossary only when a language was added.
    """
    have = glossary_locales(text)
    added = [locale for locale in locales if locale not in have and locale != SOURCE_LOCALE]
    if not added:
        return text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], *added])
    for row in rows[1:]:
        writer.writerow([*row, *([""] * len(added))] if any(c.strip() for c in row) else row)
    return out.getvalue()


def misses(terms: tuple[Term, ...], locale: str, english: str, translation: str) -> Iterator[Term]:
    """The terms the English uses whose glossary word the translation lacks."""
    for term in terms:
        if term.used_in(english) and not term.honoured_by(locale, translation):
            yield term
