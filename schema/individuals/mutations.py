"""Individual-registration mutations: AKM and e-Devlet submissions, staff removal/restore."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from models.roles import Role
from resolvers.individuals import access, submissions, whitelist
from schema.context import actor_of, lang_of
from schema.errors import UserError, mutate
from schema.individuals.types import (
    IndividualRegistrationPayload,
    IndividualRegistrationType,
    WhitelistRemovalPayload,
    WhitelistRemovalType,
)
from schema.permissions import requires

WHITELIST_EDITORS = requires(Role.STAFF_REVIEWER, Role.STAFF_ADMIN)


@strawberry.input(description="A national id number (citizens) or a passport and nationality.")
class ApplicantInput:
    full_name: str
    birth_date: date
    national_id_number: str | None = None
    passport_number: str | None = None
    nationality: str | None = strawberry.field(
        default=None, description="ISO 3166 alpha-2 of the passport's issuing country."
    )

    def to_domain(self) -> submissions.ApplicantData:
        return submissions.ApplicantData(**vars(self))


@strawberry.input
class RegistrationDeviceInput:
    imeis: list[str] = strawberry.field(description="1-4 IMEIs, one per SIM slot.")
    brand: str
    model: str

    def to_domain(self) -> submissions.DeviceData:
        return submissions.DeviceData(imeis=list(self.imeis), brand=self.brand, model=self.model)


@strawberry.input
class AkmRegistrationInput:
    client_reference: str = strawberry.field(
        description="Your own id for this submission: a retry with it registers nothing twice."
    )
    applicant: ApplicantInput
    device: RegistrationDeviceInput
    entry_date: date = strawberry.field(description="When the applicant entered the country.")
    customs_declaration_no: str | None = None
    purchase_country: str | None = strawberry.field(default=None, description="ISO 3166 alpha-2.")
    purchase_date: date | None = None

    def to_domain(self) -> submissions.Submission:
        return submissions.Submission(
            client_reference=self.client_reference,
            applicant=self.applicant.to_domain(),
            device=self.device.to_domain(),
            entry_date=self.entry_date,
            customs_declaration_no=self.customs_declaration_no,
            purchase_country=self.purchase_country,
            purchase_date=self.purchase_date,
        )


@strawberry.input(description="The verification done through e-Devlet (art. 5(3)(a)).")
class EdevletVerificationInput:
    reference: str
    verified_at: datetime


@strawberry.input
class EdevletDeclarationInput(AkmRegistrationInput):
    verification: EdevletVerificationInput | None = strawberry.field(
        default=None,
        description="Given: verified through e-Devlet, registered at once. Absent: we verify "
        "with the authorities; the IMEIs are PROVISIONAL until then.",
    )

    def to_verification(self) -> submissions.EdevletVerification | None:
        if self.verification is None:
            return None
        return submissions.EdevletVerification(
            reference=self.verification.reference, verified_at=self.verification.verified_at
        )


async def _with_details(
    action: Awaitable[submissions.SubmissionResult],
) -> tuple[submissions.SubmissionResult, access.RegistrationDetails]:
    result = await action
    details = await access.details([result.registration])
    return result, details[result.registration.id]


def _registered(info: Info):  # type: ignore[no-untyped-def]
    actor, lang = actor_of(info), lang_of(info)

    def payload(
        outcome: tuple[submissions.SubmissionResult, access.RegistrationDetails],
    ) -> IndividualRegistrationPayload:
        result, details = outcome
        return IndividualRegistrationPayload(
            registration=IndividualRegistrationType.of(result.registration, details, actor, lang),
            replayed=result.replayed,
        )

    return payload


def _failed(errors: list[UserError]) -> IndividualRegistrationPayload:
    return IndividualRegistrationPayload(errors=errors)


def _removal(removal: whitelist.WhitelistRemoval) -> WhitelistRemovalPayload:
    return WhitelistRemovalPayload(removal=WhitelistRemovalType.of(removal))


@strawberry.type
class IndividualMutations:
    @strawberry.mutation(
        extensions=requires(Role.OPERATOR),
        description="Register a device taken at your AKM shop (art. 5(2)). Passing IMEIs enter "
        "the whitelist at once; idempotent by `clientReference`.",
    )
    async def submit_akm_registration(
        self, info: Info, input: AkmRegistrationInput
    ) -> IndividualRegistrationPayload:
        return await mutate(
            info,
            _with_details(submissions.submit_akm_registration(actor_of(info), input.to_domain())),
            _registered(info),
            _failed,
        )

    @strawberry.mutation(
        extensions=requires(Role.E_DEVLET),
        description="Forward an e-Devlet declaration (art. 5(3)). Idempotent by `clientReference`.",
    )
    async def submit_edevlet_declaration(
        self, info: Info, input: EdevletDeclarationInput
    ) -> IndividualRegistrationPayload:
        return await mutate(
            info,
            _with_details(
                submissions.submit_edevlet_declaration(
                    actor_of(info), input.to_domain(), input.to_verification()
                )
            ),
            _registered(info),
            _failed,
        )

    @strawberry.mutation(
        extensions=WHITELIST_EDITORS,
        description="Take any IMEI off the whitelist with a reason (operators see it).",
    )
    async def remove_whitelist_entry(
        self, info: Info, imei: str, reason: str
    ) -> WhitelistRemovalPayload:
        return await mutate(
            info,
            whitelist.remove_whitelist_entry(actor_of(info), imei, reason),
            _removal,
            lambda errors: WhitelistRemovalPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=WHITELIST_EDITORS,
        description="Put a wrongly removed IMEI back on the whitelist as it was; restoring a "
        "rejected registration's IMEI reinstates the registration.",
    )
    async def restore_whitelist_entry(
        self, info: Info, imei: str, reason: str
    ) -> WhitelistRemovalPayload:
        return await mutate(
            info,
            whitelist.restore_whitelist_entry(actor_of(info), imei, reason),
            _removal,
            lambda errors: WhitelistRemovalPayload(errors=errors),
        )
