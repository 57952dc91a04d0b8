"""Concurrent drafts: disjoint changes merge, the same entry changed twice is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from flows.catalog import parse_po
from flows.merge import Conflict, ConflictKind, MergeConflict, merge_sources
from flows.registry import RegistrySources, build_registry, read_sources
from tests.unit.flow_samples import CLEAN_FLOWS, INFO_YAML, PoEntry, make_sources, replaced

BASE = make_sources()
Edit = Callable[[str, list[PoEntry]], None]


def translated(changes: dict[tuple[str, str | None], str | None], *, fuzzy: bool = False) -> Edit:
    """An editor setting (locale, context) → translation; None removes the entry."""

    def edit(locale: str, entries: list[PoEntry]) -> None:
        for entry in list(entries):
            key = (locale, entry.context)
            if key in changes:
                text = changes[key]
                if text is None:
                    entries.remove(entry)
                else:
                    entry.msgstr = text
                    entry.fuzzy = fuzzy

    return edit


def with_po(locale: str, edit: Edit, start: RegistrySources = BASE) -> RegistrySources:
    """``start`` with one locale's catalog edited."""
    edited = make_sources(start.flow_files, edit=edit)
    return replace(start, po_files={**start.po_files, locale: edited.po_files[locale]})


def with_flows(files: dict[str, str], start: RegistrySources = BASE) -> RegistrySources:
    return replace(start, flow_files=files)


def lookup(sources: RegistrySources, locale: str, context: str | None, msgid: str) -> str:
    catalog = parse_po(sources.po_files[locale], locale=locale, origin=locale)
    entry = catalog.lookup(context, msgid)
    assert entry is not None, (locale, context)
    return entry.msgstr[0]


def conflicts_of(
    base: RegistrySources, ours: RegistrySources, theirs: RegistrySources
) -> tuple[Conflict, ...]:
    with pytest.raises(MergeConflict) as caught:
        merge_sources(base, ours, theirs)
    return caught.value.conflicts


# --- catalogs --------------------------------------------------------------------------------


def test_nothing_new_from_theirs_keeps_ours_exactly() -> None:
    ours = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    assert merge_sources(BASE, ours, BASE) == ours


def test_only_theirs_changed_gives_theirs() -> None:
    theirs = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    assert merge_sources(BASE, BASE, theirs) == theirs


def test_different_entries_of_one_catalog_merge() -> None:
    ours = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    theirs = with_po("ug", translated({("ug", "info.more"): "تېخىمۇ كۆپ"}))
    merged = merge_sources(BASE, ours, theirs)
    assert lookup(merged, "ug", "main.menu", "Choose a topic.") == "تېما تاللاڭ"
    assert lookup(merged, "ug", "info.more", "More facts.") == "تېخىمۇ كۆپ"
    assert lookup(merged, "ug", "help.ask", "What is it about?") == "What is it about?"
    assert merged.po_files["zh_Hans"] == BASE.po_files["zh_Hans"]
    build_registry(merged)  # the merged catalog is one the bot can serve


def test_the_same_entry_changed_differently_is_refused_and_named() -> None:
    ours = with_po("ug", translated({("ug", "info.intro.more"): "بىرىنچى"}))
    theirs = with_po("ug", translated({("ug", "info.intro.more"): "ئىككىنچى"}))
    assert conflicts_of(BASE, ours, theirs) == (
        Conflict(ConflictKind.ENTRY, "ug", "info", "intro", "ug", "info.intro.more", "More"),
    )


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    both = with_po("ug", translated({("ug", "info.more"): "تېخىمۇ كۆپ"}))
    assert lookup(merge_sources(BASE, both, both), "ug", "info.more", "More facts.") == "تېخىمۇ كۆپ"


def test_a_fuzzy_flag_against_a_new_translation_is_a_conflict() -> None:
    ours = with_po("ug", translated({("ug", "main.menu"): "Choose a topic."}, fuzzy=True))
    theirs = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    (conflict,) = conflicts_of(BASE, ours, theirs)
    assert (conflict.kind, conflict.context, conflict.locale) == (
        ConflictKind.ENTRY,
        "main.menu",
        "ug",
    )


def test_program_messages_are_named_by_msgid() -> None:
    def bot_message(text: str) -> Edit:
        def edit(locale: str, entries: list[PoEntry]) -> None:
            for entry in entries:
                if locale == "zh_Hant" and entry.msgid == "Please use the buttons.":
                    entry.msgstr = text

        return edit

    (conflict,) = conflicts_of(
        BASE,
        with_po("zh_Hant", bot_message("請用按鈕")),
        with_po("zh_Hant", bot_message("請按按鈕")),
    )
    assert (conflict.flow, conflict.node, conflict.context, conflict.msgid) == (
        None,
        None,
        None,
        "Please use the buttons.",
    )
    assert "zh_Hant" in str(conflict)


def test_entries_added_and_removed_by_theirs_are_replayed() -> None:
    ours = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    theirs = with_po("ug", translated({("ug", "info.more"): None}))
    merged = merge_sources(BASE, ours, theirs)
    catalog = parse_po(merged.po_files["ug"], locale="ug", origin="ug")
    assert catalog.lookup("info.more", "More facts.") is None
    assert lookup(merged, "ug", "main.menu", "Choose a topic.") == "تېما تاللاڭ"
    back = merge_sources(theirs, theirs, BASE)  # theirs adds it back
    assert lookup(back, "ug", "info.more", "More facts.") == "More facts."


def test_removing_an_entry_the_other_side_changed_is_a_conflict() -> None:
    ours = with_po("ug", translated({("ug", "info.more"): "تېخىمۇ كۆپ"}))
    theirs = with_po("ug", translated({("ug", "info.more"): None}))
    (conflict,) = conflicts_of(BASE, ours, theirs)
    assert (conflict.kind, conflict.context) == (ConflictKind.ENTRY, "info.more")


def _plural_forms(sources: RegistrySources, locale: str, value: str) -> RegistrySources:
    text = sources.po_files[locale].replace("nplurals=1; plural=0;", value, 1)
    return replace(sources, po_files={**sources.po_files, locale: text})


def test_a_changed_plural_rule_merges_with_entry_changes_and_conflicts_with_another_rule() -> None:
    ours = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    theirs = _plural_forms(BASE, "ug", "nplurals=2; plural=(n != 1);")
    merged = merge_sources(BASE, ours, theirs)
    catalog = parse_po(merged.po_files["ug"], locale="ug", origin="ug")
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    assert lookup(merged, "ug", "main.menu", "Choose a topic.") == "تېما تاللاڭ"
    other_rule = _plural_forms(ours, "ug", "nplurals=3; plural=(n > 2 ? 2 : n);")
    (conflict,) = conflicts_of(BASE, other_rule, theirs)
    assert conflict.kind is ConflictKind.CATALOG_HEADER
    assert conflict.locale == "ug"


def test_a_catalog_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    ours = replace(BASE, po_files={k: v for k, v in BASE.po_files.items() if k != "ug"})
    theirs = with_po("ug", translated({("ug", "main.menu"): "تېما تاللاڭ"}))
    assert conflicts_of(BASE, ours, theirs) == (Conflict(ConflictKind.CATALOG, "ug", locale="ug"),)


def test_two_coordinators_starting_the_same_new_language_merge_by_entry() -> None:
    def turkish(changes: dict[str | None, str]) -> RegistrySources:
        def edit(locale: str, entries: list[PoEntry]) -> None:
            for entry in entries:
                entry.msgstr = changes.get(entry.context, "")

        made = make_sources(edit=edit, locales=("tr",))
        return replace(BASE, po_files={**BASE.po_files, "tr": made.po_files["tr"]})

    ours = turkish({"main.menu": "Bir konu seçin."})
    theirs = turkish({"info.more": "Daha fazla bilgi."})
    merged = merge_sources(BASE, ours, theirs)
    assert lookup(merged, "tr", "main.menu", "Choose a topic.") == "Bir konu seçin."
    assert lookup(merged, "tr", "info.more", "More facts.") == "Daha fazla bilgi."
    clash = turkish({"main.menu": "Konu seç."})
    (conflict,) = conflicts_of(BASE, ours, clash)
    assert (conflict.locale, conflict.context) == ("tr", "main.menu")


# --- flow files ------------------------------------------------------------------------------


def test_different_nodes_of_one_flow_merge() -> None:
    ours = with_flows(
        replaced(CLEAN_FLOWS, "info.yaml", "Facts for {country}.", "Facts, {country}.")
    )
    theirs = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Further facts."))
    merged = merge_sources(BASE, ours, theirs)
    text = merged.flow_files["info.yaml"]
    assert "Facts, {country}." in text
    assert "Further facts." in text
    assert text == INFO_YAML.replace("Facts for {country}.", "Facts, {country}.").replace(
        "More facts.", "Further facts."
    )
    build_registry(merged)


def test_the_same_node_changed_differently_is_refused_and_named() -> None:
    ours = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Some more facts."))
    theirs = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Further facts."))
    assert conflicts_of(BASE, ours, theirs) == (
        Conflict(ConflictKind.NODE, "info.yaml", "info", "more"),
    )


def test_a_node_added_by_theirs_lands_after_its_neighbour() -> None:
    new_node = "  - id: extra\n    kind: end\n    unsourced: menu\n    text: Extra.\n"
    anchor = "main:menu\n  - id: more\n"
    theirs_files = replaced(
        CLEAN_FLOWS, "info.yaml", anchor, "main:menu\n" + new_node + "  - id: more\n"
    )
    theirs_files = replaced(theirs_files, "info.yaml", "goto: more", "goto: extra")
    ours = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Further facts."))
    merged = merge_sources(BASE, ours, with_flows(theirs_files))
    flow = build_registry(merged).flows["info"]
    assert [node.id for node in flow.nodes] == ["intro", "extra", "more"]
    assert flow.nodes[2].text == "Further facts."


def test_a_node_removed_by_theirs_goes_unless_ours_changed_it() -> None:
    removed = replaced(CLEAN_FLOWS, "help.yaml", "    next: referred\n", "    next: main:menu\n")
    removed["help.yaml"] = removed["help.yaml"].split("  - id: referred\n")[0]
    ours = with_flows(replaced(CLEAN_FLOWS, "help.yaml", "What is it about?", "What about?"))
    merged = merge_sources(BASE, ours, with_flows(removed))
    flow = build_registry(merged).flows["help"]
    assert [node.id for node in flow.nodes] == ["ask", "country", "refer"]
    assert flow.nodes[0].text == "What about?"
    changed = with_flows(replaced(CLEAN_FLOWS, "help.yaml", "write to you here", "write soon"))
    assert {c.node for c in conflicts_of(BASE, changed, with_flows(removed))} == {"referred"}


def test_a_new_start_merges_with_node_edits_and_two_starts_conflict() -> None:
    theirs = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "start: intro", "start: more"))
    ours = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Further facts."))
    merged = merge_sources(BASE, ours, theirs)
    assert build_registry(merged).flows["info"].start == "more"
    other = with_flows(
        replaced(
            replaced(CLEAN_FLOWS, "info.yaml", "start: intro", "# moved\nstart: intro"),
            "info.yaml",
            "More facts.",
            "Further facts.",
        )
    )
    assert conflicts_of(BASE, other, theirs) == (
        Conflict(ConflictKind.FLOW_HEADER, "info.yaml", "info"),
    )


def test_comments_above_a_node_travel_with_it() -> None:
    commented = replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "main:menu\n  - id: more\n",
        "main:menu\n  # the end\n  - id: more\n",
    )
    base = with_flows(commented)
    ours = with_flows(replaced(commented, "info.yaml", "Facts for {country}.", "Facts, {country}."))
    theirs = with_flows(replaced(commented, "info.yaml", "# the end", "# the very end"))
    text = merge_sources(base, ours, theirs).flow_files["info.yaml"]
    assert "  # the very end\n  - id: more\n" in text
    assert "Facts, {country}." in text


def test_flow_files_that_cannot_be_cut_by_node_conflict_as_a_whole() -> None:
    inline = {
        **CLEAN_FLOWS,
        "extra.yaml": "id: extra\nstart: one\nnodes: [{id: one, kind: end, unsourced: menu, "
        "text: One.}, {id: two, kind: end, unsourced: menu, text: Two.}]\n",
    }
    base = with_flows(inline)
    ours = with_flows(replaced(inline, "extra.yaml", "One.", "First."))
    theirs = with_flows(replaced(inline, "extra.yaml", "Two.", "Second."))
    assert conflicts_of(base, ours, theirs) == (Conflict(ConflictKind.FLOW_FILE, "extra.yaml"),)


def test_a_flow_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    ours = with_flows({k: v for k, v in CLEAN_FLOWS.items() if k != "info.yaml"})
    theirs = with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "Further facts."))
    assert conflicts_of(BASE, ours, theirs) == (Conflict(ConflictKind.FLOW_FILE, "info.yaml"),)
    added = with_flows({**CLEAN_FLOWS, "new.yaml": "id: new\n"})
    assert merge_sources(BASE, added, BASE).flow_files["new.yaml"] == "id: new\n"


def test_every_conflict_is_listed_at_once() -> None:
    ours = with_po(
        "ug",
        translated({("ug", "main.menu"): "بىر", ("ug", "info.intro.more"): "بىر"}),
        with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "A.")),
    )
    theirs = with_po(
        "ug",
        translated({("ug", "main.menu"): "ئىككى", ("ug", "info.intro.more"): "ئىككى"}),
        with_flows(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "B.")),
    )
    with pytest.raises(MergeConflict) as caught:
        merge_sources(BASE, ours, theirs)
    assert {str(conflict) for conflict in caught.value.conflicts} == {
        "info:more: node",
        "main:menu [ug] main.menu: entry",
        "info:intro [ug] info.intro.more: entry",
    }
    assert str(caught.value).startswith("3 entries changed on both sides")


def test_the_shipped_set_merges_two_coordinators_work() -> None:
    live = read_sources()
    main = live.flow_files["main.yaml"]
    ours = replace(
        live,
        flow_files={
            **live.flow_files,
            "main.yaml": main.replace("Choose a topic below.", "Choose one below.", 1),
        },
    )
    zh = live.po_files["zh_Hans"]
    marker = 'msgstr "'
    first = zh.index('msgctxt "about.intro"')
    position = zh.index(marker, first) + len(marker)
    theirs = replace(
        live, po_files={**live.po_files, "zh_Hans": zh[:position] + "【新】" + zh[position:]}
    )
    merged = merge_sources(live, ours, theirs)
    assert merged.flow_files["main.yaml"] == ours.flow_files["main.yaml"]
    assert merged.po_files["zh_Hans"] == theirs.po_files["zh_Hans"]
    # Now both change the same catalog, different entries: Babel rewrites it, losslessly.
    ug = live.po_files["ug"]
    first = ug.index('msgctxt "about.intro"')
    position = ug.index(marker, first) + len(marker)
    ours_ug = replace(ours, po_files={**ours.po_files, "ug": ug[:position] + "◆" + ug[position:]})
    first = ug.index('msgctxt "main.menu"')
    position = ug.index(marker, first) + len(marker)
    theirs_ug = replace(
        theirs, po_files={**theirs.po_files, "ug": ug[:position] + "◇" + ug[position:]}
    )
    merged = merge_sources(live, ours_ug, theirs_ug)
    text = merged.po_files["ug"]
    assert text.count("◆") == 1
    assert text.count("◇") == 1
    got = parse_po(text, locale="ug", origin="merged").entries
    mine = parse_po(ours_ug.po_files["ug"], locale="ug", origin="ours").entries
    other = parse_po(theirs_ug.po_files["ug"], locale="ug", origin="theirs").entries
    assert set(got) == set(mine)
    for key, entry in got.items():
        source = other if key[0] == "main.menu" else mine
        assert (entry.msgstr, entry.fuzzy) == (source[key].msgstr, source[key].fuzzy), key
    # Only the replayed entry is rewritten; the rest of the file is byte for byte ours.
    changed = set(text.splitlines()) ^ set(ours_ug.po_files["ug"].splitlines())
    assert 0 < len(changed) <= 8
    build_registry(merged)


def _mark(text: str, node_id: str, line: str, mark: str) -> str:
    """``text`` with ``mark`` added to the first ``line`` after node ``node_id`` starts."""
    start = text.index(f"\n  - id: {node_id}\n")
    position = text.index(line, start) + len(line)
    return text[:position] + mark + text[position:]


_SHIPPED = build_registry(read_sources())
_SEVERAL_NODES = sorted(
    f"{flow.id}.yaml" for flow in _SHIPPED.flows.values() if len(flow.nodes) > 1
)


@pytest.mark.parametrize("name", _SEVERAL_NODES)
def test_every_shipped_flow_merges_edits_to_its_first_and_last_node(name: str) -> None:
    live = read_sources()
    text = live.flow_files[name]
    flow = build_registry(live).flows[name.removesuffix(".yaml")]
    first, last = flow.nodes[0], flow.nodes[-1]
    first_line, last_line = first.text.splitlines()[0], last.text.splitlines()[0]
    ours_text = _mark(text, first.id, first_line, " (ours)")
    theirs_text = _mark(text, last.id, last_line, " (theirs)")
    ours = replace(live, flow_files={**live.flow_files, name: ours_text})
    theirs = replace(live, flow_files={**live.flow_files, name: theirs_text})
    merged = merge_sources(live, ours, theirs)
    assert merged.flow_files[name] == _mark(ours_text, last.id, last_line, " (theirs)")
    nodes = build_registry(merged).flows[flow.id].nodes
    assert " (ours)" in nodes[0].text
    assert " (theirs)" in nodes[-1].text
