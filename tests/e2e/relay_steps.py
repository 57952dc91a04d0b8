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
    staff_press,
    volunteer,
)
from tests.e2e.steps import say
from tests.fakebot import BotMessage, FakeUser


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


async def relay_counted(
    bot: RunningBot, referral: Referral, *, from_member: int, from_staff: int
) -> None:
    """Wait until the relay has counted this many messages of the request, each way.

    A message is counted after its copies are recorded for removal, so a step
    that ends the request after this finds every copy to remove.
    """

    async def counted() -> bool:
        counts = [c for c in await bot.services.audit.relay_counts() if c.referral == referral.id]
        totals = (sum(c.from_member for c in counts), sum(c.from_staff for c in counts))
        return totals == (from_member, from_staff)

    await bot.server.wait_for(
        counted,
        what=f"{from_member} message(s) from the member and {from_staff} from staff "
        f"counted for {reference(referral.id)}",
    )


async def mine_button(bot: RunningBot, user: FakeUser, referral: Referral, label: str) -> str:
    """/mine, then a button on the line of the given request.

    Returns the press's query id once the bot has answered it, which it does
    after carrying the action out (see ``staff_press``).
    """

    def its_line(message: BotMessage) -> bool:
        return (message.text or "").startswith(reference(referral.id))

    line = await say(bot, user, "/mine", button=label, predicate=its_line)
    return await staff_press(bot, user, label, message_id=line.message_id)


async def hand_over(
    bot: RunningBot, holder: FakeUser, coordinator: FakeUser, referral: Referral, to: FakeUser
) -> None:
    """The holder asks for a hand-over and the coordinator picks ``to``.

    Returns once the coordinator's press is answered, which the bot does after
    both chats are cleared and everyone is told.
    """
    tr = bot.tr("en")
    mark = bot.server.mark()
    await mine_button(bot, holder, referral, staff_texts.handover_label(tr))
    target = bot.services.pseudonymizer.label(bot.services.members.key_for(to.user_id))
    asked = staff_texts.handover_request(
        tr,
        reference(referral.id),
        bot.services.pseudonymizer.label(bot.services.members.key_for(holder.user_id)),
    )
    request = await coordinator.wait_for_message(text=asked, button=target, after=mark)
    await staff_press(bot, coordinator, target, message_id=request.message_id)
    assigned = staff_texts.assigned_to_you(tr, reference(referral.id))
    await to.wait_for_message(text=assigned, after=mark)


def advance(bot: RunningBot, hours: float) -> None:
    """Both clocks move: the bot's and the fake Telegram's (dates, the 48-hour limit)."""
    bot.clock.advance(timedelta(hours=hours))
    bot.server.advance_clock(hours * 3600)
