"""Network observations are kept only as long as they serve (KVKK: personal data no longer
needed is deleted): IMSI and MSISDN sightings older than `observation_retention_days` are
deleted by a daily job, in chunks so no transaction holds the table for long.

The batches themselves (operator, batch key, counts: no personal data) stay, so a late retry
of an old batch is still recognised as a replay instead of being stored again.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.jobs import Job
from models.network import NetworkObservation
from resolvers import audit, jobs
from resolvers.actor import Actor
from resolvers.settings import get_settings

JOB_KIND = "operators.purge_observations"
CHUNK = 10_000
DAY_SECONDS = 24 * 3600
PURGER = Actor.system("observation-retention")


@jobs.handler(JOB_KIND)
async def purge_observations_job(job: Job) -> None:
    await purge_observations()


async def schedule_periodic() -> None:
    """Queue one purge a day, unless observations are kept (retention 0)."""
    if get_settings().observation_retention_days > 0:
        await jobs.enqueue_once_per_slot(JOB_KIND, DAY_SECONDS)


async def purge_observations() -> int:
    """Delete the observations seen before the retention cut-off; returns how many."""
    days = get_settings().observation_retention_days
    if days <= 0:
        return 0
    cutoff = clock.now() - timedelta(days=days)
    deleted = 0
    while True:
        # One chunk per transaction, its audit event with it: a job cut off midway leaves
        # a consistent trail and the next run deletes the rest.
        async with in_transaction():
            ids = await (
                NetworkObservation.filter(seen_at__lt=cutoff)
                .order_by("id")
                .limit(CHUNK)
                .values_list("id", flat=True)
            )
            if not ids:
                break
            count = await NetworkObservation.filter(id__in=list(ids)).delete()
            await audit.record(
                PURGER,
                "observations.purged",
                "NetworkObservation",
                f"seen before {cutoff.isoformat()}",
                {"count": count, "retentionDays": days},
            )
        deleted += count
    return deleted
