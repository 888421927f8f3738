"""GraphQL shapes of accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.accounts import AccessToken, Firm, MachineClient, User
from schema.common import ClientKindType, FirmKindType, PageInfo, RoleType
from schema.errors import UserError


@strawberry.type(name="Firm")
class FirmType:
    id: int
    name: str
    tax_number: str
    kind: FirmKindType  # type: ignore[valid-type]
    contact_email: str
    allowed_ips: list[str]
    is_active: bool
    created_at: datetime
    address: str
    phone: str
    signatory_name: str
    signatory_title: str

    @staticmethod
    def of(firm: Firm) -> FirmType:
        return FirmType(
            id=firm.id,
            name=firm.name,
            tax_number=firm.tax_number,
            kind=firm.kind,
            contact_email=firm.contact_email,
            allowed_ips=list(firm.allowed_ips),
            is_active=firm.is_active,
            created_at=firm.created_at,
            address=firm.address,
            phone=firm.phone,
            signatory_name=firm.signatory_name,
            signatory_title=firm.signatory_title,
        )


@strawberry.type(name="User")
class UserType:
    id: int
    username: str
    full_name: str
    email: str
    role: RoleType  # type: ignore[valid-type]
    firm_id: int | None
    must_change_password: bool
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = strawberry.field(
        default=None,
        deprecation_reason="Accounts are no longer locked: failed logins are only slowed "
        "down (RATE_LIMITED with the seconds to wait). Always null.",
    )

    @staticmethod
    def of(user: User) -> UserType:
        return UserType(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            role=user.role,
            firm_id=user.firm_id,
            must_change_password=user.must_change_password,
            is_active=user.is_active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


@strawberry.type(name="MachineClient")
class MachineClientType:
    id: int
    name: str
    kind: ClientKindType  # type: ignore[valid-type]
    operator_code: str | None
    allowed_ips: list[str]
    is_active: bool
    created_at: datetime
    checks_per_minute: int | None = strawberry.field(
        default=None,
        description="Its own quota of IMEIs checked per minute; null: the default in settings "
        "(`setClientCheckQuota`).",
    )

    @staticmethod
    def of(client: MachineClient) -> MachineClientType:
        return MachineClientType(
            id=client.id,
            name=client.name,
            kind=client.kind,
            operator_code=client.operator_code,
            allowed_ips=list(client.allowed_ips),
            is_active=client.is_active,
            created_at=client.created_at,
            checks_per_minute=client.checks_per_minute,
        )


@strawberry.type(
    name="AccessToken", description="A token's metadata; the token itself is never shown again."
)
class AccessTokenType:
    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @staticmethod
    def of(token: AccessToken) -> AccessTokenType:
        return AccessTokenType(
            id=token.id,
            label=token.label,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type(description="Who is calling.")
class Viewer:
    kind: str
    role: RoleType | None  # type: ignore[valid-type]
    name: str
    firm_id: int | None
    operator_code: str | None
    must_change_password: bool
    user: UserType | None


@strawberry.type
class FirmConnection:
    items: list[FirmType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class UserConnection:
    items: list[UserType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class MachineClientConnection:
    items: list[MachineClientType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        default=None, description="Send as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = None
    must_change_password: bool | None = None
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateUserPayload:
    user: UserType | None = None
    temporary_password: str | None = strawberry.field(
        default=None, description="Shown once; the user must change it at first login."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FirmPayload:
    firm: FirmType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClientTokenPayload:
    client: MachineClientType | None = None
    token: str | None = strawberry.field(default=None, description="Shown once.")
    access_token: AccessTokenType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MachineClientPayload:
    client: MachineClientType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccessTokenPayload:
    access_token: AccessTokenType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
