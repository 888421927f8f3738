"""GraphQL shapes of individual registrations, their verification and whitelist removals.

Registrations carry personal data: they reach only staff and the submitting client (the use
cases scope every read); the authority's own note is shown to staff only.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from integrations.authorities import AuthorityKind
from models.checks import CheckCode
from models.individuals import (
    IdentityKind,
    Registration,
    RegistrationChannel,
    RegistrationStatus,
    VerificationBatch,
    VerificationBatchStatus,
    VerificationRequestStatus,
    WhitelistRemoval,
)
from models.labels import label
from models.registry import WhitelistSource, WhitelistStatus
from resolvers.actor import Actor
from resolvers.individuals.access import ImeiView, RegistrationDetails, VerificationView
from resolvers.individuals.deadline import due_at
from schema.applications.types import CheckCodeType
from schema.common import PageInfo
from schema.errors import UserError
from schema.operators.types import WhitelistSourceType, WhitelistStatusType

RegistrationChannelType = strawberry.enum(RegistrationChannel, name="RegistrationChannel")
RegistrationStatusType = strawberry.enum(RegistrationStatus, name="RegistrationStatus")
IdentityKindType = strawberry.enum(IdentityKind, name="IdentityKind")
AuthorityKindType = strawberry.enum(AuthorityKind, name="VerificationAuthority")
VerificationBatchStatusType = strawberry.enum(
    VerificationBatchStatus, name="VerificationBatchStatus"
)
VerificationRequestStatusType = strawberry.enum(
    VerificationRequestStatus, name="VerificationRequestStatus"
)


@strawberry.type(name="Applicant", description="Personal data: staff and the submitter only.")
class ApplicantType:
    identity_kind: IdentityKindType  # type: ignore[valid-type]
    national_id_number: str | None
    passport_number: str | None
    nationality: str | None = strawberry.field(description="The passport's issuing country.")
    full_name: str
    birth_date: date


@strawberry.type(name="RegistrationReason")
class RegistrationReasonType:
    code: CheckCodeType  # type: ignore[valid-type]
    label: str


@strawberry.type(name="RegistrationImei")
class RegistrationImeiType:
    imei: str
    passed: bool = strawberry.field(description="Passed the technical checks (and was listed).")
    reasons: list[RegistrationReasonType]
    whitelist_status: WhitelistStatusType | None = strawberry.field(  # type: ignore[valid-type]
        description="On the whitelist now for this registration: REGISTERED, PROVISIONAL or "
        "OVERDUE (verification overdue: blocked until the authorities answer)."
    )
    removal_reason: str | None = strawberry.field(
        description="Why it left the whitelist (art. 5(4) rejection or staff), if it did."
    )
    removed_at: datetime | None
    registry_brand: str | None = strawberry.field(
        description="The brand the TAC registry gives this IMEI (null: TAC unknown)."
    )
    registry_model: str | None = strawberry.field(
        description="The model code the TAC registry gives this IMEI: what a MODEL_MISMATCH "
        "refers to."
    )

    @staticmethod
    def of(view: ImeiView, lang: str) -> RegistrationImeiType:
        return RegistrationImeiType(
            imei=view.imei,
            passed=view.passed,
            reasons=[
                RegistrationReasonType(code=c, label=_reason(c, view, lang)) for c in view.codes
            ],
            whitelist_status=view.whitelist_status,
            removal_reason=view.removal_reason,
            removed_at=view.removed_at,
            registry_brand=view.registry_brand,
            registry_model=view.registry_model,
        )


def _reason(code: CheckCode, view: ImeiView, lang: str) -> str:
    text = label(code, lang)
    if code == CheckCode.MODEL_MISMATCH and view.registry_brand:
        # The person declared something else: say what the registry has for this TAC.
        where = "TAC kaydı" if lang == "tr" else "the TAC registry has"
        return f"{text} ({where}: {view.registry_brand} {view.registry_model})"
    return text


@strawberry.type(name="Verification", description="One authority's verification.")
class VerificationType:
    authority: AuthorityKindType  # type: ignore[valid-type]
    authority_label: str
    status: VerificationRequestStatusType  # type: ignore[valid-type]
    verified: bool | None
    reason_code: str | None
    reason: str | None = strawberry.field(description="In the caller's language.")
    authority_note: str | None = strawberry.field(
        description="The authority's own words (staff only)."
    )
    answered_at: datetime | None

    @staticmethod
    def of(view: VerificationView, actor: Actor, lang: str) -> VerificationType:
        return VerificationType(
            authority=view.authority,
            authority_label=view.authority.label_en if lang == "en" else view.authority.label_tr,
            status=view.status,
            verified=view.verified,
            reason_code=view.reason_code,
            reason=view.reason_en if lang == "en" else view.reason_tr,
            authority_note=view.authority_note if actor.is_staff else None,
            answered_at=view.answered_at,
        )


@strawberry.type(name="IndividualRegistration")
class IndividualRegistrationType:
    id: int
    reference: str = strawberry.field(description="Ours (IND-…), as sent to the authorities.")
    client_reference: str
    channel: RegistrationChannelType  # type: ignore[valid-type]
    operator_code: str | None
    status: RegistrationStatusType  # type: ignore[valid-type]
    status_label: str = strawberry.field(description="In the caller's language.")
    status_reason: str | None = strawberry.field(description="Staff's reason (reinstated).")
    applicant: ApplicantType
    brand: str
    model: str
    imeis: list[RegistrationImeiType]
    entry_date: date
    customs_declaration_no: str | None
    purchase_country: str | None
    purchase_date: date | None
    edevlet_verification_reference: str | None = strawberry.field(
        description="Verified through e-Devlet before it reached us (art. 5(3)(a))."
    )
    edevlet_verified_at: datetime | None
    verifications: list[VerificationType] = strawberry.field(
        description="Our verification by the authorities (art. 5(3)(b))."
    )
    verified_at: datetime | None
    verification_due_at: datetime | None = strawberry.field(
        description="Awaiting verification: when its IMEIs turn BLOCK (VERIFICATION_OVERDUE) "
        "if the authorities have not answered by then."
    )
    overdue_at: datetime | None = strawberry.field(
        description="When its IMEIs were blocked for the overdue verification."
    )
    rejected_at: datetime | None
    rejected_by: AuthorityKindType | None  # type: ignore[valid-type]
    rejection_code: str | None
    rejection_reason: str | None = strawberry.field(description="In the caller's language.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(
        registration: Registration, details: RegistrationDetails, actor: Actor, lang: str
    ) -> IndividualRegistrationType:
        national = registration.identity_kind == IdentityKind.NATIONAL_ID
        return IndividualRegistrationType(
            id=registration.id,
            reference=registration.reference,
            client_reference=registration.client_reference,
            channel=registration.channel,
            operator_code=registration.operator_code,
            status=registration.status,
            status_label=label(registration.status, lang),
            status_reason=registration.status_reason,
            applicant=ApplicantType(
                identity_kind=registration.identity_kind,
                national_id_number=registration.identity_number if national else None,
                passport_number=None if national else registration.identity_number,
                nationality=registration.nationality,
                full_name=registration.full_name,
                birth_date=registration.birth_date,
            ),
            brand=registration.brand,
            model=registration.model_code,
            imeis=[RegistrationImeiType.of(view, lang) for view in details.imeis],
            entry_date=registration.entry_date,
            customs_declaration_no=registration.customs_declaration_no,
            purchase_country=registration.purchase_country,
            purchase_date=registration.purchase_date,
            edevlet_verification_reference=registration.edevlet_verification_reference,
            edevlet_verified_at=registration.edevlet_verified_at,
            verifications=[VerificationType.of(v, actor, lang) for v in details.verifications],
            verified_at=registration.verified_at,
            verification_due_at=due_at(registration),
            overdue_at=registration.overdue_at,
            rejected_at=registration.rejected_at,
            rejected_by=AuthorityKind(registration.rejected_by)
            if registration.rejected_by
            else None,
            rejection_code=registration.rejection_code,
            rejection_reason=(
                registration.rejection_reason_en
                if lang == "en"
                else registration.rejection_reason_tr
            ),
            created_at=registration.created_at,
            updated_at=registration.updated_at,
        )


@strawberry.type
class IndividualRegistrationConnection:
    items: list[IndividualRegistrationType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class IndividualRegistrationPayload:
    registration: IndividualRegistrationType | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="This client reference was submitted before: the stored result, nothing "
        "registered this time.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="VerificationBatch")
class VerificationBatchType:
    id: int
    authority: AuthorityKindType  # type: ignore[valid-type]
    status: VerificationBatchStatusType  # type: ignore[valid-type]
    status_label: str
    size: int
    job_id: int | None = strawberry.field(description="Its job (see `jobs`, `retryJob`).")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    failed_at: datetime | None = strawberry.field(description="When it was last given up.")

    @staticmethod
    def of(batch: VerificationBatch, lang: str) -> VerificationBatchType:
        return VerificationBatchType(
            id=batch.id,
            authority=AuthorityKind(batch.authority),
            status=batch.status,
            status_label=label(batch.status, lang),
            size=batch.size,
            job_id=batch.job_id,
            attempts=batch.attempts,
            last_error=batch.last_error,
            created_at=batch.created_at,
            sent_at=batch.sent_at,
            answered_at=batch.answered_at,
            failed_at=batch.failed_at,
        )


@strawberry.type
class VerificationBatchConnection:
    items: list[VerificationBatchType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type(
    name="WhitelistRemoval",
    description="An entry taken off the whitelist, as it was, why, and any restore.",
)
class WhitelistRemovalType:
    imei: str
    reason: str
    removed_by: str
    removed_at: datetime
    status: WhitelistStatusType  # type: ignore[valid-type]
    source: WhitelistSourceType  # type: ignore[valid-type]
    brand: str
    model: str
    registration_id: int | None
    application_id: int | None
    restored_at: datetime | None
    restored_by: str | None
    restore_reason: str | None

    @staticmethod
    def of(removal: WhitelistRemoval) -> WhitelistRemovalType:
        return WhitelistRemovalType(
            imei=removal.imei,
            reason=removal.reason,
            removed_by=removal.removed_by,
            removed_at=removal.removed_at,
            status=WhitelistStatus(removal.status),
            source=WhitelistSource(removal.source),
            brand=removal.brand,
            model=removal.model_code,
            registration_id=removal.registration_id,
            application_id=removal.application_id,
            restored_at=removal.restored_at,
            restored_by=removal.restored_by,
            restore_reason=removal.restore_reason,
        )


@strawberry.type
class WhitelistRemovalConnection:
    items: list[WhitelistRemovalType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class WhitelistRemovalPayload:
    removal: WhitelistRemovalType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
