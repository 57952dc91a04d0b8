"""How long a relayed message takes, and how a notice round scales. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_relay.py

1. member -> volunteer: a member's text through the fake Bot API server over real
   HTTP, the real Application, the referral lookup, the audit row, until the
   copyMessage call arrives;
2. volunteer -> member: the same the other way;
3. ending that conversation two days later: every copy of its 200 relayed
   messages, too old to delete, blanked by an edit in both chats;
4. announcing a new request to N volunteers (one notice each, recorded for retiring).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _report(name: str, samples: list[float]) -> None:
    samples_ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(samples_ms)
    p95 = samples_ms[max(int(len(samples_ms) * 0.95) - 1, 0)]
    print(f"{name:<44} n={len(samples_ms):<6} p50={p50:8.3f} ms  p95={p95:8.3f} ms")


def _copied_more_than(server: object, before: int) -> bool:
    return len(server.calls("copyMessage")) > before  # type: ignore[attr-defined]


async def bench_relay() -> None:
    from bot.referral_desk import Desk
    from tests.e2e.harness import FakeClock, running_bot, settings_for
    from tests.e2e.referral_steps import (
        ask_for_volunteer,
        claim,
        make_coordinator,
        only_referral,
        volunteer,
    )
    from tests.fakebot import FakeBotApi

    with tempfile.TemporaryDirectory() as tmp, FakeBotApi() as server:
        settings = settings_for(server, Path(tmp) / "data")
        async with running_bot(server, settings, FakeClock()) as bot:
            coordinator = server.user(9_100_000, first_name="C", language_code="en")
            await make_coordinator(bot, coordinator)
            helper = await volunteer(bot, coordinator, 9_100_001, "Helper")
            member = server.user(9_100_002, first_name="M", language_code="en")
            await ask_for_volunteer(bot, member)
            referral = await only_referral(bot, member)
            await claim(bot, helper, referral)  # and Talk here

            for name, sender in (("member -> volunteer", member), ("volunteer -> member", helper)):
                samples = []
                for n in range(100):
                    # The relay's pace per sender (bot.rate_limits.RELAY_RATE: 20 at
                    # once, then 30 a minute) refills on the bot's clock, which
                    # stands still here: move it on by one message's allowance.
                    bot.clock.advance(timedelta(seconds=2))
                    before = len(server.calls("copyMessage"))
                    start = time.monotonic()
                    sender.send_text(f"relay {n}")
                    await server.wait_for(partial(_copied_more_than, server, before), timeout=10)
                    samples.append(server.calls("copyMessage")[before].time - start)
                    # Each sample starts from a quiet bot, as before.
                    await server.wait_idle(min_quiet=0.1, timeout=10)
                _report(f"relay {name}, real HTTP", samples)

            chat = await bot.services.referrals.member_chat(referral)
            bot.clock.advance(timedelta(hours=49))
            server.advance_clock(49 * 3600)
            edits = len(server.calls("editMessageText"))
            start = time.monotonic()
            await Desk(bot.application.bot, bot.services).end_relay(referral.id, chat)
            elapsed = time.monotonic() - start
            blanked = len(server.calls("editMessageText")) - edits
            print(
                f"{'blank old copies when a request ends':<44} "
                f"{elapsed * 1000:8.1f} ms for {blanked} edits, "
                f"{elapsed * 1000 / max(blanked, 1):6.2f} ms each"
            )

            for size in (10, 50):
                volunteers = [
                    await volunteer(bot, coordinator, 9_200_000 + size * 100 + k, f"V{k}")
                    for k in range(size)
                ]
                other = server.user(9_300_000 + size, first_name="O", language_code="en")
                await ask_for_volunteer(bot, other)
                fresh = await bot.services.referrals.active_for_member(
                    bot.services.members.key_for(other.user_id)
                )
                assert fresh is not None
                desk = Desk(bot.application.bot, bot.services)
                everyone = await bot.services.staff.to_notify("en")
                start = time.monotonic()
                await desk.announce(fresh, everyone)
                elapsed = time.monotonic() - start
                print(
                    f"{f'announce to {len(everyone)} accounts':<44} "
                    f"{elapsed * 1000:8.1f} ms total, {elapsed * 1000 / len(everyone):6.2f} ms each"
                )
                del volunteers


def main() -> None:
    print(f"python {sys.version.split()[0]}")
    asyncio.run(bench_relay())


if __name__ == "__main__":
    main()
