"""Members walking the flows through the real Application over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot import texts
from bot.bidi import FSI
from bot.i18n import LANGUAGE_NAMES, Translator
from flows.model import text_context
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.fakebot import FakeBotApi, FakeUser

LOCALE_CODES = {"en": "en", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant-tw", "ug": None}


def flow_text(tr: Translator, flow: str, node: str, english: str) -> str:
    return tr.finish(tr.pgettext(text_context(flow, node), english))


def label(bot: RunningBot, tr: Translator, flow: str, node: str, option: str) -> str:
    found = bot.snapshot.registry.node(flow, node)
    assert found is not None
    english = next(o.label for o in found.options if o.id == option)  # type: ignore[union-attr]
    return tr.finish(tr.pgettext(text_context(flow, node, option), english))


def node_text(bot: RunningBot, tr: Translator, flow: str, node: str) -> str:
    found = bot.snapshot.registry.node(flow, node)
    assert found is not None
    return flow_text(tr, flow, node, found.text)


async def choose_language(bot: RunningBot, member: FakeUser, locale: str) -> None:
    member.send_text("/start")
    await bot.settle()
    member.press(LANGUAGE_NAMES[locale])
    await bot.settle()


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant", "ug"])
async def test_a_member_walks_red_notices_in_their_language(bot: RunningBot, locale: str) -> None:
    member = bot.server.user(7100001, first_name="Member", language_code=LOCALE_CODES[locale])
    tr = bot.tr(locale)

    member.send_text("/start")
    await bot.settle()
    greeting = member.last_message()
    # Uyghur clients send no usable language code, so English is suggested to them.
    suggested = "en" if LOCALE_CODES[locale] is None else locale
    hint = bot.tr(suggested)
    assert (greeting.text or "").startswith(hint.finish(texts.safety_notice(hint)))
    # Native names; Telegram's language only decides which comes first.
    names = [row[0][0] for row in greeting.buttons]
    assert sorted(names) == sorted(LANGUAGE_NAMES.values())
    assert names[0] == LANGUAGE_NAMES[suggested]

    member.press(LANGUAGE_NAMES[locale])
    await bot.settle()
    notice, menu = member.visible_messages()[-2:]
    assert notice.text == tr.finish(texts.safety_notice(tr))
    assert notice.buttons == []
    assert menu.text == node_text(bot, tr, "main", "menu")

    member.press(label(bot, tr, "main", "menu", "red_notices"))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "red_notices", "intro")
    assert member.last_message().message_id == menu.message_id, "screens are edited in place"

    member.press(label(bot, tr, "red_notices", "intro", "diffusions"))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "red_notices", "diffusions")
    texts_on_screen = [text for row in member.last_message().buttons for text, _ in row]
    assert tr.finish(texts.back_label(tr)) in texts_on_screen
    assert tr.finish(texts.menu_label(tr)) in texts_on_screen

    member.press(tr.finish(texts.back_label(tr)))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "red_notices", "intro")

    for option, node in [("warrant", "warrant"), ("rules", "rules"), ("prc_use", "prc_use")]:
        member.press(label(bot, tr, "red_notices", _from(node), option))
        await bot.settle()
        assert member.last_message().text == node_text(bot, tr, "red_notices", node)
    member.press(label(bot, tr, "red_notices", "prc_use", "next_steps"))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "red_notices", "next_steps")

    member.press(tr.finish(texts.menu_label(tr)))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "main", "menu")

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
    presses = [member.press("Red Notices and Diffusions")]
    await bot.settle()
    presses.append(member.press("What is a Diffusion?"))
    await bot.settle()
    assert all(bot.server.answered_callback(press) for press in presses)


async def test_member_continues_after_days_and_a_restart(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    member = server.user(7100003, first_name="Member", language_code="zh-hk")
    async with running_bot(server, settings, clock) as bot:
        await choose_language(bot, member, "zh_Hant")
        tr = bot.tr("zh_Hant")
        member.press(label(bot, tr, "main", "menu", "red_notices"))
        await bot.settle()
        member.press(label(bot, tr, "red_notices", "intro", "warrant"))
        await bot.settle()
        where = member.last_message()

    clock.advance(timedelta(days=5))
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr("zh_Hant")
        # The old screen's buttons still work: the place was stored.
        member.press(label(bot, tr, "red_notices", "warrant", "rules"), message_id=where.message_id)
        await bot.settle()
        assert member.last_message().text == node_text(bot, tr, "red_notices", "rules")
        member.send_text("/start")
        await bot.settle()
        resumed = member.last_message().text or ""
        assert resumed.startswith(tr.finish(texts.welcome_back(tr)))
        assert resumed.endswith(node_text(bot, tr, "red_notices", "rules"))


@pytest.mark.parametrize(
    ("data", "outcome"),
    [
        ("forged", "menu"),
        ("000000|c|00000000|0", "menu"),
        ("abc|m|", "menu"),
        ("x" * 64, "menu"),
        ("ffffff|l|fr", "menu"),
        ("ffffff|c|12345678|1", "menu"),
        ("CURRENT|c|SCREEN|42", "menu"),  # the member's own screen, a button it lacks
        ("CURRENT|l|xx", "menu"),
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
    member.press(label(bot, tr, "main", "menu", "red_notices"))
    await bot.settle()
    screen = member.last_message()
    own_token = screen.buttons[0][0][1].split("|")[2]  # type: ignore[union-attr]
    data = data.replace("CURRENT", bot.snapshot.registry.layout).replace("SCREEN", own_token)
    key = bot.services.members.key_for(member.user_id)
    before = await bot.services.members.load(key)
    deletions = len(bot.server.calls("deleteMessages"))
    press = member.press_data(data, screen.message_id)
    await bot.settle()
    assert bot.server.answered_callback(press)
    after = await bot.services.members.load(key)
    assert before is not None
    assert after is not None
    assert after.locale == "zh_Hant", "the language stayed"
    assert len(bot.server.calls("deleteMessages")) == deletions, "nothing was deleted"
    if outcome == "unchanged":
        assert after == before
        assert member.last_message() == screen
        return
    text = member.last_message().text or ""
    assert text.startswith(tr.finish(texts.stale(tr)))
    assert text.endswith(node_text(bot, tr, "main", "menu"))
    assert after.session.position.node == "menu", "only the place changed, to the menu"


async def test_a_double_tap_keeps_the_member_where_the_first_tap_took_them(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7100018, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    menu = member.last_message()
    member.press("Red Notices and Diffusions", message_id=menu.message_id)
    member.press("Red Notices and Diffusions", message_id=menu.message_id)  # queued behind
    await bot.settle()
    assert member.last_message().text == node_text(bot, bot.tr("en"), "red_notices", "intro")
    assert [m.message_id for m in member.visible_messages() if m.buttons] == [menu.message_id]


async def test_only_the_newest_screen_keeps_buttons_and_old_ones_are_stale(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7100005, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    member.press("Red Notices and Diffusions")
    await bot.settle()
    old = member.last_message()
    old_data = old.buttons[1][0][1]  # "Notice or arrest warrant?" on the intro screen
    member.send_text("/start")  # "welcome back" comes as a new message with the buttons
    await bot.settle()
    screens = [m for m in member.visible_messages() if m.buttons]
    assert [m.message_id for m in screens] == [member.last_message().message_id]
    member.press("What is a Diffusion?")
    await bot.settle()
    # Replaying the removed intro button (the same label exists on this screen
    # too) must not act on the Diffusion screen.
    assert old_data is not None
    member.press_data(old_data, old.message_id)
    await bot.settle()
    tr = bot.tr("en")
    assert (member.last_message().text or "").startswith(texts.stale(tr))


async def test_typed_text_is_deleted_from_the_chat(bot: RunningBot) -> None:
    member = bot.server.user(7100006, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    typed = member.send_text("I need help, my name is Canary Person")
    await bot.settle()
    tr = bot.tr("en")
    assert typed not in member.message_ids(), "the typed message is gone"
    text = member.last_message().text or ""
    assert text.startswith(texts.typed_text_deleted(tr))
    assert text.endswith(node_text(bot, tr, "main", "menu"))
    photo = member.send_photo(caption="my passport")
    await bot.settle()
    assert photo not in member.message_ids()


async def test_typing_before_choosing_a_language_is_deleted_too(bot: RunningBot) -> None:
    member = bot.server.user(7100017, first_name="Member", language_code="zh-tw")
    typed = member.send_text("救命")
    await bot.settle()
    assert typed not in member.message_ids()
    assert member.last_message().buttons[0][0][0] == LANGUAGE_NAMES["zh_Hant"]


async def test_language_can_be_changed_mid_flow(bot: RunningBot) -> None:
    member = bot.server.user(7100007, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    member.press("Red Notices and Diffusions")
    await bot.settle()
    member.send_text("/language")
    await bot.settle()
    member.press(LANGUAGE_NAMES["ug"])
    await bot.settle()
    assert member.last_message().text == node_text(bot, bot.tr("ug"), "red_notices", "intro")


async def test_menu_command_and_menu_language_button(bot: RunningBot) -> None:
    member = bot.server.user(7100008, first_name="Member", language_code="zh")
    await choose_language(bot, member, "zh_Hans")
    tr = bot.tr("zh_Hans")
    member.press(label(bot, tr, "main", "menu", "about"))
    await bot.settle()
    member.send_text("/menu")
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "main", "menu")
    member.press(tr.finish(texts.language_label(tr)))
    await bot.settle()
    member.press(LANGUAGE_NAMES["en"])
    await bot.settle()
    assert member.last_message().text == node_text(bot, bot.tr("en"), "main", "menu")


async def test_wipe_deletes_the_chat_and_forgets_the_member(bot: RunningBot) -> None:
    member = bot.server.user(7100009, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    member.press("Red Notices and Diffusions")
    await bot.settle()
    member.send_text("something typed")
    await bot.settle()
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id))

    member.send_text("/wipe")
    await bot.settle()
    tr = bot.tr("en")
    member.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()

    assert member.message_ids() == [], "every message of both sides was deleted"
    assert await bot.services.members.load(bot.services.members.key_for(member.user_id)) is None
    assert (
        await bot.services.database.connection.execute_fetchall("SELECT 1 FROM chat_messages") == []
    )

    member.send_text("/start")
    await bot.settle()
    assert member.last_message().buttons[0][0][0] == LANGUAGE_NAMES["en"]


async def test_wipe_can_be_cancelled_from_the_menu(bot: RunningBot) -> None:
    member = bot.server.user(7100010, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    tr = bot.tr("en")
    member.press(tr.finish(texts.wipe_label(tr)))
    await bot.settle()
    assert member.last_message().text == texts.wipe_question(tr)
    member.press(tr.finish(texts.wipe_cancel_label(tr)))
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "main", "menu")
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
    await bot.settle()
    assert bot.server.calls("sendMessage") == []


async def test_flood_control_is_waited_out(bot: RunningBot) -> None:
    member = bot.server.user(7100013, first_name="Member", language_code="en")
    bot.server.fail_next("sendMessage", retry_after=1)
    member.send_text("/start")
    await bot.server.wait_for(lambda: bool(member.visible_messages()), timeout=10)
    assert len(bot.server.calls("sendMessage")) >= 2, "the first attempt was refused"
    names = [row[0][0] for row in member.last_message().buttons]
    assert LANGUAGE_NAMES["en"] in names


async def test_a_member_who_blocked_the_bot_breaks_nothing(bot: RunningBot) -> None:
    gone = bot.server.user(7100014, first_name="Gone", language_code="en")
    other = bot.server.user(7100015, first_name="Other", language_code="en")
    await choose_language(bot, gone, "en")
    gone.send_text("/menu")
    bot.server.block(gone.user_id)
    await bot.settle()
    await choose_language(bot, other, "en")
    assert other.last_message().text == node_text(bot, bot.tr("en"), "main", "menu")


async def test_a_press_too_old_to_acknowledge_still_gets_its_screen(bot: RunningBot) -> None:
    member = bot.server.user(7100016, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    bot.server.inject_error(
        "answerCallbackQuery",
        error_code=400,
        description="Bad Request: query is too old and response timeout expired "
        "or query ID is invalid",
    )
    member.press("Red Notices and Diffusions")
    await bot.settle()
    assert member.last_message().text == node_text(bot, bot.tr("en"), "red_notices", "intro")
