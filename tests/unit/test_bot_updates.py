"""Updates of one chat run in order; different chats run side by side."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.updates import MAX_QUEUED_PER_CHAT, PerChatUpdateProcessor


def _update(update_id: int, chat_id: int, text: str | None = None) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, text=text)  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_is_serialised_and_chats_overlap() -> None:
    processor = PerChatUpdateProcessor(16)
    running: dict[int, int] = {}
    overlap_within_chat = False
    overlap_across_chats = False
    order: list[int] = []

    async def handle(update_id: int, chat_id: int) -> None:
        nonlocal overlap_within_chat, overlap_across_chats
        running[chat_id] = running.get(chat_id, 0) + 1
        if running[chat_id] > 1:
            overlap_within_chat = True
        if sum(1 for count in running.values() if count) > 1:
            overlap_across_chats = True
        # Slow handler work is the thing tested: a handler still busy when the
        # next update arrives is what could overlap within a chat.
        await asyncio.sleep(0.02)
        order.append(update_id)
        running[chat_id] -= 1

    jobs = [
        processor.process_update(_update(n, 1 if n % 2 else 2), handle(n, 1 if n % 2 else 2))
        for n in range(1, 9)
    ]
    await asyncio.gather(*jobs)
    assert not overlap_within_chat
    assert overlap_across_chats
    assert [n for n in order if n % 2] == [1, 3, 5, 7]
    assert [n for n in order if not n % 2] == [2, 4, 6, 8]
    assert processor._locks == {}, "no chat id is kept once its updates are done"


async def test_a_flooding_chat_neither_blocks_others_nor_queues_without_bound() -> None:
    processor = PerChatUpdateProcessor(2)
    handled: list[int] = []
    flood_done_when_other_served: list[int] = []
    # The flooding chat's handlers hang until the other member has been served:
    # if the flood held the other member up, this test would never finish.
    other_served = asyncio.Event()

    async def stuck(update_id: int) -> None:
        await other_served.wait()
        handled.append(update_id)

    async def quick() -> None:
        flood_done_when_other_served.append(len(handled))
        other_served.set()

    burst = MAX_QUEUED_PER_CHAT + 20
    flood = [processor.process_update(_update(n, 1), stuck(n)) for n in range(1, burst + 1)]
    wipe = processor.process_update(_update(999, 1, "/wipe"), stuck(999))
    others = [processor.process_update(_update(1000, 2), quick())]
    async with asyncio.timeout(10):  # a hang is the failure, reported rather than waited out
        await asyncio.gather(*flood, wipe, *others)
    assert flood_done_when_other_served == [0], "the other member was served amid the flood"
    assert handled[:-1] == list(range(1, MAX_QUEUED_PER_CHAT + 1)), "the excess was dropped"
    assert handled[-1] == 999, "a wipe is never dropped"


async def test_an_album_is_not_dropped() -> None:
    processor = PerChatUpdateProcessor(4)
    handled: list[int] = []

    async def handle(update_id: int) -> None:
        # Slow handler work is the thing tested: the album's later parts arrive
        # while the first is still being handled, and must wait, not be dropped.
        await asyncio.sleep(0.001)
        handled.append(update_id)

    await asyncio.gather(*(processor.process_update(_update(n, 1), handle(n)) for n in range(10)))
    assert handled == list(range(10))
