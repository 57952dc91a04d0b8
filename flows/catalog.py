"""Gettext PO catalogs as the checks and the bot read them.

The static checks must see what a translator sees in a PO file (fuzzy flags,
empty translations, obsolete entries), which compiled MO files lose, so
catalogs are read from their PO text.

Babel's parser (the one behind ``read_po``, which ``pybabel`` and
:mod:`flows.merge` use) assembles the entries: it joins continuation lines,
decodes escapes, reads the flags and lays out plural forms. It is lenient where
a catalog members are served from must not be: it pins a ``msgstr`` that has
no ``msgid`` on the next entry, brings back an obsolete entry whose ``msgstr``
lost its ``#~``, merges duplicate entries silently and reads a broken quoted
string as another string. So every line is checked first
(:func:`_check_lines`): each fault is named with the file and line, and the
lines Babel then reads have one meaning. Babel never sees obsolete entries
(``#~``: history, not content) nor the header, which is read here as written,
and never sees the flags written just before either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.pofile import PoFileError, PoFileParser, unescape

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


_STRING_BODY = re.compile(r'(?:[^"\\]|\\[\\"abfnrtv])*')
"""Inside the quotes: the escapes Babel decodes (C's, less octal and hex), nothing else."""


def _quoted(raw: str, *, origin: str, line: int) -> str:
    """``raw`` if it is one quoted PO string, else the fault with its line."""
    raw = raw.strip()
    if len(raw) < 2 or raw[0] != '"' or raw[-1] != '"':
        raise CatalogError(f"{origin}:{line}: expected a quoted string")
    body = raw[1:-1]
    if "\\" not in body and '"' not in body:
        return raw  # most lines: nothing to look at closer
    end = _STRING_BODY.match(body)
    assert end is not None  # the pattern matches the empty string
    stop = end.end()
    if stop < len(body):
        if body[stop] == '"':
            raise CatalogError(f'{origin}:{line}: a quote inside a string must be written \\"')
        raise CatalogError(f"{origin}:{line}: bad string escape {body[stop : stop + 2]!r}")
    return raw


def _joined(tokens: Sequence[str]) -> str:
    return "".join(unescape(token) for token in tokens)


@dataclass
class _Pending:
    """The entry being read."""

    start: int = 0
    msgid_line: int = 0
    context: list[str] | None = None
    msgid: list[str] | None = None
    plural: bool = False
    forms: dict[int, int] = field(default_factory=dict)
    """Plural form → the line of its ``msgstr[N]`` (0 also for a plain ``msgstr``)."""
    first_string: list[str] = field(default_factory=list)
    """The tokens of ``msgstr`` (or ``msgstr[0]``): the header's text, for the header."""
    last: str | None = None
    last_index: int = 0
    lines: list[int] = field(default_factory=list)
    """Indexes of its keyword and continuation lines."""
    flag_lines: list[int] = field(default_factory=list)
    """Indexes of the ``#,`` lines read since the last entry ended: its flags."""


@dataclass
class _Shape:
    """What the line check learnt, for reading Babel's result."""

    lines: list[str]
    """The text's lines as Babel reads them: the header and obsolete entries, and
    their flags, blanked out (line numbers stay)."""
    starts: dict[int, int] = field(default_factory=dict)
    """An entry's ``msgid`` line → its first line (its ``msgctxt``, if it has one)."""
    forms: dict[int, int] = field(default_factory=dict)
    """An entry's ``msgid`` line → how many translations it gives (``msgstr[N]``: N + 1)."""
    plural_lines: list[tuple[int, int]] = field(default_factory=list)
    """``(line, N)`` of every ``msgstr[N]`` with N > 0, in file order."""
    headers: dict[str, str] = field(default_factory=dict)
    header_line: int = 0


_NPLURALS = re.compile(r"nplurals\s*=([^;]*)")


def _check_lines(lines: list[str], origin: str) -> _Shape:
    shape = _Shape(list(lines))
    seen: set[Key] = set()
    pending = _Pending()

    def fail(line: int, problem: str) -> CatalogError:
        return CatalogError(f"{origin}:{line}: {problem}")

    def hide(indexes: list[int]) -> None:
        for index in indexes:
            shape.lines[index] = ""

    def flush() -> None:
        nonlocal pending
        if pending.msgid is not None:
            context = None if pending.context is None else _joined(pending.context)
            msgid = _joined(pending.msgid)
            if msgid == "" and context is None:
                shape.header_line = shape.header_line or pending.start
                # Read here, as written: Babel would judge the values (a malformed
                # Language is the upload checks' to name, not a syntax error).
                for header in _joined(pending.first_string).splitlines():
                    name, _, value = header.partition(":")
                    if name.strip():
                        shape.headers[name.strip()] = value.strip()
                hide(pending.lines + pending.flag_lines)
            elif msgid == "":
                # Babel would read it as a second header.
                raise fail(pending.start, "an empty msgid is only for the header")
            elif (context, msgid) in seen:
                raise fail(pending.start, f"duplicate message {msgid!r}")
            else:
                seen.add((context, msgid))
                shape.starts[pending.msgid_line] = pending.start
                shape.forms[pending.msgid_line] = max(pending.forms, default=-1) + 1
                shape.plural_lines += sorted(
                    (line, form) for form, line in pending.forms.items() if form > 0
                )
        elif pending.context is not None:
            raise fail(pending.start, "entry without msgid")
        pending = _Pending()

    for index, raw_line in enumerate(lines):
        number = index + 1
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("#~"):
            if pending.msgid is None:
                # A "#, fuzzy" written just before an obsolete entry belongs to it,
                # not to the next entry.
                hide(pending.flag_lines)
            flush()
            hide([index])
            continue
        if line.startswith("#"):
            if pending.msgid is not None:
                flush()
            if line.startswith("#,"):
                pending.flag_lines.append(index)
            continue
        if line.startswith('"'):
            pending.lines.append(index)
            if pending.last is None:
                raise fail(number, "continuation line without a keyword")
            token = _quoted(line, origin=origin, line=number)
            if pending.last == "msgctxt" and pending.context is not None:
                pending.context.append(token)
            elif pending.last == "msgid" and pending.msgid is not None:
                pending.msgid.append(token)
            elif pending.last == "msgstr" and pending.last_index == 0:
                pending.first_string.append(token)
            continue
        keyword, _, rest = line.partition(" ")
        token = _quoted(rest, origin=origin, line=number)
        if keyword in ("msgctxt", "msgid") and pending.msgid is not None:
            flush()
        pending.lines.append(index)
        if keyword == "msgctxt":
            pending.context = [token]
            pending.start = pending.start or number
        elif keyword == "msgid":
            pending.msgid = [token]
            pending.msgid_line = number
            pending.start = pending.start or number
        elif keyword == "msgid_plural":
            if pending.msgid is None or pending.plural or pending.forms:
                raise fail(number, "msgid_plural must follow its msgid")
            pending.plural = True
        elif keyword == "msgstr" or (keyword.startswith("msgstr[") and keyword.endswith("]")):
            index_text = "0" if keyword == "msgstr" else keyword[len("msgstr[") : -1]
            if not index_text.isdecimal():
                raise fail(number, "bad plural index")
            form = int(index_text)
            if pending.msgid is None or form in pending.forms:
                raise fail(number, "msgstr without its own msgid")
            if form > 0 and not pending.plural:
                raise fail(number, f"{keyword} without a msgid_plural")
            pending.forms[form] = number
            pending.last_index = form
            if form == 0:
                pending.first_string = [token]
            keyword = "msgstr"
        else:
            raise fail(number, f"unknown keyword {keyword!r}")
        pending.last = keyword
    flush()
    declared = _NPLURALS.search(shape.headers.get("Plural-Forms", ""))
    if declared is None:
        return shape
    if not declared[1].strip().isdecimal():
        raise fail(shape.header_line, f"Plural-Forms: {declared[0].strip()!r} is not a number")
    for number, form in shape.plural_lines:
        if form >= int(declared[1]):
            raise fail(number, f"msgstr[{form}] but Plural-Forms says {declared[0].strip()}")
    return shape


def parse_po(text: str, *, locale: str, origin: str) -> Catalog:
    """The catalog in ``text``; a :class:`CatalogError` names ``origin`` and the line at fault."""
    shape = _check_lines(text.splitlines(), origin)
    babel = BabelCatalog()
    # Room for every form written; the header's own count was checked above.
    most = max([1, *shape.forms.values()])
    babel.mime_headers = [("Plural-Forms", f"nplurals={most}; plural=0;")]
    try:
        PoFileParser(babel, abort_invalid=True).parse(shape.lines)
    except PoFileError as exc:
        problem = str(exc).rsplit(" on ", 1)[0]
        raise CatalogError(f"{origin}:{exc.lineno + 1}: {problem}") from exc
    entries: dict[Key, Entry] = {}
    for message in babel:
        if not message.id or message.lineno is None:
            continue  # the header Babel makes up; the file's was read above
        if isinstance(message.id, str):
            msgid, msgid_plural = message.id, None
        else:
            msgid, msgid_plural = message.id[0], message.id[1]
        if isinstance(message.string, str):
            strings: tuple[str, ...] = (message.string,)
        else:
            # Babel lays out as many forms as the longest entry; keep those written.
            strings = tuple(message.string or ())[: shape.forms[message.lineno]]
        entries[(message.context, msgid)] = Entry(
            message.context,
            msgid,
            msgid_plural,
            strings,
            message.fuzzy,
            shape.starts[message.lineno],
        )
    return Catalog(locale, MappingProxyType(entries), MappingProxyType(shape.headers))
