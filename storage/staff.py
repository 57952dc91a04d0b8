"""Volunteers and coordinators as records, apart from any SQL.

An account is keyed by the pseudonym of its Telegram id; coordinators see only
its short label. The SQLite adapter is
:class:`storage.sqlite.staff.SqliteStaffRepository`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["volunteer", "coordinator"]
ROLES: tuple[Role, ...] = ("volunteer", "coordinator")


@dataclass(frozen=True)
class StaffMember:
    key: bytes
    role: Role
    active: bool
    label: str
    locale: str
    languages: frozenset[str]
    current_referral: str | None

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"


@dataclass(frozen=True)
class Invite:
    role: Role
    created_by: str
    """The inviting coordinator's label."""


@dataclass(frozen=True)
class Change:
    returned: list[str]
    """Referrals the account held, now back in the queue."""
    notices: list[int]
    """Message ids of notices in the removed account's chat (only for a removal)."""
