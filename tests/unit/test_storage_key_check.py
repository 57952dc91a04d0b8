from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from storage.crypto import Pseudonymizer
from storage.errors import KeyFileError
from storage.keys import add_key, parse_root_keys
from storage.sqlite.database import Database
from storage.sqlite.key_check import verify_root_key


def _keys(seed: bytes) -> str:
    return "1:" + base64.b64encode(seed * 32).decode()


async def test_the_first_key_is_recorded_and_others_refused(tmp_path: Path) -> None:
    original = parse_root_keys(_keys(b"a"))
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await verify_root_key(db, Pseudonymizer(original))
        await verify_root_key(db, Pseudonymizer(original))  # same key: fine, repeatedly
        await verify_root_key(db, Pseudonymizer(add_key(original)))  # rotation keeps key 1
        with pytest.raises(KeyFileError, match="does not belong"):
            await verify_root_key(db, Pseudonymizer(parse_root_keys(_keys(b"b"))))


async def test_the_check_value_reveals_no_pseudonym(tmp_path: Path) -> None:
    pseudonymizer = Pseudonymizer(parse_root_keys(_keys(os.urandom(1))))
    check = pseudonymizer.check_value()
    assert check not in {pseudonymizer.member_key(n) for n in (0, 1, -1, 42)}
