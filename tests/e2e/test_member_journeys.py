"""Members walking the flows through the real Application over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot import texts
from bot.bidi import FSI
from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.steps import (
    choose_language,
    label,
    menu_text,
    node_text,
    say,
    state_at,
    tap,
    wipe,
)
from tests.fakebot import FakeBotApi

LOCALE_CODES = {"en": "en", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant-tw", "ug": None}


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant", "ug"])
async def test_a_member_walks_red_notices_in_their_language(bot: RunningBot, locale: str) -> None:
    member = bot.server.user(7100001, first_name="Member", language_code=LOCALE_CODES[locale])
    tr = bot.tr(locale)

    greeting = await say(bot, member, "/start", button=LANGUAGE_NAMES[locale])
    # Uyghur clients send no usable language code, so English is suggested to them.
    suggested = "en" if LOCALE_CODES[locale] is None else locale
    hint = bot.tr(suggested)
    assert (greeting.text or "").startswith(hint.finish(texts.safety_notice(hint)))
    # Native names; Telegram's language only decides which comes first.
    names = [row[0][0] for row in greeting.buttons]
    assert sorted(names) == sorted(LANGUAGE_NAMES.values())
    assert names[0] == LANGUAGE_NAMES[suggested]

    menu = await tap(bot, member, LANGUAGE_NAMES[locale], text=menu_text(bot, locale))
    notice, last = member.visible_messages()[-2:]
    assert last == menu
    assert notice.text == tr.finish(texts.safety_notice(tr))
    assert notice.buttons == []

    def screen(flow: str, node: str) -> str:
        return node_text(bot, tr, flow, node)

    intro = await tap(
        bot,
        member,
        label(bot, tr, "main", "menu", "red_notices"),
        text=screen("red_notices", "intro"),
    )
    assert intro.message_id == menu.message_id, "screens are edited in place"

    diffusions = await tap(
        bot,
        member,
        label(bot, tr, "red_notices", "intro", "diffusions"),
        text=screen("red_notices", "diffusions"),
    )
    assert tr.finish(texts.back_label(tr)) in diffusions.button_texts
    assert tr.finish(texts.menu_label(tr)) in diffusions.button_texts

    await tap(bot, member, tr.finish(texts.back_label(tr)), text=screen("red_notices", "intro"))

    for option, node in [("warrant", "warrant"), ("rules", "rules"), ("prc_use", "prc_use")]:
        await tap(
            bot,
            member,
            label(bot, tr, "red_notices", _from(node), option),
            text=screen("red_notices", node),
        )
    await tap(
        bot,
        member,
        label(bot, tr, "red_notices", "prc_use", "next_steps"),
        text=screen("red_notices", "next_steps"),
    )
    await tap(bot, member, tr.finish(texts.menu_label(tr)), text=screen("main", "menu"))
    assert member.last_message().text == screen("main", "menu")

    sends = bot.server.calls("sendMessage")
    assert sends
    assert all(call.params.get("protect_content") is True for call in sends)
    if locale == "ug":
        assert FSI in node_text(bot, tr, "red_notices", "rules"), "Latin runs are isolated"
    else:
        assert all(FSI not in (m.text or "") for m in member.visible_messages())


def _from(node: str) -> str:
    return {"warrant": "intro", "rules": "warrant", "prc_use": "rules"}[node]


async def test_every_button_answers_its_callback(bot: RunningBot) -> None:
    member = bot.server.user(7100002, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    presses = [await member.tap("Red Notices and Diffusions")]
    presses.append(await member.tap("What is a Diffusion?"))
    for press in presses:
        await bot.server.wait_for_answer(press)


async def test_member_continues_after_days_and_a_restart(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    member = server.user(7100003, first_name="Member", language_code="zh-hk")
    async with running_bot(server, settings, clock) as bot:
        await choose_language(bot, member, "zh_Hant")
        tr = bot.tr("zh_Hant")
        await tap(
            bot,
            member,
            label(bot, tr, "main", "menu", "red_notices"),
            text=node_text(bot, tr, "red_notices", "intro"),
        )
        where = await tap(
            bot,
            member,
            label(bot, tr, "red_notices", "intro", "warrant"),
            text=node_text(bot, tr, "red_notices", "warrant"),
        )
        # Leaving the block stops the bot, which lets running handlers finish.

    clock.advance(timedelta(days=5))
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr("zh_Hant")
        # The old screen's buttons still work: the place was stored.
        await tap(
            bot,
            member,
            label(bot, tr, "red_notices", "warrant", "rules"),
            message_id=where.message_id,
            text=node_text(bot, tr, "red_notices", "rules"),
        )
        welcome_back = tr.finish(texts.welcome_back(tr))
        resumed = await say(bot, member, "/start", containing=welcome_back)
        assert (resumed.text or "").startswith(welcome_back)
        assert (resumed.text or "").endswith(node_text(bot, tr, "red_notices", "rules"))


@pytest.mark.parametrize(
    ("data", "outcome"),
    [
        ("forged", "menu"),
        ("000000|c|00000000|0", "menu"),
        ("abc|m|", "menu"),
        ("x" * 64, "menu"),
        ("ffffff|l|fr-FR", "menu"),  # not a code; one CLDR knows is asked again (test_locales)
        ("ffffff|c|12345678|1", "menu"),
        ("CURRENT|c|SCREEN|42", "menu"),  # the member's own screen, a button it lacks
        ("CURRENT|l|XX", "menu"),
        # Today's layout but another screen's token, pressed on the current
        # screen: indistinguishable from a queued double tap, so it changes nothing.
        ("CURRENT|c|12345678|0", "unchanged"),
        ("CURRENT|b|12345678", "unchanged"),
    ],
)
async def test_forged_buttons_get_the_menu_and_change_nothing_else(
    bot: RunningBot, data: str, outcome: str
) -> None:
    member = bot.server.user(7100004, first_name="Member", language_code="zh-hk")
    await choose_language(bot, member, "zh_Hant")
    tr = bot.tr("zh_Hant")
    screen = await tap(
        bot,
        member,
        label(bot, tr, "main", "menu", "red_notices"),
        text=node_text(bot, tr, "red_notices", "intro"),
    )
    own_token = screen.buttons[0][0][1].split("|")[2]  # type: ignore[union-attr]
    data = data.replace("CURRENT", bot.snapshot.registry.layout).replace("SCREEN", own_token)
    key = bot.services.members.key_for(member.user_id)
    before = await state_at(bot, member, "red_notices", "intro")
    deletions = len(bot.server.calls("deleteMessages"))
    mark = bot.server.mark()
    press = member.press_data(data, screen.message_id)
    await bot.server.wait_for_answer(press)
    if outcome == "unchanged":
        await bot.settle()  # nothing follows the answer
        after = await bot.services.members.load(key)
        assert after == before
        assert member.last_message() == screen
    else:
        stale = tr.finish(texts.stale(tr))
        shown = await member.wait_for_message(containing=stale, after=mark)
        assert (shown.text or "").startswith(stale)
        assert (shown.text or "").endswith(menu_text(bot, "zh_Hant"))
        after = await state_at(bot, member, "main", "menu")  # only the place changed
        await bot.settle()  # and nothing else follows
    assert after is not None
    assert after.locale == "zh_Hant", "the language stayed"
    assert len(bot.server.calls("deleteMessages")) == deletions, "nothing was deleted"


async def test_a_double_tap_keeps_the_member_where_the_first_tap_took_them(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7100018, first_name="Member", language_code="en")
    menu = await choose_language(bot, member, "en")
    mark = bot.server.mark()
    first = member.press("Red Notices and Diffusions", message_id=menu.message_id)
    second = member.press("Red Notices and Diffusions", message_id=menu.message_id)  # queued
    intro = node_text(bot, bot.tr("en"), "red_notices", "intro")
    await member.wait_for_message(text=intro, after=mark)
    await bot.server.wait_for_answer(first)
    await bot.server.wait_for_answer(second)
    await bot.settle()  # the second tap changes nothing after its answer
    assert member.last_message().text == intro
    assert [m.message_id for m in member.visible_messages() if m.buttons] == [menu.message_id]


async def test_only_the_newest_screen_keeps_buttons_and_old_ones_are_stale(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7100005, first_name="Member", language_code="en")
    tr = bot.tr("en")
    await choose_language(bot, member, "en")
    old = await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        text=node_text(bot, tr, "red_notices", "intro"),
    )
    old_data = old.buttons[1][0][1]  # "Notice or arrest warrant?" on the intro screen
    # "welcome back" comes as a new message with the buttons
    welcome = await say(bot, member, "/start", containing=tr.finish(texts.welcome_back(tr)))

    def keyboards() -> list[int]:
        return [m.message_id for m in member.visible_messages() if m.buttons]

    await bot.server.wait_for(
        lambda: old.message_id not in keyboards(), what="the old screen's keyboard removed"
    )
    assert keyboards() == [welcome.message_id]
    await tap(
        bot,
        member,
        "What is a Diffusion?",
        text=node_text(bot, tr, "red_notices", "diffusions"),
    )
    # Replaying the removed intro button (the same label exists on this screen
    # too) must not act on the Diffusion screen.
    assert old_data is not None
    mark = bot.server.mark()
    member.press_data(old_data, old.message_id)
    shown = await member.wait_for_message(containing=texts.stale(tr), after=mark)
    assert (shown.text or "").startswith(texts.stale(tr))


async def test_typed_text_is_deleted_from_the_chat(bot: RunningBot) -> None:
    member = bot.server.user(7100006, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    tr = bot.tr("en")
    mark = bot.server.mark()
    typed = member.send_text("I need help, my name is Canary Person")
    shown = await member.wait_for_message(containing=texts.typed_text_deleted(tr), after=mark)
    assert typed not in member.message_ids(), "the typed message is gone"
    text = shown.text or ""
    assert text.startswith(texts.typed_text_deleted(tr))
    assert text.endswith(menu_text(bot))
    photo = member.send_photo(caption="my passport")
    await bot.server.wait_for(lambda: photo not in member.message_ids(), what="the photo deleted")


async def test_typing_before_choosing_a_language_is_deleted_too(bot: RunningBot) -> None:
    member = bot.server.user(7100017, first_name="Member", language_code="zh-tw")
    mark = bot.server.mark()
    typed = member.send_text("救命")
    picker = await member.wait_for_button(LANGUAGE_NAMES["zh_Hant"], after=mark)
    assert typed not in member.message_ids()
    assert picker.buttons[0][0][0] == LANGUAGE_NAMES["zh_Hant"]


async def test_language_can_be_changed_mid_flow(bot: RunningBot) -> None:
    member = bot.server.user(7100007, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        text=node_text(bot, bot.tr("en"), "red_notices", "intro"),
    )
    await say(bot, member, "/language", button=LANGUAGE_NAMES["ug"])
    intro = node_text(bot, bot.tr("ug"), "red_notices", "intro")
    await tap(bot, member, LANGUAGE_NAMES["ug"], text=intro)
    assert member.last_message().text == intro


async def test_menu_command_and_menu_language_button(bot: RunningBot) -> None:
    member = bot.server.user(7100008, first_name="Member", language_code="zh")
    await choose_language(bot, member, "zh_Hans")
    tr = bot.tr("zh_Hans")
    await member.tap(label(bot, tr, "main", "menu", "about"))
    # No wait for the About screen: the chat's next update waits its turn.
    menu = await say(bot, member, "/menu", text=menu_text(bot, "zh_Hans"))
    assert member.last_message() == menu
    await tap(
        bot,
        member,
        tr.finish(texts.language_label(tr)),
        message_id=menu.message_id,
        button=LANGUAGE_NAMES["en"],
    )
    await tap(bot, member, LANGUAGE_NAMES["en"], text=menu_text(bot, "en"))
    assert member.last_message().text == menu_text(bot, "en")


async def test_wipe_deletes_the_chat_and_forgets_the_member(bot: RunningBot) -> None:
    member = bot.server.user(7100009, first_name="Member", language_code="en")
    tr = bot.tr("en")
    await choose_language(bot, member, "en")
    await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        text=node_text(bot, tr, "red_notices", "intro"),
    )
    await say(bot, member, "something typed", containing=texts.typed_text_deleted(tr))
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id))

    await wipe(bot, member)

    assert member.message_ids() == [], "every message of both sides was deleted"
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id)) is None
    assert (
        await bot.services.database.connection.execute_fetchall("SELECT 1 FROM chat_messages") == []
    )

    picker = await say(bot, member, "/start", button=LANGUAGE_NAMES["en"])
    assert picker.buttons[0][0][0] == LANGUAGE_NAMES["en"]


async def test_wipe_can_be_cancelled_from_the_menu(bot: RunningBot) -> None:
    member = bot.server.user(7100010, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    tr = bot.tr("en")
    await tap(bot, member, tr.finish(texts.wipe_label(tr)), text=texts.wipe_question(tr))
    await tap(bot, member, tr.finish(texts.wipe_cancel_label(tr)), text=menu_text(bot))
    assert member.last_message().text == menu_text(bot)
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id))


async def test_messages_older_than_telegram_allows_are_forgotten(bot: RunningBot) -> None:
    member = bot.server.user(7100011, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    key = bot.services.members.key_for(member.user_id)
    assert await bot.services.members.deletable(key)
    bot.clock.advance(timedelta(hours=49))
    bot.server.advance_clock(49 * 3600)
    assert await bot.services.members.forget_old_messages() > 0
    assert await bot.services.members.deletable(key) == []


async def test_group_chats_are_ignored(bot: RunningBot) -> None:
    bot.server.push_raw_update(
        {
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": -100123, "type": "supergroup", "title": "g"},
                "from": {"id": 7100012, "is_bot": False, "first_name": "M"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        }
    )
    await bot.settle()  # fetched, and nothing follows
    assert bot.server.calls("sendMessage") == []


async def test_flood_control_is_waited_out(bot: RunningBot) -> None:
    member = bot.server.user(7100013, first_name="Member", language_code="en")
    bot.server.fail_next("sendMessage", retry_after=1)
    member.send_text("/start")
    picker = await member.wait_for_button(LANGUAGE_NAMES["en"])
    assert len(bot.server.calls("sendMessage")) >= 2, "the first attempt was refused"
    assert LANGUAGE_NAMES["en"] in [row[0][0] for row in picker.buttons]


async def test_a_member_who_blocked_the_bot_breaks_nothing(bot: RunningBot) -> None:
    gone = bot.server.user(7100014, first_name="Gone", language_code="en")
    other = bot.server.user(7100015, first_name="Other", language_code="en")
    await choose_language(bot, gone, "en")
    mark = bot.server.mark()
    gone.send_text("/menu")
    bot.server.block(gone.user_id)
    refused = await bot.server.wait_for_call("sendMessage", chat_id=gone.chat_id, after=mark)
    assert refused.error is not None, "the blocked member's answer was refused"
    menu = await choose_language(bot, other, "en")
    assert menu.text == menu_text(bot)


async def test_a_press_too_old_to_acknowledge_still_gets_its_screen(bot: RunningBot) -> None:
    member = bot.server.user(7100016, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    bot.server.inject_error(
        "answerCallbackQuery",
        error_code=400,
        description="Bad Request: query is too old and response timeout expired "
        "or query ID is invalid",
    )
    await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        text=node_text(bot, bot.tr("en"), "red_notices", "intro"),
    )
