"""Small flow sets and catalogs built in memory, shared by the flow tests.

Catalogs are generated from the flows (each translation equal to its English
source, so placeholders and lengths match), then a test breaks exactly the
thing it is about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flows.loader import parse_flows
from flows.messages import flow_messages
from flows.registry import TRANSLATED_LOCALES, RegistrySources

MAIN_YAML = """\
id: main
start: menu
nodes:
  - id: menu
    kind: message
    unsourced: menu
    text: Choose a topic.
    options:
      - id: info
        label: Information
        goto: info:intro
      - id: help
        label: Get help
        goto: help:ask
"""

INFO_YAML = """\
id: info
start: intro
nodes:
  - id: intro
    kind: message
    sources:
      - https://example.org/facts
      - SD21
    text: Facts for {country}.
    options:
      - id: more
        label: More
        goto: more
      - id: menu
        label: Back to the menu
        goto: main:menu
  - id: more
    kind: end
    sources:
      - https://example.org/facts
    text: More facts.
"""

HELP_YAML = """\
id: help
start: ask
nodes:
  - id: ask
    kind: question
    unsourced: menu
    text: What is it about?
    answer: topic
    choices:
      - id: notice
        label: A notice
    next: country
  - id: country
    kind: question
    unsourced: menu
    text: Which country (two letters)?
    answer: country
    free_text:
      validator: country_code
      max_length: 2
    next: refer
  - id: refer
    kind: handoff
    unsourced: about the bot
    text: May we refer you to a volunteer?
    consent_label: Yes, refer me
    decline_label: No, thanks
    next: referred
    declined: main:menu
  - id: referred
    kind: end
    unsourced: about the bot
    text: A volunteer will write to you here.
"""

CLEAN_FLOWS: Mapping[str, str] = {
    "main.yaml": MAIN_YAML,
    "info.yaml": INFO_YAML,
    "help.yaml": HELP_YAML,
}

BOT_MESSAGES: tuple[str, ...] = ("Hello {name}.", "Please use the buttons.")
"""Messages of the program itself (no context), as pybabel would extract them."""

FACTS_TEXT = """\
Source ids: SD21 = a seed brief (`001.txt`).
- [V] A verified fact. https://example.org/facts.
- [S/U] An uncertain fact. https://example.org/shaky
- [S] A fact from the seed brief. SD21
"""


@dataclass
class PoEntry:
    context: str | None
    msgid: str
    msgstr: str
    fuzzy: bool = False


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_po(entries: Iterable[PoEntry], *, plural_forms: str = "nplurals=1; plural=0;") -> str:
    lines = [
        'msgid ""',
        'msgstr ""',
        quote("Content-Type: text/plain; charset=UTF-8\n"),
        quote(f"Plural-Forms: {plural_forms}\n"),
        "",
    ]
    for entry in entries:
        if entry.fuzzy:
            lines.append("#, fuzzy")
        if entry.context is not None:
            lines.append(f"msgctxt {quote(entry.context)}")
        lines += [f"msgid {quote(entry.msgid)}", f"msgstr {quote(entry.msgstr)}", ""]
    return "\n".join(lines)


def replaced(files: Mapping[str, str], name: str, old: str, new: str) -> dict[str, str]:
    """A copy of ``files`` with one edit; fails loudly if the edit would do nothing."""
    assert old in files[name], f"{old!r} not in {name}"
    return {**files, name: files[name].replace(old, new, 1)}


def source_entries(flow_files: Mapping[str, str]) -> list[PoEntry]:
    """Every flow text once, translated as itself."""
    seen: dict[tuple[str | None, str], PoEntry] = {}
    for flow in parse_flows(flow_files):
        for message in flow_messages(flow):
            key = (message.context, message.msgid)
            seen.setdefault(key, PoEntry(message.context, message.msgid, message.msgid))
    return list(seen.values())


Editor = Callable[[str, list[PoEntry]], None]
"""Changes the entries of one locale's catalog in place."""


def make_sources(
    flow_files: Mapping[str, str] = CLEAN_FLOWS,
    *,
    edit: Editor | None = None,
    locales: Sequence[str] = TRANSLATED_LOCALES,
    bot_messages: Sequence[str] = BOT_MESSAGES,
    with_template: bool = True,
) -> RegistrySources:
    template_entries = [
        *source_entries(flow_files),
        *(PoEntry(None, text, text) for text in bot_messages),
    ]
    po_files: dict[str, str] = {}
    for locale in locales:
        entries = [PoEntry(e.context, e.msgid, e.msgstr, e.fuzzy) for e in template_entries]
        if edit is not None:
            edit(locale, entries)
        po_files[locale] = render_po(entries)
    template = (
        render_po([PoEntry(e.context, e.msgid, "") for e in template_entries])
        if with_template
        else None
    )
    return RegistrySources(dict(flow_files), po_files, template)


def write_tree(root: Path, sources: RegistrySources) -> tuple[Path, Path]:
    """Lay ``sources`` out as the bot reads them; returns (definitions, locales)."""
    definitions = root / "definitions"
    locales = root / "locales"
    definitions.mkdir(parents=True)
    locales.mkdir(parents=True)
    for name, text in sources.flow_files.items():
        (definitions / name).write_text(text, encoding="utf-8")
    for locale, text in sources.po_files.items():
        directory = locales / locale / "LC_MESSAGES"
        directory.mkdir(parents=True)
        (directory / "messages.po").write_text(text, encoding="utf-8")
    if sources.template is not None:
        (locales / "messages.pot").write_text(sources.template, encoding="utf-8")
    return definitions, locales
