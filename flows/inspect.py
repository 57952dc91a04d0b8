"""Static checks over a set of flows and catalogs.

Each problem is an :class:`Issue` tied to a flow, a node and, for translation
problems, a locale, so the person fixing it knows where to look.

Two modes share every check. The repository's own check (CI, ``python -m flows
check``) treats a missing or fuzzy translation as an error: the shipped set is
complete. The live desk (``inspect(..., live_desk=True)``, ``flows check
--live-desk``), where coordinators publish an urgent English fix before the
translators have caught up, lowers exactly those to warnings: members of that
locale get the current English with a "translation pending" marker, never the
outdated translation. Everything else stays an error in both modes.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from flows.catalog import Catalog, Entry
from flows.display import display_width
from flows.errors import DefinitionError, FlowError, RegistryError
from flows.facts import Facts
from flows.glossary import Term, glossary_locales, misses, parse_glossary
from flows.literals import dropped
from flows.loader import DEFINITIONS_DIR
from flows.locales import is_catalog_locale
from flows.messages import SourceMessage, flow_messages, node_messages
from flows.model import (
    MAIN_FLOW,
    MAIN_NODE,
    MAX_LABEL_HINT,
    EndNode,
    Flow,
    HandoffNode,
    MessageNode,
    Node,
    QuestionNode,
    placeholders,
    resolve,
)
from flows.registry import (
    LOCALES_DIR,
    TRANSLATED_LOCALES,
    Registry,
    RegistrySources,
    build_registry,
    read_sources,
)
from flows.values import VALUE_NAMES

MAX_SCREEN_CHARS = 3500
"""Room left under Telegram's limit for placeholders and bidi marks."""
MAX_LABEL_COLUMNS = MAX_LABEL_HINT
"""Counted in display columns: a Chinese character takes two."""
MAX_BUTTONS = 12
"""More buttons than this do not fit a phone screen (and callback data holds two digits)."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueCode(StrEnum):
    DUPLICATE_ID = "duplicate-id"
    MISSING_START = "missing-start"
    MISSING_MENU = "missing-menu"
    UNRESOLVED_TARGET = "unresolved-target"
    UNREACHABLE = "unreachable"
    DEAD_END = "dead-end"
    MISSING_CATALOG = "missing-catalog"
    UNTRANSLATED = "untranslated"
    FUZZY = "fuzzy"
    PLACEHOLDERS = "placeholders"
    TOO_LONG = "too-long"
    TOO_MANY_BUTTONS = "too-many-buttons"
    MISSING_SOURCE = "missing-source"
    UNKNOWN_SOURCE = "unknown-source"
    UNCERTAIN_SOURCE = "uncertain-source"
    GLOSSARY = "glossary"
    GLOSSARY_GAP = "glossary-gap"
    """A catalog's locale has no glossary column, or an empty cell in it."""
    UNKNOWN_LOCALE = "unknown-locale"
    """A catalog filed under a name that is not a locale CLDR knows."""
    PERCENT_FORMAT = "percent-format"
    UNKNOWN_PLACEHOLDER = "unknown-placeholder"
    DROPPED = "dropped"


PENDING_CODES = frozenset({IssueCode.UNTRANSLATED, IssueCode.FUZZY})
"""Translations not done yet: errors for the shipped set, warnings on the live desk."""


# What Babel and GNU gettext take for a printf-style placeholder ("3% of" is one:
# a space flag and the octal conversion "o").
PERCENT_FORMAT = re.compile(
    r"%(?:\(\w*\))?[-#0 +]?(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrs%]"
)


@dataclass(frozen=True)
class Issue:
    code: IssueCode
    message: str
    flow: str | None = None
    node: str | None = None
    locale: str | None = None
    severity: Severity = Severity.ERROR
    file: str | None = None
    """The file to open to fix it: the flow's YAML file, or the locale's catalog."""

    def __str__(self) -> str:
        where = "/".join(part for part in (self.flow, self.node) if part) or "catalog"
        if self.locale:
            where += f" [{self.locale}]"
        text = f"{where}: {self.code}: {self.message}"
        return f"{self.file}: {text}" if self.file else text


def _targets(node: Node) -> Iterator[str]:
    if isinstance(node, MessageNode | EndNode):
        yield from (option.goto for option in node.options)
    elif isinstance(node, QuestionNode):
        yield node.next
    elif isinstance(node, HandoffNode):
        yield node.next
        yield node.declined


def _structure(flows: Sequence[Flow], files: Mapping[str, Sequence[str]]) -> Iterator[Issue]:
    for flow_id, count in Counter(flow.id for flow in flows).items():
        if count > 1:
            names = ", ".join(sorted(files.get(flow_id, ())))
            yield Issue(IssueCode.DUPLICATE_ID, f"{count} flows have this id: {names}", flow_id)
    by_id = {flow.id: flow for flow in flows}
    for flow in flows:
        for node_id, count in Counter(node.id for node in flow.nodes).items():
            if count > 1:
                yield Issue(IssueCode.DUPLICATE_ID, f"{count} nodes have this id", flow.id, node_id)
        if flow.node(flow.start) is None:
            yield Issue(IssueCode.MISSING_START, f"start node {flow.start!r} not found", flow.id)
        for node in flow.nodes:
            parts = [message.context for message in node_messages(flow.id, node)]
            for context, count in Counter(parts).items():
                if count > 1:
                    yield Issue(
                        IssueCode.DUPLICATE_ID, f"{context} is used {count} times", flow.id, node.id
                    )
            for target in _targets(node):
                other_flow, other_node = resolve(flow.id, target)
                if other_flow not in by_id or by_id[other_flow].node(other_node) is None:
                    yield Issue(
                        IssueCode.UNRESOLVED_TARGET, f"{target!r} does not exist", flow.id, node.id
                    )
            buttons = len(list(node_messages(flow.id, node))) - 1
            if buttons > MAX_BUTTONS:
                yield Issue(
                    IssueCode.TOO_MANY_BUTTONS,
                    f"{buttons} buttons (limit {MAX_BUTTONS}); split the screen",
                    flow.id,
                    node.id,
                )
            if isinstance(node, MessageNode) and not node.options:
                yield Issue(
                    IssueCode.DEAD_END,
                    "a message node needs options (use kind: end to finish a flow)",
                    flow.id,
                    node.id,
                )
    if MAIN_FLOW not in by_id or by_id[MAIN_FLOW].node(MAIN_NODE) is None:
        yield Issue(IssueCode.MISSING_MENU, f"the main menu {MAIN_FLOW}:{MAIN_NODE} is missing")
        return
    yield from _reachability(by_id)


def taps_from_menu(flows: dict[str, Flow]) -> dict[tuple[str, str], int]:
    """Fewest taps from the main menu to each reachable node (breadth first)."""
    start = (MAIN_FLOW, MAIN_NODE)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        flow_id, node_id = queue.popleft()
        node = flows[flow_id].node(node_id) if flow_id in flows else None
        if node is None:
            continue
        for target in _targets(node):
            position = resolve(flow_id, target)
            if position not in distance:
                distance[position] = distance[(flow_id, node_id)] + 1
                queue.append(position)
    return distance


def _reachability(by_id: dict[str, Flow]) -> Iterator[Issue]:
    reached = taps_from_menu(by_id)
    for flow in by_id.values():
        for node in flow.nodes:
            if (flow.id, node.id) not in reached:
                yield Issue(
                    IssueCode.UNREACHABLE, "cannot be reached from the main menu", flow.id, node.id
                )


def _lengths(flows: Sequence[Flow]) -> Iterator[Issue]:
    for flow in flows:
        for message in flow_messages(flow):
            yield from _length_issue(message, message.msgid, None)
            if PERCENT_FORMAT.search(message.msgid):
                yield Issue(
                    IssueCode.PERCENT_FORMAT,
                    f"{message.context}: gettext tools read '%' followed by a letter as a "
                    "Python format and reject every translation; write 'percent' or 'in 100'",
                    message.flow,
                    message.node,
                )


def _length_issue(message: SourceMessage, text: str, locale: str | None) -> Iterator[Issue]:
    if message.is_label:
        # A button is as wide as its text looks, and a Chinese character looks two wide.
        kind, size, unit, limit = "label", display_width(text), "columns", MAX_LABEL_COLUMNS
    else:
        kind, size, unit, limit = "text", len(text), "characters", MAX_SCREEN_CHARS
    if size > limit:
        yield Issue(
            IssueCode.TOO_LONG,
            f"{kind} {message.context} has {size} {unit} (limit {limit})",
            message.flow,
            message.node,
            locale,
        )


def _placeholder_names(flows: Sequence[Flow]) -> Iterator[Issue]:
    """Every ``{name}`` in an English text must be a value the bot fills in."""
    answers = {
        node.answer for flow in flows for node in flow.nodes if isinstance(node, QuestionNode)
    }
    known = VALUE_NAMES | answers
    for flow in flows:
        for message in flow_messages(flow):
            for name in sorted(placeholders(message.msgid) - known):
                yield Issue(
                    IssueCode.UNKNOWN_PLACEHOLDER,
                    f"{message.context}: {{{name}}} is not filled in by the bot; known: "
                    + ", ".join(f"{{{value}}}" for value in sorted(known)),
                    message.flow,
                    message.node,
                )


def _dropped(entry: Entry, owner: SourceMessage | None, locale: str) -> Iterator[Issue]:
    """A translation keeps the English's /commands, links, phone numbers and numbers."""
    for index, text in enumerate(entry.msgstr):
        english = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
        lost = dropped(english, text)
        if lost:
            yield Issue(
                IssueCode.DROPPED,
                f"{entry.context or entry.msgid[:40]!r}: the translation lacks "
                + ", ".join(lost)
                + " (keep commands, links, phone numbers and numbers as in the English)",
                owner.flow if owner else None,
                owner.node if owner else None,
                locale,
            )


def _translations(
    flows: Sequence[Flow],
    catalogs: dict[str, Catalog],
    required: Iterable[tuple[str | None, str]],
    *,
    live_desk: bool,
) -> Iterator[Issue]:
    sources = [message for flow in flows for message in flow_messages(flow)]
    flow_keys: dict[tuple[str | None, str], SourceMessage] = {
        (message.context, message.msgid): message for message in sources
    }
    required = tuple(required)
    # A language a coordinator is adding has a catalog but is not a shipped locale:
    # its placeholders and lengths are checked like any other.
    for locale in (*TRANSLATED_LOCALES, *sorted(set(catalogs) - set(TRANSLATED_LOCALES))):
        catalog = catalogs.get(locale)
        if catalog is None:
            yield Issue(IssueCode.MISSING_CATALOG, "no messages.po for this locale", locale=locale)
            continue
        for message in sources:
            entry = catalog.lookup(message.context, message.msgid)
            if entry is None or not entry.translated:
                yield Issue(
                    IssueCode.UNTRANSLATED,
                    f"{message.context}: {message.msgid[:50]!r}",
                    message.flow,
                    message.node,
                    locale,
                )
            elif entry.fuzzy:
                yield Issue(
                    IssueCode.FUZZY,
                    f"{message.context}: English changed, review the translation",
                    message.flow,
                    message.node,
                    locale,
                )
            else:
                yield from _length_issue(message, entry.msgstr[0], locale)
        for context, msgid in required:
            entry = catalog.lookup(context, msgid)
            if entry is None and (context, msgid) not in flow_keys:
                yield Issue(
                    IssueCode.UNTRANSLATED,
                    f"{msgid[:50]!r} is in messages.pot but not in this catalog",
                    locale=locale,
                )
        for entry in catalog.entries.values():
            if (entry.context, entry.msgid) not in flow_keys:
                if not entry.translated:
                    yield Issue(IssueCode.UNTRANSLATED, f"{entry.msgid[:50]!r}", locale=locale)
                    continue
                if entry.fuzzy:
                    yield Issue(IssueCode.FUZZY, f"{entry.msgid[:50]!r}: review", locale=locale)
                    continue
            expected = placeholders(entry.msgid) | placeholders(entry.msgid_plural or "")
            owner = flow_keys.get((entry.context, entry.msgid))
            if entry.usable:
                yield from _dropped(entry, owner, locale)
            for text in entry.msgstr:
                if text and placeholders(text) != expected:
                    yield Issue(
                        IssueCode.PLACEHOLDERS,
                        f"{entry.context or entry.msgid[:40]!r}: expected "
                        f"{sorted(expected)}, found {sorted(placeholders(text))}",
                        owner.flow if owner else None,
                        owner.node if owner else None,
                        locale,
                        # A fuzzy entry is never shown, so on the live desk its stale
                        # placeholders are part of the pending translation, not a fault.
                        Severity.ERROR if entry.usable or not live_desk else Severity.WARNING,
                    )


def _sources(flows: Sequence[Flow], facts: Facts | None) -> Iterator[Issue]:
    for flow in flows:
        for node in flow.nodes:
            if not node.sources and node.unsourced is None:
                yield Issue(
                    IssueCode.MISSING_SOURCE,
                    "a content node must list the facts it relies on in sources",
                    flow.id,
                    node.id,
                )
            for source in node.hedged:
                if source not in node.sources:
                    yield Issue(
                        IssueCode.UNKNOWN_SOURCE,
                        f"hedged {source!r} must also be listed in sources",
                        flow.id,
                        node.id,
                    )
            if facts is None:
                continue
            for source in node.sources:
                if not facts.knows(source):
                    yield Issue(
                        IssueCode.UNKNOWN_SOURCE,
                        f"{source!r} is not in the sources (FACTS.md, kept in flows/sources.csv)",
                        flow.id,
                        node.id,
                    )
                elif facts.uncertain(source) and source not in node.hedged:
                    yield Issue(
                        IssueCode.UNCERTAIN_SOURCE,
                        f"{source!r} is marked [U]: the text must not state it as settled",
                        flow.id,
                        node.id,
                        severity=Severity.WARNING,
                    )


def _locale_codes(catalogs: Mapping[str, Catalog]) -> Iterator[Issue]:
    for locale in sorted(catalogs):
        if not is_catalog_locale(locale):
            yield Issue(
                IssueCode.UNKNOWN_LOCALE,
                f"{locale!r} is not a locale CLDR knows (name the directory as zh_Hans, tr, pt_BR)",
                locale=locale,
            )


def _glossary_gaps(
    terms: tuple[Term, ...], columns: tuple[str, ...], catalogs: Mapping[str, Catalog]
) -> Iterator[Issue]:
    """One issue per locale whose column is missing or has empty cells."""
    for locale in sorted(catalogs):
        if locale not in columns:
            yield Issue(
                IssueCode.GLOSSARY_GAP,
                f"locales/glossary.csv has no column for {locale}: add one with its words",
                locale=locale,
            )
            continue
        empty = [term.id for term in terms if locale in term.gaps]
        if empty:
            yield Issue(
                IssueCode.GLOSSARY_GAP,
                f"locales/glossary.csv has no {locale} word for {len(empty)} term(s): "
                f"{', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''}",
                locale=locale,
            )


def _glossary(
    flows: Sequence[Flow], catalogs: dict[str, Catalog], glossary: str | None, *, live_desk: bool
) -> Iterator[Issue]:
    """Wording warnings, so a live fix is never refused over wording; the shipped set has none.

    Gaps (a locale without its words) are errors in the repository's check and
    warnings on the live desk: a language a coordinator adds is published before
    the repository's glossary can have a column for it.
    """
    if glossary is None:
        return
    try:
        terms = parse_glossary(glossary)
        columns = glossary_locales(glossary)
    except DefinitionError as exc:
        yield Issue(IssueCode.GLOSSARY, str(exc), severity=Severity.WARNING)
        return
    gap_severity = Severity.WARNING if live_desk else Severity.ERROR
    for issue in _glossary_gaps(terms, columns, catalogs):
        yield replace(issue, severity=gap_severity)
    owners: dict[tuple[str | None, str], SourceMessage] = {
        (message.context, message.msgid): message
        for flow in flows
        for message in flow_messages(flow)
    }
    for locale, catalog in sorted(catalogs.items()):
        for entry in catalog.entries.values():
            if not entry.usable:
                continue
            owner = owners.get((entry.context, entry.msgid))
            english = " ".join(filter(None, (entry.msgid, entry.msgid_plural)))
            for text in entry.msgstr:
                for term in misses(terms, locale, english, text):
                    yield Issue(
                        IssueCode.GLOSSARY,
                        f"{entry.context or entry.msgid[:40]!r}: {term.english!r} should be "
                        f"{' or '.join(term.translations.get(locale, ()))!r}",
                        owner.flow if owner else None,
                        owner.node if owner else None,
                        locale,
                        Severity.WARNING,
                    )


def inspect(
    registry: Registry,
    *,
    facts: Facts | None = None,
    live_desk: bool = False,
) -> list[Issue]:
    """Every problem found, errors and warnings, in a stable order.

    Judges what :func:`flows.registry.build_registry` parsed, parsing nothing again.
    ``live_desk``: missing and fuzzy translations are warnings (see the module's
    docstring); the shipped set is checked without it.
    """
    flows = list(registry.flow_by_file.values())
    files: dict[str, list[str]] = {}
    for name, flow in registry.flow_by_file.items():
        files.setdefault(flow.id, []).append(name)
    required: list[tuple[str | None, str]] = []
    if registry.template is None:
        issues_before = [Issue(IssueCode.MISSING_CATALOG, "locales/messages.pot is missing")]
    else:
        issues_before = []
        required = list(registry.template.entries)
    issues = [
        *issues_before,
        *_structure(flows, files),
        *_lengths(flows),
        *_placeholder_names(flows),
        *_translations(flows, dict(registry.catalogs), required, live_desk=live_desk),
        *_sources(flows, facts),
        *_locale_codes(registry.catalogs),
        *_glossary(flows, dict(registry.catalogs), registry.sources.glossary, live_desk=live_desk),
    ]
    if live_desk:
        issues = [
            replace(issue, severity=Severity.WARNING) if issue.code in PENDING_CODES else issue
            for issue in issues
        ]
    return [_with_file(issue, files) for issue in issues]


def _with_file(issue: Issue, files: Mapping[str, Sequence[str]]) -> Issue:
    """Name the file to open: the catalog for a translation, else the flow's own file."""
    if issue.locale is not None:
        return replace(issue, file=f"locales/{issue.locale}/LC_MESSAGES/messages.po")
    names = files.get(issue.flow or "", ())
    if len(names) == 1:
        return replace(issue, file=names[0])
    return issue


@dataclass(frozen=True)
class CheckedSet:
    """A set parsed and judged: publishable (on the desk it was checked for) if no errors."""

    registry: Registry
    issues: tuple[Issue, ...]
    """Errors and warnings in the order the checks found them."""

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity is Severity.WARNING)


def check_set(
    sources: RegistrySources, *, live_desk: bool = False, facts: Facts | None = None
) -> CheckedSet:
    """Build the registry of ``sources`` and run every check; raises FlowError if it does not parse.

    The one entry point for ``python -m flows check`` (with ``--live-desk``, the
    live variant) and for publishing on the live desk, so both judge alike.
    """
    registry = build_registry(sources)
    return CheckedSet(registry, tuple(inspect(registry, facts=facts, live_desk=live_desk)))


def load_registry(
    definitions_dir: Path = DEFINITIONS_DIR, locales_dir: Path = LOCALES_DIR
) -> Registry:
    """Read, parse and fully check a set; raise :class:`RegistryError` if it is unfit.

    Source citations are not checked here: the facts file is an editorial
    input that need not exist on a production server.
    """
    try:
        checked = check_set(read_sources(definitions_dir, locales_dir))
    except FlowError as exc:
        raise RegistryError(str(exc), (str(exc),)) from exc
    problems = tuple(str(issue) for issue in checked.errors)
    if problems:
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        raise RegistryError(f"{count} in the flows or catalogs; first: {problems[0]}", problems)
    return checked.registry
