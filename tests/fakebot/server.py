"""``FakeBotApi``: a fake Telegram Bot API server on 127.0.0.1 for end-to-end tests.

The real ``telegram.ext.Application`` talks to it over real HTTP::

    with FakeBotApi() as server:
        app = ApplicationBuilder().token(TEST_TOKEN).base_url(server.base_url).build()
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            member = server.user(1001, first_name="Aygul", language_code="ug")
            mark = server.mark()
            member.send_text("/start")
            greeting = await member.wait_for_button("English", after=mark)
            assert greeting.text == ...
            await app.updater.stop()
            await app.stop()

The server runs in a daemon thread; the test-side methods here may be called
from the test's event loop at any time (all state sits behind one lock).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from tests.fakebot.methods import BotApi, flood_error
from tests.fakebot.models import ApiCall, ApiError, BotMessage
from tests.fakebot.state import ServerState
from tests.fakebot.transport import FakeHttpServer
from tests.fakebot.user import FakeUser
from tests.fakebot.waiting import DEFAULT_TIMEOUT, WaitTimeout, Wakeup, until, wait_for


@dataclass(frozen=True)
class _Flood:
    """What ``FakeBotApi.flood_share`` refuses, and the seeded dice it throws."""

    share: float
    refusal: ApiError
    chance: random.Random
    spared: frozenset[str]


# How long stop() lets requests that are being answered finish before it cuts
# their connections.
_STOP_GRACE_SECONDS = 1.0


class FakeBotApi:
    """A fake Bot API server. Start with ``start()`` or use as a context manager."""

    def __init__(
        self,
        *,
        bot_username: str = "yardem_test_bot",
        bot_first_name: str = "Yardem Test",
    ) -> None:
        self._state = ServerState(bot_username=bot_username, bot_first_name=bot_first_name)
        self._api = BotApi(self._state)
        self._httpd: FakeHttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("FakeBotApi is already running")
        with self._state.cond:
            self._state.stopping = False
        self._httpd = FakeHttpServer(self._state, self._api)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # The poll interval only bounds how long shutdown() waits.
            kwargs={"poll_interval": 0.01},
            name=f"fake-bot-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake long polls, finish open answers, close every connection."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        state = self._state
        with state.cond:
            state.stopping = True
            state.cond.notify_all()  # Long polls return their (empty) result now.
        httpd.shutdown()  # No new connections after this.
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        with state.cond:
            while state.open_requests and time.monotonic() < deadline:
                state.cond.wait(deadline - time.monotonic())
        httpd.close_connections()
        httpd.server_close()
        thread.join(timeout=_STOP_GRACE_SECONDS)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeBotApi is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: PTB appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``: PTB appends ``<token>/<file_path>``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- users and updates --------------------------------------------------

    def user(
        self,
        user_id: int,
        *,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """Register a user and their private chat with the bot (chat id = user id).

        Only registered chats exist: sending anywhere else is "chat not found".
        With ``started=False`` the user has not opened the bot yet, and sends
        fail with 403 "bot can't initiate conversation with a user" until the
        user first writes. Registering an id again updates the profile and
        keeps the chat.
        """
        self._state.register_user(
            user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        return FakeUser(self._state, user_id)

    def push_raw_update(self, update: dict[str, Any]) -> int:
        """Queue any update JSON as is (forged, malformed, unusual types); returns its id.

        ``update_id`` is assigned unless given. A callback_query id in it becomes
        answerable.
        """
        return self._state.queue_update(update)

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The user blocks the bot: sends to them fail with 403 from now on.

        Like Telegram, this also queues a ``my_chat_member`` update (status
        "kicked") unless ``notify`` is false.
        """
        self._set_blocked(user_id, blocked=True, notify=notify)

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The user unblocks (restarts) the bot; queues ``my_chat_member`` "member"."""
        self._set_blocked(user_id, blocked=False, notify=notify)

    def _set_blocked(self, user_id: int, *, blocked: bool, notify: bool) -> None:
        state = self._state
        with state.cond:
            chat = state.chat_state(user_id)
            if chat.blocked == blocked:
                return
            chat.blocked = blocked
            if not notify:
                return
            member = {"user": state.bot_user(), "status": "member"}
            kicked = {"user": state.bot_user(), "status": "kicked", "until_date": 0}
            old, new = (member, kicked) if blocked else (kicked, member)
            state.queue_update(
                {
                    "my_chat_member": {
                        "chat": chat.chat,
                        "from": chat.user,
                        "date": state.now(),
                        "old_chat_member": old,
                        "new_chat_member": new,
                    }
                }
            )

    # -- fault injection and time -------------------------------------------

    def fail_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` get 429 flood control with ``retry_after``."""
        self._api.inject(method, flood_error(retry_after), times)

    def inject_error(
        self, method: str, *, error_code: int, description: str, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` fail with this error (e.g. 502 Bad Gateway)."""
        self._api.inject(method, ApiError(error_code, description), times)

    def flood_share(
        self,
        share: float,
        *,
        retry_after: float = 1,
        seed: int = 0,
        exempt: Iterable[str] = ("getUpdates",),
    ) -> None:
        """From now on refuse a seeded random ``share`` of calls with 429 and ``retry_after``.

        Like Telegram's flood control, a refused call has no effect; it is logged
        in ``calls()`` like any other. ``exempt`` methods are never refused:
        getUpdates by default, as polling is not what Telegram throttles.
        Telegram gives whole seconds; a fraction keeps tests fast (PTB accepts it).
        Calling it again replaces the settings; ``share=0`` stops refusing.
        """
        refusal = ApiError(
            429, f"Too Many Requests: retry after {retry_after:g}", {"retry_after": retry_after}
        )
        spared = frozenset(method.lower() for method in exempt)
        installed = getattr(self, "_flood", None) is not None
        self._flood = _Flood(share, refusal, random.Random(seed), spared)
        if installed:
            return
        state = self._state
        handle = self._api.handle

        def flooded(token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            flood = self._flood
            if method.lower() not in flood.spared:
                with state.cond:
                    refused = flood.chance.random() < flood.share
                    if refused:
                        # Answered at once, so logged as answered: with its event
                        # number and error, like a call the methods answer.
                        state.last_activity = time.monotonic()
                        state.calls.append(
                            ApiCall(
                                method,
                                copy.deepcopy(params),
                                state.last_activity,
                                seq=state.event(),
                                error=flood.refusal.description,
                            )
                        )
                if refused:
                    return flood.refusal.error_code, flood.refusal.to_json()
            return handle(token, method, params)

        self._api.handle = flooded  # type: ignore[method-assign]

    def observe(self, listener: Callable[[str, dict[str, Any], int, dict[str, Any]], None]) -> None:
        """Call ``listener(method, params, status, body)`` after every answered API call.

        It runs on the server's request thread once the call's effect is visible,
        before the answer goes out. Benchmarks drive simulated members from it.
        Calls refused by ``flood_share`` reach it only if it was first called
        before this.
        """
        handle = self._api.handle

        def observed(token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            status, body = handle(token, method, params)
            listener(method, params, status, body)
            return status, body

        self._api.handle = observed  # type: ignore[method-assign]

    def advance_clock(self, seconds: float) -> None:
        """Move the fake Telegram's clock forward: new dates and the 48-hour delete limit."""
        with self._state.cond:
            self._state.clock_offset += seconds

    # -- reading what the bot did -------------------------------------------

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every API call so far, in order; only those of ``method`` (any case) if given."""
        with self._state.cond:
            calls = list(self._state.calls)
        if method is None:
            return calls
        return [call for call in calls if call.method.lower() == method.lower()]

    def file_data(self, file_id: str) -> bytes:
        """The bytes of a file: one a user sent, or one the bot uploaded (sendDocument)."""
        return self._state.file_data(file_id)

    def answered_callback(self, callback_query_id: str) -> bool:
        with self._state.cond:
            return self._state.callbacks.get(callback_query_id) is not None

    def callback_answer(self, callback_query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery parameters for this query (text, show_alert), if answered."""
        with self._state.cond:
            return copy.deepcopy(self._state.callbacks.get(callback_query_id))

    @property
    def webhook(self) -> dict[str, Any]:
        """The webhook as set: url, secret_token, allowed_updates ({} when none)."""
        with self._state.cond:
            return copy.deepcopy(self._state.webhook)

    def pending_update_count(self) -> int:
        """Queued updates not yet returned by any getUpdates."""
        return self._state.undelivered_count()

    # -- waiting ------------------------------------------------------------
    #
    # Take ``mark = server.mark()`` before an action, then wait for the one
    # thing the next step needs, changed after the mark. Each wait wakes on the
    # server's events (see waiting.py) and, on timeout, names what it waited
    # for and what there is. A timeout parameter (ASYNC109) keeps call sites
    # short; asyncio.timeout around the call would hide what is awaited.

    def mark(self) -> int:
        """The current event number: what changes from now on has a larger ``seq``."""
        with self._state.cond:
            return self._state.seq

    async def wait_for_message(
        self,
        user: FakeUser,
        *,
        text: str | None = None,
        containing: str | None = None,
        button: str | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        """A bot message in ``user``'s chat with all the given properties; see FakeUser."""
        return await user.wait_for_message(
            text=text,
            containing=containing,
            button=button,
            predicate=predicate,
            after=after,
            timeout=timeout,
        )

    async def wait_for_button(
        self,
        user: FakeUser,
        label: str,
        *,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        """A bot message in ``user``'s chat with a button ``label``; see FakeUser."""
        return await user.wait_for_button(label, after=after, timeout=timeout)

    async def wait_for_call(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        after: int | None = None,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> ApiCall:
        """The first answered call of ``method`` (any case) that meets the conditions.

        Only answered calls count (their effect is in the chat already), failed
        ones too: check ``call.error``. ``after`` is a ``mark()``.
        """

        def matches(call: ApiCall) -> bool:
            return (
                call.seq > (after or 0)
                and call.method.lower() == method.lower()
                and (chat_id is None or call.chat_id == chat_id)
                and (predicate is None or predicate(call))
            )

        def check() -> ApiCall | None:
            return next((call for call in self.calls() if matches(call)), None)

        def describe() -> str:
            wanted = f"an answered {method} call"
            if chat_id is not None:
                wanted += f" to chat {chat_id}"
            if predicate is not None:
                wanted += f" for which {getattr(predicate, '__name__', 'the predicate')} holds"
            if after is not None:
                wanted += f" after event {after}"
            recent = [
                f"{call.method}(chat {call.chat_id}, event {call.seq or 'pending'}"
                + (f", {call.error}" if call.error else "")
                + ")"
                for call in self.calls()
                if call.method.lower() != "getupdates"
            ][-8:]
            return f"{wanted}; the last calls were {recent or 'none'}"

        return await until(self._state, check, timeout=timeout, describe=describe)

    async def wait_for_answer(
        self,
        callback_query_id: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The answerCallbackQuery parameters of this press, once the bot answered it."""

        def describe() -> str:
            with self._state.cond:
                known = callback_query_id in self._state.callbacks
            state = "unanswered" if known else "unknown (never pressed on this server)"
            return f"an answer to callback query {callback_query_id}, which is {state}"

        return await until(
            self._state,
            lambda: self.callback_answer(callback_query_id),
            timeout=timeout,
            describe=describe,
        )

    async def wait_for(
        self,
        predicate: Callable[[], bool] | Callable[[], Awaitable[bool]],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        *,
        what: str | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds; it may be a coroutine function.

        Re-checked on every server event and every ``POLL_INTERVAL`` (for
        conditions the server cannot see, such as the bot's database). Say in
        ``what`` what is awaited: the timeout error quotes it.
        """
        await wait_for(predicate, timeout, message=what, state=self._state)

    async def wait_idle(self, min_quiet: float = 0.15, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has settled; for asserting that nothing more happens.

        Settled means: every queued update was fetched by getUpdates, no bot
        request is being served, and nothing happened (no call, no fetch) for
        ``min_quiet`` seconds. Long polls themselves do not count as activity.
        Quiet is evidence, not proof, that the bot is done: wait for the
        specific result of a step with the other waits, and use this only to
        show that nothing follows it.
        """
        state = self._state
        deadline = time.monotonic() + timeout
        with Wakeup(state) as wakeup:
            while True:
                wakeup.clear()
                with state.cond:
                    undelivered = sum(1 for queued in state.updates if not queued.delivered)
                    in_flight = state.bot_requests_in_flight
                    quiet = time.monotonic() - state.last_activity
                if not undelivered and not in_flight and quiet >= min_quiet:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(
                        f"bot not idle within {timeout} s: {undelivered} update(s) not fetched "
                        f"(is the Application polling?), {in_flight} request(s) in flight, "
                        f"last activity {quiet:.2f} s ago"
                    )
                busy = undelivered or in_flight
                await wakeup.wait(left if busy else min(left, min_quiet - quiet))
