"""The closed vocabularies of a referral, each defined once.

String enums, so a value is also the string stored in the database and
carried in callback data: ``Status.OPEN == "open"``. ``storage/`` cannot import
the bot, so it keeps its own literals; tests/unit/test_staff_decisions.py
checks that the two agree.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Field(StrEnum):
    """A question the member answers; its value is the draft key and the button's code."""

    TOPIC = "t"
    URGENCY = "u"
    COUNTRY = "c"
    LANGUAGE = "l"


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    HANDOVER = "handover"
    """Held still, while its holder waits for a coordinator to pass it on."""
    CLOSED = "closed"


HELD = frozenset({Status.CLAIMED, Status.HANDOVER})
"""The statuses in which a volunteer holds a request and may write to its member."""


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


def status_of(referral: HasStatus) -> Status:
    """A stored referral's status as the enum (storage keeps plain literals)."""
    return Status(referral.status)


class Urgency(StrEnum):
    DETAINED = "detained"
    """The crisis: someone detained now. Never refused, never kept waiting."""
    IMMEDIATE_RISK = "immediate_risk"
    FAMILY_PRESSURE = "family_pressure"
    GENERAL = "general"


class Outcome(StrEnum):
    """How a volunteer closed a request (kept, without any detail, for the audit)."""

    INFORMED = "informed"
    LAWYER = "lawyer"
    NGO = "ngo"
    NO_RESPONSE = "no_response"
    OTHER = "other"


class WithdrawReason(StrEnum):
    """Why a member's request ended on their side."""

    CANCEL = "cancel"
    WIPE = "wipe"
