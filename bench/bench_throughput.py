"""Throughput and answer times under load, for Yardem and for PTB's floor. Prints figures.

    .venv/bin/python bench/bench_throughput.py [--members 250] [--seconds 10] [--same-process]

M simulated members press buttons over the fake Bot API on 127.0.0.1 (see
crowd.py; the fake server and the members run in a child process unless
--same-process is given). Per bot, in one run:

1. saturation, closed loop: every member presses again the moment the answer
   arrives; updates answered a second, and p50/p99 answer times;
2. open loop at a quarter of the floor's saturation: presses at that fixed
   rate whether or not the bot keeps up; p50/p99 answer times.

Then Yardem's share of the floor. Targets (issue 12): at least 0.7 of the
floor at saturation, p99 under 50 ms at a quarter of the floor's saturation.

Members press at most about once a second each at these rates when M is large
enough: Telegram limits a chat to about one message a second, and Yardem's
sending policy keeps to that, so with few members pressing as fast as they can
Yardem is, by design, slower than the floor (try --members 50).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots import floor, quiet_logs, running, yardem
from crowd import crowd
from figures import latency, machine

FIRST_ID = 5_000_000


async def measure(
    name: str, make: Any, members: int, seconds: float, open_rate: float | None, same: bool
) -> tuple[float, dict[str, Any]]:
    """Saturation (and an open-loop run at ``open_rate``) for one bot; returns updates/s."""
    fake = crowd(same)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running(make(fake.base_url, Path(tmp))):
                await fake.call("register", FIRST_ID, members)
                await fake.call("start", FIRST_ID, members)
                ready = await fake.call("wait_ready", FIRST_ID, members, 120.0)
                if ready != members:
                    raise RuntimeError(f"{name}: only {ready} of {members} members got going")
                closed = await fake.call("closed", FIRST_ID, members, seconds, 3.0)
                rate = closed["answered_in_window"] / closed["window"]
                print(
                    f"{name:<7} saturation  {rate:7.1f} updates/s  {latency(closed['latencies'])}"
                    f"  unanswered {closed['unanswered']}"
                )
                opened: dict[str, Any] = {}
                if open_rate is not None:
                    opened = await fake.call("open", FIRST_ID, members, open_rate, seconds)
                    print(
                        f"{name:<7} open loop   {open_rate:7.1f} presses/s "
                        f"{latency(opened['latencies'])}  unanswered {opened['unanswered']}, "
                        f"skipped {opened['skipped']} of {opened['offered']} (no member free)"
                    )
                return rate, opened
    finally:
        fake.stop()


async def main(members: int, seconds: float, same: bool) -> None:
    quiet_logs()
    print(machine())
    where = "in the bot's process" if same else "in a child process"
    print(f"{members} members, {seconds:g} s per stretch, fake server and members {where}")
    floor_rate, _ = await measure(
        "floor", lambda url, _tmp: floor(url), members, seconds, None, same
    )
    quarter = floor_rate / 4
    await measure("floor", lambda url, _tmp: floor(url), members, seconds, quarter, same)
    yardem_rate, opened = await measure("yardem", yardem, members, seconds, quarter, same)
    p99 = sorted(opened["latencies"])[max(0, round(0.99 * len(opened["latencies"])) - 1)]
    print(
        f"yardem / floor at saturation: {yardem_rate / floor_rate:.2f} (target >= 0.7); "
        f"yardem p99 at {quarter:.1f}/s: {p99 * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--same-process", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.seconds, arguments.same_process))
