"""Resident memory of the bot with 10k members in the middle of a flow. Prints figures.

    .venv/bin/python bench/bench_memory.py [--members 10000]

Yardem runs against the fake Bot API (in a child process, see crowd.py), so
what /proc reports is the bot alone. N members are stored through the
repositories in the middle of a flow (on a topic's first screen, as if they
had pressed it), each with that screen in their chat; then all N press "☰ Menu"
at the same moment, as when a channel forwards the bot, and the bot works
through them. Resident memory is sampled every half second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots import quiet_logs, running, yardem
from crowd import RemoteCrowd
from figures import latency, machine, rss_mib

from bot.members import MemberState
from bot.screens import node_screen
from bot.services import Services
from bot.telegram_io import keyboard
from flows import engine

FIRST_ID = 40_000_000


async def populate(services: Services, fake: RemoteCrowd, members: int) -> None:
    snapshot = services.content.current
    registry = snapshot.registry
    first = engine.step(registry, None, engine.Restart()).session
    session = engine.step(
        registry, first, engine.Choose(engine.screen_token(first.position), 0)
    ).session
    screen = node_screen(registry, snapshot.translators["en"], session)
    markup = keyboard(screen, registry.layout)
    assert markup is not None
    await fake.call("register", FIRST_ID, members)
    message_id = await fake.call("seed_screen", FIRST_ID, members, screen.text, markup.to_dict())
    state = MemberState("en", session, screen_message=message_id)
    for number in range(members):
        key = services.members.key_for(FIRST_ID + number)
        await services.members.save(key, state)
        await services.members.remember(key, [message_id])


async def sample(peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], rss_mib())
        await asyncio.sleep(0.5)


async def main(members: int) -> None:
    quiet_logs()
    print(machine())
    fake = RemoteCrowd()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            application = yardem(fake.base_url, Path(tmp))
            async with running(application):
                services = application.bot_data.services
                started = rss_mib()
                began = time.monotonic()
                await populate(services, fake, members)
                stored = rss_mib()
                print(
                    f"started: {started:.1f} MiB; {members} members stored mid-flow "
                    f"in {time.monotonic() - began:.1f} s: {stored:.1f} MiB"
                )
                peak = [stored]
                sampler = asyncio.create_task(sample(peak))
                began = time.monotonic()
                burst = await fake.call("burst", FIRST_ID, members, 1800.0)
                took = time.monotonic() - began
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
                after = rss_mib()
                print(
                    f"all {members} pressed at once: answered {len(burst['latencies'])} "
                    f"in {took:.1f} s ({len(burst['latencies']) / took:.1f}/s), "
                    f"{latency(burst['latencies'])}"
                )
                print(
                    f"resident memory: peak {peak[0]:.1f} MiB while they were answered, "
                    f"{after:.1f} MiB after; process peak (VmHWM) {rss_mib('VmHWM'):.1f} MiB"
                )
    finally:
        fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().members))
