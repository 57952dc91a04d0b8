"""Screens that state a setting say what the running bot was configured with."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot import texts
from bot.i18n import LANGUAGE_NAMES
from tests.e2e.harness import FakeClock, running_bot, settings_for
from tests.e2e.steps import label, node_text, say, tap
from tests.fakebot import FakeBotApi


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant", "ug"])
async def test_retention_days_come_from_the_setting(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock, locale: str
) -> None:
    settings = replace(settings_for(server, tmp_path / "data"), retention_days=7)
    member = server.user(7300001, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        tr = bot.tr(locale)
        about = label(bot, tr, "main", "menu", "about")
        stored_label = label(bot, tr, "about", "intro", "stored")
        menu_label = tr.finish(texts.menu_label(tr))
        volunteer = label(bot, tr, "main", "menu", "volunteer")
        stored = node_text(bot, tr, "about", "stored")
        consent = node_text(bot, tr, "volunteer", "intro")
        picker = await say(bot, member, "/start", button=LANGUAGE_NAMES[locale])
        menu = await tap(
            bot, member, LANGUAGE_NAMES[locale], message_id=picker.message_id, button=about
        )
        screen = await tap(bot, member, about, message_id=menu.message_id, button=stored_label)
        screen = await tap(bot, member, stored_label, message_id=screen.message_id, text=stored)
        assert screen.message_id == member.last_message().message_id
        screen = await tap(bot, member, menu_label, message_id=screen.message_id, button=volunteer)
        screen = await tap(bot, member, volunteer, message_id=screen.message_id, text=consent)
        assert screen.message_id == member.last_message().message_id
    for shown in (stored, consent):
        assert "7" in shown
        assert "30" not in shown
        assert "{retention_days}" not in shown
