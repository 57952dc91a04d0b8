"""Every SQLite adapter implements its port exactly, so a second backend has one list to meet."""

from __future__ import annotations

import inspect

import pytest

from storage import ports
from storage.sqlite.audit import SqliteAuditLog
from storage.sqlite.content import SqliteContentRepository
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.notices import SqliteNoticeRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository

PAIRS: list[tuple[type, type]] = [
    (ports.MemberRepository, SqliteMemberRepository),
    (ports.StaffRepository, SqliteStaffRepository),
    (ports.InviteRepository, SqliteStaffRepository),
    (ports.ReferralRepository, SqliteReferralRepository),
    (ports.RelayCopyRepository, SqliteReferralRepository),
    (ports.ClaimCounts, SqliteReferralRepository),
    (ports.NoticeRepository, SqliteNoticeRepository),
    (ports.AuditLog, SqliteAuditLog),
    (ports.ContentRepository, SqliteContentRepository),
]


def _methods(port: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(port, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_port_is_listed() -> None:
    assert {port.__name__ for port, _ in PAIRS} == set(ports.__all__)


@pytest.mark.parametrize(("port", "adapter"), PAIRS, ids=lambda c: c.__name__)
def test_the_adapter_has_each_method_of_its_port_with_the_same_signature(
    port: type, adapter: type
) -> None:
    wanted = _methods(port)
    assert wanted, f"{port.__name__} declares no methods"
    for name, signature in wanted.items():
        implemented = getattr(adapter, name, None)
        assert implemented is not None, f"{adapter.__name__} lacks {name}"
        assert inspect.iscoroutinefunction(implemented), f"{adapter.__name__}.{name} is not async"
        assert inspect.signature(implemented) == signature, f"{adapter.__name__}.{name} differs"


def test_ports_and_records_never_name_a_database_type() -> None:
    for module in ("ports", "referrals", "staff", "relay_copies", "audit", "content_records"):
        source = inspect.getsource(__import__(f"storage.{module}", fromlist=["_"]))
        for name in ("sqlite3", "aiosqlite", "Connection", "Cursor"):
            assert name not in source, f"storage/{module}.py mentions {name}"


# mypy checks these: each adapter is assignable to its port (a Protocol).
def _members(a: SqliteMemberRepository) -> ports.MemberRepository:
    return a


def _staff(a: SqliteStaffRepository) -> ports.StaffRepository:
    return a


def _referrals(a: SqliteReferralRepository) -> ports.ReferralRepository:
    return a


def _notices(a: SqliteNoticeRepository) -> ports.NoticeRepository:
    return a


def _audit(a: SqliteAuditLog) -> ports.AuditLog:
    return a


def _content(a: SqliteContentRepository) -> ports.ContentRepository:
    return a
