"""Who goes first when the bot has many notices to send: the real Application, over HTTP.

While a new request is being announced to many volunteers (bulk, at
Telegram's pace of about thirty a second), a member detained now files theirs
and another member wipes their chat. The detained member's notices overtake
the ones still queued, and the wipe is carried out at once.
"""

from __future__ import annotations

from datetime import date

from bot import texts
from bot.referral_desk import reference
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import answer_label
from tests.e2e.steps import ask_to_wipe, choose_language, label, tap
from tests.fakebot import ApiCall, FakeUser

VOLUNTEERS = 40
"""Enough that their notices take over a second at the bulk rate."""
VOLUNTEERS_FROM = 8400100


async def _volunteers(bot: RunningBot, first_id: int) -> list[FakeUser]:
    """Registered straight in the database: the invitations are not what is tested here."""
    users = []
    for number in range(VOLUNTEERS):
        user = bot.server.user(first_id + number, first_name=f"V{number}", language_code="en")
        key = bot.services.members.key_for(user.user_id)
        await bot.services.staff.add(
            key,
            role="volunteer",
            label=bot.services.pseudonymizer.label(key),
            locale="en",
            chat_id=user.user_id,
            actor="admin",
            today=date.today(),
        )
        await bot.services.staff.set_languages(key, ["en"])
        users.append(user)
    return users


async def _all_but_the_last_answer(bot: RunningBot, member: FakeUser, urgency: str) -> str:
    """Walk to the last referral question; return the label that files the request."""
    tr = bot.tr("en")
    await choose_language(bot, member, "en")
    node = bot.snapshot.registry.node("volunteer", "intro")
    assert node is not None
    consent = tr.finish(tr.pgettext("volunteer.intro.consent", node.consent_label))  # type: ignore[union-attr]
    answers = [
        answer_label(bot, field, code)
        for field, code in (("t", "travel"), ("u", urgency), ("c", "TR"), ("l", "en"))
    ]
    screen = await tap(bot, member, label(bot, tr, "main", "menu", "volunteer"), button=consent)
    for pressed, shown in zip([consent, *answers[:-1]], answers, strict=True):
        screen = await tap(bot, member, pressed, message_id=screen.message_id, button=shown)
    return answers[-1]


async def _reference_of(bot: RunningBot, member: FakeUser) -> str:
    key = bot.services.members.key_for(member.user_id)
    referral = await bot.services.referrals.active_for_member(key)
    assert referral is not None
    return reference(referral.id)


def _positions(calls: list[ApiCall], method: str, needle: str, field: str) -> list[int]:
    return [
        number
        for number, call in enumerate(calls)
        if call.method == method and needle in str(call.params.get(field, ""))
    ]


async def test_urgent_notices_overtake_queued_ones_and_a_wipe_waits_for_none(
    bot: RunningBot,
) -> None:
    server = bot.server
    tr = bot.tr("en")
    await _volunteers(bot, VOLUNTEERS_FROM)
    general = server.user(8400001, first_name="General", language_code="en")
    detained = server.user(8400002, first_name="Detained", language_code="en")
    wiper = server.user(8400003, first_name="Wiper", language_code="en")
    files_general = await _all_but_the_last_answer(bot, general, "general")
    files_detained = await _all_but_the_last_answer(bot, detained, "detained")
    await choose_language(bot, wiper, "en")
    question = await ask_to_wipe(bot, wiper)
    confirm = tr.finish(texts.wipe_confirm_label(tr))

    def notices_sent() -> int:
        calls = server.calls("sendMessage")
        return sum(1 for call in calls if call.params.get("chat_id", 0) >= VOLUNTEERS_FROM)

    # The general request's notices start going out; then the others act.
    general.press(files_general)
    await server.wait_for(lambda: notices_sent() >= 3, timeout=15)
    detained.press(files_detained)
    wipe = wiper.press(confirm, message_id=question.message_id)
    await server.wait_for(lambda: notices_sent() >= 2 * VOLUNTEERS, timeout=30)
    await server.wait_for_answer(wipe)

    calls = server.calls()
    general_notices = _positions(calls, "sendMessage", await _reference_of(bot, general), "text")
    detained_notices = _positions(calls, "sendMessage", await _reference_of(bot, detained), "text")
    wiped = _positions(calls, "answerCallbackQuery", wipe, "callback_query_id")
    assert len(general_notices) == len(detained_notices) == VOLUNTEERS
    assert max(detained_notices) < max(general_notices), "urgent notices went first"
    assert wiped[0] < max(general_notices), "the wipe did not wait behind bulk sends"
    assert wiper.message_ids() == []
