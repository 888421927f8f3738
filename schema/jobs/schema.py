"""Background jobs, for staff: what is queued, what was given up, retry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models.jobs import Job, JobStatus
from models.roles import Role
from resolvers import jobs, push
from schema.common import PageInfo
from schema.context import actor_of, lang_of, overflow_of
from schema.errors import UserError, mutate
from schema.permissions import STAFF, requires
from schema.push.types import EVENT_PAGE, JobQueueEvent, each_event, guarded

JobStatusType = strawberry.enum(JobStatus, name="JobStatus")


@strawberry.type(name="Job")
class JobType:
    id: int
    kind: str
    payload: JSON
    status: JobStatusType  # type: ignore[valid-type]
    attempts: int
    max_attempts: int
    run_after: datetime
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def of(job: Job) -> JobType:
        return JobType(
            id=job.id,
            kind=job.kind,
            payload=job.payload,
            status=job.status,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            run_after=job.run_after,
            last_error=job.last_error,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


@strawberry.type
class JobConnection:
    items: list[JobType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class JobPayload:
    job: JobType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class JobQueries:
    @strawberry.field(extensions=requires(*STAFF), description="Newest first; DEAD = given up.")
    async def jobs(
        self,
        info: Info,
        status: JobStatusType | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> JobConnection:
        page = await jobs.list_jobs(actor_of(info), status, first, after)
        return JobConnection(
            items=[JobType.of(j) for j in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )


@strawberry.type
class JobMutations:
    # Re-running a given-up job repeats its side effects (mail, authority calls, analysis):
    # the staff admin's decision, not a reviewer's or an archive clerk's.
    @strawberry.mutation(extensions=requires(Role.STAFF_ADMIN))
    async def retry_job(self, info: Info, job_id: int) -> JobPayload:
        return await mutate(
            info,
            jobs.retry_job(actor_of(info), job_id),
            lambda job: JobPayload(job=JobType.of(job)),
            lambda errors: JobPayload(errors=errors),
        )


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        extensions=requires(*STAFF),
        description="Each background job given up (DEAD: see `jobs`, `retryJob`) and each "
        "verification batch that could not be sent (BATCH_FAILED: `verificationBatches`). "
        "From `after` (an event's `cursor`) when given, else from now on.",
    )
    async def job_queue_events(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[JobQueueEvent, None]:
        pages = push.job_failures(actor_of(info), after, EVENT_PAGE, overflow_of(info))
        async for event in guarded(info, each_event(pages)):
            yield JobQueueEvent.of(event, lang_of(info))
