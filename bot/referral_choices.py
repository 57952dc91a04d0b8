"""The four questions a member answers when asking for a volunteer.

Answers are codes from these fixed lists, never free text, so a referral
holds nothing the member typed. Labels are translated; country names come
from CLDR (through Babel) in the member's own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel import Locale

from bot.i18n import LANGUAGE_NAMES, Translator
from bot.referral_terms import Field, Urgency
from flows.locales import UnknownLocale, parse_locale
from flows.registry import LOCALES, SOURCE_LOCALE


def _topics(tr: Translator) -> dict[str, str]:
    return {
        "detained": tr.gettext("Detained or stopped"),
        "red_notice": tr.gettext("Red Notice or Diffusion"),
        "challenge": tr.gettext("Challenging a notice"),
        "travel": tr.gettext("Travel"),
        "family": tr.gettext("Family pressure"),
        "asylum": tr.gettext("Asylum"),
        "digital": tr.gettext("Digital safety"),
        "other": tr.gettext("Something else"),
    }


def _urgencies(tr: Translator) -> dict[str, str]:
    return {
        Urgency.DETAINED: tr.gettext("Detained or stopped now"),
        Urgency.IMMEDIATE_RISK: tr.gettext("At immediate risk"),
        Urgency.FAMILY_PRESSURE: tr.gettext("Family under pressure"),
        Urgency.GENERAL: tr.gettext("A general question"),
    }


TOPICS = ("detained", "red_notice", "challenge", "travel", "family", "asylum", "digital", "other")
URGENCIES: tuple[str, ...] = tuple(Urgency)
COUNTRIES = (
    "TR", "KZ", "KG", "UZ", "TJ", "US", "CA", "GB", "DE", "NL", "SE", "NO",
    "FR", "BE", "CH", "PL", "RS", "AU", "JP", "KR", "TW", "TH", "MY", "ID",
    "AE", "SA", "QA", "EG", "MA", "PK",
)  # fmt: skip
"""Where members most often live or are held (the places ../shared/content/FACTS.md
names for detentions and deportations among them: Morocco, Poland, Tajikistan,
Indonesia), grouped by region; others choose "another country"."""
NO_COUNTRY = "none"
FIELDS = tuple(Field)
"""Topic, urgency, country, language: the order the questions come in."""
PRESET = "preset"
"""Draft key listing the fields a handoff answered already, so the count skips them."""


def _cldr(locale: str) -> Locale:
    """The member's language as CLDR knows it, for country names in their words."""
    try:
        return parse_locale(locale)
    except UnknownLocale:
        return Locale.parse(SOURCE_LOCALE)


def choices(field: str, tr: Translator, locale: str) -> dict[str, str]:
    """Code → label for one question, in the order shown."""
    if field == Field.TOPIC:
        return _topics(tr)
    if field == Field.URGENCY:
        return _urgencies(tr)
    if field == Field.COUNTRY:
        names = _cldr(locale).territories
        listed = {code: names.get(code, code) for code in COUNTRIES}
        listed[NO_COUNTRY] = tr.gettext("Another country, or rather not say")
        return listed
    if field == Field.LANGUAGE:
        return {code: LANGUAGE_NAMES[code] for code in LOCALES}
    raise ValueError(f"unknown referral field {field!r}")


def valid(field: str, value: str) -> bool:
    allowed: dict[str, tuple[str, ...]] = {
        Field.TOPIC: TOPICS,
        Field.URGENCY: URGENCIES,
        Field.COUNTRY: (*COUNTRIES, NO_COUNTRY),
        Field.LANGUAGE: LOCALES,
    }
    return value in allowed.get(field, ())


def label(field: str, value: str | None, tr: Translator, locale: str) -> str:
    if value is None:
        value = NO_COUNTRY
    return choices(field, tr, locale).get(value, value)


@dataclass(frozen=True)
class ReferralRequest:
    topic: str
    urgency: str
    country: str | None
    language: str

    @classmethod
    def from_answers(cls, answers: Mapping[str, str]) -> ReferralRequest | None:
        if not all(field in answers and valid(field, answers[field]) for field in FIELDS):
            return None
        country = answers[Field.COUNTRY]
        return cls(
            answers[Field.TOPIC],
            answers[Field.URGENCY],
            None if country == NO_COUNTRY else country,
            answers[Field.LANGUAGE],
        )


def next_field(answers: Mapping[str, str]) -> Field | None:
    return next((field for field in FIELDS if field not in answers), None)
