"""Published content reaching members over the real Application and HTTP, without a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot import texts
from bot.content import POLL_SECONDS
from bot.publishing import publish
from bot.services import open_content, open_storage
from flows.inspect import IssueCode
from flows.model import text_context
from flows.registry import RegistrySources
from tests.e2e.content_steps import at_menu, live_sources, publish_set, screen_text
from tests.e2e.harness import FakeClock, RunningBot, capture_logs, running_bot, settings_for
from tests.e2e.steps import label, tap
from tests.fakebot import FakeBotApi, FakeUser
from tests.fakebot.waiting import DEFAULT_TIMEOUT
from tests.unit.content_edits import edit_entry, edit_flow, swap_options

OLD = "It is recorded in Interpol's files."
NEW = "It is also recorded in Interpol's files."


def english_fix(bot: RunningBot, *, fuzzy_in: tuple[str, ...] = ()) -> RegistrySources:
    """The Diffusion screen's English corrected; in ``fuzzy_in`` the old translation is
    carried onto the new English and flagged, as ``pybabel update`` leaves it."""
    sources = edit_flow(live_sources(bot), "red_notices.yaml", OLD, NEW)
    node = bot.snapshot.registry.node("red_notices", "diffusions")
    assert node is not None
    for locale in fuzzy_in:
        sources = edit_entry(
            sources,
            locale,
            text_context("red_notices", "diffusions"),
            msgid=node.text.replace(OLD, NEW),
            fuzzy=True,
        )
    return sources


async def _to_diffusions(bot: RunningBot, member: FakeUser, menu_id: int) -> None:
    """From the main menu to "What is a Diffusion?", each screen as the live set draws it."""
    en = bot.tr("en")
    intro = await tap(
        bot,
        member,
        label(bot, en, "main", "menu", "red_notices"),
        message_id=menu_id,
        text=screen_text(bot, "en", "red_notices", "intro"),
    )
    await tap(
        bot,
        member,
        label(bot, en, "red_notices", "intro", "diffusions"),
        message_id=intro.message_id,
        text=screen_text(bot, "en", "red_notices", "diffusions"),
    )


async def test_a_member_mid_flow_sees_the_new_text_on_the_next_press(bot: RunningBot) -> None:
    member = bot.server.user(7300001, first_name="Member", language_code="en")
    en = bot.tr("en")
    menu = await at_menu(bot, member, "en")
    intro = await tap(
        bot,
        member,
        label(bot, en, "main", "menu", "red_notices"),
        message_id=menu.message_id,
        text=screen_text(bot, "en", "red_notices", "intro"),
    )
    drawn_before = member.last_message().message_id
    assert intro.message_id == drawn_before
    old_diffusion = screen_text(bot, "en", "red_notices", "diffusions")

    published = await publish_set(bot, english_fix(bot))
    assert published.summary.layout_changed is False
    assert bot.snapshot.number == 1

    # The button was drawn by version 0; a text-only change leaves it working.
    new_diffusion = screen_text(bot, "en", "red_notices", "diffusions")
    assert new_diffusion != old_diffusion
    assert NEW in new_diffusion
    await tap(
        bot,
        member,
        label(bot, bot.tr("en"), "red_notices", "intro", "diffusions"),
        message_id=intro.message_id,
        text=new_diffusion,
    )
    assert member.last_message().message_id == drawn_before, "edited in place, not stale"


async def test_an_english_only_fix_shows_english_and_the_pending_marker_in_ug(
    bot: RunningBot,
) -> None:
    member = bot.server.user(7300002, first_name="Member", language_code=None)
    menu = await at_menu(bot, member, "ug")
    ug = bot.tr("ug")
    old_uyghur = ug.pgettext(
        text_context("red_notices", "diffusions"),
        bot.snapshot.registry.node("red_notices", "diffusions").text,  # type: ignore[union-attr]
    )
    intro = await tap(
        bot,
        member,
        label(bot, ug, "main", "menu", "red_notices"),
        message_id=menu.message_id,
        text=screen_text(bot, "ug", "red_notices", "intro"),
    )

    published = await publish_set(bot, english_fix(bot, fuzzy_in=("ug", "zh_Hans", "zh_Hant")))
    assert {w.code for w in published.warnings} == {IssueCode.FUZZY}

    ug = bot.tr("ug")
    seen = screen_text(bot, "ug", "red_notices", "diffusions")
    await tap(
        bot,
        member,
        label(bot, ug, "red_notices", "intro", "diffusions"),
        message_id=intro.message_id,
        text=seen,
    )
    marker = ug.pending_marker()
    assert marker.startswith("⏳ تەرجىمىسى"), "the marker in Uyghur, from the ug catalog"
    assert seen.endswith(marker)
    assert "also recorded" in seen
    assert old_uyghur.split("\n")[0] not in seen, "never the outdated translation"


async def test_a_moved_button_says_the_menu_has_changed(bot: RunningBot) -> None:
    member = bot.server.user(7300003, first_name="Member", language_code="en")
    en = bot.tr("en")
    menu = await at_menu(bot, member, "en")
    assert menu.message_id == member.last_message().message_id
    published = await publish_set(
        bot, swap_options(live_sources(bot), "main.yaml", "red_notices", "ccf_access")
    )
    assert published.summary.layout_changed is True

    old_label = label(bot, en, "main", "menu", "red_notices")
    en = bot.tr("en")
    stale = f"{en.finish(texts.stale(en))}\n\n{screen_text(bot, 'en', 'main', 'menu')}"
    new_menu = await tap(bot, member, old_label, message_id=menu.message_id, text=stale)
    assert new_menu.message_id == member.last_message().message_id
    # The new menu's buttons work.
    await tap(
        bot,
        member,
        label(bot, en, "main", "menu", "red_notices"),
        message_id=new_menu.message_id,
        text=screen_text(bot, "en", "red_notices", "intro"),
    )


async def test_a_restart_keeps_the_published_version(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    member = server.user(7300004, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        menu = await at_menu(bot, member, "en")
        await publish_set(bot, english_fix(bot))

    async with running_bot(server, settings, clock) as bot:
        assert bot.snapshot.number == 1
        await _to_diffusions(bot, member, menu.message_id)
        assert NEW in (member.last_message().text or "")


async def test_a_version_published_elsewhere_goes_live_by_the_poll(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    """Another worker (or ``content import``) publishes; this one follows within seconds."""
    settings = settings_for(server, tmp_path / "data")
    member = server.user(7300005, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        menu = await at_menu(bot, member, "en")
        elsewhere = await open_storage(settings)
        try:
            other = await open_content(settings, elsewhere)
            fixed = edit_flow(live_sources(bot), "red_notices.yaml", OLD, NEW)
            await publish(other, fixed, publisher="admin", today=clock().date())
        finally:
            await elsewhere.database.close()
        assert bot.snapshot.number == 0
        # The next poll, then as long as any step may take on a loaded machine.
        await server.wait_for(
            lambda: bot.snapshot.number == 1,
            timeout=POLL_SECONDS + DEFAULT_TIMEOUT,
            what="version 1 live in this worker",
        )
        await _to_diffusions(bot, member, menu.message_id)
        assert NEW in (member.last_message().text or "")


async def test_a_tampered_version_is_not_served_and_the_bot_says_why(
    server: FakeBotApi, tmp_path: Path, clock: FakeClock
) -> None:
    settings = settings_for(server, tmp_path / "data")
    member = server.user(7300006, first_name="Member", language_code="en")
    async with running_bot(server, settings, clock) as bot:
        await publish_set(bot, english_fix(bot))
        await publish_set(
            bot, swap_options(live_sources(bot), "main.yaml", "red_notices", "ccf_access")
        )
        assert bot.snapshot.number == 2

    with sqlite3.connect(settings.database_file) as raw:
        raw.execute("UPDATE content_versions SET publisher = 'mole' WHERE number = 2")

    with capture_logs() as logs:
        async with running_bot(server, settings, clock) as bot:
            assert bot.snapshot.number == 1, "the last good version serves"
            await at_menu(bot, member, "en")
    assert "content version 2 refused" in logs.text
    assert "fails its MAC" in logs.text
