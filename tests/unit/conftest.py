"""Fixtures shared by the unit tests: a fresh database and the repositories over it.

A module that needs rows in place first overrides ``db`` with a fixture of the
same name that asks for this one, adds them and hands it on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository
from tests.unit.storage_samples import AUDIT_KEY, CIPHER


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "yardem.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    yield database
    await database.close()


@pytest.fixture
def members(db: Database) -> SqliteMemberRepository:
    return SqliteMemberRepository(db, CIPHER)


@pytest.fixture
def staff(db: Database) -> SqliteStaffRepository:
    return SqliteStaffRepository(db, CIPHER, AUDIT_KEY)


@pytest.fixture
def referrals(db: Database) -> SqliteReferralRepository:
    return SqliteReferralRepository(db, CIPHER, AUDIT_KEY)
