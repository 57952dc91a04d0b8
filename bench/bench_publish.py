"""How long a publish takes to reach members, and what a turn costs before and after.

    .venv/bin/python bench/bench_publish.py [--members 10000] [--rounds 5]

With ``--members`` members stored in the database (encrypted state, as the bot
stores them), the real Application runs against the fake Bot API over HTTP on
127.0.0.1. It prints:

1. the member turn (button press -> edited screen) before any publish;
2. a publish in this worker (check as the live desk does, store, swap), and in
   another worker (a second connection, as ``content import`` or a second bot
   process would), the time until the running bot serves it (its poll every
   few seconds, then read, verify, parse and check the set);
3. the member turn after the publish, now served from a published version;
4. a turn while the worker is loading a version (the load runs in a thread, but
   parsing holds the GIL for much of it);
5. the poll's cost when nothing changed (one query).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content import POLL_SECONDS
from bot.members import MemberState
from bot.publishing import publish
from bot.services import open_content, open_storage
from flows import engine
from flows.registry import RegistrySources
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.steps import choose_language
from tests.fakebot import FakeBotApi, FakeUser
from tests.unit.content_edits import edit_flow

OLD = "It is recorded in Interpol's files."
FIXES = [f"It is recorded in Interpol's files (fix {n})." for n in range(1, 4)]


def _report(name: str, samples: list[float]) -> None:
    samples_ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(samples_ms)
    p95 = samples_ms[max(int(len(samples_ms) * 0.95) - 1, 0)]
    print(f"{name:<52} n={len(samples_ms):<5} p50={p50:9.2f} ms  p95={p95:9.2f} ms")


def _once(name: str, seconds: float) -> None:
    print(f"{name:<52} {seconds * 1000:9.1f} ms")


async def _store_members(bot: RunningBot, count: int) -> None:
    members = bot.services.members
    state = MemberState("ug", engine.Session(position=engine.Position("red_notices", "intro")))
    start = time.perf_counter()
    for number in range(count):
        await members.save(members.key_for(5_000_000 + number), state)
    print(f"stored {count} members in {time.perf_counter() - start:.1f} s")


def _screen_calls(server: FakeBotApi) -> list:  # type: ignore[type-arg]
    return [call for call in server.calls() if call.method in {"editMessageText", "sendMessage"}]


def _more_than(server: FakeBotApi, before: int) -> bool:
    return len(_screen_calls(server)) > before


async def _turns(bot: RunningBot, members: list[FakeUser], rounds: int) -> list[float]:
    server = bot.server
    samples = []
    for round_number in range(rounds * 2):
        for member in members:
            label = "Red Notices and Diffusions" if round_number % 2 == 0 else "☰ Menu"
            shown = await member.wait_for_button(label)
            before = len(_screen_calls(server))
            start = time.monotonic()
            member.press(label, message_id=shown.message_id)
            await server.wait_for(partial(_more_than, server, before), timeout=20)
            # The server stamps each call on arrival, so polling granularity drops out.
            samples.append(_screen_calls(server)[before].time - start)
            # Each sample starts from a quiet bot, as in bench_turn.
            await bot.settle()
    return samples


def _serves(bot: RunningBot, number: int) -> bool:
    return bot.snapshot.number == number


def _fixed(sources: RegistrySources, text: str) -> RegistrySources:
    return edit_flow(sources, "red_notices.yaml", OLD, text)


async def main(count: int, rounds: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    print(f"python {sys.version.split()[0]}; poll every {POLL_SECONDS} s")
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as server:
        settings = settings_for(server, Path(tmp) / "data")
        async with running_bot(server, settings, FakeClock()) as bot:
            await _store_members(bot, count)
            members = [
                server.user(9_100_000 + n, first_name="B", language_code="en") for n in range(20)
            ]
            for member in members:
                await choose_language(bot, member, "en")

            _report("turn before any publish (version 0)", await _turns(bot, members, rounds))

            shipped = bot.snapshot.sources
            assert shipped is not None
            start = time.perf_counter()
            published = await publish(
                bot.services.content,
                _fixed(shipped, FIXES[0]),
                publisher="bench",
                today=bot.clock().date(),
            )
            _once("publish in this worker: check + store + swap", time.perf_counter() - start)
            assert bot.snapshot.number == published.info.number

            elsewhere = await open_storage(settings)
            try:
                other = await open_content(settings, elsewhere)
                for fix in FIXES[1:]:
                    serving = bot.snapshot.number
                    start = time.perf_counter()
                    info = (
                        await publish(
                            other, _fixed(shipped, fix), publisher="bench", today=bot.clock().date()
                        )
                    ).info
                    stored = time.perf_counter()
                    await server.wait_for(partial(_serves, bot, info.number), timeout=60)
                    live = time.perf_counter()
                    assert bot.snapshot.number > serving
                    _once("publish in another worker: check + store", stored - start)
                    _once("  ... then live in the running bot (poll + load)", live - stored)
                    _once("  publish-to-live, total", live - start)
            finally:
                await elsewhere.database.close()

            content = bot.services.content
            loads = []
            for _ in range(3):
                start = time.perf_counter()
                await content.load_version(bot.snapshot.number)
                loads.append(time.perf_counter() - start)
            _report("read + verify + parse + check one version", loads)
            _report(
                f"turn after publishing (version {bot.snapshot.number})",
                await _turns(bot, members, rounds),
            )

            async def keep_loading() -> None:
                while True:
                    await content.load_version(bot.snapshot.number)

            loading = asyncio.create_task(keep_loading())
            try:
                _report("turn while a worker loads a new version", await _turns(bot, members, 1))
            finally:
                loading.cancel()
            polls = []
            for _ in range(200):
                start = time.perf_counter()
                await content.refresh()
                polls.append(time.perf_counter() - start)
            _report("poll when nothing changed (one query)", polls)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.rounds))
