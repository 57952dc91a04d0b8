"""Steps of the "detained or stopped now" path, each waiting for what it needs (see steps.py)."""

from __future__ import annotations

from bot import referral_texts
from bot.i18n import Translator
from flows.model import HandoffNode, text_context
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import answer_label
from tests.e2e.steps import choose_language, label, node_text, say, tap
from tests.fakebot import BotMessage, FakeUser


def shows(user: FakeUser, text: str) -> bool:
    """Some message in the chat contains ``text``."""
    return any(text in (m.text or "") for m in user.visible_messages())


async def start_in(bot: RunningBot, member: FakeUser, locale: str) -> BotMessage:
    """/start, the member's language, then "Detained or stopped now"; returns that screen."""
    tr = bot.tr(locale)
    menu = await choose_language(bot, member, locale)
    return await tap(
        bot,
        member,
        label(bot, tr, "main", "menu", "detained"),
        message_id=menu.message_id,
        button=label(bot, tr, "detained", "intro", "volunteer"),
    )


def consent_label(bot: RunningBot, tr: Translator, node_id: str) -> str:
    node = bot.snapshot.registry.node("volunteer", node_id)
    assert isinstance(node, HandoffNode)
    return tr.finish(tr.pgettext(text_context("volunteer", node_id, "consent"), node.consent_label))


def where_now(tr: Translator) -> str:
    return tr.finish(referral_texts.question(tr, "c", held_now=True))


async def ask_urgently(
    bot: RunningBot,
    member: FakeUser,
    *,
    locale: str = "en",
    country: str = "PL",
    expect: str | None = None,
) -> BotMessage:
    """From the detained screen: Talk to a volunteer now, consent, where they are.

    Returns the screen that answers, once it shows ``expect`` (by default, that
    the request was sent).
    """
    tr = bot.tr(locale)
    consent = await tap(
        bot,
        member,
        label(bot, tr, "detained", "intro", "volunteer"),
        button=consent_label(bot, tr, "urgent"),
    )
    question = await tap(
        bot,
        member,
        consent_label(bot, tr, "urgent"),
        message_id=consent.message_id,
        containing=where_now(tr),
    )
    return await tap(
        bot,
        member,
        answer_label(bot, "c", country, locale),
        message_id=question.message_id,
        containing=expect if expect is not None else sent_text(bot, tr),
    )


async def back_to_detained(bot: RunningBot, member: FakeUser, locale: str = "en") -> BotMessage:
    """/menu, then the detained screen, for a member who has a language; returns it."""
    tr = bot.tr(locale)
    detained = label(bot, tr, "main", "menu", "detained")
    menu = await say(bot, member, "/menu", button=detained)
    return await tap(
        bot,
        member,
        detained,
        message_id=menu.message_id,
        containing=node_text(bot, tr, "detained", "intro"),
    )


async def ask_ordinarily(
    bot: RunningBot,
    member: FakeUser,
    *,
    country: str = "TR",
    expect: str | None = None,
    locale: str = "en",
) -> BotMessage:
    """/menu, Talk to a volunteer, consent and the four questions (travel, general).

    Returns the screen that answers, once it shows ``expect`` (by default, that
    the request was sent).
    """
    tr = bot.tr(locale)
    volunteer = label(bot, tr, "main", "menu", "volunteer")
    consent = consent_label(bot, tr, "intro")
    answers = [
        answer_label(bot, field, code, locale)
        for field, code in (("t", "travel"), ("u", "general"), ("c", country), ("l", locale))
    ]
    menu = await say(bot, member, "/menu", button=volunteer)
    screen = await tap(bot, member, volunteer, message_id=menu.message_id, button=consent)
    for pressed, shown in zip([consent, *answers[:-1]], answers, strict=True):
        screen = await tap(bot, member, pressed, message_id=screen.message_id, button=shown)
    return await tap(
        bot,
        member,
        answers[-1],
        message_id=screen.message_id,
        containing=expect if expect is not None else sent_text(bot, tr),
    )


def sent_text(bot: RunningBot, tr: Translator) -> str:
    node = bot.snapshot.registry.node("volunteer", "sent")
    assert node is not None
    return tr.finish(tr.pgettext(text_context("volunteer", "sent"), node.text))


async def member_referral(bot: RunningBot, member: FakeUser) -> Referral | None:
    return await bot.services.referrals.active_for_member(
        bot.services.members.key_for(member.user_id)
    )
