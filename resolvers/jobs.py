"""Durable jobs: enqueue in the caller's transaction, claim with a lease, retry with backoff.

On PostgreSQL several workers share the queue: claims use `FOR UPDATE SKIP LOCKED`, so a
job goes to exactly one of them. On SQLite all queries of the process are serialized and a
single worker runs. While a job runs, its worker renews the lease (a heartbeat every third of
it); a worker that dies stops renewing and the job is claimed again once the lease runs out,
so handlers must be idempotent (they finish in one transaction or not at all). A worker that
cannot renew in time (its job was, or may have been, taken over) cancels its own run: a job
never runs twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.jobs import Job, JobStatus
from models.roles import Role
from resolvers import events
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid_state, not_found
from resolvers.pagination import Page, paginate

log = logging.getLogger("mcks.jobs")

Handler = Callable[[Job], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}

BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600


class RetryLater(Exception):
    """A passing failure (timeout, 5xx, garbage answer): try again after a backoff."""

    def __init__(self, message: str, delay_seconds: float | None = None) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds


class GiveUp(Exception):
    """A failure no retry will fix: the job goes to the staff's list at once."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


async def enqueue(
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 5,
) -> Job:
    """Queue a job; call inside the transaction of the change that needs it.

    With a dedupe key, an already live job of that key is returned instead of a second one.
    """
    if dedupe_key is not None:
        existing = await Job.get_or_none(dedupe_key=dedupe_key)
        if existing is not None:
            return existing
    now = clock.now()
    job = await Job.create(
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        run_after=run_after or now,
        max_attempts=max_attempts,
        created_at=now,
    )
    if job.run_after <= now:
        await events.notify(events.JOBS_DUE)  # once committed: no worker waits for its poll
    return job


async def enqueue_once_per_slot(kind: str, slot_seconds: int) -> Job | None:
    """Queue one `kind` job per time slot of `slot_seconds` (periodic work); cheap to call
    often — the worker loop calls it on every tick. Returns the job queued, if any."""
    slot = int(clock.now().timestamp() // slot_seconds)
    slot_start = datetime.fromtimestamp(slot * slot_seconds, UTC)
    # A finished job frees its dedupe key: the slot's start tells whether it already ran.
    if await Job.filter(kind=kind, created_at__gte=slot_start).exists():
        return None
    try:
        return await enqueue(kind, {"slot": slot}, dedupe_key=f"{kind}:{slot}")
    except IntegrityError:
        return None  # another worker queued this slot's run at the same moment


def backoff(attempts: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    )


async def claim(worker_id: str, lease_seconds: int, limit: int = 1) -> list[Job]:
    """Take up to `limit` due jobs (or ones whose worker's lease ran out) for this worker."""
    now = clock.now()
    due = Q(status=JobStatus.QUEUED, run_after__lte=now) | Q(
        status=JobStatus.RUNNING, lease_until__lt=now
    )
    async with in_transaction():
        jobs = (
            await Job.filter(due)
            .order_by("run_after", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for job in jobs:
            job.status = JobStatus.RUNNING
            job.locked_by = worker_id
            job.lease_until = now + timedelta(seconds=lease_seconds)
            job.attempts += 1
            await job.save(update_fields=["status", "locked_by", "lease_until", "attempts"])
    return jobs


async def _finish(job: Job, worker_id: str, **changes: Any) -> bool:
    """Record the outcome only if this worker still holds the job (its lease was not taken)."""
    updated = await Job.filter(id=job.id, locked_by=worker_id, status=JobStatus.RUNNING).update(
        **changes
    )
    return bool(updated)


class LeaseLost(Exception):
    """The job's lease could not be renewed in time: another worker may run it now."""


async def renew_lease(job: Job, worker_id: str, lease_seconds: int) -> bool:
    """Extend the lease if this worker still holds the job; False when it does not."""
    updated = await Job.filter(id=job.id, locked_by=worker_id, status=JobStatus.RUNNING).update(
        lease_until=clock.now() + timedelta(seconds=lease_seconds)
    )
    return bool(updated)


async def _heartbeat(
    job: Job, worker_id: str, lease_seconds: int, running: asyncio.Task[None]
) -> None:
    """Renew the lease every third of it; cancel the run once the lease is, or may be, lost."""
    every = lease_seconds / 3
    # The lease as this worker knows it holds (real time: the clock may be frozen in tests).
    held_until = time.monotonic() + lease_seconds
    while True:
        await asyncio.sleep(every)
        try:
            # No deadline here: on SQLite the renewal waits for the handler's own transaction
            # (one connection), which is not a lost lease; an unreachable database raises.
            if not await renew_lease(job, worker_id, lease_seconds):
                log.error("job %s (%s) was taken over: stopping this run", job.id, job.kind)
                running.cancel(msg="lease lost")
                return
            held_until = time.monotonic() + lease_seconds
        except Exception as error:  # the database is away: keep trying while the lease holds
            log.warning("job %s: lease not renewed: %r", job.id, error)
            if time.monotonic() > held_until - every:
                log.error("job %s (%s): lease about to run out: stopping", job.id, job.kind)
                running.cancel(msg="lease lost")
                return


async def _run_holding_lease(
    function: Handler, job: Job, worker_id: str, lease_seconds: int
) -> None:
    running = asyncio.ensure_future(function(job))
    heartbeat = asyncio.create_task(_heartbeat(job, worker_id, lease_seconds, running))
    try:
        await running
    except asyncio.CancelledError:
        if heartbeat.done() and not heartbeat.cancelled():
            raise LeaseLost(f"job {job.id}: lease lost, another worker may run it") from None
        raise  # the worker itself is being stopped
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def run(job: Job, worker_id: str, lease_seconds: int = 60) -> None:
    function = HANDLERS.get(job.kind)
    now = clock.now()
    try:
        if function is None:
            raise GiveUp(f"no handler for job kind {job.kind!r}")
        await _run_holding_lease(function, job, worker_id, lease_seconds)
    except LeaseLost as error:
        log.error("%s", error)
        return  # whoever holds it now records the outcome
    except Exception as error:  # every failure is recorded on the job, none kills the worker
        retryable = not isinstance(error, GiveUp | DomainError)
        text = f"{type(error).__name__}: {error}"
        if retryable and job.attempts < job.max_attempts:
            delay = getattr(error, "delay_seconds", None)
            wait = timedelta(seconds=delay) if delay else backoff(job.attempts)
            log.warning(
                "job %s (%s) attempt %s failed, retry in %s: %s",
                job.id,
                job.kind,
                job.attempts,
                wait,
                text,
            )
            await _finish(
                job,
                worker_id,
                status=JobStatus.QUEUED,
                run_after=now + wait,
                locked_by=None,
                lease_until=None,
                last_error=text,
            )
        else:
            log.error(
                "job %s (%s) given up after %s attempts: %s\n%s",
                job.id,
                job.kind,
                job.attempts,
                text,
                "".join(traceback.format_exception(error)),
            )
            if await _finish(
                job,
                worker_id,
                status=JobStatus.DEAD,
                dedupe_key=None,
                locked_by=None,
                lease_until=None,
                last_error=text,
                finished_at=now,
            ):
                await events.job_died(job.id, job.kind, text)
        return
    await _finish(
        job,
        worker_id,
        status=JobStatus.DONE,
        dedupe_key=None,  # the key is for live jobs: the next one of its kind may be queued
        locked_by=None,
        lease_until=None,
        finished_at=clock.now(),
    )


async def run_next(worker_id: str, lease_seconds: int = 60) -> bool:
    """Claim and run one job; False when none was due."""
    jobs = await claim(worker_id, lease_seconds)
    for job in jobs:
        await run(job, worker_id, lease_seconds)
    return bool(jobs)


async def drain(worker_id: str = "drain", max_jobs: int = 1000) -> int:
    """Run due jobs until none is left (tests, CLI)."""
    count = 0
    while count < max_jobs and await run_next(worker_id):
        count += 1
    return count


# --- staff view ---------------------------------------------------------------------------


async def list_jobs(
    actor: Actor, status: JobStatus | None, first: int, after: str | None
) -> Page[Job]:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    query = Job.all() if status is None else Job.filter(status=status)
    return await paginate(query, first, after, count=True)


async def retry_job(actor: Actor, job_id: int) -> Job:
    """Staff send a given-up job back to the queue with a fresh set of attempts."""
    from resolvers import audit

    if actor.role != Role.STAFF_ADMIN:
        raise DomainError(ErrorCode.FORBIDDEN)
    async with in_transaction():
        job = await Job.filter(id=job_id).select_for_update().first()
        if job is None:
            raise not_found("İş", "Job", field="jobId")
        if job.status != JobStatus.DEAD:
            raise invalid_state(
                "yalnızca vazgeçilmiş işler yeniden denenebilir",
                "only given-up jobs can be retried",
            )
        job.status = JobStatus.QUEUED
        job.attempts = 0
        job.run_after = clock.now()
        job.finished_at = None
        await job.save()
        await audit.record(actor, "job.retried", "Job", job.id, {"kind": job.kind})
        await events.notify(events.JOBS_DUE)
    return job
