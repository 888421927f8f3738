"""Application queries: firms see their own, staff all."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.applications import drafts, results
from resolvers.applications.access import get_application
from schema.applications.types import (
    ApplicationConnection,
    ApplicationKindType,
    ApplicationStatusType,
    ApplicationType,
    CheckCodeType,
    DeviceConnection,
    DeviceGroupType,
    DeviceType,
)
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.permissions import ANY_PERSON, requires


@strawberry.type
class ApplicationQueries:
    @strawberry.field(extensions=requires(*ANY_PERSON), description="Newest first.")
    async def applications(
        self,
        info: Info,
        status: ApplicationStatusType | None = None,  # type: ignore[valid-type]
        kind: ApplicationKindType | None = None,  # type: ignore[valid-type]
        firm_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ApplicationConnection:
        actor = actor_of(info)
        page = await drafts.list_applications(actor, first, after, status, firm_id, kind)
        return ApplicationConnection(
            items=[ApplicationType.of(a, actor, lang_of(info)) for a in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=requires(*ANY_PERSON))
    async def application(self, info: Info, id: int) -> ApplicationType:
        actor = actor_of(info)
        return ApplicationType.of(await get_application(actor, id), actor, lang_of(info))

    @strawberry.field(
        extensions=requires(*ANY_PERSON),
        description="An application's devices in list order; filter by outcome or reason.",
    )
    async def application_devices(
        self,
        info: Info,
        application_id: int,
        passed: bool | None = None,
        reason: CheckCodeType | None = None,  # type: ignore[valid-type]
        first: int = 100,
        after: str | None = None,
    ) -> DeviceConnection:
        page = await results.list_devices(
            actor_of(info), application_id, first, after, passed, reason
        )
        lang = lang_of(info)
        return DeviceConnection(
            items=[DeviceType.of(d, lang) for d in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count,
        )

    @strawberry.field(
        extensions=requires(*ANY_PERSON),
        description="Brand/model groups: green when the TAC registry confirms them, red when not.",
    )
    async def application_device_groups(
        self, info: Info, application_id: int
    ) -> list[DeviceGroupType]:
        groups = await results.device_groups(actor_of(info), application_id)
        return [DeviceGroupType.of(g, lang_of(info)) for g in groups]
