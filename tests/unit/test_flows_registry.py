"""Loading a registry: a bad set is refused with the reason; versions track the files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import flows.catalog
from flows.changes import summarize_changes
from flows.errors import DefinitionError, RegistryError
from flows.inspect import check_set, load_registry
from flows.loader import parse_flow, parse_flows
from flows.model import NodeKind, QuestionNode, Validator
from flows.registry import (
    RegistrySources,
    build_registry,
    read_sources,
    version_of,
)
from tests.unit.flow_samples import (
    CLEAN_FLOWS,
    INFO_YAML,
    PoEntry,
    make_sources,
    replaced,
    write_tree,
)

# load_registry -----------------------------------------------------------------


def test_clean_set_loads(tmp_path: Path) -> None:
    sources = make_sources()
    definitions, locales = write_tree(tmp_path, sources)
    registry = load_registry(definitions, locales)
    assert set(registry.flows) == {"main", "info", "help"}
    assert set(registry.catalogs) == {"zh_Hans", "zh_Hant", "ug"}
    assert registry.version == version_of(read_sources(definitions, locales))
    assert registry.node("help", "country") is not None
    assert registry.node("help", "nowhere") is None
    assert registry.node("nowhere", "ask") is None


def test_broken_set_is_refused_with_every_problem(tmp_path: Path) -> None:
    files = replaced(CLEAN_FLOWS, "info.yaml", "goto: main:menu", "goto: main:gone")

    def untranslate(locale: str, entries: list[PoEntry]) -> None:
        if locale == "ug":
            [entry] = [e for e in entries if e.context == "help.ask"]
            entry.msgstr = ""

    definitions, locales = write_tree(tmp_path, make_sources(files, edit=untranslate))
    with pytest.raises(RegistryError) as caught:
        load_registry(definitions, locales)
    problems = caught.value.problems
    assert len(problems) == 2
    assert any("info/intro: unresolved-target" in problem for problem in problems)
    assert any("help/ask [ug]: untranslated" in problem for problem in problems)
    message = str(caught.value)
    assert message.startswith("2 problems in")
    assert message.endswith(f"first: {problems[0]}")


def test_missing_catalog_is_refused(tmp_path: Path) -> None:
    definitions, locales = write_tree(tmp_path, make_sources(locales=("zh_Hans", "zh_Hant")))
    with pytest.raises(RegistryError, match=r"missing-catalog") as caught:
        load_registry(definitions, locales)
    assert caught.value.problems == (
        "locales/ug/LC_MESSAGES/messages.po: catalog [ug]: missing-catalog: "
        "no messages.po for this locale",
    )


def test_unreadable_flow_is_refused_naming_the_file(tmp_path: Path) -> None:
    definitions, locales = write_tree(tmp_path, make_sources())
    (definitions / "info.yaml").write_text(INFO_YAML + "  - [unbalanced\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"^info\.yaml: not valid YAML") as caught:
        load_registry(definitions, locales)
    assert caught.value.problems == (str(caught.value),)


def test_unreadable_catalog_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    definitions, locales = write_tree(tmp_path, make_sources())
    po = locales / "zh_Hant" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8") + "\nmsgid unquoted\n", encoding="utf-8")
    lines = po.read_text(encoding="utf-8").count("\n")
    with pytest.raises(
        RegistryError, match=rf"^locales/zh_Hant/LC_MESSAGES/messages\.po:{lines}: "
    ):
        load_registry(definitions, locales)


def test_missing_definitions_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="flow directory not found"):
        load_registry(tmp_path / "absent", tmp_path)


# one parse per load -------------------------------------------------------------


@dataclass
class Parses:
    flows: int = 0
    catalogs: int = 0


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Parses:
    """Counts the YAML and PO parses that go on, each still done by the real parser."""
    counted = Parses()
    safe_load, check_lines = yaml.safe_load, flows.catalog._check_lines

    def counting_safe_load(stream: Any) -> Any:
        counted.flows += 1
        return safe_load(stream)

    def counting_check_lines(lines: list[str], origin: str) -> Any:
        counted.catalogs += 1
        return check_lines(lines, origin)

    monkeypatch.setattr(yaml, "safe_load", counting_safe_load)
    monkeypatch.setattr(flows.catalog, "_check_lines", counting_check_lines)
    return counted


SET = make_sources()  # parsed once here, to make the catalogs, before anything is counted


def test_checking_a_set_parses_each_file_once(parses: Parses) -> None:
    sources = SET
    checked = check_set(sources, live_desk=True)
    assert checked.registry.flow_by_file.keys() == sources.flow_files.keys()
    assert checked.registry.template is not None
    assert parses.flows == len(sources.flow_files)
    assert parses.catalogs == len(sources.po_files) + 1  # the catalogs and the template


def test_loading_a_set_parses_each_file_once(tmp_path: Path, parses: Parses) -> None:
    sources = SET
    definitions, locales = write_tree(tmp_path, sources)
    load_registry(definitions, locales)
    assert parses.flows == len(sources.flow_files)
    assert parses.catalogs == len(sources.po_files) + 1


def test_summarizing_built_sets_parses_nothing(parses: Parses) -> None:
    live = SET
    draft = make_sources(replaced(CLEAN_FLOWS, "info.yaml", "More facts.", "More facts!"))
    live_registry, draft_registry = build_registry(live), build_registry(draft)
    before = (parses.flows, parses.catalogs)
    summary = summarize_changes(
        live, draft, live_registry=live_registry, draft_registry=draft_registry
    )
    assert summary.texts["en"].changed
    assert (parses.flows, parses.catalogs) == before


def test_two_files_with_one_id_both_reach_the_checks() -> None:
    files = {**CLEAN_FLOWS, "copy.yaml": CLEAN_FLOWS["info.yaml"]}
    registry = build_registry(make_sources(files))
    assert registry.flow_by_file["copy.yaml"].id == registry.flow_by_file["info.yaml"].id
    assert list(registry.flows) == [flow.id for flow in parse_flows(CLEAN_FLOWS)]


# version_of ------------------------------------------------------------------


BASE = make_sources()


def _with(
    flow_files: dict[str, str] | None = None, po_files: dict[str, str] | None = None
) -> RegistrySources:
    return RegistrySources(
        flow_files if flow_files is not None else dict(BASE.flow_files),
        po_files if po_files is not None else dict(BASE.po_files),
        BASE.template,
    )


def test_version_is_stable() -> None:
    again = make_sources()
    assert version_of(again) == version_of(BASE)
    reordered = _with(
        dict(reversed(list(BASE.flow_files.items()))),
        dict(reversed(list(BASE.po_files.items()))),
    )
    assert version_of(reordered) == version_of(BASE)
    assert re.fullmatch(r"[0-9a-f]{6}", version_of(BASE))
    assert build_registry(BASE).version == version_of(BASE)


def test_version_changes_with_any_file() -> None:
    base = version_of(BASE)
    flows = dict(BASE.flow_files)
    pos = dict(BASE.po_files)
    changed = [
        _with({**flows, "info.yaml": flows["info.yaml"] + "\n"}),
        _with({**flows, "main.yaml": flows["main.yaml"].replace("Get help", "Get Help")}),
        _with({**flows, "extra.yaml": "id: extra\n"}),
        _with({k: v for k, v in flows.items() if k != "help.yaml"}),
        _with({("renamed.yaml" if k == "help.yaml" else k): v for k, v in flows.items()}),
        _with(po_files={**pos, "ug": pos["ug"].replace("More facts.", "More facts!")}),
        _with(po_files={**pos, "zh_Hans": pos["zh_Hans"] + "\n"}),
        _with(po_files={k: v for k, v in pos.items() if k != "zh_Hant"}),
    ]
    versions = [version_of(sources) for sources in changed]
    assert base not in versions
    assert len(set(versions)) == len(versions)


def test_shipped_sources_version_is_reproducible() -> None:
    assert version_of(read_sources()) == version_of(read_sources())


# parse_flow --------------------------------------------------------------------

VALID = """\
id: demo
start: ask
nodes:
  - id: ask
    kind: question
    unsourced: menu
    text: Which country?
    answer: country
    free_text:
      validator: country_code
    next: ask
"""


def test_parse_flow_reads_a_valid_flow() -> None:
    flow = parse_flow(VALID, origin="demo.yaml")
    [node] = flow.nodes
    assert isinstance(node, QuestionNode)
    assert node.kind is NodeKind.QUESTION
    assert node.free_text is not None
    assert node.free_text.validator is Validator.COUNTRY_CODE
    assert node.free_text.max_length == 64


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("id: demo\nnodes: [unclosed\n", "not valid YAML"),
        ("id: demo\n  start: x\n bad: indent\n", "not valid YAML"),
        ("- id: demo\n- start: ask\n", "must be a mapping"),
        ("just a string\n", "must be a mapping"),
        ("", "must be a mapping"),
        (VALID + "colour: red\n", "colour: Extra inputs are not permitted"),
        (
            VALID.replace("    answer: country\n", "    answer: country\n    hint: x\n"),
            "nodes.0.question.hint: Extra",
        ),
        (VALID.replace("id: demo", "id: Demo"), "id: String should match pattern"),
        (VALID.replace("id: demo", "id: 1demo"), "id: String should match pattern"),
        (VALID.replace("  - id: ask", "  - id: ask-me"), "nodes.0.question.id: String"),
        (VALID.replace("next: ask", "next: other flow"), "nodes.0.question.next: String"),
        (
            VALID.replace("kind: question", "kind: quiz"),
            "nodes.0: kind 'quiz' is not a node kind; use one of: message, question, handoff, end",
        ),
        (VALID.replace("start: ask\n", ""), "start: Field required"),
        (VALID.replace("    text: Which country?\n", ""), "nodes.0.question.text: Field required"),
        (
            VALID.replace(
                "    free_text:", "    choices:\n      - id: de\n        label: DE\n    free_text:"
            ),
            "either choices or free_text",
        ),
        (
            VALID.replace("    free_text:\n      validator: country_code\n", ""),
            "either choices or free_text",
        ),
        (
            VALID.replace("validator: country_code", "validator: email"),
            "free_text.validator: Input",
        ),
        (VALID.replace("validator: country_code", "max_length: 0"), "free_text.max_length: Input"),
    ],
)
def test_parse_flow_errors_name_the_file(text: str, detail: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_flow(text, origin="broken.yaml")
    message = str(caught.value)
    assert message.startswith("broken.yaml: ")
    assert detail in message
