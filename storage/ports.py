"""What the bot needs from storage: one ``Protocol`` per repository, typed with the records.

The bot annotates with these; the composition root (``bot/services.py``) picks
the adapter (SQLite today, :mod:`storage.sqlite`; PostgreSQL is planned). No
port or record mentions a database type: a port returns records, raises the
exceptions of :mod:`storage.errors`, and hides transactions, checkpoints and
SQL. ``tests/unit/test_storage_ports.py`` checks every adapter against its port.

Every method that changes a referral's hands, an account or an invite writes
its audit entry in the same transaction; every read that returns a sealed row
(accounts, referrals, invites) has verified its MAC, and a row that fails is
absent (see :mod:`storage.integrity`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from storage.audit import AuditEntry, AuditReport, Compaction, RelayCount
from storage.content_records import ContentRepository
from storage.referrals import (
    Escalated,
    Expired,
    Fixed,
    Held,
    Referral,
    Refused,
    Status,
    Withdrawn,
)
from storage.relay_copies import Copy
from storage.staff import Change, Invite, Role, StaffMember

__all__ = [
    "AuditLog",
    "ClaimCounts",
    "ContentRepository",
    "InviteRepository",
    "MemberRepository",
    "NoticeRepository",
    "ReferralRepository",
    "RelayCopyRepository",
    "StaffRepository",
]
"""``ContentRepository`` is defined beside the content records it serves."""


class MemberRepository(Protocol):
    """Encrypted member state and the message ids /wipe may still delete, keyed by pseudonym."""

    async def load(self, member_key: bytes) -> dict[str, Any] | None:
        """The member's state, or None; DecryptionError if it does not open."""
        ...

    async def save(self, member_key: bytes, state: Mapping[str, Any], *, today: date) -> None: ...

    async def erase(self, member_key: bytes) -> None:
        """Everything about the member, gone from the file too (not only from the tables)."""
        ...

    async def remember_messages(
        self, member_key: bytes, message_ids: Iterable[int], *, now: datetime
    ) -> None:
        """StorageError if the member was not saved first."""
        ...

    async def deletable_messages(self, member_key: bytes, *, now: datetime) -> list[int]: ...

    async def forget_old_messages(self, *, now: datetime) -> int: ...

    async def purge_idle(self, *, before: date) -> int:
        """Erase members idle since before ``before`` who have no open request."""
        ...

    async def count(self) -> int: ...


class InviteRepository(Protocol):
    """Single-use, expiring invite codes, stored only as hashes."""

    async def add_invite(
        self, code_hash: bytes, role: Role, *, created_by: str, expires_at: int, today: date
    ) -> None: ...

    async def redeem_invite(self, code_hash: bytes, *, now: int) -> Invite | None:
        """Use an invite once (it is gone afterwards, expired or not); None if not valid."""
        ...

    async def drop_expired_invites(self, *, now: int) -> int: ...


class StaffRepository(InviteRepository, Protocol):
    """Volunteers and coordinators, the languages they hold, and whom they write to."""

    async def add(
        self,
        key: bytes,
        *,
        role: Role,
        label: str,
        locale: str,
        chat_id: int,
        actor: str,
        today: date,
    ) -> StaffMember: ...

    async def get(self, key: bytes) -> StaffMember | None: ...

    async def by_label(self, label: str) -> StaffMember | None: ...

    async def everyone(self) -> list[StaffMember]: ...

    async def to_notify(self, language: str) -> list[StaffMember]: ...

    async def chat_id(self, member: StaffMember) -> int: ...

    async def set_languages(self, key: bytes, languages: Iterable[str]) -> None: ...

    async def set_current(self, key: bytes, referral_id: str | None) -> None: ...

    async def leave_target(self, key: bytes, keep: str) -> str | None: ...

    async def drop_target(self, referral_id: str) -> list[bytes]: ...

    async def pending_languages(self, key: bytes) -> dict[str, bool]: ...

    async def pending_by_account(self) -> dict[bytes, frozenset[str]]: ...

    async def toggle_requested_language(self, key: bytes, language: str) -> None: ...

    async def ask_for_languages(self, key: bytes, *, actor: str, today: date) -> list[str]: ...

    async def decide_language(
        self, key: bytes, language: str, approve: bool, *, actor: str, today: date
    ) -> bool: ...

    async def set_active(
        self,
        key: bytes,
        active: bool,
        *,
        actor: str,
        today: date,
        next_round_at: int = 0,
        announce_all: bool = False,
    ) -> Change: ...

    async def remove(
        self,
        key: bytes,
        *,
        actor: str,
        today: date,
        next_round_at: int = 0,
        announce_all: bool = False,
    ) -> Change: ...


class RelayCopyRepository(Protocol):
    """Where the bot's copies of relayed words sit, for as long as their referral lives."""

    async def remember_copies(self, referral_id: str, copies: list[Copy]) -> bool:
        """False if the referral is gone or closed: remove these copies at once."""
        ...

    async def take_copies(self, referral_id: str) -> list[Copy]: ...

    async def take_fixed_copies(self, *, now: datetime) -> list[Fixed]: ...


class ClaimCounts(Protocol):
    """Claims per account and day (days, never finer)."""

    async def claims_on(self, staff_key: bytes, day: date) -> int: ...

    async def claims_since(self, day: date) -> dict[bytes, int]: ...

    async def forget_claims(self, *, before: date) -> int: ...


class ReferralRepository(RelayCopyRepository, ClaimCounts, Protocol):
    """Referrals and their life cycle; each change of hands is one guarded, audited step.

    A change returns the referral as it is afterwards, or None if it did not
    apply (someone else was first, the account is not active or holds its cap,
    the row failed its check).
    """

    async def open(
        self,
        member_key: bytes,
        *,
        topic: str,
        urgency: str,
        country: str | None,
        language: str,
        chat_id: int,
        today: date,
        notify_at: int | None,
        rate_key: bytes,
        daily_limit: int,
    ) -> Referral | Held | Escalated | Refused: ...

    async def get(self, referral_id: str) -> Referral | None: ...

    async def active_for_member(self, member_key: bytes) -> Referral | None: ...

    async def held_by(self, staff_key: bytes) -> list[Referral]: ...

    async def member_chat(self, referral: Referral) -> int | None: ...

    async def held_counts(self) -> dict[bytes, int]: ...

    async def claim(
        self,
        referral_id: str,
        staff_key: bytes,
        *,
        actor: str,
        today: date,
        max_held: int | None = None,
    ) -> Referral | None: ...

    async def release(
        self, referral_id: str, staff_key: bytes, *, actor: str, today: date, next_round_at: int
    ) -> Referral | None: ...

    async def ask_handover(
        self, referral_id: str, staff_key: bytes, *, actor: str, today: date
    ) -> Referral | None: ...

    async def reassign(
        self,
        referral_id: str,
        new_volunteer: bytes,
        *,
        actor: str,
        today: date,
        max_held: int | None = None,
    ) -> Referral | None: ...

    async def close(
        self, referral_id: str, staff_key: bytes, outcome: str, *, actor: str, today: date
    ) -> Referral | None: ...

    async def withdraw(
        self, member_key: bytes, *, today: date, action: str
    ) -> Withdrawn | None: ...

    async def relayed(self, referral_id: str, *, actor: str, today: date) -> None: ...

    async def add_notice(self, referral_id: str, staff_key: bytes, message_id: int) -> bool:
        """Record a notice; False if the referral was claimed or gone meanwhile."""
        ...

    async def take_notices(self, referral_id: str) -> list[tuple[bytes, int]]: ...

    async def due_renotify(self, *, now: int) -> list[Referral]: ...

    async def mark_notified(self, referral: Referral, *, now: int, next_at: int | None) -> bool:
        """Compare-and-set: two workers never both re-notify the same round."""
        ...

    async def expire_unclaimed(self, *, before: date, today: date) -> list[Expired]: ...

    async def purge_closed(self, *, before: date) -> int: ...

    async def forget_request_counts(self, *, before: date) -> int: ...

    async def count(self, status: Status | None = None) -> int: ...


class NoticeRepository(Protocol):
    """Notices that announce several requests in one staff message (urgent digests)."""

    async def take_with_companions(
        self, referral_ids: Sequence[str]
    ) -> list[tuple[str, bytes, int]]: ...

    async def sharing(self, staff_key: bytes, message_id: int) -> list[str]: ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log (appends happen inside other repositories)."""

    async def entries(self) -> list[AuditEntry]: ...

    async def verify(self) -> AuditReport: ...

    async def relay_counts(self) -> list[RelayCount]: ...

    async def seal_relay_counts(self, *, before: date) -> int: ...

    async def compact(self, *, before: date, today: date) -> Compaction | None: ...
