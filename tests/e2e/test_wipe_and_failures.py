"""What /wipe leaves behind, and what a member sees when something fails."""

from __future__ import annotations

from datetime import timedelta

from bot import texts
from bot.i18n import LANGUAGE_NAMES
from bot.member_handlers import _delete_later
from tests.e2e.harness import RunningBot
from tests.e2e.test_member_journeys import choose_language, node_text


async def _wipe(bot: RunningBot, member_id: int) -> None:
    member = bot.server.user(member_id, first_name="Member", language_code="en")
    member.send_text("/wipe")
    await bot.settle()
    tr = bot.tr("en")
    member.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()


async def test_the_wipe_confirmation_removes_itself(bot: RunningBot) -> None:
    member = bot.server.user(7200001, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    await _wipe(bot, member.user_id)
    assert len(member.message_ids()) == 1
    jobs = [job for job in bot.application.job_queue.jobs() if job.callback is _delete_later]  # type: ignore[union-attr]
    assert len(jobs) == 1
    assert jobs[0].next_t is not None
    await jobs[0].run(bot.application)
    await bot.settle()
    assert member.message_ids() == []


async def test_wipe_erases_the_data_even_when_telegram_fails_to_delete(bot: RunningBot) -> None:
    member = bot.server.user(7200002, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    key = bot.services.members.key_for(member.user_id)
    bot.server.inject_error("deleteMessages", error_code=502, description="Bad Gateway", times=5)
    await _wipe(bot, member.user_id)
    assert await bot.services.members.load(key) is None
    rows = await bot.services.database.connection.execute_fetchall("SELECT 1 FROM chat_messages")
    assert list(rows) == []
    assert (member.last_message().text or "").startswith("Done.")


async def test_old_screens_are_not_edited_so_wipe_can_delete_what_is_shown(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7200003, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    first_menu = member.last_message().message_id
    bot.clock.advance(timedelta(hours=60))
    bot.server.advance_clock(60 * 3600)
    member.press("Red Notices and Diffusions")
    await bot.settle()
    assert member.last_message().message_id != first_menu, "a 60-hour-old screen is not redrawn"
    tr = bot.tr("en")
    member.press(tr.finish(texts.menu_label(tr)))
    await bot.settle()
    member.press(tr.finish(texts.wipe_label(tr)))
    await bot.settle()
    member.press(tr.finish(texts.wipe_confirm_label(tr)))
    await bot.settle()
    leftovers = member.visible_messages()
    assert all(not message.buttons for message in leftovers), "no live buttons remain"
    recent = [m for m in leftovers if m.message_id > first_menu]
    assert [m.text for m in recent] == [tr.finish(texts.wipe_done(tr))]


async def test_an_unreadable_state_does_not_lock_the_member_out(bot: RunningBot) -> None:
    member = bot.server.user(7200004, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    key = bot.services.members.key_for(member.user_id)
    connection = bot.services.database.connection
    await connection.execute("UPDATE members SET state = ? WHERE member_key = ?", (b"junk", key))
    await connection.commit()
    member.send_text("/start")
    await bot.settle()
    assert member.last_message().buttons[0][0][0] == LANGUAGE_NAMES["en"], "starts afresh"
    member.press(LANGUAGE_NAMES["en"])
    await bot.settle()
    assert member.last_message().text == node_text(bot, bot.tr("en"), "main", "menu")


async def test_an_error_still_answers_and_the_apology_can_be_wiped(bot: RunningBot) -> None:
    member = bot.server.user(7200005, first_name="Member", language_code="en")
    await choose_language(bot, member, "en")
    bot.server.inject_error(
        "sendMessage", error_code=400, description="Bad Request: can't parse entities"
    )
    member.send_text("/start")
    await bot.settle()
    tr = bot.tr("en")
    apology = member.last_message()
    assert (apology.text or "").startswith(texts.something_went_wrong(tr))
    member.press("Red Notices and Diffusions", message_id=apology.message_id)
    await bot.settle()
    assert member.last_message().text == node_text(bot, tr, "red_notices", "intro")
    await _wipe(bot, member.user_id)
    assert len(member.message_ids()) == 1
