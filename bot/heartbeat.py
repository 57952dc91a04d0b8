"""The running bot's proof of life, for ``python -m bot health`` (Docker's HEALTHCHECK).

Once a minute the bot calls the Bot API (``getMe``) and, if that worked,
writes the time into ``DATA_DIR/heartbeat``. The file holds only that time,
so the health check needs no secret, and it changes on a fixed schedule, so
it tells nothing about when members write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from telegram.error import TelegramError

from bot import sending
from bot.context import YardemApplication, YardemContext

log = logging.getLogger(__name__)

FILE_NAME = "heartbeat"
INTERVAL = timedelta(minutes=1)


def write(data_dir: Path, now: float) -> None:
    """Replace the heartbeat atomically: a reader never sees half a number."""
    temporary = data_dir / f".{FILE_NAME}.{secrets.token_hex(4)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, f"{int(now)}\n".encode("ascii"))
    finally:
        os.close(fd)
    try:
        os.replace(temporary, data_dir / FILE_NAME)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def read(data_dir: Path) -> int | None:
    """The time of the last successful Bot API call, or None if there is none (or it is bad)."""
    try:
        text = (data_dir / FILE_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        return None
    return int(text) if text.isdigit() else None


def started(data_dir: Path) -> None:
    """Start-up just called getMe successfully (PTB's ``initialize``): the first beat."""
    try:
        write(data_dir, time.time())
    except OSError as error:
        log.warning("cannot write the heartbeat in DATA_DIR [%s]", type(error).__name__)


@sending.scheduled
async def beat(context: YardemContext) -> None:
    try:
        await context.bot.get_me()
    except TelegramError as error:
        # The file goes stale and the health check fails: that is the signal.
        log.warning("the Bot API did not answer the heartbeat call [%s]", type(error).__name__)
        return
    try:
        write(context.services.settings.data_dir, time.time())
    except OSError as error:
        log.warning("cannot write the heartbeat in DATA_DIR [%s]", type(error).__name__)


def schedule(application: YardemApplication) -> None:
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    # The first beat is written at start-up (see ``started``): a job due in
    # the first seconds would be skipped for a whole interval if start-up's
    # network calls took longer, as APScheduler counts it missed.
    jobs.run_repeating(beat, interval=INTERVAL, first=INTERVAL, name="heartbeat")
