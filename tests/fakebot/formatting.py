"""Telegram's text processing: HTML parse mode, entity offsets, trimming.

Telegram never stores the markup a bot sends: it parses ``parse_mode=HTML``
into plain text plus ``entities`` and returns that. Tests assert on what the
member sees, so the fake server must do the same, and must reject the HTML
Telegram rejects (an unescaped ``<`` in a translation is a real bug).

Entity offsets and lengths count UTF-16 code units, as the Bot API specifies.
"""

from __future__ import annotations

import html
import re
from typing import Any

from tests.fakebot.models import ApiError, bad_request

# Tags Telegram's HTML mode accepts, mapped to the entity they produce.
_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w-]*)(?:\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_NUMERIC_ENTITY = re.compile(r"#(?:[xX]([0-9A-Fa-f]{1,6})|([0-9]{1,7}))")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(source: str, index: int) -> int:
    # Telegram reports positions in UTF-8 bytes of the text the bot sent.
    return len(source[:index].encode("utf-8"))


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(text, entities)`` or raise ApiError."""
    out: list[str] = []
    length16 = 0
    entities: list[dict[str, Any]] = []
    # Open tags: (tag name, utf-16 start, entity template or None for a
    # <code> inside <pre> that only carries the language).
    stack: list[tuple[str, int, dict[str, Any] | None]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i + 1)
            if end < 0:
                raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _parse_error(
                        f"Unexpected end tag at byte offset {_byte_offset(source, i)}"
                    )
                open_name, start, template = stack.pop()
                if name and name != open_name:
                    raise _parse_error(
                        f"Unmatched end tag at byte offset {_byte_offset(source, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                # Telegram drops entities that would cover no text.
                if template is not None and length16 > start:
                    entities.append({**template, "offset": start, "length": length16 - start})
            else:
                stack.append(_open_tag(source, i, inner, stack, length16))
            i = end + 1
            continue
        if char == "&":
            semicolon = source.find(";", i + 1, i + 12)
            if semicolon > 0:
                decoded = _decode_entity(source[i + 1 : semicolon])
                if decoded is not None:
                    out.append(decoded)
                    length16 += utf16_len(decoded)
                    i = semicolon + 1
                    continue
            # An unknown or unterminated entity is kept literally, as Telegram does.
        out.append(char)
        length16 += utf16_len(char)
        i += 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_tag(
    source: str,
    index: int,
    inner: str,
    stack: list[tuple[str, int, dict[str, Any] | None]],
    start: int,
) -> tuple[str, int, dict[str, Any] | None]:
    match = _TAG_NAME.match(inner)
    name = match.group(0).lower() if match else ""
    attributes = {
        m.group(1).lower(): next((g for g in m.group(3, 4, 5) if g is not None), "")
        for m in _ATTRIBUTE.finditer(inner[len(name) :])
    }
    template: dict[str, Any] | None
    if name in _SIMPLE_TAGS:
        template = {"type": _SIMPLE_TAGS[name]}
        language = attributes.get("class", "")
        if name == "code" and stack and stack[-1][0] == "pre" and language.startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language.
            pre_template = stack[-1][2]
            if pre_template is not None:
                pre_template["language"] = language.removeprefix("language-")
            template = None
    elif name == "span" and attributes.get("class") == "tg-spoiler":
        template = {"type": "spoiler"}
    elif name == "a":
        template = {"type": "text_link", "url": attributes.get("href", "")}
    elif name == "blockquote":
        expandable = "expandable" in attributes
        template = {"type": "expandable_blockquote" if expandable else "blockquote"}
    elif name == "tg-emoji":
        template = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id", "")}
    else:
        raise _parse_error(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, index)}'
        )
    return name, start, template


def _decode_entity(name: str) -> str | None:
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    match = _NUMERIC_ENTITY.fullmatch(name)
    if match is None:
        return None
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code > 0x10FFFF:
        return None
    return html.unescape(f"&#{code};")


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading and trailing whitespace as Telegram does, shifting entities.

    Telegram trims the text of a message before storing it (so a text of only
    spaces and newlines counts as empty), and clips entities to what remains.
    """
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    clipped: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, clipped
