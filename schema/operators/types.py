"""GraphQL shapes of the operator interface.

`ImeiCheck` is the hot path: plain attribute fields only (no resolvers, no per-item
extensions), filled from `resolvers.operators.checks.ImeiCheck` objects as they are.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from models.imei_status import ImeiStatus, Verdict
from models.labels import label
from models.network import CloneStatus, CloneSuspicion
from models.registry import (
    BlacklistEntry,
    BlacklistReason,
    ChangeOp,
    WhitelistSource,
    WhitelistStatus,
)
from resolvers.operators.checks import PublicStatus
from resolvers.operators.observations import ObservationReceipt, RejectedObservation
from resolvers.operators.quota import DailyUsage
from schema.common import PageInfo
from schema.errors import UserError

VerdictType = strawberry.enum(Verdict, name="Verdict")
ImeiStatusType = strawberry.enum(ImeiStatus, name="ImeiStatus")
ChangeOpType = strawberry.enum(ChangeOp, name="ChangeOp")
BlacklistReasonType = strawberry.enum(BlacklistReason, name="BlacklistReason")
WhitelistStatusType = strawberry.enum(
    WhitelistStatus,
    name="WhitelistStatus",
    description="REGISTERED and PROVISIONAL are allowed; OVERDUE (a provisional registration "
    "past its verification deadline) is blocked with VERIFICATION_OVERDUE until an UPDATE "
    "to REGISTERED or a REMOVE.",
)
WhitelistSourceType = strawberry.enum(WhitelistSource, name="WhitelistSource")
CloneStatusType = strawberry.enum(CloneStatus, name="CloneStatus")


@strawberry.type(name="ImeiCheck")
class ImeiCheckType:
    imei: str = strawberry.field(
        description="As normalised (15 digits); the input as given when it is not an IMEI."
    )
    verdict: VerdictType  # type: ignore[valid-type]
    status: ImeiStatusType  # type: ignore[valid-type]
    reason: str | None = strawberry.field(
        description="Blacklist reason, removal reason, why a paired IMEI is blocked "
        "(MSISDN_REQUIRED, MSISDN_MISMATCH), or VERIFICATION_OVERDUE for a PROVISIONAL "
        "registration past its verification deadline."
    )
    brand: str | None
    model: str | None
    grace_ends_at: datetime | None = strawberry.field(description="Only for GRACE_PERIOD.")


@strawberry.type(
    name="PublicImeiStatus",
    description="Whether an IMEI is registered: no personal data, no pairing detail.",
)
class PublicImeiStatusType:
    imei: str
    registered: bool
    status: ImeiStatusType = strawberry.field(  # type: ignore[valid-type]
        description="REGISTERED, PROVISIONAL, BLACKLISTED, NOT_REGISTERED or INVALID."
    )
    brand: str | None
    model: str | None

    @staticmethod
    def of(answer: PublicStatus) -> PublicImeiStatusType:
        return PublicImeiStatusType(
            imei=answer.imei,
            registered=answer.registered,
            status=answer.status,
            brand=answer.brand,
            model=answer.model,
        )


@strawberry.type(name="WhitelistChange", description="One entry of the whitelist feed.")
class WhitelistChangeType:
    cursor: str = strawberry.field(description="Resume the feed after this change.")
    op: ChangeOpType  # type: ignore[valid-type]
    imei: str
    status: WhitelistStatusType  # type: ignore[valid-type]
    source: WhitelistSourceType  # type: ignore[valid-type]
    brand: str
    model: str
    reason: str = strawberry.field(description="Why (e.g. the rejection reason of a removal).")
    at: datetime


@strawberry.type(name="BlacklistChange", description="One entry of the blacklist feed.")
class BlacklistChangeType:
    cursor: str
    op: ChangeOpType  # type: ignore[valid-type]
    imei: str
    reason: BlacklistReasonType  # type: ignore[valid-type]
    note: str = strawberry.field(description="Why it was added or removed (e.g. recovered).")
    at: datetime


@strawberry.type
class WhitelistChangeConnection:
    items: list[WhitelistChangeType]
    page_info: PageInfo


@strawberry.type
class BlacklistChangeConnection:
    items: list[BlacklistChangeType]
    page_info: PageInfo


@strawberry.type(name="BlacklistEntry")
class BlacklistEntryType:
    imei: str
    reason: BlacklistReasonType  # type: ignore[valid-type]
    reason_label: str = strawberry.field(description="In the caller's language.")
    reference: str = strawberry.field(description="The report's reference (e.g. police file).")
    report_number: str | None = strawberry.field(
        description="Issued by the registry for this report (KL-…): give it to the owner; "
        "any operator given it may lift the report (`removeFromBlacklist`)."
    )
    reported_by: str = strawberry.field(description="The operator's code, or the staff name.")
    note: str
    created_at: datetime = strawberry.field(description="When it was listed.")

    @staticmethod
    def of(entry: BlacklistEntry, lang: str = "tr") -> BlacklistEntryType:
        return BlacklistEntryType(
            imei=entry.imei,
            reason=entry.reason,
            reason_label=label(entry.reason, lang),
            reference=entry.reference,
            report_number=entry.report_number,
            reported_by=entry.reported_by,
            note=entry.note,
            created_at=entry.created_at,
        )


@strawberry.type(name="RejectedObservation")
class RejectedObservationType:
    index: int = strawberry.field(description="Position in the uploaded list, from 0.")
    field: str
    reason: str = strawberry.field(
        description="INVALID_IMEI, INVALID_IMSI, INVALID_MSISDN or IN_THE_FUTURE."
    )

    @staticmethod
    def of(rejection: RejectedObservation) -> RejectedObservationType:
        return RejectedObservationType(
            index=rejection.index, field=rejection.field, reason=rejection.reason
        )


@strawberry.type(name="ObservationReceipt")
class ObservationReceiptType:
    batch_key: str
    accepted: int
    rejected: int
    received_at: datetime
    replayed: bool = strawberry.field(
        description="This batch key was uploaded before: nothing was stored this time."
    )
    rejections: list[RejectedObservationType]

    @staticmethod
    def of(receipt: ObservationReceipt) -> ObservationReceiptType:
        return ObservationReceiptType(
            batch_key=receipt.batch_key,
            accepted=receipt.accepted,
            rejected=receipt.rejected,
            received_at=receipt.received_at,
            replayed=receipt.replayed,
            rejections=[RejectedObservationType.of(r) for r in receipt.rejections],
        )


@strawberry.type(name="CloneSuspicion")
class CloneSuspicionType:
    id: int
    imei: str
    firm_id: int | None
    brand: str
    model: str
    imsi_count: int = strawberry.field(description="Subscribers (IMSIs) seen inside the window.")
    status: CloneStatusType  # type: ignore[valid-type]
    detected_at: datetime
    closed_at: datetime | None
    dismissed_at: datetime | None = strawberry.field(
        description="Staff dismissed it (not a clone); only later sightings reopen it."
    )
    dismissed_by: str | None
    dismiss_reason: str | None

    @staticmethod
    def of(suspicion: CloneSuspicion) -> CloneSuspicionType:
        return CloneSuspicionType(
            id=suspicion.id,
            imei=suspicion.imei,
            firm_id=suspicion.firm_id,
            brand=suspicion.brand,
            model=suspicion.model_code,
            imsi_count=suspicion.imsi_count,
            status=suspicion.status,
            detected_at=suspicion.detected_at,
            closed_at=suspicion.closed_at,
            dismissed_at=suspicion.dismissed_at,
            dismissed_by=suspicion.dismissed_by,
            dismiss_reason=suspicion.dismiss_reason,
        )


@strawberry.type
class CloneSuspicionConnection:
    items: list[CloneSuspicionType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class BlacklistPayload:
    entry: BlacklistEntryType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CloneDetectionPayload:
    opened: list[CloneSuspicionType] = strawberry.field(
        default_factory=list, description="The suspicions this run opened or reopened."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CloneSuspicionPayload:
    suspicion: CloneSuspicionType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ObservationsPayload:
    receipt: ObservationReceiptType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# --- the grey list and quotas ------------------------------------------------------------


@strawberry.type(
    name="GreylistChange",
    description="One entry of the grey-list feed, keyed by (status, imei). GRACE_PERIOD: ADD "
    "when an unregistered IMEI's grace clock starts at its first attach, REMOVE when the "
    "record is deleted after its retention. CLONE_SUSPECTED: ADD when a clone suspicion "
    "opens, REMOVE when it closes.",
)
class GreylistChangeType:
    cursor: str
    op: ChangeOpType  # type: ignore[valid-type]
    status: ImeiStatusType  # type: ignore[valid-type]
    imei: str
    operator: str = strawberry.field(
        description="GRACE_PERIOD: the operator code that attached it first."
    )
    first_attach_at: datetime | None = strawberry.field(description="GRACE_PERIOD only.")
    grace_ends_at: datetime | None = strawberry.field(
        description="GRACE_PERIOD only: from then on the IMEI is BLOCK NOT_REGISTERED unless "
        "registered."
    )
    detected_at: datetime | None = strawberry.field(description="CLONE_SUSPECTED only.")
    reason: str = strawberry.field(
        description="REMOVE: why (RETENTION, PAIRED, REMOVED_FROM_WHITELIST, …)."
    )
    at: datetime


@strawberry.type
class GreylistChangeConnection:
    items: list[GreylistChangeType]
    page_info: PageInfo


@strawberry.type(name="GraceEnding", description="An IMEI this operator attached, grace ending.")
class GraceEndingType:
    imei: str
    first_attach_at: datetime
    grace_ends_at: datetime
    msisdn: str = strawberry.field(
        description="The subscriber number this operator sent with the first attach ('' "
        "when it came from an observation)."
    )


@strawberry.type
class GraceEndingConnection:
    items: list[GraceEndingType]
    page_info: PageInfo


@strawberry.type(name="ClientCheckUsage", description="IMEIs one machine client checked in a day.")
class ClientCheckUsageType:
    client_id: int
    client_name: str
    operator_code: str | None
    day: date = strawberry.field(description="In the regulator's time zone.")
    imeis_checked: int
    checks_per_minute: int = strawberry.field(
        description="The client's quota in force now (0: unlimited)."
    )

    @staticmethod
    def of(usage: DailyUsage) -> ClientCheckUsageType:
        return ClientCheckUsageType(
            client_id=usage.client_id,
            client_name=usage.client_name,
            operator_code=usage.operator_code,
            day=usage.day,
            imeis_checked=usage.imeis_checked,
            checks_per_minute=usage.checks_per_minute,
        )


@strawberry.type
class ClientCheckQuotaPayload:
    client_id: int | None = None
    checks_per_minute: int | None = strawberry.field(
        default=None, description="The client's own quota; null: the default in settings."
    )
    effective_checks_per_minute: int | None = strawberry.field(
        default=None, description="What applies (0: unlimited)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
