"""Translation for one member at a time, from the registry's catalogs.

A :class:`Translator` is picked per update from the member's locale; there
is no process-wide "current language". Fuzzy or empty translations fall back
to English, exactly as compiled gettext catalogs would: never the outdated
translation.

A text whose translation is pending (missing, empty or fuzzy: coordinators
may publish an English fix before the translators catch up) is shown in
English; a flow screen holding one says so with :data:`PENDING_MARKER` in the
member's own language (see :func:`bot.screens.node_screen`). Program strings
(buttons such as Back, pop-ups, command descriptions) get no marker: they ship
translated with the program, a marker would not fit a button or a 200-character
pop-up, and a published catalog that leaves one out falls back to the shipped
translation of the same English (``fallback``) before it falls back to English.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.bidi import isolate_ltr
from flows.catalog import Catalog, Entry
from flows.locales import UnknownLocale, canonical_locale, locale_info
from flows.model import PLACEHOLDER
from flows.registry import LOCALES, SOURCE_LOCALE, Registry
from flows.values import TextValues


def language_name(locale: str) -> str:
    """A language in its own words, from CLDR (``Türkçe``, ``简体中文``): never translated.

    A right-to-left name has any Latin run in it isolated, as its texts do.
    """
    try:
        name = locale_info(locale).native_name
    except UnknownLocale:
        return locale
    return isolate_ltr(name) if right_to_left(locale) else name


def right_to_left(locale: str) -> bool:
    """Whether CLDR writes ``locale`` right to left (Uyghur, Arabic, Persian...)."""
    try:
        return locale_info(locale).right_to_left
    except UnknownLocale:
        return False


LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {code: language_name(code) for code in LOCALES}
)
"""The shipped languages' names; :func:`language_name` names any language."""


def N_(message: str) -> str:  # gettext's name for "extract now, translate later"
    """Mark ``message`` for ``pybabel extract``; it is translated where it is used."""
    return message


PENDING_MARKER = N_("⏳ Translation pending: shown in English for now.")
"""Added under a flow screen some of whose texts members of a locale see in English."""


def suggest_locale(language_code: str | None, available: Collection[str] = LOCALES) -> str:
    """Telegram's optional client language → the one of ``available`` to preselect.

    CLDR matches it by language and script (``zh-hk`` is Traditional Chinese);
    anything else, or a language not available, suggests English.
    """
    if not language_code:
        return SOURCE_LOCALE
    try:
        locale = canonical_locale(language_code, available)
    except UnknownLocale:
        return SOURCE_LOCALE
    return locale if locale in available else SOURCE_LOCALE


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders; unknown names stay as written.

    Deliberately not ``str.format``: a translation must not be able to reach
    attributes of the values (``{0.__class__}``).
    """
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class Translator:
    locale: str
    catalog: Catalog | None
    _plural: Callable[[int], int] = field(repr=False, default=lambda n: int(n != 1))
    fallback: Catalog | None = field(repr=False, default=None)
    """The shipped catalog of this locale under a published one: consulted only for a
    message the published catalog lacks altogether (one the program gained since, say).
    Keys hold the English, so what it finds is never an outdated translation; an entry
    a coordinator emptied or marked fuzzy stays pending."""
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Settings the texts may name, such as ``{retention_days}``: filled into every
    text this translator finishes, so a screen never states a stale number."""

    @property
    def right_to_left(self) -> bool:
        return right_to_left(self.locale)

    def _entry(self, context: str | None, msgid: str) -> Entry | None:
        for catalog in (self.catalog, self.fallback):
            entry = None if catalog is None else catalog.lookup(context, msgid)
            if entry is not None:
                return entry
        return None

    def _lookup(self, context: str | None, msgid: str) -> tuple[str, ...] | None:
        entry = self._entry(context, msgid)
        return entry.msgstr if entry is not None and entry.usable else None

    def pending(self, context: str | None, message: str) -> bool:
        """Members of this locale see ``message`` in English: its translation is pending."""
        return self.locale != SOURCE_LOCALE and self._lookup(context, message) is None

    def pending_marker(self) -> str:
        """:data:`PENDING_MARKER` in this locale's words, whatever is pending around it.

        From the published catalog, else the shipped one (the marker is a program
        string the program ships translated), even where the published catalog
        lost or flagged it: a marker in English would tell the member nothing.
        """
        for catalog in (self.catalog, self.fallback):
            entry = None if catalog is None else catalog.lookup(None, PENDING_MARKER)
            if entry is not None and entry.usable:
                return entry.msgstr[0]
        return PENDING_MARKER

    def with_pending_marker(self, text: str) -> str:
        return f"{text}\n\n{self.pending_marker()}"

    def pgettext(self, context: str, message: str) -> str:
        found = self._lookup(context, message)
        return found[0] if found else message

    def gettext(self, message: str) -> str:
        found = self._lookup(None, message)
        return found[0] if found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._lookup(None, singular)
        if found:
            index = self._plural(n)
            if 0 <= index < len(found):
                return found[index]
        return singular if n == 1 else plural

    def finish(self, text: str, values: Mapping[str, str] | None = None) -> str:
        """Fill placeholders and make the text render in the member's direction.

        The settings win over ``values`` (a member's answers), so an answer can
        never change what a screen says about the bot's own rules.
        """
        text = substitute(text, {**(values or {}), **self.values})
        return isolate_ltr(text) if self.right_to_left else text


def _plural_function(locale: str, catalog: Catalog) -> Callable[[int], int]:
    """CLDR's plural rule for ``locale``; the catalog's header only for a code CLDR lacks."""
    try:
        forms = locale_info(locale).plural_forms
    except UnknownLocale:
        forms = catalog.plural_forms
    expression = forms.split("plural=", 1)[1].rstrip(";").strip() if "plural=" in forms else "0"
    try:
        # c2py compiles the C-like plural expression safely (it parses it).
        return gettext.c2py(expression)
    except (ValueError, RecursionError):
        return lambda n: 0


def translators(
    registry: Registry, values: TextValues, *, fallback: Mapping[str, Catalog] | None = None
) -> Mapping[str, Translator]:
    """One translator per locale, each filling ``values`` (the settings texts may name).

    ``fallback``: the shipped catalogs, for a published set.
    """
    filled = values.as_mapping()
    shipped = fallback or {}
    result = {SOURCE_LOCALE: Translator(SOURCE_LOCALE, None, values=filled)}
    for locale, catalog in registry.catalogs.items():
        result[locale] = Translator(
            locale, catalog, _plural_function(locale, catalog), shipped.get(locale), filled
        )
    # A shipped language a published set lacks still gets a translator (the shipped
    # catalog behind it), so a member reading it is never without one.
    for locale in (*registry.locales, *shipped):
        result.setdefault(
            locale, Translator(locale, None, fallback=shipped.get(locale), values=filled)
        )
    return MappingProxyType(result)
