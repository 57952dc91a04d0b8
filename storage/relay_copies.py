"""The bot's copies of relayed words, kept so they can be removed when a request ends.

Telegram lets a bot delete a message for 48 hours only, but edit its own
messages for ever. To leave nothing readable on either phone once a request
is closed, handed back, handed over or withdrawn, the bot keeps, for as long as
the request lives, where each copy sits: deletable copies are deleted, older
ones blanked by an edit. The list is one encrypted blob per referral, padded
(:func:`pack`), so a seized file reveals neither whose chats the copies are in
nor how many there are beyond a coarse bucket. This module holds the record and
the blob format; the SQL is in :mod:`storage.sqlite.relay_copies`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.deletable import oldest_deletable_hour, sent_hour
from storage.errors import StorageError

Kind = Literal["text", "media", "fixed", "own"]
"""How a copy can be made unreadable once too old to delete:

- ``text``: a bot message with text, blanked with editMessageText;
- ``media``: a bot photo, video or document, blanked with editMessageMedia;
- ``fixed``: a bot voice or video note, which no edit can change, so it is
  removed while Telegram still allows (:data:`REMOVE_FIXED_AFTER_HOURS`);
- ``own``: the sender's original in their own chat, which the bot may delete
  for 48 hours but never edit.
"""
_KINDS: dict[str, Kind] = {"t": "text", "m": "media", "f": "fixed", "o": "own"}
_CODES = {kind: code for code, kind in _KINDS.items()}
_SMALLEST_PAD = 256
MEMBER_CHAT = "m"
REMOVE_FIXED_AFTER_HOURS = 44
"""Voice and video notes are deleted this long after they were relayed: past
48 hours neither deleting nor editing them would work any more, and the
hourly job and hour-granular times need the margin."""


@dataclass(frozen=True)
class Copy:
    staff_key: bytes | None
    """The volunteer's chat it sits in; None for the member's chat."""
    message_id: int
    kind: Kind
    sent_hour: int

    def deletable(self, now: datetime) -> bool:
        return self.sent_hour >= oldest_deletable_hour(now)


def copies_at(
    staff_key: bytes | None, message_ids: Sequence[int], kind: Kind, now: datetime
) -> list[Copy]:
    hour = sent_hour(now)
    return [Copy(staff_key, message_id, kind, hour) for message_id in message_ids]


def pack(copies: Sequence[Copy]) -> bytes:
    rows = [
        [
            MEMBER_CHAT if c.staff_key is None else c.staff_key.hex(),
            c.message_id,
            _CODES[c.kind],
            c.sent_hour,
        ]
        for c in copies
    ]
    plain = json.dumps(rows, separators=(",", ":")).encode()
    # Padded to a power of two: the blob's length tells only the order of
    # magnitude of a conversation, not how many messages it had.
    size = _SMALLEST_PAD
    while size < len(plain):
        size *= 2
    return plain + b" " * (size - len(plain))


def unpack(plain: bytes) -> list[Copy]:
    try:
        rows = json.loads(plain.decode())
        return [
            Copy(
                None if chat == MEMBER_CHAT else bytes.fromhex(chat),
                int(message_id),
                _KINDS[code],
                int(hour),
            )
            for chat, message_id, code, hour in rows
        ]
    except (ValueError, KeyError, TypeError):
        raise StorageError("stored relay copies are not readable") from None
