"""A coordinator's draft: the live set plus their uploads, always merged, always checked.

An upload is replayed onto the coordinator's working set (their draft, else the
live set) with a three-way merge whose base is the version the upload was made
from: a catalog downloaded from version 3 and uploaded after version 4 went
live keeps version 4's changes wherever the upload did not touch the same
entry, and is refused, naming each entry, where it did. A draft made before a
newer version went live is moved onto it the same way before anything else.

Only a draft that passes every check the live desk runs is kept, so the
coordinator's draft is always publishable; an upload that would break it is
reported and changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date

from bot.content import Content, Snapshot, files_of, sources_of
from bot.desk.files import overlay, unstamp, unstamp_flow, zip_version
from bot.publishing import prepared
from flows.bundle import UploadError, read_upload
from flows.changes import ChangeSummary, summarize_changes
from flows.errors import FlowError
from flows.facts import load_sources
from flows.inspect import CheckedSet, Issue, check_set
from flows.merge import Conflict, MergeConflict, merge_sources
from flows.registry import LOCALES, RegistrySources
from storage.content_records import ContentRepository, Draft
from storage.errors import ContentIntegrityError, UnknownVersion


@dataclass(frozen=True)
class Refused:
    """The upload itself is unusable (size, type, syntax, unsafe zip...)."""

    error: UploadError


@dataclass(frozen=True)
class Conflicted:
    """Someone else changed the same entries since the upload's version."""

    conflicts: tuple[Conflict, ...]
    base: int
    live: int


@dataclass(frozen=True)
class Failed:
    """The draft with this upload fails a check: not kept."""

    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    detail: str | None = None
    """The parser's words when the set does not even parse."""


@dataclass(frozen=True)
class Added:
    summary: ChangeSummary
    warnings: tuple[Issue, ...]
    base: int
    """The version the upload was made from."""
    merged: bool
    """The upload was made from an older version and merged onto the newer one."""
    live: int


UploadResult = Refused | Conflicted | Failed | Added


@dataclass(frozen=True)
class Working:
    """What a coordinator works on: their draft moved onto the live version, or the live set."""

    sources: RegistrySources
    live: Snapshot
    has_draft: bool


async def version_sources(content: Content, number: int) -> RegistrySources | None:
    """The files of version ``number`` (0: shipped), or None if it cannot be read."""
    current = content.current
    if number == current.number and current.sources is not None:
        return current.sources
    if number == 0:
        return content.shipped.sources
    if content.versions is None:
        return None
    try:
        version = await content.versions.version(number)
    except (UnknownVersion, ContentIntegrityError):
        return None
    return sources_of(version.files, content.shipped)


async def working_set(
    content: Content, repository: ContentRepository, owner: bytes
) -> Working | Conflicted:
    """The coordinator's draft on top of the live version (moved there if it was older)."""
    live = content.current
    assert live.sources is not None
    draft = await repository.draft(owner)
    if draft is None:
        return Working(live.sources, live, has_draft=False)
    mine = sources_of(draft.files, content.shipped)
    if draft.base == live.number:
        return Working(mine, live, has_draft=True)
    base = await version_sources(content, draft.base)
    if base is None:
        return Working(live.sources, live, has_draft=False)
    try:
        moved = await asyncio.to_thread(merge_sources, base, live.sources, mine)
    except MergeConflict as conflict:
        return Conflicted(conflict.conflicts, draft.base, live.number)
    return Working(moved, live, has_draft=True)


def _upload_base(upload_name: str, po_versions: list[int], live: int) -> int:
    named = [*po_versions, *([v] if (v := zip_version(upload_name)) is not None else [])]
    known = [number for number in named if 0 <= number <= live]
    return min(known) if known else live


async def take_upload(
    content: Content,
    repository: ContentRepository,
    owner: bytes,
    name: str,
    data: bytes,
    *,
    today: date,
) -> UploadResult:
    """Read, merge and check an upload; keep the resulting draft if it passes."""
    live = content.current
    try:
        upload = await asyncio.to_thread(
            read_upload, name, data, known_locales=(*LOCALES, *live.registry.catalogs)
        )
    except UploadError as error:
        return Refused(error)
    working = await working_set(content, repository, owner)
    if isinstance(working, Conflicted):
        return working
    po_files: dict[str, str] = {}
    versions: list[int] = []
    partial: set[str] = set()
    for locale, text in upload.po_files.items():
        plain, number, is_partial = unstamp(text)
        po_files[locale] = plain
        if number is not None:
            versions.append(number)
        if is_partial:
            partial.add(locale)
    flow_files: dict[str, str] = {}
    for flow_name, text in upload.flow_files.items():
        flow_files[flow_name], number = unstamp_flow(text)
        if number is not None:
            versions.append(number)
    base_number = _upload_base(name, versions, live.number)
    base = await version_sources(content, base_number)
    if base is None:
        base_number, base = live.number, live.sources
    assert base is not None
    for locale in partial:
        if locale in base.po_files:
            po_files[locale] = overlay(base.po_files[locale], po_files[locale])
    theirs = replace(upload, po_files=po_files, flow_files=flow_files).apply_to(base)
    try:
        merged = await asyncio.to_thread(merge_sources, base, working.sources, theirs)
    except MergeConflict as conflict:
        return Conflicted(conflict.conflicts, base_number, live.number)
    except FlowError as exc:
        return Failed((), (), str(exc))
    checked = await _check(merged, content)
    if isinstance(checked, Failed):
        return checked
    draft_sources, result = checked
    if result.errors:
        return Failed(result.errors, result.warnings)
    summary = await asyncio.to_thread(
        summarize_changes,
        live.sources or base,
        draft_sources,
        live_registry=live.registry,
        draft_registry=result.registry,
    )
    await repository.save_draft(Draft(owner, live.number, files_of(draft_sources), today))
    return Added(
        summary, result.warnings, base_number, merged=base_number != live.number, live=live.number
    )


async def _check(
    sources: RegistrySources, content: Content
) -> tuple[RegistrySources, CheckedSet] | Failed:
    try:
        ready = await asyncio.to_thread(prepared, sources, content.shipped)
        facts = await asyncio.to_thread(load_sources)
        checked = await asyncio.to_thread(check_set, ready, live_desk=True, facts=facts)
    except FlowError as exc:
        return Failed((), (), str(exc))
    return ready, checked


@dataclass(frozen=True)
class Reviewed:
    """A working set judged against the live one: what publishing it would do."""

    sources: RegistrySources
    checked: CheckedSet
    summary: ChangeSummary


async def review(working: Working, content: Content) -> Reviewed | Failed:
    checked = await _check(working.sources, content)
    if isinstance(checked, Failed):
        return checked
    sources, result = checked
    if result.errors:
        return Failed(result.errors, result.warnings)
    live = working.live
    assert live.sources is not None
    summary = await asyncio.to_thread(
        summarize_changes,
        live.sources,
        sources,
        live_registry=live.registry,
        draft_registry=result.registry,
    )
    return Reviewed(sources, result, summary)
