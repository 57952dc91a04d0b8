"""What one infiltrated volunteer can take: approved languages only, a few requests at
once, and every claim visible to the coordinators."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot import staff_texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_desk import Desk, reference
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    invite,
    join,
    language_request,
    language_request_of,
    make_coordinator,
    notice_of,
    staff_label,
    staff_press,
    volunteer,
)
from tests.e2e.relay_steps import mine_button, new_member, request_of, texts_of
from tests.e2e.steps import say
from tests.fakebot import BotMessage, FakeBotApi, FakeUser


def _alert(bot: RunningBot, query: str) -> str | None:
    answer = bot.server.callback_answer(query)
    assert answer is not None
    return answer.get("text") if answer.get("show_alert") else None


async def _answered(bot: RunningBot, query: str) -> str | None:
    """The alert a staff press was refused with, if any, once it is answered."""
    await bot.server.wait_for_answer(query)
    return _alert(bot, query)


async def _roster_line(bot: RunningBot, coordinator: FakeUser, user: FakeUser) -> str:
    label = staff_label(bot, user)

    def its_line(message: BotMessage) -> bool:
        return (message.text or "").startswith(label)

    found = await say(bot, coordinator, "/volunteers", predicate=its_line)
    assert found.text is not None
    return found.text


async def test_languages_wait_for_a_coordinators_approval(bot: RunningBot) -> None:
    tr = bot.tr("en")
    coordinator = bot.server.user(8600000, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    vera = bot.server.user(8600001, first_name="Vera", language_code="en")
    await join(bot, vera, await invite(bot, coordinator, "volunteer"), ("en", "zh_Hans"))
    names = f"{LANGUAGE_NAMES['en']}, {LANGUAGE_NAMES['zh_Hans']}"
    assert staff_texts.languages_waiting(tr, names) in texts_of(vera)
    key = bot.services.members.key_for(vera.user_id)
    held = await bot.services.staff.get(key)
    assert held is not None
    assert held.languages == frozenset(), "nothing before a coordinator says so"
    roster = await _roster_line(bot, coordinator, vera)
    assert staff_texts.roster_pending(tr, "en zh_Hans") in roster

    # Until approved, a request in her language neither reaches nor can be taken by her.
    member, referral = await new_member(bot, 8600010)
    assert reference(referral.id) not in str(texts_of(vera))
    forged = vera.press_data(f"s|c|{referral.id}", vera.last_message().message_id)
    assert await _answered(bot, forged) == staff_texts.not_allowed(tr)
    # Nor can a volunteer approve for herself.
    forged = vera.press_data(f"s|Y|{staff_label(bot, vera)}|en", vera.last_message().message_id)
    assert await _answered(bot, forged) == staff_texts.not_allowed(tr)

    english = language_request_of(bot, coordinator, vera, "en")
    chinese = language_request_of(bot, coordinator, vera, "zh_Hans")
    mark = bot.server.mark()
    await staff_press(bot, coordinator, staff_texts.approve_label(tr), message_id=english)
    approved = staff_texts.language_approved(tr, LANGUAGE_NAMES["en"])
    await vera.wait_for_message(text=approved, after=mark)
    await staff_press(bot, coordinator, staff_texts.refuse_label(tr), message_id=chinese)
    refused = staff_texts.language_refused(tr, LANGUAGE_NAMES["zh_Hans"])
    await vera.wait_for_message(text=refused, after=mark)
    decided = staff_texts.language_decided(
        tr, staff_label(bot, vera), LANGUAGE_NAMES["en"], True, staff_label(bot, coordinator)
    )
    assert decided in texts_of(coordinator), "the request shows who decided"
    again = coordinator.press_data(f"s|Y|{staff_label(bot, vera)}|zh_Hans", chinese)
    assert await _answered(bot, again) == staff_texts.already_decided(tr)
    held = await bot.services.staff.get(key)
    assert held is not None
    assert held.languages == frozenset({"en"})

    # Now she hears of new English requests and can take them.
    later, fresh = await new_member(bot, 8600012)
    await claim(bot, vera, fresh)
    assert (await request_of(bot, later)).volunteer == key
    assert (await request_of(bot, member)).status == "open"

    # A language added later waits too; dropping one needs nobody.
    # Each press is answered once the picker is redrawn (staff_press).
    picker = await say(bot, vera, "/languages", button=LANGUAGE_NAMES["ug"])
    await staff_press(bot, vera, LANGUAGE_NAMES["ug"], message_id=picker.message_id)
    assert "⏳ " + LANGUAGE_NAMES["ug"] in vera.last_message().button_texts
    await staff_press(bot, vera, "✅ " + LANGUAGE_NAMES["en"], message_id=picker.message_id)
    assert LANGUAGE_NAMES["en"] in vera.last_message().button_texts
    mark = bot.server.mark()
    await staff_press(bot, vera, staff_texts.done_label(tr), message_id=picker.message_id)
    await language_request(bot, coordinator, vera, "ug", after=mark)
    held = await bot.services.staff.get(key)
    assert held is not None
    assert held.languages == frozenset()
    uyghur = bot.server.user(8600011, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, uyghur, language="ug")
    waiting = await request_of(bot, uyghur)
    assert reference(waiting.id) not in str(texts_of(vera))

    actions = [e.action for e in await bot.services.audit.entries()]
    label, boss = staff_label(bot, vera), staff_label(bot, coordinator)
    assert "ask-language:zh_Hans" in actions
    assert f"approve-language:{label}:en" in actions
    assert f"refuse-language:{label}:zh_Hans" in actions
    assert [e.actor for e in await bot.services.audit.entries() if "approve" in e.action] == [boss]


async def test_a_volunteer_holds_only_a_few_requests(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = replace(settings_for(server, tmp_path / "data"), max_held_requests=2)
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr("en")
        coordinator = server.user(8600100, first_name="Coord", language_code="en")
        await make_coordinator(bot, coordinator)
        alice = await volunteer(bot, coordinator, 8600101, "Alice")
        bob = await volunteer(bot, coordinator, 8600102, "Bob")
        requests = [await new_member(bot, 8600110 + n) for n in range(4)]
        for _, referral in requests[:2]:
            await claim(bot, alice, referral)
        third = requests[2][1]
        query = alice.press(staff_texts.claim_label(tr), message_id=notice_of(alice, third))
        assert await _answered(bot, query) == staff_texts.held_limit(tr, 2)
        assert (await request_of(bot, requests[2][0])).status == "open", "still in the queue"

        # A coordinator cannot hand a full volunteer more either.
        fourth = requests[3][1]
        await claim(bot, bob, fourth)
        mark = server.mark()
        await mine_button(bot, bob, fourth, staff_texts.handover_label(tr))
        asked = staff_texts.handover_request(tr, reference(fourth.id), staff_label(bot, bob))
        request = await coordinator.wait_for_message(text=asked, after=mark)
        query = coordinator.press(staff_label(bot, alice), message_id=request.message_id)
        assert await _answered(bot, query) == staff_texts.target_full(tr, staff_label(bot, alice))
        assert (await request_of(bot, requests[3][0])).volunteer == bot.services.members.key_for(
            bob.user_id
        )

        # Releasing one makes room.
        await mine_button(bot, alice, requests[0][1], staff_texts.release_label(tr))
        await claim(bot, alice, third)
        assert (await request_of(bot, requests[2][0])).status == "claimed"


async def test_holdings_and_claims_show_and_an_unusual_rate_alerts(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = replace(
        settings_for(server, tmp_path / "data"), max_held_requests=5, claim_alert_per_day=2
    )
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr("en")
        coordinator = server.user(8600200, first_name="Coord", language_code="en")
        await make_coordinator(bot, coordinator)
        alice = await volunteer(bot, coordinator, 8600201, "Alice")
        label = staff_label(bot, alice)
        requests = [await new_member(bot, 8600210 + n) for n in range(3)]
        for number, (_, referral) in enumerate(requests, start=1):
            await claim(bot, alice, referral)
            alerted = staff_texts.claim_alert(tr, label, number) in texts_of(coordinator)
            assert alerted == (number == 3), f"after claim {number}"
        roster = await _roster_line(bot, coordinator, alice)
        assert staff_texts.roster_load(tr, 3, 3) in roster

        # A week on, the claims are forgotten (by day); what she holds still shows.
        await mine_button(bot, alice, requests[0][1], staff_texts.release_label(tr))
        bot.clock.advance(timedelta(days=7))
        await Desk(bot.application.bot, bot.services).expire_and_purge()
        roster = await _roster_line(bot, coordinator, alice)
        assert staff_texts.roster_load(tr, 2, 0) in roster
        rows = await bot.services.database.connection.execute_fetchall(
            "SELECT day FROM staff_claims"
        )
        assert list(rows) == [], "only days were ever kept, and only for a week"
