"""Old words do not stay on either phone when a request ends, even after 48 hours.

Telegram lets the bot delete a message for 48 hours but edit its own for
ever, and the fake Bot API enforces both rules. After two days, closing,
releasing, handing over, cancelling or wiping leaves every copy the bot made
of either side's words blank; voice and video notes, which no edit can change,
are removed before the 48 hours run out.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot import jobs, referral_texts, staff_texts, texts
from bot.referral_desk import Desk, reference
from bot.telegram_io import BLANK
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import staff_press
from tests.e2e.relay_steps import (
    advance,
    conversation,
    hand_over,
    mine_button,
    relay_counted,
    team,
    texts_of,
)
from tests.e2e.steps import say, tap
from tests.fakebot import FakeUser
from tests.fakebot.models import BotMessage

MEMBER_WORDS = ("member words 7501", "member photo 7502", "member file 7503", "member film 7504")
VOLUNTEER_WORDS = ("volunteer words 7505", "volunteer photo 7506")


async def _talk_both_ways(
    bot: RunningBot, member: FakeUser, volunteer: FakeUser, referral: Referral
) -> None:
    """Words both ways; returns once every copy is recorded, so ending finds them all."""
    member.send_text(MEMBER_WORDS[0])
    member.send_photo(caption=MEMBER_WORDS[1])
    member.send_document(caption=MEMBER_WORDS[2])
    member.send_video(caption=MEMBER_WORDS[3])
    await volunteer.wait_for_message(text=MEMBER_WORDS[3])
    volunteer.send_text(VOLUNTEER_WORDS[0])
    volunteer.send_photo(caption=VOLUNTEER_WORDS[1])
    await member.wait_for_message(text=VOLUNTEER_WORDS[1])
    await relay_counted(
        bot, referral, from_member=len(MEMBER_WORDS), from_staff=len(VOLUNTEER_WORDS)
    )


def _copies(user: FakeUser, words: tuple[str, ...]) -> dict[int, BotMessage]:
    return {m.message_id: m for m in user.visible_messages() if m.text in words}


def _unreadable(user: FakeUser, copies: dict[int, BotMessage], words: tuple[str, ...]) -> None:
    now = {m.message_id: m for m in user.visible_messages()}
    for message_id, before in copies.items():
        after = now.get(message_id)
        if after is None:
            continue  # deleted: fine too
        assert after.text in (None, BLANK), f"message {message_id} still reads {after.text!r}"
        for field in ("photo", "document", "video"):
            if field in before.raw:
                assert after.raw.get(field) != before.raw[field], f"{field} still shown"
    shown = str([m.raw for m in user.visible_messages()])
    assert not [w for w in words if w in shown], "no relayed words stay readable"


async def _close(bot: RunningBot, holder: FakeUser, referral: Referral) -> None:
    """/mine, Close, an outcome: answered once both chats are cleared and the member told."""
    tr = bot.tr("en")
    informed = staff_texts.outcomes(tr)["informed"]
    mark = bot.server.mark()
    await mine_button(bot, holder, referral, staff_texts.close_label(tr))
    question = await holder.wait_for_button(informed, after=mark)
    await staff_press(bot, holder, informed, message_id=question.message_id)
    await holder.wait_for_message(text=staff_texts.closed(tr, reference(referral.id)), after=mark)


async def _member_ends(
    bot: RunningBot, member: FakeUser, holder: FakeUser, referral: Referral, how: str
) -> None:
    """The member cancels or wipes; returns once the holder is told, which comes last
    (``Desk.farewell``): both chats are cleared by then."""
    tr = bot.tr("en")
    mark = bot.server.mark()
    if how == "cancel":
        ask = tr.finish(referral_texts.cancel_request_label(tr))
        confirm = tr.finish(referral_texts.cancel_confirm_label(tr))
        status = await say(bot, member, "/status", button=ask)
        question = await tap(bot, member, ask, message_id=status.message_id, button=confirm)
        member.press(confirm, message_id=question.message_id)
    else:
        confirm = tr.finish(texts.wipe_confirm_label(tr))
        question = await say(bot, member, "/wipe", button=confirm)
        member.press(confirm, message_id=question.message_id)
    await holder.wait_for_message(
        text=staff_texts.member_left(tr, reference(referral.id)), after=mark
    )


@pytest.mark.parametrize("ending", ["close", "release", "hand-over", "cancel", "wipe"])
async def test_after_48_hours_the_words_are_blanked_in_both_chats(
    bot: RunningBot, ending: str
) -> None:
    coordinator, alice, bob = await team(bot, 8500000)
    tr = bot.tr("en")
    member, referral = await conversation(bot, alice, 8500010)
    await _talk_both_ways(bot, member, alice, referral)
    in_alice_chat = _copies(alice, MEMBER_WORDS)
    in_member_chat = _copies(member, VOLUNTEER_WORDS)
    assert len(in_alice_chat) == len(MEMBER_WORDS)
    assert len(in_member_chat) == len(VOLUNTEER_WORDS)

    advance(bot, 49)  # Telegram no longer lets anyone delete these
    if ending == "close":
        await _close(bot, alice, referral)
    elif ending == "release":
        # Answered once both chats are cleared and the request is back in the queue.
        await mine_button(bot, alice, referral, staff_texts.release_label(tr))
        assert staff_texts.released(tr, reference(referral.id)) in texts_of(alice)
    elif ending == "hand-over":
        await hand_over(bot, alice, coordinator, referral, to=bob)
    else:
        await _member_ends(bot, member, alice, referral, ending)

    _unreadable(alice, in_alice_chat, MEMBER_WORDS)
    _unreadable(member, in_member_chat, VOLUNTEER_WORDS)
    if ending in ("close", "release", "hand-over"):
        assert tr.finish(referral_texts.copies_removed(tr)) in texts_of(member)
    assert await bot.services.referrals.take_copies(referral.id) == [], "nothing left to do"


async def test_within_48_hours_the_copies_are_deleted_from_both_chats(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8500100)
    member, referral = await conversation(bot, alice, 8500110)
    await _talk_both_ways(bot, member, alice, referral)
    in_alice_chat = _copies(alice, MEMBER_WORDS)
    in_member_chat = _copies(member, VOLUNTEER_WORDS)
    advance(bot, 40)
    await _close(bot, alice, referral)
    assert not set(in_alice_chat) & set(alice.message_ids())
    assert not set(in_member_chat) & set(member.message_ids())


async def test_voice_and_video_notes_leave_both_chats_before_48_hours(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8500200)
    member, referral = await conversation(bot, alice, 8500210)

    def notes(user: FakeUser) -> list[int]:
        return [
            m.message_id
            for m in user.visible_messages()
            if "voice" in m.raw or "video_note" in m.raw
        ]

    # Counted once their copies are recorded, which the hourly job reads.
    member.send_voice()
    member.send_video_note()
    await relay_counted(bot, referral, from_member=2, from_staff=0)
    alice.send_voice()
    await relay_counted(bot, referral, from_member=2, from_staff=1)
    assert len(notes(alice)) == 2
    assert len(notes(member)) == 1
    desk = Desk(bot.application.bot, bot.services)
    advance(bot, 30)
    assert await desk.remove_fixed_copies() == 0, "not while they are fresh"
    advance(bot, 15)
    # The hourly job, with the context the JobQueue gives it; done when it returns.
    context = SimpleNamespace(bot=bot.application.bot, services=bot.services)
    await jobs.forget_old_messages(context)  # type: ignore[arg-type]
    assert notes(alice) == []
    assert notes(member) == []
    # The conversation goes on; other copies are still kept for the end.
    mark = bot.server.mark()
    member.send_text("still talking 7507")
    await alice.wait_for_message(text="still talking 7507", after=mark)
    await relay_counted(bot, referral, from_member=3, from_staff=1)
    assert len(await bot.services.referrals.take_copies(referral.id)) >= 1
