"""Operator-interface queries: checks, the public IMEI query, the feeds, clone suspicions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.operators import blacklist, checks, clones, feed, greylist, quota
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.operators.types import (
    BlacklistChangeConnection,
    BlacklistChangeType,
    BlacklistEntryType,
    ClientCheckUsageType,
    CloneStatusType,
    CloneSuspicionConnection,
    CloneSuspicionType,
    GraceEndingConnection,
    GraceEndingType,
    GreylistChangeConnection,
    GreylistChangeType,
    ImeiCheckType,
    PublicImeiStatusType,
    WhitelistChangeConnection,
    WhitelistChangeType,
)
from schema.permissions import ANY_PERSON, STAFF, public, requires

OPERATOR_OR_STAFF = requires(Role.OPERATOR, *STAFF)


@strawberry.type
class OperatorQueries:
    @strawberry.field(
        extensions=OPERATOR_OR_STAFF,
        description="Up to 10,000 IMEIs per call (send them as a variable); one answer per "
        "input, in input order, duplicates included. 14-digit IMEIs and 16-digit IMEISVs are "
        "normalised to the 15-digit IMEI. A PAIRED IMEI is allowed only with its `msisdn`.",
    )
    async def check_imeis(
        self,
        info: Info,
        imeis: list[str],
        # UNSET, not None: the fixed contract declares `msisdn: String` with no default.
        msisdn: str | None = strawberry.UNSET,
    ) -> list[ImeiCheckType]:
        context = info.context
        context.imeis_asked = checks.count_request_imeis(context.imeis_asked, len(imeis))
        # The use case's slotted objects carry exactly the type's attributes: no copy.
        answers = await checks.check_imeis(actor_of(info), imeis, msisdn or None)
        return cast(list[ImeiCheckType], answers)

    @strawberry.field(
        extensions=requires(*STAFF),
        description="One blacklist report: reason, reporter, reference, report number, when.",
    )
    async def blacklist_entry(self, info: Info, imei: str) -> BlacklistEntryType:
        return BlacklistEntryType.of(await blacklist.get_entry(actor_of(info), imei), lang_of(info))

    @strawberry.field(
        extensions=public(),
        description="Is this IMEI registered? For anyone, without logging in; limited per "
        "client address.",
    )
    async def imei_status(self, info: Info, imei: str) -> PublicImeiStatusType:
        return PublicImeiStatusType.of(await checks.public_status(actor_of(info), imei))

    @strawberry.field(
        extensions=OPERATOR_OR_STAFF,
        description="Every whitelist change after the cursor, in order and without gaps; "
        "`first` up to 10,000. Replaying from the start gives the current whitelist.",
    )
    async def whitelist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> WhitelistChangeConnection:
        page = await feed.whitelist_changes(actor_of(info), after, first)
        return WhitelistChangeConnection(
            items=cast(list[WhitelistChangeType], page.items),
            page_info=PageInfo.of(page),
        )

    @strawberry.field(
        extensions=OPERATOR_OR_STAFF,
        description="Every blacklist change after the cursor, in order and without gaps.",
    )
    async def blacklist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> BlacklistChangeConnection:
        page = await feed.blacklist_changes(actor_of(info), after, first)
        return BlacklistChangeConnection(
            items=cast(list[BlacklistChangeType], page.items),
            page_info=PageInfo.of(page),
        )

    @strawberry.field(
        extensions=requires(*ANY_PERSON),
        description="IMEIs suspected of being cloned: staff see all, a firm those it "
        "registered. Newest first.",
    )
    async def clone_suspicions(
        self,
        info: Info,
        status: CloneStatusType | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> CloneSuspicionConnection:
        page = await clones.list_suspicions(actor_of(info), status, first, after)
        return CloneSuspicionConnection(
            items=[CloneSuspicionType.of(s) for s in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=OPERATOR_OR_STAFF,
        description="Every grey-list change after the cursor, in order and without gaps: "
        "the grace clocks started by first attaches. Replaying from the start gives "
        "`/exports/greylist.csv`.",
    )
    async def greylist_changes(
        self, info: Info, after: str | None = None, first: int = 1000
    ) -> GreylistChangeConnection:
        page = await greylist.greylist_changes(actor_of(info), after, first)
        return GreylistChangeConnection(
            items=cast(list[GreylistChangeType], page.items), page_info=PageInfo.of(page)
        )

    @strawberry.field(
        extensions=requires(Role.OPERATOR),
        description="The unregistered IMEIs this operator attached first whose grace period "
        "ends within `withinDays` (default: the longest notice period, MCKS_GRACE_WARNING_DAYS),"
        " soonest first: warn the subscribers before the block. Up to 10,000 a page.",
    )
    async def grace_ending_soon(
        self,
        info: Info,
        within_days: int | None = None,
        first: int = 1000,
        after: str | None = None,
    ) -> GraceEndingConnection:
        page = await greylist.grace_ending_soon(actor_of(info), within_days, first, after)
        return GraceEndingConnection(
            items=cast(list[GraceEndingType], page.items), page_info=PageInfo.of(page)
        )

    @strawberry.field(
        extensions=requires(*STAFF),
        description="IMEIs each machine client checked per day (the regulator's calendar), "
        "with its quota; oldest day first, up to 366 days.",
    )
    async def client_check_usage(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date | None = None,
        client_id: int | None = None,
    ) -> list[ClientCheckUsageType]:
        usage = await quota.daily_usage(actor_of(info), from_, to or from_, client_id)
        return [ClientCheckUsageType.of(u) for u in usage]
