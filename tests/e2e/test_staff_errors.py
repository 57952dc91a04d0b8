"""When a volunteer's or coordinator's update fails, they are answered as staff.

Before the actor was resolved once per update, the error handler apologised
as if to a member: a coordinator got the member menu, and a ``members`` row
was written for the staff account.
"""

from __future__ import annotations

from datetime import date

from bot import admin, staff_texts, texts
from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import RunningBot
from tests.e2e.steps import say

FAIL_STAFF_WRITES = (
    "CREATE TRIGGER fail_staff_writes BEFORE UPDATE ON staff "
    "BEGIN SELECT RAISE(ABORT, 'storage failure injected by the test'); END"
)


async def test_a_failed_staff_button_is_answered_in_the_staff_language_and_stores_nothing(
    bot: RunningBot,
) -> None:
    coordinator = bot.server.user(8900001, first_name="Coord", language_code="en")
    await admin.add_coordinator(bot.services.settings, coordinator.user_id, "zh_Hans", date.today())
    picker = await say(bot, coordinator, "/languages", button=LANGUAGE_NAMES["ug"])
    connection = bot.services.database.connection
    await connection.execute(FAIL_STAFF_WRITES)
    await connection.commit()

    # A coordinator's language changes at once: an UPDATE of their staff row, which fails.
    query = coordinator.press(LANGUAGE_NAMES["ug"], message_id=picker.message_id)
    answer = await bot.server.wait_for_answer(query)

    tr = bot.tr("zh_Hans")
    assert answer.get("show_alert")
    assert answer.get("text") == tr.finish(staff_texts.went_wrong(tr))
    await bot.settle()  # nothing more comes: no member menu, no apology in the chat
    member_apology = texts.something_went_wrong(tr)
    english_apology = texts.something_went_wrong(bot.tr("en"))
    for message in coordinator.visible_messages():
        assert member_apology not in (message.text or "")
        assert english_apology not in (message.text or "")
    key = bot.services.members.key_for(coordinator.user_id)
    rows = await connection.execute_fetchall("SELECT 1 FROM members WHERE member_key = ?", (key,))
    assert list(rows) == [], "a staff account's error must not make it a member"


async def test_a_failed_staff_command_is_answered_in_the_chat_as_staff(bot: RunningBot) -> None:
    coordinator = bot.server.user(8900002, first_name="Coord", language_code="en")
    await admin.add_coordinator(bot.services.settings, coordinator.user_id, "ug", date.today())
    connection = bot.services.database.connection
    await connection.execute(
        "CREATE TRIGGER fail_invites BEFORE INSERT ON invites "
        "BEGIN SELECT RAISE(ABORT, 'storage failure injected by the test'); END"
    )
    await connection.commit()
    tr = bot.tr("ug")
    apology = tr.finish(staff_texts.went_wrong(tr))
    await say(bot, coordinator, "/invite volunteer", containing=apology)
    await bot.settle()
    for message in coordinator.visible_messages():
        assert texts.something_went_wrong(tr) not in (message.text or "")
        assert not message.buttons, "no member menu"
    key = bot.services.members.key_for(coordinator.user_id)
    rows = await connection.execute_fetchall("SELECT 1 FROM members WHERE member_key = ?", (key,))
    assert list(rows) == []
