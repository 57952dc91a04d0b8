"""The flows as a picture: Graphviz DOT text, and a thin wrapper around ``dot``.

Coordinators change flows without reading YAML; a map of every screen, button
and hand-off shows what a change does and where translations are still
pending. :func:`flow_graph_dot` is pure (a registry in, DOT text out) so it is
tested without Graphviz; :func:`render` only pipes that text through ``dot``.
Labels are the English source texts: the map is for coordinators, and a
picture cannot rely on the machine having fonts for every script.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from flows.catalog import Catalog
from flows.errors import FlowError
from flows.model import (
    MAIN_FLOW,
    MAIN_NODE,
    EndNode,
    Flow,
    HandoffNode,
    MessageNode,
    Node,
    NodeKind,
    QuestionNode,
    resolve,
)
from flows.pending import pending_nodes, pending_texts
from flows.registry import SOURCE_LOCALE, Registry

INSTALL_HINT = "apt-get install graphviz"
"""How to get ``dot`` on Debian and Ubuntu (the CI and the Docker image do this)."""

PREVIEW_CHARS = 48
"""Characters of a screen's text shown in its box: enough to recognise it."""
LABEL_CHARS = 28


class ImageFormat(StrEnum):
    SVG = "svg"
    PNG = "png"
    DOT = "dot"
    """The DOT text itself; needs no Graphviz."""


class GraphvizMissing(FlowError):
    """``dot`` is not installed; the message says how to install it."""

    def __init__(self, command: str) -> None:
        super().__init__(f"Graphviz's {command!r} command was not found: {INSTALL_HINT}")
        self.command = command


class GraphvizFailed(FlowError):
    """``dot`` ran and refused the input or could not write the format."""


@dataclass(frozen=True)
class _Style:
    shape: str
    style: str
    fill: str
    border: str
    extra: str = ""


_KIND_STYLES: Mapping[NodeKind, _Style] = {
    NodeKind.MESSAGE: _Style("box", "rounded,filled", "#e8f1fb", "#37659a"),
    NodeKind.QUESTION: _Style("box", "filled,diagonals", "#fff4c2", "#8a6d00"),
    NodeKind.HANDOFF: _Style("doubleoctagon", "filled,bold", "#f9d3e3", "#a0004a", "penwidth=2"),
    NodeKind.END: _Style("box", "rounded,filled", "#e4e4e4", "#444444", "peripheries=2"),
}
_PENDING_BORDER = "#d35400"
_CROSS_FLOW = "#1565c0"
_CONSENT = "#2e7d32"
_DECLINE = "#777777"
_MISSING = "#c62828"
_TO_MENU = "#9e9e9e"


def _quote(text: str) -> str:
    """A DOT quoted string; line breaks become DOT's centred ``\\n``."""
    cleaned = "".join(" " if ord(char) < 0x20 and char != "\n" else char for char in text)
    escaped = cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _attributes(**values: str) -> str:
    return ", ".join(f"{name}={_quote(value)}" for name, value in values.items())


def _node_id(flow_id: str, node_id: str) -> str:
    return _quote(f"{flow_id}:{node_id}")


@dataclass(frozen=True)
class _Edge:
    source: tuple[str, str]
    target: tuple[str, str]
    label: str
    role: str
    """``button``, ``consent``, ``decline`` or ``next``."""


def _edges(flow: Flow, node: Node) -> Iterator[_Edge]:
    here = (flow.id, node.id)
    if isinstance(node, MessageNode | EndNode):
        for option in node.options:
            yield _Edge(here, resolve(flow.id, option.goto), option.label, "button")
    elif isinstance(node, QuestionNode):
        target = resolve(flow.id, node.next)
        if node.choices:
            for choice in node.choices:
                yield _Edge(here, target, choice.label, "button")
        else:
            yield _Edge(here, target, "(typed answer)", "next")
    elif isinstance(node, HandoffNode):
        yield _Edge(here, resolve(flow.id, node.next), node.consent_label, "consent")
        yield _Edge(here, resolve(flow.id, node.declined), node.decline_label, "decline")


def _ordered(flows: Mapping[str, Flow]) -> list[Flow]:
    """The main menu's flow first, then the others by id, so the picture is stable."""
    return sorted(flows.values(), key=lambda flow: (flow.id != MAIN_FLOW, flow.id))


def flow_graph_dot(
    flows: Mapping[str, Flow],
    *,
    catalog: Catalog | None = None,
    locale: str | None = None,
    title: str = "Yardem flows",
) -> str:
    """DOT text for ``flows``: one cluster per flow, one box per node, one arrow per button.

    With a ``locale`` other than the source language, nodes with a missing or
    fuzzy translation in ``catalog`` (all of them if it is ``None``) get an
    orange dashed border and a count of pending texts.
    """
    marking = locale is not None and locale != SOURCE_LOCALE
    pending = pending_nodes(pending_texts(flows.values(), catalog)) if marking else {}
    heading = title
    if marking:
        screens = len(pending)
        texts = sum(pending.values())
        heading += f"\ntranslation pending in {locale}: {texts} texts on {screens} screens"
    # newrank: with clusters and edges that do not constrain the ranks, dot's
    # older ranking fails on the shipped set ("trouble in init_rank").
    lines = [
        "digraph flows {",
        f"  graph [{_attributes(label=heading, labelloc='t', rankdir='LR', fontname='Helvetica')},"
        " compound=true, newrank=true, nodesep=0.25, ranksep=0.6];",
        f"  node [{_attributes(fontname='Helvetica', fontsize='10', margin='0.12,0.06')}];",
        f"  edge [{_attributes(fontname='Helvetica', fontsize='9')}];",
    ]
    known: set[tuple[str, str]] = set()
    for flow in _ordered(flows):
        known.update((flow.id, node.id) for node in flow.nodes)
    for flow in _ordered(flows):
        lines.append(f"  subgraph {_quote('cluster_' + flow.id)} {{")
        lines.append(
            f"    graph [{_attributes(label=f'flow {flow.id}', style='rounded', color='#9e9e9e')}];"
        )
        for node in flow.nodes:
            lines.append(f"    {_node_line(flow, node, pending.get((flow.id, node.id), 0))}")
        lines.append("  }")
    missing: set[tuple[str, str]] = set()
    for flow in _ordered(flows):
        for node in flow.nodes:
            lines.extend(f"  {line}" for line in _edge_lines(flow, node, known, missing))
    for flow_id, node_id in sorted(missing):
        attributes = _attributes(
            label=f"missing\n{flow_id}:{node_id}",
            shape="box",
            style="dashed",
            color=_MISSING,
            fontcolor=_MISSING,
        )
        lines.append(f"  {_node_id(flow_id, node_id)} [{attributes}];")
    lines.extend(f"  {line}" for line in _legend(marking))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_line(flow: Flow, node: Node, pending: int) -> str:
    style = _KIND_STYLES[node.kind]
    roles = [str(node.kind)]
    if node.id == flow.start:
        roles.append("start")
    if (flow.id, node.id) == (MAIN_FLOW, MAIN_NODE):
        roles.append("main menu")
    label = f"{node.id}  ({', '.join(roles)})\n{_short(node.text, PREVIEW_CHARS)}"
    values = {
        "label": label,
        "shape": style.shape,
        "style": style.style,
        "fillcolor": style.fill,
        "color": style.border,
        "tooltip": f"{flow.id}:{node.id}",
    }
    extra = f", {style.extra}" if style.extra else ""
    if pending:
        values["label"] += f"\ntranslation pending: {pending}"
        values["style"] += ",dashed"
        values["color"] = _PENDING_BORDER
        extra = ", penwidth=3" + (", peripheries=2" if node.kind is NodeKind.END else "")
    return f"{_node_id(flow.id, node.id)} [{_attributes(**values)}{extra}];"


def _edge_lines(
    flow: Flow,
    node: Node,
    known: set[tuple[str, str]],
    missing: set[tuple[str, str]],
) -> Iterator[str]:
    # Several buttons to one place (choices of a question) share one arrow.
    grouped: dict[tuple[tuple[str, str], str], list[str]] = {}
    for edge in _edges(flow, node):
        grouped.setdefault((edge.target, edge.role), []).append(_short(edge.label, LABEL_CHARS))
    for (target, role), labels in grouped.items():
        values = {"label": "\n".join(labels)}
        if target not in known:
            missing.add(target)
            values.update(color=_MISSING, fontcolor=_MISSING, style="dashed")
        elif role == "consent":
            values.update(color=_CONSENT, fontcolor=_CONSENT, style="bold")
        elif role == "decline":
            values.update(color=_DECLINE, fontcolor=_DECLINE, style="dashed")
        elif target == (MAIN_FLOW, MAIN_NODE) and flow.id != MAIN_FLOW:
            values.update(color=_TO_MENU, fontcolor=_TO_MENU)
        elif target[0] != flow.id:
            values.update(color=_CROSS_FLOW, fontcolor=_CROSS_FLOW)
        # Arrows back to the menu are on nearly every screen; letting them shape the
        # layout would pull every flow into one knot around it.
        back = target == (MAIN_FLOW, MAIN_NODE) and flow.id != MAIN_FLOW
        extra = ", constraint=false" if back else ""
        yield (
            f"{_node_id(flow.id, node.id)} -> {_node_id(*target)} [{_attributes(**values)}{extra}];"
        )


def _legend(marking: bool) -> Iterator[str]:
    yield f"subgraph {_quote('cluster_legend')} {{"
    yield f"  graph [{_attributes(label='legend', style='rounded', color='#bdbdbd')}];"
    for kind in NodeKind:
        style = _KIND_STYLES[kind]
        values = _attributes(
            label=str(kind),
            shape=style.shape,
            style=style.style,
            fillcolor=style.fill,
            color=style.border,
        )
        extra = f", {style.extra}" if style.extra else ""
        yield f"  {_quote(f'legend {kind}')} [{values}{extra}];"
    if marking:
        values = _attributes(
            label="translation pending",
            shape="box",
            style="rounded,filled,dashed",
            fillcolor="#ffffff",
            color=_PENDING_BORDER,
        )
        yield f"  {_quote('legend pending')} [{values}, penwidth=3];"
    arrows = (
        ("same flow", "#000000", "solid"),
        ("other flow", _CROSS_FLOW, "solid"),
        ("back to the menu", _TO_MENU, "solid"),
        ("consent", _CONSENT, "bold"),
        ("decline", _DECLINE, "dashed"),
        ("missing target", _MISSING, "dashed"),
    )
    for index, (label, color, line) in enumerate(arrows):
        source, target = _quote(f"legend arrow {index}"), _quote(f"legend arrow {index} end")
        yield f"  {source} [shape=point, width=0.05];"
        yield f"  {target} [shape=point, width=0.05];"
        values = _attributes(label=label, color=color, fontcolor=color, style=line)
        yield f"  {source} -> {target} [{values}];"
    yield "}"


def registry_graph_dot(registry: Registry, locale: str | None = None) -> str:
    """:func:`flow_graph_dot` for a registry, marking ``locale``'s pending translations."""
    catalog = registry.catalogs.get(locale) if locale is not None else None
    title = f"Yardem flows, version {registry.version}, layout {registry.layout}"
    return flow_graph_dot(registry.flows, catalog=catalog, locale=locale, title=title)


def render(
    dot_text: str,
    image_format: ImageFormat,
    *,
    command: str = "dot",
    timeout: float = 120.0,
    dpi: int | None = None,
) -> bytes:
    """The picture ``dot`` draws from ``dot_text``; the DOT format is the text itself.

    The shipped map as a PNG at Graphviz's 96 dpi is about 12000 x 4000 pixels and
    takes seconds and ~200 MB to draw; ``dpi`` (e.g. 60) trades sharpness for both.
    SVG is drawn in well under a second.
    """
    if image_format is ImageFormat.DOT:
        return dot_text.encode("utf-8")
    executable = shutil.which(command)
    if executable is None:
        raise GraphvizMissing(command)
    try:
        # A fixed argument list of our own and DOT text we generated: nothing from a user
        # reaches a shell.
        completed = subprocess.run(  # noqa: S603
            [executable, f"-T{image_format}", *([f"-Gdpi={int(dpi)}"] if dpi else [])],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GraphvizFailed(f"dot took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise GraphvizFailed(f"cannot run {executable}: {exc.strerror}") from exc
    if completed.returncode != 0 or not completed.stdout:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizFailed(
            f"dot exited with {completed.returncode}: {detail[0] if detail else 'no output'}"
        )
    return completed.stdout


def guess_format(name: str, default: ImageFormat = ImageFormat.SVG) -> ImageFormat:
    """The format an output file name asks for (``.png``, ``.svg``, ``.dot``/``.gv``)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"png": ImageFormat.PNG, "svg": ImageFormat.SVG, "dot": ImageFormat.DOT}.get(
        suffix, ImageFormat.DOT if suffix == "gv" else default
    )
