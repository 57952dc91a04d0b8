"""Someone detained or stopped now, over real HTTP: never refused, one question, no way back
to a consent already given, and an open request escalated instead of a refusal."""

from __future__ import annotations

from bot import referral_texts, staff_texts, texts
from bot.referral_choices import label as answer_name
from bot.referral_desk import DAILY_REQUEST_LIMIT, RENOTIFY_EVERY, Desk, reference
from tests.e2e.crisis_steps import (
    ask_ordinarily,
    ask_urgently,
    back_to_detained,
    cancel_request,
    consent_label,
    last_shows,
    member_referral,
    sent_text,
    shows,
    start_in,
    where_now,
)
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import (
    answer_label,
    claim,
    make_coordinator,
    notice_of,
    press_when_shown,
    volunteer,
)
from tests.e2e.test_member_journeys import label, node_text
from tests.fakebot import FakeUser


async def _team(bot: RunningBot, languages: tuple[str, ...] = ("en",)) -> tuple[FakeUser, FakeUser]:
    coordinator = bot.server.user(8900001, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8900002, "Alice", languages)
    return coordinator, alice


def _notices_about(user: FakeUser, referral_id: str) -> list[str]:
    return [
        m.text or "" for m in user.visible_messages() if reference(referral_id) in (m.text or "")
    ]


async def test_the_daily_limit_never_refuses_someone_detained_now(bot: RunningBot) -> None:
    _, alice = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8900010, first_name="Member", language_code="en")
    await start_in(bot, member, "en")
    for _ in range(DAILY_REQUEST_LIMIT):
        await ask_ordinarily(bot, member)
        await cancel_request(bot, member)
    await ask_ordinarily(bot, member, expect=tr.finish(referral_texts.refused_daily_limit(tr)))

    # Detained now: filed anyway, and announced at once.
    await back_to_detained(bot, member)
    await ask_urgently(bot, member, country="MA")
    first = await member_referral(bot, member)
    assert first is not None
    assert (first.topic, first.urgency, first.country, first.language) == (
        "detained",
        "detained",
        "MA",
        "en",
    )
    await bot.server.wait_for(lambda: bool(_notices_about(alice, first.id)), timeout=15)

    # Cancelling and filing again in a loop is never refused either, but it no
    # longer rings every phone at once: it waits for the next round.
    await cancel_request(bot, member)
    await back_to_detained(bot, member)
    await ask_urgently(bot, member, country="MA")
    again = await member_referral(bot, member)
    assert again is not None
    assert again.id != first.id
    await bot.settle()
    assert _notices_about(alice, again.id) == []
    bot.clock.advance(RENOTIFY_EVERY)
    assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1
    await bot.server.wait_for(lambda: bool(_notices_about(alice, again.id)), timeout=15)
    assert answer_name("u", "detained", tr, "en") in _notices_about(alice, again.id)[-1]


async def test_one_question_in_the_members_language_and_back_skips_the_consent(
    bot: RunningBot,
) -> None:
    _, alice = await _team(bot, ("ug",))
    tr = bot.tr("ug")
    member = bot.server.user(8900011, first_name="Member", language_code=None)
    await start_in(bot, member, "ug")
    await press_when_shown(bot, member, label(bot, tr, "detained", "intro", "volunteer"))
    consent = member.last_message()
    urgent = bot.snapshot.registry.node("volunteer", "urgent")
    assert urgent is not None
    assert consent.text == tr.finish(tr.pgettext("volunteer.urgent", urgent.text))
    # One way back from a consent screen: its own "No", not a Back beside it.
    assert tr.finish(texts.back_label(tr)) not in consent.button_texts
    assert consent.button_texts[0] == consent_label(bot, tr, "urgent")
    member.press(consent_label(bot, tr, "urgent"))
    await bot.server.wait_for(lambda: last_shows(member, where_now(tr)), timeout=15)
    question = member.last_message()
    # Only "Where are you now?": no "Question 1 of 1", no topic, urgency or language.
    assert question.text == where_now(tr)
    for code in ("MA", "PL", "RS", "QA", "ID", "TJ"):
        assert answer_label(bot, "c", code, "ug") in question.button_texts
    cancel = tr.finish(referral_texts.cancel_label(tr))
    assert question.button_texts[-1] == cancel
    member.press(answer_label(bot, "c", "QA", "ug"))
    await bot.server.wait_for(lambda: last_shows(member, sent_text(bot, tr)), timeout=15)

    referral = await member_referral(bot, member)
    assert referral is not None
    assert (referral.topic, referral.urgency, referral.country, referral.language) == (
        "detained",
        "detained",
        "QA",
        "ug",
    )
    assert referral.urgent
    await bot.server.wait_for(lambda: bool(_notices_about(alice, referral.id)), timeout=15)
    [notice] = _notices_about(alice, referral.id)
    assert answer_name("u", "detained", bot.tr("en"), "en") in notice

    # Back from "your request has been sent" goes to the screen before the consent.
    member.press(tr.finish(texts.back_label(tr)))
    intro = node_text(bot, tr, "detained", "intro")
    await bot.server.wait_for(lambda: last_shows(member, intro), timeout=15)
    assert not shows(member, consent_label(bot, tr, "urgent"))


async def test_an_open_request_is_escalated_instead_of_refused(bot: RunningBot) -> None:
    coordinator, alice = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8900012, first_name="Member", language_code="en")
    await start_in(bot, member, "en")
    await ask_ordinarily(bot, member, country="DE")
    ordinary = await member_referral(bot, member)
    assert ordinary is not None
    first_notice = notice_of(alice, ordinary)
    assert answer_name("u", "general", tr, "en") in _notices_about(alice, ordinary.id)[-1]

    await back_to_detained(bot, member)
    escalated_text = tr.finish(referral_texts.escalated_waiting(tr))
    await ask_urgently(bot, member, country="RS", expect=escalated_text)
    now = await member_referral(bot, member)
    assert now is not None
    assert now.id == ordinary.id, "the same request, not a second one"
    assert (now.urgency, now.country, now.status) == ("detained", "RS", "open")
    assert await bot.services.referrals.count() == 1

    # Volunteers and coordinators get a new notice that says what changed; the
    # old one, with the old urgency, is gone.
    lead = staff_texts.now_urgent(tr)
    for user in (alice, coordinator):
        await bot.server.wait_for(
            lambda user=user: any(lead in text for text in _notices_about(user, now.id)),
            timeout=15,
        )
        [notice] = _notices_about(user, now.id)
        assert answer_name("u", "detained", tr, "en") in notice
        assert staff_texts.claim_label(tr) in user.last_message().button_texts
    assert notice_of(alice, now) != first_notice

    # /status says it is urgent.
    member.send_text("/status")
    urgent_status = tr.finish(referral_texts.status_urgent(tr))
    await bot.server.wait_for(lambda: last_shows(member, urgent_status), timeout=15)

    # Its urgent rounds have started.
    bot.clock.advance(RENOTIFY_EVERY)
    assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1

    # Asking again while it is marked detained changes and announces nothing.
    await back_to_detained(bot, member)
    before = [m.message_id for m in alice.visible_messages()]
    await ask_urgently(bot, member, country="RS", expect=escalated_text)
    await bot.settle()
    assert [m.message_id for m in alice.visible_messages()] == before
    assert await bot.services.referrals.count() == 1


async def test_a_claimed_request_is_escalated_and_its_volunteer_told(bot: RunningBot) -> None:
    _, alice = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8900013, first_name="Member", language_code="en")
    await start_in(bot, member, "en")
    await ask_ordinarily(bot, member)
    referral = await member_referral(bot, member)
    assert referral is not None
    await claim(bot, alice, referral)

    await back_to_detained(bot, member)
    await ask_urgently(
        bot, member, country="TR", expect=tr.finish(referral_texts.escalated_claimed(tr))
    )
    told = staff_texts.held_now_urgent(tr, reference(referral.id))
    await bot.server.wait_for(lambda: last_shows(alice, told), timeout=15)
    now = await member_referral(bot, member)
    assert now is not None
    holder = bot.services.members.key_for(alice.user_id)
    assert (now.status, now.urgency, now.volunteer) == ("claimed", "detained", holder)
    member.send_text("/status")
    claimed = tr.finish(referral_texts.status_claimed(tr))
    await bot.server.wait_for(lambda: last_shows(member, claimed), timeout=15)
    # The volunteer's list shows the new urgency.
    alice.send_text("/mine")
    detained = answer_name("u", "detained", tr, "en")
    await bot.server.wait_for(
        lambda: any(
            reference(referral.id) in (m.text or "") and detained in (m.text or "")
            for m in alice.visible_messages()
        ),
        timeout=15,
    )
