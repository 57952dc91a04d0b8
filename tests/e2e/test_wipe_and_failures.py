"""What /wipe leaves behind, and what a member sees when something fails."""

from __future__ import annotations

from datetime import timedelta

from bot import texts
from bot.i18n import LANGUAGE_NAMES
from bot.member_handlers import _delete_later
from bot.telegram_io import BLANK
from tests.e2e.harness import RunningBot
from tests.e2e.steps import ask_to_wipe, choose_language, menu_text, node_text, say, tap, wipe


async def test_the_wipe_result_is_a_pop_up_that_leaves_nothing(bot: RunningBot) -> None:
    member = bot.server.user(7200001, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    press = await wipe(bot, member)
    assert member.message_ids() == []
    answer = bot.server.callback_answer(press)
    assert answer is not None
    assert answer.get("show_alert") is True
    assert answer.get("text") == texts.wipe_done(bot.tr("en"))


async def test_when_the_pop_up_fails_the_message_removes_itself(bot: RunningBot) -> None:
    member = bot.server.user(7200006, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    question = await ask_to_wipe(bot, member)
    bot.server.inject_error(
        "answerCallbackQuery", error_code=400, description="Bad Request: query is too old"
    )
    tr = bot.tr("en")
    mark = bot.server.mark()
    member.press(tr.finish(texts.wipe_confirm_label(tr)), message_id=question.message_id)
    await member.wait_for_message(text=texts.wipe_done(tr), after=mark)
    assert [m.text for m in member.visible_messages()] == [texts.wipe_done(tr)]

    def jobs() -> list[object]:
        return [
            job
            for job in bot.application.job_queue.jobs()  # type: ignore[union-attr]
            if job.callback is _delete_later
        ]

    # The job is scheduled once the message is sent.
    await bot.server.wait_for(lambda: bool(jobs()), what="the message's removal scheduled")
    [job] = jobs()
    await job.run(bot.application)  # type: ignore[attr-defined]
    assert member.message_ids() == []


async def test_wipe_erases_the_data_and_says_so_when_telegram_fails_to_delete(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7200002, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    key = bot.services.members.key_for(member.user_id)
    bot.server.inject_error("deleteMessages", error_code=502, description="Bad Gateway", times=5)
    press = await wipe(bot, member)
    assert await bot.services.members.load(key) is None
    rows = await bot.services.database.connection.execute_fetchall("SELECT 1 FROM chat_messages")
    assert list(rows) == []
    answer = bot.server.callback_answer(press)
    assert answer is not None
    assert answer.get("text") == texts.wipe_partly_done(bot.tr("en")), "no false 'Done'"


async def test_screens_too_old_to_delete_are_blanked_and_new_ones_are_not_edited(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7200003, first_name="Member", language_code="en")
    first_menu = (await choose_language(bot, member, "en")).message_id
    bot.clock.advance(timedelta(hours=60))
    bot.server.advance_clock(60 * 3600)
    tr = bot.tr("en")
    intro = await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        text=node_text(bot, tr, "red_notices", "intro"),
    )
    assert intro.message_id != first_menu, "a 60-hour-old screen is not redrawn"
    await tap(bot, member, tr.finish(texts.menu_label(tr)), text=menu_text(bot))
    question = await tap(bot, member, tr.finish(texts.wipe_label(tr)), text=texts.wipe_question(tr))
    query = member.press(tr.finish(texts.wipe_confirm_label(tr)), message_id=question.message_id)
    await bot.server.wait_for_answer(query)  # answered once the chat is wiped
    leftovers = member.visible_messages()
    assert all(not message.buttons for message in leftovers), "no live buttons remain"
    assert [m.message_id for m in leftovers if m.message_id > first_menu] == []
    # Only what was sent 60 hours ago remains (Telegram forbids deleting it, and
    # the bot no longer knows those ids); none of it mentions wiping.
    assert all(m.message_id <= first_menu for m in leftovers)
    assert texts.wipe_question(tr) not in [m.text for m in leftovers]


async def test_a_wipe_question_too_old_to_delete_is_blanked(bot: RunningBot) -> None:
    member = bot.server.user(7200007, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    question = await ask_to_wipe(bot, member)
    bot.clock.advance(timedelta(hours=60))
    bot.server.advance_clock(60 * 3600)
    tr = bot.tr("en")
    query = member.press(tr.finish(texts.wipe_confirm_label(tr)), message_id=question.message_id)
    await bot.server.wait_for_answer(query)  # answered once the chat is wiped
    left = {m.message_id: m for m in member.visible_messages()}
    assert left[question.message_id].text == BLANK
    assert left[question.message_id].buttons == []


async def test_an_unreadable_state_does_not_lock_the_member_out(bot: RunningBot) -> None:
    member = bot.server.user(7200004, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    key = bot.services.members.key_for(member.user_id)
    connection = bot.services.database.connection
    await connection.execute("UPDATE members SET state = ? WHERE member_key = ?", (b"junk", key))
    await connection.commit()
    picker = await say(bot, member, "/start", button=LANGUAGE_NAMES["en"])
    assert picker.buttons[0][0][0] == LANGUAGE_NAMES["en"], "starts afresh"
    await tap(bot, member, LANGUAGE_NAMES["en"], message_id=picker.message_id, text=menu_text(bot))


async def test_an_error_still_answers_and_the_apology_can_be_wiped(bot: RunningBot) -> None:
    member = bot.server.user(7200005, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    bot.server.inject_error(
        "sendMessage", error_code=400, description="Bad Request: can't parse entities"
    )
    tr = bot.tr("en")
    apology = await say(bot, member, "/start", containing=texts.something_went_wrong(tr))
    assert (apology.text or "").startswith(texts.something_went_wrong(tr))
    await tap(
        bot,
        member,
        "Red Notices and Diffusions",
        message_id=apology.message_id,
        text=node_text(bot, tr, "red_notices", "intro"),
    )
    await wipe(bot, member)
    assert member.message_ids() == []
