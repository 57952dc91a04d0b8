"""``python -m bot content``: the live content from the server's shell.

- ``export DIR`` writes the live version (or ``--version N``) in the repository's
  layout, so the repository can take in what coordinators published:
  ``DIR/flows/definitions/*.yaml``, ``DIR/locales/<locale>/LC_MESSAGES/messages.po``
  and ``DIR/locales/messages.pot``.
- ``import DIR`` publishes such a directory as a new version, checked first as
  the live desk checks (a failing set changes nothing and every problem is
  printed). The template is rebuilt from the running program's, as on the desk.
- ``history`` lists the published versions, newest first.
- ``rollback N`` publishes version N's files (0: the shipped ones) again as a new
  version; the history is never rewritten.

The running bot picks up what these publish within seconds. Exit codes: 0 done,
1 refused (the set, a conflict, a damaged version), 2 unusable input.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.content import Content, Snapshot, VersionRefused, files_of
from bot.publishing import NothingToPublish, Published, PublishRefused, publish, rollback
from bot.services import Storage, content_repository, open_content, open_storage
from bot.settings import Settings
from flows.bundle import UploadError, read_upload
from flows.errors import FlowError
from flows.glossary import GLOSSARY_FILE, with_columns
from flows.loader import read_text
from flows.registry import RegistrySources
from storage.content_records import BrokenVersion, ContentFiles
from storage.errors import StorageError, VersionConflict

OPERATOR = "admin"
"""The publisher label of the server's operator, as in the audit log."""
DEFINITIONS = Path("flows/definitions")
LOCALES = Path("locales")
CATALOG = Path("LC_MESSAGES/messages.po")
TEMPLATE = LOCALES / "messages.pot"
GLOSSARY = LOCALES / GLOSSARY_FILE


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = commands.add_parser("content", help="export, import and list live content")
    actions = content.add_subparsers(dest="content_command", required=True)
    export = actions.add_parser("export", help="write the live version as repository files")
    export.add_argument("directory", type=Path)
    export.add_argument("--version", type=int, default=None, help="a published number, 0: shipped")
    imported = actions.add_parser("import", help="publish a directory as a new version")
    imported.add_argument("directory", type=Path)
    history = actions.add_parser("history", help="list published versions, newest first")
    history.add_argument("--limit", type=int, default=20)
    back = actions.add_parser("rollback", help="publish an older version again as a new one")
    back.add_argument("number", type=int)


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(settings, args))
    except (StorageError, FlowError, VersionRefused) as exc:
        print(f"yardem: {exc}", file=sys.stderr)
        return 1


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    storage = await open_storage(settings)
    try:
        command: str = args.content_command
        if command == "history":
            return await _history(storage, args.limit)
        content = await open_content(settings, storage)
        if command == "export":
            return await _export(content, args.directory, args.version)
        if command == "import":
            return await _import(content, args.directory)
        return await _rollback(content, args.number)
    finally:
        await storage.database.close()


# export ------------------------------------------------------------------------


async def _export(content: Content, directory: Path, number: int | None) -> int:
    if number is None or number == content.current.number:
        snapshot = content.current
    elif number == 0:
        snapshot = content.shipped
    else:
        snapshot = await content.load_version(number)
    assert snapshot.sources is not None
    files = files_of(snapshot.sources)
    written, removed = write_files(directory, files, glossary=snapshot.sources.glossary)
    for path in removed:
        print(f"removed {path} (not in version {snapshot.number})")
    print(f"version {snapshot.number}: {len(written)} files written to {directory}")
    return 0


def write_files(
    directory: Path, files: ContentFiles, *, glossary: str | None = None
) -> tuple[list[Path], list[Path]]:
    """Lay ``files`` out as the repository keeps them; remove flows and catalogs not in it.

    ``glossary`` (the program's) is written with an empty column for each language
    the set added, for its translators to fill before the repository's check passes.

    Returns (written, removed). Names were checked to be plain file and locale
    names when the set was stored, so nothing lands outside ``directory``.
    """
    definitions = directory / DEFINITIONS
    definitions.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    removed: list[Path] = []
    for stale in sorted(definitions.glob("*.yaml")):
        if stale.name not in files.flow_files:
            stale.unlink()
            removed.append(stale)
    for name, text in files.flow_files.items():
        written.append(_write(definitions / name, text))
    for stale in sorted((directory / LOCALES).glob(f"*/{CATALOG}")):
        if stale.parents[1].name not in files.po_files:
            stale.unlink()
            removed.append(stale)
    for locale, text in files.po_files.items():
        written.append(_write(directory / LOCALES / locale / CATALOG, text))
    if files.template is not None:
        written.append(_write(directory / TEMPLATE, files.template))
    if glossary is not None:
        written.append(_write(directory / GLOSSARY, with_columns(glossary, files.po_files)))
    return written, removed


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# import ------------------------------------------------------------------------


class UnusableDirectory(Exception):
    pass


def read_files(directory: Path) -> RegistrySources:
    """A directory in the repository's layout as a set (its template is not used)."""
    definitions = directory / DEFINITIONS
    if not definitions.is_dir():
        raise UnusableDirectory(f"{definitions} is not a directory of flow files")
    try:
        flow_files = {path.name: read_text(path) for path in sorted(definitions.glob("*.yaml"))}
        po_files: dict[str, str] = {}
        for path in sorted((directory / LOCALES).glob(f"*/{CATALOG}")):
            locale = path.parents[1].name
            po_files[locale] = _catalog(path, locale)
    except FlowError as exc:
        raise UnusableDirectory(str(exc)) from exc
    if not flow_files:
        raise UnusableDirectory(f"{definitions} holds no *.yaml flow files")
    try:
        checked = ContentFiles(flow_files, po_files)  # names that can be stored and exported
    except ValueError as exc:
        raise UnusableDirectory(str(exc)) from exc
    return RegistrySources(checked.flow_files, checked.po_files)


def _catalog(path: Path, locale: str) -> str:
    """A catalog read as the desk reads an upload: its ``Language:`` must be a language
    CLDR knows, and the one its directory names (a new language is welcome)."""
    try:
        upload = read_upload(str(path), path.read_bytes(), known_locales=(locale,))
    except UploadError as exc:
        raise UnusableDirectory(str(exc)) from exc
    except OSError as exc:
        raise UnusableDirectory(f"{path}: {exc.strerror}") from exc
    [(found, text)] = upload.po_files.items()
    if found != locale:
        raise UnusableDirectory(
            f"{path}: its 'Language:' header names {found!r}, its directory {locale!r}"
        )
    return text


async def _import(content: Content, directory: Path) -> int:
    try:
        sources = read_files(directory)
    except UnusableDirectory as exc:
        print(f"yardem: cannot import: {exc}", file=sys.stderr)
        return 2
    return await _published(
        lambda: publish(content, sources, publisher=OPERATOR, today=_today()), content.current
    )


async def _rollback(content: Content, number: int) -> int:
    return await _published(
        lambda: rollback(content, number, publisher=OPERATOR, today=_today()), content.current
    )


async def _published(action: Callable[[], Awaitable[Published]], live: Snapshot) -> int:
    try:
        published = await action()
    except NothingToPublish as exc:
        print(exc.problems[0])
        return 0
    except PublishRefused as exc:
        print(f"yardem: not published, {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except VersionConflict as exc:
        print(f"yardem: {exc}; run the command again", file=sys.stderr)
        return 1
    for warning in published.warnings:
        print(f"warning: {warning}")
    print(f"published version {published.info.number} (was {live.number}):")
    for line in published.summary.english_lines():
        print(f"  {line}")
    print("the running bot serves it within seconds")
    return 0


def _today() -> date:
    return datetime.now(UTC).date()


# history -----------------------------------------------------------------------


async def _history(storage: Storage, limit: int) -> int:
    listed = await content_repository(storage).history(limit)
    if not listed:
        print("no published versions: the bot serves the shipped files (version 0)")
        return 0
    broken = 0
    for entry in listed:
        if isinstance(entry, BrokenVersion):
            broken += 1
            print(f"{entry.number:>4}  DAMAGED, not served: {entry.reason}")
            continue
        origin = "" if entry.base == entry.number - 1 else f"  (files of version {entry.base})"
        print(f"{entry.number:>4}  {entry.day}  {entry.publisher}{origin}")
        for line in summary_lines(entry.summary):
            print(f"        {line}")
    return 1 if broken else 0


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """A stored change summary (``ChangeSummary.as_dict()``) in a few English lines."""
    lines: list[str] = []
    texts = summary.get("texts", {})
    for locale, changes in texts.items() if isinstance(texts, dict) else ():
        if not isinstance(changes, dict):
            continue
        parts = [
            f"{len(changes.get(key) or [])} {label}"
            for key, label in (
                ("changed", "texts changed"),
                ("became_pending", "became pending"),
                ("resolved", "translated"),
            )
            if changes.get(key)
        ]
        if parts:
            lines.append(f"{locale}: {', '.join(parts)}")
    for key in (
        "flows_added",
        "flows_removed",
        "nodes_added",
        "nodes_removed",
        "buttons_added",
        "buttons_moved",
        "buttons_removed",
        "locales_added",
        "locales_removed",
    ):
        items = summary.get(key)
        if items:
            lines.append(f"{len(items)} {key.replace('_', ' ')}")
    if summary.get("layout_changed"):
        lines.append("members' open screens said the menu had changed")
    return lines or ["no changes recorded"]
