"""TAC registry and TAC request queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.tac import registry, requests
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.permissions import ANY_PERSON, requires
from schema.tac.types import (
    TacModelConnection,
    TacModelType,
    TacRequestConnection,
    TacRequestStatusType,
    TacRequestType,
)


@strawberry.input
class TacModelFilterInput:
    tac_prefix: str | None = strawberry.field(default=None, description="Leading digits.")
    brand: str | None = strawberry.field(default=None, description="Exact, case-insensitive.")
    model: str | None = strawberry.field(
        default=None, description="Model code prefix, case-insensitive."
    )
    active: bool | None = None


@strawberry.type
class TacQueries:
    @strawberry.field(
        extensions=requires(*ANY_PERSON), description="The TAC registry, in order of entry."
    )
    async def tac_models(
        self,
        info: Info,
        filter: TacModelFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> TacModelConnection:
        where = registry.TacModelFilter(**vars(filter)) if filter else registry.TacModelFilter()
        page = await registry.list_tac_models(actor_of(info), where, first, after)
        return TacModelConnection(
            items=[TacModelType.of(m) for m in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=requires(*ANY_PERSON), description="Active or retired.")
    async def tac_model(self, info: Info, tac: str) -> TacModelType:
        return TacModelType.of(await registry.get_tac_model(actor_of(info), tac))

    @strawberry.field(
        extensions=requires(*ANY_PERSON),
        description="Newest first: staff see all requests, a firm's users the firm's own.",
    )
    async def tac_requests(
        self,
        info: Info,
        status: TacRequestStatusType | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> TacRequestConnection:
        page = await requests.list_tac_requests(actor_of(info), first, after, status)
        lang = lang_of(info)
        return TacRequestConnection(
            items=[TacRequestType.of(r, lang) for r in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=requires(*ANY_PERSON))
    async def tac_request(self, info: Info, id: int) -> TacRequestType:
        return TacRequestType.of(await requests.get_tac_request(actor_of(info), id), lang_of(info))
