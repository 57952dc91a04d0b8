"""The citable sources of the shared facts file, and the project's copy of them.

A content node names the facts it relies on in ``sources``. A source is a URL
that appears in the facts file, or one of the seed document ids the file
defines (``SD21 = ...``). Each carries the tags of the facts that cite it, so
content built on an uncertain ``[U]`` fact can be found.

The facts file lives beside the repository (``../shared/content/FACTS.md``),
not in it. So that a checkout alone can be checked, the sources are also kept
in ``flows/sources.csv``, written from the facts file by
``python -m flows sources``; a test keeps the two in step where both exist.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from flows.errors import DefinitionError

_URL = re.compile(r"https?://[^\s;)]+")
_SEED_ID = re.compile(r"\b([A-Z][A-Z0-9]{1,9}) = ")
_TAG = re.compile(r"^- \[([A-Z/]+)\]")
_SECTION = re.compile(r"^## (\d+)\.")
_TRAILING = ".,;:)"
_TAGS = frozenset({"V", "S", "U"})

DEFAULT_FACTS_FILE = Path(__file__).resolve().parent.parent.parent / "shared/content/FACTS.md"
SOURCES_FILE = Path(__file__).resolve().parent / "sources.csv"
_COLUMNS = ("source", "tags", "sections")


@dataclass(frozen=True)
class Facts:
    sources: Mapping[str, frozenset[str]]
    """Source id → the tags (``V``, ``S``, ``U``) of the facts citing it."""
    sections: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    """Source id → the numbers of the FACTS.md sections that cite it, for finding the fact."""

    def knows(self, source: str) -> bool:
        return source in self.sources

    def uncertain(self, source: str) -> bool:
        return "U" in self.sources.get(source, frozenset())


def parse_facts(text: str) -> Facts:
    seeds = set(_SEED_ID.findall(text))
    found: dict[str, set[str]] = {seed: set() for seed in seeds}
    sections: dict[str, set[str]] = {seed: set() for seed in seeds}
    section = ""
    for line in text.splitlines():
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1)
        tag_match = _TAG.match(line)
        tags = set(tag_match.group(1).split("/")) if tag_match else set()
        cited = [url.rstrip(_TRAILING) for url in _URL.findall(line)]
        cited += [
            seed
            for seed in seeds
            if re.search(rf"\b{seed}\b", line) and not line.startswith("Source ids")
        ]
        for source in cited:
            found.setdefault(source, set()).update(tags)
            if section:
                sections.setdefault(source, set()).add(section)
    return Facts(
        MappingProxyType({key: frozenset(tags) for key, tags in found.items()}),
        MappingProxyType({key: frozenset(sections.get(key, ())) for key in found}),
    )


def load_facts(path: Path) -> Facts:
    return parse_facts(path.read_text(encoding="utf-8"))


def _section_key(section: str) -> int:
    return int(section) if section.isdigit() else 0


def render_sources(facts: Facts) -> str:
    """The sources file: one row per source, sorted, tags and sections joined by ``|``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for source in sorted(facts.sources):
        writer.writerow(
            (
                source,
                "|".join(sorted(facts.sources[source])),
                "|".join(sorted(facts.sections.get(source, ()), key=_section_key)),
            )
        )
    return out.getvalue()


def parse_sources(text: str, origin: str = "flows/sources.csv") -> Facts:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows or tuple(rows[0]) != _COLUMNS:
        raise DefinitionError(f"{origin}: the header must be {','.join(_COLUMNS)}")
    sources: dict[str, frozenset[str]] = {}
    sections: dict[str, frozenset[str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(_COLUMNS) or not row[0].strip():
            raise DefinitionError(f"{origin}:{number}: expected {','.join(_COLUMNS)}")
        source, tags, cited_in = (cell.strip() for cell in row)
        tag_set = frozenset(tag for tag in tags.split("|") if tag)
        if not tag_set <= _TAGS:
            raise DefinitionError(
                f"{origin}:{number}: tags must be among {', '.join(sorted(_TAGS))}, got {tags!r}"
            )
        if source in sources:
            raise DefinitionError(f"{origin}:{number}: {source!r} appears twice")
        sources[source] = tag_set
        sections[source] = frozenset(part for part in cited_in.split("|") if part)
    return Facts(MappingProxyType(sources), MappingProxyType(sections))


def load_sources(path: Path = SOURCES_FILE) -> Facts:
    """The project's copy of the sources; a missing or bad file is a DefinitionError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_sources(text, origin=str(path))
