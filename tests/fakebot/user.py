"""A Telegram user as the tests drive them: they write, press buttons, read the chat.

Each action queues the update Telegram would send the bot; reading returns
snapshots of the chat as the member would see it now, after the bot's edits
and deletions; waiting (``wait_for_message``, ``wait_for_button``, ``tap``)
returns as soon as the chat shows what the step needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakebot.formatting import utf16_len
from tests.fakebot.models import BotMessage
from tests.fakebot.state import ServerState, StoredMessage
from tests.fakebot.waiting import DEFAULT_TIMEOUT, until

# How many of the newest messages a failed wait lists.
_SHOWN_ON_TIMEOUT = 6


class FakeUser:
    """A member (or volunteer, or coordinator) in a private chat with the bot."""

    def __init__(self, state: ServerState, user_id: int) -> None:
        self._state = state
        self.user_id = user_id

    @property
    def chat_id(self) -> int:
        return self.user_id  # In a private chat the chat id is the user id.

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id})"

    # -- writing ------------------------------------------------------------

    def send_text(self, text: str) -> int:
        """Send a text message; returns its message_id.

        A text starting with ``/`` carries a ``bot_command`` entity over the
        command, as Telegram adds one, and PTB's CommandHandler needs it.
        """
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._send(content)

    def send_photo(self, *, caption: str | None = None) -> int:
        small = self._state.new_file("photo", "jpg", 64)
        large = self._state.new_file("photo", "jpg", 256)
        sizes = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": side,
                "height": side,
                "file_size": len(stored.data),
            }
            for stored, side in ((small, 90), (large, 800))
        ]
        return self._send({"photo": sizes}, caption)

    def send_document(
        self,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        data: bytes | None = None,
    ) -> int:
        """Send a file; ``data`` is what getFile and the download then serve (512
        filler bytes by default), and ``file_size`` in the update is its length."""
        stored = self._state.new_file("document", file_name.rsplit(".", 1)[-1], 512, data)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(stored.data),
        }
        return self._send({"document": document}, caption)

    def send_voice(self, *, duration: int = 3, caption: str | None = None) -> int:
        stored = self._state.new_file("voice", "oga", 128)
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._send({"voice": voice}, caption)

    def send_text_with_entities(self, text: str, entities: list[dict[str, Any]]) -> int:
        """A text with formatting or hidden targets, e.g. a ``text_link`` over some words."""
        return self._send({"text": text, "entities": entities})

    def send_photo_with_entities(self, caption: str, entities: list[dict[str, Any]]) -> int:
        """A photo whose caption carries entities, e.g. a ``text_link``."""
        stored = self._state.new_file("photo", "jpg", 256)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 800,
            "height": 800,
            "file_size": len(stored.data),
        }
        return self._send({"photo": [size], "caption_entities": entities}, caption)

    def send_video(self, *, caption: str | None = None) -> int:
        stored = self._state.new_file("video", "mp4", 512)
        video = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 640,
            "height": 360,
            "duration": 5,
            "mime_type": "video/mp4",
            "file_size": len(stored.data),
        }
        return self._send({"video": video}, caption)

    def send_video_note(self) -> int:
        stored = self._state.new_file("video_note", "mp4", 256)
        note = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "length": 240,
            "duration": 4,
            "file_size": len(stored.data),
        }
        return self._send({"video_note": note})

    def send_contact(self, *, phone_number: str = "+15550100", first_name: str = "Someone") -> int:
        return self._send({"contact": {"phone_number": phone_number, "first_name": first_name}})

    def send_location(self, *, latitude: float = 41.0082, longitude: float = 28.9784) -> int:
        return self._send({"location": {"latitude": latitude, "longitude": longitude}})

    def send_venue(self, *, title: str = "A cafe", address: str = "1 Main Street") -> int:
        location = {"latitude": 41.0082, "longitude": 28.9784}
        # As Telegram sends it: a venue message also carries its location.
        return self._send(
            {
                "location": location,
                "venue": {"location": location, "title": title, "address": address},
            }
        )

    def send_poll(self, *, question: str = "Which day?") -> int:
        poll = {
            "id": str(self._state.next_counter()),
            "question": question,
            "options": [
                {"text": "Monday", "voter_count": 0, "persistent_id": "0"},
                {"text": "Tuesday", "voter_count": 0, "persistent_id": "1"},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }
        return self._send({"poll": poll})

    def send_dice(self, *, emoji: str = "🎲", value: int = 4) -> int:
        return self._send({"dice": {"emoji": emoji, "value": value}})

    def send_game(self) -> int:
        game = {
            "title": "A game",
            "description": "Play it",
            "photo": [{"file_id": "FAKE-game", "file_unique_id": "G1", "width": 1, "height": 1}],
        }
        return self._send({"game": game})

    def send_sticker(self, *, set_name: str | None = "SomePackByAuthor") -> int:
        """A sticker; one from a pack carries ``set_name``, which leads to its author."""
        stored = self._state.new_file("sticker", "webp", 128)
        sticker: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "🙂",
            "file_size": len(stored.data),
        }
        if set_name is not None:
            sticker["set_name"] = set_name
        return self._send({"sticker": sticker})

    def edit_text(self, message_id: int, text: str) -> None:
        """Edit one of the user's own text messages; queues an ``edited_message`` update."""
        state = self._state
        with state.cond:
            chat = state.chat_state(self.user_id)
            stored = chat.messages.get(message_id)
            if stored is None or stored.from_bot or "text" not in stored.json:
                raise LookupError(
                    f"no text message {message_id} of the user in chat {self.chat_id}"
                )
            stored.json["text"] = text
            stored.json.pop("entities", None)
            stored.json["edit_date"] = state.now()
            state.queue_update({"edited_message": stored.json})

    def _send(self, content: dict[str, Any], caption: str | None = None) -> int:
        if caption:
            content["caption"] = caption
        state = self._state
        with state.cond:
            chat = state.chat_state(self.user_id)
            chat.started = True  # Writing to the bot lets it write back.
            stored = state.add_message(chat, content, from_bot=False)
            state.queue_update({"message": stored.json})
            return int(stored.json["message_id"])

    # -- pressing buttons ---------------------------------------------------

    def press(self, button_text: str, *, message_id: int | None = None) -> str:
        """Press the inline button labelled exactly ``button_text``; returns the query id.

        Looks on the given message, else on the newest bot message that has an
        inline keyboard, and sends the button's callback_data as Telegram does.
        """
        with self._state.cond:
            stored = self._keyboard_message(message_id)
            for row in stored.json["reply_markup"]["inline_keyboard"]:
                for button in row:
                    if button["text"] != button_text:
                        continue
                    if "callback_data" not in button:
                        raise ValueError(f"button {button_text!r} has no callback_data: {button}")
                    return self._queue_callback(button["callback_data"], stored.json)
            labels = [
                button["text"]
                for row in stored.json["reply_markup"]["inline_keyboard"]
                for button in row
            ]
            raise LookupError(
                f"no button {button_text!r} on message {stored.json['message_id']} "
                f"of chat {self.chat_id}; it has {labels}"
            )

    def press_data(self, callback_data: str, message_id: int) -> str:
        """Send a callback_query with arbitrary (forged or stale) data; returns its id.

        If the message no longer exists the query carries an inaccessible
        message (``date`` 0), as Telegram sends for messages it cannot show.
        """
        with self._state.cond:
            chat = self._state.chat_state(self.user_id)
            stored = chat.messages.get(message_id)
            message = (
                stored.json
                if stored is not None
                else {"chat": chat.chat, "message_id": message_id, "date": 0}
            )
            return self._queue_callback(callback_data, message)

    def _keyboard_message(self, message_id: int | None) -> StoredMessage:
        chat = self._state.chat_state(self.user_id)
        if message_id is not None:
            stored = chat.messages.get(message_id)
            if stored is None or not stored.from_bot or not stored.json.get("reply_markup"):
                raise LookupError(f"message {message_id} in chat {self.chat_id} has no keyboard")
            return stored
        for stored in reversed(chat.messages.values()):
            if stored.from_bot and stored.json.get("reply_markup"):
                return stored
        raise LookupError(f"no bot message with an inline keyboard in chat {self.chat_id}")

    def _queue_callback(self, data: str, message: dict[str, Any]) -> str:
        state = self._state
        with state.cond:
            chat = state.chat_state(self.user_id)
            query_id = str(4_000_000_000_000_000_000 + state.next_counter())
            state.queue_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": chat.user,
                        "message": message,
                        "chat_instance": str(-7_000_000_000_000_000_000 - self.chat_id),
                        "data": data,
                    }
                }
            )
            return query_id

    # -- reading ------------------------------------------------------------

    def visible_messages(self) -> list[BotMessage]:
        """The bot's messages still in the chat, oldest first, as they look now."""
        with self._state.cond:
            chat = self._state.chat_state(self.user_id)
            return [stored.snapshot() for stored in chat.messages.values() if stored.from_bot]

    def last_message(self) -> BotMessage:
        """The newest bot message still in the chat."""
        messages = self.visible_messages()
        if not messages:
            raise LookupError(f"the bot has no message in chat {self.chat_id}")
        return messages[-1]

    def message_ids(self) -> list[int]:
        """Ids of every message still in the chat, the member's and the bot's."""
        with self._state.cond:
            return list(self._state.chat_state(self.user_id).messages)

    def find_message(
        self,
        *,
        text: str | None = None,
        containing: str | None = None,
        button: str | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        after: int | None = None,
    ) -> BotMessage | None:
        """The newest bot message in the chat that meets every condition given, or None.

        ``text`` is the whole text, ``containing`` a part of it, ``button`` the
        exact label of one of its inline buttons; ``after`` a ``mark()``: the
        message was sent or last edited after it.
        """
        for message in reversed(self.visible_messages()):
            if after is not None and message.seq <= after:
                continue
            if text is not None and message.text != text:
                continue
            if containing is not None and containing not in (message.text or ""):
                continue
            if button is not None and button not in message.button_texts:
                continue
            if predicate is not None and not predicate(message):
                continue
            return message
        return None

    async def wait_for_message(
        self,
        *,
        text: str | None = None,
        containing: str | None = None,
        button: str | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - part of what is awaited
    ) -> BotMessage:
        """Wait until ``find_message`` with these conditions finds one; return it.

        Edits count like new messages: a screen redrawn in place after ``after``
        matches. On timeout the error lists what was awaited and the chat's
        newest messages.
        """

        def describe() -> str:
            wanted = [f"a bot message in chat {self.chat_id}"]
            if text is not None:
                wanted.append(f"with text {_short(text)}")
            if containing is not None:
                wanted.append(f"containing {_short(containing)}")
            if button is not None:
                wanted.append(f"with a button {button!r}")
            if predicate is not None:
                wanted.append(f"for which {getattr(predicate, '__name__', 'the predicate')} holds")
            if after is not None:
                wanted.append(f"sent or edited after event {after}")
            return " ".join(wanted) + "; " + self.describe_chat(after)

        def check() -> BotMessage | None:
            return self.find_message(
                text=text, containing=containing, button=button, predicate=predicate, after=after
            )

        return await until(self._state, check, timeout=timeout, describe=describe)

    async def wait_for_button(
        self,
        label: str,
        *,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - part of what is awaited
    ) -> BotMessage:
        """Wait for a bot message with an inline button labelled exactly ``label``.

        With ``after`` (a ``mark()``), only a message sent or edited after it
        counts, so an older keyboard with the same label is not mistaken for
        the answer to the step that began at the mark.
        """
        return await self.wait_for_message(button=label, after=after, timeout=timeout)

    async def tap(
        self,
        label: str,
        *,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - part of what is awaited
    ) -> str:
        """Press the button ``label`` once it is on screen; returns the query id.

        The press goes to the newest message that has the button (sent or
        edited after ``after``, if given), not merely to the newest keyboard.
        """
        message = await self.wait_for_button(label, after=after, timeout=timeout)
        return self.press(label, message_id=message.message_id)

    def describe_chat(self, after: int | None = None) -> str:
        """The newest messages of the chat in a line each, for failure messages."""
        with self._state.cond:
            chat = self._state.chat_state(self.user_id)
            stored = list(chat.messages.values())[-_SHOWN_ON_TIMEOUT:]
            lines = []
            for message in stored:
                snapshot = message.snapshot()
                who = "bot" if message.from_bot else "user"
                when = "" if after is None or message.seq <= after else ", changed after the mark"
                labels = f" buttons {snapshot.button_texts}" if snapshot.buttons else ""
                lines.append(
                    f"  #{snapshot.message_id} ({who}, event {message.seq}{when}) "
                    f"{_short(snapshot.text)}{labels}"
                )
            now = self._state.seq
        if not lines:
            return f"chat {self.chat_id} is empty (server at event {now})"
        return (
            f"chat {self.chat_id} now ends with (server at event {now}, newest last):\n"
            + "\n".join(lines)
        )


def _short(text: str | None, limit: int = 80) -> str:
    if text is None:
        return "(no text)"
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
