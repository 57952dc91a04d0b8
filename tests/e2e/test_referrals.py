"""Members, volunteers and coordinators through referrals, over real HTTP.

Every step is a real update through the Application: invites, claims, the
relay, release, close, removal and forged buttons. Scheduled work (urgent
re-announcements, expiry, purge) is run by calling the same functions the
JobQueue calls, after moving the bot's clock; the test awaits them, so what
they send is in the chats when they return.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot import jobs, referral_texts, staff_texts, texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_desk import ESCALATE_AFTER_ROUNDS, RENOTIFY_EVERY, Desk, reference
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    cancel_request,
    claim,
    close_held,
    held,
    invite,
    join,
    make_coordinator,
    member_claimed_text,
    notice_of,
    only_referral,
    referral_of,
    release_held,
    request_outcomes,
    staff_press,
    talk,
    volunteer,
)
from tests.e2e.steps import ask_to_wipe, choose_language, say, wipe
from tests.fakebot import BotMessage, FakeBotApi, FakeUser

MEMBER_TEXT = "hello from the member 5521"
VOLUNTEER_TEXT = "hello from the volunteer 8832"


async def _team(bot: RunningBot) -> tuple[FakeUser, FakeUser, FakeUser]:
    coordinator = bot.server.user(8100001, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, 8100002, "Alice")
    bob = await volunteer(bot, coordinator, 8100003, "Bob")
    return coordinator, alice, bob


def _pressed_alert(bot: RunningBot, query_id: str) -> str | None:
    answer = bot.server.callback_answer(query_id)
    assert answer is not None, "every press is answered"
    return answer.get("text") if answer.get("show_alert") else None


def _any_message(message: BotMessage) -> bool:
    """For a step that waits for the bot's answer, whatever it says."""
    return True


def _has_photo(message: BotMessage) -> bool:
    return "photo" in message.raw


async def _roster_row(bot: RunningBot, coordinator: FakeUser, staff_label: str) -> BotMessage:
    """/volunteers: the roster line of this account, with its buttons."""

    def starts_with_label(message: BotMessage) -> bool:
        return (message.text or "").startswith(staff_label)

    return await say(bot, coordinator, "/volunteers", predicate=starts_with_label)


def _label_of(bot: RunningBot, user: FakeUser) -> str:
    return bot.services.pseudonymizer.label(bot.services.members.key_for(user.user_id))


async def _deleted(bot: RunningBot, user: FakeUser, message_id: int) -> None:
    await bot.server.wait_for(
        lambda: message_id not in user.message_ids(),
        what=f"message {message_id} deleted from chat {user.chat_id}",
    )


async def test_request_race_relay_release_reclaim_and_close(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100010, first_name="Member", language_code="en")

    sent = await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    assert referral.status == "open"
    assert (referral.topic, referral.urgency, referral.country, referral.language) == (
        "travel",
        "general",
        "TR",
        "en",
    )
    assert sent.text == request_outcomes(bot)[0]
    assert member.last_message().message_id == sent.message_id

    # Every eligible account gets a generic notice with a Claim button.
    for user in (coordinator, alice, bob):
        notice = next(
            m for m in user.visible_messages() if m.message_id == notice_of(user, referral)
        )
        assert staff_texts.claim_label(tr) in notice.button_texts
        assert "Member" not in (notice.text or "")
        assert notice.protect_content

    # Two volunteers race: both presses are queued before the bot handles either.
    alice_press = alice.press(staff_texts.claim_label(tr), message_id=notice_of(alice, referral))
    bob_press = bob.press(staff_texts.claim_label(tr), message_id=notice_of(bob, referral))
    await bot.server.wait_for_answer(alice_press)
    await bot.server.wait_for_answer(bob_press)
    claimed = await bot.services.referrals.get(referral.id)
    assert claimed is not None
    assert claimed.status == "claimed"
    winner, loser = (
        (alice, bob)
        if claimed.volunteer == bot.services.members.key_for(alice.user_id)
        else (bob, alice)
    )
    loser_press = bob_press if loser is bob else alice_press
    assert _pressed_alert(bot, loser_press) == staff_texts.claim_lost(tr)
    for user in (coordinator, loser):
        retired = next(
            m for m in user.visible_messages() if m.message_id == notice_of(user, referral)
        )
        assert retired.text == staff_texts.taken(tr, reference(referral.id))
        assert retired.buttons == []
    assert member_claimed_text(bot) in [m.text for m in member.visible_messages()]
    await talk(bot, winner, referral)  # a claim alone does not choose whom one writes to

    # The relay, both ways, text and a photo: copies, never forwards.
    mark = bot.server.mark()
    member.send_text(MEMBER_TEXT)
    copied = await winner.wait_for_message(text=MEMBER_TEXT, after=mark)
    assert winner.last_message().message_id == copied.message_id
    assert copied.protect_content
    assert "forward_origin" not in copied.raw
    mark = bot.server.mark()
    member.send_photo(caption="photo caption 77")
    await winner.wait_for_message(predicate=_has_photo, after=mark)
    assert MEMBER_TEXT not in [m.text for m in loser.visible_messages()]
    mark = bot.server.mark()
    winner.send_text(VOLUNTEER_TEXT)
    answer = await member.wait_for_message(text=VOLUNTEER_TEXT, after=mark)
    assert member.last_message().message_id == answer.message_id
    assert answer.protect_content
    assert "forward_origin" not in answer.raw

    # Release: back in the queue, announced again; the other volunteer claims it.
    await release_held(bot, winner)
    released = await bot.services.referrals.get(referral.id)
    assert released is not None
    assert released.status == "open"
    assert released.volunteer is None
    assert tr.finish(referral_texts.released(tr)) in [m.text for m in member.visible_messages()]
    await claim(bot, loser, referral)
    reclaimed = await bot.services.referrals.get(referral.id)
    assert reclaimed is not None
    assert reclaimed.volunteer == bot.services.members.key_for(loser.user_id)
    # The first volunteer no longer reaches the member.
    await say(bot, winner, "still there?", text=staff_texts.no_conversation(tr))
    assert "still there?" not in [m.text for m in member.visible_messages()]

    # Close with an outcome: the member is told and the relay ends.
    await close_held(bot, loser, "informed")
    closed = await bot.services.referrals.get(referral.id)
    assert closed is not None
    assert closed.status == "closed"
    assert closed.outcome == "informed"
    assert tr.finish(referral_texts.closed(tr)) in [m.text for m in member.visible_messages()]
    rows = await bot.services.database.connection.execute_fetchall(
        "SELECT chat_ref FROM referrals WHERE id = ?", (referral.id,)
    )
    assert [tuple(r) for r in rows] == [(None,)], "a closed referral keeps no chat reference"
    # With the request closed, what the member types is deleted, not relayed.
    await _deleted(bot, member, member.send_text("after close 991"))
    assert "after close 991" not in [m.text for m in loser.visible_messages()]

    actions = [e.action for e in await bot.services.audit.entries()]
    for expected in ("request", "claim", "release", "close:informed"):
        assert expected in actions
    # Relayed messages are counted per request and day, not logged one by one.
    counted = await bot.services.audit.relay_counts()
    assert [(c.referral, c.from_member, c.from_staff) for c in counted] == [(referral.id, 2, 1)]
    report = await bot.services.audit.verify()
    assert report.intact
    assert report.entries == len(actions)


async def test_member_status_and_cancel_tell_the_volunteer(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100011, first_name="Member", language_code="en")
    await say(bot, member, "/status", text=tr.finish(referral_texts.status_none(tr)))

    await ask_for_volunteer(bot, member)
    await say(bot, member, "/status", text=tr.finish(referral_texts.status_waiting(tr)))
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)

    await say(bot, member, "/status", text=tr.finish(referral_texts.status_claimed(tr)))
    mark = bot.server.mark()
    await cancel_request(bot, member)
    assert await bot.services.referrals.count() == 0, "a cancelled request is erased"
    left = staff_texts.member_left(tr, reference(referral.id))
    await alice.wait_for_message(text=left, after=mark)
    await say(bot, alice, "are you there", text=staff_texts.no_conversation(tr))


async def test_one_open_request_and_a_daily_limit(bot: RunningBot) -> None:
    await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100012, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    refused = await ask_for_volunteer(bot, member, again=True)
    assert tr.finish(referral_texts.refused_already_open(tr)) in (refused.text or "")
    assert await bot.services.referrals.count() == 1
    for _ in range(2):
        await cancel_request(bot, member)
        await ask_for_volunteer(bot, member, again=True)
    await cancel_request(bot, member)
    refused = await ask_for_volunteer(bot, member, again=True)
    assert tr.finish(referral_texts.refused_daily_limit(tr)) in (refused.text or "")
    assert await bot.services.referrals.count() == 0


async def test_urgent_requests_are_announced_again_then_escalated(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100013, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, topic="detained", urgency="detained")
    referral = await only_referral(bot, member)
    desk = Desk(bot.application.bot, bot.services)
    first_notice = notice_of(alice, referral)

    assert await desk.renotify_urgent() == 0, "not before the interval"
    for round_number in range(1, ESCALATE_AFTER_ROUNDS + 1):
        bot.clock.advance(RENOTIFY_EVERY)
        assert await desk.renotify_urgent() == 1
        assert notice_of(alice, referral) != first_notice
        assert staff_texts.reminder(tr) in (alice.last_message().text or "")
        escalated = staff_texts.escalation(tr) in (coordinator.last_message().text or "")
        assert escalated == (round_number >= ESCALATE_AFTER_ROUNDS)

    # Claiming stops the rounds and retires every notice, old and new.
    await claim(bot, bob, referral)
    bot.clock.advance(RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 0
    assert all(
        staff_texts.claim_label(tr) not in m.button_texts
        for user in (alice, bob, coordinator)
        for m in user.visible_messages()
    )


async def test_urgent_rounds_survive_a_restart(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    async with running_bot(server, settings, clock) as bot:
        _, alice, _ = await _team(bot)
        member = server.user(8100014, first_name="Member", language_code="en")
        await ask_for_volunteer(bot, member, topic="detained", urgency="immediate_risk")
        referral = await only_referral(bot, member)
        before = notice_of(alice, referral)
    clock.advance(RENOTIFY_EVERY)
    async with running_bot(server, settings, clock) as bot:
        # The job the JobQueue runs every minute, with the restarted bot's context.
        assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1
        assert notice_of(alice, referral) != before
        assert jobs.renotify_urgent.__name__ in {
            job.callback.__name__
            for job in bot.application.job_queue.jobs()  # type: ignore[union-attr]
        }


async def test_removed_volunteer_loses_access_at_once(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100015, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)
    close_button = (await held(bot, alice)).message_id

    row = await _roster_row(bot, coordinator, _label_of(bot, alice))
    assert "Alice" not in (row.text or "")
    await staff_press(bot, coordinator, staff_texts.remove_label(tr), message_id=row.message_id)

    assert await bot.services.staff.get(bot.services.members.key_for(alice.user_id)) is None
    back = await bot.services.referrals.get(referral.id)
    assert back is not None
    assert back.status == "open"
    assert back.volunteer is None
    assert staff_texts.access_ended(tr) in [m.text for m in alice.visible_messages()]
    # Her old buttons and messages do nothing now.
    query = alice.press(staff_texts.close_label(tr), message_id=close_button)
    await bot.server.wait_for_answer(query)
    assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr)
    # She is a stranger now: what she types is deleted, not relayed.
    await _deleted(bot, alice, alice.send_text("a message after removal"))
    assert "a message after removal" not in [m.text for m in member.visible_messages()]
    # Bob was told it is back, and can take it.
    await claim(bot, bob, referral)
    taken = await bot.services.referrals.get(referral.id)
    assert taken is not None
    assert taken.volunteer == bot.services.members.key_for(bob.user_id)


async def test_forged_buttons_and_staff_commands_from_others_change_nothing(
    bot: RunningBot,
) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100016, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)
    stranger = bot.server.user(8100017, first_name="Stranger", language_code="en")
    # A member with a chat and a screen.
    screen = (await ask_for_volunteer(bot, stranger)).message_id
    before = (await bot.services.audit.verify()).entries
    rid = referral.id
    bob_label = _label_of(bot, bob)

    forged = [
        f"s|c|{rid}",
        f"s|o|{rid}|informed",
        f"s|r|{rid}",
        f"s|t|{rid}",
        f"s|a|{rid}|{bob_label}",
        f"s|R|{bob_label}",
        "s|g|en",
        "s|zz",
    ]
    for data in forged:
        query = stranger.press_data(data, screen)
        await bot.server.wait_for_answer(query)
        assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr), data
    # Bob is a volunteer, but not the holder, and not a coordinator.
    for data in (
        f"s|o|{rid}|informed",
        f"s|r|{rid}",
        f"s|x|{rid}",
        f"s|R|{_label_of(bot, alice)}",
    ):
        query = bob.press_data(data, notice_of(bob, referral))
        await bot.server.wait_for_answer(query)
        assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr), data
    invites_before = list(
        await bot.services.database.connection.execute_fetchall("SELECT COUNT(*) FROM invites")
    )
    for command in ("/mine", "/invite volunteer", "/volunteers", "/languages"):
        answer = await say(bot, stranger, command, predicate=_any_message)
        assert answer.text is not None
        assert "invite" not in answer.text.lower()
    await say(bot, bob, "/invite coordinator", text=staff_texts.not_allowed(tr))
    await bot.settle()  # nothing follows the refusals
    assert all("invite" not in (m.text or "").lower() for m in stranger.visible_messages())
    invites_after = list(
        await bot.services.database.connection.execute_fetchall("SELECT COUNT(*) FROM invites")
    )
    assert invites_after == invites_before

    unchanged = await bot.services.referrals.get(rid)
    assert unchanged is not None
    assert unchanged.status == "claimed"
    assert unchanged.volunteer == bot.services.members.key_for(alice.user_id)
    assert await bot.services.staff.get(bot.services.members.key_for(bob.user_id)) is not None
    assert await bot.services.staff.get(bot.services.members.key_for(stranger.user_id)) is None
    assert (await bot.services.audit.verify()).entries == before
    del coordinator


async def test_invites_are_single_use_and_expire(bot: RunningBot) -> None:
    coordinator = bot.server.user(8100020, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    code = await invite(bot, coordinator, "volunteer")
    first = bot.server.user(8100021, first_name="First", language_code="en")
    await join(bot, first, code)
    assert await bot.services.staff.get(bot.services.members.key_for(first.user_id)) is not None
    second = bot.server.user(8100022, first_name="Second", language_code="en")
    greeting = await say(bot, second, f"/start {code}", button=LANGUAGE_NAMES["en"])
    assert await bot.services.staff.get(bot.services.members.key_for(second.user_id)) is None
    tr = bot.tr("en")
    assert (greeting.text or "").startswith(tr.finish(texts.safety_notice(tr)))

    late = await invite(bot, coordinator, "coordinator")
    bot.clock.advance(timedelta(hours=49))
    third = bot.server.user(8100023, first_name="Third", language_code="en")
    await say(bot, third, f"/start {late}", button=LANGUAGE_NAMES["en"])
    assert await bot.services.staff.get(bot.services.members.key_for(third.user_id)) is None


async def test_unclaimed_requests_expire_and_closed_ones_are_purged(bot: RunningBot) -> None:
    coordinator, alice, _ = await _team(bot)
    tr = bot.tr("en")
    waiting = bot.server.user(8100030, first_name="Waiting", language_code="en")
    await ask_for_volunteer(bot, waiting)
    helped = bot.server.user(8100031, first_name="Helped", language_code="en")
    await ask_for_volunteer(bot, helped)
    helped_ref = await referral_of(bot, helped)
    waiting_id = (await referral_of(bot, waiting)).id
    await claim(bot, alice, helped_ref)
    await close_held(bot, alice, "lawyer")

    desk = Desk(bot.application.bot, bot.services)
    bot.clock.advance(timedelta(days=13))
    assert await desk.expire_and_purge() == (0, 0)
    bot.clock.advance(timedelta(days=2))
    assert await desk.expire_and_purge() == (1, 0)
    assert await bot.services.referrals.get(waiting_id) is None
    assert tr.finish(referral_texts.expired(tr)) in [m.text for m in waiting.visible_messages()]
    assert await bot.services.referrals.get(helped_ref.id) is not None
    bot.clock.advance(timedelta(days=16))
    assert await desk.expire_and_purge() == (0, 1)
    assert await bot.services.referrals.count() == 0
    # The purge checkpoints, so no frame of the deleted rows stays in the WAL.
    wal = bot.services.database.path.with_name(bot.services.database.path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    del coordinator


async def test_wipe_withdraws_the_request_and_tells_the_volunteer(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100040, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)
    mark = bot.server.mark()
    alice.send_text(VOLUNTEER_TEXT)
    relayed = (await member.wait_for_message(text=VOLUNTEER_TEXT, after=mark)).message_id
    mark = bot.server.mark()
    await wipe(bot, member)
    assert await bot.services.referrals.count() == 0
    assert relayed not in member.message_ids(), "relayed messages are wiped too"
    # The volunteer hears of it last, once the member's chat is clean.
    left = staff_texts.member_left(tr, reference(referral.id))
    told = await alice.wait_for_message(text=left, after=mark)
    assert alice.last_message().message_id == told.message_id


async def test_relay_failures_are_reported_to_the_sender(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100050, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)
    bot.server.block(member.user_id)
    unreachable = staff_texts.member_unreachable(tr, reference(referral.id))
    await say(bot, alice, VOLUNTEER_TEXT, text=unreachable)
    bot.server.unblock(member.user_id)
    bot.server.inject_error(
        "copyMessage", error_code=400, description="Bad Request: message to copy not found"
    )
    await say(bot, member, MEMBER_TEXT, text=tr.finish(referral_texts.not_delivered(tr)))


async def test_hand_over_through_a_coordinator_and_language_matching(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    carol = await volunteer(bot, coordinator, 8100060, "Carol", languages=("zh_Hans",))
    tr = bot.tr("en")
    member = bot.server.user(8100061, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    with pytest.raises(LookupError):
        notice_of(carol, referral)  # she does not handle English
    await claim(bot, alice, referral)

    mine = await held(bot, alice)
    await staff_press(bot, alice, staff_texts.handover_label(tr), message_id=mine.message_id)
    in_handover = await bot.services.referrals.get(referral.id)
    assert in_handover is not None
    assert in_handover.status == "handover"
    bob_label = _label_of(bot, bob)
    carol_label = _label_of(bot, carol)
    request = coordinator.last_message()
    assert bob_label in request.button_texts
    assert carol_label not in request.button_texts, "only volunteers of the member's language"
    # Until the coordinator decides, Alice still talks with the member.
    mark = bot.server.mark()
    alice.send_text("one moment please")
    await member.wait_for_message(text="one moment please", after=mark)

    await staff_press(bot, coordinator, bob_label, message_id=request.message_id)
    moved = await bot.services.referrals.get(referral.id)
    assert moved is not None
    assert moved.status == "claimed"
    assert moved.volunteer == bot.services.members.key_for(bob.user_id)
    assert staff_texts.assigned_to_you(tr, reference(referral.id)) in [
        m.text for m in bob.visible_messages()
    ]
    mark = bot.server.mark()
    member.send_text(MEMBER_TEXT)
    await bob.wait_for_message(text=MEMBER_TEXT, after=mark)
    await say(bot, alice, "am I still connected", text=staff_texts.no_conversation(tr))

    # A suspension, like a removal, returns the request at once.
    row = await _roster_row(bot, coordinator, bob_label)
    await staff_press(bot, coordinator, staff_texts.suspend_label(tr), message_id=row.message_id)
    back = await bot.services.referrals.get(referral.id)
    assert back is not None
    assert back.status == "open"
    assert staff_texts.access_paused(tr) in [m.text for m in bob.visible_messages()]
    answer = await say(bot, bob, "/mine", predicate=_any_message)
    assert answer.text != staff_texts.mine_empty(tr), "suspended: no staff commands"
    actions = [e.action for e in await bot.services.audit.entries()]
    assert "ask-handover" in actions
    assert "reassign" in actions
    assert f"suspend:{bob_label}" in actions


async def test_a_reply_never_goes_to_the_wrong_member(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    first = bot.server.user(8100070, first_name="First", language_code="en")
    second = bot.server.user(8100071, first_name="Second", language_code="en")
    await ask_for_volunteer(bot, first)
    await ask_for_volunteer(bot, second)
    for member in (first, second):
        await claim(bot, alice, await referral_of(bot, member))
    # Alice now talks with the second member; the first one writes.
    mark = bot.server.mark()
    first.send_text("they took my passport")
    await alice.wait_for_message(text="they took my passport", after=mark)
    header = alice.find_message(button=staff_texts.reply_label(tr), after=mark)
    assert header is not None
    await say(bot, alice, "reply meant for the first member", text=staff_texts.no_conversation(tr))
    assert "reply meant for the first member" not in [m.text for m in second.visible_messages()]
    await staff_press(bot, alice, staff_texts.reply_label(tr), message_id=header.message_id)
    mark = bot.server.mark()
    alice.send_text("reply meant for the first member")
    await first.wait_for_message(text="reply meant for the first member", after=mark)
    assert first.last_message().text == "reply meant for the first member"
    assert "reply meant for the first member" not in [m.text for m in second.visible_messages()]


async def test_a_wipe_cannot_reset_the_daily_limit(bot: RunningBot) -> None:
    await _team(bot)
    member = bot.server.user(8100072, first_name="Member", language_code="en")
    for attempt in range(4):
        await ask_for_volunteer(bot, member)
        if attempt < 3:
            assert await bot.services.referrals.count() == 1
        await wipe(bot, member)
    assert await bot.services.referrals.count() == 0
    actions = [e.action for e in await bot.services.audit.entries()]
    assert actions.count("request") == 3, "the fourth request of the day was refused"


async def test_a_wipe_finishes_even_when_volunteers_cannot_be_reached(bot: RunningBot) -> None:
    _, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100073, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    question = await ask_to_wipe(bot, member)
    # Retiring the volunteers' notices fails; the member's wipe must not.
    bot.server.inject_error("editMessageText", error_code=502, description="Bad Gateway", times=10)
    query = member.press(tr.finish(texts.wipe_confirm_label(tr)), message_id=question.message_id)
    await bot.server.wait_for_answer(query)
    assert await bot.services.referrals.count() == 0
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id)) is None
    del alice, bob


async def test_staff_rules_against_takeover_and_self_help(bot: RunningBot) -> None:
    coordinator, alice, _ = await _team(bot)
    tr = bot.tr("en")
    second = bot.server.user(8100080, first_name="Second", language_code="en")
    code = await invite(bot, coordinator, "coordinator")
    mark = bot.server.mark()
    second.send_text(f"/start {code}")
    used = await coordinator.wait_for_message(containing=_label_of(bot, second), after=mark)
    assert coordinator.last_message().message_id == used.message_id, (
        "the inviter learns which label used the invite"
    )
    # A coordinator cannot lock another coordinator out.
    row = await _roster_row(bot, second, _label_of(bot, coordinator))
    query = await staff_press(bot, second, staff_texts.remove_label(tr), message_id=row.message_id)
    assert _pressed_alert(bot, query) == staff_texts.coordinators_by_admin(tr)
    assert await bot.services.staff.get(bot.services.members.key_for(coordinator.user_id))
    # A suspended volunteer cannot come back through another invite.
    row = await _roster_row(bot, coordinator, _label_of(bot, alice))
    await staff_press(bot, coordinator, staff_texts.suspend_label(tr), message_id=row.message_id)
    code = await invite(bot, coordinator, "coordinator")
    await say(bot, alice, f"/start {code}", text=staff_texts.already_registered(tr))
    suspended = await bot.services.staff.get(bot.services.members.key_for(alice.user_id))
    assert suspended is not None
    assert not suspended.active
    assert suspended.role == "volunteer"
    outsider = bot.server.user(8100081, first_name="Outsider", language_code="en")
    await say(bot, outsider, f"/start {code}", text=staff_texts.welcome(tr, True))
    assert await bot.services.staff.get(bot.services.members.key_for(outsider.user_id)), (
        "the refused attempt did not use the invite up"
    )
    # Nobody claims their own request.
    await ask_for_volunteer(bot, second)
    referral = await only_referral(bot, second)
    query = await claim(bot, second, referral)
    assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr)
    notice = next(
        m for m in second.visible_messages() if m.message_id == notice_of(second, referral)
    )
    assert "Türkiye" not in (notice.text or ""), "notices do not name the member's country"


async def test_urgent_rounds_slow_down_but_go_on_and_a_returned_request_waits_anew(
    bot: RunningBot,
) -> None:
    from bot.referral_desk import FAST_ROUNDS, SLOW_RENOTIFY_EVERY

    coordinator, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100090, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, urgency="detained")
    referral = await only_referral(bot, member)
    desk = Desk(bot.application.bot, bot.services)
    for _ in range(FAST_ROUNDS):
        bot.clock.advance(RENOTIFY_EVERY)
        assert await desk.renotify_urgent() == 1
    bot.clock.advance(RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 0, "slower after the first half hour"
    bot.clock.advance(SLOW_RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 1, "but never forgotten"
    notices = [m for m in alice.visible_messages() if reference(referral.id) in (m.text or "")]
    assert len(notices) == 1, "each round replaced the last notice"
    escalations = [
        m for m in coordinator.visible_messages() if staff_texts.escalation(tr) in (m.text or "")
    ]
    assert len(escalations) == 1, "the coordinators' notice is replaced too"

    # Claimed, held for three weeks, then handed back: it does not expire at once.
    await claim(bot, alice, referral)
    bot.clock.advance(timedelta(days=21))
    await release_held(bot, alice)
    assert await desk.expire_and_purge() == (0, 0)
    assert await bot.services.referrals.get(referral.id) is not None
    # Nor is a member with an open request erased as idle.
    bot.clock.advance(timedelta(days=100))
    assert await bot.services.members.purge_idle(90) == 0


async def test_a_volunteers_wipe_says_what_it_did_not_erase(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    await choose_language(bot, alice, "en")
    query = await wipe(bot, alice)
    assert _pressed_alert(bot, query) == tr.finish(texts.wipe_done_staff(tr))
    assert await bot.services.staff.get(bot.services.members.key_for(alice.user_id)) is not None


async def test_purged_and_expired_requests_leave_no_bytes_behind(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    helped = bot.server.user(8100110, first_name="Helped", language_code="en")
    await ask_for_volunteer(bot, helped)
    referral = await only_referral(bot, helped)
    connection = bot.services.database.connection
    # Raw SQL on purpose: the test looks for these very bytes in the files.
    blobs = [
        bytes(row[0])
        for row in await connection.execute_fetchall(
            "SELECT chat_ref FROM referrals WHERE id = ?", (referral.id,)
        )
    ]
    await claim(bot, alice, referral)
    await close_held(bot, alice, "other")
    waiting = bot.server.user(8100111, first_name="Waiting", language_code="en")
    await ask_for_volunteer(bot, waiting)
    open_one = await referral_of(bot, waiting)
    blobs += [
        bytes(row[0])
        for row in await connection.execute_fetchall(
            "SELECT chat_ref FROM referrals WHERE id = ?", (open_one.id,)
        )
    ]
    desk = Desk(bot.application.bot, bot.services)
    bot.clock.advance(timedelta(days=40))
    assert await desk.expire_and_purge() == (1, 1)
    database = bot.services.database.path
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    leftovers = [p.name for p in files for blob in blobs if blob in p.read_bytes()]
    assert leftovers == [], "no encrypted chat reference survives in the database or its WAL"


async def test_photos_go_both_ways_and_a_blocked_member_is_noticed_at_claim(
    bot: RunningBot,
) -> None:
    _, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100120, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot, member)
    bot.server.block(member.user_id)
    await claim(bot, alice, referral)
    assert staff_texts.member_unreachable(tr, reference(referral.id)) in [
        m.text for m in alice.visible_messages()
    ]
    bot.server.unblock(member.user_id)
    mark = bot.server.mark()
    alice.send_photo(caption="a map 66")
    photo = await member.wait_for_message(predicate=_has_photo, after=mark)
    assert photo.text == "a map 66"
    assert photo.protect_content
    del bob


async def test_a_members_words_leave_the_volunteers_chat_when_the_request_ends(
    bot: RunningBot,
) -> None:
    _, alice, bob = await _team(bot)
    first = bot.server.user(8100130, first_name="First", language_code="en")
    await ask_for_volunteer(bot, first)
    referral = await only_referral(bot, first)
    await claim(bot, alice, referral)
    mark = bot.server.mark()
    first.send_text("my story 4410")
    await alice.wait_for_message(text="my story 4410", after=mark)
    mark = bot.server.mark()
    reply = alice.send_text("my reply 4411")
    await first.wait_for_message(text="my reply 4411", after=mark)
    assert reply in alice.message_ids()
    await close_held(bot, alice, "informed")
    assert "my story 4410" not in [m.text for m in alice.visible_messages()]
    assert reply not in alice.message_ids(), "the volunteer's own reply goes too"

    second = bot.server.user(8100131, first_name="Second", language_code="en")
    await ask_for_volunteer(bot, second)
    await claim(bot, bob, await referral_of(bot, second))
    mark = bot.server.mark()
    second.send_text("second story 4412")
    await bob.wait_for_message(text="second story 4412", after=mark)
    await wipe(bot, second)
    # The volunteers' chats are cleared after the member's own wipe is done.
    await bot.server.wait_for(
        lambda: "second story 4412" not in [m.text for m in bob.visible_messages()],
        what="the member's words deleted from the volunteer's chat",
    )


async def test_a_handed_back_urgent_request_is_announced_once_then_on_schedule(
    bot: RunningBot,
) -> None:
    _, alice, bob = await _team(bot)
    member = bot.server.user(8100140, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, urgency="immediate_risk")
    referral = await only_referral(bot, member)
    await claim(bot, alice, referral)
    await release_held(bot, alice)
    announced = notice_of(bob, referral)
    desk = Desk(bot.application.bot, bot.services)
    # Handing back announced it; the next round is one interval away, not at once.
    assert await desk.renotify_urgent() == 0
    assert notice_of(bob, referral) == announced
    bot.clock.advance(RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 1
