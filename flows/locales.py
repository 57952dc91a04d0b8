"""What CLDR knows about a language, so adding one needs no code.

Coordinators may add a language by uploading a catalog whose header names it
(Turkish, Kazakh, Russian, Arabic, Tibetan...). Its name in the language
picker, its gettext plural rule and its text direction then come from CLDR
through Babel instead of from a hand-written table, and a code that CLDR does
not know is refused rather than guessed at.

Locale codes are the ones the catalogs' directories use: ``language``,
``language_Script``, ``language_TERRITORY`` or ``language_Script_TERRITORY``
(``zh_Hans``, ``ug``, ``pt_BR``); ``-`` is accepted as a separator on input.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.plurals import PLURALS, get_plural
from babel.plural import to_gettext

from flows.errors import FlowError

SOURCE_LOCALE = "en"
"""The language the flows are written in; every other locale is a catalog."""

_CODE = re.compile(r"^[a-z]{2,3}(?:_[A-Z][a-z]{3})?(?:_(?:[A-Z]{2}|[0-9]{3}))?$")
"""A canonical code: safe as a directory name and in callback data."""

_RAW_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,4}){0,2}$")

_NOT_LANGUAGES = frozenset({"und", "root", "mul", "zxx", "mis"})
"""CLDR codes that parse but name no language a member could read."""


class LocaleProblem(StrEnum):
    MALFORMED = "malformed"
    """Not shaped like a locale code at all."""
    UNKNOWN = "unknown"
    """Well formed, but CLDR has no data for it."""


class UnknownLocale(FlowError):
    """A locale code CLDR does not know; ``code`` says why, for the caller to word."""

    def __init__(self, value: str, problem: LocaleProblem) -> None:
        super().__init__(f"{value!r} is not a language CLDR knows ({problem})")
        self.value = value
        self.problem = problem


@dataclass(frozen=True)
class LocaleInfo:
    code: str
    """Canonical code, e.g. ``zh_Hans``."""
    native_name: str
    """The language's name in itself, capitalised for a picker: ``Türkçe``, ``ئۇيغۇرچە``."""
    english_name: str
    plural_forms: str
    """The gettext ``Plural-Forms`` header value, as ``pybabel init`` writes it."""
    nplurals: int
    plural_categories: tuple[str, ...]
    """CLDR's plural categories (``one``, ``few``...), ``other`` last."""
    right_to_left: bool


def parse_locale(value: str) -> Locale:
    """The Babel locale for a code, refusing what CLDR would only guess at.

    Babel maps some codes to a guess (``und`` and ``C`` become ``en_US``, an
    unknown region becomes the language's likely one); here the language the
    code names must be the language Babel returns, and it must have CLDR data.
    """
    text = value.strip()
    parts = re.split(r"[_-]", text)
    if parts[0].lower() in _NOT_LANGUAGES:
        raise UnknownLocale(value, LocaleProblem.UNKNOWN)
    if not _RAW_CODE.fullmatch(text):
        raise UnknownLocale(value, LocaleProblem.MALFORMED)
    try:
        locale = Locale.parse("_".join(parts), sep="_")
    except UnknownLocaleError as exc:
        raise UnknownLocale(value, LocaleProblem.UNKNOWN) from exc
    except (ValueError, TypeError) as exc:
        raise UnknownLocale(value, LocaleProblem.MALFORMED) from exc
    asked = {
        "language": parts[0].lower(),
        "script": next((part.title() for part in parts[1:] if len(part) == 4), None),
        "territory": next((part.upper() for part in parts[1:] if len(part) != 4), None),
    }
    if (
        locale.language != asked["language"]
        or (asked["script"] is not None and _likely_script(locale) != asked["script"])
        or (asked["territory"] is not None and locale.territory != asked["territory"])
        or locale.variant is not None
    ):
        raise UnknownLocale(value, LocaleProblem.UNKNOWN)
    if not _CODE.fullmatch(str(locale)):
        raise UnknownLocale(value, LocaleProblem.MALFORMED)
    return locale


def canonical_locale(value: str, known: Collection[str] = ()) -> str:
    """The code to file a catalog under.

    A code that names one of ``known`` in other words (``zh-Hans``, or ``zh_CN``
    and ``ug_CN`` whose script CLDR infers as Hans and Arab) maps to it, so a PO
    editor's regional header does not create a second Chinese or Uyghur.
    """
    locale = parse_locale(value)
    code = str(locale)
    if code in known:
        return code
    script = _likely_script(locale)
    for candidate in sorted(known):
        try:
            other = parse_locale(candidate)
        except UnknownLocale:
            continue
        if (
            other.language == locale.language
            and _likely_script(other) == script
            and (locale.territory is None or other.territory in (None, locale.territory))
        ):
            return candidate
    return code


def _likely_script(locale: Locale) -> str | None:
    if locale.script is not None:
        return locale.script
    # Babel drops a language's default script when parsing (``ug_Arab`` is ``ug``),
    # so read it from the likely-subtags table's raw value (``ug_Arab_CN``).
    likely: Mapping[str, str] = get_global("likely_subtags")
    for key in (str(locale), locale.language):
        if key in likely:
            return next((part for part in likely[key].split("_") if len(part) == 4), None)
    return None


def is_locale_code(value: str) -> bool:
    """Shaped like a canonical code (``zh_Hans``, ``tr``, ``pt_BR``): a cheap test for
    untrusted input such as callback data, which is then looked up, never parsed."""
    return _CODE.fullmatch(value) is not None


def is_catalog_locale(code: str) -> bool:
    """Whether ``code`` may name a catalog: CLDR knows it, written as it canonically is.

    The source language is not one: English lives in the flow files.
    """
    try:
        return code != SOURCE_LOCALE and str(parse_locale(code)) == code
    except UnknownLocale:
        return False


def ordered_locales(codes: Iterable[str]) -> tuple[str, ...]:
    """The source language first, then the others by their English names.

    A stable order that nobody has to maintain when a language is added
    (``zh_Hans``, ``zh_Hant``, ``tr``, ``ug``: Chinese, Turkish, Uyghur).
    """
    unique = set(codes)
    rest = sorted(unique - {SOURCE_LOCALE}, key=lambda code: (_english_name(code), code))
    return (SOURCE_LOCALE, *rest) if SOURCE_LOCALE in unique else tuple(rest)


def _english_name(code: str) -> str:
    try:
        return locale_info(code).english_name
    except UnknownLocale:
        return code


@lru_cache(maxsize=256)
def locale_info(value: str) -> LocaleInfo:
    """Name, plural rule and direction of a locale, all from CLDR (cached: CLDR is fixed)."""
    locale = parse_locale(value)
    code = str(locale)
    english = Locale.parse("en").languages.get(code) or locale.get_display_name("en") or code
    native = locale.languages.get(code) or locale.get_display_name(locale) or english
    if code in PLURALS or locale.language in PLURALS:
        plural = get_plural(locale)
        nplurals, plural_forms = plural.num_plurals, plural.plural_forms
    else:
        # Babel's gettext table lacks this language: derive the rule from CLDR itself.
        plural_forms = to_gettext(locale.plural_form).strip()
        nplurals = int(plural_forms.split(";")[0].split("=")[1])
    tags = locale.plural_form.tags
    categories = tuple(tag for tag in _CATEGORY_ORDER if tag in tags or tag == "other")
    return LocaleInfo(
        code=code,
        native_name=native[:1].upper() + native[1:],
        english_name=english,
        plural_forms=plural_forms,
        nplurals=nplurals,
        plural_categories=categories,
        right_to_left=locale.character_order == "right-to-left",
    )


_CATEGORY_ORDER = ("zero", "one", "two", "few", "many", "other")
