"""Languages approved, refused or dropped are sealed with the account, so it stays staff.

Approving a language writes the volunteer's sealed row; if that write skipped
the seal, the account would fail its check from then on and count as no staff:
no notices, no claims, and a loud line at every start. Here a volunteer asks
for two languages, one is approved and one refused, then she drops and asks
again; after each step, and after a restart, her row verifies and the notices
of her language reach her.
"""

from __future__ import annotations

from pathlib import Path

from bot import staff_texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_desk import reference
from storage.integrity import RowSeal, row_key
from storage.sqlite.integrity import count_failing
from tests.e2e.harness import FakeClock, RunningBot, capture_logs, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    invite,
    join,
    language_request,
    make_coordinator,
    notice_of,
    referral_of,
    staff_press,
)
from tests.e2e.steps import say
from tests.fakebot import FakeBotApi, FakeUser


def _texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.visible_messages()]


async def _failing(bot: RunningBot) -> dict[str, int]:
    services = bot.services
    seal = RowSeal(row_key(services.pseudonymizer.audit_key()))
    return await count_failing(services.database, seal)


async def _decide(
    bot: RunningBot, coordinator: FakeUser, user: FakeUser, locale: str, *, approve: bool
) -> None:
    """The coordinator answers the volunteer's request for ``locale``; waits for the answer."""
    tr = bot.tr("en")
    request = await language_request(bot, coordinator, user, locale)
    await staff_press(
        bot,
        coordinator,
        staff_texts.approve_label(tr) if approve else staff_texts.refuse_label(tr),
        message_id=request.message_id,
    )


async def test_a_volunteer_whose_languages_were_decided_still_verifies_and_gets_notices(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    coordinator = server.user(8700001, first_name="Coord", language_code="en")
    vera = server.user(8700002, first_name="Vera", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr("en")
        services = bot.services
        await make_coordinator(bot, coordinator)
        key = services.members.key_for(vera.user_id)
        await join(bot, vera, await invite(bot, coordinator, "volunteer"), ("en", "zh_Hans"))
        await _decide(bot, coordinator, vera, "en", approve=True)
        await _decide(bot, coordinator, vera, "zh_Hans", approve=False)
        member = await services.staff.get(key)
        assert member is not None, "approving sealed the row again: still staff"
        assert member.languages == frozenset({"en"})
        assert await _failing(bot) == {}

        # A request in her approved language reaches her, and she can take it.
        first = server.user(8700010, first_name="Member", language_code="en")
        await ask_for_volunteer(bot, first)
        referral = await referral_of(bot, first)
        assert reference(referral.id) in str(_texts(vera))
        await claim(bot, vera, referral)
        assert (await referral_of(bot, first)).volunteer == key

        # Dropping a language (no approval needed) and asking for one again
        # write the same row: it still verifies after each.
        picker = await say(bot, vera, "/languages", button="✅ " + LANGUAGE_NAMES["en"])
        await staff_press(bot, vera, "✅ " + LANGUAGE_NAMES["en"], message_id=picker.message_id)
        dropped = await services.staff.get(key)
        assert dropped is not None
        assert dropped.languages == frozenset()
        await staff_press(bot, vera, LANGUAGE_NAMES["en"], message_id=picker.message_id)
        await staff_press(bot, vera, staff_texts.done_label(tr), message_id=picker.message_id)
        await _decide(bot, coordinator, vera, "en", approve=True)
        again = await services.staff.get(key)
        assert again is not None
        assert again.languages == frozenset({"en"})
        assert await _failing(bot) == {}

    # After a restart nothing fails its check, and her notices still come.
    with capture_logs() as logs:
        async with running_bot(server, settings, clock) as bot:
            second = server.user(8700011, first_name="Member", language_code="en")
            await ask_for_volunteer(bot, second)
            referral = await referral_of(bot, second)
            notice_of(vera, referral)  # raises if her notice is missing
            assert (await bot.services.staff.get(key)) is not None
    assert "fail their integrity check" not in logs.text
