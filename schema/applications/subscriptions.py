"""Application subscriptions: a firm follows its applications' status (staff: anyone's)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers import push
from schema.context import actor_of, overflow_of
from schema.permissions import STAFF, requires
from schema.push.types import EVENT_PAGE, ApplicationStatusEvent, each_event, guarded


@strawberry.type
class ApplicationSubscriptions:
    @strawberry.subscription(
        extensions=requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR, *STAFF),
        description="Each status change of one application (`applicationId`), or of every "
        "application the caller sees (a firm's users: their firm's; staff: all), with the "
        "new status, its label and the reason. From `after` (an event's `cursor`) when "
        "given, else from now on.",
    )
    async def application_status_changes(
        self, info: Info, application_id: int | None = None, after: str | None = None
    ) -> AsyncGenerator[ApplicationStatusEvent, None]:
        pages = push.application_statuses(
            actor_of(info), application_id, after, EVENT_PAGE, overflow_of(info)
        )
        async for event in guarded(info, each_event(pages)):
            yield ApplicationStatusEvent.of(event)
