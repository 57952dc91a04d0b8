"""The files the desk sends and reads: the download zip, version stamps, pending catalogs.

A downloaded catalog carries the live version it was made from in its
``X-Yardem-Version`` header (and the zip's name says it too), so an upload
made from an older version is merged onto the newer one rather than undoing
it. The stamp is removed again on upload: it is the desk's bookkeeping, not
content, and a catalog sent back unchanged must change nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po

from flows.merge import PO_WIDTH
from flows.pending import PendingReason, PendingText
from flows.registry import RegistrySources

VERSION_HEADER = "X-Yardem-Version"
PARTIAL_HEADER = "X-Yardem-Partial"
"""Set on the small catalog of pending texts: entries it lacks are kept, not removed."""
_STAMP = re.compile(rf'^"{VERSION_HEADER}: *(\d{{1,9}})\\n"\n', re.MULTILINE)
_PARTIAL = re.compile(rf'^"{PARTIAL_HEADER}: *yes\\n"\n', re.MULTILINE)
_ZIP_VERSION = re.compile(r"-v(\d{1,9})(?:\D|$)")
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)
"""Zip entries get one fixed date: the same version always downloads as the same bytes."""


def stamp(po_text: str, number: int) -> str:
    """``po_text`` with a ``X-Yardem-Version`` header naming ``number``."""
    header_end = po_text.find("\n\n")
    head, rest = (po_text, "") if header_end < 0 else (po_text[:header_end], po_text[header_end:])
    return f'{head}\n"{VERSION_HEADER}: {number}\\n"{rest}'


def unstamp(po_text: str) -> tuple[str, int | None, bool]:
    """(text without the desk's headers, the version it names, whether it is partial)."""
    match = _STAMP.search(po_text)
    number = int(match[1]) if match else None
    partial = _PARTIAL.search(po_text) is not None
    return _PARTIAL.sub("", _STAMP.sub("", po_text)), number, partial


_FLOW_STAMP = re.compile(rf"^# {VERSION_HEADER}: (\d{{1,9}})\n")


def stamp_flow(text: str, number: int) -> str:
    """A flow file with the version it was downloaded from in a first comment line."""
    return f"# {VERSION_HEADER}: {number}\n{text}"


def unstamp_flow(text: str) -> tuple[str, int | None]:
    match = _FLOW_STAMP.match(text)
    return (text[match.end() :], int(match[1])) if match else (text, None)


def zip_version(name: str) -> int | None:
    """The version a download's file name names (``yardem-texts-v3.zip``), if any."""
    match = _ZIP_VERSION.search(name)
    return int(match[1]) if match else None


def download_name(number: int) -> str:
    return f"yardem-texts-v{number}.zip"


def download_zip(sources: RegistrySources, number: int) -> bytes:
    """One ``.po`` per locale (stamped), the ``.pot`` and the flow files, flat in one folder."""
    folder = f"yardem-texts-v{number}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, text: str) -> None:
            info = zipfile.ZipInfo(f"{folder}/{name}", _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))

        for locale, text in sorted(sources.po_files.items()):
            add(f"{locale}.po", stamp(text, number))
        if sources.template is not None:
            add("messages.pot", sources.template)
        for name, text in sorted(sources.flow_files.items()):
            add(name, stamp_flow(text, number))
    return buffer.getvalue()


def overlay(base_text: str, partial_text: str) -> str:
    """``base_text`` with every translated entry of ``partial_text`` put in its place."""
    base = read_po(io.StringIO(base_text))
    partial = read_po(io.StringIO(partial_text))
    for message in partial:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not any(strings):
            continue
        existing = base.get(message.id, context=message.context)
        if existing is None:
            base[message.id] = message
        else:
            existing.string = message.string
            existing.flags = set(message.flags)
    buffer = io.BytesIO()
    write_po(buffer, base, width=PO_WIDTH)
    return buffer.getvalue().decode("utf-8")


def pending_catalog(
    locale: str,
    number: int,
    pending: Iterable[PendingText],
    translations: Mapping[tuple[str | None, str], str],
) -> bytes:
    """A small catalog of ``locale``'s pending texts, to translate and send back.

    A fuzzy entry keeps its old translation (flagged), as ``pybabel update``
    leaves it, so the translator sees what to correct.
    """
    catalog = BabelCatalog(locale=None, project="Yardem", version=str(number))
    catalog.mime_headers = [("Language", locale)]
    for text in pending:
        old = translations.get((text.context, text.msgid), "")
        fuzzy = text.reason is PendingReason.FUZZY and bool(old)
        catalog[text.msgid] = Message(
            text.msgid,
            old if fuzzy else "",
            context=text.context,
            flags=("fuzzy",) if fuzzy else (),
        )
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=PO_WIDTH, omit_header=False)
    # Babel keeps only the headers it knows; the desk's own go in as text.
    written = stamp(buffer.getvalue().decode("utf-8"), number)
    return _add_header(written, f"{PARTIAL_HEADER}: yes").encode("utf-8")


def _add_header(po_text: str, header: str) -> str:
    end = po_text.find("\n\n")
    end = len(po_text) if end < 0 else end
    return f'{po_text[:end]}\n"{header}\\n"{po_text[end:]}'
