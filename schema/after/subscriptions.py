"""After-registration subscriptions: the pairing feed pushed, like the list feeds."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import cast

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers import push
from schema.after.types import PairingChangeConnection, PairingChangeType
from schema.common import PageInfo
from schema.context import actor_of, overflow_of
from schema.operators.subscriptions import FEED_DESCRIPTION
from schema.permissions import STAFF, requires
from schema.push.types import guarded


@strawberry.type
class AfterRegistrationSubscriptions:
    @strawberry.subscription(
        extensions=requires(Role.OPERATOR, *STAFF), description=FEED_DESCRIPTION
    )
    async def pairing_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> AsyncGenerator[PairingChangeConnection, None]:
        async for page in guarded(
            info, push.pairings(actor_of(info), after, first, overflow_of(info))
        ):
            yield PairingChangeConnection(
                items=cast(list[PairingChangeType], page.items), page_info=PageInfo.of(page)
            )
