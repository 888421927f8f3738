"""GraphQL shapes of what happens after registration: replacement reports and their lines,
applied replacements, IMEI corrections, pairings, pairing flags and the pairing feed."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from models.after import (
    CorrectionPair,
    CorrectionStatus,
    PairingFlag,
    Replacement,
    ReplacementChannel,
    ReplacementLine,
    ReplacementProblem,
    ReplacementReport,
    ReplacementReportStatus,
)
from models.labels import label
from models.network import ImeiPairing
from models.progress import HeldImei
from resolvers.after.corrections import CorrectionView
from schema.applications.types import ApplicationKindType
from schema.common import DOWNLOAD_URL_DOC, PageInfo, file_url
from schema.errors import UserError
from schema.operators.types import ChangeOpType

ReplacementChannelType = strawberry.enum(ReplacementChannel, name="ReplacementChannel")
ReplacementReportStatusType = strawberry.enum(
    ReplacementReportStatus, name="ReplacementReportStatus"
)
ReplacementProblemType = strawberry.enum(ReplacementProblem, name="ReplacementProblem")
CorrectionStatusType = strawberry.enum(CorrectionStatus, name="CorrectionStatus")


@strawberry.type(name="ReplacementReport")
class ReplacementReportType:
    id: int
    firm_id: int
    channel: ReplacementChannelType  # type: ignore[valid-type]
    channel_label: str
    status: ReplacementReportStatusType  # type: ignore[valid-type]
    status_label: str
    source_file_id: int | None = strawberry.field(
        description="The uploaded Ek-3 file (GET /files/{id})."
    )

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def source_url(self, info: Info) -> str | None:
        return await file_url(info, self.source_file_id)

    line_count: int = strawberry.field(description="Pairs read (blank and text lines skipped).")
    valid_count: int
    invalid_count: int
    applied_count: int
    letter_file_id: int | None = strawberry.field(
        description="The decision letter, once applied (GET /files/{id})."
    )

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def letter_url(self, info: Info) -> str | None:
        return await file_url(info, self.letter_file_id)

    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @staticmethod
    def of(report: ReplacementReport, lang: str) -> ReplacementReportType:
        return ReplacementReportType(
            id=report.id,
            firm_id=report.firm_id,
            channel=report.channel,
            channel_label=label(report.channel, lang),
            status=report.status,
            status_label=label(report.status, lang),
            source_file_id=report.source_file_id,
            line_count=report.line_count,
            valid_count=report.valid_count,
            invalid_count=report.invalid_count,
            applied_count=report.applied_count,
            letter_file_id=report.letter_file_id,
            created_by=report.created_by,
            created_at=report.created_at,
            decided_by=report.decided_by,
            decided_at=report.decided_at,
        )


@strawberry.type(name="ReplacementLine", description="One pair line of an Ek-3 file.")
class ReplacementLineType:
    line_number: int = strawberry.field(description="The line's number in the file.")
    old_imei: str
    new_imei: str
    text: str = strawberry.field(description="The line as written, when it is no pair.")
    valid: bool
    problem: ReplacementProblemType | None  # type: ignore[valid-type]
    problem_label: str | None
    applied: bool

    @staticmethod
    def of(line: ReplacementLine, lang: str) -> ReplacementLineType:
        return ReplacementLineType(
            line_number=line.line_number,
            old_imei=line.old_imei,
            new_imei=line.new_imei,
            text=line.text,
            valid=line.problem is None,
            problem=line.problem,
            problem_label=label(line.problem, lang) if line.problem else None,
            applied=line.applied,
        )


@strawberry.type(name="Replacement", description="An applied pair: old IMEI → new IMEI.")
class ReplacementType:
    id: int
    report_id: int
    firm_id: int
    old_imei: str
    new_imei: str
    old_application_id: int | None
    old_brand: str
    old_model: str
    application_id: int = strawberry.field(
        description="The mainboard/swap application that held the new IMEI."
    )
    kind: ApplicationKindType  # type: ignore[valid-type]
    brand: str
    model: str
    replaced_by: str
    replaced_at: datetime

    @staticmethod
    def of(replacement: Replacement) -> ReplacementType:
        return ReplacementType(
            id=replacement.id,
            report_id=replacement.report_id,
            firm_id=replacement.firm_id,
            old_imei=replacement.old_imei,
            new_imei=replacement.new_imei,
            old_application_id=replacement.old_application_id,
            old_brand=replacement.old_brand,
            old_model=replacement.old_model_code,
            application_id=replacement.new_application_id,
            kind=replacement.kind,
            brand=replacement.brand,
            model=replacement.model_code,
            replaced_by=replacement.replaced_by,
            replaced_at=replacement.replaced_at,
        )


@strawberry.type(
    name="HeldImei",
    description="A mainboard/swap IMEI held off the whitelist until its replacement is reported.",
)
class HeldImeiType:
    imei: str
    application_id: int
    firm_id: int
    kind: ApplicationKindType  # type: ignore[valid-type]
    brand: str
    model: str
    held_at: datetime

    @staticmethod
    def of(held: HeldImei) -> HeldImeiType:
        return HeldImeiType(
            imei=held.imei,
            application_id=held.application_id,
            firm_id=held.firm_id,
            kind=held.kind,
            brand=held.brand,
            model=held.model_code,
            held_at=held.held_at,
        )


@strawberry.type(name="ImeiCorrectionPair")
class CorrectionPairType:
    wrong_imei: str
    right_imei: str
    brand: str
    model: str

    @staticmethod
    def of(pair: CorrectionPair) -> CorrectionPairType:
        return CorrectionPairType(
            wrong_imei=pair.wrong_imei,
            right_imei=pair.right_imei,
            brand=pair.brand,
            model=pair.model_code,
        )


@strawberry.type(name="ImeiCorrectionRequest")
class CorrectionRequestType:
    id: int
    firm_id: int
    application_id: int
    status: CorrectionStatusType  # type: ignore[valid-type]
    status_label: str
    pairs: list[CorrectionPairType]
    note: str
    petition_file_id: int

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def petition_url(self, info: Info) -> str | None:
        return await file_url(info, self.petition_file_id)

    documents_file_id: int = strawberry.field(description="Copies of the import's documents.")

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def documents_url(self, info: Info) -> str | None:
        return await file_url(info, self.documents_file_id)

    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    rejection_reason: str | None
    letter_file_id: int | None = strawberry.field(description="The decision letter (PDF).")

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def letter_url(self, info: Info) -> str | None:
        return await file_url(info, self.letter_file_id)

    @staticmethod
    def of(view: CorrectionView, lang: str) -> CorrectionRequestType:
        request = view.request
        return CorrectionRequestType(
            id=request.id,
            firm_id=request.firm_id,
            application_id=request.application_id,
            status=request.status,
            status_label=label(request.status, lang),
            pairs=[CorrectionPairType.of(pair) for pair in view.pairs],
            note=request.note,
            petition_file_id=request.petition_file_id,
            documents_file_id=request.documents_file_id,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            rejection_reason=request.rejection_reason,
            letter_file_id=request.letter_file_id,
        )


@strawberry.type(name="ImeiPairing", description="An IMEI allowed only with one GSM number.")
class ImeiPairingType:
    imei: str
    msisdn: str = strawberry.field(description="International form, digits only (905xx…).")
    firm_id: int | None
    paired_by: str
    paired_at: datetime

    @staticmethod
    def of(pairing: ImeiPairing) -> ImeiPairingType:
        return ImeiPairingType(
            imei=pairing.imei,
            msisdn=pairing.msisdn,
            firm_id=pairing.firm_id,
            paired_by=pairing.paired_by,
            paired_at=pairing.paired_at,
        )


@strawberry.type(name="PairingFlag", description="Staff's mark that an IMEI is to be paired.")
class PairingFlagType:
    id: int
    imei: str
    firm_id: int
    reason: str
    flagged_by: str
    flagged_at: datetime
    closed_at: datetime | None = strawberry.field(
        description="Set when the IMEI was paired or left the whitelist."
    )

    @staticmethod
    def of(flag: PairingFlag) -> PairingFlagType:
        return PairingFlagType(
            id=flag.id,
            imei=flag.imei,
            firm_id=flag.firm_id,
            reason=flag.reason,
            flagged_by=flag.flagged_by,
            flagged_at=flag.flagged_at,
            closed_at=flag.closed_at,
        )


@strawberry.type(name="PairingChange", description="One entry of the pairing feed.")
class PairingChangeType:
    cursor: str = strawberry.field(description="Resume the feed after this change.")
    op: ChangeOpType  # type: ignore[valid-type]
    imei: str
    msisdn: str = strawberry.field(
        description="The one number the IMEI is allowed with (REMOVE: the number it was "
        "paired with), digits in international form."
    )
    reason: str
    at: datetime


# --- connections and payloads ------------------------------------------------------------


@strawberry.type
class ReplacementReportConnection:
    items: list[ReplacementReportType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class ReplacementLineConnection:
    items: list[ReplacementLineType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class ReplacementConnection:
    items: list[ReplacementType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class HeldImeiConnection:
    items: list[HeldImeiType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class ImeiCorrectionRequestConnection:
    items: list[CorrectionRequestType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class ImeiPairingConnection:
    items: list[ImeiPairingType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class PairingFlagConnection:
    items: list[PairingFlagType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class PairingChangeConnection:
    items: list[PairingChangeType]
    page_info: PageInfo


@strawberry.type
class ReplacementReportPayload:
    report: ReplacementReportType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImeiCorrectionPayload:
    request: CorrectionRequestType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImeiPairingPayload:
    pairing: ImeiPairingType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PairingFlagPayload:
    flag: PairingFlagType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
