"""Publishing a content set as a new live version, and rolling back to an older one.

The one way content changes for members, for every caller: the coordinators'
desk in Telegram and the operator's ``python -m bot content import``. A set is
checked in full as the live desk judges it (``python -m flows check
--live-desk``: missing or fuzzy translations are warnings, members get the
English with a marker; every other fault refuses the set) before anything is
stored; it is stored as the next number only if the version the publisher saw
is still the newest; then this worker serves it at once and every other worker
within :data:`bot.content.POLL_SECONDS`.

Rolling back publishes an older version's files again as a new version: the
history is never rewritten.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date

from bot.content import Content, Snapshot, files_of, published_snapshot, sources_of
from flows.changes import ChangeSummary, summarize_changes
from flows.errors import FlowError
from flows.facts import load_sources
from flows.inspect import Issue, check_set
from flows.registry import RegistrySources
from flows.template import set_template
from storage.content_records import VersionInfo


class PublishRefused(Exception):
    """The set was not published; ``problems`` says why, one line each, in English.

    ``issues`` holds the checks' findings (flow, node, locale, code) for the desk to
    word in the coordinator's language; it is empty when the set did not parse.
    """

    def __init__(self, problems: tuple[str, ...], issues: tuple[Issue, ...] = ()) -> None:
        self.problems = problems
        self.issues = issues
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"not published: {problems[0]}{more}")


class NothingToPublish(PublishRefused):
    """The set is the live one: a new version would change nothing."""

    def __init__(self, number: int) -> None:
        super().__init__((f"nothing to publish: the set is the same as live version {number}",))


@dataclass(frozen=True)
class Published:
    info: VersionInfo
    summary: ChangeSummary
    warnings: tuple[Issue, ...]
    """What the live desk tolerates: pending translations, glossary words."""
    snapshot: Snapshot


def prepared(sources: RegistrySources, shipped: Snapshot) -> RegistrySources:
    """``sources`` as they are published: the running program's template rebuilt for
    their flows, and its glossary (neither comes from an upload)."""
    program = shipped.sources
    template = set_template(program.template if program else None, sources.flow_files)
    return replace(sources, template=template, glossary=program.glossary if program else None)


async def publish(
    content: Content,
    sources: RegistrySources,
    *,
    publisher: str,
    today: date,
    base: int | None = None,
    live: Snapshot | None = None,
    summary: ChangeSummary | None = None,
) -> Published:
    """Check ``sources`` and publish them as the version after ``live``.

    ``publisher``: the pseudonymous label of who publishes (``admin`` from the
    server). ``live``: the snapshot the publisher saw and the summary is relative
    to (default: what this worker serves); if another version went live since,
    :class:`storage.errors.VersionConflict` is raised and nothing is stored, so
    the caller merges and shows the coordinator the result again. ``base``: the
    version the files were made from (default ``live``'s). Raises
    :class:`PublishRefused` listing every problem when the set is unfit.
    """
    repository = content.versions
    if repository is None:
        raise PublishRefused(("publishing needs the database",))
    live = content.current if live is None else live
    if live.sources is None:
        raise PublishRefused(("the live set's files are not known",))
    try:
        # Parsing and checking a whole set takes a good part of a second: off the
        # event loop, so members' turns go on meanwhile.
        sources = await asyncio.to_thread(prepared, sources, content.shipped)
        if files_of(sources) == files_of(live.sources):
            raise NothingToPublish(live.number)
        # Citations are checked against the program's own copy of the sources
        # (flows/sources.csv, shipped with it), as ``flows check`` does: every
        # installation judges them alike, with or without the shared FACTS.md.
        facts = await asyncio.to_thread(load_sources)
        checked = await asyncio.to_thread(check_set, sources, live_desk=True, facts=facts)
    except FlowError as exc:
        raise PublishRefused((str(exc),)) from exc
    if checked.errors:
        raise PublishRefused(tuple(str(issue) for issue in checked.errors), checked.errors)
    if summary is None:
        summary = summarize_changes(
            live.sources, sources, live_registry=live.registry, draft_registry=checked.registry
        )
    info = await repository.publish(
        files_of(sources),
        after=live.number,
        base=live.number if base is None else base,
        publisher=publisher,
        day=today,
        summary=summary.as_dict(),
    )
    snapshot = published_snapshot(checked, sources, info.number, content.shipped, content.values)
    served = content.current if content.adopt(snapshot) else snapshot
    # What is served carries the languages members may pick; the same set otherwise.
    return Published(info, summary, checked.warnings, served)


async def rollback(
    content: Content, number: int, *, publisher: str, today: date, live: Snapshot | None = None
) -> Published:
    """Publish version ``number``'s files (0: the shipped files) again as a new version.

    Raises :class:`storage.errors.UnknownVersion` or
    :class:`storage.errors.ContentIntegrityError` for a version that cannot be
    served, and whatever :func:`publish` raises.
    """
    repository = content.versions
    if repository is None:
        raise PublishRefused(("rolling back needs the database",))
    if number == 0:
        shipped = content.shipped.sources
        assert shipped is not None
        files = files_of(shipped)
    else:
        files = (await repository.version(number)).files
    return await publish(
        content,
        sources_of(files, content.shipped),
        publisher=publisher,
        today=today,
        base=number,
        live=live,
    )
