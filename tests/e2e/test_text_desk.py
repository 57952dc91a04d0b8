"""The coordinators' text desk end to end: download, edit, upload, preview, publish, roll back."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.desk import texts
from bot.i18n import LANGUAGE_NAMES
from flows.model import text_context
from tests.e2e.content_steps import at_menu, screen_text
from tests.e2e.desk_steps import (
    document_bytes,
    download,
    has_document,
    make_coordinator,
    open_desk,
    press,
    upload,
)
from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.e2e.steps import label, tap
from tests.fakebot import BotMessage, FakeBotApi


def fill_in(po: str, context: str, translation: str) -> str:
    """A translator's work on a catalog: one entry translated, its fuzzy flag cleared."""
    catalog = read_po(io.StringIO(po))
    for message in catalog:
        if message.context == context:
            message.string = translation
            message.flags.discard("fuzzy")
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    return buffer.getvalue().decode()


OLD = "It is recorded in Interpol's files."
NEW = "It is also recorded in Interpol's files."


def _plain(text: str | None) -> str:
    """Without the isolates right-to-left text puts around Latin fragments."""
    return (text or "").replace("\u2068", "").replace("\u2069", "")


def _containing(part: str) -> Callable[[BotMessage], bool]:
    return lambda message: _plain(part) in _plain(message.text)


async def test_the_whole_loop_reaches_members_on_their_next_press(bot: RunningBot) -> None:
    coordinator = bot.server.user(7400001, first_name="Coord", language_code="en")
    colleague = bot.server.user(7400002, first_name="Colleague", language_code="ug")
    await make_coordinator(bot, coordinator)
    await make_coordinator(bot, colleague, "ug")
    await open_desk(bot, colleague, "ug")  # the colleague has a chat with the bot
    member = bot.server.user(7400003, first_name="Member", language_code="en")
    uyghur = bot.server.user(7400004, first_name="Uyghur", language_code="ug")
    en = bot.tr("en")
    menu = await at_menu(bot, member, "en")
    intro = await tap(
        bot,
        member,
        label(bot, en, "main", "menu", "red_notices"),
        message_id=menu.message_id,
        text=screen_text(bot, "en", "red_notices", "intro"),
    )
    ug = bot.tr("ug")
    diffusions_node = bot.snapshot.registry.node("red_notices", "diffusions")
    assert diffusions_node is not None
    old_uyghur = ug.pgettext(text_context("red_notices", "diffusions"), diffusions_node.text)
    ug_menu = await at_menu(bot, uyghur, "ug")
    ug_intro = await tap(
        bot,
        uyghur,
        label(bot, ug, "main", "menu", "red_notices"),
        message_id=ug_menu.message_id,
        text=screen_text(bot, "ug", "red_notices", "intro"),
    )

    files = await download(bot, coordinator)
    assert {"ug.po", "zh_Hans.po", "zh_Hant.po", "messages.pot", "red_notices.yaml"} <= set(files)
    assert b"X-Yardem-Version: 0" in files["ug.po"]

    # An English-only fix: the translations of that text become pending.
    edited = files["red_notices.yaml"].decode().replace(OLD, NEW, 1)
    answer = await upload(bot, coordinator, "red_notices.yaml", edited.encode())
    assert texts.added(en, "red_notices.yaml") in (answer.text or "")
    assert texts.texts_changed(en, "en", 1) in (answer.text or "")
    assert texts.layout_kept(en) in (answer.text or "")
    assert bot.snapshot.number == 0, "an upload changes nothing live"

    # Preview in Uyghur: the draft's English with the pending marker, marked as a preview.
    desk = await open_desk(bot, coordinator)
    chooser = await press(
        bot,
        coordinator,
        en.finish(texts.preview_label(en)),
        desk.message_id,
        _containing(texts.preview_which(en)),
    )
    shown = await press(
        bot,
        coordinator,
        LANGUAGE_NAMES["ug"],
        chooser.message_id,
        _containing(en.finish(texts.preview_mark(en, LANGUAGE_NAMES["ug"]))),
    )
    step = await press(
        bot,
        coordinator,
        label(bot, ug, "main", "menu", "red_notices"),
        shown.message_id,
        _containing(screen_text(bot, "ug", "red_notices", "intro")),
    )
    diffusions = await press(
        bot,
        coordinator,
        label(bot, ug, "red_notices", "intro", "diffusions"),
        step.message_id,
        _containing(NEW),
    )
    assert ug.pending_marker() in _plain(diffusions.text)
    assert _plain(texts.preview_mark(en, LANGUAGE_NAMES["ug"])) in _plain(diffusions.text)
    key = bot.services.members.key_for(coordinator.user_id)
    assert await bot.services.members.load(key) is None, "a preview is not a member's walk"

    # Publish, with the summary repeated in the confirmation.
    desk = await open_desk(bot, coordinator)
    confirm = await press(
        bot,
        coordinator,
        en.finish(texts.publish_label(en)),
        desk.message_id,
        _containing(texts.publish_ask(en, 1)),
    )
    assert texts.texts_changed(en, "en", 1) in (confirm.text or "")
    mark = bot.server.mark()
    await press(
        bot,
        coordinator,
        en.finish(texts.publish_now_label(en)),
        confirm.message_id,
        _containing(texts.published(en, 1)),
    )
    assert bot.snapshot.number == 1
    told = await colleague.wait_for_message(
        containing=bot.tr("ug").finish(texts.went_live(bot.tr("ug"), 1, "")).split(",")[0][:10],
        after=mark,
    )
    assert told is not None
    pending = await colleague.wait_for_message(predicate=has_document, after=mark)
    po = document_bytes(bot, pending).decode()
    assert text_context("red_notices", "diffusions") in po
    assert "X-Yardem-Partial: yes" in po

    # The members' next press shows the new text: English, and English + marker in ug.
    await tap(
        bot,
        member,
        label(bot, bot.tr("en"), "red_notices", "intro", "diffusions"),
        message_id=intro.message_id,
        containing=NEW,
    )
    seen = await tap(
        bot,
        uyghur,
        label(bot, bot.tr("ug"), "red_notices", "intro", "diffusions"),
        message_id=ug_intro.message_id,
        predicate=_containing(NEW),
    )
    assert _plain(bot.tr("ug").pending_marker()) in _plain(seen.text)

    # The translator fills in the pending file and sends it back: the marker goes.
    translated = fill_in(po, text_context("red_notices", "diffusions"), old_uyghur)
    answer = await upload(bot, colleague, "pending-ug-v1.po", translated.encode())
    ug = bot.tr("ug")
    assert _plain(ug.finish(texts.added(ug, "pending-ug-v1.po"))) in _plain(answer.text)
    assert _plain(ug.finish(texts.resolved(ug, "ug", 1))) in _plain(answer.text)


async def test_rollback_and_a_restart_keep_the_published_version(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    coordinator = server.user(7400011, first_name="Coord", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        en = bot.tr("en")
        await make_coordinator(bot, coordinator)
        files = await download(bot, coordinator)
        edited = files["red_notices.yaml"].decode().replace(OLD, NEW, 1)
        await upload(bot, coordinator, "red_notices.yaml", edited.encode())
        desk = await open_desk(bot, coordinator)
        confirm = await press(
            bot,
            coordinator,
            en.finish(texts.publish_label(en)),
            desk.message_id,
            _containing(texts.publish_ask(en, 1)),
        )
        await press(
            bot,
            coordinator,
            en.finish(texts.publish_now_label(en)),
            confirm.message_id,
            _containing(texts.published(en, 1)),
        )
        desk = await open_desk(bot, coordinator)
        listed = await press(
            bot,
            coordinator,
            en.finish(texts.history_label(en)),
            desk.message_id,
            _containing(texts.history_header(en)),
        )
        assert texts.history_line(en, 1, bot.clock().date().isoformat(), "")[:10] in (
            listed.text or ""
        )
        ask = await press(
            bot,
            coordinator,
            en.finish(texts.rollback_label(en, 0)),
            listed.message_id,
            _containing(texts.rollback_ask(en, 0, 2)),
        )
        await press(
            bot,
            coordinator,
            en.finish(texts.rollback_now_label(en)),
            ask.message_id,
            _containing(texts.published(en, 2)),
        )
        assert bot.snapshot.number == 2
        assert OLD in screen_text(bot, "en", "red_notices", "diffusions")
    async with running_bot(server, settings, clock) as bot:
        assert bot.snapshot.number == 2
        assert NEW not in screen_text(bot, "en", "red_notices", "diffusions")
