"""Running the real bot Application against the fake Bot API server."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.application import build_application
from bot.content import Snapshot
from bot.context import YardemApplication
from bot.i18n import Translator
from bot.services import Services
from bot.settings import Settings
from tests.fakebot import TEST_TOKEN, FakeBotApi

QUIET_SECONDS = 0.5
"""How long ``settle()`` needs the bot to have done nothing (no Bot API call, no
update fetched) before it believes nothing more will happen. Within one
answer the bot's pauses between calls are its own database and crypto work,
a few milliseconds; 0.5 s is a hundred times that, enough for a scheduler that
starves the process on a loaded two-core machine, and short enough that the
few quiet checks left cost seconds, not minutes, per run."""


@dataclass
class FakeClock:
    """The bot's clock in tests, so retention can be tested without waiting.

    It starts at the real time because the fake Bot API server dates messages
    by the real clock (plus its own offset): a fixed start would put every
    message in the bot's future or past depending on the day the tests run.
    """

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def settings_for(server: FakeBotApi, data_dir: Path) -> Settings:
    # The bot's clock stands still in tests, so the flood limit would never
    # refill: journeys run without it; tests/e2e/test_floods.py sets its own.
    # The key lives outside DATA_DIR, as it does by default (in the user's config folder).
    return Settings(
        bot_token=TEST_TOKEN,
        bot_api_url=server.base_url,
        data_dir=data_dir,
        flood_burst=1_000_000,
        root_key_file=data_dir.parent / "config" / "root.key",
    )


@dataclass
class RunningBot:
    application: YardemApplication
    server: FakeBotApi
    clock: FakeClock

    @property
    def services(self) -> Services:
        services = self.application.bot_data.services
        assert services is not None
        return services

    @property
    def snapshot(self) -> Snapshot:
        return self.services.content.current

    def tr(self, locale: str) -> Translator:
        return self.snapshot.translators[locale]

    async def settle(self) -> None:
        """Wait for a quiet bot, to show that nothing more happens after a step.

        Only for that: a step waits for its specific result (see steps.py),
        since a loaded machine can pause the bot longer than any quiet period
        in the middle of an answer. Call it after the specific result arrived,
        right before asserting that nothing else changed.
        """
        await self.server.wait_idle(min_quiet=QUIET_SECONDS, timeout=60)


@contextlib.asynccontextmanager
async def running_bot(
    server: FakeBotApi, settings: Settings, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    application = build_application(settings, clock=clock)
    # The same start and stop sequence as Application.run_polling, which the
    # tests cannot use because it owns the event loop.
    async with application:
        assert application.post_init is not None
        assert application.post_shutdown is not None
        await application.post_init(application)
        try:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield RunningBot(application, server, clock)
            finally:
                await application.updater.stop()
                await application.stop()
        finally:
            await application.post_shutdown(application)


class RawLogCapture(logging.Handler):
    """Keeps every record as formatted text, before any redaction, with tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")

    @property
    def text(self) -> str:
        return self.stream.getvalue()


@contextlib.contextmanager
def capture_logs() -> Iterator[RawLogCapture]:
    """Capture what the bot logs at DEBUG with production logger levels."""
    from bot.logs import configure_logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("DEBUG", [])
    capture = RawLogCapture()
    root.handlers.insert(0, capture)  # first, so it sees records before redaction
    try:
        yield capture
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
