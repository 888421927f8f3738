"""Account queries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from models.accounts import User
from models.roles import Role
from resolvers.accounts import admin
from schema.accounts.types import (
    AccessTokenType,
    FirmConnection,
    FirmType,
    MachineClientConnection,
    MachineClientType,
    UserConnection,
    UserType,
    Viewer,
)
from schema.common import PageInfo
from schema.context import actor_of
from schema.permissions import ANY_PERSON, STAFF, authenticated, requires


@strawberry.type
class AccountQueries:
    @strawberry.field(extensions=authenticated(during_password_change=True))
    async def viewer(self, info: Info) -> Viewer:
        actor = actor_of(info)
        user = await User.get(id=actor.id) if actor.kind == "USER" else None
        return Viewer(
            kind=actor.kind,
            role=actor.role,
            name=actor.name,
            firm_id=actor.firm_id,
            operator_code=actor.operator_code,
            must_change_password=actor.must_change_password,
            user=UserType.of(user) if user else None,
        )

    @strawberry.field(extensions=requires(*STAFF))
    async def firms(self, info: Info, first: int = 50, after: str | None = None) -> FirmConnection:
        page = await admin.list_firms(actor_of(info), first, after)
        return FirmConnection(
            items=[FirmType.of(f) for f in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=requires(*ANY_PERSON), description="A firm: staff any, a firm's users their own."
    )
    async def firm(self, info: Info, id: int) -> FirmType:
        return FirmType.of(await admin.get_firm(actor_of(info), id))

    @strawberry.field(
        extensions=requires(*STAFF, Role.FIRM_SUPERVISOR),
        description="Users: staff see all (optionally one firm's), a supervisor the firm's own.",
    )
    async def users(
        self, info: Info, firm_id: int | None = None, first: int = 50, after: str | None = None
    ) -> UserConnection:
        page = await admin.list_users(actor_of(info), first, after, firm_id)
        return UserConnection(
            items=[UserType.of(u) for u in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=requires(*ANY_PERSON))
    async def user(self, info: Info, id: int) -> UserType:
        return UserType.of(await admin.get_user(actor_of(info), id))

    @strawberry.field(extensions=requires(*STAFF))
    async def machine_clients(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> MachineClientConnection:
        page = await admin.list_clients(actor_of(info), first, after)
        return MachineClientConnection(
            items=[MachineClientType.of(c) for c in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(extensions=requires(*STAFF))
    async def client_tokens(self, info: Info, client_id: int) -> list[AccessTokenType]:
        return [AccessTokenType.of(t) for t in await admin.client_tokens(actor_of(info), client_id)]
