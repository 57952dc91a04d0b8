"""Scheduled work: forget what is no longer needed, and follow published content.

The jobs are idempotent, and re-announcing takes each round by a
compare-and-set in the database, so a second worker (a future multi-worker
deployment) would do no harm and send no duplicate notices.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.content import POLL_SECONDS
from bot.context import YardemApplication, YardemContext
from bot.referral_desk import Desk

log = logging.getLogger(__name__)

IDLE_DAYS = 90
"""A member silent this long has their stored place and language erased."""


async def forget_old_messages(context: YardemContext) -> None:
    """Past 48 h Telegram refuses deletion, so the ids only document activity.

    Relayed voice and video notes, which no edit can blank later, are deleted
    from both chats before that.
    """
    count = await context.services.members.forget_old_messages()
    if count:
        log.info("forgot %d message references too old to delete", count)
    removed = await Desk(context.bot, context.services).remove_fixed_copies()
    if removed:
        log.info("removed %d relayed voice or video notes before they outlive deletion", removed)


async def purge_idle_members(context: YardemContext) -> None:
    count = await context.services.members.purge_idle(IDLE_DAYS)
    if count:
        log.info("erased %d members idle for %d days", count, IDLE_DAYS)


async def renotify_urgent(context: YardemContext) -> None:
    """Urgent requests are announced again until claimed; state lives in the database,
    so a restart picks up where the last round left off."""
    rounds = await Desk(context.bot, context.services).renotify_urgent()
    if rounds:
        log.info("re-announced %d urgent requests", rounds)


async def expire_referrals(context: YardemContext) -> None:
    expired, purged = await Desk(context.bot, context.services).expire_and_purge()
    if expired or purged:
        log.info("expired %d unclaimed requests, erased %d closed ones", expired, purged)


async def refresh_content(context: YardemContext) -> None:
    """A version published by another worker or the CLI goes live here within seconds."""
    await context.services.content.refresh()


def schedule(application: YardemApplication) -> None:
    jobs = application.job_queue
    if jobs is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    jobs.run_repeating(forget_old_messages, interval=timedelta(hours=1), first=timedelta(minutes=1))
    jobs.run_repeating(purge_idle_members, interval=timedelta(days=1), first=timedelta(minutes=5))
    jobs.run_repeating(renotify_urgent, interval=timedelta(minutes=1), first=timedelta(seconds=30))
    jobs.run_repeating(expire_referrals, interval=timedelta(hours=1), first=timedelta(minutes=2))
    jobs.run_repeating(
        refresh_content, interval=timedelta(seconds=POLL_SECONDS), first=timedelta(seconds=1)
    )
