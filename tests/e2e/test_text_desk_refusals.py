"""Bad input on the text desk: one clear message in the coordinator's language, nothing changed."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from bot.desk import texts
from flows.bundle import MAX_FILE_BYTES
from tests.e2e.desk_steps import (
    document_bytes,
    download,
    has_document,
    make_coordinator,
    open_desk,
    press,
    upload,
    zipped,
)
from tests.e2e.harness import RunningBot
from tests.fakebot import BotMessage


def _plain(text: str | None) -> str:
    return (text or "").replace("\u2068", "").replace("\u2069", "")


def _symlink_zip() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("ug.po")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


async def test_each_bad_input_gets_one_clear_message_and_changes_nothing(bot: RunningBot) -> None:
    coordinator = bot.server.user(7400101, first_name="Coord", language_code="zh")
    await make_coordinator(bot, coordinator, "zh_Hans")
    tr = bot.tr("zh_Hans")
    files = await download(bot, coordinator, "zh_Hans")
    refused = _plain(tr.finish(texts.upload_refused(tr, "")))

    async def refuses(name: str, data: bytes, expected: str) -> BotMessage:
        answer = await upload(bot, coordinator, name, data)
        assert refused in _plain(answer.text), answer.text
        assert _plain(tr.finish(expected)) in _plain(answer.text), answer.text
        return answer

    before = len(bot.server.calls("getFile"))
    await refuses("big.po", b"#" * (MAX_FILE_BYTES + 1), texts.too_large(tr, "big.po"))
    assert len(bot.server.calls("getFile")) == before, "refused from its size, not downloaded"

    desk = await open_desk(bot, coordinator, "zh_Hans")
    await press(
        bot,
        coordinator,
        tr.finish(texts.upload_label(tr)),
        desk.message_id,
        lambda m: _plain(tr.finish(texts.upload_prompt(tr))) in _plain(m.text),
    )
    await refuses("notes.txt", b"hello", texts.unknown_type(tr, "notes.txt"))

    broken = b'msgid ""\nmsgstr "Language: ug\\n"\n\nmsgid "x"\nmsgstr "y\n'
    answer = await upload(bot, coordinator, "broken.po", broken)
    assert "broken.po" in _plain(answer.text)
    assert refused in _plain(answer.text)
    assert "5" in _plain(answer.text), "the line number"

    await refuses("bomb.yaml", b"id: &a x\nstart: *a\n", texts.yaml_unsafe(tr, "bomb.yaml", 1))
    await refuses(
        "up.zip", zipped({"../ug.po": files["ug.po"]}), texts.zip_unsafe(tr, "up.zip/../ug.po")
    )
    await refuses("link.zip", _symlink_zip(), texts.zip_unsafe(tr, "link.zip/ug.po"))
    many = zipped({f"f{n}.po": b"x" for n in range(60)})
    await refuses("many.zip", many, texts.zip_too_much(tr, "many.zip"))
    nowhere = files["ug.po"].replace(b"Language: ug", b"Language: qq-Zzzz")
    await refuses("qq.po", nowhere, texts.unknown_locale(tr, "qq.po", "qq-Zzzz"))

    # Placeholders that differ from the English: a check the draft would fail.
    ug_po = files["ug.po"].decode()
    assert "{reference}" in ug_po
    wrong = ug_po.replace("{reference}", "{ref}", 1)
    answer = await upload(bot, coordinator, "ug.po", wrong.encode())
    assert _plain(tr.finish(texts.placeholders_differ(tr))) in _plain(answer.text)
    assert _plain(tr.finish(texts.failed(tr, 1)))[:12] in _plain(answer.text)

    # A flow whose button leads nowhere.
    flow = files["red_notices.yaml"].decode()
    broken_flow = flow.replace("goto: diffusions", "goto: nowhere", 1)
    assert broken_flow != flow
    answer = await upload(bot, coordinator, "red_notices.yaml", broken_flow.encode())
    assert _plain(tr.finish(texts.failed(tr, 1)))[:12] in _plain(answer.text)

    key = bot.services.members.key_for(coordinator.user_id)
    assert await bot.services.content.versions.draft(key) is None  # type: ignore[union-attr]
    assert bot.snapshot.number == 0

    # Publishing with no draft; a stale or forged confirmation.
    desk = await open_desk(bot, coordinator, "zh_Hans")
    await press(
        bot,
        coordinator,
        tr.finish(texts.publish_label(tr)),
        desk.message_id,
        lambda m: _plain(tr.finish(texts.nothing_to_publish(tr))) in _plain(m.text),
    )
    query = coordinator.press_data("s|T|P|0-deadbeef", desk.message_id)
    await bot.server.wait_for_answer(query)
    answer = bot.server.callback_answer(query)
    assert answer is not None
    assert _plain(tr.finish(texts.stale(tr))) == _plain(answer.get("text"))
    assert bot.snapshot.number == 0


async def test_members_sending_texts_or_files_meet_no_desk(bot: RunningBot) -> None:
    member = bot.server.user(7400201, first_name="Member", language_code="en")
    en = bot.tr("en")
    mark = bot.server.mark()
    member.send_text("/texts")
    answer = await member.wait_for_message(predicate=lambda m: bool(m.text), after=mark)
    assert texts.download_label(en) not in answer.button_texts
    mark = bot.server.mark()
    member.send_document(file_name="ug.po", mime_type="text/plain", data=b'msgid ""\nmsgstr ""\n')
    await member.wait_for_message(predicate=lambda m: bool(m.text), after=mark)
    await bot.settle()
    assert not bot.server.calls("getFile"), "a member's file is never fetched"
    assert not bot.server.calls("sendDocument")
    key = bot.services.members.key_for(member.user_id)
    assert await bot.services.content.versions.draft(key) is None  # type: ignore[union-attr]


async def test_two_coordinators_merge_or_conflict_by_entry(bot: RunningBot) -> None:
    first = bot.server.user(7400301, first_name="First", language_code="en")
    second = bot.server.user(7400302, first_name="Second", language_code="en")
    await make_coordinator(bot, first)
    await make_coordinator(bot, second)
    en = bot.tr("en")
    mine = await download(bot, first)
    theirs = await download(bot, second)
    flow = mine["red_notices.yaml"].decode()
    old = "It is recorded in Interpol's files."
    await upload(
        bot, first, "red_notices.yaml", flow.replace(old, "Changed by the first.").encode()
    )
    desk = await open_desk(bot, first)
    confirm = await press(
        bot,
        first,
        en.finish(texts.publish_label(en)),
        desk.message_id,
        lambda m: texts.publish_ask(en, 1) in (m.text or ""),
    )
    await press(
        bot,
        first,
        en.finish(texts.publish_now_label(en)),
        confirm.message_id,
        lambda m: texts.published(en, 1) in (m.text or ""),
    )
    # The second made their change from version 0: the same screen is refused, by name.
    clash = theirs["red_notices.yaml"].decode().replace(old, "Changed by the second.")
    answer = await upload(bot, second, "red_notices.yaml", clash.encode())
    assert texts.conflicted(en, 0, 1) in (answer.text or "")
    assert "red_notices:diffusions" in (answer.text or "")
    # Another screen of the same file merges, keeping the first one's change.
    intro = bot.snapshot.registry.node("red_notices", "intro")
    assert intro is not None
    words = intro.text.split()[0]
    other = theirs["red_notices.yaml"].decode().replace(words, words + " (reviewed)", 1)
    answer = await upload(bot, second, "red_notices.yaml", other.encode())
    assert texts.merged_note(en, 0, 1) in (answer.text or ""), answer.text
    draft = await bot.services.content.versions.draft(  # type: ignore[union-attr]
        bot.services.members.key_for(second.user_id)
    )
    assert draft is not None
    assert "Changed by the first." in draft.files.flow_files["red_notices.yaml"]


async def test_the_map_is_a_document_or_says_how_to_get_graphviz(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    coordinator = bot.server.user(7400401, first_name="Coord", language_code="en")
    await make_coordinator(bot, coordinator)
    en = bot.tr("en")
    desk = await open_desk(bot, coordinator)
    if shutil.which("dot") is not None:
        sent = await press(
            bot, coordinator, en.finish(texts.map_label(en)), desk.message_id, has_document
        )
        assert document_bytes(bot, sent).lstrip().startswith((b"<?xml", b"<svg"))
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without Graphviz
    await press(
        bot,
        coordinator,
        en.finish(texts.map_label(en)),
        desk.message_id,
        lambda m: texts.map_needs_graphviz(en) in (m.text or ""),
    )


async def test_a_draft_left_in_conflict_by_a_newer_publish_can_be_discarded(
    bot: RunningBot,
) -> None:
    first = bot.server.user(7400311, first_name="First", language_code="en")
    second = bot.server.user(7400312, first_name="Second", language_code="en")
    await make_coordinator(bot, first)
    await make_coordinator(bot, second)
    en = bot.tr("en")
    old = "It is recorded in Interpol's files."
    flow = (await download(bot, second))["red_notices.yaml"].decode()
    await upload(bot, second, "red_notices.yaml", flow.replace(old, "Second's draft.").encode())
    # Meanwhile the first publishes a different change to the same screen.
    await upload(bot, first, "red_notices.yaml", flow.replace(old, "First's fix.").encode())
    desk = await open_desk(bot, first)
    confirm = await press(
        bot,
        first,
        en.finish(texts.publish_label(en)),
        desk.message_id,
        lambda m: texts.publish_ask(en, 1) in (m.text or ""),
    )
    await press(
        bot,
        first,
        en.finish(texts.publish_now_label(en)),
        confirm.message_id,
        lambda m: texts.published(en, 1) in (m.text or ""),
    )
    # The second's draft no longer merges: Publish names the clash and the way out.
    desk = await open_desk(bot, second)
    clash = await press(
        bot,
        second,
        en.finish(texts.publish_label(en)),
        desk.message_id,
        lambda m: texts.conflicted(en, 0, 1) in (m.text or ""),
    )
    assert texts.discard_hint(en) in _plain(clash.text)
    ask = await press(
        bot,
        second,
        en.finish(texts.discard_label(en)),
        desk.message_id,
        lambda m: texts.discard_ask(en) in (m.text or ""),
    )
    mark = bot.server.mark()
    second.press(en.finish(texts.discard_now_label(en)), message_id=ask.message_id)
    await second.wait_for_message(
        predicate=lambda m: texts.discarded(en) in (m.text or ""), after=mark
    )
    versions = bot.services.content.versions
    assert versions is not None
    assert await versions.draft(bot.services.members.key_for(second.user_id)) is None
    assert "First's fix." in bot.snapshot.registry.node("red_notices", "diffusions").text  # type: ignore[union-attr]
    # With no draft there is nothing to publish, and no Discard button.
    desk = await open_desk(bot, second)
    assert texts.no_draft(en) in (desk.text or "")
    labels = [b["text"] for row in desk.raw["reply_markup"]["inline_keyboard"] for b in row]
    assert en.finish(texts.discard_label(en)) not in labels
