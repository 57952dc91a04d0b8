"""How long one member turn takes, piece by piece. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_turn.py

1. engine step + screen rendering (pure, in process);
2. encrypted member state save + load on SQLite (WAL, secure_delete);
3. end to end: an update through the fake Bot API server over real HTTP, the
   real Application, storage and rendering, until the bot's reply arrives.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import load_snapshot
from bot.members import Members, MemberState, utc_now
from bot.screens import screen_for_events
from flows import engine
from flows.loader import DEFINITIONS_DIR
from flows.registry import LOCALES_DIR
from flows.values import TextValues
from storage.crypto import FieldCipher, Pseudonymizer
from storage.keys import generate_root_key_file
from storage.sqlite.database import Database
from storage.sqlite.members import SqliteMemberRepository


def _report(name: str, samples: list[float]) -> None:
    samples_ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(samples_ms)
    p95 = samples_ms[int(len(samples_ms) * 0.95) - 1]
    print(f"{name:<44} n={len(samples_ms):<6} p50={p50:8.3f} ms  p95={p95:8.3f} ms")


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def bench_engine() -> None:
    snapshot = load_snapshot(DEFINITIONS_DIR, LOCALES_DIR, TextValues(retention_days=30))
    registry = snapshot.registry
    tr = snapshot.translators["ug"]
    session = engine.step(registry, None, engine.Restart()).session
    token = engine.screen_token(session.position)

    def turn() -> None:
        result = engine.step(registry, session, engine.Choose(token, 0))
        screen_for_events(result.events, registry, tr, result.session)

    _report("engine step + render (ug)", _time(turn, 20000))


async def bench_storage() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        keys = generate_root_key_file(Path(tmp) / "root.key")
        database = await Database.open(Path(tmp) / "bench.sqlite3")
        members = Members(
            SqliteMemberRepository(database, FieldCipher(keys)), Pseudonymizer(keys), utc_now
        )
        state = MemberState("ug", engine.Session())
        samples = []
        for number in range(2000):
            key = members.key_for(number % 200)
            start = time.perf_counter()
            await members.save(key, state)
            await members.load(key)
            samples.append(time.perf_counter() - start)
        await database.close()
    _report("encrypted state save + load (SQLite)", samples)


async def bench_end_to_end() -> None:
    from tests.e2e.harness import FakeClock, running_bot, settings_for
    from tests.fakebot import FakeBotApi

    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as server:
        settings = settings_for(server, Path(tmp) / "data")
        async with running_bot(server, settings, FakeClock()):
            members = [
                server.user(9_000_000 + n, first_name="B", language_code="en") for n in range(20)
            ]
            for member in members:
                member.send_text("/start")
            for member in members:
                await member.tap("English")
            for member in members:
                await member.wait_for_button("Red Notices and Diffusions")
            await server.wait_idle(min_quiet=0.1, timeout=10)
            samples = []
            for round_number in range(10):
                for member in members:
                    label = "Red Notices and Diffusions" if round_number % 2 == 0 else "☰ Menu"
                    shown = await member.wait_for_button(label)
                    before = len(_screen_calls(server))
                    start = time.monotonic()
                    member.press(label, message_id=shown.message_id)
                    await server.wait_for(partial(_more_than, server, before), timeout=10)
                    # The server stamps each call on arrival, so polling granularity drops out.
                    samples.append(_screen_calls(server)[before].time - start)
                    # Each sample starts from a quiet bot, as before.
                    await server.wait_idle(min_quiet=0.1, timeout=10)
    _report("button press -> screen, real HTTP (serial)", samples)


def _more_than(server: object, before: int) -> bool:
    return len(_screen_calls(server)) > before


def _screen_calls(server: object) -> list:  # type: ignore[type-arg]
    calls = server.calls()  # type: ignore[attr-defined]
    return [call for call in calls if call.method in {"editMessageText", "sendMessage"}]


def main() -> None:
    print(f"python {sys.version.split()[0]}")
    bench_engine()
    asyncio.run(bench_storage())
    asyncio.run(bench_end_to_end())


if __name__ == "__main__":
    main()
