"""How wide a text is on screen, in the columns a terminal or a button uses.

A Chinese character takes the room of two Latin letters, so a limit counted
in characters lets a Chinese button label run twice as long as intended.
"""

from __future__ import annotations

import unicodedata

_ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})
"""Combining marks and format characters (bidi isolates, joiners) take no room."""
_WIDE = frozenset({"W", "F"})


def display_width(text: str) -> int:
    """Columns ``text`` takes: wide and full-width characters count two."""
    width = 0
    for char in text:
        if unicodedata.category(char) in _ZERO_WIDTH:
            continue
        width += 2 if unicodedata.east_asian_width(char) in _WIDE else 1
    return width
