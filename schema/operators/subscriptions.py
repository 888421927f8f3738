"""Operator subscriptions: the list feeds pushed, from a cursor, in feed order."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import cast

import strawberry
from strawberry.types import Info

from resolvers import push
from schema.common import PageInfo
from schema.context import actor_of, overflow_of
from schema.operators.queries import OPERATOR_OR_STAFF
from schema.operators.types import (
    BlacklistChangeConnection,
    BlacklistChangeType,
    GreylistChangeConnection,
    GreylistChangeType,
    WhitelistChangeConnection,
    WhitelistChangeType,
)
from schema.push.types import guarded

FEED_DESCRIPTION = (
    "First every change after the cursor (none: from the start), then each new one as it "
    "commits, in feed order, without gaps or repeats; pages of up to `first` items (the "
    "query's shape). Resume with the last `pageInfo.endCursor` received."
)


@strawberry.type
class OperatorSubscriptions:
    @strawberry.subscription(extensions=OPERATOR_OR_STAFF, description=FEED_DESCRIPTION)
    async def whitelist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> AsyncGenerator[WhitelistChangeConnection, None]:
        async for page in guarded(
            info, push.whitelist(actor_of(info), after, first, overflow_of(info))
        ):
            yield WhitelistChangeConnection(
                items=cast(list[WhitelistChangeType], page.items), page_info=PageInfo.of(page)
            )

    @strawberry.subscription(extensions=OPERATOR_OR_STAFF, description=FEED_DESCRIPTION)
    async def blacklist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> AsyncGenerator[BlacklistChangeConnection, None]:
        async for page in guarded(
            info, push.blacklist(actor_of(info), after, first, overflow_of(info))
        ):
            yield BlacklistChangeConnection(
                items=cast(list[BlacklistChangeType], page.items), page_info=PageInfo.of(page)
            )

    @strawberry.subscription(extensions=OPERATOR_OR_STAFF, description=FEED_DESCRIPTION)
    async def greylist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> AsyncGenerator[GreylistChangeConnection, None]:
        async for page in guarded(
            info, push.greylist_changes(actor_of(info), after, first, overflow_of(info))
        ):
            yield GreylistChangeConnection(
                items=cast(list[GreylistChangeType], page.items), page_info=PageInfo.of(page)
            )
