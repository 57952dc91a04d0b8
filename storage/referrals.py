"""Referrals as records: a member's consented request for a volunteer, apart from any SQL.

A referral holds only codes (topic, urgency, country, language), days, its
status and the claiming volunteer's pseudonym; the member's chat id is kept
encrypted by the adapter and returned only where a caller needs to write to
them. The SQLite adapter is :class:`storage.sqlite.referrals.SqliteReferralRepository`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Literal

from storage.relay_copies import Copy

URGENT = ("detained", "immediate_risk")
"""Urgencies that re-notify until claimed."""
CRISIS = "detained"
"""Someone detained or stopped now: a repository's ``open`` never refuses them."""
Status = Literal["open", "claimed", "handover", "closed"]
HELD: tuple[Status, ...] = ("claimed", "handover")
"""The statuses in which a volunteer holds a referral."""
_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_ID_LENGTH = 8


@dataclass(frozen=True)
class Referral:
    id: str
    member_key: bytes
    topic: str
    urgency: str
    country: str | None
    language: str
    status: Status
    volunteer: bytes | None
    outcome: str | None
    created_day: date
    notify_count: int

    @property
    def urgent(self) -> bool:
        return self.urgency in URGENT


@dataclass(frozen=True)
class Expired:
    referral: Referral
    member_chat: int | None
    notices: list[tuple[bytes, int]]


@dataclass(frozen=True)
class Withdrawn:
    referral: Referral
    notices: list[tuple[bytes, int]]
    copies: list[Copy]
    """The bot's copies of relayed words in both chats, to delete or blank."""
    member_chat: int | None = None


@dataclass(frozen=True)
class Fixed:
    """Voice or video notes of a live referral about to outlive Telegram's deletion window."""

    referral: Referral
    member_chat: int | None
    copies: list[Copy]


@dataclass(frozen=True)
class Refused:
    reason: Literal["already_open", "daily_limit"]


@dataclass(frozen=True)
class Held:
    """A crisis request filed beyond the daily limit: queued, and first announced at
    its ``notify_at`` by the urgent rounds instead of at once (see ``open``)."""

    referral: Referral


@dataclass(frozen=True)
class Escalated:
    """A crisis request met the member's open request, which now carries it instead."""

    referral: Referral
    """The open request as it is now: urgency detained, the country if one was given."""
    changed: bool
    """False if it was marked detained already, and nothing changed."""
    notices: list[tuple[bytes, int]]
    """Notices sent about it before, which show the old urgency: to be replaced."""


def new_referral_id() -> str:
    # Random, not sequential: an id reveals neither order nor volume.
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def valid_referral_id(value: str) -> bool:
    return len(value) == _ID_LENGTH and all(c in _ID_ALPHABET for c in value)
