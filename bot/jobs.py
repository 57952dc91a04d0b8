"""Scheduled work: forget what is no longer needed, and follow published content.

The jobs are idempotent, and re-announcing takes each round by a
compare-and-set in the database, so a second worker (a future multi-worker
deployment) would do no harm and send no duplicate notices. What they send is
bulk, at Telegram's bulk pace, urgent requests' notices first (bot.sending).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import sending
from bot.content import POLL_SECONDS
from bot.context import YardemApplication, YardemContext
from bot.key_follow import FOLLOW_SECONDS, follow_keys_job
from bot.referral_desk import Desk
from storage.errors import StorageError

log = logging.getLogger(__name__)

IDLE_DAYS = 90
"""A member silent this long has their stored place and language erased."""


@sending.scheduled
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


@sending.scheduled
async def purge_idle_members(context: YardemContext) -> None:
    count = await context.services.members.purge_idle(IDLE_DAYS)
    if count:
        log.info("erased %d members idle for %d days", count, IDLE_DAYS)


@sending.scheduled
async def renotify_urgent(context: YardemContext) -> None:
    """Urgent requests are announced again until claimed; state lives in the database,
    so a restart picks up where the last round left off."""
    rounds = await Desk(context.bot, context.services).renotify_urgent()
    if rounds:
        log.info("re-announced %d urgent requests", rounds)


@sending.scheduled
async def expire_referrals(context: YardemContext) -> None:
    expired, purged = await Desk(context.bot, context.services).expire_and_purge()
    if expired or purged:
        log.info("expired %d unclaimed requests, erased %d closed ones", expired, purged)


@sending.scheduled
async def keep_audit(context: YardemContext) -> None:
    """Seal finished days' relay counts into the chain; compact entries past retention.

    Both are single transactions that take the chain's head first, so two
    workers running them at once do no harm.
    """
    services = context.services
    today = services.clock().date()
    sealed = await services.audit.seal_relay_counts(before=today)
    try:
        compacted = await services.audit.compact(
            before=today - timedelta(days=services.settings.audit_retention_days), today=today
        )
    except StorageError as error:
        log.error("audit log left as it is: %s", error)
        return
    if sealed or compacted:
        log.info(
            "audit log: %d relay counts sealed, %d old entries compacted",
            sealed,
            compacted.removed if compacted else 0,
        )


@sending.scheduled
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
    jobs.run_repeating(keep_audit, interval=timedelta(days=1), first=timedelta(minutes=3))
    jobs.run_repeating(
        refresh_content, interval=timedelta(seconds=POLL_SECONDS), first=timedelta(seconds=1)
    )
    jobs.run_repeating(
        follow_keys_job, interval=timedelta(seconds=FOLLOW_SECONDS), first=timedelta(seconds=2)
    )
