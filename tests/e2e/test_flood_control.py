"""Telegram refusing a share of calls with flood control loses nothing.

The fake Bot API answers 5% of the bot's calls (all but getUpdates) with 429
and a retry_after, from start-up on. A member walks the flows, a request is
announced to several volunteers, one claims it, and messages are relayed both
ways; every screen, notice and relayed message arrives, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import referral_texts
from bot.referral_desk import reference
from tests.e2e.harness import FakeClock, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    make_coordinator,
    only_referral,
    volunteer,
)
from tests.e2e.steps import choose_language, menu_text, node_text, tap
from tests.fakebot import FakeBotApi, FakeUser

SHARE = 0.05
RETRY_AFTER = 0.05
"""Seconds. Telegram gives whole seconds; a fraction keeps the test fast, and
stays under the harness's quiet period, which a few shared steps still settle on."""
MEMBER_TEXT = "from the member 7731"
VOLUNTEER_TEXT = "from the volunteer 1903"


def _texts(user: FakeUser) -> list[str]:
    return [message.text or "" for message in user.visible_messages()]


async def test_five_percent_of_calls_refused_loses_no_screen_relay_or_notice(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    refused: list[str] = []

    def count(method: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        if status == 429:
            refused.append(method)

    server.flood_share(SHARE, retry_after=RETRY_AFTER, seed=12)
    server.observe(count)
    async with running_bot(server, settings_for(server, tmp_path / "data"), clock) as bot:
        tr = bot.tr("en")

        # A member's walk: every screen arrives.
        walker = server.user(8300001, first_name="Walker", language_code="en")
        await choose_language(bot, walker, "en")
        red_notices = node_text(bot, tr, "red_notices", "intro")
        await tap(bot, walker, "Red Notices and Diffusions", text=red_notices)
        await tap(bot, walker, "☰ Menu", text=menu_text(bot))
        await tap(bot, walker, "Red Notices and Diffusions", text=red_notices)

        # An announcement to several volunteers: each gets exactly one notice.
        coordinator = server.user(8300010, first_name="Coord", language_code="en")
        await make_coordinator(bot, coordinator)
        team = [await volunteer(bot, coordinator, 8300011 + n, f"V{n}") for n in range(4)]
        member = server.user(8300020, first_name="Member", language_code="en")
        await ask_for_volunteer(bot, member)
        referral = await only_referral(bot, member)
        everyone = (coordinator, *team)

        def notices(user: FakeUser) -> int:
            return sum(reference(referral.id) in text for text in _texts(user))

        await server.wait_for(lambda: all(notices(user) >= 1 for user in everyone), timeout=15)
        assert [notices(user) for user in everyone] == [1] * len(everyone), "none twice"

        # A claim (the helper then chooses to talk with this member), then a
        # relay each way.
        helper = team[0]
        await claim(bot, helper, referral)
        claimed = tr.finish(referral_texts.claimed(tr))
        await member.wait_for_message(text=claimed)
        member.send_text(MEMBER_TEXT)
        await helper.wait_for_message(text=MEMBER_TEXT)
        helper.send_text(VOLUNTEER_TEXT)
        await member.wait_for_message(text=VOLUNTEER_TEXT)

        # The others' notices turned into "taken"; the helper's chat also holds
        # the claim's confirmation.
        others = [user for user in everyone if user is not helper]
        assert [notices(user) for user in others] == [1] * len(others)
        assert _texts(helper).count(MEMBER_TEXT) == 1
        assert _texts(member).count(VOLUNTEER_TEXT) == 1
    assert len(refused) >= 3, f"the flood happened: {refused}"
