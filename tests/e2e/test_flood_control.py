"""Telegram refusing a share of calls with flood control loses nothing.

The fake Bot API answers 5% of the bot's calls (all but getUpdates) with 429
and a retry_after, from start-up on. A member walks the flows, a request is
announced to several volunteers, one claims it, and messages are relayed both
ways; every screen, notice and relayed message arrives, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import referral_texts, staff_texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_desk import reference
from tests.e2e.harness import FakeClock, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    make_coordinator,
    notice_of,
    only_referral,
    volunteer,
)
from tests.e2e.test_member_journeys import node_text
from tests.fakebot import FakeBotApi, FakeUser

SHARE = 0.05
RETRY_AFTER = 0.05
"""Seconds. Telegram gives whole seconds; a fraction keeps the test fast, and
staying under the harness's quiet period keeps the shared steps' settle() honest."""
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
        walker.send_text("/start")
        await server.wait_for(
            lambda: (
                LANGUAGE_NAMES["en"] in walker.last_message().button_texts
                if walker.visible_messages()
                else False
            ),
            timeout=15,
        )
        walker.press(LANGUAGE_NAMES["en"])
        for label, flow, node in (
            (None, "main", "menu"),
            ("Red Notices and Diffusions", "red_notices", "intro"),
            ("☰ Menu", "main", "menu"),
            ("Red Notices and Diffusions", "red_notices", "intro"),
        ):
            if label is not None:
                walker.press(label)
            expected = node_text(bot, tr, flow, node)
            await server.wait_for(lambda e=expected: walker.last_message().text == e, timeout=15)

        # An announcement to several volunteers: each gets exactly one notice.
        coordinator = server.user(8300010, first_name="Coord", language_code="en")
        await make_coordinator(bot, coordinator)
        team = [await volunteer(bot, coordinator, 8300011 + n, f"V{n}") for n in range(4)]
        member = server.user(8300020, first_name="Member", language_code="en")
        await ask_for_volunteer(bot, member)
        referral = await only_referral(bot)
        everyone = (coordinator, *team)

        def notices(user: FakeUser) -> int:
            return sum(reference(referral.id) in text for text in _texts(user))

        await server.wait_for(lambda: all(notices(user) >= 1 for user in everyone), timeout=15)
        assert [notices(user) for user in everyone] == [1] * len(everyone), "none twice"

        # A claim, then a relay each way.
        helper = team[0]
        helper.press(staff_texts.claim_label(tr), message_id=notice_of(helper, referral))
        claimed = tr.finish(referral_texts.claimed(tr))
        await server.wait_for(lambda: claimed in _texts(member), timeout=15)
        member.send_text(MEMBER_TEXT)
        await server.wait_for(lambda: MEMBER_TEXT in _texts(helper), timeout=15)
        helper.send_text(VOLUNTEER_TEXT)
        await server.wait_for(lambda: VOLUNTEER_TEXT in _texts(member), timeout=15)

        # The others' notices turned into "taken"; the helper's chat also holds
        # the claim's confirmation.
        others = [user for user in everyone if user is not helper]
        assert [notices(user) for user in others] == [1] * len(others)
        assert _texts(helper).count(MEMBER_TEXT) == 1
        assert _texts(member).count(VOLUNTEER_TEXT) == 1
    assert len(refused) >= 3, f"the flood happened: {refused}"
