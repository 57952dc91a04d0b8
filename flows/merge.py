"""Three-way merge of content sets, so coordinators never overwrite each other.

Two coordinators may work at once: one uploads a catalog made from live
version N while another has meanwhile published N+1 (or is building a draft).
Replacing whole files would silently undo the other's work. Instead the
upload's changes (base N → theirs) are replayed onto the newer set (ours)
entry by entry, and refused, naming each entry, only where both sides
changed the same entry differently.

Entries are:

- in a catalog, one message, keyed by ``(msgctxt, msgid)`` in one locale; a
  catalog's ``Plural-Forms`` header is one more entry;
- in a flow file, one node (its YAML block, with the comment lines just
  above it), plus the rest of the file (id, start, comments) as one entry.
  A flow file whose nodes cannot be cut apart cleanly (flow-style lists,
  a lone ``-`` line, duplicate ids, a different indentation on each side)
  is one entry as a whole.

Merged catalogs are written with Babel's PO writer, as ``pybabel update``
writes them; merged flow files keep every byte of the blocks they are made of.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

import yaml
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.catalog import Message
from babel.messages.pofile import PoFileError, read_po, write_po

from flows.catalog import parse_po
from flows.errors import CatalogError, FlowError
from flows.loader import parse_flow
from flows.registry import RegistrySources

PO_WIDTH = 76
"""Line width of ``pybabel update`` (its default), so a merged catalog diffs cleanly."""


class ConflictKind(StrEnum):
    ENTRY = "entry"
    """A catalog message changed on both sides."""
    CATALOG_HEADER = "catalog-header"
    """Both sides changed a catalog's Plural-Forms."""
    CATALOG = "catalog"
    """One side removed a catalog the other changed."""
    NODE = "node"
    """A flow node changed on both sides."""
    FLOW_HEADER = "flow-header"
    """Both sides changed a flow file outside its nodes (its id, start or comments)."""
    FLOW_FILE = "flow-file"
    """Both sides changed a flow file that cannot be merged node by node, or one removed it."""


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    file: str
    """The flow file name or the catalog's locale."""
    flow: str | None = None
    node: str | None = None
    locale: str | None = None
    context: str | None = None
    msgid: str | None = None

    def __str__(self) -> str:
        where = [part for part in (self.flow, self.node) if part]
        place = ":".join(where) if where else self.file
        if self.locale:
            place += f" [{self.locale}]"
        if self.context or self.msgid:
            place += f" {self.context or repr((self.msgid or '')[:40])}"
        return f"{place}: {self.kind}"


class MergeConflict(FlowError):
    """Both sides changed the same entries; nothing was merged."""

    def __init__(self, conflicts: tuple[Conflict, ...]) -> None:
        self.conflicts = conflicts
        listed = "; ".join(str(conflict) for conflict in conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        super().__init__(f"{len(conflicts)} entries changed on both sides: {listed}{more}")


_T = TypeVar("_T")


def _three_way(base: _T | None, ours: _T | None, theirs: _T | None) -> tuple[bool, _T | None]:
    """(clean, result) for one entry; not clean means both changed it differently."""
    if theirs == base:
        return True, ours
    if ours in (base, theirs):
        return True, theirs
    return False, None


def merge_sources(
    base: RegistrySources, ours: RegistrySources, theirs: RegistrySources
) -> RegistrySources:
    """``ours`` with the changes ``theirs`` made to ``base``; raises :class:`MergeConflict`.

    Typically ``base`` is the live version an upload was made against, ``theirs``
    that version with the upload applied, and ``ours`` the live version now (or
    the draft being built). The template and glossary are ``ours``.
    """
    conflicts: list[Conflict] = []
    flow_files = _merge_files(
        (base.flow_files, ours.flow_files, theirs.flow_files),
        _merge_flow_file,
        ConflictKind.FLOW_FILE,
        conflicts,
    )
    po_files = _merge_files(
        (base.po_files, ours.po_files, theirs.po_files), _merge_po, ConflictKind.CATALOG, conflicts
    )
    if conflicts:
        raise MergeConflict(tuple(conflicts))
    return replace(ours, flow_files=flow_files, po_files=po_files)


_FileMerger = Callable[[str, str | None, str, str, list[Conflict]], str | None]


def _merge_files(
    sides: tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]],
    merge_one: _FileMerger,
    removed_kind: ConflictKind,
    conflicts: list[Conflict],
) -> dict[str, str]:
    base, ours, theirs = sides
    merged: dict[str, str] = {}
    for name in [*ours, *(name for name in theirs if name not in ours)]:
        clean, result = _three_way(base.get(name), ours.get(name), theirs.get(name))
        if not clean:
            mine, other = ours.get(name), theirs.get(name)
            if mine is None or other is None:
                # One side removed the file, the other changed it.
                locale = name if removed_kind is ConflictKind.CATALOG else None
                conflicts.append(Conflict(removed_kind, name, locale=locale))
                continue
            result = merge_one(name, base.get(name), mine, other, conflicts)
        if result is not None:
            merged[name] = result
    # A file both removed, or only theirs removed, is simply absent.
    return merged


# --- catalogs --------------------------------------------------------------------------------

_Key = tuple[str | None, str]


def _read(locale: str, text: str) -> BabelCatalog:
    try:
        return read_po(io.StringIO(text), abort_invalid=True)
    except (PoFileError, ValueError) as exc:
        # Every side was checked when it was uploaded or published; this is a bug or tampering.
        raise CatalogError(f"{locale}: cannot merge an unreadable catalog: {exc}") from exc


def _messages(catalog: BabelCatalog) -> dict[_Key, Message]:
    found: dict[_Key, Message] = {}
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        if msgid:
            found[(message.context, msgid)] = message
    return found


def _value(message: Message | None) -> tuple[object, bool, object] | None:
    """What a translator changes: the translation, its fuzzy flag, the plural English.

    An empty translation is the same as none: a new catalog starts with every
    entry empty, and two coordinators filling in different ones do not clash.
    """
    if message is None:
        return None
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    if not any(strings) and not message.fuzzy:
        return None
    return (message.string, message.fuzzy, message.id)


def _plural_forms(text: str | None) -> str | None:
    if text is None:
        return None
    return parse_po(text, locale="merge", origin="merge").headers.get("Plural-Forms")


def _merge_po(
    locale: str, base_text: str | None, ours_text: str, theirs_text: str, conflicts: list[Conflict]
) -> str | None:
    base = _messages(_read(locale, base_text)) if base_text is not None else {}
    result = _read(locale, ours_text)
    ours = _messages(result)
    theirs = _messages(_read(locale, theirs_text))
    found: list[Conflict] = []
    changed = False
    clean, plural_forms = _three_way(
        _plural_forms(base_text), _plural_forms(ours_text), _plural_forms(theirs_text)
    )
    if not clean:
        found.append(Conflict(ConflictKind.CATALOG_HEADER, locale, locale=locale))
    elif plural_forms is not None and plural_forms != _plural_forms(ours_text):
        result.mime_headers = [("Plural-Forms", plural_forms)]
        changed = True
    for key in [*ours, *(key for key in theirs if key not in ours)]:
        before, mine, other = base.get(key), ours.get(key), theirs.get(key)
        clean, _ = _three_way(_value(before), _value(mine), _value(other))
        if not clean:
            flow, node = _owner(key[0])
            found.append(Conflict(ConflictKind.ENTRY, locale, flow, node, locale, key[0], key[1]))
        elif _value(other) != _value(before) and _value(mine) != _value(other):
            _take(result, mine, other)
            changed = True
    conflicts.extend(found)
    if found:
        return None
    if not changed:
        return ours_text
    buffer = io.BytesIO()
    write_po(buffer, result, width=PO_WIDTH)
    return buffer.getvalue().decode("utf-8")


def _take(result: BabelCatalog, mine: Message | None, other: Message | None) -> None:
    """Make ``result`` hold ``other`` where it holds ``mine``, keeping its place in the file."""
    if other is None:
        assert mine is not None
        result.delete(mine.id, context=mine.context)
    elif mine is None:
        result[other.id] = other
    else:
        mine.id = other.id
        mine.string = other.string
        mine.flags = set(other.flags)
        mine.user_comments = list(other.user_comments)
        mine.previous_id = other.previous_id


def _owner(context: str | None) -> tuple[str | None, str | None]:
    """The flow and node a flow text's context names (``flow.node[.part]``)."""
    if context is None or "." not in context:
        return None, None
    flow, node = context.split(".")[:2]
    return flow, node


# --- flow files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Split:
    prefix: str
    nodes: dict[str, str]
    """Node id → its block, in file order."""
    suffix: str
    indent: int
    """Column of the ``-`` that starts each node."""
    flow: str


_DASH = re.compile(r"^( *)- +$")


def _split(text: str) -> _Split | None:
    """The flow file cut into header, one block per node, and trailer; None if not cleanly."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    sequence: yaml.SequenceNode | None = None
    flow_id = ""
    for key, value in root.value:
        if key.value == "nodes" and isinstance(value, yaml.SequenceNode):
            sequence = value
        elif key.value == "id" and isinstance(value, yaml.ScalarNode):
            flow_id = str(value.value)
    if sequence is None or sequence.flow_style or not sequence.value:
        return None
    lines = text.splitlines(keepends=True)
    starts: list[int] = []
    ids: list[str] = []
    indent = -1
    for item in sequence.value:
        if not isinstance(item, yaml.MappingNode):
            return None
        line = item.start_mark.line
        dash = _DASH.match(lines[line][: item.start_mark.column])
        if dash is None or (indent >= 0 and len(dash[1]) != indent):
            return None
        indent = len(dash[1])
        node_id = next(
            (
                str(value.value)
                for key, value in item.value
                if key.value == "id" and isinstance(value, yaml.ScalarNode)
            ),
            None,
        )
        if node_id is None or node_id in ids:
            return None
        # The comment lines just above a node belong to it.
        while (
            line > 0
            and lines[line - 1].strip().startswith("#")
            and line - 1 > (starts[-1] if starts else sequence.start_mark.line - 1)
        ):
            line -= 1
        starts.append(line)
        ids.append(node_id)
    end = len(lines)
    for number in range(starts[-1] + 1, len(lines)):
        stripped = lines[number].strip()
        depth = len(lines[number]) - len(lines[number].lstrip(" "))
        # The first line back at the list's level that is not another item ends it.
        if stripped and not stripped.startswith(("#", "-")) and depth <= indent:
            end = number
            break
    bounds = [*starts, end]
    blocks = {
        node_id: "".join(lines[bounds[index] : bounds[index + 1]])
        for index, node_id in enumerate(ids)
    }
    prefix, suffix = "".join(lines[: starts[0]]), "".join(lines[end:])
    if prefix + "".join(blocks.values()) + suffix != text:
        return None
    return _Split(prefix, blocks, suffix, indent, flow_id)


def _merge_flow_file(
    name: str, base_text: str | None, ours_text: str, theirs_text: str, conflicts: list[Conflict]
) -> str | None:
    whole = Conflict(ConflictKind.FLOW_FILE, name)
    splits = [_split(text) if text is not None else None for text in (base_text, ours_text)]
    base, ours = splits
    theirs = _split(theirs_text)
    if base is None or ours is None or theirs is None:
        conflicts.append(whole)
        return None
    if len({base.indent, ours.indent, theirs.indent}) != 1:
        conflicts.append(whole)
        return None
    found: list[Conflict] = []
    clean, header = _three_way(
        (base.prefix, base.suffix), (ours.prefix, ours.suffix), (theirs.prefix, theirs.suffix)
    )
    if not clean or header is None:
        found.append(Conflict(ConflictKind.FLOW_HEADER, name, flow=ours.flow or None))
        header = (ours.prefix, ours.suffix)
    merged: dict[str, str | None] = {}
    for node_id in [*ours.nodes, *(n for n in theirs.nodes if n not in ours.nodes)]:
        clean, block = _three_way(
            base.nodes.get(node_id), ours.nodes.get(node_id), theirs.nodes.get(node_id)
        )
        if not clean:
            found.append(Conflict(ConflictKind.NODE, name, ours.flow or None, node_id))
        merged[node_id] = block
    if found:
        conflicts.extend(found)
        return None
    order = [node_id for node_id in ours.nodes if merged.get(node_id) is not None]
    theirs_order = list(theirs.nodes)
    for position, node_id in enumerate(theirs_order):
        if node_id in order or merged.get(node_id) is None:
            continue
        before = [other for other in theirs_order[:position] if other in order]
        order.insert(order.index(before[-1]) + 1 if before else 0, node_id)
    blocks = []
    for node_id in order:
        block = merged[node_id] or ""
        blocks.append(block if block.endswith("\n") else block + "\n")
    text = header[0] + "".join(blocks) + header[1]
    try:
        parse_flow(text, origin=name)
    except FlowError:
        conflicts.append(whole)
        return None
    return text
