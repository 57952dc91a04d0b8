"""Citable sources read from the shared facts file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.errors import DefinitionError
from flows.facts import (
    DEFAULT_FACTS_FILE,
    SOURCES_FILE,
    Facts,
    load_facts,
    load_sources,
    parse_facts,
    parse_sources,
    render_sources,
)
from flows.loader import DEFINITIONS_DIR, parse_flows, read_flow_sources

SAMPLE = """\
# Facts

Tags: [V] verified; [S] secondary; [U] uncertain. An NGO wrote AB12-like notes.

## 1. Things
- [V] Fact one. https://example.org/one.
- [S] Fact two (https://example.org/two), with https://example.org/three;
- [S/U] Shaky, see https://example.org/shaky:
- [S] At the end of a sentence https://example.org/five,
- [U] Unsure, per AB12.
- [S] Cited by CD3 and https://example.org/one
Plain line without a tag https://example.org/untagged
- [V] Query strings stay: https://example.org/page?p=18805&q=1

## 2. Seeds
Source ids: AB12 = a brief (`a.txt`); CD3 = a letter,
EF4 = a page nobody cites.
"""

TRAILING = tuple(".,;:)")


@pytest.fixture(scope="module")
def sample() -> Facts:
    return parse_facts(SAMPLE)


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("https://example.org/one", {"V", "S"}),
        ("https://example.org/two", {"S"}),
        ("https://example.org/three", {"S"}),
        ("https://example.org/shaky", {"S", "U"}),
        ("https://example.org/five", {"S"}),
        ("https://example.org/untagged", set()),
        ("https://example.org/page?p=18805&q=1", {"V"}),
        ("AB12", {"U"}),
        ("CD3", {"S"}),
        ("EF4", set()),
    ],
)
def test_sample_sources_and_tags(sample: Facts, source: str, tags: set[str]) -> None:
    assert sample.knows(source)
    assert sample.sources[source] == frozenset(tags)


def test_urls_lose_trailing_punctuation(sample: Facts) -> None:
    urls = [source for source in sample.sources if source.startswith("http")]
    assert urls
    assert not [url for url in urls if url.endswith(TRAILING)]
    assert not sample.knows("https://example.org/one.")
    assert not sample.knows("https://example.org/shaky:")


def test_uncertain(sample: Facts) -> None:
    assert sample.uncertain("https://example.org/shaky")
    assert sample.uncertain("AB12")
    assert not sample.uncertain("https://example.org/one")
    assert not sample.uncertain("CD3")
    assert not sample.uncertain("https://example.org/unknown")


def test_words_that_merely_look_like_ids_are_not_seeds(sample: Facts) -> None:
    assert not sample.knows("NGO")
    assert not sample.knows("Tags")
    assert not sample.knows("https://example.org/unknown")


# The real file ---------------------------------------------------------------

needs_facts = pytest.mark.skipif(
    not DEFAULT_FACTS_FILE.is_file(),
    reason=f"{DEFAULT_FACTS_FILE} is not here (it lives in the shared content folder)",
)


@pytest.fixture(scope="module")
def real() -> Facts:
    return load_facts(DEFAULT_FACTS_FILE)


@needs_facts
def test_real_facts_know_the_seed_ids(real: Facts) -> None:
    for seed in ("SD21", "HRW17", "NGO"):
        assert real.knows(seed), seed
    assert "S" in real.sources["SD21"]


@needs_facts
def test_real_facts_urls_are_clean(real: Facts) -> None:
    urls = [source for source in real.sources if source.startswith("http")]
    assert len(urls) > 20
    bad = [url for url in urls if url.endswith(TRAILING) or re.search(r"[\s(\"']", url)]
    assert not bad
    # Written as "…/Legal-framework (Neutrality, Article 3)" in the file.
    assert real.knows("https://www.interpol.int/en/Who-we-are/Legal-framework")


@needs_facts
def test_real_facts_record_uncertain_tags(real: Facts) -> None:
    text = DEFAULT_FACTS_FILE.read_text(encoding="utf-8")
    uncertain_urls = [
        url.rstrip(".,;:)")
        for line in text.splitlines()
        if re.match(r"- \[[A-Z/]*U[A-Z/]*\]", line)
        for url in re.findall(r"https?://[^\s;)]+", line)
    ]
    assert uncertain_urls, "FACTS.md has no [U] fact with a URL any more"
    for url in uncertain_urls:
        assert real.uncertain(url), url


@needs_facts
def test_shipped_flows_cite_only_known_sources(real: Facts) -> None:
    unknown = [
        f"{flow.id}/{node.id}: {source}"
        for flow in parse_flows(read_flow_sources(DEFINITIONS_DIR))
        for node in flow.nodes
        for source in node.sources
        if not real.knows(source)
    ]
    assert not unknown


# The project's copy: flows/sources.csv ----------------------------------------


def test_the_sources_file_round_trips(sample: Facts) -> None:
    text = render_sources(sample)
    again = parse_sources(text)
    assert dict(again.sources) == dict(sample.sources)
    assert dict(again.sections) == dict(sample.sections)
    assert text.splitlines()[0] == "source,tags,sections"
    assert "https://example.org/shaky,S|U,1" in text.splitlines()
    assert "AB12,U,1" in text.splitlines()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "the header must be source,tags,sections"),
        ("url,tags\n", "the header must be"),
        ("source,tags,sections\nhttps://a.example,X,1\n", ":2: tags must be among S, U, V"),
        ("source,tags,sections\nhttps://a.example,V\n", ":2: expected source,tags,sections"),
        ("source,tags,sections\n,V,1\n", ":2: expected"),
        (
            "source,tags,sections\nhttps://a.example,V,1\nhttps://a.example,S,2\n",
            ":3: 'https://a.example' appears twice",
        ),
    ],
)
def test_a_bad_sources_file_says_where(text: str, complaint: str) -> None:
    with pytest.raises(DefinitionError, match=r"sources\.csv") as caught:
        parse_sources(text)
    assert complaint in str(caught.value)


def test_a_missing_sources_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read"):
        load_sources(tmp_path / "sources.csv")


def test_the_shipped_flows_cite_only_sources_the_project_keeps() -> None:
    # Runs without the shared folder: this is what a bare checkout checks against.
    kept = load_sources(SOURCES_FILE)
    unknown = [
        f"{flow.id}/{node.id}: {source}"
        for flow in parse_flows(read_flow_sources(DEFINITIONS_DIR))
        for node in flow.nodes
        for source in node.sources
        if not kept.knows(source)
    ]
    assert not unknown


@needs_facts
def test_the_sources_file_matches_facts_md(real: Facts) -> None:
    shipped = SOURCES_FILE.read_text(encoding="utf-8")
    assert shipped == render_sources(real), (
        "flows/sources.csv is out of date with FACTS.md: run .venv/bin/python -m flows sources"
    )
