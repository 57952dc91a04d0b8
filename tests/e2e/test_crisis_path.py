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
    consent_label,
    member_referral,
    sent_text,
    shows,
    start_in,
    where_now,
)
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import (
    answer_label,
    cancel_request,
    claim,
    make_coordinator,
    notice_of,
    volunteer,
)
from tests.e2e.steps import label, node_text, say, tap
from tests.fakebot import BotMessage, FakeUser


async def _team(bot: RunningBot, languages: tuple[str, ...] = ("en",)) -> tuple[FakeUser, FakeUser]:
    coordinator = bot.server.user(8900001, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8900002, "Alice", languages)
    return coordinator, alice


def _notices_about(user: FakeUser, referral_id: str) -> list[str]:
    return [
        m.text or "" for m in user.visible_messages() if reference(referral_id) in (m.text or "")
    ]


async def _notice(user: FakeUser, referral_id: str, *, after: int) -> BotMessage:
    """The user's newest message about the request sent (or redrawn) after the mark."""
    return await user.wait_for_message(containing=reference(referral_id), after=after)


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
    mark = bot.server.mark()
    await ask_urgently(bot, member, country="MA")
    first = await member_referral(bot, member)
    assert first is not None
    assert (first.topic, first.urgency, first.country, first.language) == (
        "detained",
        "detained",
        "MA",
        "en",
    )
    await _notice(alice, first.id, after=mark)

    # Cancelling and filing again in a loop is never refused either, but it no
    # longer rings every phone at once: it waits for the next round.
    await cancel_request(bot, member)
    await back_to_detained(bot, member)
    await ask_urgently(bot, member, country="MA")
    again = await member_referral(bot, member)
    assert again is not None
    assert again.id != first.id
    await bot.settle()  # nothing follows: no notice until the next round
    assert _notices_about(alice, again.id) == []
    bot.clock.advance(RENOTIFY_EVERY)
    mark = bot.server.mark()
    assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1
    await _notice(alice, again.id, after=mark)
    assert answer_name("u", "detained", tr, "en") in _notices_about(alice, again.id)[-1]


async def test_one_question_in_the_members_language_and_back_skips_the_consent(
    bot: RunningBot,
) -> None:
    _, alice = await _team(bot, ("ug",))
    tr = bot.tr("ug")
    member = bot.server.user(8900011, first_name="Member", language_code=None)
    intro = await start_in(bot, member, "ug")
    consent = await tap(
        bot,
        member,
        label(bot, tr, "detained", "intro", "volunteer"),
        message_id=intro.message_id,
        button=consent_label(bot, tr, "urgent"),
    )
    urgent = bot.snapshot.registry.node("volunteer", "urgent")
    assert urgent is not None
    assert consent.text == tr.finish(tr.pgettext("volunteer.urgent", urgent.text))
    # One way back from a consent screen: its own "No", not a Back beside it.
    assert tr.finish(texts.back_label(tr)) not in consent.button_texts
    assert consent.button_texts[0] == consent_label(bot, tr, "urgent")
    question = await tap(
        bot,
        member,
        consent_label(bot, tr, "urgent"),
        message_id=consent.message_id,
        containing=where_now(tr),
    )
    # Only "Where are you now?": no "Question 1 of 1", no topic, urgency or language.
    assert question.text == where_now(tr)
    for code in ("MA", "PL", "RS", "QA", "ID", "TJ"):
        assert answer_label(bot, "c", code, "ug") in question.button_texts
    cancel = tr.finish(referral_texts.cancel_label(tr))
    assert question.button_texts[-1] == cancel
    mark = bot.server.mark()
    sent = await tap(
        bot,
        member,
        answer_label(bot, "c", "QA", "ug"),
        message_id=question.message_id,
        containing=sent_text(bot, tr),
    )

    referral = await member_referral(bot, member)
    assert referral is not None
    assert (referral.topic, referral.urgency, referral.country, referral.language) == (
        "detained",
        "detained",
        "QA",
        "ug",
    )
    assert referral.urgent
    await _notice(alice, referral.id, after=mark)
    [notice] = _notices_about(alice, referral.id)
    assert answer_name("u", "detained", bot.tr("en"), "en") in notice

    # Back from "your request has been sent" goes to the screen before the consent.
    await tap(
        bot,
        member,
        tr.finish(texts.back_label(tr)),
        message_id=sent.message_id,
        containing=node_text(bot, tr, "detained", "intro"),
    )
    assert not shows(member, consent_label(bot, tr, "urgent"))


async def test_an_open_request_is_escalated_instead_of_refused(bot: RunningBot) -> None:
    coordinator, alice = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8900012, first_name="Member", language_code="en")
    await start_in(bot, member, "en")
    mark = bot.server.mark()
    await ask_ordinarily(bot, member, country="DE")
    ordinary = await member_referral(bot, member)
    assert ordinary is not None
    first_notice = (await _notice(alice, ordinary.id, after=mark)).message_id
    assert notice_of(alice, ordinary) == first_notice
    assert answer_name("u", "general", tr, "en") in _notices_about(alice, ordinary.id)[-1]

    await back_to_detained(bot, member)
    escalated_text = tr.finish(referral_texts.escalated_waiting(tr))
    mark = bot.server.mark()
    await ask_urgently(bot, member, country="RS", expect=escalated_text)
    now = await member_referral(bot, member)
    assert now is not None
    assert now.id == ordinary.id, "the same request, not a second one"
    assert (now.urgency, now.country, now.status) == ("detained", "RS", "open")
    assert await bot.services.referrals.count() == 1

    # Volunteers and coordinators get a new notice that says what changed; the
    # old one, with the old urgency, is gone.
    lead = staff_texts.now_urgent(tr)

    def says_urgent(message: BotMessage) -> bool:
        return lead in (message.text or "")

    for user in (alice, coordinator):
        await user.wait_for_message(containing=reference(now.id), predicate=says_urgent, after=mark)
        [notice] = _notices_about(user, now.id)
        assert answer_name("u", "detained", tr, "en") in notice
        assert staff_texts.claim_label(tr) in user.last_message().button_texts
    assert notice_of(alice, now) != first_notice

    # /status says it is urgent.
    await say(bot, member, "/status", containing=tr.finish(referral_texts.status_urgent(tr)))

    # Its urgent rounds have started.
    bot.clock.advance(RENOTIFY_EVERY)
    assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1

    # Asking again while it is marked detained changes and announces nothing.
    await back_to_detained(bot, member)
    before = [m.message_id for m in alice.visible_messages()]
    await ask_urgently(bot, member, country="RS", expect=escalated_text)
    await bot.settle()  # nothing follows: no notice, no deletion
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
    mark = bot.server.mark()
    await ask_urgently(
        bot, member, country="TR", expect=tr.finish(referral_texts.escalated_claimed(tr))
    )
    told = staff_texts.held_now_urgent(tr, reference(referral.id))
    await alice.wait_for_message(containing=told, after=mark)
    now = await member_referral(bot, member)
    assert now is not None
    holder = bot.services.members.key_for(alice.user_id)
    assert (now.status, now.urgency, now.volunteer) == ("claimed", "detained", holder)
    await say(bot, member, "/status", containing=tr.finish(referral_texts.status_claimed(tr)))
    # The volunteer's list shows the new urgency.
    detained = answer_name("u", "detained", tr, "en")

    def names_the_urgency(message: BotMessage) -> bool:
        return detained in (message.text or "")

    await say(bot, alice, "/mine", containing=reference(referral.id), predicate=names_the_urgency)
