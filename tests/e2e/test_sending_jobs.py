"""Every job the running bot schedules sends as a routine bulk sender, not as an answer."""

from __future__ import annotations

from bot import sending
from tests.e2e.harness import RunningBot


async def test_every_scheduled_job_is_marked_for_the_bulk_lane(bot: RunningBot) -> None:
    # A job's timer may be armed inside an update's context; unmarked, what it
    # sends would pass for that member's answer and skip the bulk queue.
    queue = bot.application.job_queue
    assert queue is not None
    jobs = queue.jobs()
    names = {job.name for job in jobs}
    assert {"heartbeat", "follow_keys_job", "refresh_content", "keep_audit"} <= names, names
    unmarked = [job.name for job in jobs if not sending.is_scheduled(job.callback)]
    assert unmarked == []
