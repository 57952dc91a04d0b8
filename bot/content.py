"""The live content: the set of flows and translations members are served, swapped whole.

Version 0 is the files the program ships with (``FLOWS_DIR``, ``LOCALES_DIR``);
coordinators publish versions 1, 2, ... into the database
(:mod:`storage.content`). At start the bot serves the newest published version
that passes its integrity check and the live desk's checks, else version 0.
Every worker then polls the newest version number every :data:`POLL_SECONDS`
(one cheap query) and swaps in a newer version once it has been read, verified
and checked in full, so a publish reaches members within seconds without a
restart. A version that fails is logged with the reason and never served; the
last good one keeps serving. SIGHUP re-reads the files: that swaps version 0
when it is what is served, and refreshes the shipped catalogs a published set
falls back to.

Handlers read :attr:`Content.current` once per update, so one update never
mixes two sets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from bot.i18n import Translator, translators
from flows.errors import FlowError
from flows.inspect import CheckedSet, check_set, load_registry
from flows.locales import ordered_locales
from flows.pending import pending_texts
from flows.registry import SOURCE_LOCALE, Registry, RegistrySources
from flows.values import TextValues
from storage.content_records import (
    ContentFiles,
    ContentRepository,
    LocaleSwitch,
    PublishedVersion,
)
from storage.errors import ContentIntegrityError, UnknownVersion

log = logging.getLogger(__name__)

POLL_SECONDS = 5
"""How often every worker asks the database for the newest version number."""


@dataclass(frozen=True)
class Snapshot:
    registry: Registry
    translators: Mapping[str, Translator]
    number: int = 0
    """The content version: 0 for the shipped files, else the published number."""
    sources: RegistrySources | None = None
    """The files it was built from (for the desk's drafts, summaries and export)."""
    locales: tuple[str, ...] | None = None
    """The languages members may pick, as :func:`member_locales` decides with the
    coordinators' switches; None: every language of the set (no switches known)."""

    @property
    def member_locales(self) -> tuple[str, ...]:
        return self.registry.locales if self.locales is None else self.locales


def load_snapshot(flows_dir: Path, locales_dir: Path, values: TextValues) -> Snapshot:
    """Version 0: the shipped files, held to the repository's full check.

    ``values``: the settings that screens state, such as the retention period.
    """
    registry = load_registry(flows_dir, locales_dir)
    return Snapshot(registry, translators(registry, values), 0, registry.sources)


def files_of(sources: RegistrySources) -> ContentFiles:
    return ContentFiles(sources.flow_files, sources.po_files, sources.template)


def sources_of(files: ContentFiles, shipped: Snapshot) -> RegistrySources:
    """A stored set as the checks read it; the glossary is the program's."""
    glossary = shipped.sources.glossary if shipped.sources is not None else None
    return RegistrySources(files.flow_files, files.po_files, files.template, glossary)


def published_snapshot(
    checked: CheckedSet,
    sources: RegistrySources,
    number: int,
    shipped: Snapshot,
    values: TextValues,
) -> Snapshot:
    """A checked published set, its translators falling back on the shipped catalogs.

    ``values`` fill the same settings placeholders as in the shipped set: a
    published text that names ``{retention_days}`` states the operator's setting.
    """
    return Snapshot(
        checked.registry,
        translators(checked.registry, values, fallback=shipped.registry.catalogs),
        number,
        sources,
    )


class VersionRefused(Exception):
    """A published version that must not be served, and why (no content in the reason)."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"content version {number} refused: {reason}")
        self.number = number
        self.reason = reason


class Content:
    """Holds the current snapshot and keeps it in step with the database."""

    def __init__(
        self,
        flows_dir: Path,
        locales_dir: Path,
        values: TextValues,
        versions: ContentRepository | None = None,
    ) -> None:
        self._flows_dir = flows_dir
        self._locales_dir = locales_dir
        self._values = values
        self._versions = versions
        self._shipped = load_snapshot(flows_dir, locales_dir, values)
        self._current = self._shipped
        self._switches: Mapping[str, LocaleSwitch] = MappingProxyType({})
        self._switches_broken = False
        self._refused: set[int] = set()
        """Versions that failed: logged once, never retried (rows never change legitimately)."""
        self._behind_warned: int | None = None

    @property
    def current(self) -> Snapshot:
        return self._current

    @property
    def shipped(self) -> Snapshot:
        """Version 0, whatever is served."""
        return self._shipped

    @property
    def versions(self) -> ContentRepository | None:
        return self._versions

    @property
    def switches(self) -> Mapping[str, LocaleSwitch]:
        """The coordinators' language switches, as last read."""
        return self._switches

    def _with_locales(self, snapshot: Snapshot) -> Snapshot:
        shipped = self._shipped.registry.catalogs
        return replace(snapshot, locales=member_locales(snapshot, self._switches, shipped=shipped))

    async def read_switches(self) -> Mapping[str, LocaleSwitch]:
        """Re-read the switches and apply them to what is served (part of every poll).

        A switch row edited outside the bot fails its MAC: then none is trusted,
        and members get the defaults (shipped languages on, added ones off).
        """
        if self._versions is None:
            return self._switches
        try:
            switches = await self._versions.locale_switches()
        except ContentIntegrityError as exc:
            if not self._switches_broken:
                log.error("%s; language switches ignored until it is fixed", exc)
            self._switches_broken = True
            switches = MappingProxyType({})
        else:
            self._switches_broken = False
        if dict(switches) != dict(self._switches) or self._current.locales is None:
            self._switches = switches
            self._current = self._with_locales(self._current)
        return self._switches

    async def switch_locale(self, locale: str, enabled: bool, *, by: str, today: date) -> None:
        """Store a coordinator's switch (audited) and serve it here at once."""
        if self._versions is None:
            raise RuntimeError("language switches need the database")
        await self._versions.switch_locale(LocaleSwitch(locale, enabled, by, today))
        await self.read_switches()

    @property
    def values(self) -> TextValues:
        """The settings every set's texts are filled with, published or shipped."""
        return self._values

    def reload(self) -> Snapshot:
        """SIGHUP: validate the files on disk in full, then swap; on error keep serving.

        While a published version is served the files are only its fallback.
        """
        shipped = load_snapshot(self._flows_dir, self._locales_dir, self._values)
        self._shipped = shipped
        current = self._current
        if current.number == 0:
            if shipped.registry.version != current.registry.version:
                log.info(
                    "flows reloaded: version %s -> %s",
                    current.registry.version,
                    shipped.registry.version,
                )
            self._current = self._with_locales(shipped)
        else:
            self._current = self._with_locales(
                replace(
                    current,
                    translators=translators(
                        current.registry, self._values, fallback=shipped.registry.catalogs
                    ),
                )
            )
            log.info(
                "shipped files reloaded; still serving published content version %d",
                current.number,
            )
        return self._current

    async def load_published(self) -> Snapshot:
        """At start: serve the newest published version that passes, else keep version 0."""
        return await self.refresh()

    async def refresh(self) -> Snapshot:
        """The poll: the switches, and a newer published version if there is a good one."""
        if self._versions is None:
            return self._current
        await self.read_switches()
        newest = await self._versions.newest_number()
        current = self._current.number
        if newest < current:
            if self._behind_warned != newest:
                # Rows cannot be unpublished through the bot: someone removed them.
                log.warning(
                    "the database's newest content version is %d, older than the %d being "
                    "served: published versions were removed outside the bot",
                    newest,
                    current,
                )
                self._behind_warned = newest
            return self._current
        for number in range(newest, current, -1):
            if number in self._refused:
                continue
            try:
                snapshot = await self.load_version(number)
            except VersionRefused as refused:
                self._refused.add(number)
                log.error("%s; still serving version %d", refused, self._current.number)
                continue
            self.adopt(snapshot)
            break
        return self._current

    async def load_version(self, number: int) -> Snapshot:
        """Read, verify and check a published version; VersionRefused if it must not serve."""
        if self._versions is None:
            raise VersionRefused(number, "no database")
        try:
            version = await self._versions.version(number)
        except (ContentIntegrityError, UnknownVersion) as exc:
            raise VersionRefused(number, str(exc)) from exc
        return await self.check_published(version)

    async def check_published(self, version: PublishedVersion) -> Snapshot:
        shipped = self._shipped
        sources = sources_of(version.files, shipped)
        try:
            # Parsing and checking a whole set takes a good part of a second:
            # off the event loop, so members' turns go on meanwhile.
            checked = await asyncio.to_thread(check_set, sources, live_desk=True)
        except FlowError as exc:
            raise VersionRefused(version.number, f"it does not parse: {exc}") from exc
        if checked.errors:
            raise VersionRefused(
                version.number,
                f"{len(checked.errors)} problem(s) with this program; first: {checked.errors[0]}",
            )
        return published_snapshot(checked, sources, version.number, shipped, self._values)

    def adopt(self, snapshot: Snapshot) -> bool:
        """Serve ``snapshot`` if it is newer than what is served; True if it now serves."""
        current = self._current
        if snapshot.number <= current.number:
            return snapshot is current
        log.info(
            "serving content version %d (flows %s, layout %s -> %s)",
            snapshot.number,
            snapshot.registry.version,
            current.registry.layout,
            snapshot.registry.layout,
        )
        self._current = self._with_locales(snapshot)
        return True


def member_locales(
    snapshot: Snapshot, switches: Mapping[str, LocaleSwitch], *, shipped: Collection[str]
) -> tuple[str, ...]:
    """The languages members may pick in ``snapshot``, given the coordinators' switches.

    English always. A ``shipped`` language (one with a catalog in version 0) unless
    a coordinator switched it off (its pending texts show in English with the
    marker). Any other language only once a coordinator switched it on and while
    its catalog is complete: a half-translated new language would be mostly English.
    """
    chosen = [SOURCE_LOCALE]
    for locale in snapshot.registry.catalogs:
        switch = switches.get(locale)
        if locale in shipped:
            visible = switch is None or switch.enabled
        else:
            visible = bool(switch and switch.enabled) and locale_complete(snapshot, locale)
        if visible:
            chosen.append(locale)
    return ordered_locales(chosen)


def locale_complete(snapshot: Snapshot, locale: str) -> bool:
    """Whether ``locale``'s catalog translates every text of ``snapshot``, program's included."""
    catalog = snapshot.registry.catalogs.get(locale)
    if catalog is None:
        return False
    template = snapshot.registry.template
    return not pending_texts(snapshot.registry.flows.values(), catalog, template)
