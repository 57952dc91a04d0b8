"""The audit log over a year of a running bot: relays as daily counts, then compaction.

The bot relays real messages; its daily job (the same function the JobQueue
runs) seals the counts and, after the retention period, compacts the chain;
then the operator's ``python -m bot admin verify-audit`` still verifies it.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from bot import jobs
from bot.context import YardemContext
from bot.settings import Settings
from tests.e2e.harness import FakeClock, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    held,
    make_coordinator,
    only_referral,
    volunteer,
)
from tests.e2e.test_process import _env, _run_bot
from tests.fakebot import FakeBotApi


def _verify_audit(tmp_path: Path, settings: Settings) -> subprocess.CompletedProcess[str]:
    """``python -m bot admin verify-audit`` as the operator runs it, with the bot's key."""
    env = _env(tmp_path, ROOT_KEY_FILE=str(settings.key_file))
    return _run_bot(["admin", "verify-audit"], tmp_path, env)


async def test_relays_are_daily_counts_and_old_entries_compact_into_a_checkpoint(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(server, data_dir)
    async with running_bot(server, settings, clock) as bot:
        services = bot.services
        coordinator = server.user(8400001, first_name="Coord", language_code="en")
        await make_coordinator(bot, coordinator)
        alice = await volunteer(bot, coordinator, 8400002, "Alice")
        member = server.user(8400003, first_name="Member", language_code="en")
        await ask_for_volunteer(bot, member)
        referral = await only_referral(bot, member)
        await claim(bot, alice, referral)  # returns once "now talking" is shown
        for text in ("first words 1101", "second words 1102"):
            mark = server.mark()
            member.send_text(text)
            await alice.wait_for_message(text=text, after=mark)
        mark = server.mark()
        alice.send_text("an answer 1103")
        await member.wait_for_message(text="an answer 1103", after=mark)

        async def counts() -> list[tuple[str, int, int]]:
            return [
                (c.referral, c.from_member, c.from_staff)
                for c in await services.audit.relay_counts()
            ]

        # Counted after the copy is sent: wait for the count, not for quiet.
        async def all_counted() -> bool:
            return await counts() == [(referral.id, 2, 1)]

        await bot.server.wait_for(
            all_counted, what="the relay counts: 2 from the member, 1 from the volunteer"
        )
        await bot.settle()  # nothing follows
        actions = [entry.action for entry in await services.audit.entries()]
        assert not any(action.startswith(("relay", "relayed")) for action in actions)
        assert await counts() == [(referral.id, 2, 1)], "nothing more was counted"

        # The next day the job seals yesterday's counts into the chain.
        context = YardemContext(bot.application)
        clock.advance(timedelta(days=1))
        await jobs.keep_audit(context)
        entries = await services.audit.entries()
        assert entries[-1].action == "relayed:member=2,volunteer=1"
        assert entries[-1].referral == referral.id
        assert await services.audit.relay_counts() == []
        before = len(entries)

        # Past the retention period, everything so far becomes one checkpoint.
        clock.advance(timedelta(days=settings.audit_retention_days + 1))
        await jobs.keep_audit(context)
        report = await services.audit.verify()
        assert report.intact
        assert report.compacted_through == before
        remaining = await services.audit.entries()
        assert [entry.action.split(":")[0] for entry in remaining] == ["checkpoint"]

        # Life goes on after it.
        await held(bot, alice)
        assert (await services.audit.verify()).intact

    checked = _verify_audit(tmp_path, settings)
    assert checked.returncode == 0, checked.stderr
    assert "audit log intact: 1 entries" in checked.stdout
    assert f"entries up to {before} compacted" in checked.stdout
