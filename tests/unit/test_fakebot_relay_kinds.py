"""The fake Bot API's unusual messages and media edits behave as Telegram's do.

The relay tests trust these: every kind a user sends parses in
python-telegram-bot as the kind it is, and a bot may edit a media message's
caption and media for ever, but delete it for 48 hours only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from telegram import Bot, InputMediaPhoto, Message
from telegram.error import BadRequest

from tests.fakebot import TEST_TOKEN, FakeBotApi, FakeUser
from tests.fakebot.state import DELETE_WINDOW_SECONDS

USER_ID = 3003


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(
        TEST_TOKEN, base_url=server.base_url, base_file_url=server.base_file_url
    ) as real_bot:
        yield real_bot


@pytest.fixture
def user(server: FakeBotApi) -> FakeUser:
    return server.user(USER_ID, first_name="User")


async def _last_message(bot: Bot) -> Message:
    updates = await bot.get_updates(timeout=0)
    message = updates[-1].effective_message
    assert message is not None
    return message


@pytest.mark.parametrize(
    ("send", "field"),
    [
        (lambda u: u.send_contact(), "contact"),
        (lambda u: u.send_location(), "location"),
        (lambda u: u.send_venue(), "venue"),
        (lambda u: u.send_poll(), "poll"),
        (lambda u: u.send_dice(), "dice"),
        (lambda u: u.send_game(), "game"),
        (lambda u: u.send_sticker(), "sticker"),
        (lambda u: u.send_video(), "video"),
        (lambda u: u.send_video_note(), "video_note"),
    ],
)
async def test_each_kind_parses_as_itself(
    bot: Bot, user: FakeUser, send: object, field: str
) -> None:
    send(user)  # type: ignore[operator]
    message = await _last_message(bot)
    assert getattr(message, field)
    if field == "venue":
        assert message.location, "a venue carries its location, as on Telegram"
    if field == "sticker":
        assert message.sticker is not None
        assert message.sticker.set_name == "SomePackByAuthor"


async def test_hidden_links_and_edits_arrive_as_telegram_sends_them(
    bot: Bot, user: FakeUser
) -> None:
    link = {"type": "text_link", "offset": 0, "length": 4, "url": "https://example.org"}
    sent = user.send_text_with_entities("here it is", [link])
    message = await _last_message(bot)
    assert message.entities[0].url == "https://example.org"
    user.edit_text(sent, "changed")
    updates = await bot.get_updates(offset=(await bot.get_updates())[-1].update_id, timeout=0)
    edited = updates[-1].edited_message
    assert edited is not None
    assert (edited.message_id, edited.text) == (sent, "changed")
    assert edited.edit_date is not None


async def test_media_can_be_blanked_for_ever_but_deleted_for_48_hours(
    server: FakeBotApi, bot: Bot, user: FakeUser
) -> None:
    photo = user.send_photo(caption="a face")
    text = user.send_text("words")
    voice = user.send_voice()
    copies = [
        (await bot.copy_message(USER_ID, USER_ID, message_id)).message_id
        for message_id in (photo, text, voice)
    ]
    server.advance_clock(DELETE_WINDOW_SECONDS + 60)
    with pytest.raises(BadRequest, match="can't be deleted"):
        await bot.delete_message(USER_ID, copies[0])
    assert await bot.delete_messages(USER_ID, copies)  # skipped silently, as on Telegram
    assert set(copies) <= set(user.message_ids())

    with pytest.raises(BadRequest, match="no text"):
        await bot.edit_message_text("·", chat_id=USER_ID, message_id=copies[0])
    await bot.edit_message_caption(chat_id=USER_ID, message_id=copies[0], caption="")
    assert "caption" not in _raw(user, copies[0])
    assert "photo" in _raw(user, copies[0]), "a caption edit leaves the picture"
    original = _raw(user, copies[0])["photo"]
    await bot.edit_message_media(
        InputMediaPhoto(b"\x89PNG blank"), chat_id=USER_ID, message_id=copies[0]
    )
    assert _raw(user, copies[0])["photo"] != original
    with pytest.raises(BadRequest, match="no media"):
        await bot.edit_message_media(
            InputMediaPhoto(b"\x89PNG blank"), chat_id=USER_ID, message_id=copies[1]
        )
    with pytest.raises(BadRequest):
        await bot.edit_message_media(
            InputMediaPhoto(b"\x89PNG blank"), chat_id=USER_ID, message_id=copies[2]
        )
    with pytest.raises(BadRequest, match="can't be edited"):
        await bot.edit_message_caption(chat_id=USER_ID, message_id=photo, caption="")


def _raw(user: FakeUser, message_id: int) -> dict[str, object]:
    return next(m.raw for m in user.visible_messages() if m.message_id == message_id)
