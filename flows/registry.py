"""An immutable, versioned set of flows and their translations.

The bot serves from one registry at a time. A new set is built and checked in
full before it replaces the old one, so a bad edit by a coordinator changes
nothing; the version tag goes into callback data so buttons from an older set
are recognised as stale instead of being misread.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from flows.catalog import Catalog, parse_po
from flows.glossary import GLOSSARY_FILE
from flows.loader import DEFINITIONS_DIR, parse_flow, read_flow_sources, read_text
from flows.locales import SOURCE_LOCALE as SOURCE_LOCALE  # re-exported for callers
from flows.locales import ordered_locales
from flows.messages import node_targets
from flows.model import Flow, Node

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
CATALOG_PATH = Path("LC_MESSAGES") / "messages.po"
"""Where a locale's catalog sits under ``locales/<locale>/``."""


def catalog_locales(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The locales with a catalog in ``locales_dir``, named by their directories, in order.

    No list of languages is kept anywhere: a language is in a set when its
    catalog is. A directory whose name is not a locale CLDR knows is listed too,
    for :func:`flows.inspect.inspect` to refuse with its name.
    """
    found = [path.parents[1].name for path in locales_dir.glob(f"*/{CATALOG_PATH}")]
    return ordered_locales(found)


TRANSLATED_LOCALES = catalog_locales()
"""The shipped set's translated locales (version 0): a published set keeps at least these."""
LOCALES = (SOURCE_LOCALE, *TRANSLATED_LOCALES)
"""The shipped set's locales. What members may pick is :func:`bot.content.member_locales`."""


@dataclass(frozen=True)
class RegistrySources:
    """The raw files a registry is built from, kept so checks can name them."""

    flow_files: Mapping[str, str]
    po_files: Mapping[str, str]
    """Locale → PO text, for the translated locales."""
    template: str | None = None
    """``messages.pot``: every message the program and the flows need."""
    glossary: str | None = None
    """``glossary.csv``: key terms and each locale's word for them."""


@dataclass(frozen=True)
class Registry:
    flows: Mapping[str, Flow]
    catalogs: Mapping[str, Catalog]
    version: str
    """Six hex digits of a hash over every input file, for logs."""
    layout: str
    """Six hex digits of a hash over the flows' structure only (ids, kinds and
    targets), carried in callback data: a fixed typo or translation leaves
    buttons working, a moved or removed button makes them stale."""
    sources: RegistrySources
    """The files it was built from."""
    flow_by_file: Mapping[str, Flow]
    """Every flow file as parsed, by file name, two files with one id included:
    what the checks judge, so they never parse the files again."""
    template: Catalog | None
    """``messages.pot`` parsed: every message the program and the flows need."""

    @property
    def locales(self) -> tuple[str, ...]:
        """The source locale and every locale with a catalog in this set, in order."""
        return ordered_locales((SOURCE_LOCALE, *self.catalogs))

    def node(self, flow_id: str, node_id: str) -> Node | None:
        flow = self.flows.get(flow_id)
        return None if flow is None else flow.node(node_id)


def read_sources(
    definitions_dir: Path = DEFINITIONS_DIR, locales_dir: Path = LOCALES_DIR
) -> RegistrySources:
    po_files = {
        locale: read_text(locales_dir / locale / CATALOG_PATH)
        for locale in catalog_locales(locales_dir)
    }
    template_path = locales_dir / "messages.pot"
    template = read_text(template_path) if template_path.is_file() else None
    glossary_path = locales_dir / GLOSSARY_FILE
    glossary = read_text(glossary_path) if glossary_path.is_file() else None
    return RegistrySources(read_flow_sources(definitions_dir), po_files, template, glossary)


def version_of(sources: RegistrySources) -> str:
    digest = hashlib.sha256()
    for group in (sources.flow_files, sources.po_files):
        for name in sorted(group):
            digest.update(name.encode() + b"\0" + group[name].encode() + b"\0")
    return digest.hexdigest()[:6]


def layout_of(flows: list[Flow]) -> str:
    shape = [
        [
            flow.id,
            flow.start,
            [[node.id, node.kind, *node_targets(flow.id, node)] for node in flow.nodes],
        ]
        for flow in sorted(flows, key=lambda flow: flow.id)
    ]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:6]


def build_registry(sources: RegistrySources) -> Registry:
    """Parse without judging; :func:`flows.inspect.inspect` does the judging.

    Each file is parsed here once; the checks and the change summary read the result.
    """
    by_file = {name: parse_flow(text, origin=name) for name, text in sources.flow_files.items()}
    flows = list(by_file.values())
    by_id: dict[str, Flow] = {}
    for flow in flows:
        by_id.setdefault(flow.id, flow)
    catalogs = {
        locale: parse_po(text, locale=locale, origin=f"locales/{locale}/LC_MESSAGES/messages.po")
        for locale, text in sources.po_files.items()
    }
    template = (
        None
        if sources.template is None
        else parse_po(sources.template, locale="template", origin="locales/messages.pot")
    )
    return Registry(
        MappingProxyType(by_id),
        MappingProxyType(catalogs),
        version_of(sources),
        layout_of(flows),
        sources,
        MappingProxyType(by_file),
        template,
    )
