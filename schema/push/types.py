"""Types the subscriptions deliver: the event-log streams' events (the feeds deliver the same
pages as their queries)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from models.events import JobEventKind, RegistrationOutcome
from models.labels import label
from models.workflow import ApplicationStatus
from resolvers.pagination import Page
from resolvers.push import Event
from schema.applications.types import ApplicationStatusType
from schema.errors import ErrorPolicy

T = TypeVar("T")

RegistrationOutcomeType = strawberry.enum(RegistrationOutcome, name="RegistrationOutcome")
JobEventKindType = strawberry.enum(JobEventKind, name="JobEventKind")


@strawberry.type(description="An application moved to another status.")
class ApplicationStatusEvent:
    cursor: str = strawberry.field(description="Resubscribe with `after` to resume from here.")
    application_id: int
    status: ApplicationStatusType  # type: ignore[valid-type]
    status_label: str = strawberry.field(description="Turkish (the portal's wording).")
    status_label_en: str
    reason: str = strawberry.field(description="The reviewer's reason (rejection, return).")
    at: datetime

    @staticmethod
    def of(event: Event) -> ApplicationStatusEvent:
        status = ApplicationStatus(event.status)
        return ApplicationStatusEvent(
            cursor=event.cursor,
            application_id=event.subject_id,
            status=status,
            status_label=label(status, "tr"),
            status_label_en=label(status, "en"),
            reason=event.reason,
            at=event.at,
        )


@strawberry.type(description="What became of an individual registration.")
class RegistrationOutcomeEvent:
    cursor: str = strawberry.field(description="Resubscribe with `after` to resume from here.")
    registration_id: int
    outcome: RegistrationOutcomeType  # type: ignore[valid-type]
    outcome_label: str = strawberry.field(description="In the caller's language.")
    reason: str = strawberry.field(
        description="REJECTED: the authority's reason (as operators read it); REMOVED and "
        "RESTORED: the staff's reason."
    )
    at: datetime

    @staticmethod
    def of(event: Event, lang: str) -> RegistrationOutcomeEvent:
        outcome = RegistrationOutcome(event.status)
        return RegistrationOutcomeEvent(
            cursor=event.cursor,
            registration_id=event.subject_id,
            outcome=outcome,
            outcome_label=label(outcome, lang),
            reason=event.reason,
            at=event.at,
        )


@strawberry.type(description="A background job given up, or a verification batch not sent.")
class JobQueueEvent:
    cursor: str = strawberry.field(description="Resubscribe with `after` to resume from here.")
    kind: JobEventKindType  # type: ignore[valid-type]
    label: str = strawberry.field(description="In the caller's language.")
    job_id: int | None = strawberry.field(description="DEAD: the job (see `jobs`, `retryJob`).")
    batch_id: int | None = strawberry.field(description="BATCH_FAILED: `verificationBatches`.")
    detail: str = strawberry.field(description="The job's kind, or the batch's authority.")
    error: str
    at: datetime

    @staticmethod
    def of(event: Event, lang: str) -> JobQueueEvent:
        kind = JobEventKind(event.status)
        dead = kind == JobEventKind.DEAD
        return JobQueueEvent(
            cursor=event.cursor,
            kind=kind,
            label=label(kind, lang),
            job_id=event.subject_id if dead else None,
            batch_id=None if dead else event.subject_id,
            detail=event.kind,
            error=event.reason,
            at=event.at,
        )


# Events read per query by the event-log subscriptions (applications, outcomes, job queue).
EVENT_PAGE = 100


async def each_event(pages: AsyncIterator[Page[Event]]) -> AsyncIterator[Event]:
    """One message per event (the event streams are slow; the feeds send pages)."""
    async for page in pages:
        for event in page.items:
            yield event


async def guarded(info: Info, items: AsyncIterator[T]) -> AsyncIterator[T]:
    """A stream whose failures reach the client as the HTTP API's errors do: expected ones
    with their code, unexpected ones masked with the request id (and logged)."""
    try:
        async for item in items:
            yield item
    except (GeneratorExit, asyncio.CancelledError):
        raise
    except Exception as error:
        actor = info.context.actor
        raise ErrorPolicy.process(
            GraphQLError(str(error), path=[info.path.key], original_error=error),
            info.context.lang,
            actor.request_id,
        ) from None
