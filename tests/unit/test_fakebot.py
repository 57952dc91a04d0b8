"""The fake Bot API server behaves like Telegram towards python-telegram-bot.

These tests drive the server with a real ``telegram.Bot`` and with raw HTTP,
and finally run a real ``Application`` against it, so that the end-to-end
tests built on it can trust what it accepts, rejects and records.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakebot import TEST_TOKEN, FakeBotApi, UploadedFile, WaitTimeout

MEMBER_ID = 1001
VOLUNTEER_ID = 2002


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


def menu(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data)] for text, data in buttons]
    )


# -- identity and the wire format -------------------------------------------


async def test_get_me_over_ptb_and_raw_http(server: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.username == "yardem_test_bot"
    assert me.id == int(TEST_TOKEN.split(":")[0])

    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.base_url}{TEST_TOKEN}/getMe")
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["result"]["username"] == "yardem_test_bot"


async def test_bad_tokens_are_refused_like_telegram(server: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        unauthorized = await client.post(f"{server.base_url}123:short/getMe")
        not_found = await client.post(f"{server.base_url}not-a-token/getMe")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert not_found.status_code == 404
    assert not_found.json()["description"] == "Not Found"

    with pytest.raises(InvalidToken):
        async with Bot("123:short", base_url=server.base_url):
            pass


async def test_unknown_method_is_404_and_recorded(server: FakeBotApi, bot: Bot) -> None:
    # PTB turns Telegram's 404 for an unknown method into EndPointNotFound.
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": MEMBER_ID})
    assert server.calls("sendHologram")[0].params == {"chat_id": MEMBER_ID}


async def test_params_decode_from_every_body_encoding(server: FakeBotApi) -> None:
    server.user(MEMBER_ID, first_name="Aygul")
    url = f"{server.base_url}{TEST_TOKEN}"
    async with httpx.AsyncClient() as client:
        form = await client.post(
            f"{url}/sendMessage",
            data={"chat_id": str(MEMBER_ID), "text": "123", "protect_content": "true"},
        )
        as_json = await client.post(
            f"{url}/sendMessage", json={"chat_id": MEMBER_ID, "text": "true"}
        )
        query = await client.get(f"{url}/sendMessage", params={"chat_id": MEMBER_ID, "text": "x"})
        multipart = await client.post(
            f"{url}/sendDocument",
            data={"chat_id": str(MEMBER_ID), "caption": "null"},
            files={"document": ("a.pdf", b"%PDF\x00\xff", "application/pdf")},
        )
    assert [r.status_code for r in (form, as_json, query, multipart)] == [200, 200, 200, 200]
    document = multipart.json()["result"]["document"]
    assert document["file_name"] == "a.pdf"
    assert server.file_data(document["file_id"]) == b"%PDF\x00\xff"  # the bytes, read back

    sent = server.calls("sendMessage")
    # Strings that look like JSON stay strings; JSON-encoded values are decoded.
    assert sent[0].params == {"chat_id": MEMBER_ID, "text": "123", "protect_content": True}
    assert sent[1].params == {"chat_id": MEMBER_ID, "text": "true"}
    assert sent[2].params == {"chat_id": MEMBER_ID, "text": "x"}
    upload = server.calls("sendDocument")[0].params
    assert upload["chat_id"] == MEMBER_ID
    assert upload["caption"] == "null"
    assert upload["document"] == UploadedFile("a.pdf", "application/pdf", b"%PDF\x00\xff")


# -- sending and the member's view -------------------------------------------


async def test_send_message_records_and_shows_in_chat(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul", language_code="ug")
    sent = await bot.send_message(
        MEMBER_ID, "Salam", protect_content=True, reply_markup=menu(("Menu", "v1:menu"))
    )

    assert sent.has_protected_content
    assert sent.chat.id == MEMBER_ID
    params = server.calls("sendMessage")[0].params
    assert params["chat_id"] == MEMBER_ID
    assert params["protect_content"] is True
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Menu", "callback_data": "v1:menu"}]]
    }
    [visible] = member.visible_messages()
    assert visible.message_id == sent.message_id
    assert visible.text == "Salam"
    assert visible.buttons == [[("Menu", "v1:menu")]]
    assert visible.protect_content
    assert member.last_message() == visible


async def test_message_ids_are_shared_by_both_sides(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    first = member.send_text("hello")
    reply = await bot.send_message(MEMBER_ID, "hi")
    second = member.send_text("again")
    assert (first, reply.message_id, second) == (1, 2, 3)
    assert member.message_ids() == [1, 2, 3]


async def test_html_is_parsed_into_text_and_entities(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    sent = await bot.send_message(
        MEMBER_ID, "\n<b>Yardem</b> &amp; <a href='https://example.org'>help</a>\n", "HTML"
    )
    assert sent.text == "Yardem & help"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 6),
        ("text_link", 9, 4),
    ]
    assert member.last_message().text == "Yardem & help"

    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(MEMBER_ID, "1 < 2 <br>", parse_mode="HTML")


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "anyone there?")


async def test_text_limits(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID, first_name="Aygul")
    await bot.send_message(MEMBER_ID, "a" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(MEMBER_ID, "a" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(MEMBER_ID, " \n ")


async def test_callback_data_limits(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID, first_name="Aygul")
    # 64 bytes is the limit, counted in UTF-8: 32 Uyghur letters of 2 bytes each.
    await bot.send_message(MEMBER_ID, "ok", reply_markup=menu(("a", "x" * 64), ("b", "ئ" * 32)))
    for data in ("x" * 65, "ئ" * 33):
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(MEMBER_ID, "no", reply_markup=menu(("a", data)))
    no_action = InlineKeyboardMarkup([[InlineKeyboardButton("just text")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(MEMBER_ID, "no", reply_markup=no_action)


async def test_blocked_user_is_forbidden(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID, first_name="Aygul")
    server.block(MEMBER_ID)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(MEMBER_ID, "hello")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"

    server.unblock(MEMBER_ID)
    await bot.send_message(MEMBER_ID, "welcome back")


async def test_bot_cannot_write_first(server: FakeBotApi, bot: Bot) -> None:
    volunteer = server.user(VOLUNTEER_ID, first_name="Helper", started=False)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(VOLUNTEER_ID, "new referral")
    volunteer.send_text("/start")
    await bot.send_message(VOLUNTEER_ID, "new referral")


# PTB itself reads RetryAfter.retry_after while building the error, which warns
# about that attribute's coming type change.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_raises_retry_after_once(server: FakeBotApi, bot: Bot) -> None:
    server.user(MEMBER_ID, first_name="Aygul")
    server.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(MEMBER_ID, "hello")
    await bot.send_message(MEMBER_ID, "hello")  # only the next call fails


# -- updates --------------------------------------------------------------------


async def test_long_poll_returns_promptly_and_honours_offset(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul", language_code="zh-hans")
    poll = asyncio.create_task(bot.get_updates(timeout=60))
    await server.wait_for(lambda: bool(server.calls("getUpdates")), what="the long poll arrived")
    assert not poll.done()
    member.send_text("/start deep-link")
    # Back long before the poll's own 60 s: the update woke it. (No tighter
    # bound: on a loaded machine any figure would be a guess.)
    [update] = await asyncio.wait_for(poll, 30)

    assert update.message is not None
    assert update.message.text == "/start deep-link"
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "zh-hans"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")

    # Unconfirmed updates come again; an offset past them confirms and drops them.
    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1) == ()
    assert await bot.get_updates() == ()


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert time.monotonic() - started > 0.25, "it waited"


async def test_stop_wakes_a_waiting_long_poll() -> None:
    server = FakeBotApi().start()
    url = f"{server.base_url}{TEST_TOKEN}/getUpdates"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            poll = asyncio.create_task(client.post(url, data={"timeout": "60"}))
            await server.wait_for(
                lambda: bool(server.calls("getUpdates")), what="the long poll arrived"
            )
            # stop() blocks while it waits for open answers, so keep it off the loop.
            await asyncio.to_thread(server.stop)
            # Back long before the poll's own 60 s: stop() woke it.
            response = await asyncio.wait_for(poll, 30)
    finally:
        server.stop()  # idempotent; only matters if the test failed early
    assert response.json() == {"ok": True, "result": []}


async def test_press_queues_a_callback_query_ptb_parses(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    sent = await bot.send_message(MEMBER_ID, "Choose", reply_markup=menu(("Red Notice", "v1:rn")))
    query_id = member.press("Red Notice")

    [update] = await bot.get_updates()
    raw = update.to_dict()
    parsed = Update.de_json(raw, bot)
    assert parsed.callback_query is not None
    assert parsed.callback_query.id == query_id
    assert parsed.callback_query.data == "v1:rn"
    assert parsed.callback_query.message is not None
    assert parsed.callback_query.message.message_id == sent.message_id

    assert not server.answered_callback(query_id)
    await bot.answer_callback_query(query_id, text="ok")
    assert server.answered_callback(query_id)
    assert server.callback_answer(query_id) == {"callback_query_id": query_id, "text": "ok"}
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("1234")

    with pytest.raises(LookupError, match="Blue"):
        member.press("Blue")


async def test_press_data_forges_stale_queries(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    member.press_data("v0:gone", message_id=77)
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "v0:gone"
    assert not update.callback_query.message.is_accessible  # type: ignore[union-attr]


# -- editing, deleting, copying ------------------------------------------------


async def test_edit_message_text_updates_the_chat(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    sent = await bot.send_message(MEMBER_ID, "Step 1", reply_markup=menu(("Next", "n")))
    await bot.edit_message_text(
        "Step 2", MEMBER_ID, sent.message_id, reply_markup=menu(("Back", "b"))
    )
    [visible] = member.visible_messages()
    assert (visible.text, visible.buttons) == ("Step 2", [[("Back", "b")]])
    assert visible.edit_date is not None

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Step 2", MEMBER_ID, sent.message_id, reply_markup=menu(("Back", "b"))
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Step 3", MEMBER_ID, 999)

    # Editing without reply_markup removes the keyboard, as on Telegram.
    await bot.edit_message_text("Step 2", MEMBER_ID, sent.message_id)
    assert member.last_message().buttons == []
    await bot.edit_message_reply_markup(MEMBER_ID, sent.message_id, reply_markup=menu(("X", "x")))
    assert member.last_message().buttons == [[("X", "x")]]


async def test_delete_messages_removes_them(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    own = member.send_text("my story")
    ids = [(await bot.send_message(MEMBER_ID, f"m{n}")).message_id for n in range(3)]

    # Bots may delete incoming messages in private chats; missing ids are skipped.
    assert await bot.delete_messages(MEMBER_ID, [own, ids[0], ids[1], 999])
    assert [m.text for m in member.visible_messages()] == ["m2"]
    assert member.message_ids() == [ids[2]]
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(MEMBER_ID, ids[0])

    server.advance_clock(48 * 3600)
    with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
        await bot.delete_message(MEMBER_ID, ids[2])


async def test_copy_message_relays_without_forwarding(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    volunteer = server.user(VOLUNTEER_ID, first_name="Helper")
    text_id = member.send_text("my brother was detained")
    photo_id = member.send_photo(caption="the notice")

    await bot.copy_message(VOLUNTEER_ID, MEMBER_ID, text_id, protect_content=True)
    await bot.copy_message(VOLUNTEER_ID, MEMBER_ID, photo_id, protect_content=True)
    copied_text, copied_photo = volunteer.visible_messages()
    assert copied_text.text == "my brother was detained"
    assert copied_text.protect_content
    assert copied_photo.text == "the notice"
    assert "photo" in copied_photo.raw
    assert "forward_origin" not in copied_text.raw
    assert copied_text.raw["from"]["is_bot"]  # the volunteer sees the bot, not the member

    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(VOLUNTEER_ID, MEMBER_ID, 999)


async def test_member_media_parse_and_download(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    member.send_document(file_name="notice.pdf")
    member.send_voice(duration=7)
    document_update, voice_update = await bot.get_updates()
    assert document_update.message is not None
    assert voice_update.message is not None
    document = document_update.message.document
    assert document is not None
    assert document.file_name == "notice.pdf"
    assert voice_update.message.voice is not None
    assert voice_update.message.voice.mime_type == "audio/ogg"

    file = await bot.get_file(document.file_id)
    assert len(await file.download_as_bytearray()) == document.file_size


async def test_profile_methods_succeed(server: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin"), ("wipe", "Erase this chat")], language_code="ug")
    assert [c.command for c in await bot.get_my_commands(language_code="ug")] == ["start", "wipe"]
    assert await bot.set_my_description("Help", language_code="en")
    assert await bot.set_my_short_description("Help")
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    assert server.webhook == {"url": "https://example.org/hook", "secret_token": "s3cret"}
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook()
    server.user(MEMBER_ID, first_name="Aygul")
    assert await bot.send_chat_action(MEMBER_ID, "typing")
    assert await bot.close()
    assert await bot.log_out()


# -- waiting for what a step needs ------------------------------------------------


async def test_a_wait_sees_edits_not_only_new_messages(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    sent = await bot.send_message(MEMBER_ID, "Step 1", reply_markup=menu(("Next", "n")))
    mark = server.mark()
    # Waiting starts before the change; the change comes from the server's thread.
    edited = asyncio.create_task(member.wait_for_message(text="Step 2", after=mark, timeout=10))
    await bot.edit_message_text("Step 2", MEMBER_ID, sent.message_id)
    assert (await edited).message_id == sent.message_id

    mark = server.mark()
    await bot.edit_message_reply_markup(MEMBER_ID, sent.message_id, reply_markup=menu(("X", "x")))
    redrawn = await member.wait_for_button("X", after=mark, timeout=10)
    assert redrawn.message_id == sent.message_id
    assert redrawn.seq > mark


async def test_after_a_mark_older_messages_do_not_count(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    old = await bot.send_message(MEMBER_ID, "Claim this?", reply_markup=menu(("Close", "c1")))
    assert (await member.wait_for_button("Close", timeout=10)).message_id == old.message_id
    mark = server.mark()
    with pytest.raises(TimeoutError):
        await member.wait_for_button("Close", after=mark, timeout=0.2)
    new = await bot.send_message(MEMBER_ID, "Yours", reply_markup=menu(("Close", "c2")))
    await bot.send_message(MEMBER_ID, "newest keyboard", reply_markup=menu(("Other", "o")))
    found = await member.wait_for_button("Close", after=mark, timeout=10)
    assert found.message_id == new.message_id
    # tap presses where the button is, not on the newest keyboard.
    await member.tap("Close", after=mark, timeout=10)
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "c2"


async def test_a_wait_that_times_out_says_what_it_awaited_and_what_is_there(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    await bot.send_message(MEMBER_ID, "Your request", reply_markup=menu(("Claim", "c")))
    mark = server.mark()
    with pytest.raises(WaitTimeout) as waited:
        await member.wait_for_button("Close", after=mark, timeout=0.2)
    message = str(waited.value)
    assert "a button 'Close'" in message
    assert f"chat {MEMBER_ID}" in message
    assert f"after event {mark}" in message
    assert "'Your request' buttons ['Claim']" in message, "what the chat holds instead"

    with pytest.raises(WaitTimeout, match=r"answered sendMessage call to chat 2002.*sendMessage"):
        await server.wait_for_call("sendMessage", chat_id=VOLUNTEER_ID, timeout=0.2)
    with pytest.raises(WaitTimeout, match=r"callback query 77, which is unknown"):
        await server.wait_for_answer("77", timeout=0.2)
    with pytest.raises(WaitTimeout, match="the moon is full"):
        await server.wait_for(lambda: False, timeout=0.2, what="the moon is full")


async def test_waiting_for_calls_and_answers(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    await bot.send_message(MEMBER_ID, "Choose", reply_markup=menu(("Red Notice", "rn")))
    mark = server.mark()
    server.inject_error("sendMessage", error_code=502, description="Bad Gateway")
    with pytest.raises(NetworkError):
        await bot.send_message(MEMBER_ID, "lost")
    await bot.send_message(MEMBER_ID, "delivered")
    failed = await server.wait_for_call("sendMessage", chat_id=MEMBER_ID, after=mark, timeout=10)
    assert failed.error == "Bad Gateway"
    delivered = await server.wait_for_call(
        "SENDMESSAGE", after=failed.seq, predicate=lambda call: call.error is None, timeout=10
    )
    assert delivered.params["text"] == "delivered"
    assert delivered.seq > failed.seq > mark

    query_id = member.press("Red Notice")
    answer = asyncio.create_task(server.wait_for_answer(query_id, timeout=10))
    await bot.answer_callback_query(query_id, text="ok")
    assert await answer == {"callback_query_id": query_id, "text": "ok"}


async def test_a_wait_may_look_beyond_the_server(server: FakeBotApi) -> None:
    seen: list[int] = []

    async def third_look() -> bool:
        # The bot's database, say: nothing the server could announce.
        seen.append(len(seen))
        return len(seen) >= 3

    await server.wait_for(third_look, timeout=10, what="a third look")
    assert seen == [0, 1, 2]


async def test_wait_idle_needs_fetched_updates(server: FakeBotApi, bot: Bot) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    await server.wait_idle(min_quiet=0.05)
    member.send_text("nobody polls")
    with pytest.raises(WaitTimeout, match="1 update"):
        await server.wait_idle(min_quiet=0.05, timeout=0.2)
    await bot.get_updates()
    await server.wait_idle(min_quiet=0.05)


# -- the real Application, end to end -------------------------------------------


async def test_application_polls_and_replies_end_to_end(server: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Welcome", protect_content=True, reply_markup=menu(("Menu", "v1:menu"))
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"You chose {query.data}")

    app = ApplicationBuilder().token(TEST_TOKEN).base_url(server.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    member = server.user(MEMBER_ID, first_name="Aygul")

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)

        member.send_text("/start")
        welcome = await member.wait_for_button("Menu")
        assert welcome.text == "Welcome"
        assert welcome.protect_content

        mark = server.mark()
        query_id = await member.tap("Menu")
        await server.wait_for_answer(query_id)
        await member.wait_for_message(text="You chose v1:menu", after=mark)
        assert [m.text for m in member.visible_messages()] == ["You chose v1:menu"]
        await server.wait_idle()

        # Stopping ends the long poll (it does not hang): a bound for hangs, not a speed test.
        async with asyncio.timeout(30):
            await app.updater.stop()
            await app.stop()
    assert server.pending_update_count() == 0
