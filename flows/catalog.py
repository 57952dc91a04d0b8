"""A small reader for gettext PO files.

The flow package may depend only on the standard library, pydantic and PyYAML,
yet the static checks must see what a translator sees in a PO file (fuzzy
flags, empty translations, obsolete entries), which compiled MO files lose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from types import MappingProxyType

from flows.errors import CatalogError

Key = tuple[str | None, str]
"""``(msgctxt, msgid)``, the identity of a message in a catalog."""


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    msgid_plural: str | None
    msgstr: tuple[str, ...]
    """One string, or one per plural form."""
    fuzzy: bool
    line: int

    @property
    def translated(self) -> bool:
        return all(self.msgstr) and bool(self.msgstr)

    @property
    def usable(self) -> bool:
        """Gettext never shows fuzzy or empty translations."""
        return self.translated and not self.fuzzy


@dataclass(frozen=True)
class Catalog:
    locale: str
    entries: MappingProxyType[Key, Entry]
    headers: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def lookup(self, context: str | None, msgid: str) -> Entry | None:
        return self.entries.get((context, msgid))

    @property
    def plural_forms(self) -> str:
        return self.headers.get("Plural-Forms", "nplurals=2; plural=(n != 1);")


@dataclass
class _Pending:
    context: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    line: int = 0
    last: str | None = None
    last_index: int = 0


def _unquote(raw: str, *, origin: str, line: int) -> str:
    raw = raw.strip()
    if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
        raise CatalogError(f"{origin}:{line}: expected a quoted string")
    try:
        value = ast.literal_eval(raw)
    except (SyntaxError, ValueError) as exc:
        raise CatalogError(f"{origin}:{line}: bad string escape") from exc
    if not isinstance(value, str):
        raise CatalogError(f"{origin}:{line}: expected a quoted string")
    return value


def parse_po(text: str, *, locale: str, origin: str) -> Catalog:
    entries: dict[Key, Entry] = {}
    headers: dict[str, str] = {}
    pending = _Pending()

    def flush() -> None:
        nonlocal pending
        if pending.msgid is not None:
            count = max(pending.msgstr) + 1 if pending.msgstr else 0
            strings = tuple(pending.msgstr.get(i, "") for i in range(count))
            entry = Entry(
                pending.context,
                pending.msgid,
                pending.msgid_plural,
                strings,
                pending.fuzzy,
                pending.line,
            )
            if entry.msgid == "" and entry.context is None:
                for header in (strings[0] if strings else "").splitlines():
                    name, _, value = header.partition(":")
                    if name.strip():
                        headers[name.strip()] = value.strip()
            else:
                key = (entry.context, entry.msgid)
                if key in entries:
                    raise CatalogError(f"{origin}:{entry.line}: duplicate message {entry.msgid!r}")
                entries[key] = entry
        elif pending.context is not None or pending.msgstr:
            raise CatalogError(f"{origin}:{pending.line}: entry without msgid")
        pending = _Pending()

    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#~"):
            # Obsolete entries are history, not catalog content; a "#, fuzzy"
            # written just before one belongs to it, not to the next entry.
            flush()
            continue
        if line.startswith("#,"):
            if pending.msgid is not None:
                flush()
            pending.fuzzy = pending.fuzzy or "fuzzy" in {
                flag.strip() for flag in line[2:].split(",")
            }
            continue
        if line.startswith("#"):
            if pending.msgid is not None:
                flush()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if pending.last is None:
                raise CatalogError(f"{origin}:{number}: continuation line without a keyword")
            value = _unquote(line, origin=origin, line=number)
            if pending.last == "msgctxt":
                pending.context = (pending.context or "") + value
            elif pending.last == "msgid":
                pending.msgid = (pending.msgid or "") + value
            elif pending.last == "msgid_plural":
                pending.msgid_plural = (pending.msgid_plural or "") + value
            else:
                pending.msgstr[pending.last_index] += value
            continue
        value = _unquote(rest, origin=origin, line=number)
        if keyword == "msgctxt":
            if pending.msgid is not None:
                flush()
            pending.context = value
            pending.line = pending.line or number
        elif keyword == "msgid":
            if pending.msgid is not None:
                flush()
            pending.msgid = value
            pending.line = pending.line or number
        elif keyword == "msgid_plural":
            pending.msgid_plural = value
        elif keyword == "msgstr":
            if pending.msgid is None or 0 in pending.msgstr:
                raise CatalogError(f"{origin}:{number}: msgstr without its own msgid")
            pending.msgstr[0] = value
            pending.last_index = 0
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = keyword[len("msgstr[") : -1]
            if not index.isdigit():
                raise CatalogError(f"{origin}:{number}: bad plural index")
            if pending.msgid is None or int(index) in pending.msgstr:
                raise CatalogError(f"{origin}:{number}: msgstr without its own msgid")
            pending.last_index = int(index)
            pending.msgstr[pending.last_index] = value
            keyword = "msgstr"
        else:
            raise CatalogError(f"{origin}:{number}: unknown keyword {keyword!r}")
        pending.last = keyword
    flush()
    return Catalog(locale, MappingProxyType(entries), MappingProxyType(headers))
