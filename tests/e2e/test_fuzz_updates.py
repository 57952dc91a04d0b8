"""Random and forged updates thrown at the running bot (hypothesis).

Whatever arrives, no handler fails, every button press is answered, group
chats get nothing, and each member's chat keeps at most one live keyboard.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import RunningBot
from tests.fakebot import FakeUser

MEMBERS = (7300001, 7300002, 7300003)
VERBS = ("c", "b", "m", "r", "L", "l", "w", "W", "x", "")
hex_text = st.text("0123456789abcdef", min_size=0, max_size=9)


@st.composite
def forged_data(draw: st.DrawFn) -> str:
    layout = draw(st.one_of(st.just("CURRENT"), hex_text))
    verb = draw(st.sampled_from(VERBS))
    args = draw(
        st.lists(
            st.one_of(
                hex_text, st.integers(-5, 150).map(str), st.sampled_from(list(LANGUAGE_NAMES))
            ),
            max_size=3,
        )
    )
    return "|".join([layout, verb, *args])[:64]


actions = st.one_of(
    st.tuples(st.just("text"), st.text(max_size=60)),
    st.tuples(
        st.just("command"),
        st.sampled_from(["/start", "/menu", "/language", "/wipe", "/help", "/start extra"]),
    ),
    st.tuples(st.just("press_real"), st.integers(0, 12)),
    st.tuples(st.just("press_forged"), forged_data()),
    st.tuples(st.just("press_garbage"), st.text(max_size=64)),
    st.just(("photo", None)),
    st.just(("group", None)),
    st.tuples(st.just("press_old"), st.integers(0, 50)),
    st.tuples(st.just("burst"), st.integers(9, 14)),
    st.tuples(st.just("fail"), st.sampled_from(["sendMessage", "editMessageText"])),
)
steps = st.lists(st.tuples(st.sampled_from(MEMBERS), actions), min_size=1, max_size=8)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


TYPED: dict[int, list[int]] = {}
"""Ids of story messages members typed; none may stay in the chat."""
SEEN: dict[int, list[tuple[str, int]]] = {}
"""Every (callback data, message id) a member was ever shown, for replaying old presses."""


def _note_keyboards(member: FakeUser) -> None:
    seen = SEEN.setdefault(member.user_id, [])
    for message in member.visible_messages():
        for row in message.buttons:
            for _, data in row:
                if data and (data, message.message_id) not in seen:
                    seen.append((data, message.message_id))


def _act(bot: RunningBot, member: FakeUser, action: tuple[str, Any]) -> str | None:
    kind, value = action
    _note_keyboards(member)
    if kind == "press_old":
        seen = SEEN.get(member.user_id)
        if not seen:
            return None
        data, message_id = seen[value % len(seen)]
        return member.press_data(data, message_id)
    if kind == "burst":
        TYPED.setdefault(member.user_id, []).extend(
            member.send_text(f"part {number} of my story") for number in range(value)
        )
        return None
    if kind == "fail":
        bot.server.inject_error(value, error_code=500, description="Internal Server Error")
        return None
    if kind == "text":
        member.send_text(value or ".")
    elif kind == "command":
        member.send_text(value)
    elif kind == "photo":
        member.send_photo()
    elif kind == "group":
        bot.server.push_raw_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1_790_000_000,
                    "chat": {"id": -1001234, "type": "supergroup", "title": "g"},
                    "from": {"id": member.user_id, "is_bot": False, "first_name": "M"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
    else:
        screens = [m for m in member.visible_messages() if m.buttons]
        target = screens[-1].message_id if screens else 1
        if kind == "press_real":
            if not screens:
                return None  # nothing on screen to press yet
            buttons = [b for row in screens[-1].buttons for b in row]
            return member.press(buttons[value % len(buttons)][0], message_id=target)
        data = (
            value
            if kind == "press_garbage"
            else value.replace("CURRENT", bot.snapshot.registry.layout)
        )
        return member.press_data(data or "-", target)
    return None


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
async def test_random_and_forged_updates_never_break_the_bot(
    bot: RunningBot, script: list[tuple[int, tuple[str, Any]]]
) -> None:
    TYPED.clear()
    errors = ErrorLog()
    logging.getLogger("bot").addHandler(errors)
    try:
        members = {
            user_id: bot.server.user(user_id, first_name="Fuzz", language_code="ug")
            for user_id, _ in script
        }
        presses = [_act(bot, members[user_id], action) for user_id, action in script]
        for press in presses:
            if press:
                await bot.server.wait_for_answer(press, timeout=60)  # every press is answered

        def at_rest() -> bool:
            return all(
                _live_keyboards(member) <= 1 and not _typed_left(member)
                for member in members.values()
            )

        # Wait for the invariants below, then show they last: nothing more happens.
        await bot.server.wait_for(
            at_rest, timeout=60, what="typed stories deleted, one live keyboard a chat"
        )
        await bot.settle()
    finally:
        logging.getLogger("bot").removeHandler(errors)
    # Injected failures are Telegram's (logged as warnings); no handler may fail on its own.
    assert errors.records == []
    group_sends = [c for c in bot.server.calls("sendMessage") if c.params.get("chat_id", 0) < 0]
    assert group_sends == []
    for member in members.values():
        assert _live_keyboards(member) <= 1, "only the newest screen has buttons"
        assert _typed_left(member) == set(), "typed stories were deleted"


def _live_keyboards(member: FakeUser) -> int:
    return len([m for m in member.visible_messages() if m.buttons])


def _typed_left(member: FakeUser) -> set[int]:
    return set(TYPED.get(member.user_id, [])) & set(member.message_ids())
