"""Account mutations: each returns a payload with the result or `errors`."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.accounts import admin, auth
from schema.accounts.types import (
    AccessTokenPayload,
    AccessTokenType,
    ClientTokenPayload,
    CreateUserPayload,
    FirmPayload,
    FirmType,
    LoginPayload,
    LogoutPayload,
    MachineClientPayload,
    MachineClientType,
    UserPayload,
    UserType,
)
from schema.common import ClientKindType, FirmKindType, RoleType
from schema.context import actor_of
from schema.errors import mutate
from schema.permissions import authenticated, public, requires

ADMIN = requires(Role.STAFF_ADMIN)


EK1_CONTACT = "Printed in the Ek-1 petition's stamp box with the phone (art. 8(1)(a))."
EK1_SIGNATORY = "The authorised signatory the Ek-1 petition names; empty clears it."


@strawberry.input
class CreateFirmInput:
    name: str
    tax_number: str
    kind: FirmKindType  # type: ignore[valid-type]
    contact_email: str
    allowed_ips: list[str] = strawberry.field(
        default_factory=list, description="Static IPs or CIDRs; empty allows any address."
    )
    address: str | None = strawberry.field(default=None, description=EK1_CONTACT)
    phone: str | None = None
    signatory_name: str | None = strawberry.field(default=None, description=EK1_SIGNATORY)
    signatory_title: str | None = strawberry.field(default=None, description="Unvan.")


@strawberry.input
class UpdateFirmInput:
    firm_id: int
    name: str | None = None
    contact_email: str | None = None
    allowed_ips: list[str] | None = None
    is_active: bool | None = None
    address: str | None = strawberry.field(default=None, description=EK1_CONTACT)
    phone: str | None = None
    signatory_name: str | None = strawberry.field(default=None, description=EK1_SIGNATORY)
    signatory_title: str | None = strawberry.field(default=None, description="Unvan.")


@strawberry.input
class CreateUserInput:
    username: str
    full_name: str
    email: str
    role: RoleType  # type: ignore[valid-type]
    firm_id: int | None = None


@strawberry.input
class CreateMachineClientInput:
    name: str
    kind: ClientKindType  # type: ignore[valid-type]
    operator_code: str | None = None
    allowed_ips: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateMachineClientInput:
    client_id: int
    allowed_ips: list[str] | None = None
    is_active: bool | None = None


@strawberry.type
class AccountMutations:
    @strawberry.mutation(extensions=public(), description="Log in; returns a bearer token.")
    async def login(self, info: Info, username: str, password: str) -> LoginPayload:
        actor = actor_of(info)
        return await mutate(
            info,
            auth.login(username, password, actor.ip, actor.request_id),
            lambda r: LoginPayload(
                token=r.token,
                expires_at=r.expires_at,
                must_change_password=r.user.must_change_password,
                user=UserType.of(r.user),
            ),
            lambda errors: LoginPayload(errors=errors),
        )

    @strawberry.mutation(extensions=authenticated(during_password_change=True))
    async def logout(self, info: Info) -> LogoutPayload:
        return await mutate(
            info,
            auth.logout(actor_of(info)),
            lambda _: LogoutPayload(ok=True),
            lambda errors: LogoutPayload(errors=errors),
        )

    @strawberry.mutation(extensions=authenticated(during_password_change=True))
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> UserPayload:
        return await mutate(
            info,
            auth.change_password(actor_of(info), current_password, new_password),
            lambda user: UserPayload(user=UserType.of(user)),
            lambda errors: UserPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def create_firm(self, info: Info, input: CreateFirmInput) -> FirmPayload:
        return await mutate(
            info,
            admin.create_firm(
                actor_of(info),
                input.name,
                input.tax_number,
                input.kind,
                input.contact_email,
                input.allowed_ips,
                address=input.address,
                phone=input.phone,
                signatory_name=input.signatory_name,
                signatory_title=input.signatory_title,
            ),
            lambda firm: FirmPayload(firm=FirmType.of(firm)),
            lambda errors: FirmPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def update_firm(self, info: Info, input: UpdateFirmInput) -> FirmPayload:
        return await mutate(
            info,
            admin.update_firm(
                actor_of(info),
                input.firm_id,
                name=input.name,
                contact_email=input.contact_email,
                allowed_ips=input.allowed_ips,
                is_active=input.is_active,
                address=input.address,
                phone=input.phone,
                signatory_name=input.signatory_name,
                signatory_title=input.signatory_title,
            ),
            lambda firm: FirmPayload(firm=FirmType.of(firm)),
            lambda errors: FirmPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        return await mutate(
            info,
            admin.create_user(
                actor_of(info),
                input.username,
                input.full_name,
                input.email,
                input.role,
                input.firm_id,
            ),
            lambda new: CreateUserPayload(
                user=UserType.of(new.user), temporary_password=new.temporary_password
            ),
            lambda errors: CreateUserPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def reset_user_password(self, info: Info, user_id: int) -> CreateUserPayload:
        return await mutate(
            info,
            admin.reset_password(actor_of(info), user_id),
            lambda new: CreateUserPayload(
                user=UserType.of(new.user), temporary_password=new.temporary_password
            ),
            lambda errors: CreateUserPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def set_user_active(self, info: Info, user_id: int, active: bool) -> UserPayload:
        return await mutate(
            info,
            admin.set_user_active(actor_of(info), user_id, active),
            lambda user: UserPayload(user=UserType.of(user)),
            lambda errors: UserPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def create_machine_client(
        self, info: Info, input: CreateMachineClientInput
    ) -> ClientTokenPayload:
        return await mutate(
            info,
            admin.create_client(
                actor_of(info), input.name, input.kind, input.operator_code, input.allowed_ips
            ),
            lambda pair: ClientTokenPayload(
                client=MachineClientType.of(pair[0]),
                token=pair[1].token,
                access_token=AccessTokenType.of(pair[1].access_token),
            ),
            lambda errors: ClientTokenPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def update_machine_client(
        self, info: Info, input: UpdateMachineClientInput
    ) -> MachineClientPayload:
        return await mutate(
            info,
            admin.update_client(
                actor_of(info), input.client_id, input.allowed_ips, input.is_active
            ),
            lambda client: MachineClientPayload(client=MachineClientType.of(client)),
            lambda errors: MachineClientPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def issue_client_token(
        self, info: Info, client_id: int, label: str = ""
    ) -> ClientTokenPayload:
        return await mutate(
            info,
            admin.issue_client_token(actor_of(info), client_id, label),
            lambda issued: ClientTokenPayload(
                token=issued.token, access_token=AccessTokenType.of(issued.access_token)
            ),
            lambda errors: ClientTokenPayload(errors=errors),
        )

    @strawberry.mutation(extensions=ADMIN)
    async def revoke_access_token(self, info: Info, token_id: int) -> AccessTokenPayload:
        return await mutate(
            info,
            admin.revoke_token(actor_of(info), token_id),
            lambda token: AccessTokenPayload(access_token=AccessTokenType.of(token)),
            lambda errors: AccessTokenPayload(errors=errors),
        )
