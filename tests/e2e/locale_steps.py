"""Steps for adding a language: a Turkish catalog made from the English, and /locales."""

from __future__ import annotations

import io

from babel.messages.pofile import read_po, write_po

from bot import locale_texts
from flows.bundle import read_upload
from flows.registry import RegistrySources
from tests.e2e.content_steps import live_sources, publish_set
from tests.e2e.harness import RunningBot
from tests.e2e.referral_steps import staff_press
from tests.e2e.steps import say
from tests.fakebot import FakeUser

TURKISH = "Türkçe"
MARK = "[tr] "
"""Put before the main menu's Turkish text, so a test can tell a Turkish screen from English."""
MENU_CONTEXT = "main.menu"


def turkish_po(bot: RunningBot, *, untranslated: int = 0) -> bytes:
    """A ``tr`` catalog of the live set: every entry the English (the main menu marked),
    the first ``untranslated`` flow texts left empty. Made here, never shipped."""
    sources = live_sources(bot)
    assert sources.template is not None
    catalog = read_po(io.StringIO(sources.template), locale="tr")
    left = untranslated
    for message in catalog:
        if not message.id:
            continue
        if left and message.context is not None:
            left -= 1
            continue
        if isinstance(message.id, tuple | list):
            message.string = tuple(message.id)
        else:
            marked = MARK if message.context == MENU_CONTEXT else ""
            message.string = marked + message.id
        message.flags.discard("fuzzy")
    catalog.language_team = "Turkish"
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    return out.getvalue()


async def publish_turkish(bot: RunningBot, *, untranslated: int = 0) -> RegistrySources:
    """Upload ``tr.po`` as the desk reads it, and publish the draft it makes."""
    upload = read_upload(
        "tr.po",
        turkish_po(bot, untranslated=untranslated),
        known_locales=bot.snapshot.registry.locales,
    )
    assert set(upload.po_files) == {"tr"}
    sources = upload.apply_to(live_sources(bot))
    await publish_set(bot, sources)
    return sources


def switch_on_label(bot: RunningBot) -> str:
    return locale_texts.switch_on_label(bot.tr("en"), TURKISH)


def switch_off_label(bot: RunningBot) -> str:
    return locale_texts.switch_off_label(bot.tr("en"), TURKISH)


async def switch(bot: RunningBot, coordinator: FakeUser, *, on: bool) -> None:
    """/locales, the switch button, then Yes: waits for the bot to say it is done."""
    tr = bot.tr("en")
    label = switch_on_label(bot) if on else switch_off_label(bot)
    listing = await say(bot, coordinator, "/locales", button=label)
    mark = bot.server.mark()
    await staff_press(bot, coordinator, label, message_id=listing.message_id)
    confirm = await coordinator.wait_for_button(locale_texts.confirm_label(tr), after=mark)
    done = locale_texts.now_on(tr, TURKISH) if on else locale_texts.now_off(tr, TURKISH)
    mark = bot.server.mark()
    await staff_press(
        bot, coordinator, locale_texts.confirm_label(tr), message_id=confirm.message_id
    )
    await coordinator.wait_for_message(text=tr.finish(done), after=mark)
