"""Live content as records, and the port a content repository implements.

Coordinators publish flow texts and translations as numbered versions; the
files the program ships with are version 0 and are not stored. These records
say what a version, a draft and a language switch are, apart from any SQL;
:class:`ContentRepository` is what the bot needs from a store of them, so a
PostgreSQL adapter can stand beside the SQLite one
(:class:`storage.sqlite.content.SqliteContentRepository`).

The storage package does not know what a flow or a catalog is (it must not
import ``flows``): files are names and texts here, judged by the bot before
they are stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Protocol

FLOW_FILE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\.yaml$")
"""``<flow id>.yaml``: also a safe file name when a version is written out to disk."""
LOCALE_CODE = re.compile(r"^[a-z]{2,3}(?:_[A-Za-z0-9]{2,8}){0,2}$")
"""A catalog's locale, as its directory is named (``ug``, ``zh_Hans``, ``pt_BR``)."""


def _frozen(values: Mapping[str, str], pattern: re.Pattern[str], what: str) -> Mapping[str, str]:
    for name, text in values.items():
        if not isinstance(name, str) or not pattern.fullmatch(name):
            raise ValueError(f"{what} {name!r} is not allowed in a content set")
        if not isinstance(text, str):
            raise TypeError(f"{what} {name!r}: the content must be text")
    return MappingProxyType(dict(sorted(values.items())))


@dataclass(frozen=True)
class ContentFiles:
    """A whole content set: what the repository keeps in ``flows/`` and ``locales/``."""

    flow_files: Mapping[str, str]
    """``<flow id>.yaml`` → YAML text."""
    po_files: Mapping[str, str]
    """Locale → catalog text (``locales/<locale>/LC_MESSAGES/messages.po``)."""
    template: str | None = None
    """``locales/messages.pot``."""

    def __post_init__(self) -> None:
        # Names become paths when a version is exported: refuse anything else here.
        object.__setattr__(
            self, "flow_files", _frozen(self.flow_files, FLOW_FILE_NAME, "flow file")
        )
        object.__setattr__(self, "po_files", _frozen(self.po_files, LOCALE_CODE, "locale"))
        if self.template is not None and not isinstance(self.template, str):
            raise TypeError("the template must be text")


@dataclass(frozen=True)
class VersionInfo:
    """A published version without its files: what the history lists."""

    number: int
    base: int
    """The version its files were made from: a draft's base, or the version rolled back to."""
    publisher: str
    """The publisher's pseudonymous label (``admin`` for the server's operator)."""
    day: date
    summary: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The change summary as JSON data (``flows.changes.ChangeSummary.as_dict()``)."""


@dataclass(frozen=True)
class PublishedVersion:
    info: VersionInfo
    files: ContentFiles

    @property
    def number(self) -> int:
        return self.info.number


@dataclass(frozen=True)
class BrokenVersion:
    """A row of the history that failed its integrity check: listed, never served."""

    number: int
    reason: str


@dataclass(frozen=True)
class Draft:
    """One coordinator's unpublished set, kept across restarts."""

    owner: bytes
    """The coordinator's pseudonym (their staff key)."""
    base: int
    """The live version the draft was built on, to merge it when a newer one is published."""
    files: ContentFiles
    day: date


@dataclass(frozen=True)
class LocaleSwitch:
    """A coordinator's decision that members may (or may not) pick a language."""

    locale: str
    enabled: bool
    changed_by: str
    """The coordinator's pseudonymous label."""
    day: date


class ContentRepository(Protocol):
    """Published versions, drafts and language switches, each checked on every read.

    Reads raise :class:`~storage.errors.ContentIntegrityError` for a row that
    fails its MAC; nothing unverified is ever returned.
    """

    async def newest_number(self) -> int:
        """The newest published version's number, 0 if none: cheap enough to poll."""
        ...

    async def publish(
        self,
        files: ContentFiles,
        *,
        after: int,
        base: int,
        publisher: str,
        day: date,
        summary: Mapping[str, Any],
    ) -> VersionInfo:
        """Store ``files`` as version ``after + 1`` (with an audit entry), only if
        ``after`` is still the newest; else raise
        :class:`~storage.errors.VersionConflict` and store nothing."""
        ...

    async def version(self, number: int) -> PublishedVersion:
        """A verified version; :class:`~storage.errors.UnknownVersion` if there is none."""
        ...

    async def history(self, limit: int = 20) -> list[VersionInfo | BrokenVersion]:
        """The newest ``limit`` versions, newest first, each verified."""
        ...

    async def save_draft(self, draft: Draft) -> None:
        """Keep ``draft`` as its owner's only draft, replacing an earlier one."""
        ...

    async def draft(self, owner: bytes) -> Draft | None: ...

    async def discard_draft(self, owner: bytes) -> None: ...

    async def switch_locale(self, switch: LocaleSwitch) -> None:
        """Record who switched a language on or off (with an audit entry)."""
        ...

    async def locale_switches(self) -> Mapping[str, LocaleSwitch]:
        """Locale → the last switch recorded for it."""
        ...
