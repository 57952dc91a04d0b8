"""The flow map: DOT text from a registry, Graphviz around it, and the command."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from flows.__main__ import main
from flows.graph import (
    INSTALL_HINT,
    GraphvizFailed,
    GraphvizMissing,
    ImageFormat,
    flow_graph_dot,
    guess_format,
    registry_graph_dot,
    render,
)
from flows.inspect import load_registry
from flows.pending import PendingReason, pending_nodes, pending_texts
from flows.registry import Registry, build_registry
from tests.unit.flow_samples import CLEAN_FLOWS, PoEntry, make_sources, replaced, write_tree

_STATEMENT = re.compile(r'^\s*("(?:[^"\\]|\\.)*")(?: -> ("(?:[^"\\]|\\.)*"))? \[(.*)\];$')
_ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)')


def _unquote(text: str) -> str:
    return text[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """Node and edge statements of our own DOT output (not a general DOT parser)."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    for line in text.splitlines():
        match = _STATEMENT.match(line)
        if match is None:
            continue
        attributes = {
            name: _unquote(value) if value.startswith('"') else value
            for name, value in _ATTRIBUTE.findall(match[3])
        }
        if match[2] is None:
            nodes[_unquote(match[1])] = attributes
        else:
            edges.append((_unquote(match[1]), _unquote(match[2]), attributes))
    return nodes, edges


def _fuzzy_and_missing(locale: str, entries: list[PoEntry]) -> None:
    if locale != "ug":
        return
    for entry in entries:
        if entry.context == "main.menu":
            entry.fuzzy = True
    entries[:] = [entry for entry in entries if entry.context != "help.refer.consent"]


@pytest.fixture
def registry() -> Registry:
    return build_registry(make_sources(edit=_fuzzy_and_missing))


def test_each_node_is_drawn_by_its_kind(registry: Registry) -> None:
    nodes, _ = parse_dot(registry_graph_dot(registry))
    flow_nodes = {name: attributes for name, attributes in nodes.items() if ":" in name}
    assert set(flow_nodes) == {
        "main:menu",
        "info:intro",
        "info:more",
        "help:ask",
        "help:country",
        "help:refer",
        "help:referred",
    }
    assert nodes["main:menu"]["shape"] == "box"
    assert "rounded" in nodes["main:menu"]["style"]
    assert "diagonals" in nodes["help:ask"]["style"]
    assert nodes["help:refer"]["shape"] == "doubleoctagon"
    assert nodes["help:referred"]["peripheries"] == "2"
    assert nodes["info:more"]["peripheries"] == "2"
    # Handoffs and ends look different from each other and from every other kind.
    looks = {
        name: (attributes["shape"], attributes["style"], attributes.get("peripheries"))
        for name, attributes in flow_nodes.items()
    }
    assert (
        len({looks["main:menu"], looks["help:ask"], looks["help:refer"], looks["info:more"]}) == 4
    )
    assert nodes["main:menu"]["label"].startswith(
        "menu  (message, start, main menu)\nChoose a topic."
    )
    assert nodes["help:refer"]["label"] == "refer  (handoff)\nMay we refer you to a volunteer?"


def test_buttons_are_labelled_arrows_and_other_flows_stand_out(registry: Registry) -> None:
    _, edges = parse_dot(registry_graph_dot(registry))
    by_pair = {(source, target): attributes for source, target, attributes in edges}
    assert by_pair[("main:menu", "info:intro")]["label"] == "Information"
    assert by_pair[("main:menu", "help:ask")]["label"] == "Get help"
    assert by_pair[("info:intro", "info:more")]["label"] == "More"
    assert by_pair[("help:ask", "help:country")]["label"] == "A notice"
    assert by_pair[("help:country", "help:refer")]["label"] == "(typed answer)"
    consent = by_pair[("help:refer", "help:referred")]
    decline = by_pair[("help:refer", "main:menu")]
    assert (consent["label"], consent["style"]) == ("Yes, refer me", "bold")
    assert (decline["label"], decline["style"]) == ("No, thanks", "dashed")
    same_flow = by_pair[("info:intro", "info:more")]
    cross_flow = by_pair[("main:menu", "info:intro")]
    assert "color" not in same_flow
    assert cross_flow["color"] != consent["color"]
    # Arrows back to the menu do not drag the layout around.
    assert by_pair[("info:intro", "main:menu")]["constraint"] == "false"
    assert by_pair[("help:refer", "main:menu")]["constraint"] == "false"


def test_choices_to_one_place_share_an_arrow() -> None:
    flows = replaced(
        CLEAN_FLOWS,
        "help.yaml",
        "      - id: notice\n        label: A notice\n",
        "      - id: notice\n        label: A notice\n      - id: other\n        label: Other\n",
    )
    _, edges = parse_dot(registry_graph_dot(build_registry(make_sources(flows))))
    arrows = [attributes for source, target, attributes in edges if source == "help:ask"]
    assert [arrow["label"] for arrow in arrows] == ["A notice\nOther"]


def test_pending_translations_are_marked_for_the_chosen_locale(registry: Registry) -> None:
    nodes, _ = parse_dot(registry_graph_dot(registry, "ug"))
    marked = {
        name
        for name, attributes in nodes.items()
        if "translation pending" in attributes.get("label", "") and ":" in name
    }
    assert marked == {"main:menu", "help:refer"}
    assert nodes["main:menu"]["label"].endswith("translation pending: 1")
    assert "dashed" in nodes["main:menu"]["style"]
    assert nodes["main:menu"]["color"] != nodes["info:intro"]["color"]
    assert "legend pending" in nodes
    text = registry_graph_dot(registry, "ug")
    assert "translation pending in ug: 2 texts on 2 screens" in text.replace("\\n", "\n")


@pytest.mark.parametrize("locale", [None, "en", "zh_Hans"])
def test_nothing_is_marked_where_nothing_is_pending(registry: Registry, locale: str | None) -> None:
    nodes, _ = parse_dot(registry_graph_dot(registry, locale))
    assert not any(
        "translation pending" in attributes["label"]
        for name, attributes in nodes.items()
        if ":" in name
    )


def test_a_locale_without_a_catalog_is_pending_everywhere(registry: Registry) -> None:
    nodes, _ = parse_dot(registry_graph_dot(registry, "tr"))
    flow_nodes = [attributes for name, attributes in nodes.items() if ":" in name]
    assert all("translation pending" in attributes["label"] for attributes in flow_nodes)


def test_pending_texts_say_why() -> None:
    registry = build_registry(make_sources(edit=_fuzzy_and_missing))
    pending = pending_texts(registry.flows.values(), registry.catalogs["ug"])
    assert {(text.context, text.reason) for text in pending} == {
        ("main.menu", PendingReason.FUZZY),
        ("help.refer.consent", PendingReason.MISSING),
    }
    assert pending_nodes(pending) == {("main", "menu"): 1, ("help", "refer"): 1}
    assert pending_texts(registry.flows.values(), registry.catalogs["zh_Hans"]) == ()
    everything = pending_texts(registry.flows.values(), None)
    assert all(text.reason is PendingReason.MISSING for text in everything)


def test_unresolved_targets_are_drawn_as_missing() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "goto: more", "goto: gone:away")
    nodes, edges = parse_dot(registry_graph_dot(build_registry(make_sources(flows))))
    assert nodes["gone:away"]["label"] == "missing\ngone:away"
    assert nodes["gone:away"]["style"] == "dashed"
    assert ("info:intro", "gone:away") in {(source, target) for source, target, _ in edges}


def test_texts_cannot_break_out_of_their_quotes() -> None:
    flows = replaced(
        CLEAN_FLOWS, "info.yaml", "text: More facts.", 'text: "Say \\"hi\\" \\\\ then ]; x -> y"'
    )
    text = registry_graph_dot(build_registry(make_sources(flows)))
    nodes, _ = parse_dot(text)
    assert nodes["info:more"]["label"].endswith('Say "hi" \\ then ]; x -> y')
    assert '"x' not in text


def test_long_texts_are_cut_short() -> None:
    flows = replaced(CLEAN_FLOWS, "info.yaml", "text: More facts.", "text: " + "word " * 40)
    nodes, _ = parse_dot(registry_graph_dot(build_registry(make_sources(flows))))
    preview = nodes["info:more"]["label"].split("\n")[1]
    assert len(preview) <= 48
    assert preview.endswith("…")


def test_the_picture_is_stable(registry: Registry) -> None:
    assert registry_graph_dot(registry, "ug") == registry_graph_dot(registry, "ug")
    assert flow_graph_dot(registry.flows).startswith("digraph flows {\n")


def test_format_follows_the_file_name() -> None:
    assert guess_format("map.png") is ImageFormat.PNG
    assert guess_format("map.SVG") is ImageFormat.SVG
    assert guess_format("map.gv") is ImageFormat.DOT
    assert guess_format("map") is ImageFormat.SVG


def test_without_dot_the_error_says_how_to_get_it() -> None:
    with pytest.raises(GraphvizMissing) as caught:
        render("digraph {}", ImageFormat.SVG, command="yardem-no-such-dot")
    assert INSTALL_HINT in str(caught.value)
    assert INSTALL_HINT == "apt-get install graphviz"


def test_the_dot_format_needs_no_graphviz() -> None:
    assert render("digraph {}\n", ImageFormat.DOT, command="yardem-no-such-dot") == b"digraph {}\n"


def test_the_command_without_dot_says_how_to_get_it_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere on it
    output = tmp_path / "map.svg"
    assert main(["graph", "-o", str(output)]) == 3
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert not output.exists()


def test_the_command_writes_dot_text_and_refuses_unknown_locales(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definitions, locales = write_tree(tmp_path / "set", make_sources(edit=_fuzzy_and_missing))
    output = tmp_path / "map.dot"
    common = ["--flows", str(definitions), "--locales", str(locales)]
    assert main(["graph", "-o", str(output), "--locale", "ug", *common]) == 0
    nodes, _ = parse_dot(output.read_text(encoding="utf-8"))
    assert "translation pending" in nodes["main:menu"]["label"]
    assert main(["graph", "-o", str(tmp_path / "x.dot"), "--locale", "tr", *common]) == 2
    assert "no catalog for locale 'tr'" in capsys.readouterr().err
    assert not (tmp_path / "x.dot").exists()


def _require_dot() -> None:
    if shutil.which("dot") is None:
        if os.environ.get("YARDEM_REQUIRE_DOT") == "1":
            pytest.fail(f"YARDEM_REQUIRE_DOT=1 but Graphviz is missing: {INSTALL_HINT}")
        pytest.skip(f"Graphviz not installed ({INSTALL_HINT}); CI sets YARDEM_REQUIRE_DOT=1")


def test_the_shipped_flows_render_to_svg(tmp_path: Path) -> None:
    _require_dot()
    registry = load_registry()
    svg = render(registry_graph_dot(registry, "ug"), ImageFormat.SVG).decode("utf-8")
    assert svg.lstrip().startswith("<?xml")
    assert "</svg>" in svg
    for flow_id in registry.flows:
        assert f"flow {flow_id}" in svg
    output = tmp_path / "map.svg"
    assert main(["graph", "-o", str(output), "--locale", "zh_Hans"]) == 0
    assert output.read_bytes().rstrip().endswith(b"</svg>")


def test_the_sample_renders_to_png(registry: Registry) -> None:
    _require_dot()
    dot_text = registry_graph_dot(registry, "ug")
    image = render(dot_text, ImageFormat.PNG)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    small = render(dot_text, ImageFormat.PNG, dpi=48)

    def width(png: bytes) -> int:
        return int.from_bytes(png[16:20], "big")

    assert width(small) * 2 == pytest.approx(width(image), abs=4)


def test_dot_refusing_its_input_is_an_error() -> None:
    _require_dot()
    with pytest.raises(GraphvizFailed):
        render("digraph { this is not dot", ImageFormat.SVG)
