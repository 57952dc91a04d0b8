from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import FakeClock, RunningBot, running_bot, settings_for
from tests.fakebot import FakeBotApi


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def bot(server: FakeBotApi, tmp_path: Path, clock: FakeClock) -> AsyncIterator[RunningBot]:
    async with running_bot(server, settings_for(server, tmp_path / "data"), clock) as running:
        yield running
