"""What a draft changes compared with the live set, as data.

A coordinator about to publish must see what they are about to do to every
member: which texts change in which language, which screens and buttons
appear, move or disappear, whether members' open screens will turn into
"this menu has changed" (the structure hash moves), and which translations
fall back to English with a "translation pending" marker. The same summary is
stored with each published version. :func:`summarize_changes` is pure; the
bot words the result in the coordinator's language.

Containment keeps the summary short: nodes of an added or removed flow are
not listed again as nodes, nor the buttons of an added or removed node as
buttons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flows.catalog import Catalog
from flows.messages import flow_messages, node_targets
from flows.model import Flow
from flows.pending import PendingText, pending_texts
from flows.registry import SOURCE_LOCALE, Registry, RegistrySources, build_registry


@dataclass(frozen=True)
class TextRef:
    """One translatable text: a flow text by its context, a program message by its msgid."""

    context: str | None
    msgid: str

    @property
    def identity(self) -> str:
        return self.context if self.context is not None else self.msgid

    def __str__(self) -> str:
        return self.context if self.context is not None else repr(self.msgid[:40])


def _in_order(refs: Iterable[TextRef]) -> tuple[TextRef, ...]:
    """Flow texts by context, then program messages by msgid."""
    return tuple(sorted(refs, key=lambda ref: (ref.context is None, ref.identity)))


@dataclass(frozen=True, order=True)
class NodeRef:
    flow: str
    node: str

    def __str__(self) -> str:
        return f"{self.flow}:{self.node}"


@dataclass(frozen=True, order=True)
class ButtonRef:
    flow: str
    node: str
    part: str
    """The option, choice, ``consent``/``decline`` or ``text`` (a typed answer)."""
    target: str
    """``flow:node`` it leads to."""

    def __str__(self) -> str:
        return f"{self.flow}:{self.node}.{self.part} -> {self.target}"


@dataclass(frozen=True, order=True)
class ButtonMove:
    flow: str
    node: str
    part: str
    old_target: str
    new_target: str

    def __str__(self) -> str:
        return f"{self.flow}:{self.node}.{self.part}: {self.old_target} -> {self.new_target}"


@dataclass(frozen=True, order=True)
class StartMove:
    flow: str
    old_start: str
    new_start: str


@dataclass(frozen=True)
class LocaleChanges:
    locale: str
    changed: tuple[TextRef, ...]
    """For English: flow texts whose wording changed. For a translation: catalog
    entries added, removed or changed (wording, English, or fuzzy flag), one per text."""
    became_pending: tuple[PendingText, ...] = ()
    """Texts this locale showed translated and will show in English with a marker."""
    resolved: tuple[TextRef, ...] = ()
    """Texts that were pending and are now translated."""
    pending: int = 0
    """All texts pending in the draft for this locale (0 for English)."""


@dataclass(frozen=True)
class ChangeSummary:
    flows_added: tuple[str, ...]
    flows_removed: tuple[str, ...]
    starts_moved: tuple[StartMove, ...]
    nodes_added: tuple[NodeRef, ...]
    nodes_removed: tuple[NodeRef, ...]
    nodes_retyped: tuple[NodeRef, ...]
    """Same id, another kind (a message became a question...)."""
    buttons_added: tuple[ButtonRef, ...]
    buttons_removed: tuple[ButtonRef, ...]
    buttons_moved: tuple[ButtonMove, ...]
    texts: Mapping[str, LocaleChanges]
    """Locale → its changes; English (the source) first, then the translations."""
    locales_added: tuple[str, ...]
    locales_removed: tuple[str, ...]
    layout_before: str
    layout_after: str

    @property
    def layout_changed(self) -> bool:
        """Buttons on members' open screens will answer "this menu has changed"."""
        return self.layout_before != self.layout_after

    @property
    def empty(self) -> bool:
        structure = (
            self.flows_added,
            self.flows_removed,
            self.starts_moved,
            self.nodes_added,
            self.nodes_removed,
            self.nodes_retyped,
            self.buttons_added,
            self.buttons_removed,
            self.buttons_moved,
            self.locales_added,
            self.locales_removed,
        )
        return (
            not any(structure)
            and not self.layout_changed
            and not any(c.changed or c.became_pending or c.resolved for c in self.texts.values())
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, to store with a published version."""
        return {
            "flows_added": list(self.flows_added),
            "flows_removed": list(self.flows_removed),
            "starts_moved": [[s.flow, s.old_start, s.new_start] for s in self.starts_moved],
            "nodes_added": [str(node) for node in self.nodes_added],
            "nodes_removed": [str(node) for node in self.nodes_removed],
            "nodes_retyped": [str(node) for node in self.nodes_retyped],
            "buttons_added": [str(button) for button in self.buttons_added],
            "buttons_removed": [str(button) for button in self.buttons_removed],
            "buttons_moved": [str(move) for move in self.buttons_moved],
            "texts": {
                locale: {
                    "changed": [ref.identity for ref in changes.changed],
                    "became_pending": [
                        TextRef(text.context, text.msgid).identity
                        for text in changes.became_pending
                    ],
                    "resolved": [ref.identity for ref in changes.resolved],
                    "pending": changes.pending,
                }
                for locale, changes in self.texts.items()
            },
            "locales_added": list(self.locales_added),
            "locales_removed": list(self.locales_removed),
            "layout_before": self.layout_before,
            "layout_after": self.layout_after,
            "layout_changed": self.layout_changed,
        }

    def english_lines(self) -> list[str]:
        """A short English account for the command line and logs (the bot words its own)."""
        lines: list[str] = []
        for locale, changes in self.texts.items():
            parts = [f"{len(changes.changed)} texts changed"] if changes.changed else []
            if changes.became_pending:
                parts.append(f"{len(changes.became_pending)} became pending")
            if changes.resolved:
                parts.append(f"{len(changes.resolved)} translated")
            if parts:
                lines.append(f"{locale}: {', '.join(parts)}")
        counted = (
            ("flows added", self.flows_added),
            ("flows removed", self.flows_removed),
            ("start screens moved", self.starts_moved),
            ("screens added", self.nodes_added),
            ("screens removed", self.nodes_removed),
            ("screens changed kind", self.nodes_retyped),
            ("buttons added", self.buttons_added),
            ("buttons moved", self.buttons_moved),
            ("buttons removed", self.buttons_removed),
            ("languages added", self.locales_added),
            ("languages removed", self.locales_removed),
        )
        lines += [f"{len(items)} {label}" for label, items in counted if items]
        if self.layout_changed:
            lines.append("members' open screens will say the menu has changed")
        return lines or ["no changes"]


def summarize_changes(
    live: RegistrySources,
    draft: RegistrySources,
    *,
    live_registry: Registry | None = None,
    draft_registry: Registry | None = None,
) -> ChangeSummary:
    """Everything ``draft`` changes relative to ``live``.

    Both must parse (build the draft's registry first: a set that does not parse
    has no summary, only an error). Pass the registries already built from these
    very sources to save parsing them again (most of the cost: PyYAML is slow).
    """
    before = live_registry if live_registry is not None else build_registry(live)
    after = draft_registry if draft_registry is not None else build_registry(draft)
    flows_added = tuple(sorted(set(after.flows) - set(before.flows)))
    flows_removed = tuple(sorted(set(before.flows) - set(after.flows)))
    common = sorted(set(before.flows) & set(after.flows))
    starts = tuple(
        StartMove(flow, before.flows[flow].start, after.flows[flow].start)
        for flow in common
        if before.flows[flow].start != after.flows[flow].start
    )
    nodes_before = {(f, n.id): n for f in common for n in before.flows[f].nodes}
    nodes_after = {(f, n.id): n for f in common for n in after.flows[f].nodes}
    kept = sorted(set(nodes_before) & set(nodes_after))
    buttons_before = _buttons(before.flows, kept)
    buttons_after = _buttons(after.flows, kept)
    moved = tuple(
        ButtonMove(*key, buttons_before[key], buttons_after[key])
        for key in sorted(set(buttons_before) & set(buttons_after))
        if buttons_before[key] != buttons_after[key]
    )
    locales_before = set(before.catalogs)
    locales_after = set(after.catalogs)
    texts = {SOURCE_LOCALE: _english_changes(before.flows, after.flows)}
    for locale in sorted(locales_before | locales_after):
        texts[locale] = _locale_changes(locale, before, after)
    return ChangeSummary(
        flows_added=flows_added,
        flows_removed=flows_removed,
        starts_moved=starts,
        nodes_added=tuple(NodeRef(*key) for key in sorted(set(nodes_after) - set(nodes_before))),
        nodes_removed=tuple(NodeRef(*key) for key in sorted(set(nodes_before) - set(nodes_after))),
        nodes_retyped=tuple(
            NodeRef(*key) for key in kept if nodes_before[key].kind != nodes_after[key].kind
        ),
        buttons_added=tuple(
            ButtonRef(*key, buttons_after[key])
            for key in sorted(set(buttons_after) - set(buttons_before))
        ),
        buttons_removed=tuple(
            ButtonRef(*key, buttons_before[key])
            for key in sorted(set(buttons_before) - set(buttons_after))
        ),
        buttons_moved=moved,
        texts=MappingProxyType(texts),
        locales_added=tuple(sorted(locales_after - locales_before)),
        locales_removed=tuple(sorted(locales_before - locales_after)),
        layout_before=before.layout,
        layout_after=after.layout,
    )


def _buttons(
    flows: Mapping[str, Flow], nodes: Iterable[tuple[str, str]]
) -> dict[tuple[str, str, str], str]:
    """``(flow, node, part)`` → ``flow:node`` target, for the given nodes."""
    found: dict[tuple[str, str, str], str] = {}
    for flow_id, node_id in nodes:
        node = flows[flow_id].node(node_id)
        if node is None:
            continue
        for button in node_targets(flow_id, node):
            part, target = button.split(">", 1)
            found.setdefault((flow_id, node_id, part), target)
    return found


def _english(flows: Mapping[str, Flow]) -> dict[str, str]:
    return {
        message.context: message.msgid for flow in flows.values() for message in flow_messages(flow)
    }


def _english_changes(before: Mapping[str, Flow], after: Mapping[str, Flow]) -> LocaleChanges:
    old, new = _english(before), _english(after)
    changed = tuple(
        TextRef(context, new[context])
        for context in sorted(set(old) & set(new))
        if old[context] != new[context]
    )
    return LocaleChanges(SOURCE_LOCALE, changed)


def _entries(catalog: Catalog | None) -> dict[str, tuple[TextRef, tuple[str, ...], bool]]:
    """Identity → (reference, translation, fuzzy): one row per text, whatever its English."""
    if catalog is None:
        return {}
    rows: dict[str, tuple[TextRef, tuple[str, ...], bool]] = {}
    for entry in catalog.entries.values():
        ref = TextRef(entry.context, entry.msgid)
        rows[ref.identity] = (ref, entry.msgstr, entry.fuzzy)
    return rows


def _locale_changes(locale: str, before: Registry, after: Registry) -> LocaleChanges:
    old_rows = _entries(before.catalogs.get(locale))
    new_rows = _entries(after.catalogs.get(locale))
    changed = _in_order(
        (new_rows.get(identity) or old_rows[identity])[0]
        for identity in set(old_rows) | set(new_rows)
        if old_rows.get(identity) != new_rows.get(identity)
    )
    old_pending = pending_texts(before.flows.values(), before.catalogs.get(locale), before.template)
    new_pending = pending_texts(after.flows.values(), after.catalogs.get(locale), after.template)
    was = {TextRef(text.context, text.msgid).identity for text in old_pending}
    now = {TextRef(text.context, text.msgid).identity for text in new_pending}
    current = {
        TextRef(message.context, message.msgid).identity: TextRef(message.context, message.msgid)
        for flow in after.flows.values()
        for message in flow_messages(flow)
    }
    if after.template is not None:
        for context, msgid in after.template.entries:
            current.setdefault(TextRef(context, msgid).identity, TextRef(context, msgid))
    return LocaleChanges(
        locale,
        changed,
        became_pending=tuple(
            text for text in new_pending if TextRef(text.context, text.msgid).identity not in was
        ),
        resolved=_in_order(current[identity] for identity in was - now if identity in current),
        pending=len(new_pending),
    )
