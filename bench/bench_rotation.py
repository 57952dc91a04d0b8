"""What a root key rotation costs: the re-encryption members wait on, and the switch's downtime.

    .venv/bin/python bench/bench_rotation.py [--members 10000] [--batch 200] [--pause 0.05]

With ``--members`` members (encrypted state, as the bot stores them), a tenth as many
requests and 50 accounts in a SQLite file, it prints:

1. the re-encryption pass (``rotate-key``): its total time and each batch
   transaction's time, which is how long a member's write can wait on it;
2. a member's save on a second connection (as the running bot's) while the
   pass runs, against the same without a pass;
3. the switch (``rotate-key --finish``), which runs with the bot stopped.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.crypto import FieldCipher, Pseudonymizer, pepper_of
from storage.keys import RootKeys
from storage.sqlite import rotation
from storage.sqlite.database import Database
from storage.sqlite.key_check import verify_root_key
from storage.sqlite.members import SqliteMemberRepository
from storage.sqlite.referrals import SqliteReferralRepository
from storage.sqlite.staff import SqliteStaffRepository

OLD = RootKeys(keys={1: b"\x41" * 32}, active=1, pseudonym_key_id=1)
BOTH = RootKeys(keys={1: b"\x41" * 32, 2: b"\x42" * 32}, active=2, pseudonym_key_id=1)
NEW = RootKeys(
    keys={2: b"\x42" * 32}, active=2, pseudonym_key_id=2, peppers=(pepper_of(b"\x41" * 32),)
)
TODAY = date(2025, 1, 6)
STATE = {"v": 1, "locale": "ug", "session": {"flow": "asylum", "node": "intro"}, "screen": 4211}


def _report(name: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[max(int(len(ms) * 0.95) - 1, 0)]
    print(
        f"{name:<46} n={len(ms):<6} p50={statistics.median(ms):8.2f} ms  "
        f"p95={p95:8.2f} ms  max={ms[-1]:8.2f} ms"
    )


async def _fill(db: Database, members: int) -> list[bytes]:
    names, cipher = Pseudonymizer(OLD), FieldCipher(OLD)
    audit_key = names.audit_key()
    await verify_root_key(db, names)
    repository = SqliteMemberRepository(db, cipher)
    keys = [names.member_key(9_000_000 + n) for n in range(members)]
    for key in keys:
        await repository.save(key, STATE, today=TODAY)
    staff = SqliteStaffRepository(db, cipher, audit_key)
    for n in range(50):
        key = names.member_key(9_900_000 + n)
        await staff.add(
            key,
            role="volunteer",
            label=names.label(key),
            locale="en",
            chat_id=9_900_000 + n,
            actor="admin",
            today=TODAY,
        )
    referrals = SqliteReferralRepository(db, cipher, audit_key)
    for key in keys[: members // 10]:
        await referrals.open(
            key,
            topic="family",
            urgency="general",
            country=None,
            language="ug",
            chat_id=1,
            today=TODAY,
            notify_at=None,
            rate_key=names.rate_key(key, TODAY.isoformat()),
            daily_limit=3,
        )
    return keys


async def _saves(db: Database, keys: list[bytes], stop: asyncio.Event) -> list[float]:
    """A member's save every few milliseconds on the bot's connection, timed."""
    repository = SqliteMemberRepository(db, FieldCipher(BOTH))
    samples: list[float] = []
    n = 0
    while not stop.is_set():
        start = time.perf_counter()
        await repository.save(keys[n % len(keys)], STATE, today=TODAY)
        samples.append(time.perf_counter() - start)
        n += 1
        await asyncio.sleep(0.005)
    return samples


async def main(members: int, batch: int, pause: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "yardem.sqlite3"
        async with await Database.open(path) as db:
            keys = await _fill(db, members)
        print(
            f"{members} members, {members // 10} requests, 50 accounts; "
            f"batch {batch}, pause {pause * 1000:g} ms"
        )
        async with await Database.open(path) as bot_db, await Database.open(path) as cli_db:
            stop = asyncio.Event()
            idle = asyncio.create_task(_saves(bot_db, keys, stop))
            await asyncio.sleep(2)
            stop.set()
            _report("member save, no rotation", await idle)

            await rotation.begin(cli_db, 2)
            await rotation.start_reencrypting(cli_db, bot_running=False)
            stamps = [time.perf_counter()]

            def report(table: str, done: int, seen: int) -> None:
                stamps.append(time.perf_counter())

            stop = asyncio.Event()
            busy = asyncio.create_task(_saves(bot_db, keys, stop))
            start = time.perf_counter()
            await rotation.reencrypt(
                cli_db, FieldCipher(BOTH), batch=batch, pause=pause, report=report
            )
            total = time.perf_counter() - start
            stop.set()
            _report("member save, during re-encryption", await busy)
            _report(
                "re-encryption batch (with the pause after it)",
                [b - a for a, b in itertools.pairwise(stamps)],
            )
            print(f"{'re-encryption pass, total':<46} {total:8.2f} s")

        async with await Database.open(path) as db:
            start = time.perf_counter()
            switched = await rotation.switch(
                db, Pseudonymizer(OLD), Pseudonymizer(NEW), FieldCipher(NEW), today=TODAY
            )
            seconds = time.perf_counter() - start
        print(
            f"{'switch (--finish), bot stopped':<46} {seconds:8.2f} s  "
            f"({switched.members} members, {switched.accounts} accounts)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between batches")
    args = parser.parse_args()
    asyncio.run(main(args.members, args.batch, args.pause))
