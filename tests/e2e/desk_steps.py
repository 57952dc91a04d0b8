"""Steps for the coordinators' text desk: /texts, its buttons, files both ways."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date

from bot import admin
from bot.desk import texts
from tests.e2e.harness import RunningBot
from tests.fakebot import BotMessage, FakeUser


async def make_coordinator(bot: RunningBot, user: FakeUser, locale: str = "en") -> None:
    """What ``python -m bot admin add-coordinator`` does, with the coordinator's language."""
    await admin.add_coordinator(bot.services.settings, user.user_id, locale, date.today())


def has_document(message: BotMessage) -> bool:
    return "document" in message.raw


def document_bytes(bot: RunningBot, message: BotMessage) -> bytes:
    return bot.server.file_data(message.raw["document"]["file_id"])


async def open_desk(bot: RunningBot, user: FakeUser, locale: str = "en") -> BotMessage:
    """``/texts``: returns the overview once it shows its buttons."""
    tr = bot.tr(locale)
    mark = bot.server.mark()
    user.send_text("/texts")
    return await user.wait_for_message(button=tr.finish(texts.download_label(tr)), after=mark)


async def press(
    bot: RunningBot,
    user: FakeUser,
    label: str,
    message_id: int,
    predicate: Callable[[BotMessage], bool],
) -> BotMessage:
    """Press a desk button and return the message that answers it."""
    mark = bot.server.mark()
    user.press(label, message_id=message_id)
    return await user.wait_for_message(predicate=predicate, after=mark)


async def download(bot: RunningBot, user: FakeUser, locale: str = "en") -> dict[str, bytes]:
    """Download from a fresh /texts; returns the zip's members by their base names."""
    desk = await open_desk(bot, user, locale)
    tr = bot.tr(locale)
    sent = await press(
        bot, user, tr.finish(texts.download_label(tr)), desk.message_id, has_document
    )
    assert sent.protect_content is False, "texts are public: translators need the files"
    with zipfile.ZipFile(io.BytesIO(document_bytes(bot, sent))) as archive:
        return {info.filename.rsplit("/", 1)[-1]: archive.read(info) for info in archive.infolist()}


async def upload(
    bot: RunningBot, user: FakeUser, name: str, data: bytes, *, mime_type: str = "text/plain"
) -> BotMessage:
    """Send a file; returns the bot's one answer to it (a reply to the file)."""
    mark = bot.server.mark()
    sent = user.send_document(file_name=name, mime_type=mime_type, data=data)

    def answers(message: BotMessage) -> bool:
        return bool(message.raw.get("reply_to_message", {}).get("message_id") == sent)

    return await user.wait_for_message(predicate=answers, after=mark)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
