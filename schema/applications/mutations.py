"""Application mutations: drafts, device lists, the firm's side of the workflow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from models.roles import Role
from resolvers.applications import declarations, devices, drafts
from schema.applications.types import (
    ApplicationKindType,
    ApplicationPayload,
    ApplicationType,
    ChannelType,
    DeviceGroupType,
    DeviceListWarningType,
    UploadDeviceListPayload,
)
from schema.context import actor_of, lang_of
from schema.errors import mutate
from schema.permissions import STAFF, requires

FIRM_AND_STAFF = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR, *STAFF)


@strawberry.input(description="A line of Ek-1's MARKA / MODEL / ADET table.")
class DeclaredDeviceInput:
    brand: str
    model: str
    count: int = strawberry.field(description="Devices of this brand and model.")


@strawberry.input
class ApplicationDataInput:
    import_date: date | None = None
    customs_declaration_no: str | None = None
    origin_country: str | None = strawberry.field(default=None, description="ISO 3166 alpha-2.")
    production_date: date | None = None
    invoice_no: str | None = None
    invoice_date: date | None = None
    test_devices_declared: bool | None = strawberry.field(
        default=None, description="Art. 12(3): the customs declaration states test/sample devices."
    )
    notes: str | None = None
    declared_devices: list[DeclaredDeviceInput] | None = strawberry.field(
        default=None,
        description="The devices declared per brand and model (art. 8(2)(ç)-(d), Ek-1); "
        "given, it replaces the whole table.",
    )

    def to_domain(self) -> drafts.ApplicationData:
        values = dict(vars(self))
        if self.declared_devices is not None:
            values["declared_devices"] = [
                declarations.DeclaredLine(d.brand, d.model, d.count) for d in self.declared_devices
            ]
        return drafts.ApplicationData(**values)


@strawberry.input
class CreateApplicationInput:
    kind: ApplicationKindType  # type: ignore[valid-type]
    data: ApplicationDataInput = strawberry.field(default_factory=ApplicationDataInput)
    channel: ChannelType = strawberry.field(  # type: ignore[valid-type]
        default=drafts.Channel.ELECTRONIC, description="PAPER: staff enter it for a firm."
    )
    firm_id: int | None = strawberry.field(default=None, description="Only for PAPER.")


async def upload_chunks(upload: Upload) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):  # type: ignore[attr-defined]
        yield chunk


def _payload(info: Info):  # type: ignore[no-untyped-def]
    actor, lang = actor_of(info), lang_of(info)
    return lambda application: ApplicationPayload(
        application=ApplicationType.of(application, actor, lang)
    )


def _failed(errors: list) -> ApplicationPayload:  # type: ignore[type-arg]
    return ApplicationPayload(errors=errors)


@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(extensions=FIRM_AND_STAFF)
    async def create_application(
        self, info: Info, input: CreateApplicationInput
    ) -> ApplicationPayload:
        return await mutate(
            info,
            drafts.create_application(
                actor_of(info), input.kind, input.data.to_domain(), input.firm_id, input.channel
            ),
            _payload(info),
            _failed,
        )

    @strawberry.mutation(extensions=FIRM_AND_STAFF, description="Only while a draft.")
    async def update_application(
        self, info: Info, application_id: int, data: ApplicationDataInput
    ) -> ApplicationPayload:
        return await mutate(
            info,
            drafts.update_application(actor_of(info), application_id, data.to_domain()),
            _payload(info),
            _failed,
        )

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description=(
            "Replace a draft's device list with an .xlsx (MARKA, MODEL, IMEI1..IMEI4), CSV "
            "or Ek-2 text file. Multipart request; send the header `X-MCKS-Upload: 1`."
        ),
    )
    async def upload_device_list(
        self, info: Info, application_id: int, file: Upload
    ) -> UploadDeviceListPayload:
        lang = lang_of(info)
        actor = actor_of(info)
        return await mutate(
            info,
            devices.upload_device_list(
                actor,
                application_id,
                upload_chunks(file),
                getattr(file, "filename", None) or "liste",
            ),
            lambda result: UploadDeviceListPayload(
                application=ApplicationType.of(result.application, actor, lang),
                device_count=result.device_count,
                imei_count=result.imei_count,
                warnings=[
                    DeviceListWarningType(
                        row=w.row,
                        column=w.column,
                        message=w.message_en if lang == "en" else w.message_tr,
                    )
                    for w in result.warnings
                ],
                groups=[DeviceGroupType.of(g, lang) for g in result.groups],
            ),
            lambda errors: UploadDeviceListPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="Firm: to the supervisor. Staff (paper channel): straight to analysis.",
    )
    async def submit_application(self, info: Info, application_id: int) -> ApplicationPayload:
        return await mutate(
            info, drafts.submit(actor_of(info), application_id), _payload(info), _failed
        )

    @strawberry.mutation(
        extensions=requires(Role.FIRM_SUPERVISOR),
        description="The supervisor approves and sends the application to the technical checks.",
    )
    async def send_application_to_analysis(
        self, info: Info, application_id: int
    ) -> ApplicationPayload:
        return await mutate(
            info, drafts.send_to_analysis(actor_of(info), application_id), _payload(info), _failed
        )

    @strawberry.mutation(extensions=requires(Role.FIRM_SUPERVISOR))
    async def send_application_back(
        self, info: Info, application_id: int, reason: str
    ) -> ApplicationPayload:
        return await mutate(
            info, drafts.send_back(actor_of(info), application_id, reason), _payload(info), _failed
        )

    @strawberry.mutation(
        extensions=requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR),
        description="Withdraw until a reviewer takes it for review (art. 8(5)).",
    )
    async def cancel_application(
        self, info: Info, application_id: int, reason: str = ""
    ) -> ApplicationPayload:
        return await mutate(
            info, drafts.cancel(actor_of(info), application_id, reason), _payload(info), _failed
        )

    @strawberry.mutation(
        extensions=requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR),
        description="Take a submitted application back to draft to change it, until a "
        "reviewer takes it for review (art. 8(5)); submitting again runs the analysis again.",
    )
    async def withdraw_application_to_draft(
        self, info: Info, application_id: int, reason: str = ""
    ) -> ApplicationPayload:
        return await mutate(
            info,
            drafts.withdraw_to_draft(actor_of(info), application_id, reason),
            _payload(info),
            _failed,
        )

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="Back to draft after a rejection, to fix and resubmit (art. 10(4)): the "
        "firm its electronic application, staff a paper one (art. 10(5)).",
    )
    async def reopen_application(self, info: Info, application_id: int) -> ApplicationPayload:
        return await mutate(
            info, drafts.reopen(actor_of(info), application_id), _payload(info), _failed
        )
