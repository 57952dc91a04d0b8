"""The translatable messages a flow carries, each with its gettext context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flows.model import (
    EndNode,
    Flow,
    HandoffNode,
    MessageNode,
    Node,
    QuestionNode,
    resolve,
    text_context,
)


@dataclass(frozen=True)
class SourceMessage:
    """An English source text and where it belongs."""

    context: str
    msgid: str
    flow: str
    node: str | None
    is_label: bool


def node_messages(flow_id: str, node: Node) -> Iterator[SourceMessage]:
    yield SourceMessage(text_context(flow_id, node.id), node.text, flow_id, node.id, False)
    labels: list[tuple[str, str]] = []
    if isinstance(node, MessageNode | EndNode):
        labels = [(option.id, option.label) for option in node.options]
    elif isinstance(node, QuestionNode):
        labels = [(choice.id, choice.label) for choice in node.choices]
    elif isinstance(node, HandoffNode):
        labels = [("consent", node.consent_label), ("decline", node.decline_label)]
    for part, label in labels:
        yield SourceMessage(text_context(flow_id, node.id, part), label, flow_id, node.id, True)


def flow_messages(flow: Flow) -> Iterator[SourceMessage]:
    for node in flow.nodes:
        yield from node_messages(flow.id, node)


def node_targets(flow_id: str, node: Node) -> list[str]:
    """Each button of a node as ``part>flow:node``: what a press on it means."""
    if isinstance(node, MessageNode | EndNode):
        pairs = [(option.id, option.goto) for option in node.options]
    elif isinstance(node, QuestionNode):
        pairs = [(choice.id, node.next) for choice in node.choices] or [("text", node.next)]
    elif isinstance(node, HandoffNode):
        pairs = [("consent", node.next), ("decline", node.declined)]
    else:
        pairs = []
    return [f"{part}>{':'.join(resolve(flow_id, target))}" for part, target in pairs]
