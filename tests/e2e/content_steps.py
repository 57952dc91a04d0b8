"""Steps for live-content tests: publish as the desk or the CLI would, and read members' screens."""

from __future__ import annotations

from datetime import date

from bot.publishing import Published, publish
from flows.model import text_context
from flows.registry import RegistrySources
from tests.e2e.harness import RunningBot
from tests.e2e.steps import choose_language
from tests.fakebot import BotMessage, FakeUser


def live_sources(bot: RunningBot) -> RegistrySources:
    sources = bot.snapshot.sources
    assert sources is not None
    return sources


async def publish_set(bot: RunningBot, sources: RegistrySources) -> Published:
    """Publish through the function the desk and the CLI call (not through Telegram)."""
    today: date = bot.clock().date()
    return await publish(bot.services.content, sources, publisher="c0ffee00", today=today)


def screen_text(bot: RunningBot, locale: str, flow: str, node: str) -> str:
    """What the live set shows a member of ``locale`` on a screen, marker included."""
    tr = bot.tr(locale)
    found = bot.snapshot.registry.node(flow, node)
    assert found is not None
    text = tr.pgettext(text_context(flow, node), found.text)
    if tr.pending(text_context(flow, node), found.text):
        text = tr.with_pending_marker(text)
    return tr.finish(text)


async def at_menu(bot: RunningBot, member: FakeUser, locale: str) -> BotMessage:
    """/start, pick ``locale``; returns the main menu once the member's choice is stored."""
    return await choose_language(bot, member, locale)
