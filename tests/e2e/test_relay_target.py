"""Whom a volunteer's messages reach: only the member they chose, in their own chat.

A claim or a coordinator's hand-over gives a volunteer a request but never
moves their conversation; every change of target is said before the next
message goes anywhere.
"""

from __future__ import annotations

from bot import referral_texts, staff_texts
from bot.referral_desk import reference
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import claim, talk
from tests.e2e.relay_steps import conversation, hand_over, new_member, team, texts_of

ABOUT_A = "about your passport, member A 7310"


async def test_claiming_another_request_keeps_the_conversation(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8300000)
    tr = bot.tr("en")
    first, a = await conversation(bot, alice, 8300010)
    second, b = await new_member(bot, 8300011)

    await claim(bot, alice, b, talk_here=False)
    note = staff_texts.hold_note(tr, reference(b.id), reference(a.id))
    assert note in texts_of(alice), "the claim says where her messages still go"
    mark = bot.server.mark()
    alice.send_text(ABOUT_A)
    await first.wait_for_message(text=ABOUT_A, after=mark)
    await bot.settle()  # nothing follows: no copy to B
    assert ABOUT_A not in texts_of(second), "a claim never moves her conversation"

    # Only her own choice moves it, and it is said.
    await talk(bot, alice, b)
    mark = bot.server.mark()
    alice.send_text("now to member B 7311")
    await second.wait_for_message(text="now to member B 7311", after=mark)
    assert "now to member B 7311" not in texts_of(first)


async def test_a_first_claim_chooses_no_one_until_talk_here(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8300100)
    tr = bot.tr("en")
    member, referral = await new_member(bot, 8300110)
    await claim(bot, alice, referral, talk_here=False)
    assert staff_texts.hold_note(tr, reference(referral.id), None) in texts_of(alice)
    mark = bot.server.mark()
    alice.send_text("typed too early 7312")
    await alice.wait_for_message(text=staff_texts.no_conversation(tr), after=mark)
    await bot.settle()  # nothing follows: no copy to anyone
    assert "typed too early 7312" not in texts_of(member)


async def test_a_hand_over_never_moves_the_new_holders_conversation(bot: RunningBot) -> None:
    coordinator, alice, bob = await team(bot, 8300200)
    tr = bot.tr("en")
    first, a = await conversation(bot, bob, 8300210)
    second, b = await conversation(bot, alice, 8300211)

    await hand_over(bot, alice, coordinator, b, to=bob)
    assert staff_texts.hold_note(tr, reference(b.id), reference(a.id)) in texts_of(bob)
    assert tr.finish(referral_texts.handed_over(tr)) in texts_of(second), "the member is told"
    mark = bot.server.mark()
    bob.send_text(ABOUT_A)
    await first.wait_for_message(text=ABOUT_A, after=mark)
    await bot.settle()  # nothing follows: no copy to B
    assert ABOUT_A not in texts_of(second), "a coordinator's choice never moves Bob's talk"
    mark = bot.server.mark()
    alice.send_text("are we still connected 7313")
    await alice.wait_for_message(text=staff_texts.no_conversation(tr), after=mark)
    await bot.settle()  # nothing follows: no copy to anyone
    assert "are we still connected 7313" not in texts_of(second)

    # Handed back to Alice later: her old choice does not come back to life.
    await hand_over(bot, bob, coordinator, b, to=alice)
    mark = bot.server.mark()
    alice.send_text("typed after it came back 7314")
    await alice.wait_for_message(text=staff_texts.no_conversation(tr), after=mark)
    assert texts_of(alice).count(staff_texts.no_conversation(tr)) == 2
    await bot.settle()  # nothing follows: no copy to anyone
    assert "typed after it came back 7314" not in texts_of(second)


async def test_another_members_message_stops_and_says_so(bot: RunningBot) -> None:
    _, alice, _ = await team(bot, 8300300)
    tr = bot.tr("en")
    first, a = await conversation(bot, alice, 8300310)
    second, b = await conversation(bot, alice, 8300311)  # she now talks with B
    mark = bot.server.mark()
    first.send_text("a message from A 7315")
    header = staff_texts.relay_header(tr, reference(a.id)) + "\n"
    header += staff_texts.target_dropped(tr, reference(b.id))
    # Sent once her choice is dropped: what she types next goes to no one.
    await alice.wait_for_message(text=header, after=mark)
    mark = bot.server.mark()
    alice.send_text("meant for A 7316")
    await alice.wait_for_message(text=staff_texts.no_conversation(tr), after=mark)
    await bot.settle()  # nothing follows: no copy to anyone
    assert "meant for A 7316" not in texts_of(second)
    assert "meant for A 7316" not in texts_of(first)
