"""Static checks: each defect is reported with its code and where it is."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from flows.facts import Facts, parse_facts
from flows.inspect import (
    MAX_LABEL_COLUMNS,
    MAX_SCREEN_CHARS,
    Issue,
    IssueCode,
    Severity,
    inspect,
    taps_from_menu,
)
from flows.loader import parse_flows
from flows.registry import RegistrySources, build_registry
from tests.unit.flow_samples import (
    CLEAN_FLOWS,
    FACTS_TEXT,
    Editor,
    PoEntry,
    make_sources,
    replaced,
)

FACTS = parse_facts(FACTS_TEXT)

Where = tuple[IssueCode, str | None, str | None, str | None]


def check(sources: RegistrySources, facts: Facts | None = FACTS) -> list[Issue]:
    return inspect(build_registry(sources), facts=facts)


def found(issues: list[Issue]) -> set[Where]:
    return {(issue.code, issue.flow, issue.node, issue.locale) for issue in issues}


def issues_of(flow_files: Mapping[str, str], *, edit: Editor | None = None) -> set[Where]:
    return found(check(make_sources(flow_files, edit=edit)))


def set_msgstr(context: str | None, msgstr: str, *, locale: str | None = None) -> Editor:
    """An editor giving the entry with ``context`` (or the bot msgid) a new translation."""

    def edit(current: str, entries: list[PoEntry]) -> None:
        if locale is not None and current != locale:
            return
        matches = [e for e in entries if e.context == context or e.msgid == context]
        assert len(matches) == 1, context
        matches[0].msgstr = msgstr

    return edit


def test_clean_set_has_no_issues() -> None:
    assert check(make_sources()) == []


def test_clean_set_without_facts_has_no_issues() -> None:
    assert check(make_sources(), facts=None) == []


# Structure -------------------------------------------------------------------


def test_duplicate_flow_id() -> None:
    files = {**CLEAN_FLOWS, "copy.yaml": CLEAN_FLOWS["main.yaml"]}
    issues = check(make_sources(files))
    assert found(issues) == {(IssueCode.DUPLICATE_ID, "main", None, None)}
    assert issues[0].severity is Severity.ERROR
    # Both files are named, so the editor knows which two to compare.
    assert "copy.yaml" in str(issues[0])
    assert "main.yaml" in str(issues[0])


def test_duplicate_node_id() -> None:
    files = {
        **CLEAN_FLOWS,
        "info.yaml": CLEAN_FLOWS["info.yaml"]
        + "  - id: more\n    kind: end\n    unsourced: menu\n    text: Other facts.\n",
    }
    assert issues_of(files) == {(IssueCode.DUPLICATE_ID, "info", "more", None)}


def test_duplicate_option_id() -> None:
    files = replaced(
        CLEAN_FLOWS,
        "main.yaml",
        "      - id: help\n",
        "      - id: info\n        label: Again\n        goto: info:more\n      - id: help\n",
    )
    assert issues_of(files) == {(IssueCode.DUPLICATE_ID, "main", "menu", None)}


def test_duplicate_choice_id() -> None:
    files = replaced(
        CLEAN_FLOWS,
        "help.yaml",
        "        label: A notice\n",
        "        label: A notice\n      - id: notice\n        label: Another notice\n",
    )
    assert issues_of(files) == {(IssueCode.DUPLICATE_ID, "help", "ask", None)}


def test_missing_start() -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "start: intro", "start: nowhere")
    assert issues_of(files) == {(IssueCode.MISSING_START, "info", None, None)}


def test_missing_main_menu_node() -> None:
    files = replaced(CLEAN_FLOWS, "main.yaml", "start: menu", "start: home")
    files = replaced(files, "main.yaml", "  - id: menu", "  - id: home")
    assert issues_of(files) == {
        (IssueCode.MISSING_MENU, None, None, None),
        # The two links back to the menu now point nowhere.
        (IssueCode.UNRESOLVED_TARGET, "info", "intro", None),
        (IssueCode.UNRESOLVED_TARGET, "help", "refer", None),
    }


def test_missing_main_flow() -> None:
    files = {**CLEAN_FLOWS}
    files["main.yaml"] = files["main.yaml"].replace("id: main", "id: home", 1)
    issues = found(check(make_sources(files)))
    assert (IssueCode.MISSING_MENU, None, None, None) in issues
    assert not any(code is IssueCode.UNREACHABLE for code, *_ in issues)


@pytest.mark.parametrize(
    "target",
    ["nowhere", "main:nowhere", "elsewhere:intro", "elsewhere:menu"],
)
def test_unresolved_target(target: str) -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "goto: main:menu", f"goto: {target}")
    issues = check(make_sources(files))
    assert found(issues) == {(IssueCode.UNRESOLVED_TARGET, "info", "intro", None)}
    assert repr(target) in issues[0].message


def test_unresolved_question_and_handoff_targets() -> None:
    files = replaced(CLEAN_FLOWS, "help.yaml", "declined: main:menu", "declined: main:gone")
    assert issues_of(files) == {(IssueCode.UNRESOLVED_TARGET, "help", "refer", None)}


def test_unreachable_node() -> None:
    files = {
        **CLEAN_FLOWS,
        "info.yaml": CLEAN_FLOWS["info.yaml"]
        + "  - id: orphan\n    kind: end\n    unsourced: menu\n    text: Nobody comes here.\n",
    }
    assert issues_of(files) == {(IssueCode.UNREACHABLE, "info", "orphan", None)}


def test_unreachable_flow() -> None:
    files = {
        **CLEAN_FLOWS,
        "lost.yaml": "id: lost\nstart: a\nnodes:\n"
        "  - id: a\n    kind: end\n    unsourced: menu\n    text: Lost.\n",
    }
    assert issues_of(files) == {(IssueCode.UNREACHABLE, "lost", "a", None)}


def test_dead_end() -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "kind: end", "kind: message")
    assert issues_of(files) == {(IssueCode.DEAD_END, "info", "more", None)}


# Catalogs --------------------------------------------------------------------


def test_missing_catalog() -> None:
    sources = make_sources(locales=("zh_Hans", "zh_Hant"))
    assert found(check(sources)) == {(IssueCode.MISSING_CATALOG, None, None, "ug")}


def test_missing_template() -> None:
    sources = make_sources(with_template=False)
    assert found(check(sources)) == {(IssueCode.MISSING_CATALOG, None, None, None)}


def test_untranslated_flow_text() -> None:
    edit = set_msgstr("info.intro", "", locale="zh_Hans")
    assert issues_of(CLEAN_FLOWS, edit=edit) == {
        (IssueCode.UNTRANSLATED, "info", "intro", "zh_Hans")
    }


def test_flow_text_missing_from_catalog() -> None:
    def drop(locale: str, entries: list[PoEntry]) -> None:
        if locale == "ug":
            entries[:] = [e for e in entries if e.context != "help.refer.decline"]

    assert issues_of(CLEAN_FLOWS, edit=drop) == {(IssueCode.UNTRANSLATED, "help", "refer", "ug")}


def test_translation_of_old_english_counts_as_missing() -> None:
    def stale(locale: str, entries: list[PoEntry]) -> None:
        if locale == "zh_Hant":
            [entry] = [e for e in entries if e.context == "info.more"]
            entry.msgid = "Fewer facts."

    assert issues_of(CLEAN_FLOWS, edit=stale) == {
        (IssueCode.UNTRANSLATED, "info", "more", "zh_Hant"),
    }


def test_fuzzy_flow_text() -> None:
    def fuzzy(locale: str, entries: list[PoEntry]) -> None:
        if locale == "zh_Hant":
            [entry] = [e for e in entries if e.context == "info.intro"]
            entry.fuzzy = True

    assert issues_of(CLEAN_FLOWS, edit=fuzzy) == {(IssueCode.FUZZY, "info", "intro", "zh_Hant")}


def test_untranslated_and_fuzzy_program_messages() -> None:
    def edit(locale: str, entries: list[PoEntry]) -> None:
        [hello] = [e for e in entries if e.msgid == "Hello {name}."]
        [buttons] = [e for e in entries if e.msgid == "Please use the buttons."]
        if locale == "zh_Hans":
            hello.msgstr = ""
        if locale == "ug":
            buttons.fuzzy = True

    assert issues_of(CLEAN_FLOWS, edit=edit) == {
        (IssueCode.UNTRANSLATED, None, None, "zh_Hans"),
        (IssueCode.FUZZY, None, None, "ug"),
    }


def test_template_entry_absent_from_a_catalog() -> None:
    def drop(locale: str, entries: list[PoEntry]) -> None:
        if locale == "zh_Hant":
            entries[:] = [e for e in entries if e.msgid != "Please use the buttons."]

    issues = check(make_sources(edit=drop))
    assert found(issues) == {(IssueCode.UNTRANSLATED, None, None, "zh_Hant")}
    assert "messages.pot" in issues[0].message


def test_placeholder_mismatch_in_flow_text() -> None:
    edit = set_msgstr("info.intro", "Facts for {nom}.", locale="ug")
    issues = check(make_sources(edit=edit))
    assert found(issues) == {(IssueCode.PLACEHOLDERS, "info", "intro", "ug")}
    assert "['country']" in issues[0].message
    assert "['nom']" in issues[0].message


@pytest.mark.parametrize("msgstr", ["Hello.", "Hello {name} {name2}.", "Hello {Name}."])
def test_placeholder_mismatch_in_program_message(msgstr: str) -> None:
    edit = set_msgstr("Hello {name}.", msgstr, locale="zh_Hans")
    assert issues_of(CLEAN_FLOWS, edit=edit) == {(IssueCode.PLACEHOLDERS, None, None, "zh_Hans")}


def test_placeholders_may_move_within_the_translation() -> None:
    edit = set_msgstr("Hello {name}.", "{name}, hello.", locale="zh_Hans")
    assert issues_of(CLEAN_FLOWS, edit=edit) == set()


# Lengths ---------------------------------------------------------------------


def _with_text(length: int) -> dict[str, str]:
    return replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", f"text: {'x' * length}")


def _with_label(length: int) -> dict[str, str]:
    return replaced(CLEAN_FLOWS, "main.yaml", "label: Get help", f"label: {'y' * length}")


def test_text_and_label_at_the_limit_are_fine() -> None:
    assert issues_of(_with_text(MAX_SCREEN_CHARS)) == set()
    assert issues_of(_with_label(MAX_LABEL_COLUMNS)) == set()


def test_over_long_source_text() -> None:
    files = _with_text(MAX_SCREEN_CHARS + 1)
    issues = check(make_sources(files, edit=set_msgstr("info.more", "Short.")))
    assert found(issues) == {(IssueCode.TOO_LONG, "info", "more", None)}
    assert f"limit {MAX_SCREEN_CHARS}" in issues[0].message


def test_over_long_source_label() -> None:
    files = _with_label(MAX_LABEL_COLUMNS + 1)
    issues = check(make_sources(files, edit=set_msgstr("main.menu.help", "Help")))
    assert found(issues) == {(IssueCode.TOO_LONG, "main", "menu", None)}
    assert "label main.menu.help" in issues[0].message


def test_over_long_translated_text() -> None:
    edit = set_msgstr("info.more", "z" * (MAX_SCREEN_CHARS + 1), locale="ug")
    assert issues_of(CLEAN_FLOWS, edit=edit) == {(IssueCode.TOO_LONG, "info", "more", "ug")}


def test_over_long_translated_label() -> None:
    edit = set_msgstr("help.refer.consent", "是" * (MAX_LABEL_COLUMNS + 1), locale="zh_Hans")
    assert issues_of(CLEAN_FLOWS, edit=edit) == {(IssueCode.TOO_LONG, "help", "refer", "zh_Hans")}


def test_a_chinese_label_counts_two_columns_a_character() -> None:
    half = MAX_LABEL_COLUMNS // 2
    fits = set_msgstr("help.refer.consent", "是" * half, locale="zh_Hant")
    assert issues_of(CLEAN_FLOWS, edit=fits) == set()
    too_wide = set_msgstr("help.refer.consent", "是" * (half + 1), locale="zh_Hant")
    issues = check(make_sources(edit=too_wide))
    assert found(issues) == {(IssueCode.TOO_LONG, "help", "refer", "zh_Hant")}
    assert f"{MAX_LABEL_COLUMNS + 2} columns" in issues[0].message


def test_uyghur_letters_and_marks_count_as_they_look() -> None:
    # Arabic-script letters take one column; bidi isolates take none.
    label = "\u2068" + "ب" * MAX_LABEL_COLUMNS + "\u2069"
    assert issues_of(CLEAN_FLOWS, edit=set_msgstr("help.refer.consent", label)) == set()


# Sources ---------------------------------------------------------------------


def _more_sources(*sources: str, hedged: tuple[str, ...] = ()) -> dict[str, str]:
    listed = "".join(f"      - {source}\n" for source in sources)
    hedges = "".join(f"      - {source}\n" for source in hedged)
    return replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "    sources:\n      - https://example.org/facts\n    text: More facts.",
        f"    sources:\n{listed}"
        + (f"    hedged:\n{hedges}" if hedges else "")
        + "    text: More facts.",
    )


def test_missing_source() -> None:
    files = replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "    sources:\n      - https://example.org/facts\n    text: More facts.",
        "    text: More facts.",
    )
    assert issues_of(files) == {(IssueCode.MISSING_SOURCE, "info", "more", None)}


def test_unknown_source() -> None:
    files = _more_sources("https://example.org/facts", "https://example.org/invented")
    issues = check(make_sources(files))
    assert found(issues) == {(IssueCode.UNKNOWN_SOURCE, "info", "more", None)}
    assert "https://example.org/invented" in issues[0].message


def test_unknown_source_is_not_checked_without_facts() -> None:
    files = _more_sources("https://example.org/invented")
    assert check(make_sources(files), facts=None) == []


def test_uncertain_source_is_a_warning() -> None:
    files = _more_sources("https://example.org/shaky")
    issues = check(make_sources(files))
    assert found(issues) == {(IssueCode.UNCERTAIN_SOURCE, "info", "more", None)}
    assert issues[0].severity is Severity.WARNING


def test_a_hedged_uncertain_source_is_acknowledged() -> None:
    shaky = "https://example.org/shaky"
    assert check(make_sources(_more_sources(shaky, hedged=(shaky,)))) == []


def test_a_hedged_source_must_also_be_a_source() -> None:
    files = _more_sources("https://example.org/facts", hedged=("https://example.org/shaky",))
    assert found(check(make_sources(files))) == {(IssueCode.UNKNOWN_SOURCE, "info", "more", None)}


def test_seed_ids_are_sources() -> None:
    assert issues_of(_more_sources("SD21")) == set()
    assert issues_of(_more_sources("SD22")) == {(IssueCode.UNKNOWN_SOURCE, "info", "more", None)}


# Issue and distances ---------------------------------------------------------


def test_issue_str_names_where() -> None:
    full = Issue(IssueCode.UNTRANSLATED, "info.intro: 'x'", "info", "intro", "ug")
    assert str(full) == "info/intro [ug]: untranslated: info.intro: 'x'"
    assert str(Issue(IssueCode.MISSING_START, "m", "info")) == "info: missing-start: m"
    assert str(Issue(IssueCode.FUZZY, "m", locale="zh_Hans")) == "catalog [zh_Hans]: fuzzy: m"
    assert str(Issue(IssueCode.MISSING_MENU, "m")) == "catalog: missing-menu: m"


def test_taps_from_menu() -> None:
    flows = {flow.id: flow for flow in parse_flows(CLEAN_FLOWS)}
    assert taps_from_menu(flows) == {
        ("main", "menu"): 0,
        ("info", "intro"): 1,
        ("help", "ask"): 1,
        ("info", "more"): 2,
        ("help", "country"): 2,
        ("help", "refer"): 3,
        ("help", "referred"): 4,
    }


def test_taps_from_menu_takes_the_shortest_way_and_skips_unreachable() -> None:
    files = replaced(
        CLEAN_FLOWS,
        "main.yaml",
        "      - id: help\n",
        "      - id: referred\n        label: Done\n        goto: help:referred\n"
        "      - id: help\n",
    )
    files["info.yaml"] += "  - id: orphan\n    kind: end\n    unsourced: menu\n    text: Lost.\n"
    distances = taps_from_menu({flow.id: flow for flow in parse_flows(files)})
    assert distances[("help", "referred")] == 1
    assert distances[("help", "refer")] == 3
    assert ("info", "orphan") not in distances


def test_taps_from_menu_without_a_menu_is_only_the_start() -> None:
    flows = {flow.id: flow for flow in parse_flows(CLEAN_FLOWS) if flow.id != "main"}
    assert taps_from_menu(flows) == {("main", "menu"): 0}


def test_a_percent_sign_read_as_a_format_is_an_error() -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "text: ", "text: Only 3% of them. ")
    issues = check(make_sources(files))
    assert IssueCode.PERCENT_FORMAT in {issue.code for issue in issues}
    fine = replaced(CLEAN_FLOWS, "info.yaml", "text: ", "text: Only 3%, not more. ")
    assert IssueCode.PERCENT_FORMAT not in {issue.code for issue in check(make_sources(fine))}


# Literals a translation must keep --------------------------------------------


@pytest.mark.parametrize(
    ("english", "translation", "lost"),
    [
        ("Send /wipe first.", "请先发送。", "/wipe"),
        ("See https://example.org/help now.", "现在请看。", "https://example.org/help"),
        ("Call 1-800-420-5805.", "请拨打1-800-420-5850。", "1-800-420-5805"),
        ("Held for 43 months.", "被关押了34个月。", "43"),
    ],
)
def test_a_translation_that_drops_a_literal_is_an_error(
    english: str, translation: str, lost: str
) -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", f"text: {english}")
    issues = check(make_sources(files, edit=set_msgstr("info.more", translation, locale="ug")))
    assert found(issues) == {(IssueCode.DROPPED, "info", "more", "ug")}
    assert lost in issues[0].message
    assert issues[0].severity is Severity.ERROR


def test_program_messages_keep_their_literals_too() -> None:
    sources = make_sources(
        bot_messages=("Send /wipe at any time.",),
        edit=set_msgstr("Send /wipe at any time.", "随时发送。", locale="zh_Hant"),
    )
    assert found(check(sources)) == {(IssueCode.DROPPED, None, None, "zh_Hant")}


def test_fuzzy_translations_are_not_checked_for_literals() -> None:
    def fuzzy(locale: str, entries: list[PoEntry]) -> None:
        [entry] = [e for e in entries if e.context == "info.more"]
        entry.msgstr, entry.fuzzy = "Nothing.", True

    files = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Send /wipe.")
    codes = {issue.code for issue in check(make_sources(files, edit=fuzzy))}
    assert codes == {IssueCode.FUZZY}


# Placeholders the bot fills in -------------------------------------------------


def test_a_settings_value_is_a_known_placeholder() -> None:
    files = replaced(
        CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Erased after {retention_days} days."
    )
    assert issues_of(files) == set()


def test_an_unknown_placeholder_is_an_error_that_lists_the_known_ones() -> None:
    files = replaced(
        CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Erased after {retension_days} days."
    )
    issues = check(make_sources(files))
    assert found(issues) == {(IssueCode.UNKNOWN_PLACEHOLDER, "info", "more", None)}
    assert "{retension_days}" in issues[0].message
    assert "{retention_days}" in issues[0].message
    assert "{country}" in issues[0].message  # a question's answer


def test_a_translation_must_keep_a_settings_placeholder() -> None:
    files = replaced(
        CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Erased after {retention_days} days."
    )
    edit = set_msgstr("info.more", "30天后删除。", locale="zh_Hans")
    assert found(check(make_sources(files, edit=edit))) == {
        (IssueCode.PLACEHOLDERS, "info", "more", "zh_Hans")
    }


# Files named -------------------------------------------------------------------


def test_issues_name_the_file_to_open() -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "goto: main:menu", "goto: nowhere")
    [structural] = check(make_sources(files))
    assert structural.file == "info.yaml"
    assert str(structural).startswith("info.yaml: info/intro: unresolved-target")
    [translation] = check(make_sources(edit=set_msgstr("info.intro", "", locale="ug")))
    assert translation.file == "locales/ug/LC_MESSAGES/messages.po"
    assert str(translation).startswith("locales/ug/LC_MESSAGES/messages.po: info/intro [ug]")
