"""A Babel extractor for flow files, so ``pybabel extract`` finds flow texts.

Registered as ``yardem_flows`` (entry point) and usable as
``flows.extract:extract_flows`` in a mapping file. Each text is yielded as a
``pgettext`` call whose context is ``<flow>.<node>[.<part>]``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml

from flows.loader import parse_flow
from flows.messages import flow_messages
from flows.model import MAX_LABEL_HINT

_LABEL_COMMENT = f"Button label: at most {MAX_LABEL_HINT} columns; a Chinese character takes two."
_TEXT_COMMENT = (
    "Screen text. Keep any {name} placeholders, /commands, links, phone numbers, "
    "numbers and line breaks as they are."
)


def _node_lines(text: str) -> dict[str, int]:
    """Node id → 1-based line of its definition, for source references."""
    lines: dict[str, int] = {}
    document = yaml.compose(text)
    if not isinstance(document, yaml.MappingNode):
        return lines
    for key, value in document.value:
        if key.value != "nodes" or not isinstance(value, yaml.SequenceNode):
            continue
        for item in value.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            for field, content in item.value:
                if field.value == "id" and isinstance(content, yaml.ScalarNode):
                    lines[str(content.value)] = item.start_mark.line + 1
    return lines


def extract_flows(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    text = fileobj.read().decode("utf-8")
    flow = parse_flow(text, origin=getattr(fileobj, "name", "<flow>"))
    lines = _node_lines(text)
    for message in flow_messages(flow):
        line = lines.get(message.node or "", 1)
        comment = _LABEL_COMMENT if message.is_label else _TEXT_COMMENT
        yield line, "pgettext", (message.context, message.msgid), [comment]
