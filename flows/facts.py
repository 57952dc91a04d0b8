"""The citable sources of the shared facts file.

A content node names the facts it relies on in ``sources``. A source is a URL
that appears in the facts file, or one of the seed document ids the file
defines (``SD21 = ...``). Each carries the tags of the facts that cite it, so
content built on an uncertain ``[U]`` fact can be found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

_URL = re.compile(r"https?://[^\s;)]+")
_SEED_ID = re.compile(r"\b([A-Z][A-Z0-9]{1,9}) = ")
_TAG = re.compile(r"^- \[([A-Z/]+)\]")
_TRAILING = ".,;:)"

DEFAULT_FACTS_FILE = Path(__file__).resolve().parent.parent.parent / "shared/content/FACTS.md"


@dataclass(frozen=True)
class Facts:
    sources: Mapping[str, frozenset[str]]
    """Source id → the tags (``V``, ``S``, ``U``) of the facts citing it."""

    def knows(self, source: str) -> bool:
        return source in self.sources

    def uncertain(self, source: str) -> bool:
        return "U" in self.sources.get(source, frozenset())


def parse_facts(text: str) -> Facts:
    seeds = set(_SEED_ID.findall(text))
    found: dict[str, set[str]] = {seed: set() for seed in seeds}
    for line in text.splitlines():
        tag_match = _TAG.match(line)
        tags = set(tag_match.group(1).split("/")) if tag_match else set()
        for url in _URL.findall(line):
            found.setdefault(url.rstrip(_TRAILING), set()).update(tags)
        for seed in seeds:
            if re.search(rf"\b{seed}\b", line) and not line.startswith("Source ids"):
                found[seed].update(tags)
    return Facts(MappingProxyType({key: frozenset(tags) for key, tags in found.items()}))


def load_facts(path: Path) -> Facts:
    return parse_facts(path.read_text(encoding="utf-8"))
