"""Edits to a whole content set, as a coordinator's upload would make them (shared by tests)."""

from __future__ import annotations

import io
from dataclasses import replace

from babel.messages.pofile import read_po, write_po

from flows.merge import PO_WIDTH
from flows.registry import RegistrySources


def edit_flow(sources: RegistrySources, name: str, old: str, new: str) -> RegistrySources:
    """``sources`` with one text replaced in one flow file; fails if it would do nothing."""
    text = sources.flow_files[name]
    assert old in text, f"{old!r} not in {name}"
    return replace(sources, flow_files={**sources.flow_files, name: text.replace(old, new, 1)})


def edit_entry(
    sources: RegistrySources,
    locale: str,
    context: str | None,
    *,
    msgid: str | None = None,
    msgstr: str | None = None,
    fuzzy: bool | None = None,
) -> RegistrySources:
    """One catalog entry changed as ``pybabel update`` or a translator would change it.

    ``msgid``: the new English (``pybabel update`` moves the old translation onto it
    and flags it fuzzy when asked with ``fuzzy=True``).
    """
    catalog = read_po(io.StringIO(sources.po_files[locale]))
    found = [m for m in catalog if m.context == context and m.id]
    assert len(found) == 1, f"{len(found)} entries with context {context!r}"
    message = found[0]
    if msgid is not None:
        catalog.delete(message.id, context=context)
        message.id = msgid
        catalog[msgid] = message
    if msgstr is not None:
        message.string = msgstr
    if fuzzy is not None:
        message.flags = (message.flags | {"fuzzy"}) if fuzzy else (message.flags - {"fuzzy"})
    output = io.BytesIO()
    write_po(output, catalog, width=PO_WIDTH)
    return replace(sources, po_files={**sources.po_files, locale: output.getvalue().decode()})


def swap_options(sources: RegistrySources, name: str, first: str, second: str) -> RegistrySources:
    """Two buttons of a screen change places: the screen's structure moves."""
    text = sources.flow_files[name]
    a, b = text.index(f"      - id: {first}\n"), text.index(f"      - id: {second}\n")
    assert a < b
    end_b = text.index("\n      - id: ", b + 1) + 1
    moved = text[:a] + text[b:end_b] + text[a:b] + text[end_b:]
    return replace(sources, flow_files={**sources.flow_files, name: moved})
