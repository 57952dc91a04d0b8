"""An honest member's /wipe while 1,000 accounts flood the bot. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_flood.py [--accounts 1000] [--per-second 2] [--seconds 15]
                                          [--wipes 30] [--strangers]

The real Application, the real limits (FLOOD_BURST 30, FLOOD_PER_MINUTE 60,
NEW_MEMBERS_PER_HOUR 300) and a real clock, against the fake Bot API server
on 127.0.0.1 over real HTTP, in this one process. The flooding accounts are
members already (the harder case: strangers past the newcomer cap cost even
less; ``--strangers`` floods with those instead); each sends ``--per-second``
texts a second. Meanwhile honest members, one after another, send /wipe and
confirm it; the figures are from sending /wipe to the wipe question on screen,
and to the wipe's result pop-up (the whole wipe). A baseline without the flood
comes first. The flooding accounts' answers go to their own chats, which the
sending policy (bot/sending.py) sends at once per chat; the wipe also skips the
shared update slots a flood holds (bot/updates.py), and its own answers never
wait behind bulk sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import texts
from bot.members import MemberState
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.fakebot import FakeBotApi, FakeUser

TICK = 0.05
DRAIN_LIMIT = 10.0


class RealClock(FakeClock):
    """The bot's clock is the real one here: allowances refill as in production."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _report(name: str, samples: list[float]) -> None:
    if not samples:
        print(f"{name:<46} no samples")
        return
    ms = [s * 1000 for s in samples]
    print(
        f"{name:<46} n={len(ms):<4} p50={statistics.median(ms):8.1f} ms  "
        f"p99={_percentile(ms, 0.99):8.1f} ms  max={max(ms):8.1f} ms"
    )


async def _establish(bot: RunningBot, users: list[FakeUser]) -> None:
    """Member rows as a past walk through the menus leaves them (quicker than walking)."""
    members = bot.services.members
    for user in users:
        await members.save(members.key_for(user.user_id), MemberState(locale="en"))


async def _wipe(bot: RunningBot, member: FakeUser) -> tuple[float, float]:
    tr = bot.tr("en")
    question = tr.finish(texts.wipe_question(tr))
    confirm = tr.finish(texts.wipe_confirm_label(tr))
    mark = bot.server.mark()
    start = time.monotonic()
    member.send_text("/wipe")
    asked = await member.wait_for_message(text=question, after=mark, timeout=120)
    shown = time.monotonic() - start
    query = member.press(confirm, message_id=asked.message_id)
    await bot.server.wait_for_answer(query, timeout=120)  # answered once the chat is wiped
    return shown, time.monotonic() - start


async def _flood(users: list[FakeUser], per_second: float, stop: asyncio.Event) -> int:
    sent = 0
    owed = 0.0
    turn = 0
    while not stop.is_set():
        owed += len(users) * per_second * TICK
        while owed >= 1:
            users[turn % len(users)].send_text(f"flood {turn}")
            turn += 1
            sent += 1
            owed -= 1
        await asyncio.sleep(TICK)
    return sent


def _progress(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def _pending_updates() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if "process_concurrent_update" in task.get_name() and not task.done()
    ]


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as server:
        settings = replace(
            settings_for(server, Path(tmp) / "data"),
            flood_burst=30,
            flood_per_minute=60,
            new_members_per_hour=300,
        )
        async with running_bot(server, settings, RealClock()) as bot:
            honest = [
                server.user(9_500_000 + n, first_name="H", language_code="en")
                for n in range(args.wipes * 2)
            ]
            flooders = [
                server.user(9_600_000 + n, first_name="F", language_code="en")
                for n in range(args.accounts)
            ]
            await _establish(bot, honest)
            if not args.strangers:
                await _establish(bot, flooders)

            _progress("members ready; wiping without a flood")
            quiet = [await _wipe(bot, member) for member in honest[: args.wipes]]
            await bot.settle()  # the flood starts on a quiet bot, as the figures say

            stop = asyncio.Event()
            flood = asyncio.create_task(_flood(flooders, args.per_second, stop))
            calls_before = len(server.calls())
            await asyncio.sleep(1.0)  # the flood is on before the first wipe
            began = time.monotonic()
            loud: list[tuple[float, float]] = []
            gap = max(0.0, args.seconds - 1.0) / args.wipes
            _progress("flooding; wiping meanwhile")
            for member in honest[args.wipes :]:
                loud.append(await _wipe(bot, member))
                _progress(f"wipe {len(loud)} done in {loud[-1][1] * 1000:.0f} ms")
                await asyncio.sleep(gap)
            stop.set()
            sent = await flood
            flooded_for = time.monotonic() - began + 1.0
            made = len(server.calls()) - calls_before
            drain_start = time.monotonic()
            pending = _pending_updates()
            if pending:
                await asyncio.wait(pending, timeout=DRAIN_LIMIT)
            left = _pending_updates()
            for task in left:
                task.cancel()  # only so the bench can stop: the bot would go on with them

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    what = "strangers" if args.strangers else "members"
    print(
        f"flood: {args.accounts} {what}, {args.per_second}/s each, {sent} updates "
        f"in {flooded_for:.1f} s; the bot made {made} Bot API calls meanwhile"
    )
    print(
        f"after the flood: {len(left)} updates still queued after {DRAIN_LIMIT:.0f} s"
        if left
        else f"after the flood: backlog drained in {time.monotonic() - drain_start:.1f} s"
    )
    _report("/wipe -> question shown, no flood", [s for s, _ in quiet])
    _report("/wipe -> wipe done (pop-up), no flood", [d for _, d in quiet])
    _report("/wipe -> question shown, during flood", [s for s, _ in loud])
    _report("/wipe -> wipe done (pop-up), during flood", [d for _, d in loud])


def main() -> None:
    # Cancelling the backlog at the end leaves PTB coroutines that never started.
    warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--per-second", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--wipes", type=int, default=30)
    parser.add_argument("--strangers", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
