"""The event log (resolvers.events) is a push channel's replay buffer, not a history: rows
older than `event_retention_days` are deleted by a daily job. A subscriber resuming from an
older cursor simply continues with what is left; the lasting record is the audit trail and
the tables themselves (application statuses, registrations, jobs, verification batches).
"""

from __future__ import annotations

from datetime import timedelta

from models import clock
from models.events import EventLog
from models.jobs import Job
from resolvers import jobs
from resolvers.settings import get_settings

JOB_KIND = "events.purge"
DAY_SECONDS = 24 * 3600


@jobs.handler(JOB_KIND)
async def purge_events_job(job: Job) -> None:
    await purge_events()


async def schedule_periodic() -> None:
    if get_settings().event_retention_days > 0:
        await jobs.enqueue_once_per_slot(JOB_KIND, DAY_SECONDS)


async def purge_events() -> int:
    """Delete the events older than the retention; returns how many."""
    days = get_settings().event_retention_days
    if days <= 0:
        return 0
    return await EventLog.filter(at__lt=clock.now() - timedelta(days=days)).delete()
