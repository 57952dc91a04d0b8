"""Steps that members, volunteers and coordinators take in the referral tests."""

from __future__ import annotations

import re
from datetime import date
from functools import partial

from bot import admin, referral_texts, staff_texts
from bot.i18n import LANGUAGE_NAMES
from bot.referral_choices import choices
from bot.referral_desk import reference
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.test_member_journeys import choose_language, label
from tests.fakebot import FakeUser


def _has_button(user: FakeUser, label_text: str) -> bool:
    return any(label_text in m.button_texts for m in user.visible_messages())


async def press_when_shown(bot: RunningBot, user: FakeUser, label_text: str) -> None:
    """Press a button once it is on screen: under load a reply can lag a quiet period."""
    await bot.server.wait_for(lambda: _has_button(user, label_text), timeout=15)
    user.press(label_text)
    await bot.settle()


async def make_coordinator(bot: RunningBot, user: FakeUser) -> None:
    """What ``python -m bot admin add-coordinator <id>`` does, on the live database."""
    settings = bot.services.settings
    await admin.add_coordinator(settings, user.user_id, "en", date.today())


async def invite(bot: RunningBot, coordinator: FakeUser, role: str) -> str:
    def links() -> list[str]:
        return [
            found.group(1)
            for m in coordinator.visible_messages()
            if (found := re.search(r"\?start=([A-Za-z0-9_-]+)", m.text or ""))
        ]

    before = len(links())
    coordinator.send_text(f"/invite {role}")
    await bot.server.wait_for(lambda: len(links()) > before, timeout=15)
    await bot.settle()
    return links()[-1]


async def join(
    bot: RunningBot, user: FakeUser, code: str, languages: tuple[str, ...] = ("en",)
) -> None:
    user.send_text(f"/start {code}")
    await bot.settle()
    for locale in languages:
        await press_when_shown(bot, user, LANGUAGE_NAMES[locale])
    await press_when_shown(bot, user, staff_texts.done_label(bot.tr("en")))


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


async def approve_languages(
    bot: RunningBot, coordinator: FakeUser, user: FakeUser, languages: tuple[str, ...]
) -> None:
    """The coordinator approves the languages a new volunteer chose."""
    tr = bot.tr("en")
    key = bot.services.members.key_for(user.user_id)
    for locale in languages:
        await bot.server.wait_for(partial(_has_request, bot, coordinator, user, locale), timeout=15)
        coordinator.press(
            staff_texts.approve_label(tr),
            message_id=language_request_of(bot, coordinator, user, locale),
        )

    async def approved() -> bool:
        member = await bot.services.staff.get(key)
        return member is not None and set(languages) <= member.languages

    text = staff_texts.language_approved(tr, LANGUAGE_NAMES[languages[-1]])
    await bot.server.wait_for(lambda: text in [m.text for m in user.visible_messages()], timeout=15)
    assert await approved()
    await bot.settle()


def _has_request(bot: RunningBot, coordinator: FakeUser, user: FakeUser, locale: str) -> bool:
    try:
        language_request_of(bot, coordinator, user, locale)
    except LookupError:
        return False
    return True


def answer_label(bot: RunningBot, field: str, code: str, locale: str = "en") -> str:
    tr = bot.tr(locale)
    return tr.finish(choices(field, tr, locale)[code])


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
) -> None:
    if again:
        member.send_text("/menu")
        await bot.settle()
    else:
        await choose_language(bot, member, locale)
    tr = bot.tr(locale)
    await press_when_shown(bot, member, label(bot, tr, "main", "menu", "volunteer"))
    node = bot.snapshot.registry.node("volunteer", "intro")
    assert node is not None
    consent = tr.finish(tr.pgettext("volunteer.intro.consent", node.consent_label))  # type: ignore[union-attr]
    await press_when_shown(bot, member, consent)
    for field, code in (("t", topic), ("u", urgency), ("c", country), ("l", language)):
        await press_when_shown(bot, member, answer_label(bot, field, code, locale))


async def only_referral(bot: RunningBot) -> Referral:
    rows = await bot.services.database.connection.execute_fetchall("SELECT id FROM referrals")
    assert len(list(rows)) == 1
    found = await bot.services.referrals.get(str(next(iter(rows))[0]))
    assert found is not None
    return found


def notice_of(user: FakeUser, referral: Referral) -> int:
    """The id of the newest message in the user's chat that announces the referral."""
    for message in reversed(user.visible_messages()):
        if reference(referral.id) in (message.text or ""):
            return message.message_id
    raise LookupError(f"no notice about {referral.id} for {user}")


def member_claimed_text(bot: RunningBot) -> str:
    tr = bot.tr("en")
    return tr.finish(referral_texts.claimed(tr))


async def claim(
    bot: RunningBot, user: FakeUser, referral: Referral, *, talk_here: bool = True
) -> str:
    """Press Claim on the user's notice about the referral; returns the query id.

    Claiming does not choose whom the volunteer writes to; unless ``talk_here``
    is False, the step then taps Talk here, as a volunteer who wants to answer does.
    """
    tr = bot.tr("en")
    await bot.server.wait_for(partial(_has_notice, user, referral), timeout=15)
    query = user.press(staff_texts.claim_label(tr), message_id=notice_of(user, referral))
    await bot.server.wait_for(lambda: bot.server.answered_callback(query), timeout=15)
    await bot.settle()
    answer = bot.server.callback_answer(query) or {}
    if talk_here and not answer.get("show_alert"):
        await talk(bot, user, referral)
    return query


def _has_notice(user: FakeUser, referral: Referral) -> bool:
    try:
        notice_of(user, referral)
    except LookupError:
        return False
    return True


def hold_note_of(user: FakeUser, referral: Referral) -> int:
    """The newest message offering Talk here for the referral (after a claim or hand-over)."""
    for message in reversed(user.visible_messages()):
        if reference(referral.id) in (message.text or "") and message.buttons:
            return message.message_id
    raise LookupError(f"no Talk here offer about {referral.id} for {user}")


async def talk(bot: RunningBot, user: FakeUser, referral: Referral) -> None:
    """Tap Talk here on the offer after a claim or hand-over, and wait until it holds."""
    tr = bot.tr("en")
    query = user.press(staff_texts.talk_label(tr), message_id=hold_note_of(user, referral))
    now_talking = staff_texts.now_talking(tr, reference(referral.id))
    await bot.server.wait_for(lambda: bot.server.answered_callback(query), timeout=15)
    await bot.server.wait_for(
        lambda: now_talking in [m.text for m in user.visible_messages()], timeout=15
    )
    await bot.settle()


async def close_held(bot: RunningBot, user: FakeUser, outcome: str) -> None:
    """/mine, Close, then the outcome: for a volunteer holding one request."""
    tr = bot.tr("en")
    user.send_text("/mine")
    await press_when_shown(bot, user, staff_texts.close_label(tr))
    await press_when_shown(bot, user, staff_texts.outcomes(tr)[outcome])
