"""A wipe skips the queues a flood fills: the shared slots and the outgoing bulk queue.

No time is asserted: each test holds a queue shut (with an event, or a bulk
rate of one an hour) and shows the wipe done while something else still waits
in that queue, or shows the order the queue serves.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from telegram import Chat, Message, Update

from bot import sending
from bot.sending import Priority, SendingPolicy
from bot.updates import PerChatUpdateProcessor

VOLUNTEER = 2002


def _wiping() -> bool:
    """Whether the running update is handled as a wipe: urgent, and holding no slot."""
    origin = sending.current()
    return origin is not None and origin.priority is Priority.URGENT and origin.slot is None


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
        seen_wiping.append(_wiping())

    async def ordinary() -> None:
        seen_wiping.append(_wiping())

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


class Wire:
    """Stands in for PTB's HTTP request: records the order calls go out."""

    def __init__(self, policy: SendingPolicy) -> None:
        self.policy = policy
        self.done: list[str] = []

    async def request(self, name: str, endpoint: str, chat: int) -> None:
        async def call() -> dict[str, Any]:
            self.done.append(name)
            return {}

        await self.policy.process_request(call, (), {}, endpoint, {"chat_id": chat}, None)


async def test_a_wipes_calls_skip_the_bulk_queue() -> None:
    # One bulk send an hour: whatever queues for the lane stays queued.
    wire = Wire(SendingPolicy(bulk_rate=1 / 3600, bulk_burst=1))
    with sending.in_background():
        await wire.request("first", "sendMessage", 1)  # uses the hour's only permit
        queued = asyncio.create_task(wire.request("queued", "sendMessage", 2))
    await asyncio.sleep(0)

    async def wipe() -> None:
        with sending.wiping(3):
            await wire.request("wipe", "deleteMessages", 3)
            await wire.request("pop-up", "editMessageText", 3)

    await asyncio.create_task(wipe())
    assert wire.done == ["first", "wipe", "pop-up"]
    assert not queued.done(), "an ordinary call still waits its turn"
    queued.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await queued


async def test_a_wipes_farewell_goes_ahead_of_queued_bulk_sends() -> None:
    """Blanking the volunteer's copies and telling them is bulk, but first in line."""
    wire = Wire(SendingPolicy(bulk_rate=200.0, bulk_burst=1))
    with sending.in_background():
        await wire.request("first", "sendMessage", 1)  # uses the burst
        routine = asyncio.create_task(wire.request("routine", "sendMessage", 10))
    with sending.answering(11):
        prompt = asyncio.create_task(wire.request("relay", "copyMessage", 12))
    await asyncio.sleep(0)

    async def farewell() -> None:
        with sending.wiping(3):
            await wire.request("blank copy", "editMessageText", VOLUNTEER)

    await asyncio.gather(routine, prompt, asyncio.create_task(farewell()))
    assert wire.done == ["first", "blank copy", "relay", "routine"]
