"""Live content: published versions served, checked, refused and swapped; the pending marker."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.content import Content, Snapshot, files_of, member_locales
from bot.i18n import PENDING_MARKER, Translator, translators
from bot.publishing import NothingToPublish, PublishRefused, publish, rollback
from bot.screens import node_screen
from flows import engine
from flows.catalog import Catalog
from flows.inspect import IssueCode
from flows.loader import DEFINITIONS_DIR
from flows.model import text_context
from flows.registry import LOCALES_DIR, RegistrySources, build_registry
from flows.values import TextValues
from storage.content_records import LocaleSwitch
from storage.errors import VersionConflict
from storage.sqlite.content import SqliteContentRepository
from storage.sqlite.database import Database
from tests.unit.content_edits import edit_entry, edit_flow, swap_options
from tests.unit.storage_samples import PSEUDONYMS

TODAY = date(2024, 7, 1)
OLD = "It is recorded in Interpol's files."
NEW = "It is also recorded in Interpol's files."
CONTEXT = text_context("red_notices", "diffusions")
VALUES = TextValues(retention_days=45)
"""Not the shipped default, so a filled-in setting is told from a copied number."""


@dataclass
class Setup:
    db: Database
    path: Path
    content: Content

    def repository(self) -> SqliteContentRepository:
        return SqliteContentRepository(self.db, PSEUDONYMS.content_key(), PSEUDONYMS.audit_key())

    def restarted(self) -> Content:
        return Content(DEFINITIONS_DIR, LOCALES_DIR, VALUES, self.repository())

    @property
    def shipped(self) -> RegistrySources:
        sources = self.content.shipped.sources
        assert sources is not None
        return sources


@pytest.fixture
def setup(db: Database, db_path: Path) -> Setup:
    repository = SqliteContentRepository(db, PSEUDONYMS.content_key(), PSEUDONYMS.audit_key())
    content = Content(DEFINITIONS_DIR, LOCALES_DIR, VALUES, repository)
    return Setup(db, db_path, content)


def english_fix(sources: RegistrySources) -> RegistrySources:
    return edit_flow(sources, "red_notices.yaml", OLD, NEW)


def diffusions_text(snapshot: Snapshot, locale: str) -> str:
    """What a member of ``locale`` reads on red_notices:diffusions."""
    session = engine.Session(position=engine.Position("red_notices", "diffusions"))
    return node_screen(snapshot.registry, snapshot.translators[locale], session).text


async def give(content: Content, sources: RegistrySources, who: str = "c0ffee00") -> int:
    published = await publish(content, sources, publisher=who, today=TODAY)
    return published.info.number


# The pending marker ----------------------------------------------------------


async def test_an_english_only_fix_shows_english_and_the_marker_never_the_old_translation(
    setup: Setup,
) -> None:
    old_ug = diffusions_text(setup.content.current, "ug")
    fixed = english_fix(setup.shipped)
    # As pybabel update leaves it: the old Uyghur moved onto the new English, flagged fuzzy.
    english = fixed_english(fixed)
    fixed = edit_entry(fixed, "ug", CONTEXT, msgid=english, fuzzy=True)
    await give(setup.content, fixed)
    text = diffusions_text(setup.content.current, "ug")
    marker = setup.content.current.translators["ug"].pending_marker()
    assert marker != PENDING_MARKER, "the marker is in Uyghur"
    assert text.endswith(marker)
    assert "also recorded" in text
    assert old_ug.split("\n")[0] not in text, "never the outdated translation"
    # Other locales lost the entry altogether (changed English): English and marker too.
    for locale in ("zh_Hans", "zh_Hant"):
        text = diffusions_text(setup.content.current, locale)
        assert "also recorded" in text
        assert text.endswith(setup.content.current.translators[locale].pending_marker())
    english_screen = diffusions_text(setup.content.current, "en")
    assert "also recorded" in english_screen
    assert PENDING_MARKER not in english_screen


def screen_text(snapshot: Snapshot, flow: str, node: str, locale: str) -> str:
    session = engine.Session(position=engine.Position(flow, node))
    return node_screen(snapshot.registry, snapshot.translators[locale], session).text


async def test_a_published_version_states_the_settings_its_texts_name(setup: Setup) -> None:
    """``{retention_days}`` is filled in published texts as in the shipped ones, in the
    translations and in an English stand-in with the pending marker alike."""
    fixed = edit_flow(
        setup.shipped, "volunteer.yaml", "You can cancel at any time", "You may cancel at any time"
    )
    await give(setup.content, fixed)
    for content in (setup.content, setup.restarted()):
        await content.load_published()
        served = content.current
        assert served.number == 1
        for locale in ("en", "zh_Hans", "zh_Hant", "ug"):
            consent = screen_text(served, "volunteer", "intro", locale)
            stored = screen_text(served, "about", "stored", locale)
            for text in (consent, stored):
                assert "{retention_days}" not in text
                assert "45" in text
        english_stand_in = screen_text(served, "volunteer", "intro", "ug")
        assert "You may cancel" in english_stand_in
        assert english_stand_in.endswith(served.translators["ug"].pending_marker())


def fixed_english(sources: RegistrySources) -> str:
    from flows.loader import parse_flow

    flow = parse_flow(sources.flow_files["red_notices.yaml"], origin="red_notices.yaml")
    node = flow.node("diffusions")
    assert node is not None
    return node.text


def flagged(catalog: Catalog, context: str | None, msgid: str, **change: object) -> Catalog:
    """``catalog`` with one entry changed (fuzzy, emptied) or, without changes, removed."""
    entries = dict(catalog.entries)
    if change:
        entries[(context, msgid)] = replace(entries[(context, msgid)], **change)
    else:
        del entries[(context, msgid)]
    return replace(catalog, entries=MappingProxyType(entries))


SHIPPED = Content(DEFINITIONS_DIR, LOCALES_DIR, VALUES).current


def test_a_pending_button_label_marks_its_screen_too() -> None:
    ug = SHIPPED.translators["ug"]
    assert ug.catalog is not None
    label = "What is a Diffusion?"
    context = text_context("red_notices", "intro", "diffusions")
    fuzzy = Translator("ug", flagged(ug.catalog, context, label, fuzzy=True))
    session = engine.Session(position=engine.Position("red_notices", "intro"))
    screen = node_screen(SHIPPED.registry, fuzzy, session)
    assert screen.text.endswith(fuzzy.pending_marker())
    assert fuzzy.finish(label) in [button.label for button in screen.buttons]
    plain = node_screen(SHIPPED.registry, ug, session)
    assert ug.pending_marker() not in plain.text, "a complete screen has no marker"


def test_the_marker_comes_from_the_shipped_catalog_when_the_published_one_lost_it() -> None:
    shipped = SHIPPED.translators["ug"]
    assert shipped.catalog is not None
    for lost in (
        flagged(shipped.catalog, None, PENDING_MARKER),
        flagged(shipped.catalog, None, PENDING_MARKER, fuzzy=True),
    ):
        published = Translator("ug", lost, fallback=shipped.catalog)
        assert published.pending_marker() == shipped.pending_marker() != PENDING_MARKER
        assert Translator("ug", lost).pending_marker() == PENDING_MARKER


def test_the_shipped_catalog_fills_only_what_a_published_one_lacks() -> None:
    shipped = SHIPPED.translators["zh_Hans"]
    assert shipped.catalog is not None
    back = "◀ Back"
    lacking = Translator("zh_Hans", flagged(shipped.catalog, None, back), fallback=shipped.catalog)
    assert lacking.gettext(back) == shipped.gettext(back) != back, "absent: the shipped words"
    assert not lacking.pending(None, back)
    for change in ({"msgstr": ("",)}, {"fuzzy": True}):
        emptied = Translator(
            "zh_Hans", flagged(shipped.catalog, None, back, **change), fallback=shipped.catalog
        )
        assert emptied.gettext(back) == back, "a coordinator's emptied or flagged entry stays so"
        assert emptied.pending(None, back)


# Publishing --------------------------------------------------------------------


async def test_a_broken_set_is_refused_with_every_problem_and_changes_nothing(
    setup: Setup,
) -> None:
    broken = edit_flow(setup.shipped, "main.yaml", "goto: about:intro", "goto: about:nowhere")
    broken = edit_entry(broken, "ug", CONTEXT, msgstr="{oops} ئۇيغۇرچە")
    before = setup.content.current
    with pytest.raises(PublishRefused) as refused:
        await give(setup.content, broken)
    codes = {issue.code for issue in refused.value.issues}
    # The shortened Uyghur also loses the English's numbers: an error on the desk too.
    assert codes == {IssueCode.UNRESOLVED_TARGET, IssueCode.PLACEHOLDERS, IssueCode.DROPPED}
    assert len(refused.value.problems) == len(refused.value.issues) == 3
    assert setup.content.current is before
    assert await setup.repository().newest_number() == 0


async def test_a_set_that_does_not_parse_is_refused(setup: Setup) -> None:
    broken = edit_flow(setup.shipped, "main.yaml", "kind: message", "kind: nonsense")
    with pytest.raises(PublishRefused, match=r"main\.yaml"):
        await give(setup.content, broken)
    assert await setup.repository().newest_number() == 0


async def test_citations_are_checked_against_the_programs_sources_file(setup: Setup) -> None:
    """flows/sources.csv ships with the program: no FACTS.md is needed to refuse a set
    that cites a source the facts do not have."""
    unknown = "https://example.org/not-in-the-facts"
    cited = edit_flow(
        setup.shipped, "red_notices.yaml", "      - SD21\n", f"      - SD21\n      - {unknown}\n"
    )
    with pytest.raises(PublishRefused) as refused:
        await give(setup.content, cited)
    assert {issue.code for issue in refused.value.issues} == {IssueCode.UNKNOWN_SOURCE}
    assert unknown in refused.value.problems[0]
    assert await setup.repository().newest_number() == 0


async def test_publishing_the_live_set_again_is_refused(setup: Setup) -> None:
    with pytest.raises(NothingToPublish):
        await give(setup.content, setup.shipped)


async def test_publish_serves_at_once_and_records_who_when_and_what(setup: Setup) -> None:
    published = await publish(
        setup.content, english_fix(setup.shipped), publisher="c0ffee00", today=TODAY
    )
    assert setup.content.current is published.snapshot
    assert published.snapshot.number == published.info.number == 1
    stored = (await setup.repository().history())[0]
    assert stored == published.info
    assert stored.publisher == "c0ffee00"
    assert stored.day == TODAY
    assert stored.summary["texts"]["en"]["changed"] == ["red_notices.diffusions"]
    assert stored.summary["layout_changed"] is False
    assert {issue.code for issue in published.warnings} == {IssueCode.UNTRANSLATED}
    assert published.snapshot.registry.layout == setup.content.shipped.registry.layout


async def test_a_publish_on_a_version_that_is_no_longer_live_fails_cleanly(
    setup: Setup,
) -> None:
    seen = setup.content.current
    other_worker = setup.restarted()
    await give(other_worker, english_fix(setup.shipped), "beef0000")
    with pytest.raises(VersionConflict):
        await publish(
            setup.content,
            swap_options(setup.shipped, "main.yaml", "red_notices", "ccf_access"),
            publisher="c0ffee00",
            today=TODAY,
            live=seen,
        )
    assert await setup.repository().newest_number() == 1


async def test_rollback_publishes_the_old_files_as_a_new_version(setup: Setup) -> None:
    await give(setup.content, english_fix(setup.shipped))
    rolled = await rollback(setup.content, 0, publisher="c0ffee00", today=TODAY)
    assert rolled.info.number == 2
    assert rolled.info.base == 0
    assert files_of(rolled.snapshot.sources or setup.shipped) == files_of(setup.shipped)
    assert "also recorded" not in diffusions_text(setup.content.current, "en")
    again = await rollback(setup.content, 1, publisher="c0ffee00", today=TODAY)
    assert again.info.number == 3
    assert "also recorded" in diffusions_text(setup.content.current, "en")
    assert [v.number for v in await setup.repository().history()] == [3, 2, 1]


# Loading and polling -----------------------------------------------------------


async def test_a_restart_serves_the_newest_published_version(setup: Setup) -> None:
    await give(setup.content, english_fix(setup.shipped))
    restarted = setup.restarted()
    assert restarted.current.number == 0
    await restarted.load_published()
    assert restarted.current.number == 1
    assert "also recorded" in diffusions_text(restarted.current, "en")


async def test_the_poll_swaps_in_a_version_published_elsewhere(setup: Setup) -> None:
    other_worker = setup.restarted()
    await give(other_worker, english_fix(setup.shipped))
    assert setup.content.current.number == 0
    await setup.content.refresh()
    assert setup.content.current.number == 1
    before = setup.content.current
    await setup.content.refresh()
    assert setup.content.current is before, "nothing new: nothing swapped"


async def test_a_tampered_version_is_not_served_and_the_log_says_why(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    await give(setup.content, english_fix(setup.shipped))
    await give(setup.content, swap_options(setup.shipped, "main.yaml", "red_notices", "ccf_access"))
    with sqlite3.connect(setup.path) as raw:
        raw.execute("UPDATE content_versions SET publisher = 'mole' WHERE number = 2")
    restarted = setup.restarted()
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        await restarted.load_published()
    assert restarted.current.number == 1, "the last good version serves"
    assert "content version 2 refused" in caplog.text
    assert "MAC" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        await restarted.refresh()
    assert caplog.text == "", "a refused version is reported once, not every poll"


async def test_a_version_this_program_cannot_serve_is_refused(setup: Setup) -> None:
    """A version stored fine but failing the checks (of a newer program) does not serve."""
    bad = edit_flow(setup.shipped, "main.yaml", "goto: about:intro", "goto: about:nowhere")
    repository = setup.repository()
    await repository.publish(files_of(bad), after=0, base=0, publisher="x", day=TODAY, summary={})
    await setup.content.refresh()
    assert setup.content.current.number == 0


async def test_removed_versions_are_noticed(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    await give(setup.content, english_fix(setup.shipped))
    with sqlite3.connect(setup.path) as raw:
        raw.execute("DELETE FROM content_versions")
    with caplog.at_level(logging.WARNING, logger="bot.content"):
        await setup.content.refresh()
    assert setup.content.current.number == 1
    assert "removed outside the bot" in caplog.text


async def test_sighup_keeps_a_published_version_and_refreshes_the_fallback(setup: Setup) -> None:
    await give(setup.content, english_fix(setup.shipped))
    served = setup.content.reload()
    assert served.number == 1
    assert "also recorded" in diffusions_text(served, "en")
    ug = served.translators["ug"]
    assert ug.fallback is setup.content.shipped.registry.catalogs["ug"]


def test_sighup_swaps_version_0_files(tmp_path: Path) -> None:
    import shutil

    flows_dir, locales_dir = tmp_path / "flows", tmp_path / "locales"
    shutil.copytree(DEFINITIONS_DIR, flows_dir)
    shutil.copytree(LOCALES_DIR, locales_dir)
    content = Content(flows_dir, locales_dir, VALUES)
    sources = content.shipped.sources
    assert sources is not None
    moved = swap_options(sources, "main.yaml", "red_notices", "ccf_access")
    (flows_dir / "main.yaml").write_text(moved.flow_files["main.yaml"], encoding="utf-8")
    before = content.current
    after = content.reload()
    assert after.number == 0
    assert after.registry.layout != before.registry.layout
    assert content.current is after


# Languages members may pick ------------------------------------------------------


def with_turkish(complete: bool) -> Snapshot:
    sources = SHIPPED.sources
    assert sources is not None
    turkish = sources.po_files["zh_Hans"].replace("Language: zh_Hans", "Language: tr")
    sources = replace(sources, po_files={**sources.po_files, "tr": turkish})
    if not complete:
        sources = edit_entry(sources, "tr", CONTEXT, msgstr="")
    registry = build_registry(sources)
    return Snapshot(registry, translators(registry, VALUES), 1, sources)


def test_a_new_language_shows_only_once_complete_and_switched_on() -> None:
    on = {"tr": LocaleSwitch("tr", True, "c0ffee00", TODAY)}
    off = {"tr": LocaleSwitch("tr", False, "c0ffee00", TODAY)}
    shipped_four = ("en", "zh_Hans", "zh_Hant", "ug")
    shipped = SHIPPED.registry.catalogs
    assert member_locales(with_turkish(complete=True), {}, shipped=shipped) == shipped_four
    assert member_locales(with_turkish(complete=True), off, shipped=shipped) == shipped_four
    assert member_locales(with_turkish(complete=False), on, shipped=shipped) == shipped_four
    # Ordered by English name: Simplified Chinese, Traditional Chinese, Turkish, Uyghur.
    with_tr = ("en", "zh_Hans", "zh_Hant", "tr", "ug")
    assert member_locales(with_turkish(complete=True), on, shipped=shipped) == with_tr


def test_a_shipped_language_stays_unless_switched_off_even_with_pending_texts() -> None:
    shipped = SHIPPED.registry.catalogs
    assert member_locales(SHIPPED, {}, shipped=shipped) == ("en", "zh_Hans", "zh_Hant", "ug")
    off = {"zh_Hant": LocaleSwitch("zh_Hant", False, "c0ffee00", TODAY)}
    assert member_locales(SHIPPED, off, shipped=shipped) == ("en", "zh_Hans", "ug")
