"""Steps of the "detained or stopped now" path, each waiting for what it needs."""

from __future__ import annotations

from bot import referral_texts
from bot.i18n import LANGUAGE_NAMES, Translator
from flows.model import HandoffNode, text_context
from storage.referrals import Referral
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import answer_label, press_when_shown
from tests.e2e.test_member_journeys import label, node_text
from tests.fakebot import FakeUser


def shows(user: FakeUser, text: str) -> bool:
    """Some message in the chat contains ``text``."""
    return any(text in (m.text or "") for m in user.visible_messages())


def last_shows(user: FakeUser, text: str) -> bool:
    messages = user.visible_messages()
    return bool(messages) and text in (messages[-1].text or "")


async def start_in(bot: RunningBot, member: FakeUser, locale: str) -> None:
    """/start, then the member's language; returns once the menu is there."""
    tr = bot.tr(locale)
    member.send_text("/start")
    await press_when_shown(bot, member, LANGUAGE_NAMES[locale])
    await press_when_shown(bot, member, label(bot, tr, "main", "menu", "detained"))
    await bot.server.wait_for(
        lambda: any(
            label(bot, tr, "detained", "intro", "volunteer") in m.button_texts
            for m in member.visible_messages()
        ),
        timeout=15,
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
) -> None:
    """From the detained screen: Talk to a volunteer now, consent, where they are.

    Returns once the member sees ``expect`` (by default, that the request was sent).
    """
    tr = bot.tr(locale)
    await press_when_shown(bot, member, label(bot, tr, "detained", "intro", "volunteer"))
    await press_when_shown(bot, member, consent_label(bot, tr, "urgent"))
    await bot.server.wait_for(lambda: last_shows(member, where_now(tr)), timeout=15)
    await press_when_shown(bot, member, answer_label(bot, "c", country, locale))
    awaited = expect if expect is not None else sent_text(bot, tr)
    await bot.server.wait_for(lambda: last_shows(member, awaited), timeout=15)


def newest_id(user: FakeUser) -> int:
    messages = user.visible_messages()
    return messages[-1].message_id if messages else 0


async def press_on_new_message(
    bot: RunningBot, user: FakeUser, label_text: str, after: int
) -> None:
    """Press ``label_text`` on a message the bot sent after message ``after``.

    An older screen may carry the same button (a menu under a notice); pressing
    it there, before the new screen arrives, would be a press on a stale screen.
    """

    def fresh() -> int | None:
        for message in reversed(user.visible_messages()):
            if message.message_id > after and label_text in message.button_texts:
                return message.message_id
        return None

    await bot.server.wait_for(lambda: fresh() is not None, timeout=15)
    found = fresh()
    assert found is not None
    user.press(label_text, message_id=found)


async def back_to_detained(bot: RunningBot, member: FakeUser, locale: str = "en") -> None:
    """/menu, then the detained screen, for a member who has a language."""
    tr = bot.tr(locale)
    before = newest_id(member)
    member.send_text("/menu")
    await press_on_new_message(bot, member, label(bot, tr, "main", "menu", "detained"), before)
    await bot.server.wait_for(
        lambda: last_shows(member, node_text(bot, tr, "detained", "intro")), timeout=15
    )


async def ask_ordinarily(
    bot: RunningBot,
    member: FakeUser,
    *,
    country: str = "TR",
    expect: str | None = None,
    locale: str = "en",
) -> None:
    """/menu, Talk to a volunteer, consent and the four questions (travel, general).

    Returns once the member sees ``expect`` (by default, that the request was sent).
    """
    tr = bot.tr(locale)
    before = newest_id(member)
    member.send_text("/menu")
    await press_on_new_message(bot, member, label(bot, tr, "main", "menu", "volunteer"), before)
    await press_when_shown(bot, member, consent_label(bot, tr, "intro"))
    for field, code in (("t", "travel"), ("u", "general"), ("c", country), ("l", locale)):
        await press_when_shown(bot, member, answer_label(bot, field, code, locale))
    awaited = expect if expect is not None else sent_text(bot, tr)
    await bot.server.wait_for(lambda: last_shows(member, awaited), timeout=15)


async def cancel_request(bot: RunningBot, member: FakeUser, locale: str = "en") -> None:
    tr = bot.tr(locale)
    before = newest_id(member)
    member.send_text("/status")
    await press_on_new_message(
        bot, member, tr.finish(referral_texts.cancel_request_label(tr)), before
    )
    await press_when_shown(bot, member, tr.finish(referral_texts.cancel_confirm_label(tr)))
    await bot.server.wait_for(
        lambda: last_shows(member, tr.finish(referral_texts.cancelled(tr))), timeout=15
    )


def sent_text(bot: RunningBot, tr: Translator) -> str:
    node = bot.snapshot.registry.node("volunteer", "sent")
    assert node is not None
    return tr.finish(tr.pgettext(text_context("volunteer", "sent"), node.text))


async def member_referral(bot: RunningBot, member: FakeUser) -> Referral | None:
    return await bot.services.referrals.active_for_member(
        bot.services.members.key_for(member.user_id)
    )
