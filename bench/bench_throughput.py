"""Throughput and answer times under load, for Yardem and for PTB's floor. Prints figures.

    .venv/bin/python bench/bench_throughput.py [--members 250] [--seconds 10] [--rounds 2]
                                               [--same-process] [--profile FILE]

M simulated members press buttons over the fake Bot API on 127.0.0.1 (see
crowd.py; the fake server and the members run in a child process unless
--same-process is given, so the server's work does not share the bot's GIL).
First the floor's saturation is measured once to set the open-loop rate; then,
for each round, the floor and Yardem in turn, each with fresh members:

1. saturation, closed loop: every member presses again the moment the answer
   arrives (after 3 s of warm-up); updates answered a second, p50/p99 answer
   times, and the bot process's CPU time per update;
2. open loop at a quarter of the floor's saturation: presses at that fixed
   rate whether or not the bot keeps up; p50/p99 answer times.

Targets (issue 12): Yardem at least 0.7 of the floor at saturation (best round
of each), p99 under 50 ms at a quarter of the floor's saturation.

At the default 250 members each presses less than once a second at these
rates. Telegram limits a chat to about one message a second, and Yardem's
sending policy keeps to that after a burst of 20, so with few members pressing
as fast as they can (try --members 50) Yardem is slower than the floor by design.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots import floor, quiet_logs, running, yardem
from crowd import crowd
from figures import latency, machine, percentile

FIRST_ID = 5_000_000

Maker = Callable[[str, Path], Any]


async def measure(
    name: str, make: Maker, members: int, seconds: float, open_rate: float | None, same: bool
) -> tuple[float, list[float]]:
    """Saturation, then an open loop at ``open_rate``; returns updates/s and open-loop times."""
    fake = crowd(same)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running(make(fake.base_url, Path(tmp))):
                await fake.call("register", FIRST_ID, members)
                await fake.call("start", FIRST_ID, members)
                ready = await fake.call("wait_ready", FIRST_ID, members, 120.0)
                if ready != members:
                    raise RuntimeError(f"{name}: only {ready} of {members} members got going")
                cpu = time.process_time()
                closed = await fake.call("closed", FIRST_ID, members, seconds, 3.0)
                cpu = time.process_time() - cpu
                rate = closed["answered_in_window"] / closed["window"]
                answers = len(closed["latencies"]) or 1
                print(
                    f"  {name:<7} saturation {rate:6.1f} updates/s  {latency(closed['latencies'])}"
                    f"  CPU {cpu / answers * 1000:.2f} ms/update"
                    f"  (unanswered {closed['unanswered']}, wrong {closed['wrong']})"
                )
                opened: list[float] = []
                if open_rate is not None:
                    result = await fake.call("open", FIRST_ID, members, open_rate, seconds)
                    opened = result["latencies"]
                    print(
                        f"  {name:<7} open loop  {open_rate:6.1f} presses/s  {latency(opened)}"
                        f"  (unanswered {result['unanswered']}, "
                        f"no member free {result['skipped']} of {result['offered']})"
                    )
                return rate, opened
    finally:
        fake.stop()


def _floor(url: str, _tmp: Path) -> Any:
    return floor(url)


async def main(members: int, seconds: float, rounds: int, same: bool, profile: str | None) -> None:
    quiet_logs()
    print(machine())
    where = "in the bot's process" if same else "in a child process"
    print(f"{members} members, {seconds:g} s per stretch; fake server and members {where}")
    print("calibration:")
    calibration, _ = await measure("floor", _floor, members, seconds, None, same)
    quarter = calibration / 4
    best = {"floor": calibration, "yardem": 0.0}
    tails: list[float] = []
    for number in range(1, rounds + 1):
        print(f"round {number}:")
        rate, _ = await measure("floor", _floor, members, seconds, quarter, same)
        best["floor"] = max(best["floor"], rate)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        rate, opened = await measure("yardem", yardem, members, seconds, quarter, same)
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(f"{profile}.{number}")
        best["yardem"] = max(best["yardem"], rate)
        tails.append(percentile(opened, 0.99))
    print(
        f"yardem / floor at saturation (best of each): "
        f"{best['yardem']:.1f} / {best['floor']:.1f} = {best['yardem'] / best['floor']:.2f} "
        f"(target >= 0.7)"
    )
    print(
        f"yardem p99 at {quarter:.1f} presses/s: "
        f"{', '.join(f'{tail * 1000:.1f}' for tail in tails)} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--same-process", action="store_true")
    parser.add_argument("--profile", help="write cProfile stats of Yardem's runs to FILE.<round>")
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.members,
            arguments.seconds,
            arguments.rounds,
            arguments.same_process,
            arguments.profile,
        )
    )
