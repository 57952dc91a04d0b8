"""Steps that members, volunteers and coordinators take in the referral tests.

Each step waits for what the next one needs (see steps.py): member steps for
their screen, staff button steps for the press's answer, which the bot gives
after the action is carried out (``bot/staff_handlers.on_staff_button``).
"""

from __future__ import annotations

import re
from datetime import date

from bot import admin, referral_texts, staff_texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_choices import choices
from bot.referral_desk import reference
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.steps import choose_language, label, say, tap
from tests.fakebot import BotMessage, FakeUser

_INVITE_LINK = re.compile(r"\?start=([A-Za-z0-9_-]+)")


async def staff_press(
    bot: RunningBot, user: FakeUser, button_label: str, *, message_id: int | None = None
) -> str:
    """Press a staff button (on ``message_id``, else the newest message that has it).

    Returns the query id once the bot has answered the press, which it does
    after carrying the action out; the answer says if it was refused.
    """
    if message_id is None:
        query = await user.tap(button_label)
    else:
        query = user.press(button_label, message_id=message_id)
    await bot.server.wait_for_answer(query)
    return query


async def make_coordinator(bot: RunningBot, user: FakeUser) -> None:
    """What ``python -m bot admin add-coordinator <id>`` does, on the live database."""
    settings = bot.services.settings
    await admin.add_coordinator(settings, user.user_id, "en", date.today())


async def invite(bot: RunningBot, coordinator: FakeUser, role: str) -> str:
    """``/invite <role>``; returns the code of the link the bot answers with."""

    def has_link(message: BotMessage) -> bool:
        return _INVITE_LINK.search(message.text or "") is not None

    answer = await say(bot, coordinator, f"/invite {role}", predicate=has_link)
    found = _INVITE_LINK.search(answer.text or "")
    assert found is not None
    return found.group(1)


async def join(
    bot: RunningBot, user: FakeUser, code: str, languages: tuple[str, ...] = ("en",)
) -> None:
    """A volunteer opens the invite link, picks languages and taps Done."""
    done = staff_texts.done_label(bot.tr("en"))
    picker = await say(bot, user, f"/start {code}", button=done)
    for locale in languages:
        await staff_press(bot, user, LANGUAGE_NAMES[locale], message_id=picker.message_id)
    await staff_press(bot, user, done, message_id=picker.message_id)


async def volunteer(
    bot: RunningBot,
    coordinator: FakeUser,
    user_id: int,
    name: str,
    languages: tuple[str, ...] = ("en",),
) -> FakeUser:
    user = bot.server.user(
        user_id, first_name=name, username=f"{name.lower()}_handle", language_code="en"
    )
    await join(bot, user, await invite(bot, coordinator, "volunteer"), languages)
    await approve_languages(bot, coordinator, user, languages)
    return user


def staff_label(bot: RunningBot, user: FakeUser) -> str:
    return bot.services.pseudonymizer.label(bot.services.members.key_for(user.user_id))


def language_request_of(bot: RunningBot, coordinator: FakeUser, user: FakeUser, locale: str) -> int:
    """The coordinator's message asking to approve ``locale`` for the user."""
    wanted = staff_texts.language_request(
        bot.tr("en"), staff_label(bot, user), LANGUAGE_NAMES[locale]
    )
    for message in reversed(coordinator.visible_messages()):
        if message.text == wanted and message.buttons:
            return message.message_id
    raise LookupError(f"no language request for {locale} of {user} in {coordinator}'s chat")


async def language_request(
    bot: RunningBot, coordinator: FakeUser, user: FakeUser, locale: str, *, after: int | None = None
) -> BotMessage:
    """The coordinator's undecided request to approve ``locale`` for the user, once it is there.

    The volunteer's Done is answered after the requests went out (``staff_press``);
    ``after`` (a ``mark()``) skips requests from earlier.
    """
    tr = bot.tr("en")
    wanted = staff_texts.language_request(tr, staff_label(bot, user), LANGUAGE_NAMES[locale])
    return await coordinator.wait_for_message(
        text=wanted, button=staff_texts.approve_label(tr), after=after
    )


async def approve_languages(
    bot: RunningBot, coordinator: FakeUser, user: FakeUser, languages: tuple[str, ...]
) -> None:
    """The coordinator approves the languages a new volunteer chose."""
    tr = bot.tr("en")
    key = bot.services.members.key_for(user.user_id)
    mark = bot.server.mark()
    for locale in languages:
        request = await language_request(bot, coordinator, user, locale)
        # Answered once decided: stored, and the volunteer told.
        await staff_press(
            bot, coordinator, staff_texts.approve_label(tr), message_id=request.message_id
        )
    text = staff_texts.language_approved(tr, LANGUAGE_NAMES[languages[-1]])
    await user.wait_for_message(text=text, after=mark)
    member = await bot.services.staff.get(key)
    assert member is not None
    assert set(languages) <= member.languages


def answer_label(bot: RunningBot, field: str, code: str, locale: str = "en") -> str:
    tr = bot.tr(locale)
    return tr.finish(choices(field, tr, locale)[code])


def request_outcomes(bot: RunningBot, locale: str = "en") -> tuple[str, ...]:
    """What a member may see after the last question: sent, or one of the refusals."""
    tr = bot.tr(locale)
    node = bot.snapshot.registry.node("volunteer", "sent")
    assert node is not None
    return (
        tr.finish(tr.pgettext("volunteer.sent", node.text)),
        tr.finish(referral_texts.refused_already_open(tr)),
        tr.finish(referral_texts.refused_daily_limit(tr)),
    )


async def ask_for_volunteer(
    bot: RunningBot,
    member: FakeUser,
    *,
    topic: str = "travel",
    urgency: str = "general",
    country: str = "TR",
    language: str = "en",
    locale: str = "en",
    again: bool = False,
) -> BotMessage:
    """Walk to the volunteer request and answer every question.

    Returns the screen that answers the request: sent, or refused (see
    ``request_outcomes``). The desk files and announces the request before it
    draws that screen, so the notices are out by then.
    """
    tr = bot.tr(locale)
    volunteer_label = label(bot, tr, "main", "menu", "volunteer")
    if again:
        await say(bot, member, "/menu", button=volunteer_label)
    else:
        await choose_language(bot, member, locale)
    node = bot.snapshot.registry.node("volunteer", "intro")
    assert node is not None
    consent = tr.finish(tr.pgettext("volunteer.intro.consent", node.consent_label))  # type: ignore[union-attr]
    answers = [
        answer_label(bot, field, code, locale)
        for field, code in (("t", topic), ("u", urgency), ("c", country), ("l", language))
    ]
    screen = await tap(bot, member, volunteer_label, button=consent)
    for pressed, shown in zip([consent, *answers[:-1]], answers, strict=True):
        screen = await tap(bot, member, pressed, message_id=screen.message_id, button=shown)
    outcomes = request_outcomes(bot, locale)

    def answered(message: BotMessage) -> bool:
        return any(text in (message.text or "") for text in outcomes)

    return await tap(bot, member, answers[-1], message_id=screen.message_id, predicate=answered)


async def referral_of(bot: RunningBot, member: FakeUser) -> Referral:
    """The member's request that is not closed (it must exist)."""
    found = await bot.services.referrals.active_for_member(
        bot.services.members.key_for(member.user_id)
    )
    assert found is not None, f"{member} has no open request"
    return found


async def only_referral(bot: RunningBot, member: FakeUser) -> Referral:
    """The member's request, which is the only one in the database."""
    assert await bot.services.referrals.count() == 1
    return await referral_of(bot, member)


def notice_of(user: FakeUser, referral: Referral) -> int:
    """The id of the newest message in the user's chat that announces the referral."""
    for message in reversed(user.visible_messages()):
        if reference(referral.id) in (message.text or ""):
            return message.message_id
    raise LookupError(f"no notice about {referral.id} for {user}")


async def claimable(bot: RunningBot, user: FakeUser, referral: Referral) -> BotMessage:
    """The user's newest notice about the referral with its Claim button, once it is there."""
    tr = bot.tr("en")
    return await user.wait_for_message(
        containing=reference(referral.id), button=staff_texts.claim_label(tr)
    )


def member_claimed_text(bot: RunningBot) -> str:
    tr = bot.tr("en")
    return tr.finish(referral_texts.claimed(tr))


async def claim(
    bot: RunningBot, user: FakeUser, referral: Referral, *, talk_here: bool = True
) -> str:
    """Press Claim on the user's notice about the referral; returns the answered query's id.

    Claiming does not choose whom the volunteer writes to; unless ``talk_here``
    is False, the step then taps Talk here, as a volunteer who wants to answer does.
    """
    tr = bot.tr("en")
    notice = await claimable(bot, user, referral)
    query = await staff_press(bot, user, staff_texts.claim_label(tr), message_id=notice.message_id)
    answer = bot.server.callback_answer(query) or {}
    if talk_here and not answer.get("show_alert"):
        await talk(bot, user, referral)
    return query


async def held(bot: RunningBot, user: FakeUser) -> BotMessage:
    """/mine, for a volunteer holding one request: the message with its buttons."""
    tr = bot.tr("en")
    return await say(bot, user, "/mine", button=staff_texts.close_label(tr))


async def release_held(bot: RunningBot, user: FakeUser) -> str:
    """/mine, then Release: for a volunteer holding one request."""
    tr = bot.tr("en")
    mine = await held(bot, user)
    return await staff_press(bot, user, staff_texts.release_label(tr), message_id=mine.message_id)


def hold_note_of(user: FakeUser, referral: Referral) -> int:
    """The newest message offering Talk here for the referral (after a claim or hand-over)."""
    for message in reversed(user.visible_messages()):
        if reference(referral.id) in (message.text or "") and message.buttons:
            return message.message_id
    raise LookupError(f"no Talk here offer about {referral.id} for {user}")


async def talk(bot: RunningBot, user: FakeUser, referral: Referral) -> None:
    """Tap Talk here on the offer after a claim or hand-over, and wait until it holds."""
    tr = bot.tr("en")
    now_talking = staff_texts.now_talking(tr, reference(referral.id))
    mark = bot.server.mark()
    query = user.press(staff_texts.talk_label(tr), message_id=hold_note_of(user, referral))
    await bot.server.wait_for_answer(query)
    await user.wait_for_message(text=now_talking, after=mark)


async def close_held(bot: RunningBot, user: FakeUser, outcome: str) -> None:
    """/mine, Close, then the outcome: for a volunteer holding one request."""
    tr = bot.tr("en")
    outcome_label = staff_texts.outcomes(tr)[outcome]
    mine = await held(bot, user)
    question = await tap(
        bot, user, staff_texts.close_label(tr), message_id=mine.message_id, button=outcome_label
    )
    await staff_press(bot, user, outcome_label, message_id=question.message_id)


async def cancel_request(bot: RunningBot, member: FakeUser, locale: str = "en") -> None:
    """/status, Cancel my request, Yes: the member's request is withdrawn."""
    tr = bot.tr(locale)
    ask = tr.finish(referral_texts.cancel_request_label(tr))
    confirm = tr.finish(referral_texts.cancel_confirm_label(tr))
    status = await say(bot, member, "/status", button=ask)
    await tap(bot, member, ask, message_id=status.message_id, button=confirm)
    await tap(bot, member, confirm, containing=tr.finish(referral_texts.cancelled(tr)))
