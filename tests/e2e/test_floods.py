"""Floods and limits over real HTTP: one flooding account, the relay's pace, newcomers, digests.

The bot's clock is the tests' FakeClock, which stands still unless moved, so
allowances refill only when a test moves it: the counts below are exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot import limit_texts, referral_texts, staff_texts, texts
from bot.digest import COORDINATORS_ONLY_ROUND, DIGEST_MAX
from bot.i18n import LANGUAGE_NAMES
from bot.members import MemberState
from bot.rate_limits import FLOOD_IGNORE_AFTER, FLOOD_IGNORE_MINUTES, RELAY_RATE
from bot.referral_desk import FAST_ROUNDS, RENOTIFY_EVERY, SLOW_RENOTIFY_EVERY, Desk, reference
from bot.screens import telegram_length
from bot.settings import Settings
from storage.referrals import Referral
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    make_coordinator,
    only_referral,
    staff_press,
    volunteer,
)
from tests.e2e.steps import any_message, choose_language, label, say, tap
from tests.fakebot import FakeBotApi, FakeUser
from tests.fakebot.models import BotMessage

BURST = 8


@pytest.fixture
def limited(server: FakeBotApi, tmp_path: Path) -> Settings:
    return replace(
        settings_for(server, tmp_path / "data"),
        flood_burst=BURST,
        flood_per_minute=60,
        new_members_per_hour=2,
    )


@pytest.fixture
async def tight(
    server: FakeBotApi, limited: Settings, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    async with running_bot(server, limited, clock) as running:
        yield running


def _texts(user: FakeUser) -> list[str]:
    return [m.text or "" for m in user.visible_messages()]


def _with(user: FakeUser, text: str) -> list[BotMessage]:
    return [m for m in user.visible_messages() if m.text == text]


async def test_a_flooding_member_is_slowed_then_ignored_while_another_is_answered(
    tight: RunningBot,
) -> None:
    bot = tight
    tr = bot.tr("en")
    flooder = bot.server.user(8300001, first_name="Flood", language_code="en")
    honest = bot.server.user(8300002, first_name="Honest", language_code="en")
    await choose_language(bot, flooder, "en")
    await choose_language(bot, honest, "en")
    menu = label(bot, tr, "main", "menu", "detained")
    slowed = tr.finish(limit_texts.slowed(tr))
    ignored = tr.finish(limit_texts.ignored(tr, FLOOD_IGNORE_MINUTES))

    # Two updates went into choosing a language; the rest of the burst, then
    # the strikes that make it ignored, then more that are dropped unseen.
    flood = BURST - 2 + FLOOD_IGNORE_AFTER + 10
    mark = bot.server.mark()
    for number in range(flood):
        flooder.send_text(f"flood {number}")
    honest.send_text("/menu")
    await flooder.wait_for_message(text=ignored, after=mark)
    await honest.wait_for_button(menu, after=mark)
    await bot.settle()  # nothing follows: the rest of the flood is dropped unseen
    assert len(_with(flooder, slowed)) == 1, "told once that it is being slowed"
    assert len(_with(flooder, ignored)) == 1, "told once that it is ignored"

    # Ignored: a command gets nothing at all, while the other member is answered.
    before = [m.message_id for m in flooder.visible_messages()]
    mark = bot.server.mark()
    flooder.send_text("/menu")
    honest.send_text("/status")
    await honest.wait_for_message(text=tr.finish(referral_texts.status_none(tr)), after=mark)
    await bot.settle()  # nothing follows for the ignored account
    assert [m.message_id for m in flooder.visible_messages()] == before

    # A wipe still goes through for the ignored account.
    await say(bot, flooder, "/wipe", text=tr.finish(texts.wipe_question(tr)))

    # After a while it is served again.
    bot.clock.advance(timedelta(minutes=FLOOD_IGNORE_MINUTES, seconds=1))
    await say(bot, flooder, "/menu", button=menu)


async def _claimed_pair(bot: RunningBot) -> tuple[FakeUser, FakeUser, Referral]:
    coordinator = bot.server.user(8300100, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8300101, "Alice")
    member = bot.server.user(8300102, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    mark = bot.server.mark()
    await claim(bot, alice, referral)
    tr = bot.tr("en")
    await member.wait_for_message(text=tr.finish(referral_texts.claimed(tr)), after=mark)
    return alice, member, referral


def _copies_to(bot: RunningBot, user: FakeUser) -> int:
    return sum(
        1 for call in bot.server.calls("copyMessage") if call.params["chat_id"] == user.chat_id
    )


async def test_the_relay_is_paced_both_ways(bot: RunningBot) -> None:
    alice, member, _ = await _claimed_pair(bot)
    tr = bot.tr("en")
    too_fast = tr.finish(limit_texts.relay_too_fast(tr))
    extra = 4

    mark = bot.server.mark()
    for number in range(RELAY_RATE.burst + extra):
        member.send_text(f"member words {number}")
    await member.wait_for_message(text=too_fast, after=mark)
    await bot.settle()  # nothing follows: the held-back messages are not passed on
    assert _copies_to(bot, alice) == RELAY_RATE.burst, "past the burst nothing is passed on"
    assert len(_with(member, too_fast)) == 1, "one note, not one per held-back message"
    assert too_fast not in _texts(alice)

    mark = bot.server.mark()
    for number in range(RELAY_RATE.burst + extra):
        alice.send_text(f"volunteer words {number}")
    await alice.wait_for_message(text=too_fast, after=mark)
    await bot.settle()  # nothing follows: the held-back messages are not passed on
    assert _copies_to(bot, member) == RELAY_RATE.burst
    assert len(_with(alice, too_fast)) == 1
    assert len(_with(member, too_fast)) == 1, "the member heard nothing of the volunteer's pace"

    # A minute later both can go on.
    bot.clock.advance(timedelta(minutes=1))
    mark = bot.server.mark()
    member.send_text("after a minute 3391")
    await alice.wait_for_message(text="after a minute 3391", after=mark)
    alice.send_text("reply after a minute 4410")
    await member.wait_for_message(text="reply after a minute 4410", after=mark)


async def _file_urgent(bot: RunningBot, count: int, first_id: int) -> list[Referral]:
    """``count`` urgent requests in English, filed through the repository (no announcement)."""
    services = bot.services
    desk = Desk(bot.application.bot, services)
    filed: list[Referral] = []
    for number in range(count):
        user = bot.server.user(first_id + number, first_name="M", language_code="en")
        key = services.members.key_for(user.user_id)
        await services.members.save(key, MemberState(locale="en"))
        today = services.clock().date()
        referral = await services.referrals.open(
            key,
            topic="detained",
            urgency="detained",
            country="TR",
            language="en",
            chat_id=user.chat_id,
            today=today,
            notify_at=desk.next_round_at(),
            rate_key=services.pseudonymizer.rate_key(key, today.isoformat()),
            daily_limit=3,
        )
        assert isinstance(referral, Referral)
        filed.append(referral)
    return filed


def _sent_to(bot: RunningBot, user: FakeUser, since: int) -> list[dict[str, object]]:
    calls = bot.server.calls("sendMessage")[since:]
    return [call.params for call in calls if call.params["chat_id"] == user.chat_id]


def _claim_buttons(message: BotMessage) -> list[str]:
    return [text for text in message.button_texts if text.startswith("Claim")]


async def test_many_urgent_requests_make_one_digest_per_account_per_round(bot: RunningBot) -> None:
    tr = bot.tr("en")
    coordinator = bot.server.user(8300200, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8300201, "Alice")
    chen = await volunteer(bot, coordinator, 8300202, "Chen", ("zh_Hans",))
    waiting = DIGEST_MAX + 5
    filed = await _file_urgent(bot, waiting, 8300300)
    desk = Desk(bot.application.bot, bot.services)

    bot.clock.advance(RENOTIFY_EVERY)
    since = len(bot.server.calls("sendMessage"))
    # A round's messages are sent when it returns: nothing of it comes later.
    assert await desk.renotify_urgent() == waiting
    for user in (alice, coordinator):
        sent = _sent_to(bot, user, since)
        assert len(sent) == 1, "one message per account, not one per request"
        digest = user.last_message()
        assert (digest.text or "").startswith(tr.finish(limit_texts.digest_heading(tr, waiting)))
        assert tr.finish(limit_texts.digest_more(tr, waiting - DIGEST_MAX)) in (digest.text or "")
        assert len(_claim_buttons(digest)) == DIGEST_MAX
        assert telegram_length(digest.text or "") <= 4096
        assert all(len(data.encode()) <= 64 for row in digest.buttons for _, data in row if data)
    assert _sent_to(bot, chen, since) == [], "not in their language"

    # Claiming from the digest: the digest is redrawn without that request.
    digest = alice.last_message()
    first = _claim_buttons(digest)[0]
    taken_id = first.removeprefix("Claim #")
    # Answered once the claim is carried out, its "you now hold" note included.
    mark = bot.server.mark()
    await staff_press(bot, alice, first, message_id=digest.message_id)

    def redrawn(message: BotMessage) -> bool:
        return message.message_id == digest.message_id and (
            len(_claim_buttons(message)) == DIGEST_MAX - 1
        )

    await alice.wait_for_message(predicate=redrawn, after=mark)
    held = await bot.services.referrals.get(taken_id)
    assert held is not None
    assert held.volunteer == bot.services.members.key_for(alice.user_id)
    assert all(taken_id not in b for m in coordinator.visible_messages() for b in _claim_buttons(m))

    # The next round replaces the digests: still one message per account, one digest in each chat.
    bot.clock.advance(RENOTIFY_EVERY)
    since = len(bot.server.calls("sendMessage"))
    assert await desk.renotify_urgent() == waiting - 1
    for user in (alice, coordinator):
        assert len(_sent_to(bot, user, since)) == 1
        digests = [m for m in user.visible_messages() if _claim_buttons(m)]
        assert len(digests) == 1, "the last round's digest was deleted"
        assert all(taken_id not in b for b in _claim_buttons(digests[0]))
    assert taken_id in {r.id for r in filed}


async def test_an_urgent_request_unclaimed_for_a_day_goes_to_coordinators_only(
    bot: RunningBot,
) -> None:
    tr = bot.tr("en")
    coordinator = bot.server.user(8300400, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8300401, "Alice")
    member = bot.server.user(8300402, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, topic="detained", urgency="detained")
    referral = await only_referral(bot, member)
    desk = Desk(bot.application.bot, bot.services)
    ref = reference(referral.id)

    def notices(user: FakeUser) -> list[BotMessage]:
        # With a Claim button: after a claim, "you now hold" names it with a Talk here button.
        claim = staff_texts.claim_label(tr)
        return [
            m for m in user.visible_messages() if ref in (m.text or "") and claim in m.button_texts
        ]

    elapsed = timedelta()
    for this_round in range(1, COORDINATORS_ONLY_ROUND + 2):
        pause = RENOTIFY_EVERY if this_round <= FAST_ROUNDS else SLOW_RENOTIFY_EVERY
        bot.clock.advance(pause)
        bot.server.advance_clock(pause.total_seconds())
        elapsed += pause
        # A round's messages are sent (and the last round's deleted) when it returns.
        assert await desk.renotify_urgent() == 1
        if this_round == COORDINATORS_ONLY_ROUND - 1:
            assert elapsed < timedelta(hours=24)
            assert len(notices(alice)) == 1, "a volunteer is reminded for a day"
        if this_round >= COORDINATORS_ONLY_ROUND:
            assert elapsed >= timedelta(hours=24)
            assert notices(alice) == [], "then only coordinators are"
            assert len(notices(coordinator)) == 1
            assert tr.finish(limit_texts.coordinators_only(tr)) in (
                notices(coordinator)[0].text or ""
            )
    # A coordinator can still take it; answered once its notices are retired.
    await staff_press(
        bot, coordinator, staff_texts.claim_label(tr), message_id=notices(coordinator)[0].message_id
    )
    assert notices(coordinator) == []
    claimed = await bot.services.referrals.get(referral.id)
    assert claimed is not None
    assert claimed.status == "claimed"


async def test_past_the_hourly_cap_strangers_are_told_kindly_and_the_crisis_path_stays_open(
    tight: RunningBot,
) -> None:
    bot = tight
    services = bot.services
    first = bot.server.user(8300501, first_name="A", language_code="en")
    second = bot.server.user(8300502, first_name="B", language_code="en")
    for user in (first, second):
        await say(bot, user, "/start", button=LANGUAGE_NAMES["en"])

    async def members() -> int:
        rows = await services.database.connection.execute_fetchall("SELECT COUNT(*) FROM members")
        return int(next(iter(rows))[0])

    assert await members() == 2
    hans = bot.tr("zh_Hans")
    busy = hans.finish(limit_texts.newcomer_busy(hans))
    crisis_label = label(bot, hans, "main", "menu", "detained")
    third = bot.server.user(8300503, first_name="C", language_code="zh-hans")
    refusal = await say(bot, third, "/start", predicate=any_message)
    assert refusal == third.last_message()
    assert (refusal.text or "").startswith(busy), "kind, and in their language"
    assert hans.finish(limit_texts.newcomer_crisis(hans)) in (refusal.text or "")
    assert refusal.button_texts == [crisis_label]
    assert refusal.protect_content
    assert await members() == 2, "nothing stored about a stranger turned away"

    # Told once an hour, not once per message.
    third.send_text("hello?")
    await bot.settle()  # fetched, and nothing follows
    assert len(_with(third, refusal.text or "")) == 1
    assert len(third.visible_messages()) == 1

    # The crisis button lets them in, straight to the detained screens in their language.
    intro = bot.snapshot.registry.node("detained", "intro")
    assert intro is not None
    intro_text = hans.finish(hans.pgettext("detained.intro", intro.text))
    await tap(bot, third, crisis_label, message_id=refusal.message_id, text=intro_text)
    assert await members() == 3

    # The crisis path has its own allowance of the same size; then it is full too.
    fourth = bot.server.user(8300504, first_name="D", language_code="zh-hant-tw")
    hant = bot.tr("zh_Hant")
    hant_crisis = label(bot, hant, "main", "menu", "detained")
    turned_away = await say(bot, fourth, "/start", button=hant_crisis)
    hant_intro = hant.finish(hant.pgettext("detained.intro", intro.text))
    await tap(bot, fourth, hant_crisis, message_id=turned_away.message_id, text=hant_intro)
    fifth = bot.server.user(8300505, first_name="E", language_code="en")
    await say(bot, fifth, "/start", predicate=any_message)
    en = bot.tr("en")
    assert fifth.last_message().text == en.finish(limit_texts.newcomer_busy(en))
    assert fifth.last_message().buttons == []

    # Volunteers and coordinators are never turned away, nor is someone with an invite.
    coordinator = bot.server.user(8300506, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    await say(bot, coordinator, "/start", button=LANGUAGE_NAMES["en"])
    helper = await volunteer(bot, coordinator, 8300507, "Helper")
    assert await services.staff.get(services.members.key_for(helper.user_id)) is not None

    # The next hour, strangers are welcome again.
    bot.clock.advance(timedelta(hours=1))
    await say(bot, fifth, "/start", button=LANGUAGE_NAMES["en"])
