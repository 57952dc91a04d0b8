"""The change summary a coordinator sees before publishing a draft."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from flows.changes import ButtonMove, ButtonRef, NodeRef, StartMove, TextRef, summarize_changes
from flows.pending import PendingReason
from flows.registry import build_registry, read_sources
from tests.unit.flow_samples import (
    BOT_MESSAGES,
    CLEAN_FLOWS,
    PoEntry,
    make_sources,
    replaced,
)

LIVE = make_sources()


def _translate(
    context: str, text: str, *, locale: str = "ug", fuzzy: bool = False
) -> Callable[[str, list[PoEntry]], None]:
    def edit(this: str, entries: list[PoEntry]) -> None:
        if this != locale:
            return
        for entry in entries:
            if entry.context == context:
                entry.msgstr = text
                entry.fuzzy = fuzzy

    return edit


def test_the_same_set_changes_nothing() -> None:
    summary = summarize_changes(LIVE, make_sources())
    assert summary.empty
    assert not summary.layout_changed
    assert summary.english_lines() == ["no changes"]
    assert set(summary.texts) == {"en", "zh_Hans", "zh_Hant", "ug"}
    assert all(changes.pending == 0 for changes in summary.texts.values())


def test_an_english_fix_leaves_buttons_working_and_makes_translations_pending() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: Even more facts.")
    draft = replace(LIVE, flow_files=flows)  # the catalogs still translate the old English
    summary = summarize_changes(LIVE, draft)
    assert summary.texts["en"].changed == (TextRef("info.more", "Even more facts."),)
    assert not summary.layout_changed
    for locale in ("zh_Hans", "zh_Hant", "ug"):
        changes = summary.texts[locale]
        assert changes.changed == ()
        assert [(t.context, t.msgid, t.reason) for t in changes.became_pending] == [
            ("info.more", "Even more facts.", PendingReason.MISSING)
        ]
        assert (changes.became_pending[0].flow, changes.became_pending[0].node) == ("info", "more")
        assert changes.pending == 1
    assert not summary.nodes_added
    assert not summary.buttons_moved
    assert summary.english_lines()[0] == "en: 1 texts changed"
    assert "ug: 1 became pending" in summary.english_lines()


def test_a_translation_change_counts_in_its_locale_only() -> None:
    draft = make_sources(edit=_translate("info.intro", "ئۇچۇر {country}"))
    summary = summarize_changes(LIVE, draft)
    assert summary.texts["ug"].changed == (TextRef("info.intro", "Facts for {country}."),)
    assert summary.texts["zh_Hans"].changed == ()
    assert summary.texts["en"].changed == ()
    assert summary.texts["ug"].became_pending == ()
    assert not summary.layout_changed
    assert not summary.empty


def test_a_fuzzy_flag_makes_a_translation_pending_and_clearing_it_resolves_it() -> None:
    fuzzy = make_sources(edit=_translate("main.menu", "Choose a topic.", fuzzy=True))
    summary = summarize_changes(LIVE, fuzzy)
    assert [(t.context, t.reason) for t in summary.texts["ug"].became_pending] == [
        ("main.menu", PendingReason.FUZZY)
    ]
    assert summary.texts["ug"].changed == (TextRef("main.menu", "Choose a topic."),)
    back = summarize_changes(fuzzy, LIVE)
    assert back.texts["ug"].resolved == (TextRef("main.menu", "Choose a topic."),)
    assert back.texts["ug"].became_pending == ()
    assert back.texts["ug"].pending == 0


def test_a_moved_button_changes_the_layout() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "goto: more", "goto: help:ask")
    summary = summarize_changes(LIVE, make_sources(flows))
    assert summary.buttons_moved == (ButtonMove("info", "intro", "more", "info:more", "help:ask"),)
    assert summary.layout_changed
    assert summary.layout_before == summary.as_dict()["layout_before"]
    assert "members' open screens will say the menu has changed" in summary.english_lines()


def test_added_and_removed_screens_and_buttons() -> None:
    added = replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "      - id: menu\n        label: Back to the menu\n",
        "      - id: extra\n        label: Extra\n        goto: extra\n"
        "      - id: menu\n        label: Back to the menu\n",
    )
    added["info.yaml"] += (
        "  - id: extra\n    kind: end\n    unsourced: menu\n    text: Extra facts.\n"
        "    options:\n      - id: back\n        label: Back\n        goto: intro\n"
    )
    # The catalogs are the live ones: nobody has translated the new screen yet.
    summary = summarize_changes(LIVE, replace(LIVE, flow_files=added))
    assert summary.nodes_added == (NodeRef("info", "extra"),)
    # The new screen's own buttons come with it; only the way in is a new button.
    assert summary.buttons_added == (ButtonRef("info", "intro", "extra", "info:extra"),)
    assert summary.layout_changed
    # New texts are not "changed" English; they are untranslated in every locale.
    assert summary.texts["en"].changed == ()
    assert {t.context for t in summary.texts["ug"].became_pending} == {
        "info.extra",
        "info.extra.back",
        "info.intro.extra",
    }
    removed = summarize_changes(replace(LIVE, flow_files=added), LIVE)
    assert removed.nodes_removed == (NodeRef("info", "extra"),)
    assert removed.buttons_removed == (ButtonRef("info", "intro", "extra", "info:extra"),)
    assert removed.texts["ug"].resolved == ()  # a removed text is not "translated"
    assert removed.texts["ug"].became_pending == ()


def test_a_screen_that_changes_kind() -> None:
    flows = replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "    kind: end\n    sources:\n      - https://example.org/facts\n    text: More facts.\n",
        "    kind: message\n    sources:\n      - https://example.org/facts\n"
        "    text: More facts.\n    options:\n"
        "      - id: menu\n        label: Menu\n        goto: main:menu\n",
    )
    summary = summarize_changes(LIVE, make_sources(flows))
    assert summary.nodes_retyped == (NodeRef("info", "more"),)
    assert summary.buttons_added == (ButtonRef("info", "more", "menu", "main:menu"),)


def test_flows_added_and_removed_and_a_moved_start() -> None:
    extra = {
        **CLEAN_FLOWS,
        "extra.yaml": "id: extra\nstart: one\nnodes:\n"
        "  - id: one\n    kind: end\n    unsourced: menu\n    text: One.\n",
    }
    summary = summarize_changes(LIVE, make_sources(extra))
    assert summary.flows_added == ("extra",)
    assert summary.nodes_added == ()  # its screens come with the flow
    assert summarize_changes(make_sources(extra), LIVE).flows_removed == ("extra",)
    restarted = replaced(CLEAN_FLOWS, "info.yaml", "start: intro", "start: more")
    moved = summarize_changes(LIVE, make_sources(restarted))
    assert moved.starts_moved == (StartMove("info", "intro", "more"),)
    assert moved.layout_changed


def test_a_new_locale_counts_what_is_translated_not_what_is_pending() -> None:
    def partial(locale: str, entries: list[PoEntry]) -> None:
        if locale == "tr":
            entries[:] = [entry for entry in entries if entry.context == "main.menu"]

    draft = make_sources(locales=("zh_Hans", "zh_Hant", "ug", "tr"), edit=partial)
    summary = summarize_changes(LIVE, draft)
    assert summary.locales_added == ("tr",)
    tr = summary.texts["tr"]
    assert tr.resolved == (TextRef("main.menu", "Choose a topic."),)
    assert tr.became_pending == ()
    assert tr.pending + len(tr.resolved) == 16  # 14 flow texts, 2 program messages
    assert summary.english_lines()[-1] == "1 languages added"


def test_program_messages_from_the_template_can_become_pending() -> None:
    def drop(locale: str, entries: list[PoEntry]) -> None:
        if locale == "zh_Hant":
            entries[:] = [entry for entry in entries if entry.msgid != BOT_MESSAGES[1]]

    summary = summarize_changes(LIVE, make_sources(edit=drop))
    changes = summary.texts["zh_Hant"]
    assert changes.changed == (TextRef(None, BOT_MESSAGES[1]),)
    assert [(t.context, t.msgid, t.flow) for t in changes.became_pending] == [
        (None, BOT_MESSAGES[1], None)
    ]


def test_the_summary_stores_as_json() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "goto: more", "goto: help:ask")
    flows = replaced(flows, "main.yaml", "text: Choose a topic.", "text: Pick a topic.")
    summary = summarize_changes(LIVE, make_sources(flows))
    data = json.loads(json.dumps(summary.as_dict()))
    assert data["buttons_moved"] == ["info:intro.more: info:more -> help:ask"]
    assert data["texts"]["en"]["changed"] == ["main.menu"]
    assert data["layout_changed"] is True


def test_the_shipped_set_against_itself_and_one_edit() -> None:
    live = read_sources()
    assert summarize_changes(live, live).empty
    name = "main.yaml"
    edited = live.flow_files[name].replace("Choose a topic below.", "Choose one below.", 1)
    assert edited != live.flow_files[name]
    summary = summarize_changes(live, replace(live, flow_files={**live.flow_files, name: edited}))
    assert [ref.context for ref in summary.texts["en"].changed] == ["main.menu"]
    assert not summary.layout_changed
    assert [t.context for t in summary.texts["ug"].became_pending] == ["main.menu"]


def test_registries_already_built_give_the_same_summary() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "goto: more", "goto: help:ask")
    draft = make_sources(flows, edit=_translate("main.menu", "x", fuzzy=True))
    fresh = summarize_changes(LIVE, draft)
    reused = summarize_changes(
        LIVE, draft, live_registry=build_registry(LIVE), draft_registry=build_registry(draft)
    )
    assert reused == fresh
    assert reused.buttons_moved
    assert reused.texts["ug"].became_pending
