"""Locale metadata comes from CLDR: names, plural rules and direction of any language."""

from __future__ import annotations

import pytest

from flows.locales import (
    LocaleProblem,
    UnknownLocale,
    canonical_locale,
    locale_info,
    parse_locale,
)
from flows.registry import LOCALES


def test_uyghur_is_right_to_left_with_its_own_name() -> None:
    info = locale_info("ug")
    assert info.right_to_left
    assert info.native_name == "ئۇيغۇرچە"
    assert info.english_name == "Uyghur"
    assert info.plural_forms == "nplurals=2; plural=(n != 1);"


@pytest.mark.parametrize(
    ("code", "native", "nplurals", "rtl"),
    [
        ("tr", "Türkçe", 2, False),
        ("kk", "Қазақ тілі", 2, False),
        ("ru", "Русский", 3, False),
        ("ar", "العربية", 6, True),
        ("bo", "བོད་སྐད་", 1, False),
        ("fa", "فارسی", 2, True),
    ],
)
def test_languages_a_coordinator_might_add(
    code: str, native: str, nplurals: int, rtl: bool
) -> None:
    info = locale_info(code)
    assert info.code == code
    assert info.native_name == native
    assert info.nplurals == nplurals
    assert info.plural_forms.startswith(f"nplurals={nplurals}; plural=")
    assert info.plural_forms.endswith(";")
    assert info.right_to_left is rtl


def test_plural_categories_follow_cldr_with_other_last() -> None:
    assert locale_info("ru").plural_categories == ("one", "few", "many", "other")
    assert locale_info("ar").plural_categories == ("zero", "one", "two", "few", "many", "other")
    assert locale_info("bo").plural_categories == ("other",)


def test_names_of_the_shipped_locales_match_the_picker() -> None:
    # The hand-written names in bot/i18n.py, which CLDR is to replace.
    expected = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ug": "ئۇيغۇرچە"}
    assert {code: locale_info(code).native_name for code in LOCALES} == expected
    assert [locale_info(code).right_to_left for code in LOCALES] == [False, False, False, True]
    assert locale_info("zh_Hans").plural_forms == "nplurals=1; plural=0;"


def test_gettext_plural_rule_matches_what_pybabel_writes() -> None:
    from babel.messages.catalog import Catalog

    for code in ("ru", "ar", "kk", "ug", "zh_Hant"):
        assert locale_info(code).plural_forms == Catalog(locale=code).plural_forms


def test_dash_and_case_are_accepted_and_canonicalised() -> None:
    assert locale_info("zh-Hans").code == "zh_Hans"
    assert locale_info("zh_hans").code == "zh_Hans"
    assert locale_info("pt-br").code == "pt_BR"
    assert locale_info("ug_Arab").code == "ug"  # Arabic is Uyghur's default script


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("tlh", LocaleProblem.UNKNOWN),  # Klingon: not in CLDR
        ("xx", LocaleProblem.UNKNOWN),
        ("und", LocaleProblem.UNKNOWN),  # Babel would guess en_US
        ("root", LocaleProblem.UNKNOWN),
        ("en_ZZ", LocaleProblem.UNKNOWN),  # Babel would guess en_US
        ("de_XX", LocaleProblem.UNKNOWN),
        ("ug_Latn", LocaleProblem.UNKNOWN),
        ("C", LocaleProblem.MALFORMED),
        ("", LocaleProblem.MALFORMED),
        ("../../etc", LocaleProblem.MALFORMED),
        ("en_US_POSIX", LocaleProblem.MALFORMED),
        ("ug;rm", LocaleProblem.MALFORMED),
    ],
)
def test_codes_cldr_does_not_know_are_refused(code: str, problem: LocaleProblem) -> None:
    with pytest.raises(UnknownLocale) as caught:
        locale_info(code)
    assert caught.value.problem is problem
    assert caught.value.value == code


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh_Hans", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh_CN", "zh_Hans"),
        ("zh_SG", "zh_Hans"),
        ("zh_TW", "zh_Hant"),
        ("zh_HK", "zh_Hant"),
        ("ug_CN", "ug"),
        ("ug_Arab", "ug"),
        ("tr", "tr"),
        ("tr_TR", "tr_TR"),
        ("kk_Cyrl", "kk_Cyrl"),
    ],
)
def test_regional_headers_map_to_the_known_locale_of_that_script(
    header: str, expected: str
) -> None:
    assert canonical_locale(header, LOCALES) == expected


def test_without_known_locales_the_code_is_cldrs_own() -> None:
    assert canonical_locale("zh_CN") == "zh_Hans_CN"
    assert canonical_locale("ug_CN") == "ug_CN"
    assert canonical_locale(" tr\n") == "tr"  # a header value's surrounding space
    assert parse_locale("kk").language == "kk"
