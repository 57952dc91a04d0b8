"""Screens that state a setting say what the running bot was configured with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import texts
from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.test_member_journeys import label, node_text
from tests.fakebot import FakeBotApi, FakeUser


def _has_button(user: FakeUser, text: str) -> bool:
    return any(text in message.button_texts for message in user.visible_messages())


async def _press(bot: RunningBot, user: FakeUser, text: str) -> None:
    await bot.server.wait_for(lambda: _has_button(user, text), timeout=15)
    user.press(text)


async def _see(bot: RunningBot, user: FakeUser, text: str) -> str:
    await bot.server.wait_for(lambda: user.last_message().text == text, timeout=15)
    return text


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant", "ug"])
async def test_retention_days_come_from_the_setting(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock, locale: str
) -> None:
    settings = replace(settings_for(server, tmp_path / "data"), retention_days=7)
    member = server.user(7300001, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr(locale)
        member.send_text("/start")
        await _press(bot, member, LANGUAGE_NAMES[locale])
        await _press(bot, member, label(bot, tr, "main", "menu", "about"))
        await _press(bot, member, label(bot, tr, "about", "intro", "stored"))
        stored = await _see(bot, member, node_text(bot, tr, "about", "stored"))
        await _press(bot, member, tr.finish(texts.menu_label(tr)))
        await _press(bot, member, label(bot, tr, "main", "menu", "volunteer"))
        consent = await _see(bot, member, node_text(bot, tr, "volunteer", "intro"))
    for shown in (stored, consent):
        assert "7" in shown
        assert "30" not in shown
        assert "{retention_days}" not in shown
