"""Individual-registration subscriptions: the submitting client follows the outcomes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers import push
from schema.context import actor_of, lang_of, overflow_of
from schema.permissions import STAFF, requires
from schema.push.types import EVENT_PAGE, RegistrationOutcomeEvent, each_event, guarded


@strawberry.type
class IndividualSubscriptions:
    @strawberry.subscription(
        extensions=requires(Role.E_DEVLET, Role.OPERATOR, *STAFF),
        description="What becomes of the registrations this client submitted (e-Devlet, an "
        "operator's AKM; staff: everybody's): verified, rejected with the reason (the IMEIs "
        "left the whitelist), an IMEI removed or restored by staff. From `after` (an "
        "event's `cursor`) when given, else from now on.",
    )
    async def registration_outcomes(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[RegistrationOutcomeEvent, None]:
        pages = push.registration_outcomes(actor_of(info), after, EVENT_PAGE, overflow_of(info))
        async for event in guarded(info, each_event(pages)):
            yield RegistrationOutcomeEvent.of(event, lang_of(info))
