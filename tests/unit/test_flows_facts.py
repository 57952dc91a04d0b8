"""Citable sources read from the shared facts file."""

from __future__ import annotations

import re

import pytest

from flows.facts import DEFAULT_FACTS_FILE, Facts, load_facts, parse_facts
from flows.loader import parse_flows, read_flow_sources

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
    from flows.loader import DEFINITIONS_DIR

    unknown = [
        f"{flow.id}/{node.id}: {source}"
        for flow in parse_flows(read_flow_sources(DEFINITIONS_DIR))
        for node in flow.nodes
        for source in node.sources
        if not real.knows(source)
    ]
    assert not unknown
