"""Scheduled housekeeping: forget what is no longer needed.

Both jobs are idempotent, so a second worker running them (a future
multi-worker deployment) would do no harm, only redundant work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import YardemApplication, YardemContext

log = logging.getLogger(__name__)

IDLE_DAYS = 90
"""A member silent this long has their stored place and language erased."""


async def forget_old_messages(context: YardemContext) -> None:
    """Past 48 h Telegram refuses deletion, so the ids only document activity."""
    count = await context.services.members.forget_old_messages()
    if count:
        log.info("forgot %d message references too old to delete", count)


async def purge_idle_members(context: YardemContext) -> None:
    count = await context.services.members.purge_idle(IDLE_DAYS)
    if count:
        log.info("erased %d members idle for %d days", count, IDLE_DAYS)


def schedule(application: YardemApplication) -> None:
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    jobs.run_repeating(forget_old_messages, interval=timedelta(hours=1), first=timedelta(minutes=1))
    jobs.run_repeating(purge_idle_members, interval=timedelta(days=1), first=timedelta(minutes=5))
