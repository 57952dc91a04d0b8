"""The translation glossary: parsing, whole-word term matching, and the inspect warnings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from flows.errors import DefinitionError
from flows.facts import parse_facts
from flows.glossary import Term, misses, parse_glossary, with_columns
from flows.inspect import Issue, IssueCode, Severity, inspect
from flows.registry import LOCALES_DIR, RegistrySources, build_registry
from tests.unit.flow_samples import FACTS_TEXT, Editor, PoEntry, make_sources

HEADER = "term,en,zh_Hans,zh_Hant,ug\n"
RED_NOTICE = "red_notice,Red Notice,红色通缉令,紅色通緝令,قىزىل ئۇقتۇرۇش\n"
NOTICE = "notice,notice,通告,通告,ئۇقتۇرۇش\n"
WARRANT = "arrest_warrant,arrest warrant,逮捕令|逮捕证,逮捕令|拘捕令,قولغا ئېلىش بۇيرۇقى\n"


def terms_of(*rows: str) -> tuple[Term, ...]:
    return parse_glossary(HEADER + "".join(rows))


def one(row: str) -> Term:
    [term] = terms_of(row)
    return term


# Parsing ---------------------------------------------------------------------


def test_parse_reads_terms_and_alternatives() -> None:
    red, warrant = terms_of(RED_NOTICE, "\n", WARRANT)
    assert red.id == "red_notice"
    assert red.english == "Red Notice"
    assert dict(red.translations) == {
        "zh_Hans": ("红色通缉令",),
        "zh_Hant": ("紅色通緝令",),
        "ug": ("قىزىل ئۇقتۇرۇش",),
    }
    assert warrant.translations["zh_Hans"] == ("逮捕令", "逮捕证")
    assert warrant.translations["zh_Hant"] == ("逮捕令", "拘捕令")


def test_cells_and_alternatives_are_trimmed() -> None:
    term = one(" asylum , asylum , 庇护 | 避难 ,庇護,پاناھلىق|\n")
    assert term.id == "asylum"
    assert term.english == "asylum"
    assert term.translations["zh_Hans"] == ("庇护", "避难")
    assert term.translations["ug"] == ("پاناھلىق",)


def test_header_only_and_quoted_cells() -> None:
    assert parse_glossary(HEADER) == ()
    [term] = parse_glossary(HEADER + 'lawyer,lawyer,"律师|律師",律師,"ئادۋوكات, ئادۋوكىت"\n')
    assert term.translations["zh_Hans"] == ("律师", "律師")
    assert term.translations["ug"] == ("ئادۋوكات, ئادۋوكىت",)


def test_shipped_glossary_parses() -> None:
    terms = parse_glossary((LOCALES_DIR / "glossary.csv").read_text(encoding="utf-8"))
    assert len(terms) > 5
    assert len({term.id for term in terms}) == len(terms)
    assert all(all(term.translations[locale] for locale in term.translations) for term in terms)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("", "header", id="empty"),
        pytest.param("term,en\n", "header", id="no-locale-column"),
        pytest.param("term,en,zh_Hans,tlh\n", "'tlh' is not a locale", id="unknown-column"),
        pytest.param("term,en,zh_Hans,zh_hans\n", "'zh_hans' is not a locale", id="odd-case"),
        pytest.param("term,en,ug,ug\n", "two columns", id="twice"),
        pytest.param("term,en,en\n", "'en' is not a locale", id="source-column"),
        pytest.param("term,zh_Hans,en\n", "header", id="reordered-header"),
        pytest.param("id,en,zh_Hans,zh_Hant,ug\n", "header", id="renamed-header"),
        pytest.param(NOTICE, "header", id="no-header"),
        pytest.param(HEADER + "notice,notice,通告,通告\n", ":2: expected 5 cells", id="too-few"),
        pytest.param(HEADER + NOTICE.strip() + ",x\n", ":2: expected 5 cells", id="too-many"),
        pytest.param(HEADER + ",notice,通告,通告,ئۇقتۇرۇش\n", ":2: every term", id="empty-id"),
        pytest.param(HEADER + "notice,,通告,通告,ئۇقتۇرۇش\n", ":2: every term", id="empty-en"),
        pytest.param(HEADER + NOTICE + "\n" + NOTICE, ":4: term 'notice' appears twice", id="dup"),
        pytest.param(
            HEADER + NOTICE + " notice ,bulletin,公报,公報,بۇلتېن\n",
            ":3: term 'notice'",
            id="dup-ws",
        ),
    ],
)
def test_parse_errors_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(DefinitionError) as error:
        parse_glossary(text, origin="locales/glossary.csv")
    assert fragment in str(error.value)
    assert str(error.value).startswith("locales/glossary.csv")


def test_cell_of_only_separators_is_an_error() -> None:
    with pytest.raises(DefinitionError):
        parse_glossary(HEADER + "notice,notice,通告, | ,ئۇقتۇرۇش\n")


# Matching the English -------------------------------------------------------


@pytest.mark.parametrize(
    "english",
    [
        "PRC asks Interpol for a Red Notice.",
        "Red Notices are requests, not warrants.",
        "red notice",
        "RED NOTICE!",
        "(Red Notice)",
        "a Red Notice's subject",
        "Red Notice\u2014what now?",
        "Red Notice",
    ],
)
def test_used_in_matches_whole_words_any_case_and_plural(english: str) -> None:
    assert one(RED_NOTICE).used_in(english)


@pytest.mark.parametrize(
    "english",
    [
        "Red Noticeboard",
        "Infrared Notice",
        "Red Notices2",
        "Red_Notice",
        "Notice, red",
        "",
    ],
)
def test_used_in_ignores_other_words(english: str) -> None:
    assert not one(RED_NOTICE).used_in(english)


@pytest.mark.parametrize(
    ("english", "used"),
    [
        ("A notice", True),
        ("Two notices", True),
        ("NOTICE", True),
        ("Read the noticeboard", False),
        ("unnoticed", False),
        ("notice-board", True),
        ("notices'", True),
        ("noticess", False),
    ],
)
def test_single_word_term(english: str, used: bool) -> None:
    assert one(NOTICE).used_in(english) is used


def test_es_plural_and_regex_characters_in_terms() -> None:
    term = one("ccf,C.C.F.,CCF,CCF,CCF\n")
    assert term.used_in("Ask the C.C.F. first")
    assert not term.used_in("Ask the CXCXFX first")
    box = one("box,box,箱,箱,ساندۇق\n")
    assert box.used_in("three boxes")
    assert not box.used_in("boxers")


def test_honoured_by_any_alternative_case_insensitive() -> None:
    warrant = one(WARRANT)
    assert warrant.honoured_by("zh_Hans", "他们发出了逮捕证。")
    assert warrant.honoured_by("zh_Hans", "逮捕令")
    assert not warrant.honoured_by("zh_Hans", "拘捕令")
    assert warrant.honoured_by("zh_Hant", "拘捕令")
    unhcr = one("unhcr,UNHCR,unhcr,UNHCR,UNHCR\n")
    assert unhcr.honoured_by("zh_Hans", "联系 UNHCR")
    # A locale the glossary does not cover is not checked.
    assert warrant.honoured_by("fr", "mandat")


def test_misses_reports_the_missing_term() -> None:
    terms = terms_of(RED_NOTICE, WARRANT)
    english = "A Red Notice is not an arrest warrant."
    assert list(misses(terms, "zh_Hans", english, "红色通缉令不是逮捕令。")) == []
    missed = list(misses(terms, "zh_Hans", english, "红色通报不是逮捕令。"))
    assert [term.id for term in missed] == ["red_notice"]
    missed = list(misses(terms, "zh_Hant", english, "這不是任何東西。"))
    assert [term.id for term in missed] == ["red_notice", "arrest_warrant"]
    assert list(misses(terms, "ug", "Travel advice.", "سەپەر")) == []


def test_a_word_inside_a_longer_term_is_a_term_too() -> None:
    terms = terms_of(RED_NOTICE, WARRANT, NOTICE)
    english = "A Red Notice is not an arrest warrant."
    # The Uyghur word for "notice" is part of the one for "Red Notice".
    assert [t.id for t in misses(terms, "ug", english, "قىزىل ئۇقتۇرۇش")] == ["arrest_warrant"]
    assert [t.id for t in misses(terms, "zh_Hans", english, "红色通缉令不是逮捕令。")] == ["notice"]


# The inspect warning ---------------------------------------------------------

FACTS = parse_facts(FACTS_TEXT)
VOLUNTEER = "volunteer,volunteer,志愿者,義工|志工,پىدائىي\n"
GOOD: Mapping[str, Mapping[str, str]] = {
    "zh_Hans": {
        "help.refer": "我们可以把你转介给志愿者吗？",
        "help.referred": "志愿者会在这里给你写信。",
    },
    "zh_Hant": {
        "help.refer": "我們可以把你轉介給義工嗎？",
        "help.referred": "志工會在這裡給你寫信。",
    },
    "ug": {
        "help.refer": "سىزنى پىدائىيغا يوللىساق بولامدۇ؟",
        "help.referred": "پىدائىي بۇ يەردە سىزگە يازىدۇ.",
    },
}


def translate(
    texts: Mapping[str, Mapping[str, str]] = GOOD, *, fuzzy: frozenset[str] = frozenset()
) -> Editor:
    def edit(locale: str, entries: list[PoEntry]) -> None:
        wanted = texts.get(locale, {})
        for entry in entries:
            if entry.context is not None and entry.context in wanted:
                entry.msgstr = wanted[entry.context]
                entry.fuzzy = f"{locale}:{entry.context}" in fuzzy

    return edit


def with_glossary(sources: RegistrySources, glossary: str | None) -> RegistrySources:
    return dataclasses.replace(sources, glossary=glossary)


def check(sources: RegistrySources) -> list[Issue]:
    return inspect(build_registry(sources), facts=FACTS)


def test_right_words_give_no_issue() -> None:
    sources = with_glossary(make_sources(edit=translate()), HEADER + VOLUNTEER)
    assert check(sources) == []


def test_translation_without_the_term_is_a_warning_for_its_locale() -> None:
    texts = {**GOOD, "zh_Hant": {**GOOD["zh_Hant"], "help.referred": "會有人在這裡給你寫信。"}}
    sources = with_glossary(make_sources(edit=translate(texts)), HEADER + VOLUNTEER)
    [issue] = check(sources)
    assert issue.code is IssueCode.GLOSSARY
    assert issue.severity is Severity.WARNING
    assert (issue.flow, issue.node, issue.locale) == ("help", "referred", "zh_Hant")
    assert "'volunteer'" in issue.message
    assert "義工 or 志工" in issue.message
    assert "help.referred" in issue.message


def test_untranslated_terms_are_reported_in_every_locale() -> None:
    # The sample catalogs translate every text as its English, which lacks the words.
    sources = with_glossary(make_sources(), HEADER + VOLUNTEER)
    issues = check(sources)
    assert {(i.code, i.flow, i.node, i.locale) for i in issues} == {
        (IssueCode.GLOSSARY, "help", node, locale)
        for node in ("refer", "referred")
        for locale in ("zh_Hans", "zh_Hant", "ug")
    }
    assert len(issues) == 6
    assert all(issue.severity is Severity.WARNING for issue in issues)


def test_without_a_glossary_nothing_is_checked() -> None:
    assert check(with_glossary(make_sources(), None)) == []


def test_fuzzy_translations_are_not_checked_against_the_glossary() -> None:
    texts = {**GOOD, "ug": {**GOOD["ug"], "help.refer": "بىرەرسىگە يوللىساق بولامدۇ؟"}}
    edit = translate(texts, fuzzy=frozenset({"ug:help.refer"}))
    issues = check(with_glossary(make_sources(edit=edit), HEADER + VOLUNTEER))
    assert {(i.code, i.flow, i.node, i.locale) for i in issues} == {
        (IssueCode.FUZZY, "help", "refer", "ug")
    }


def test_program_messages_are_checked_too() -> None:
    glossary = HEADER + VOLUNTEER + "button,button,按钮,按鈕,كۇنۇپكا\n"

    def edit(locale: str, entries: list[PoEntry]) -> None:
        translate()(locale, entries)
        if locale != "ug":
            [entry] = [e for e in entries if e.msgid == "Please use the buttons."]
            entry.msgstr = "请使用按钮。" if locale == "zh_Hans" else "請使用按鈕。"

    [issue] = check(with_glossary(make_sources(edit=edit), glossary))
    assert (issue.code, issue.flow, issue.node, issue.locale) == (
        IssueCode.GLOSSARY,
        None,
        None,
        "ug",
    )
    assert "'button'" in issue.message


def test_a_broken_glossary_is_one_warning() -> None:
    broken = HEADER + VOLUNTEER + VOLUNTEER
    [issue] = check(with_glossary(make_sources(edit=translate()), broken))
    assert issue.code is IssueCode.GLOSSARY
    assert issue.severity is Severity.WARNING
    assert (issue.flow, issue.node, issue.locale) == (None, None, None)
    assert "appears twice" in issue.message


def test_a_byte_order_mark_is_ignored() -> None:
    terms = parse_glossary("\ufeff" + HEADER + "notice,notice,通告,通告,ئۇقتۇرۇش\n")
    assert [term.id for term in terms] == ["notice"]


# A language being added ------------------------------------------------------

TURKISH_HEADER = "term,en,zh_Hans,zh_Hant,ug,tr\n"


def with_turkish(sources: RegistrySources) -> RegistrySources:
    turkish = sources.po_files["zh_Hans"]
    return dataclasses.replace(sources, po_files={**sources.po_files, "tr": turkish})


def test_an_empty_cell_is_a_gap_not_a_word() -> None:
    [term] = parse_glossary(TURKISH_HEADER + VOLUNTEER.strip() + ",\n")
    assert term.gaps == ("tr",)
    assert "tr" not in term.translations
    assert term.honoured_by("tr", "anything at all")  # nothing fixed yet to demand


def test_a_catalog_without_its_glossary_words_is_an_error_in_the_repository() -> None:
    sources = with_turkish(make_sources(edit=translate()))
    # No column at all, then a column left empty: either way a gap for tr alone.
    for glossary in (HEADER + VOLUNTEER, TURKISH_HEADER + VOLUNTEER.strip() + ",\n"):
        registry = build_registry(with_glossary(sources, glossary))
        gaps = [i for i in inspect(registry, facts=FACTS) if i.code is IssueCode.GLOSSARY_GAP]
        assert [(i.locale, i.severity) for i in gaps] == [("tr", Severity.ERROR)]
        assert "glossary.csv" in gaps[0].message
        # On the live desk, where a new language is published before the
        # repository's glossary can take it in, the same gap only warns.
        live = [i for i in inspect(registry, facts=FACTS, live_desk=True) if i.locale == "tr"]
        gap = next(i for i in live if i.code is IssueCode.GLOSSARY_GAP)
        assert gap.severity is Severity.WARNING


def test_with_columns_adds_an_empty_column_for_a_new_language_once() -> None:
    text = HEADER + VOLUNTEER + "\n"
    grown = with_columns(text, ["en", "zh_Hans", "tr"])
    assert grown.splitlines()[0] == "term,en,zh_Hans,zh_Hant,ug,tr"
    assert grown.splitlines()[1] == VOLUNTEER.strip() + ","
    assert with_columns(grown, ["tr"]) == grown
    assert with_columns(text, ["ug"]) == text
    [term] = parse_glossary(grown)
    assert term.gaps == ("tr",)


def test_the_shipped_glossary_has_no_gaps() -> None:
    terms = parse_glossary((LOCALES_DIR / "glossary.csv").read_text(encoding="utf-8"))
    assert all(term.gaps == () for term in terms)
