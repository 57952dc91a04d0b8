"""``python -m flows``: check a tree from the repository alone, and keep its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

import flows.__main__
import flows.facts
from flows.__main__ import counted, main
from flows.facts import parse_facts, render_sources
from tests.unit.flow_samples import (
    CLEAN_FLOWS,
    FACTS_TEXT,
    make_sources,
    replaced,
    write_tree,
)


def _tree(tmp_path: Path, flow_files: dict[str, str] | None = None) -> list[str]:
    definitions, locales = write_tree(tmp_path, make_sources(flow_files or dict(CLEAN_FLOWS)))
    sources = tmp_path / "sources.csv"
    sources.write_text(render_sources(parse_facts(FACTS_TEXT)), encoding="utf-8")
    return ["--flows", str(definitions), "--locales", str(locales), "--sources", str(sources)]


def test_a_clean_tree_checks_from_its_sources_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", *_tree(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "3 flows, 7 nodes, 3 catalogs: 0 errors, 0 warnings"
    )


def test_one_error_is_counted_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = replaced(
        CLEAN_FLOWS,
        "info.yaml",
        "      - https://example.org/facts\n    text: More",
        "      - https://example.org/invented\n    text: More",
    )
    assert main(["check", *_tree(tmp_path, files)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("error: info.yaml: info/more: unknown-source:")
    assert lines[-1] == "3 flows, 7 nodes, 3 catalogs: 1 error, 0 warnings"


def test_the_shipped_set_is_checked_without_the_shared_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As in a bare checkout: no FACTS.md anywhere. The defaults read
    # flows/sources.csv, so every source is still checked. (Other errors, such as
    # texts waiting for translation, still count.)
    absent = tmp_path / "shared" / "content" / "FACTS.md"
    monkeypatch.setattr(flows.facts, "DEFAULT_FACTS_FILE", absent)
    monkeypatch.setattr(flows.__main__, "DEFAULT_FACTS_FILE", absent)
    monkeypatch.chdir(tmp_path)
    code = main(["check"])
    captured = capsys.readouterr()
    assert "cannot check" not in captured.err
    assert "unknown-source" not in captured.out
    assert "missing-source" not in captured.out
    assert code in (0, 1)


def test_facts_md_can_be_given_instead(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "FACTS.md"
    facts.write_text(FACTS_TEXT.replace("https://example.org/facts", "https://example.org/x"))
    assert main(["check", *_tree(tmp_path), "--facts", str(facts)]) == 1
    assert "'https://example.org/facts' is not in the sources" in capsys.readouterr().out


def test_a_missing_sources_file_cannot_be_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _tree(tmp_path)
    args[-1] = str(tmp_path / "absent.csv")
    assert main(["check", *args]) == 2
    assert "absent.csv: cannot read" in capsys.readouterr().err


def test_a_misspelled_node_kind_names_the_file_and_the_kinds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _tree(tmp_path)
    info = tmp_path / "definitions" / "info.yaml"
    info.write_text(replaced(CLEAN_FLOWS, "info.yaml", "kind: end", "kind: ending")["info.yaml"])
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert "info.yaml: nodes.1: kind 'ending' is not a node kind" in err
    assert "message, question, handoff, end" in err


def test_sources_rewrites_the_file_from_facts_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = tmp_path / "FACTS.md"
    facts.write_text(FACTS_TEXT, encoding="utf-8")
    output = tmp_path / "sources.csv"
    assert main(["sources", "--facts", str(facts), "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render_sources(parse_facts(FACTS_TEXT))
    assert "3 sources" in capsys.readouterr().out


@pytest.mark.parametrize(("count", "text"), [(0, "0 errors"), (1, "1 error"), (2, "2 errors")])
def test_counted(count: int, text: str) -> None:
    assert counted(count, "error") == text
