"""The fake Bot API's flood control on a share of calls, as Telegram answers it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from tests.fakebot import TEST_TOKEN, FakeBotApi

MEMBER_ID = 1001


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=server.base_url) as real_bot:
        yield real_bot


# PTB reads RetryAfter.retry_after while building the error, which warns.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_refused_call_has_no_effect_and_polling_is_spared(
    server: FakeBotApi, bot: Bot
) -> None:
    member = server.user(MEMBER_ID, first_name="Aygul")
    server.flood_share(1.0, retry_after=0.25)
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(MEMBER_ID, "hello")
    assert refused.value._retry_after.total_seconds() == 0.25, "fractions reach PTB"
    assert member.visible_messages() == []
    assert [call.method for call in server.calls("sendMessage")] == ["sendMessage"], "logged"
    assert await bot.get_updates(timeout=0) == (), "getUpdates is never refused"
    server.flood_share(0)
    await bot.send_message(MEMBER_ID, "hello")
    assert [m.text for m in member.visible_messages()] == ["hello"]


async def test_the_refused_share_is_seeded_and_about_right(server: FakeBotApi, bot: Bot) -> None:
    statuses: list[int] = []

    def observe(method: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        statuses.append(status)

    server.flood_share(0)
    server.observe(observe)  # after flood_share, so it sees the refusals too

    async def refusals(seed: int) -> list[int]:
        statuses.clear()
        server.flood_share(0.05, retry_after=1, seed=seed)
        for _ in range(400):
            with contextlib.suppress(RetryAfter):
                await bot.get_me()
        return [n for n, status in enumerate(statuses) if status == 429]

    first = await refusals(7)
    assert 5 <= len(first) <= 40
    assert await refusals(7) == first, "the same seed refuses the same calls"
