"""Waiting for the bot, in tests that share their event loop with it.

The bot under test runs on the test's own event loop, so a wait must yield to
the loop, never block the thread. The fake server runs in other threads; every
change there (a message sent, edited or deleted, a call answered, an update
queued or fetched) takes the next number of the server's event sequence and
calls the listeners registered here, which wake the waiting coroutine with
``loop.call_soon_threadsafe``. A wait therefore re-checks exactly when
something changed, not on a timer; only conditions the server cannot see (the
bot's database, say) are also re-checked every ``POLL_INTERVAL``.

Every wait has a timeout and, when it runs out, says what it waited for and
what there is instead, so a failure on a slow machine reads as a diagnosis.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

if TYPE_CHECKING:
    from tests.fakebot.state import ServerState

T = TypeVar("T")

POLL_INTERVAL = 0.02
"""How often conditions outside the server (the bot's database) are re-checked."""

DEFAULT_TIMEOUT = 30.0
"""Long enough for any single step on a two-core machine loaded many times over
(a step takes well under a second alone); a step that takes this long is
stuck, and the error then says on what."""


class WaitTimeout(TimeoutError):
    """A wait ran out; the message names what was awaited and what there is instead."""


class Wakeup:
    """Wakes one coroutine on each server event (use as a context manager).

    ``await wakeup.wait(seconds)`` returns at the next event since the last
    ``clear()``, or after ``seconds`` (None: no limit), whichever is first.
    """

    def __init__(self, state: ServerState | None) -> None:
        self._state = state
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    def _wake(self) -> None:
        # Called from the server's threads (or this one) while its lock is held.
        with contextlib.suppress(RuntimeError):  # the loop closed after the test
            self._loop.call_soon_threadsafe(self._changed.set)

    def __enter__(self) -> Self:
        if self._state is not None:
            self._state.listen(self._wake)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state is not None:
            self._state.unlisten(self._wake)

    def clear(self) -> None:
        self._changed.clear()

    async def wait(self, seconds: float | None) -> None:
        if seconds is None:
            await self._changed.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._changed.wait()


async def until(
    state: ServerState | None,
    check: Callable[[], T | None] | Callable[[], Awaitable[T | None]],
    *,
    timeout: float,  # noqa: ASYNC109 - the timeout is part of what is awaited
    describe: Callable[[], str],
    poll: float | None = None,
) -> T:
    """Return ``check()``'s first result that is not None (or False).

    ``check`` runs now and again after each server event (and every ``poll``
    seconds if given, for conditions the server cannot see); it may be a
    coroutine function. After ``timeout`` seconds, WaitTimeout with
    ``describe()``, which should say what was awaited and what is there now.
    """
    deadline = time.monotonic() + timeout
    with Wakeup(state) as wakeup:
        while True:
            wakeup.clear()  # before the check, so a change during it is not missed
            found = check()
            if inspect.isawaitable(found):
                found = await found
            if found is not None and found is not False:
                return found  # type: ignore[return-value]
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout(f"waited {timeout:g} s in vain for {describe()}")
            await wakeup.wait(left if poll is None else min(left, poll))


async def wait_for(
    predicate: Callable[[], bool] | Callable[[], Awaitable[bool]],
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - see FakeBotApi.wait_for
    *,
    message: str | None = None,
    state: ServerState | None = None,
) -> None:
    """Wait until ``predicate()`` (possibly a coroutine function) is true.

    Re-checked on every event of ``state``'s server, if given, and every
    ``POLL_INTERVAL``, since the predicate may look beyond the server.
    """

    def describe() -> str:
        return message or getattr(predicate, "__name__", repr(predicate))

    await until(state, predicate, timeout=timeout, describe=describe, poll=POLL_INTERVAL)
