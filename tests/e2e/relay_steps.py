"""Steps for the relay's safety tests: a team, conversations, and reading chats."""

from __future__ import annotations

from datetime import timedelta

from bot import staff_texts
from bot.referral_desk import reference
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import (
    ask_for_volunteer,
    claim,
    make_coordinator,
    volunteer,
)
from tests.fakebot import FakeUser


async def team(bot: RunningBot, base: int) -> tuple[FakeUser, FakeUser, FakeUser]:
    """A coordinator and two English-speaking volunteers, Alice and Bob."""
    coordinator = bot.server.user(base, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    alice = await volunteer(bot, coordinator, base + 1, "Alice")
    bob = await volunteer(bot, coordinator, base + 2, "Bob")
    return coordinator, alice, bob


async def request_of(bot: RunningBot, member: FakeUser) -> Referral:
    found = await bot.services.referrals.active_for_member(
        bot.services.members.key_for(member.user_id)
    )
    assert found is not None
    return found


async def new_member(bot: RunningBot, user_id: int) -> tuple[FakeUser, Referral]:
    """A member who asked for an English-speaking volunteer."""
    member = bot.server.user(user_id, first_name=f"Member{user_id}", language_code="en")
    await ask_for_volunteer(bot, member)
    return member, await request_of(bot, member)


async def conversation(
    bot: RunningBot, holder: FakeUser, user_id: int
) -> tuple[FakeUser, Referral]:
    """A member whose request ``holder`` claimed and chose to talk in."""
    member, referral = await new_member(bot, user_id)
    await claim(bot, holder, referral)
    return member, referral


def texts_of(user: FakeUser) -> list[str | None]:
    return [m.text for m in user.visible_messages()]


async def sent_and_settled(bot: RunningBot, user: FakeUser, predicate_text: str) -> None:
    """Wait until the user's chat shows a bot message with exactly this text."""
    await bot.server.wait_for(lambda: predicate_text in texts_of(user), timeout=15)
    await bot.settle()


async def mine_button(bot: RunningBot, user: FakeUser, referral: Referral, label: str) -> None:
    """/mine, then a button on the line of the given request."""
    user.send_text("/mine")

    def line() -> int | None:
        for message in reversed(user.visible_messages()):
            if (message.text or "").startswith(reference(referral.id)) and label in (
                message.button_texts
            ):
                return message.message_id
        return None

    await bot.server.wait_for(lambda: line() is not None, timeout=15)
    await bot.settle()
    found = line()
    assert found is not None
    user.press(label, message_id=found)
    await bot.settle()


async def hand_over(
    bot: RunningBot, holder: FakeUser, coordinator: FakeUser, referral: Referral, to: FakeUser
) -> None:
    """The holder asks for a hand-over and the coordinator picks ``to``."""
    tr = bot.tr("en")
    await mine_button(bot, holder, referral, staff_texts.handover_label(tr))
    target = bot.services.pseudonymizer.label(bot.services.members.key_for(to.user_id))
    asked = staff_texts.handover_request(
        tr,
        reference(referral.id),
        bot.services.pseudonymizer.label(bot.services.members.key_for(holder.user_id)),
    )
    await bot.server.wait_for(lambda: asked in texts_of(coordinator), timeout=15)
    request = next(m for m in reversed(coordinator.visible_messages()) if m.text == asked)
    coordinator.press(target, message_id=request.message_id)
    assigned = staff_texts.assigned_to_you(tr, reference(referral.id))
    await bot.server.wait_for(lambda: assigned in texts_of(to), timeout=15)
    await bot.settle()


def advance(bot: RunningBot, hours: float) -> None:
    """Both clocks move: the bot's and the fake Telegram's (dates, the 48-hour limit)."""
    bot.clock.advance(timedelta(hours=hours))
    bot.server.advance_clock(hours * 3600)
