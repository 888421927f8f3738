"""GraphQL shapes of the TAC registry and of firms' TAC requests."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from models.labels import label
from models.tac import TacModel, TacRequest, TacRequestStatus
from resolvers.tac.csv_import import ImportLineError, ImportResult, TacImportMode
from resolvers.tac.fields import TacLineCode
from schema.common import DOWNLOAD_URL_DOC, PageInfo, file_url
from schema.errors import UserError

TacRequestStatusType = strawberry.enum(TacRequestStatus, name="TacRequestStatus")
TacImportModeType = strawberry.enum(
    TacImportMode,
    name="TacImportMode",
    description=(
        "REPLACE: the file is the whole registry (active TACs it lacks are retired). "
        "MERGE: add and update only."
    ),
)
TacLineCodeType = strawberry.enum(TacLineCode, name="TacLineCode")

# A registry file full of mistakes must not make a response of hundreds of thousands of rows.
MAX_LINE_ERRORS_SHOWN = 1000


@strawberry.type(name="TacModel", description="A type allocation code and its device model.")
class TacModelType:
    tac: str = strawberry.field(description="8 digits; 6 for legacy entries (IMEI prefixes).")
    brand: str
    model_code: str
    marketing_name: str
    device_type: str
    imei_count: int = strawberry.field(description="SIM slots: how many IMEIs a device has.")
    is_active: bool = strawberry.field(description="False once retired from the registry.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(model: TacModel) -> TacModelType:
        return TacModelType(
            tac=model.tac,
            brand=model.brand,
            model_code=model.model_code,
            marketing_name=model.marketing_name,
            device_type=model.device_type,
            imei_count=model.imei_count,
            is_active=model.is_active,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


@strawberry.type(name="TacRequest", description="A firm's request for a missing TAC (art. 8(4)).")
class TacRequestType:
    id: int
    firm_id: int
    requested_by: str
    tac: str
    brand: str
    model_code: str
    marketing_name: str
    device_type: str
    imei_count: int
    letter_file_id: int = strawberry.field(
        description="The manufacturer's letter: download at `GET /files/{id}`."
    )

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def letter_url(self, info: Info) -> str | None:
        return await file_url(info, self.letter_file_id)

    status: TacRequestStatusType  # type: ignore[valid-type]
    status_label: str = strawberry.field(description="In the caller's language.")
    decision_reason: str | None
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def of(request: TacRequest, lang: str) -> TacRequestType:
        return TacRequestType(
            id=request.id,
            firm_id=request.firm_id,
            requested_by=request.requested_by,
            tac=request.tac,
            brand=request.brand,
            model_code=request.model_code,
            marketing_name=request.marketing_name,
            device_type=request.device_type,
            imei_count=request.imei_count,
            letter_file_id=request.letter_file_id,
            status=request.status,
            status_label=label(request.status, lang),
            decision_reason=request.decision_reason,
            decided_by=request.decided_by,
            created_at=request.created_at,
            decided_at=request.decided_at,
        )


@strawberry.type(name="TacImportLineError", description="One refused line of a registry file.")
class TacImportLineErrorType:
    line: int
    column: str = strawberry.field(description="As the file's header spells it.")
    code: TacLineCodeType  # type: ignore[valid-type]
    message: str

    @staticmethod
    def of(error: ImportLineError, lang: str) -> TacImportLineErrorType:
        return TacImportLineErrorType(
            line=error.line,
            column=error.column,
            code=error.code,
            message=error.message_en if lang == "en" else error.message_tr,
        )


@strawberry.type(name="TacImportResult")
class TacImportResultType:
    mode: TacImportModeType  # type: ignore[valid-type]
    forced: bool
    data_lines: int = strawberry.field(description="Non-blank lines after the header.")
    inserted: int
    updated: int
    reactivated: int
    retired: int
    unchanged: int
    line_error_count: int
    line_errors: list[TacImportLineErrorType] = strawberry.field(
        description=f"The first {MAX_LINE_ERRORS_SHOWN} refused lines; the rest were applied."
    )

    @staticmethod
    def of(result: ImportResult, lang: str) -> TacImportResultType:
        return TacImportResultType(
            mode=result.mode,
            forced=result.forced,
            data_lines=result.data_lines,
            inserted=result.inserted,
            updated=result.updated,
            reactivated=result.reactivated,
            retired=result.retired,
            unchanged=result.unchanged,
            line_error_count=len(result.line_errors),
            line_errors=[
                TacImportLineErrorType.of(e, lang)
                for e in result.line_errors[:MAX_LINE_ERRORS_SHOWN]
            ],
        )


@strawberry.type
class TacModelConnection:
    items: list[TacModelType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class TacRequestConnection:
    items: list[TacRequestType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class TacModelPayload:
    tac_model: TacModelType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TacRequestPayload:
    tac_request: TacRequestType | None = None
    tac_model: TacModelType | None = strawberry.field(
        default=None, description="On approval: the registry entry as it now stands."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ImportTacModelsPayload:
    result: TacImportResultType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
