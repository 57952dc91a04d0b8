"""Does an update cost more when many members are stored? Prints figures.

    .venv/bin/python bench/bench_scale.py [--levels 1000,10000,100000] [--seconds 8]

Yardem runs against the fake Bot API (in a child process, see crowd.py) while
its database holds N members, grown level by level: each stored member has an
encrypted state in the middle of a flow, five message ids /wipe could still
delete, and every tenth an open request for a volunteer. They are written
through the repositories (Members.save, Members.remember,
ReferralRepository.open), not through Telegram. At each level, fresh members
walk in and press buttons:

- bot CPU per update: the bot process's CPU time (all threads, so SQLite's too)
  over a closed-loop stretch, divided by the updates answered;
- p50/p99 answer time at a fixed, light rate (open loop), where nothing queues.

Target (issue 12): flat within 1.2x from the smallest to the largest level.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots import quiet_logs, running, yardem
from crowd import RemoteCrowd
from figures import latency, machine, percentile

from bot.members import MemberState
from bot.services import Services
from flows import engine

STORED_FROM = 20_000_000
"""Telegram ids of the stored members (only their pseudonyms reach the database)."""
WALKERS_FROM = 30_000_000
WALKERS = 100
OPEN_RATE = 20.0


async def populate(services: Services, start: int, stop: int) -> None:
    registry = services.content.current.registry
    first = engine.step(registry, None, engine.Restart()).session
    session = engine.step(registry, first, engine.Choose(engine.screen_token(first.position), 0))
    state = MemberState("en", session.session, screen_message=5)
    today = services.clock().date()
    for number in range(start, stop):
        telegram_id = STORED_FROM + number
        key = services.members.key_for(telegram_id)
        await services.members.save(key, state)
        await services.members.remember(key, [1, 2, 3, 4, 5])
        if number % 10 == 0:
            await services.referrals.open(
                key,
                topic="travel",
                urgency="general",
                country=None,
                language="en",
                chat_id=telegram_id,
                today=today,
                notify_at=None,
                rate_key=services.pseudonymizer.rate_key(key, today.isoformat()),
                daily_limit=3,
            )


async def main(levels: list[int], seconds: float) -> None:
    quiet_logs()
    print(machine())
    print(f"{WALKERS} members pressing; open loop at {OPEN_RATE:g}/s; {seconds:g} s per stretch")
    fake = RemoteCrowd()
    rows: list[tuple[int, float, float]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            application = yardem(fake.base_url, Path(tmp))
            async with running(application):
                services = application.bot_data.services
                stored = 0
                for level_number, level in enumerate(levels):
                    began = time.monotonic()
                    await populate(services, stored, level)
                    took = time.monotonic() - began
                    stored = level
                    first = WALKERS_FROM + level_number * WALKERS
                    await fake.call("register", first, WALKERS)
                    await fake.call("start", first, WALKERS)
                    ready = await fake.call("wait_ready", first, WALKERS, 120.0)
                    assert ready == WALKERS, f"only {ready} members got going"
                    cpu = time.process_time()
                    closed = await fake.call("closed", first, WALKERS, seconds, 0.0)
                    cpu = time.process_time() - cpu
                    answered = len(closed["latencies"])
                    per_update = cpu / answered if answered else float("nan")
                    rate = closed["answered_in_window"] / closed["window"]
                    light = await fake.call("open", first, WALKERS, OPEN_RATE, seconds)
                    print(
                        f"{level:>7} stored (+{took:5.1f} s to add): "
                        f"CPU {per_update * 1000:5.2f} ms/update, {rate:6.1f} updates/s closed; "
                        f"at {OPEN_RATE:g}/s {latency(light['latencies'])}"
                    )
                    rows.append((level, per_update, percentile(light["latencies"], 0.5)))
    finally:
        fake.stop()
    (small, small_cpu, small_p50), (large, large_cpu, large_p50) = rows[0], rows[-1]
    print(
        f"{large} vs {small}: CPU per update x{large_cpu / small_cpu:.2f}, "
        f"p50 x{large_p50 / small_p50:.2f} (target: within 1.2x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1000,10000,100000")
    parser.add_argument("--seconds", type=float, default=8.0)
    arguments = parser.parse_args()
    asyncio.run(main([int(n) for n in arguments.levels.split(",")], arguments.seconds))
