"""Polling helpers for tests that share their event loop with the bot.

The bot under test runs on the test's own event loop, so waiting must yield
to it (``asyncio.sleep``), never block the thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_INTERVAL = 0.01


async def wait_for(
    predicate: Callable[[], bool],
    timeout: float = 5.0,  # noqa: ASYNC109 - see FakeBotApi.wait_for
    *,
    message: str | None = None,
) -> None:
    """Wait until ``predicate()`` is true; raise TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise TimeoutError(f"not true within {timeout} s: {what}")
        await asyncio.sleep(POLL_INTERVAL)
