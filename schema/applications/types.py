"""GraphQL shapes of applications and their devices."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from models.applications import Application
from models.checks import CheckCode
from models.labels import label
from models.workflow import ApplicationKind, ApplicationStatus, Channel
from resolvers.actor import Actor
from resolvers.applications import declarations, drafts
from resolvers.applications.results import DeviceGroup, DeviceResult
from schema.common import DOWNLOAD_URL_DOC, PageInfo, file_url
from schema.errors import UserError

ApplicationKindType = strawberry.enum(ApplicationKind, name="ApplicationKind")
ApplicationStatusType = strawberry.enum(ApplicationStatus, name="ApplicationStatus")
ChannelType = strawberry.enum(Channel, name="Channel")
CheckCodeType = strawberry.enum(CheckCode, name="CheckCode")


@strawberry.enum
class GroupColor(Enum):
    GREEN = "GREEN"
    RED = "RED"


@strawberry.type(name="DeclaredDevice", description="A line of Ek-1's MARKA / MODEL / ADET table.")
class DeclaredDeviceType:
    brand: str
    model: str
    count: int


@strawberry.type(
    name="DeclarationDifference",
    description="A brand/model whose declared count is not the device list's (art. 10(3)).",
)
class DeclarationDifferenceType:
    brand: str
    model: str
    declared_count: int = strawberry.field(description="0: in the list, not declared.")
    listed_count: int = strawberry.field(description="0: declared, not in the list.")
    message: str = strawberry.field(description="In the caller's language.")


@strawberry.type(name="Application")
class ApplicationType:
    id: int
    firm_id: int
    kind: ApplicationKindType  # type: ignore[valid-type]
    kind_label: str
    channel: ChannelType  # type: ignore[valid-type]
    status: ApplicationStatusType  # type: ignore[valid-type]
    status_label: str = strawberry.field(description="In the caller's language.")
    status_reason: str | None = strawberry.field(
        description="In the caller's language where the system wrote it; staff's as written."
    )
    created_by: str
    import_date: date | None
    customs_declaration_no: str | None
    origin_country: str | None
    production_date: date | None
    invoice_no: str | None
    invoice_date: date | None
    test_devices_declared: bool
    notes: str
    device_list_file_id: int | None

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def device_list_url(self, info: Info) -> str | None:
        return await file_url(info, self.device_list_file_id)

    device_count: int
    imei_count: int
    passed_device_count: int | None
    failed_device_count: int | None
    analysis_run: int
    analysis_started_at: datetime | None
    analysis_finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    lang: strawberry.Private[str] = "tr"
    application: strawberry.Private[Application | None] = None
    actor: strawberry.Private[Actor | None] = None

    @strawberry.field(
        description="Workflow actions the caller may take now: its role, the channel (the "
        "firm acts on an electronic application, staff on a paper one) and art. 8(5) (no "
        "change once a reviewer has taken it) decide."
    )
    async def available_actions(self) -> list[str]:
        if self.application is None or self.actor is None:
            return []
        return [a.value for a in await drafts.available_actions(self.actor, self.application)]

    @strawberry.field(description="What the firm declares: Ek-1's MARKA / MODEL / ADET table.")
    async def declared_devices(self) -> list[DeclaredDeviceType]:
        return [
            DeclaredDeviceType(brand=d.brand, model=d.model, count=d.count)
            for d in await declarations.declared(self.id)
        ]

    @strawberry.field(
        description="Every difference the last analysis found between the declaration and "
        "the device list (art. 10(3)); an application with any is not approved."
    )
    async def declaration_differences(self) -> list[DeclarationDifferenceType]:
        return [
            DeclarationDifferenceType(
                brand=d.brand,
                model=d.model_code,
                declared_count=d.declared_count,
                listed_count=d.listed_count,
                message=getattr(
                    declarations.difference_text(declarations.Difference.of(d)), self.lang
                ),
            )
            for d in await declarations.differences(self.id)
        ]

    @staticmethod
    def of(application: Application, actor: Actor, lang: str) -> ApplicationType:
        return ApplicationType(
            id=application.id,
            firm_id=application.firm_id,
            kind=application.kind,
            kind_label=label(application.kind, lang),
            channel=application.channel,
            status=application.status,
            status_label=label(application.status, lang),
            status_reason=(
                application.status_reason_en
                if lang == "en" and application.status_reason_en
                else application.status_reason
            ),
            created_by=application.created_by,
            import_date=application.import_date,
            customs_declaration_no=application.customs_declaration_no,
            origin_country=application.origin_country,
            production_date=application.production_date,
            invoice_no=application.invoice_no,
            invoice_date=application.invoice_date,
            test_devices_declared=application.test_devices_declared,
            notes=application.notes,
            device_list_file_id=application.device_list_file_id,
            device_count=application.device_count,
            imei_count=application.imei_count,
            passed_device_count=application.passed_device_count,
            failed_device_count=application.failed_device_count,
            analysis_run=application.analysis_run,
            analysis_started_at=application.analysis_started_at,
            analysis_finished_at=application.analysis_finished_at,
            created_at=application.created_at,
            updated_at=application.updated_at,
            lang=lang,
            application=application,
            actor=actor,
        )


@strawberry.type(name="DeviceReason")
class DeviceReasonType:
    code: CheckCodeType  # type: ignore[valid-type]
    label: str
    imeis: list[str] = strawberry.field(
        description="The device's IMEIs that fail this check (empty: the device as a whole)."
    )
    detail: str = strawberry.field(
        description="Which IMEI fails and why, e.g. the cell that cannot be an IMEI."
    )


@strawberry.type(name="Device")
class DeviceType:
    row_number: int
    brand: str
    model: str
    imeis: list[str]
    passed: bool | None
    reasons: list[DeviceReasonType]
    registry_brand: str | None = strawberry.field(
        description="What the TAC registry says (red groups)."
    )
    registry_model: str | None

    @staticmethod
    def of(device: DeviceResult, lang: str) -> DeviceType:
        return DeviceType(
            row_number=device.row_number,
            brand=device.brand,
            model=device.model,
            imeis=list(device.imeis),
            passed=device.passed,
            reasons=[
                DeviceReasonType(
                    code=r.code, label=r.label(lang), imeis=list(r.imeis), detail=r.detail(lang)
                )
                for r in device.reasons
            ],
            registry_brand=device.registry_brand,
            registry_model=device.registry_model,
        )


@strawberry.type(name="DeviceReasonCount")
class DeviceReasonCountType:
    code: CheckCodeType  # type: ignore[valid-type]
    label: str
    count: int


@strawberry.type(
    name="DeviceGroup",
    description=(
        "Devices grouped by declared brand and model, coloured from the upload on: RED when "
        "none of its devices can pass the TAC and model match. Before the analysis the "
        "passed/failed counts are those of the TAC and model match; after it, the analysis'."
    ),
)
class DeviceGroupType:
    brand: str
    model: str
    color: GroupColor
    device_count: int
    passed_count: int
    failed_count: int
    matching_count: int = strawberry.field(
        description="Devices that can pass the TAC and model match."
    )
    analysed: bool = strawberry.field(description="Whether the counts are the analysis' own.")
    reasons: list[DeviceReasonCountType]

    @staticmethod
    def of(group: DeviceGroup, lang: str) -> DeviceGroupType:
        return DeviceGroupType(
            brand=group.brand,
            model=group.model,
            color=GroupColor.RED if group.red else GroupColor.GREEN,
            device_count=group.device_count,
            passed_count=group.passed_count,
            failed_count=group.failed_count,
            matching_count=group.matching_count,
            analysed=group.analysed,
            reasons=[
                DeviceReasonCountType(code=c, label=label(c, lang), count=n)
                for c, n in group.reasons.items()
            ],
        )


@strawberry.type
class ApplicationConnection:
    items: list[ApplicationType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type
class DeviceConnection:
    items: list[DeviceType]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ApplicationPayload:
    application: ApplicationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="DeviceListWarning")
class DeviceListWarningType:
    row: int | None
    column: str | None = strawberry.field(description="Column letter; none for a text line.")
    message: str


@strawberry.type
class UploadDeviceListPayload:
    application: ApplicationType | None = None
    device_count: int | None = None
    imei_count: int | None = None
    warnings: list[DeviceListWarningType] = strawberry.field(default_factory=list)
    groups: list[DeviceGroupType] = strawberry.field(
        default_factory=list,
        description="The list's brand/model groups, green or red, right after the upload.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
