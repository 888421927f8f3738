"""Individual-registration queries: staff see all, a machine client what it submitted."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.individuals import access, whitelist
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.individuals.types import (
    IndividualRegistrationConnection,
    IndividualRegistrationType,
    RegistrationChannelType,
    RegistrationStatusType,
    VerificationBatchConnection,
    VerificationBatchStatusType,
    VerificationBatchType,
    WhitelistRemovalConnection,
    WhitelistRemovalType,
)
from schema.permissions import STAFF, requires

REGISTRATION_READERS = requires(Role.OPERATOR, Role.E_DEVLET, *STAFF)


@strawberry.type
class IndividualQueries:
    @strawberry.field(
        extensions=REGISTRATION_READERS,
        description="One registration by our `id` or by the client's own `clientReference` "
        "(the submitting client's status query). A client sees only its own.",
    )
    async def individual_registration(
        self, info: Info, id: int | None = None, client_reference: str | None = None
    ) -> IndividualRegistrationType:
        actor = actor_of(info)
        registration = await access.get_registration(actor, id, client_reference)
        details = await access.details([registration])
        return IndividualRegistrationType.of(
            registration, details[registration.id], actor, lang_of(info)
        )

    @strawberry.field(
        extensions=REGISTRATION_READERS,
        description="Newest first. Staff see all; a client what it submitted. `imei` finds "
        "who registered an IMEI; `verificationOverdue` lists the declarations still unverified "
        "past the deadline (blocked with VERIFICATION_OVERDUE until the authorities answer; "
        "`overdueAt` says since when).",
    )
    async def individual_registrations(
        self,
        info: Info,
        status: RegistrationStatusType | None = None,  # type: ignore[valid-type]
        channel: RegistrationChannelType | None = None,  # type: ignore[valid-type]
        imei: str | None = None,
        verification_overdue: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> IndividualRegistrationConnection:
        actor, lang = actor_of(info), lang_of(info)
        page = await access.list_registrations(
            actor, first, after, status, channel, imei, verification_overdue
        )
        details = await access.details(page.items)
        return IndividualRegistrationConnection(
            items=[
                IndividualRegistrationType.of(r, details[r.id], actor, lang) for r in page.items
            ],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=requires(*STAFF),
        description="Batches of declarations sent to the authorities, newest first. FAILED: "
        "given up (listed from `failedAt`, the moment its job died); its job is DEAD (see "
        "`jobs`) and `retryJob` sends it again.",
    )
    async def verification_batches(
        self,
        info: Info,
        status: VerificationBatchStatusType | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> VerificationBatchConnection:
        page = await access.list_batches(actor_of(info), first, after, status)
        lang = lang_of(info)
        return VerificationBatchConnection(
            items=[VerificationBatchType.of(b, lang) for b in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=requires(*STAFF),
        description="Whitelist removals with their reasons (staff and art. 5(4) rejections), "
        "newest first.",
    )
    async def whitelist_removals(
        self, info: Info, imei: str | None = None, first: int = 50, after: str | None = None
    ) -> WhitelistRemovalConnection:
        page = await whitelist.list_removals(actor_of(info), imei, first, after)
        return WhitelistRemovalConnection(
            items=[WhitelistRemovalType.of(r) for r in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )
