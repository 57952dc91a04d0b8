"""The fake Telegram's world: chats, messages, the update queue, the call log.

Two threads touch this state: HTTP handler threads serving the bot, and the
test's asyncio thread acting as users. Everything is guarded by one re-entrant
lock wrapped in a condition (``cond``); a compound operation (check a message,
then edit it) holds ``cond`` for its whole length, and the long-polling
``getUpdates`` waits on ``cond`` until an update is queued, a newer poll
arrives, or the server stops.

Every change the tests may wait for (a message sent, edited or deleted, a call
answered, an update queued or fetched) takes the next number of one sequence
(``seq``) and wakes the listeners: the asyncio waiters of ``waiting.py``, which
cannot wait on ``cond`` without blocking the event loop the bot runs on.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakebot.models import TEST_TOKEN, ApiCall, ApiError, BotMessage
from tests.fakebot.rules import echoed_markup, inline_buttons

# Telegram lets a bot delete messages in a private chat for 48 hours only.
DELETE_WINDOW_SECONDS = 48 * 3600

# Update types Telegram delivers when allowed_updates is empty or never set.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class StoredMessage:
    json: dict[str, Any]
    """The Message JSON Telegram would return for this message now."""
    from_bot: bool
    sent_markup: dict[str, Any] | None = None
    protect_content: bool = False
    seq: int = 0
    """The event number of the last send or edit."""

    def snapshot(self) -> BotMessage:
        text = self.json.get("text", self.json.get("caption"))
        entities = self.json.get("entities", self.json.get("caption_entities", []))
        return BotMessage(
            message_id=self.json["message_id"],
            text=text,
            buttons=inline_buttons(self.sent_markup),
            protect_content=self.protect_content,
            date=self.json["date"],
            edit_date=self.json.get("edit_date"),
            entities=copy.deepcopy(entities),
            reply_markup=copy.deepcopy(self.sent_markup),
            raw=copy.deepcopy(self.json),
            seq=self.seq,
        )


@dataclass
class ChatState:
    """A private chat: its id equals the member's user id, as in Telegram."""

    user: dict[str, Any]
    chat: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    # One counter for both directions: in a private chat the bot's and the
    # member's messages share the message_id sequence.
    next_message_id: int = 1
    blocked: bool = False
    started: bool = True
    """False until the user first writes, for users registered with started=False."""


@dataclass
class QueuedUpdate:
    update: dict[str, Any]
    delivered: bool = False
    """Returned by at least one getUpdates (it stays queued until an offset confirms it)."""

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next((key for key in self.update if key != "update_id"), "")


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class ServerState:
    """All mutable state of the fake server. Every method takes ``cond`` itself."""

    def __init__(self, *, bot_username: str, bot_first_name: str) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # Like Telegram, the bot's user id is the number before the token's colon;
        # it is updated from each request's token.
        self.bot_id = int(TEST_TOKEN.split(":", 1)[0])
        self.chats: dict[int, ChatState] = {}
        self.updates: list[QueuedUpdate] = []
        self.next_update_id = 100_000
        self.allowed_updates: list[str] | None = None
        self.calls: list[ApiCall] = []
        self.callbacks: dict[str, dict[str, Any] | None] = {}
        """callback_query id -> the answerCallbackQuery params, or None while unanswered."""
        self.injected: dict[str, deque[ApiError]] = {}
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook: dict[str, Any] = {}
        self.counter = 0
        # Bookkeeping for FakeBotApi.wait_idle and stop().
        self.poll_generation = 0
        self.bot_requests_in_flight = 0
        self.open_requests = 0
        self.last_activity = time.monotonic()
        self.stopping = False
        self.clock_offset = 0.0
        # The event sequence and who to wake on each event (see the module doc).
        self.seq = 0
        self._listeners: set[Callable[[], None]] = set()

    # -- clock and identity -------------------------------------------------

    def now(self) -> int:
        """Unix time as the fake Telegram sees it (shifted by advance_clock)."""
        return int(time.time() + self.clock_offset)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def next_counter(self) -> int:
        with self.cond:
            self.counter += 1
            return self.counter

    def touch(self) -> None:
        """Note activity now; wait_idle needs a quiet period after the last one."""
        with self.cond:
            self.last_activity = time.monotonic()
            self.event()

    # -- the event sequence -------------------------------------------------

    def event(self) -> int:
        """Something changed: take the next event number and wake every waiter."""
        with self.cond:
            self.seq += 1
            self.cond.notify_all()
            for listener in list(self._listeners):
                listener()
            return self.seq

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from whichever thread made the change) on every event.

        It runs while ``cond`` is held, so it must only hand the news on (e.g.
        ``loop.call_soon_threadsafe``), never wait or take other locks.
        """
        with self.cond:
            self._listeners.add(listener)

    def unlisten(self, listener: Callable[[], None]) -> None:
        with self.cond:
            self._listeners.discard(listener)

    # -- chats and messages -------------------------------------------------

    def register_user(
        self,
        user_id: int,
        *,
        first_name: str,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> None:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username is not None:
            user["username"] = username
            chat["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        with self.cond:
            existing = self.chats.get(user_id)
            if existing is None:
                self.chats[user_id] = ChatState(user=user, chat=chat, started=started)
            else:
                existing.user, existing.chat = user, chat

    def chat_state(self, chat_id: int) -> ChatState:
        with self.cond:
            try:
                return self.chats[chat_id]
            except KeyError:
                raise LookupError(f"no user {chat_id} was registered with server.user()") from None

    def add_message(
        self,
        chat: ChatState,
        content: dict[str, Any],
        *,
        from_bot: bool,
        markup: dict[str, Any] | None = None,
        protect_content: bool = False,
        reply_to: dict[str, Any] | None = None,
    ) -> StoredMessage:
        with self.cond:
            message_id = chat.next_message_id
            chat.next_message_id += 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "from": self.bot_user() if from_bot else copy.deepcopy(chat.user),
                "chat": copy.deepcopy(chat.chat),
                "date": self.now(),
            }
            if reply_to is not None:
                message["reply_to_message"] = reply_to
            message.update(copy.deepcopy(content))
            echoed = echoed_markup(markup)
            if echoed is not None:
                message["reply_markup"] = copy.deepcopy(echoed)
            if protect_content:
                message["has_protected_content"] = True
            stored = StoredMessage(
                json=message,
                from_bot=from_bot,
                sent_markup=copy.deepcopy(markup),
                protect_content=protect_content,
            )
            chat.messages[message_id] = stored
            stored.seq = self.event()
            return stored

    # -- updates ------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an update; assigns ``update_id`` unless the update brings its own."""
        with self.cond:
            update = copy.deepcopy(update)
            if "update_id" not in update:
                update = {"update_id": self.next_update_id, **update}
            self.next_update_id = max(self.next_update_id, int(update["update_id"])) + 1
            callback = update.get("callback_query")
            if isinstance(callback, dict) and isinstance(callback.get("id"), str):
                self.callbacks.setdefault(callback["id"], None)
            self.updates.append(QueuedUpdate(update))
            self.last_activity = time.monotonic()
            self.event()
            return int(update["update_id"])

    def confirm_updates(self, offset: int) -> None:
        """Apply getUpdates' ``offset``: forget what it confirms (Bot API semantics)."""
        with self.cond:
            if offset > 0:
                self.updates = [u for u in self.updates if u.update_id >= offset]
            elif offset < 0:
                # A negative offset keeps only the last -offset updates.
                self.updates = self.updates[offset:]

    def take_updates(self, limit: int) -> list[dict[str, Any]]:
        """The next ``limit`` deliverable updates, marked delivered (not removed)."""
        with self.cond:
            allowed = self.allowed_updates
            kept: list[QueuedUpdate] = []
            for queued in self.updates:
                if allowed is None and queued.kind in _DEFAULT_EXCLUDED_UPDATES:
                    continue  # Telegram never stores updates the bot did not ask for.
                if allowed is not None and queued.kind not in allowed:
                    continue
                kept.append(queued)
            self.updates = kept
            batch = kept[:limit]
            for queued in batch:
                queued.delivered = True
            if batch:
                self.last_activity = time.monotonic()
                self.event()
            return [copy.deepcopy(queued.update) for queued in batch]

    def undelivered_count(self) -> int:
        with self.cond:
            return sum(1 for queued in self.updates if not queued.delivered)

    # -- files --------------------------------------------------------------

    def file_data(self, file_id: str) -> bytes:
        """The bytes stored under ``file_id`` (sent by a user or uploaded by the bot)."""
        with self.cond:
            stored = self.files.get(file_id)
            if stored is None:
                raise LookupError(f"no file {file_id!r}")
            return stored.data

    def new_file(
        self, kind: str, extension: str, size: int, data: bytes | None = None
    ) -> StoredFile:
        """Register a fake file so getFile and downloads work for its id.

        ``data``: the file's bytes (a catalog a coordinator uploads); else ``size``
        filler bytes.
        """
        with self.cond:
            number = self.next_counter()
            stored = StoredFile(
                file_id=f"FAKE-{kind}-{number:06d}-AgACAgIAAxkBAAI",
                file_unique_id=f"AQAD{number:06d}",
                file_path=f"{kind}s/file_{number}.{extension}",
                data=data if data is not None else bytes(number % 256 for _ in range(size)),
            )
            self.files[stored.file_id] = stored
            return stored
