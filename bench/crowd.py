"""Simulated members pressing buttons, with the fake Bot API, in a process of their own.

Not a benchmark itself: the benchmarks start a ``RemoteCrowd`` and run the bot
under test in their own process. In the tests the fake server runs in a thread
beside the bot, so both share one GIL and the server's HTTP parsing, JSON and
lock count against the bot. Here the server, and the members driven from it,
have their own interpreter, so what a benchmark measures is the bot (on a
machine with at least two cores; the figures print the core count).

A member presses the next button the moment the bot's answer arrives: the
first call in its chat after the press that carries an inline keyboard. They
go through the flows' first screens as a person would: "English" on the
language picker, then back and forth between "Red Notices and Diffusions" on
the main menu and "☰ Menu" on the topic's screen. The floor bot in
``floor_bot.py`` shows the same labels, so one crowd drives both.

Latency is from the moment the press is queued (as Telegram would deliver it)
until the answer reaches the server, both read from this process's clock.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakebot import FakeBotApi, FakeUser

LABELS = ("English", "Red Notices and Diffusions", "☰ Menu")
"""What members press, in order of preference, when the answer shows it."""
ANSWERS = frozenset({"sendMessage", "editMessageText", "copyMessage"})


@dataclass
class Member:
    user: FakeUser
    labels: tuple[str, ...] = ()
    pressed_at: float | None = None
    pressed: str = ""
    ready: bool = False


@dataclass
class Run:
    """One measured stretch: presses are answered and timed while it lasts."""

    mode: str  # "closed": press again at once; "open": the scheduler presses
    until: float
    latencies: list[float] = field(default_factory=list)
    answered_in_window: int = 0
    started: float = field(default_factory=time.monotonic)


class Crowd:
    """Members on a fake Bot API server, driven from the server's own threads."""

    def __init__(self, server: FakeBotApi) -> None:
        self._server = server
        self._members: dict[int, Member] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._run: Run | None = None
        self._idle: deque[int] = deque()
        self.stuck = 0
        self.wrong = 0
        """Answers that were not the screen the press leads to (an apology, say)."""

    # -- set-up ---------------------------------------------------------------

    def register(self, first_id: int, count: int) -> None:
        for user_id in range(first_id, first_id + count):
            user = self._server.user(user_id, first_name="M", language_code="en")
            self._members[user_id] = Member(user)

    def start(self, first_id: int, count: int) -> None:
        """Each member sends /start and walks to the main menu, where they wait."""
        for user_id in range(first_id, first_id + count):
            self._members[user_id].user.send_text("/start")

    def wait_ready(self, first_id: int, count: int, timeout: float) -> int:
        ids = range(first_id, first_id + count)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                ready = sum(1 for user_id in ids if self._members[user_id].ready)
                if ready == count or time.monotonic() >= deadline:
                    return ready
                self._changed.wait(0.2)

    def seed_screen(self, first_id: int, count: int, text: str, markup: dict[str, Any]) -> int:
        """Put a bot message with this keyboard in each chat, as if the bot had sent it.

        Returns its message id (the same in every fresh chat). Benchmarks that
        store members' states directly use it to give them the screen to press.
        """
        # The fake has no public way to forge the bot's own messages, and tests
        # should not want one; a benchmark's set-up reaches into its state.
        state = self._server._state
        message_id = 0
        for user_id in range(first_id, first_id + count):
            member = self._members[user_id]
            chat = state.chat_state(user_id)
            stored = state.add_message(
                chat, {"text": text}, from_bot=True, markup=markup, protect_content=True
            )
            message_id = int(stored.json["message_id"])
            member.labels = tuple(
                button["text"] for row in markup["inline_keyboard"] for button in row
            )
            member.ready = True
        return message_id

    # -- measuring ------------------------------------------------------------

    def closed(self, first_id: int, count: int, seconds: float, warm: float) -> dict[str, Any]:
        """Every member presses as fast as they are answered, for ``warm + seconds``."""
        start = time.monotonic()
        run = Run("closed", until=start + warm + seconds)
        with self._lock:
            self._run = run
            for user_id in range(first_id, first_id + count):
                self._press(self._members[user_id])
        time.sleep(warm)
        with self._lock:
            run.latencies.clear()
            run.answered_in_window = 0
            run.started = time.monotonic()
        time.sleep(seconds)
        return self._finish(run, first_id, count)

    def open(self, first_id: int, count: int, rate: float, seconds: float) -> dict[str, Any]:
        """Presses at a fixed rate from whichever members are waiting, for ``seconds``."""
        run = Run("open", until=time.monotonic() + seconds)
        skipped = 0
        with self._lock:
            self._run = run
            self._idle = deque(range(first_id, first_id + count))
        due = time.monotonic()
        total = int(rate * seconds)
        for _ in range(total):
            due += 1 / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with self._lock:
                if not self._idle:
                    skipped += 1  # every member still waits: the bot is behind
                    continue
                self._press(self._members[self._idle.popleft()])
        result = self._finish(run, first_id, count)
        result["skipped"] = skipped
        result["offered"] = total
        return result

    def burst(self, first_id: int, count: int, timeout: float) -> dict[str, Any]:
        """Every member presses once, all at the same moment; waits for every answer."""
        run = Run("burst", until=time.monotonic() + timeout)
        with self._lock:
            self._run = run
            for user_id in range(first_id, first_id + count):
                self._press(self._members[user_id])
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(run.latencies) < count and time.monotonic() < deadline:
                self._changed.wait(0.2)
        return self._finish(run, first_id, count, grace=0)

    def _finish(self, run: Run, first_id: int, count: int, grace: float = 10) -> dict[str, Any]:
        ended = time.monotonic()
        with self._lock:
            run.until = min(run.until, ended)
            window = ended - run.started
        ids = range(first_id, first_id + count)
        deadline = time.monotonic() + grace
        with self._changed:
            while any(self._members[i].pressed_at is not None for i in ids):
                if time.monotonic() >= deadline:
                    break
                self._changed.wait(0.1)
            unanswered = sum(1 for i in ids if self._members[i].pressed_at is not None)
            self._run = None
            for user_id in ids:
                self._members[user_id].pressed_at = None
            return {
                "latencies": list(run.latencies),
                "answered_in_window": run.answered_in_window,
                "window": window,
                "unanswered": unanswered,
                "stuck": self.stuck,
                "wrong": self.wrong,
            }

    # -- driving, on the server's threads --------------------------------------

    def on_call(self, method: str, params: dict[str, Any], status: int, body: Any) -> None:
        if method not in ANSWERS or status != 200:
            return
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return
        chat_id = params.get("chat_id")
        member = self._members.get(chat_id) if isinstance(chat_id, int) else None
        if member is None:
            return
        now = time.monotonic()
        labels = tuple(button["text"] for row in markup["inline_keyboard"] for button in row)
        with self._changed:
            member.labels = labels
            run = self._run
            if member.pressed_at is not None:
                expected = LABELS[2] if member.pressed == LABELS[1] else LABELS[1]
                if expected not in labels:
                    self.wrong += 1
                if run is not None:
                    run.latencies.append(now - member.pressed_at)
                    if run.started <= now < run.until:
                        run.answered_in_window += 1
                member.pressed_at = None
            elif not member.ready and "English" in labels:
                # Warming up: the language picker after /start.
                self._press(member)
                return
            if not member.ready:
                member.ready = LABELS[1] in labels
                self._changed.notify_all()
                return
            self._changed.notify_all()
            if run is None:
                return
            if run.mode == "closed" and now < run.until:
                self._press(member)
            elif run.mode == "open":
                self._idle.append(member.user.user_id)

    def _press(self, member: Member) -> None:
        """Press the preferred label on the member's screen (caller holds the lock)."""
        label = next((label for label in LABELS if label in member.labels), None)
        if label is None:
            self.stuck += 1
            return
        member.pressed_at = time.monotonic()
        member.pressed = label
        member.user.press(label)


def _serve(connection: Connection) -> None:
    server = FakeBotApi().start()
    crowd = Crowd(server)
    server.observe(crowd.on_call)
    connection.send(server.base_url)
    while True:
        command, args = connection.recv()
        if command == "stop":
            server.stop()
            connection.send(None)
            return
        if command == "calls":
            connection.send(len(server.calls()))
            continue
        try:
            connection.send(getattr(crowd, command)(*args))
        except Exception as error:
            connection.send(error)


class RemoteCrowd:
    """The parent's handle on a Crowd in a child process; every call runs off the event loop."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.base_url: str = self._connection.recv()
        self._lock = threading.Lock()

    def _call(self, command: str, *args: Any) -> Any:
        with self._lock:
            self._connection.send((command, args))
            result = self._connection.recv()
        if isinstance(result, Exception):
            raise result
        return result

    async def call(self, command: str, *args: Any) -> Any:
        return await asyncio.to_thread(self._call, command, *args)

    def stop(self) -> None:
        self._call("stop")
        self._process.join(timeout=10)


class LocalCrowd:
    """The same interface with the server in this process, as the tests run it."""

    def __init__(self) -> None:
        self._server = FakeBotApi().start()
        self._crowd = Crowd(self._server)
        self._server.observe(self._crowd.on_call)
        self.base_url = self._server.base_url

    async def call(self, command: str, *args: Any) -> Any:
        if command == "calls":
            return len(self._server.calls())
        return await asyncio.to_thread(getattr(self._crowd, command), *args)

    def stop(self) -> None:
        self._server.stop()


def crowd(same_process: bool) -> RemoteCrowd | LocalCrowd:
    return LocalCrowd() if same_process else RemoteCrowd()
