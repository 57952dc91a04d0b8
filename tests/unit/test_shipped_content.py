"""The shipped flows and catalogs: complete, checked, reachable, and in proper script."""

from __future__ import annotations

import re

import pytest

from flows.catalog import Catalog
from flows.facts import SOURCES_FILE, load_sources
from flows.inspect import inspect, taps_from_menu
from flows.model import PLACEHOLDER, EndNode, HandoffNode, MessageNode
from flows.registry import Registry, build_registry, read_sources
from flows.values import VALUE_NAMES

MAX_TAPS = 6
"""No screen is further than this from the main menu."""
MAX_ENGLISH_SCREEN = 700
"""Screens are read on a phone by a frightened person: short, in the source language."""
HELP_FLOWS = (
    "red_notices",
    "ccf_access",
    "challenge",
    "detained",
    "travel",
    "family",
    "asylum",
    "digital_safety",
    "approached",
    "help",
    "about",
)
# Characters that differ between the scripts; one in the wrong catalog means a
# missed conversion. Not exhaustive: common words of this bot's texts.
SIMPLIFIED_ONLY = "这们时为国说会对发关应该让认请护难务报证据帮问题联经过还进给总么别处从绝"
TRADITIONAL_ONLY = "這們時為國說會對發關應該讓認請護難務報證據幫問題聯經過還進給總麼別處從絕"
# Arabic and Persian letters that look like Uyghur ones, and non-Western digits.
UYGHUR_LOOKALIKES = {
    "\u0647": "ه (Arabic heh; Uyghur uses ھ U+06BE or ە U+06D5)",
    "\u06cc": "ی (Farsi yeh; Uyghur uses ي or ى)",
    "\u06a9": "ک (keheh; Uyghur uses ك U+0643)",
    "\u0629": "ة (teh marbuta)",
    **{chr(c): "Arabic-Indic digit" for c in range(0x0660, 0x066A)},
    **{chr(c): "Persian digit" for c in range(0x06F0, 0x06FA)},
}


@pytest.fixture(scope="module")
def shipped() -> Registry:
    return build_registry(read_sources())


def _translations(catalog: Catalog) -> list[str]:
    return [text for entry in catalog.entries.values() for text in entry.msgstr if text]


def test_the_shipped_set_has_no_issues_at_all() -> None:
    # Against the project's own copy of the sources: runs in a bare checkout too.
    sources = read_sources()
    issues = inspect(build_registry(sources), facts=load_sources(SOURCES_FILE))
    assert [str(issue) for issue in issues] == []


def test_every_help_flow_exists_and_is_on_the_menu(shipped: Registry) -> None:
    menu = shipped.node("main", "menu")
    assert isinstance(menu, MessageNode)
    targets = {option.goto for option in menu.options}
    for flow in HELP_FLOWS:
        assert f"{flow}:intro" in targets, flow
    assert "volunteer:intro" in targets


def test_every_node_is_within_a_few_taps_of_the_menu(shipped: Registry) -> None:
    distances = taps_from_menu(dict(shipped.flows))
    everything = {(flow.id, node.id) for flow in shipped.flows.values() for node in flow.nodes}
    assert everything <= set(distances), everything - set(distances)
    assert max(distances.values()) <= MAX_TAPS


def test_a_detained_member_reaches_a_volunteer_in_two_taps(shipped: Registry) -> None:
    distances = taps_from_menu(dict(shipped.flows))
    assert distances[("detained", "intro")] == 1
    detained = shipped.node("detained", "intro")
    assert isinstance(detained, MessageNode)
    # The first button, where a thumb lands first, asks for a volunteer, urgently.
    assert detained.options[0].goto == "volunteer:urgent"
    menu = shipped.node("main", "menu")
    assert isinstance(menu, MessageNode)
    assert menu.options[0].goto == "detained:intro"
    urgent = shipped.node("volunteer", "urgent")
    assert isinstance(urgent, HandoffNode)
    assert urgent.presets == {"topic": "detained", "urgency": "detained", "language": "member"}


@pytest.mark.parametrize("flow_id", HELP_FLOWS)
def test_every_flow_ends_with_next_steps_and_a_volunteer(shipped: Registry, flow_id: str) -> None:
    flow = shipped.flows[flow_id]
    ends = [node for node in flow.nodes if isinstance(node, EndNode)]
    assert ends, "every flow ends somewhere"
    for node in ends:
        targets = {option.goto for option in node.options}
        assert targets & {"volunteer:intro", "volunteer:urgent"}, node.id
    english = "\n".join(node.text for node in flow.nodes)
    assert "not legal advice" in english


def _widest(text: str) -> str:
    """The text as shown with the longest values the settings allow (RETENTION_DAYS ≤ 3650)."""
    return PLACEHOLDER.sub(lambda m: "3650" if m.group(1) in VALUE_NAMES else m.group(0), text)


def test_english_screens_stay_short(shipped: Registry) -> None:
    long_ones = [
        f"{flow.id}/{node.id}: {len(_widest(node.text))}"
        for flow in shipped.flows.values()
        for node in flow.nodes
        if len(_widest(node.text)) > MAX_ENGLISH_SCREEN
    ]
    assert long_ones == []


@pytest.mark.parametrize("flow_id", [flow for flow in HELP_FLOWS if flow not in ("help", "about")])
def test_every_flow_s_next_steps_lead_to_where_to_get_help(shipped: Registry, flow_id: str) -> None:
    ends = [node for node in shipped.flows[flow_id].nodes if isinstance(node, EndNode)]
    for node in ends:
        assert "help:intro" in {option.goto for option in node.options}, node.id
    menu = shipped.node("main", "menu")
    assert isinstance(menu, MessageNode)
    assert "help:intro" in {option.goto for option in menu.options}


def test_the_detained_screen_itself_gives_the_first_three_actions(shipped: Registry) -> None:
    intro = shipped.node("detained", "intro")
    assert isinstance(intro, MessageNode)
    for step in ("1. ", "2. ", "3. "):
        assert step in intro.text
    for action in ("asylum", "torture", "lawyer", "interpreter", "Sign nothing", "/wipe"):
        assert action in intro.text
    # A frightened reader understands "being handed over"; "surrender" alone is jargon.
    labels = [option.label for option in intro.options]
    assert "Papers and surrender" not in labels


def test_retention_is_stated_through_the_setting_never_as_a_number(shipped: Registry) -> None:
    texts = [node.text for flow in shipped.flows.values() for node in flow.nodes]
    stating = [text for text in texts if "{retention_days}" in text]
    assert len(stating) >= 2  # the consent screen and "What is stored about me?"
    assert not [text for text in texts if re.search(r"\b30 days\b", text)]


def test_uyghur_uses_uyghur_letters(shipped: Registry) -> None:
    found = {
        f"{name} in {text[:30]!r}"
        for text in _translations(shipped.catalogs["ug"])
        for char, name in UYGHUR_LOOKALIKES.items()
        if char in text
    }
    assert found == set()


def test_chinese_catalogs_keep_to_their_script(shipped: Registry) -> None:
    simplified = "".join(_translations(shipped.catalogs["zh_Hans"]))
    traditional = "".join(_translations(shipped.catalogs["zh_Hant"]))
    assert {c for c in TRADITIONAL_ONLY if c in simplified} == set()
    assert {c for c in SIMPLIFIED_ONLY if c in traditional} == set()
