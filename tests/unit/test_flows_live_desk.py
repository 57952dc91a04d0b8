"""The live desk's judgement: pending translations are warnings, every other fault an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flows.catalog import parse_po
from flows.inspect import MAX_LABEL_COLUMNS, IssueCode, Severity, check_set
from flows.registry import RegistrySources, read_sources
from flows.template import set_template
from tests.unit.flow_samples import CLEAN_FLOWS, PoEntry, make_sources, replaced, write_tree

REPO = Path(__file__).resolve().parents[2]


def fuzzy_and_missing(locale: str, entries: list[PoEntry]) -> None:
    """In ug: one flow text fuzzy with stale placeholders, one label and a program message gone."""
    if locale != "ug":
        return
    for entry in entries:
        if entry.context == "info.intro":
            entry.fuzzy = True
            entry.msgstr = "Old facts for {old_name}."
    entries[:] = [
        e
        for e in entries
        if e.context != "info.intro.more" and e.msgid != "Please use the buttons."
    ]


def test_pending_translations_are_errors_in_the_repository_and_warnings_on_the_desk() -> None:
    sources = make_sources(edit=fuzzy_and_missing)
    shipped = check_set(sources)
    live = check_set(sources, live_desk=True)
    pending = {IssueCode.FUZZY, IssueCode.UNTRANSLATED, IssueCode.PLACEHOLDERS}
    assert {issue.code for issue in shipped.errors} == pending
    assert live.errors == ()
    assert {issue.code for issue in live.warnings} == pending
    assert all(issue.locale == "ug" for issue in live.warnings)


def test_the_desk_still_refuses_everything_else() -> None:
    broken = replaced(CLEAN_FLOWS, "info.yaml", "goto: more", "goto: nowhere")
    live = check_set(make_sources(broken, edit=fuzzy_and_missing), live_desk=True)
    assert {issue.code for issue in live.errors} == {
        IssueCode.UNRESOLVED_TARGET,
        IssueCode.UNREACHABLE,
    }


def test_dropped_literals_unknown_names_and_wide_labels_stay_errors_on_the_desk() -> None:
    """Faults a member would see or act on: a lost phone number or command, a
    placeholder the bot never fills, a button too wide for a phone. Only pending
    translations relax on the desk."""
    flows = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Send /wipe or call 112.")
    flows = replaced(flows, "main.yaml", "text: Choose a topic.", "text: Choose, {nobody}.")

    def faults(locale: str, entries: list[PoEntry]) -> None:
        fuzzy_and_missing(locale, entries)
        for entry in entries:
            if locale == "zh_Hant" and entry.context == "info.more":
                entry.msgstr = "請發送指令或撥打電話。"
            if locale == "zh_Hans" and entry.context == "help.refer.consent":
                entry.msgstr = "是" * (MAX_LABEL_COLUMNS // 2 + 1)

    live = check_set(make_sources(flows, edit=faults), live_desk=True)
    assert {(issue.code, issue.locale) for issue in live.errors} == {
        (IssueCode.DROPPED, "zh_Hant"),
        (IssueCode.UNKNOWN_PLACEHOLDER, None),
        (IssueCode.TOO_LONG, "zh_Hans"),
    }
    assert {issue.code for issue in live.warnings} == {
        IssueCode.FUZZY,
        IssueCode.UNTRANSLATED,
        IssueCode.PLACEHOLDERS,
    }


def test_wrong_placeholders_in_a_shown_translation_stay_an_error_on_the_desk() -> None:
    def wrong(locale: str, entries: list[PoEntry]) -> None:
        for entry in entries:
            if locale == "ug" and entry.context == "info.intro":
                entry.msgstr = "Facts for {nom}."

    live = check_set(make_sources(edit=wrong), live_desk=True)
    assert [(issue.code, issue.locale) for issue in live.errors] == [(IssueCode.PLACEHOLDERS, "ug")]


def test_a_missing_catalog_of_a_shipped_locale_stays_an_error_on_the_desk() -> None:
    sources = make_sources(locales=("zh_Hans", "zh_Hant"))
    live = check_set(sources, live_desk=True)
    assert [(issue.code, issue.locale) for issue in live.errors] == [
        (IssueCode.MISSING_CATALOG, "ug")
    ]


def test_a_new_locale_is_checked_like_the_others() -> None:
    def added(locale: str, entries: list[PoEntry]) -> None:
        for entry in entries:
            if locale == "tr" and entry.context == "info.intro":
                entry.msgstr = "Bilgi {isim}."

    sources = make_sources(edit=added, locales=("zh_Hans", "zh_Hant", "ug", "tr"))
    live = check_set(sources, live_desk=True)
    assert [(issue.code, issue.locale) for issue in live.errors] == [(IssueCode.PLACEHOLDERS, "tr")]


def test_flows_check_live_desk_flag(tmp_path: Path) -> None:
    definitions, locales = write_tree(tmp_path, make_sources(edit=fuzzy_and_missing))
    facts = tmp_path / "FACTS.md"
    facts.write_text("Source ids: SD21 = x.\n- [V] A fact. https://example.org/facts.\n")

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        where = ["--flows", str(definitions), "--locales", str(locales), "--facts", str(facts)]
        return subprocess.run(
            [sys.executable, "-m", "flows", "check", *where, *extra],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
        )

    strict, live = run(), run("--live-desk")
    assert strict.returncode == 1, strict.stdout
    assert live.returncode == 0, live.stdout
    catalog = "locales/ug/LC_MESSAGES/messages.po"
    assert f"error: {catalog}: info/intro [ug]: fuzzy" in strict.stdout
    assert f"warning: {catalog}: info/intro [ug]: fuzzy" in live.stdout
    assert live.stdout.strip().splitlines()[-1].endswith("0 errors, 4 warnings")


# The template of a set -------------------------------------------------------


def test_the_shipped_template_is_rebuilt_exactly() -> None:
    sources = read_sources()
    assert sources.template is not None
    assert set_template(sources.template, sources.flow_files) == sources.template


def test_a_sets_template_drops_old_flow_texts_and_lists_new_ones() -> None:
    program = make_sources().template
    changed = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Newer facts.")
    template = parse_po(set_template(program, changed), locale="t", origin="t")
    keys = set(template.entries)
    assert ("info.more", "Newer facts.") in keys
    assert ("info.more", "More facts.") not in keys
    assert (None, "Please use the buttons.") in keys, "the program's own messages stay"


def test_a_set_checked_against_its_own_template_has_no_stale_pending_texts() -> None:
    changed = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Newer facts.")
    base = make_sources(changed)
    sources = RegistrySources(
        base.flow_files, base.po_files, set_template(make_sources().template, changed)
    )
    assert check_set(sources).issues == ()
    stale = RegistrySources(base.flow_files, base.po_files, make_sources().template)
    assert [issue.severity for issue in check_set(stale).issues] == [Severity.ERROR] * 3
