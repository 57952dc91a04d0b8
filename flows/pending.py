"""Which texts a locale cannot show in its own words yet.

On the live desk a draft may be published before every translation is done (an
urgent English fix cannot wait for three translators): a text whose translation
is missing, empty or fuzzy is "pending", and members of that locale get the
current English with a marker instead of an outdated translation. The flow map,
the change summary and the coordinators' overview all need the same answer to
"what is pending here", so it is computed once, here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flows.catalog import Catalog
from flows.messages import flow_messages
from flows.model import Flow


class PendingReason(StrEnum):
    MISSING = "missing"
    """No usable entry: absent (often because the English changed) or empty."""
    FUZZY = "fuzzy"
    """Translated, but flagged for review: the English changed since."""


@dataclass(frozen=True)
class PendingText:
    context: str | None
    """``<flow>.<node>[.<part>]`` for a flow text; ``None`` for most program messages."""
    msgid: str
    """The current English."""
    flow: str | None
    """The flow and node a flow text belongs to; ``None`` for a program message."""
    node: str | None
    reason: PendingReason


def pending_texts(
    flows: Iterable[Flow], catalog: Catalog | None, template: Catalog | None = None
) -> tuple[PendingText, ...]:
    """Every flow text (and, given the template, program message) ``catalog`` cannot show.

    A missing catalog leaves everything pending. Order: flows as given, then the
    template's order.
    """
    found: list[PendingText] = []
    seen: set[tuple[str | None, str]] = set()
    for flow in flows:
        for message in flow_messages(flow):
            key = (message.context, message.msgid)
            if key in seen:
                continue
            seen.add(key)
            reason = _reason(catalog, message.context, message.msgid)
            if reason is not None:
                found.append(
                    PendingText(message.context, message.msgid, message.flow, message.node, reason)
                )
    for context, msgid in template.entries if template is not None else ():
        if (context, msgid) in seen:
            continue
        seen.add((context, msgid))
        reason = _reason(catalog, context, msgid)
        if reason is not None:
            found.append(PendingText(context, msgid, None, None, reason))
    return tuple(found)


def _reason(catalog: Catalog | None, context: str | None, msgid: str) -> PendingReason | None:
    entry = None if catalog is None else catalog.lookup(context, msgid)
    if entry is None or not entry.translated:
        return PendingReason.MISSING
    if entry.fuzzy:
        return PendingReason.FUZZY
    return None


def pending_nodes(pending: Iterable[PendingText]) -> dict[tuple[str, str], int]:
    """``(flow, node)`` → how many of its texts (screen text and labels) are pending."""
    counts: dict[tuple[str, str], int] = {}
    for text in pending:
        if text.flow is not None and text.node is not None:
            counts[(text.flow, text.node)] = counts.get((text.flow, text.node), 0) + 1
    return counts
