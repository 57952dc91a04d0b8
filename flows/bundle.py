"""Reading what a coordinator uploads: one catalog, one flow file, or a zip of several.

Uploads come from Telegram, and a coordinator's account can be stolen, so an
upload is hostile until proven otherwise: it must not exhaust memory (size
caps, zip bombs, YAML alias bombs), reach outside its own content (zip paths,
links, YAML tags that build Python objects), or slip in a language nobody
can read. :func:`read_upload` either returns the files the upload adds to a
draft, shaped like :class:`~flows.registry.RegistrySources`, or raises ONE
:class:`UploadError` whose code and parameters let the bot word the refusal
in the coordinator's own language; ``str()`` gives English for the CLI.

Nothing here judges the content itself (targets, translations, placeholders):
the draft built from the upload goes through :func:`flows.inspect.inspect`
like any other set.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import yaml

from flows.catalog import parse_po
from flows.errors import CatalogError, DefinitionError, FlowError
from flows.loader import parse_flow
from flows.locales import UnknownLocale, canonical_locale
from flows.registry import LOCALES, SOURCE_LOCALE, RegistrySources

MAX_FILE_BYTES = 2 * 1024 * 1024
"""An upload, and each file inside a zip: far above any real flow or catalog (~200 KB)."""
MAX_TOTAL_BYTES = 10 * 1024 * 1024
"""Everything a zip unpacks to, together."""
MAX_MEMBERS = 50
"""Entries in a zip, directories included: a full set is about 15 files."""
MAX_COMPRESSION_RATIO = 100
"""Text compresses about 5:1; far more means a bomb, refused before unpacking."""
RATIO_FLOOR_BYTES = 16 * 1024
"""Below this size a high ratio cannot hurt and tiny files compress oddly."""
MAX_YAML_DEPTH = 10
"""Nesting of mappings and lists in a flow file; the shipped flows use 5."""
MAX_YAML_NODES = 20_000
"""Scalars, mappings and lists in a flow file; the largest shipped flow has ~350."""

FLOW_SUFFIXES = (".yaml", ".yml")
CATALOG_SUFFIX = ".po"
TEMPLATE_SUFFIX = ".pot"
ZIP_SUFFIX = ".zip"

_JUNK = re.compile(r"(^|/)(__MACOSX/.*|\.DS_Store|\._[^/]*|Thumbs\.db|desktop\.ini)$")
"""What desktop zip tools add on their own; skipped rather than refused."""


class UploadErrorCode(StrEnum):
    TOO_LARGE = "too-large"
    """params: file, size, limit (bytes)"""
    EMPTY = "empty"
    """params: file — nothing in it to add to a draft"""
    UNKNOWN_TYPE = "unknown-type"
    """params: file — not .po, .yaml/.yml or .zip"""
    TEMPLATE = "template"
    """params: file — a .pot: the template comes from the program, not from uploads"""
    NOT_UTF8 = "not-utf8"
    """params: file, byte (offset of the first bad byte)"""
    PO_SYNTAX = "po-syntax"
    """params: file, line (1-based, 0 if unknown), detail (the parser's English words)"""
    PO_NO_LANGUAGE = "po-no-language"
    """params: file — no ``Language:`` header"""
    PO_UNKNOWN_LOCALE = "po-unknown-locale"
    """params: file, locale (as written in the header)"""
    PO_SOURCE_LOCALE = "po-source-locale"
    """params: file, locale — English lives in the flow files, not in a catalog"""
    YAML_SYNTAX = "yaml-syntax"
    """params: file, line, detail"""
    YAML_TAG = "yaml-tag"
    """params: file, line, tag — an explicit tag (``!!python/object``, ``!!str``, ``%TAG``)"""
    YAML_ANCHOR = "yaml-anchor"
    """params: file, line — an anchor or alias (``&a`` / ``*a``), the stuff of alias bombs"""
    YAML_TOO_DEEP = "yaml-too-deep"
    """params: file, line, limit"""
    YAML_TOO_BIG = "yaml-too-big"
    """params: file, limit (YAML nodes)"""
    YAML_DOCUMENTS = "yaml-documents"
    """params: file, line — more than one ``---`` document"""
    FLOW_INVALID = "flow-invalid"
    """params: file, detail — valid YAML that is not a flow (field names and reasons)"""
    DUPLICATE = "duplicate"
    """params: file, other, kind (``flow`` or ``locale``), value — two files for one thing"""
    ZIP_UNREADABLE = "zip-unreadable"
    """params: file, detail"""
    ZIP_TOO_MANY = "zip-too-many"
    """params: file, count, limit"""
    ZIP_UNSAFE_PATH = "zip-unsafe-path"
    """params: file — absolute, ``..``, backslash or empty path parts"""
    ZIP_NESTED = "zip-nested"
    """params: file, limit — deeper than one folder"""
    ZIP_LINK = "zip-link"
    """params: file — a symbolic link or other special file"""
    ZIP_ENCRYPTED = "zip-encrypted"
    """params: file"""
    ZIP_BOMB = "zip-bomb"
    """params: file, ratio, limit — compressed far more than text can be"""
    ZIP_TOTAL_TOO_LARGE = "zip-total-too-large"
    """params: file, size, limit — the members together unpack to too much"""


_ENGLISH: Mapping[UploadErrorCode, str] = {
    UploadErrorCode.TOO_LARGE: "{file}: {size} bytes is over the limit of {limit} bytes",
    UploadErrorCode.EMPTY: "{file}: contains no catalog (.po) or flow (.yaml) file",
    UploadErrorCode.UNKNOWN_TYPE: "{file}: send a .po catalog, a flow .yaml file or a .zip of them",
    UploadErrorCode.TEMPLATE: "{file}: the template (.pot) comes from the program; send .po files",
    UploadErrorCode.NOT_UTF8: "{file}: not UTF-8 text (byte {byte})",
    UploadErrorCode.PO_SYNTAX: "{file}: line {line}: not a valid PO file: {detail}",
    UploadErrorCode.PO_NO_LANGUAGE: "{file}: the catalog has no 'Language:' header",
    UploadErrorCode.PO_UNKNOWN_LOCALE: "{file}: {locale!r} is not a language CLDR knows",
    UploadErrorCode.PO_SOURCE_LOCALE: (
        "{file}: {locale!r} is the source language; change English texts in the flow files"
    ),
    UploadErrorCode.YAML_SYNTAX: "{file}: line {line}: not valid YAML: {detail}",
    UploadErrorCode.YAML_TAG: "{file}: line {line}: YAML tags such as {tag!r} are not allowed",
    UploadErrorCode.YAML_ANCHOR: "{file}: line {line}: YAML anchors and aliases are not allowed",
    UploadErrorCode.YAML_TOO_DEEP: "{file}: line {line}: nested deeper than {limit} levels",
    UploadErrorCode.YAML_TOO_BIG: "{file}: more than {limit} YAML values",
    UploadErrorCode.YAML_DOCUMENTS: "{file}: line {line}: a flow file holds one YAML document",
    UploadErrorCode.FLOW_INVALID: "{file}: not a valid flow: {detail}",
    UploadErrorCode.DUPLICATE: "{file}: {other} is for the same {kind} {value!r}",
    UploadErrorCode.ZIP_UNREADABLE: "{file}: not a readable zip: {detail}",
    UploadErrorCode.ZIP_TOO_MANY: "{file}: {count} entries is over the limit of {limit}",
    UploadErrorCode.ZIP_UNSAFE_PATH: "{file}: unsafe path inside the zip",
    UploadErrorCode.ZIP_NESTED: "{file}: folders nested more than {limit} deep",
    UploadErrorCode.ZIP_LINK: "{file}: links and special files are not allowed",
    UploadErrorCode.ZIP_ENCRYPTED: "{file}: encrypted zip entries are not allowed",
    UploadErrorCode.ZIP_BOMB: "{file}: compressed {ratio}:1, more than {limit}:1 (a zip bomb?)",
    UploadErrorCode.ZIP_TOTAL_TOO_LARGE: (
        "{file}: unpacks to {size} bytes, over the limit of {limit} bytes"
    ),
}


class UploadError(FlowError):
    """One reason an upload is refused; nothing from it reaches a draft.

    ``params["file"]`` names the file at fault as the coordinator knows it: the
    upload's name, or ``archive.zip/member.po`` for a file inside a zip.
    """

    def __init__(self, code: UploadErrorCode, **params: str | int) -> None:
        self.code = code
        self.params: Mapping[str, str | int] = MappingProxyType(dict(params))
        super().__init__(_ENGLISH[code].format(**params))


@dataclass(frozen=True)
class Upload:
    """The files an upload contributes to a draft."""

    flow_files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """``<flow id>.yaml`` → text (named by the id inside, whatever the upload was called)."""
    po_files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Canonical locale → PO text (the locale read from the ``Language:`` header)."""
    new_locales: frozenset[str] = frozenset()
    """Locales in ``po_files`` that were not among the known ones: a language being added."""
    ignored: tuple[str, ...] = ()
    """Zip entries skipped on purpose: the template, desktop tools' litter, folders."""
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Key of ``flow_files`` or ``po_files`` → the file it came from, for the report
    (``info.yaml`` → ``texts.zip/info (2).yml``, ``ug`` → ``texts.zip/uyghur.po``)."""

    def apply_to(self, sources: RegistrySources) -> RegistrySources:
        """``sources`` with this upload's files added or replacing theirs."""
        return replace(
            sources,
            flow_files={**sources.flow_files, **self.flow_files},
            po_files={**sources.po_files, **self.po_files},
        )


def read_upload(name: str, data: bytes, *, known_locales: Collection[str] = LOCALES) -> Upload:
    """The files ``data`` (an upload called ``name``) adds to a draft, or an UploadError."""
    if len(data) > MAX_FILE_BYTES:
        raise UploadError(
            UploadErrorCode.TOO_LARGE, file=name, size=len(data), limit=MAX_FILE_BYTES
        )
    if not data:
        raise UploadError(UploadErrorCode.EMPTY, file=name)
    lowered = name.lower()
    if lowered.endswith(ZIP_SUFFIX):
        return _read_zip(name, data, known_locales)
    collector = _Collector(known_locales)
    collector.add(name, data)
    return collector.result()


@dataclass
class _Collector:
    known_locales: Collection[str]
    flows: dict[str, tuple[str, str]] = field(default_factory=dict)
    """flow id → (file name, text)"""
    catalogs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """locale → (file name, text)"""
    ignored: list[str] = field(default_factory=list)

    def add(self, name: str, data: bytes) -> None:
        lowered = name.lower()
        if lowered.endswith(CATALOG_SUFFIX):
            locale, text = _read_catalog(name, data, self.known_locales)
            self._keep(self.catalogs, locale, name, text, "locale")
        elif lowered.endswith(FLOW_SUFFIXES):
            flow_id, text = _read_flow(name, data)
            self._keep(self.flows, flow_id, name, text, "flow")
        elif lowered.endswith(TEMPLATE_SUFFIX):
            raise UploadError(UploadErrorCode.TEMPLATE, file=name)
        else:
            raise UploadError(UploadErrorCode.UNKNOWN_TYPE, file=name)

    @staticmethod
    def _keep(found: dict[str, tuple[str, str]], key: str, name: str, text: str, kind: str) -> None:
        if key in found:
            raise UploadError(
                UploadErrorCode.DUPLICATE, file=name, other=found[key][0], kind=kind, value=key
            )
        found[key] = (name, text)

    def result(self) -> Upload:
        return Upload(
            flow_files=MappingProxyType(
                {f"{flow_id}.yaml": text for flow_id, (_, text) in sorted(self.flows.items())}
            ),
            po_files=MappingProxyType(
                {locale: text for locale, (_, text) in sorted(self.catalogs.items())}
            ),
            new_locales=frozenset(self.catalogs) - frozenset(self.known_locales),
            ignored=tuple(self.ignored),
            origins=MappingProxyType(
                {
                    **{f"{flow_id}.yaml": name for flow_id, (name, _) in self.flows.items()},
                    **{locale: name for locale, (name, _) in self.catalogs.items()},
                }
            ),
        )


def _text(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UploadError(UploadErrorCode.NOT_UTF8, file=name, byte=exc.start) from exc
    # Editors on Windows add a byte-order mark and CRLF; the repository has neither.
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


_ORIGIN = "<upload>"
_CATALOG_ERROR = re.compile(rf"^{re.escape(_ORIGIN)}:(\d+): (.*)$", re.DOTALL)


def _read_catalog(name: str, data: bytes, known: Collection[str]) -> tuple[str, str]:
    text = _text(name, data)
    # The reader that will serve the catalog, so what is accepted here is what
    # members get: Babel's reader behind a line check that refuses what Babel
    # would misread (stray escapes, duplicates, orphan msgstrs), with the line.
    try:
        catalog = parse_po(text, locale="upload", origin=_ORIGIN)
    except CatalogError as exc:
        match = _CATALOG_ERROR.match(str(exc))
        line, detail = (int(match[1]), match[2]) if match else (0, str(exc))
        raise UploadError(UploadErrorCode.PO_SYNTAX, file=name, line=line, detail=detail) from exc
    language = catalog.headers.get("Language", "").strip()
    if not language:
        raise UploadError(UploadErrorCode.PO_NO_LANGUAGE, file=name)
    try:
        locale = canonical_locale(language, known)
    except UnknownLocale as exc:
        raise UploadError(UploadErrorCode.PO_UNKNOWN_LOCALE, file=name, locale=language) from exc
    if locale == SOURCE_LOCALE:
        raise UploadError(UploadErrorCode.PO_SOURCE_LOCALE, file=name, locale=language)
    return locale, text


def _read_flow(name: str, data: bytes) -> tuple[str, str]:
    text = _text(name, data)
    _check_yaml_shape(name, text)
    try:
        flow = parse_flow(text, origin=_ORIGIN)
    except DefinitionError as exc:
        detail = str(exc).removeprefix(f"{_ORIGIN}: ")
        raise UploadError(UploadErrorCode.FLOW_INVALID, file=name, detail=detail) from exc
    return flow.id, text


def _events(name: str, text: str) -> Iterator[Any]:
    try:
        # parse() yields events without building anything: an alias bomb is seen as
        # one alias event, never expanded.
        yield from yaml.parse(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise UploadError(
            UploadErrorCode.YAML_SYNTAX,
            file=name,
            line=mark.line + 1 if mark is not None else 0,
            detail=exc.problem or exc.context or "unreadable",
        ) from exc
    except yaml.YAMLError as exc:
        raise UploadError(UploadErrorCode.YAML_SYNTAX, file=name, line=0, detail=str(exc)) from exc


def _check_yaml_shape(name: str, text: str) -> None:
    """Refuse tags, anchors, aliases, several documents and excessive nesting or size."""
    depth = 0
    nodes = 0
    documents = 0
    for event in _events(name, text):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise UploadError(UploadErrorCode.YAML_DOCUMENTS, file=name, line=line)
            if event.tags:
                directive = next(iter(event.tags.values()))
                raise UploadError(UploadErrorCode.YAML_TAG, file=name, line=line, tag=directive)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise UploadError(UploadErrorCode.YAML_ANCHOR, file=name, line=line)
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise UploadError(UploadErrorCode.YAML_TAG, file=name, line=line, tag=str(tag))
        if isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            nodes += 1
            if nodes > MAX_YAML_NODES:
                raise UploadError(UploadErrorCode.YAML_TOO_BIG, file=name, limit=MAX_YAML_NODES)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise UploadError(
                    UploadErrorCode.YAML_TOO_DEEP, file=name, line=line, limit=MAX_YAML_DEPTH
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


MAX_FOLDERS = 1
"""A zip is flat: files at its top, or inside one folder (a zipped folder)."""


def _read_zip(name: str, data: bytes, known: Collection[str]) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise UploadError(UploadErrorCode.ZIP_UNREADABLE, file=name, detail=str(exc)) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UploadError(
                UploadErrorCode.ZIP_TOO_MANY, file=name, count=len(members), limit=MAX_MEMBERS
            )
        wanted = _screen_members(name, members)
        collector = _Collector(known)
        collector.ignored.extend(member.filename for member in members if member not in wanted)
        total = 0
        for member in wanted:
            where = f"{name}/{member.filename}"
            content = _unpack(archive, member, where)
            total += len(content)
            if total > MAX_TOTAL_BYTES:
                raise UploadError(
                    UploadErrorCode.ZIP_TOTAL_TOO_LARGE,
                    file=name,
                    size=total,
                    limit=MAX_TOTAL_BYTES,
                )
            collector.add(where, content)
        result = collector.result()
    if not result.flow_files and not result.po_files:
        raise UploadError(UploadErrorCode.EMPTY, file=name)
    return result


def _screen_members(name: str, members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """Every check that needs only the zip's directory, before anything is unpacked.

    Returns the members to read; the others (folders, the template, litter) are
    skipped. Raises on the first member that is unsafe in any way.
    """
    wanted: list[zipfile.ZipInfo] = []
    declared = 0
    for member in members:
        where = f"{name}/{member.filename}"
        _check_path(where, member.orig_filename)
        mode = member.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UploadError(UploadErrorCode.ZIP_LINK, file=where)
        if member.flag_bits & 0x1:
            raise UploadError(UploadErrorCode.ZIP_ENCRYPTED, file=where)
        parts = member.filename.rstrip("/").split("/")
        if _JUNK.search(member.filename):
            continue
        if member.is_dir() or kind == stat.S_IFDIR:
            if len(parts) > MAX_FOLDERS:
                raise UploadError(UploadErrorCode.ZIP_NESTED, file=where, limit=MAX_FOLDERS)
            continue
        if len(parts) > MAX_FOLDERS + 1:
            raise UploadError(UploadErrorCode.ZIP_NESTED, file=where, limit=MAX_FOLDERS)
        if member.file_size > MAX_FILE_BYTES:
            raise UploadError(
                UploadErrorCode.TOO_LARGE, file=where, size=member.file_size, limit=MAX_FILE_BYTES
            )
        if member.file_size >= RATIO_FLOOR_BYTES:
            ratio = member.file_size // max(member.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise UploadError(
                    UploadErrorCode.ZIP_BOMB, file=where, ratio=ratio, limit=MAX_COMPRESSION_RATIO
                )
        declared += member.file_size
        if declared > MAX_TOTAL_BYTES:
            raise UploadError(
                UploadErrorCode.ZIP_TOTAL_TOO_LARGE, file=name, size=declared, limit=MAX_TOTAL_BYTES
            )
        lowered = member.filename.lower()
        if lowered.endswith(TEMPLATE_SUFFIX):
            continue  # a downloaded set carries the template; it is the program's, not theirs
        if not lowered.endswith((CATALOG_SUFFIX, *FLOW_SUFFIXES)):
            raise UploadError(UploadErrorCode.UNKNOWN_TYPE, file=where)
        wanted.append(member)
    return wanted


def _check_path(where: str, raw: str) -> None:
    parts = raw.split("/")
    if raw.endswith("/"):
        parts = parts[:-1]
    unsafe = (
        not raw
        or "\\" in raw
        or "\0" in raw
        or raw.startswith("/")
        or re.match(r"^[A-Za-z]:", raw) is not None
        or any(part in ("", ".", "..") for part in parts)
    )
    if unsafe:
        raise UploadError(UploadErrorCode.ZIP_UNSAFE_PATH, file=where)


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> bytes:
    """A member's bytes, never more than the cap whatever its header claims."""
    try:
        with archive.open(member) as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise UploadError(UploadErrorCode.ZIP_UNREADABLE, file=where, detail=str(exc)) from exc
    except EOFError as exc:
        raise UploadError(UploadErrorCode.ZIP_UNREADABLE, file=where, detail="truncated") from exc
    if len(content) > MAX_FILE_BYTES:
        raise UploadError(
            UploadErrorCode.TOO_LARGE, file=where, size=len(content), limit=MAX_FILE_BYTES
        )
    return content
