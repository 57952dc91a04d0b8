"""A wipe skips the queues a flood fills: the shared slots and the outgoing rate limit.

No time is asserted: each test holds a queue shut with an event and shows the
wipe done while something else still waits in that queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from telegram import Chat, Message, Update

from bot.updates import PerChatUpdateProcessor
from bot.wipe_priority import WipeFirstRateLimiter, wiping


def _update(update_id: int, chat_id: int, text: str | None = None) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, text=text)  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_a_wipe_does_not_wait_for_the_slots_a_flood_holds() -> None:
    processor = PerChatUpdateProcessor(1)
    gate = asyncio.Event()
    seen_wiping: list[bool] = []

    async def stuck() -> None:
        await gate.wait()

    async def wipe() -> None:
        seen_wiping.append(wiping.get())

    async def ordinary() -> None:
        seen_wiping.append(wiping.get())

    holder = asyncio.create_task(processor.process_update(_update(1, 1), stuck()))
    waiting = asyncio.create_task(processor.process_update(_update(2, 2), ordinary()))
    await asyncio.sleep(0)
    await processor.process_update(_update(3, 3, "/wipe"), wipe())
    assert seen_wiping == [True], "the wipe ran, marked, while the only slot was taken"
    assert not waiting.done(), "an ordinary update still waits for the slot"
    gate.set()
    await asyncio.gather(holder, waiting)
    assert seen_wiping == [True, False]


async def test_a_screened_update_never_takes_a_slot() -> None:
    dropped: list[int] = []

    def screen(update: object) -> bool:
        assert isinstance(update, Update)
        keep = update.update_id != 2
        if not keep:
            dropped.append(update.update_id)
        return keep

    processor = PerChatUpdateProcessor(1, screen=screen)
    gate = asyncio.Event()
    ran: list[int] = []

    async def stuck() -> None:
        await gate.wait()

    async def note(number: int) -> None:
        ran.append(number)

    holder = asyncio.create_task(processor.process_update(_update(1, 1), stuck()))
    await asyncio.sleep(0)
    # Returns at once although the only slot is held: dropped before queueing.
    await processor.process_update(_update(2, 2), note(2))
    assert dropped == [2]
    gate.set()
    await holder
    await processor.process_update(_update(3, 2), note(3))
    assert ran == [3]


async def test_a_wipes_calls_skip_the_rate_limiters_queue() -> None:
    limiter = WipeFirstRateLimiter(overall_max_rate=1, overall_time_period=3600)
    done: list[str] = []

    async def call(name: str) -> dict[str, Any]:
        done.append(name)
        return {}

    async def request(name: str, *, wipe: bool) -> None:
        wiping.set(wipe)
        await limiter.process_request(call, (name,), {}, "sendMessage", {"chat_id": 1}, None)

    await request("first", wipe=False)  # uses the hour's only slot
    queued = asyncio.create_task(request("queued", wipe=False))
    await asyncio.sleep(0)
    await asyncio.create_task(request("wipe", wipe=True))
    assert done == ["first", "wipe"]
    assert not queued.done(), "an ordinary call still waits its turn"
    queued.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await queued
