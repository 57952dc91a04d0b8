"""Members, volunteers and coordinators through referrals, over real HTTP.

Every step is a real update through the Application: invites, claims, the
relay, release, close, removal and forged buttons. Scheduled work (urgent
re-announcements, expiry, purge) is run by calling the same functions the
JobQueue calls, after moving the bot's clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot import jobs, referral_texts, staff_texts, texts
from bot.referral_desk import ESCALATE_AFTER_ROUNDS, RENOTIFY_EVERY, Desk, reference
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    close_held,
    invite,
    join,
    make_coordinator,
    member_claimed_text,
    notice_of,
    only_referral,
    talk,
    volunteer,
)
from tests.fakebot import FakeBotApi, FakeUser

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


async def test_request_race_relay_release_reclaim_and_close(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100010, first_name="Member", language_code="en")

    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot)
    assert referral.status == "open"
    assert (referral.topic, referral.urgency, referral.country, referral.language) == (
        "travel",
        "general",
        "TR",
        "en",
    )
    sent_node = bot.snapshot.registry.node("volunteer", "sent")
    assert sent_node is not None
    assert member.last_message().text == tr.finish(tr.pgettext("volunteer.sent", sent_node.text))

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
    await bot.settle()
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
    member.send_text(MEMBER_TEXT)
    await bot.settle()
    assert winner.last_message().text == MEMBER_TEXT
    assert winner.last_message().protect_content
    assert "forward_origin" not in winner.last_message().raw
    assert MEMBER_TEXT not in [m.text for m in loser.visible_messages()]
    member.send_photo(caption="photo caption 77")
    await bot.settle()
    assert "photo" in winner.last_message().raw
    winner.send_text(VOLUNTEER_TEXT)
    await bot.settle()
    assert member.last_message().text == VOLUNTEER_TEXT
    assert member.last_message().protect_content
    assert "forward_origin" not in member.last_message().raw

    # Release: back in the queue, announced again; the other volunteer claims it.
    winner.send_text("/mine")
    await bot.settle()
    winner.press(staff_texts.release_label(tr))
    await bot.settle()
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
    winner.send_text("still there?")
    await bot.settle()
    assert winner.last_message().text == staff_texts.no_conversation(tr)
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
    member.send_text("after close 991")
    await bot.settle()
    assert "after close 991" not in [m.text for m in loser.visible_messages()]

    actions = [e.action for e in await bot.services.audit.entries()]
    for expected in ("request", "claim", "relay", "release", "close:informed"):
        assert expected in actions
    report = await bot.services.audit.verify()
    assert report.intact
    assert report.entries == len(actions)


async def test_member_status_and_cancel_tell_the_volunteer(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100011, first_name="Member", language_code="en")
    member.send_text("/status")
    await bot.settle()
    assert member.last_message().text == tr.finish(referral_texts.status_none(tr))

    await ask_for_volunteer(bot, member)
    member.send_text("/status")
    await bot.settle()
    assert member.last_message().text == tr.finish(referral_texts.status_waiting(tr))
    referral = await only_referral(bot)
    await claim(bot, alice, referral)

    member.send_text("/status")
    await bot.settle()
    assert member.last_message().text == tr.finish(referral_texts.status_claimed(tr))
    member.press(tr.finish(referral_texts.cancel_request_label(tr)))
    await bot.settle()
    member.press(tr.finish(referral_texts.cancel_confirm_label(tr)))
    await bot.settle()
    assert await bot.services.referrals.count() == 0, "a cancelled request is erased"
    assert alice.last_message().text == staff_texts.member_left(tr, reference(referral.id))
    alice.send_text("are you there")
    await bot.settle()
    assert alice.last_message().text == staff_texts.no_conversation(tr)


async def test_one_open_request_and_a_daily_limit(bot: RunningBot) -> None:
    await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100012, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    await ask_for_volunteer(bot, member, again=True)
    assert tr.finish(referral_texts.refused_already_open(tr)) in (member.last_message().text or "")
    assert await bot.services.referrals.count() == 1
    for _ in range(2):
        member.send_text("/status")
        await bot.settle()
        member.press(tr.finish(referral_texts.cancel_request_label(tr)))
        await bot.settle()
        member.press(tr.finish(referral_texts.cancel_confirm_label(tr)))
        await bot.settle()
        await ask_for_volunteer(bot, member, again=True)
    member.send_text("/status")
    await bot.settle()
    member.press(tr.finish(referral_texts.cancel_request_label(tr)))
    await bot.settle()
    member.press(tr.finish(referral_texts.cancel_confirm_label(tr)))
    await bot.settle()
    await ask_for_volunteer(bot, member, again=True)
    assert tr.finish(referral_texts.refused_daily_limit(tr)) in (member.last_message().text or "")
    assert await bot.services.referrals.count() == 0


async def test_urgent_requests_are_announced_again_then_escalated(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100013, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, topic="detained", urgency="detained")
    referral = await only_referral(bot)
    desk = Desk(bot.application.bot, bot.services)
    first_notice = notice_of(alice, referral)

    assert await desk.renotify_urgent() == 0, "not before the interval"
    for round_number in range(1, ESCALATE_AFTER_ROUNDS + 1):
        bot.clock.advance(RENOTIFY_EVERY)
        assert await desk.renotify_urgent() == 1
        await bot.settle()
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
        referral = await only_referral(bot)
        before = notice_of(alice, referral)
    clock.advance(RENOTIFY_EVERY)
    async with running_bot(server, settings, clock) as bot:
        # The job the JobQueue runs every minute, with the restarted bot's context.
        assert await Desk(bot.application.bot, bot.services).renotify_urgent() == 1
        await bot.settle()
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
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    alice.send_text("/mine")
    await bot.settle()
    close_button = alice.last_message().message_id

    alice_label = bot.services.pseudonymizer.label(bot.services.members.key_for(alice.user_id))
    coordinator.send_text("/volunteers")
    await bot.settle()
    row = next(m for m in coordinator.visible_messages() if (m.text or "").startswith(alice_label))
    assert "Alice" not in (row.text or "")
    coordinator.press(staff_texts.remove_label(tr), message_id=row.message_id)
    await bot.settle()

    assert await bot.services.staff.get(bot.services.members.key_for(alice.user_id)) is None
    back = await bot.services.referrals.get(referral.id)
    assert back is not None
    assert back.status == "open"
    assert back.volunteer is None
    assert staff_texts.access_ended(tr) in [m.text for m in alice.visible_messages()]
    # Her old buttons and messages do nothing now.
    query = alice.press(staff_texts.close_label(tr), message_id=close_button)
    await bot.settle()
    assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr)
    alice.send_text("a message after removal")
    await bot.settle()
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
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    stranger = bot.server.user(8100017, first_name="Stranger", language_code="en")
    await ask_for_volunteer(bot, stranger)  # a member with a chat and a screen
    before = (await bot.services.audit.verify()).entries
    rid = referral.id
    bob_label = bot.services.pseudonymizer.label(bot.services.members.key_for(bob.user_id))
    screen = stranger.last_message().message_id

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
        await bot.settle()
        assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr), data
    # Bob is a volunteer, but not the holder, and not a coordinator.
    for data in (
        f"s|o|{rid}|informed",
        f"s|r|{rid}",
        f"s|x|{rid}",
        f"s|R|{bot.services.pseudonymizer.label(bot.services.members.key_for(alice.user_id))}",
    ):
        query = bob.press_data(data, notice_of(bob, referral))
        await bot.settle()
        assert _pressed_alert(bot, query) == staff_texts.not_allowed(tr), data
    invites_before = list(
        await bot.services.database.connection.execute_fetchall("SELECT COUNT(*) FROM invites")
    )
    for command in ("/mine", "/invite volunteer", "/volunteers", "/languages"):
        stranger.send_text(command)
        await bot.settle()
        assert stranger.last_message().text is not None
        assert "invite" not in (stranger.last_message().text or "").lower()
    bob.send_text("/invite coordinator")
    await bot.settle()
    assert bob.last_message().text == staff_texts.not_allowed(tr)
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
    second.send_text(f"/start {code}")
    await bot.settle()
    assert await bot.services.staff.get(bot.services.members.key_for(second.user_id)) is None
    tr = bot.tr("en")
    assert (second.last_message().text or "").startswith(tr.finish(texts.safety_notice(tr)))

    late = await invite(bot, coordinator, "coordinator")
    bot.clock.advance(timedelta(hours=49))
    third = bot.server.user(8100023, first_name="Third", language_code="en")
    third.send_text(f"/start {late}")
    await bot.settle()
    assert await bot.services.staff.get(bot.services.members.key_for(third.user_id)) is None


async def test_unclaimed_requests_expire_and_closed_ones_are_purged(bot: RunningBot) -> None:
    coordinator, alice, _ = await _team(bot)
    tr = bot.tr("en")
    waiting = bot.server.user(8100030, first_name="Waiting", language_code="en")
    await ask_for_volunteer(bot, waiting)
    helped = bot.server.user(8100031, first_name="Helped", language_code="en")
    await ask_for_volunteer(bot, helped)
    rows = await bot.services.database.connection.execute_fetchall(
        "SELECT id, member_key FROM referrals"
    )
    by_member = {bytes(r[1]): str(r[0]) for r in rows}
    helped_id = by_member[bot.services.members.key_for(helped.user_id)]
    waiting_id = by_member[bot.services.members.key_for(waiting.user_id)]
    helped_ref = await bot.services.referrals.get(helped_id)
    assert helped_ref is not None
    await claim(bot, alice, helped_ref)
    await close_held(bot, alice, "lawyer")

    desk = Desk(bot.application.bot, bot.services)
    bot.clock.advance(timedelta(days=13))
    assert await desk.expire_and_purge() == (0, 0)
    bot.clock.advance(timedelta(days=2))
    assert await desk.expire_and_purge() == (1, 0)
    await bot.settle()
    assert await bot.services.referrals.get(waiting_id) is None
    assert tr.finish(referral_texts.expired(tr)) in [m.text for m in waiting.visible_messages()]
    assert await bot.services.referrals.get(helped_id) is not None
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
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    alice.send_text(VOLUNTEER_TEXT)
    await bot.settle()
    relayed = member.last_message().message_id
    member.send_text("/wipe")
    await bot.settle()
    member.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()
    assert await bot.services.referrals.count() == 0
    assert relayed not in member.message_ids(), "relayed messages are wiped too"
    assert alice.last_message().text == staff_texts.member_left(tr, reference(referral.id))


async def test_relay_failures_are_reported_to_the_sender(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100050, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    bot.server.block(member.user_id)
    alice.send_text(VOLUNTEER_TEXT)
    await bot.settle()
    assert alice.last_message().text == staff_texts.member_unreachable(tr, reference(referral.id))
    bot.server.unblock(member.user_id)
    bot.server.inject_error(
        "copyMessage", error_code=400, description="Bad Request: message to copy not found"
    )
    member.send_text(MEMBER_TEXT)
    await bot.settle()
    assert member.last_message().text == tr.finish(referral_texts.not_delivered(tr))
    await asyncio.sleep(0)


async def test_hand_over_through_a_coordinator_and_language_matching(bot: RunningBot) -> None:
    coordinator, alice, bob = await _team(bot)
    carol = await volunteer(bot, coordinator, 8100060, "Carol", languages=("zh_Hans",))
    tr = bot.tr("en")
    member = bot.server.user(8100061, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    referral = await only_referral(bot)
    with pytest.raises(LookupError):
        notice_of(carol, referral)  # she does not handle English
    await claim(bot, alice, referral)

    alice.send_text("/mine")
    await bot.settle()
    alice.press(staff_texts.handover_label(tr))
    await bot.settle()
    held = await bot.services.referrals.get(referral.id)
    assert held is not None
    assert held.status == "handover"
    bob_label = bot.services.pseudonymizer.label(bot.services.members.key_for(bob.user_id))
    carol_label = bot.services.pseudonymizer.label(bot.services.members.key_for(carol.user_id))
    request = coordinator.last_message()
    assert bob_label in request.button_texts
    assert carol_label not in request.button_texts, "only volunteers of the member's language"
    # Until the coordinator decides, Alice still talks with the member.
    alice.send_text("one moment please")
    await bot.settle()
    assert member.last_message().text == "one moment please"

    coordinator.press(bob_label, message_id=request.message_id)
    await bot.settle()
    moved = await bot.services.referrals.get(referral.id)
    assert moved is not None
    assert moved.status == "claimed"
    assert moved.volunteer == bot.services.members.key_for(bob.user_id)
    assert staff_texts.assigned_to_you(tr, reference(referral.id)) in [
        m.text for m in bob.visible_messages()
    ]
    member.send_text(MEMBER_TEXT)
    await bot.settle()
    assert bob.last_message().text == MEMBER_TEXT
    alice.send_text("am I still connected")
    await bot.settle()
    assert alice.last_message().text == staff_texts.no_conversation(tr)

    # A suspension, like a removal, returns the request at once.
    coordinator.send_text("/volunteers")
    await bot.settle()
    row = next(m for m in coordinator.visible_messages() if (m.text or "").startswith(bob_label))
    coordinator.press(staff_texts.suspend_label(tr), message_id=row.message_id)
    await bot.settle()
    back = await bot.services.referrals.get(referral.id)
    assert back is not None
    assert back.status == "open"
    bob.send_text("/mine")
    await bot.settle()
    assert staff_texts.access_paused(tr) in [m.text for m in bob.visible_messages()]
    assert bob.last_message().text != staff_texts.mine_empty(tr), "suspended: no staff commands"
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
    rows = await bot.services.database.connection.execute_fetchall(
        "SELECT id, member_key FROM referrals"
    )
    ids = {bytes(r[1]): str(r[0]) for r in rows}
    for member in (first, second):
        referral = await bot.services.referrals.get(
            ids[bot.services.members.key_for(member.user_id)]
        )
        assert referral is not None
        await claim(bot, alice, referral)
    # Alice now talks with the second member; the first one writes.
    first.send_text("they took my passport")
    await bot.settle()
    header = next(
        m for m in alice.visible_messages() if staff_texts.reply_label(tr) in m.button_texts
    )
    alice.send_text("reply meant for the first member")
    await bot.settle()
    assert alice.last_message().text == staff_texts.no_conversation(tr)
    assert "reply meant for the first member" not in [m.text for m in second.visible_messages()]
    alice.press(staff_texts.reply_label(tr), message_id=header.message_id)
    await bot.settle()
    alice.send_text("reply meant for the first member")
    await bot.settle()
    assert first.last_message().text == "reply meant for the first member"
    assert "reply meant for the first member" not in [m.text for m in second.visible_messages()]


async def test_a_wipe_cannot_reset_the_daily_limit(bot: RunningBot) -> None:
    await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100072, first_name="Member", language_code="en")
    for attempt in range(4):
        await ask_for_volunteer(bot, member)
        if attempt < 3:
            assert await bot.services.referrals.count() == 1
        member.send_text("/wipe")
        await bot.settle()
        member.press(tr.finish(texts.wipe_confirm_label(tr)))
        await bot.settle()
    assert await bot.services.referrals.count() == 0
    actions = [e.action for e in await bot.services.audit.entries()]
    assert actions.count("request") == 3, "the fourth request of the day was refused"


async def test_a_wipe_finishes_even_when_volunteers_cannot_be_reached(bot: RunningBot) -> None:
    _, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100073, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member)
    member.send_text("/wipe")
    await bot.settle()
    # Retiring the volunteers' notices fails; the member's wipe must not.
    bot.server.inject_error("editMessageText", error_code=502, description="Bad Gateway", times=10)
    member.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()
    assert await bot.services.referrals.count() == 0
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id)) is None
    del alice, bob


async def test_staff_rules_against_takeover_and_self_help(bot: RunningBot) -> None:
    coordinator, alice, _ = await _team(bot)
    tr = bot.tr("en")
    second = bot.server.user(8100080, first_name="Second", language_code="en")
    second.send_text(f"/start {await invite(bot, coordinator, 'coordinator')}")
    await bot.settle()
    assert f"{bot.services.pseudonymizer.label(bot.services.members.key_for(second.user_id))}" in (
        coordinator.last_message().text or ""
    ), "the inviter learns which label used the invite"
    # A coordinator cannot lock another coordinator out.
    first_label = bot.services.pseudonymizer.label(
        bot.services.members.key_for(coordinator.user_id)
    )
    second.send_text("/volunteers")
    await bot.settle()
    row = next(m for m in second.visible_messages() if (m.text or "").startswith(first_label))
    query = second.press(staff_texts.remove_label(tr), message_id=row.message_id)
    await bot.settle()
    assert _pressed_alert(bot, query) == staff_texts.coordinators_by_admin(tr)
    assert await bot.services.staff.get(bot.services.members.key_for(coordinator.user_id))
    # A suspended volunteer cannot come back through another invite.
    alice_label = bot.services.pseudonymizer.label(bot.services.members.key_for(alice.user_id))
    coordinator.send_text("/volunteers")
    await bot.settle()
    row = next(m for m in coordinator.visible_messages() if (m.text or "").startswith(alice_label))
    coordinator.press(staff_texts.suspend_label(tr), message_id=row.message_id)
    await bot.settle()
    code = await invite(bot, coordinator, "coordinator")
    alice.send_text(f"/start {code}")
    await bot.settle()
    assert alice.last_message().text == staff_texts.already_registered(tr)
    suspended = await bot.services.staff.get(bot.services.members.key_for(alice.user_id))
    assert suspended is not None
    assert not suspended.active
    assert suspended.role == "volunteer"
    outsider = bot.server.user(8100081, first_name="Outsider", language_code="en")
    outsider.send_text(f"/start {code}")
    await bot.settle()
    assert await bot.services.staff.get(bot.services.members.key_for(outsider.user_id)), (
        "the refused attempt did not use the invite up"
    )
    # Nobody claims their own request.
    await ask_for_volunteer(bot, second)
    referral = await only_referral(bot)
    query = second.press(staff_texts.claim_label(tr), message_id=notice_of(second, referral))
    await bot.settle()
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
    referral = await only_referral(bot)
    desk = Desk(bot.application.bot, bot.services)
    for _ in range(FAST_ROUNDS):
        bot.clock.advance(RENOTIFY_EVERY)
        assert await desk.renotify_urgent() == 1
    bot.clock.advance(RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 0, "slower after the first half hour"
    bot.clock.advance(SLOW_RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 1, "but never forgotten"
    await bot.settle()
    notices = [m for m in alice.visible_messages() if reference(referral.id) in (m.text or "")]
    assert len(notices) == 1, "each round replaced the last notice"
    escalations = [
        m for m in coordinator.visible_messages() if staff_texts.escalation(tr) in (m.text or "")
    ]
    assert len(escalations) == 1, "the coordinators' notice is replaced too"

    # Claimed, held for three weeks, then handed back: it does not expire at once.
    alice.press(staff_texts.claim_label(tr), message_id=notices[0].message_id)
    await bot.settle()
    bot.clock.advance(timedelta(days=21))
    alice.send_text("/mine")
    await bot.settle()
    alice.press(staff_texts.release_label(tr))
    await bot.settle()
    assert await desk.expire_and_purge() == (0, 0)
    assert await bot.services.referrals.get(referral.id) is not None
    # Nor is a member with an open request erased as idle.
    bot.clock.advance(timedelta(days=100))
    assert await bot.services.members.purge_idle(90) == 0


async def test_a_volunteers_wipe_says_what_it_did_not_erase(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    tr = bot.tr("en")
    alice.send_text("/start")
    await bot.settle()
    alice.press("English")
    await bot.settle()
    alice.send_text("/wipe")
    await bot.settle()
    query = alice.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()
    assert _pressed_alert(bot, query) == tr.finish(texts.wipe_done_staff(tr))
    assert await bot.services.staff.get(bot.services.members.key_for(alice.user_id)) is not None


async def test_purged_and_expired_requests_leave_no_bytes_behind(bot: RunningBot) -> None:
    _, alice, _ = await _team(bot)
    helped = bot.server.user(8100110, first_name="Helped", language_code="en")
    await ask_for_volunteer(bot, helped)
    referral = await only_referral(bot)
    connection = bot.services.database.connection
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
    open_one = await bot.services.referrals.active_for_member(
        bot.services.members.key_for(waiting.user_id)
    )
    assert open_one is not None
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
    referral = await only_referral(bot)
    bot.server.block(member.user_id)
    await claim(bot, alice, referral)
    assert staff_texts.member_unreachable(tr, reference(referral.id)) in [
        m.text for m in alice.visible_messages()
    ]
    bot.server.unblock(member.user_id)
    alice.send_photo(caption="a map 66")
    await bot.settle()
    assert "photo" in member.last_message().raw
    assert member.last_message().text == "a map 66"
    assert member.last_message().protect_content
    del bob


async def test_a_members_words_leave_the_volunteers_chat_when_the_request_ends(
    bot: RunningBot,
) -> None:
    _, alice, bob = await _team(bot)
    first = bot.server.user(8100130, first_name="First", language_code="en")
    await ask_for_volunteer(bot, first)
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    first.send_text("my story 4410")
    await bot.settle()
    reply = alice.send_text("my reply 4411")
    await bot.settle()
    assert "my story 4410" in [m.text for m in alice.visible_messages()]
    assert reply in alice.message_ids()
    await close_held(bot, alice, "informed")
    assert "my story 4410" not in [m.text for m in alice.visible_messages()]
    assert reply not in alice.message_ids(), "the volunteer's own reply goes too"

    second = bot.server.user(8100131, first_name="Second", language_code="en")
    await ask_for_volunteer(bot, second)
    other = await bot.services.referrals.active_for_member(
        bot.services.members.key_for(second.user_id)
    )
    assert other is not None
    await claim(bot, bob, other)
    second.send_text("second story 4412")
    await bot.settle()
    assert "second story 4412" in [m.text for m in bob.visible_messages()]
    tr = bot.tr("en")
    second.send_text("/wipe")
    await bot.settle()
    second.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()
    assert "second story 4412" not in [m.text for m in bob.visible_messages()]


async def test_a_handed_back_urgent_request_is_announced_once_then_on_schedule(
    bot: RunningBot,
) -> None:
    _, alice, bob = await _team(bot)
    tr = bot.tr("en")
    member = bot.server.user(8100140, first_name="Member", language_code="en")
    await ask_for_volunteer(bot, member, urgency="immediate_risk")
    referral = await only_referral(bot)
    await claim(bot, alice, referral)
    alice.send_text("/mine")
    await bot.settle()
    alice.press(staff_texts.release_label(tr))
    await bot.settle()
    announced = notice_of(bob, referral)
    desk = Desk(bot.application.bot, bot.services)
    # Handing back announced it; the next round is one interval away, not at once.
    assert await desk.renotify_urgent() == 0
    assert notice_of(bob, referral) == announced
    bot.clock.advance(RENOTIFY_EVERY)
    assert await desk.renotify_urgent() == 1
