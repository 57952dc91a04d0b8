"""Adding a language: a Turkish catalog is published, switched on by a coordinator, picked by a
member; and switched off again, with its readers asked to choose another language."""

from __future__ import annotations

from bot import locale_texts, staff_texts, texts
from tests.e2e.harness import RunningBot
from tests.e2e.locale_steps import (
    MARK,
    TURKISH,
    publish_turkish,
    switch,
    switch_on_label,
)
from tests.e2e.referral_steps import make_coordinator, staff_press
from tests.e2e.steps import choose_language, menu_text, say, stored_state, tap
from tests.fakebot import BotMessage, FakeUser


def names(message: BotMessage) -> list[str]:
    return [row[0][0] for row in message.buttons]


async def picker(bot: RunningBot, member: FakeUser) -> BotMessage:
    return await say(bot, member, "/start", button="English")


async def test_a_coordinator_switches_on_turkish_once_complete_and_a_member_reads_it(
    bot: RunningBot,
) -> None:
    coordinator = bot.server.user(7300001, first_name="Coordinator", language_code="en")
    await make_coordinator(bot, coordinator)
    tr = bot.tr("en")

    # Published with one text untranslated: in the set, but off, and not to be switched on.
    await publish_turkish(bot, untranslated=1)
    assert "tr" in bot.snapshot.registry.catalogs
    early = bot.server.user(7300002, first_name="Early", language_code="tr")
    assert TURKISH not in names(await picker(bot, early))
    listing = await say(bot, coordinator, "/locales", button=switch_on_label(bot))
    assert locale_texts.state_off(tr, TURKISH) in (listing.text or "")
    assert locale_texts.untranslated(tr, 1) in (listing.text or "")
    press = await staff_press(bot, coordinator, switch_on_label(bot), message_id=listing.message_id)
    answer = bot.server.callback_answer(press)
    assert answer is not None
    assert answer.get("text") == tr.finish(locale_texts.incomplete(tr, TURKISH, 1))
    assert answer.get("show_alert") is True
    assert "tr" not in bot.services.content.switches, "a refused switch changes nothing"

    # Complete now: switched on, with a confirmation and an audit entry.
    await publish_turkish(bot)
    await switch(bot, coordinator, on=True)
    assert bot.services.content.switches["tr"].enabled
    actions = [entry.action for entry in await bot.services.audit.entries()]
    assert "content-locale-on:tr" in actions

    # A member whose Telegram speaks Turkish finds it first, picks it, reads Turkish.
    member = bot.server.user(7300003, first_name="Member", language_code="tr")
    shown = await picker(bot, member)
    assert names(shown)[0] == TURKISH
    menu = await tap(bot, member, TURKISH, message_id=shown.message_id, containing=MARK)
    assert (menu.text or "").startswith(MARK)
    await stored_state(bot, member, lambda state: state.locale == "tr", "language tr")


async def test_switching_turkish_off_asks_its_readers_to_choose_again(bot: RunningBot) -> None:
    coordinator = bot.server.user(7300011, first_name="Coordinator", language_code="en")
    await make_coordinator(bot, coordinator)
    await publish_turkish(bot)
    await switch(bot, coordinator, on=True)
    member = bot.server.user(7300012, first_name="Member", language_code="tr")
    shown = await picker(bot, member)
    menu = await tap(bot, member, TURKISH, message_id=shown.message_id, containing=MARK)
    await stored_state(bot, member, lambda state: state.locale == "tr", "language tr")
    # Someone else holds an old picker with Turkish on it.
    other = bot.server.user(7300013, first_name="Other", language_code="en")
    stale_picker = await picker(bot, other)

    await switch(bot, coordinator, on=False)
    assert not bot.services.content.switches["tr"].enabled
    actions = [entry.action for entry in await bot.services.audit.entries()]
    assert "content-locale-off:tr" in actions

    # The Turkish reader's next press brings the safety notice and the picker, without Turkish.
    mark = bot.server.mark()
    member.press(menu.buttons[0][0][0], message_id=menu.message_id)
    asked = await member.wait_for_message(button="English", after=mark)
    assert TURKISH not in names(asked)
    # The old picker's Turkish button says the language is not available, and offers the rest.
    en = bot.tr("en")
    unavailable = en.finish(texts.language_unavailable(en))
    again = await tap(
        bot, other, TURKISH, message_id=stale_picker.message_id, containing=unavailable
    )
    assert TURKISH not in names(again)
    await tap(bot, other, "English", message_id=again.message_id, text=menu_text(bot, "en"))


async def test_only_coordinators_switch_languages(bot: RunningBot) -> None:
    await publish_turkish(bot)
    member = bot.server.user(7300021, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    # /locales from a member is a stray message: they get their screen back, nothing more.
    en = bot.tr("en")
    await say(bot, member, "/locales", containing=menu_text(bot, "en"))
    # A forged switch button from a member: "not available", and nothing switches.
    menu = member.last_message()
    press = member.press_data("s|Z|tr|1", menu.message_id)
    answer = await bot.server.wait_for_answer(press)
    assert answer.get("text") == en.finish(staff_texts.not_allowed(en))
    assert "tr" not in bot.services.content.switches
