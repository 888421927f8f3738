"""TAC registry mutations (staff) and the firm's TAC request with its decision."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from models.roles import Role
from models.tac import TacModel
from resolvers.tac import csv_import, registry, requests
from resolvers.tac.csv_import import TacImportMode
from schema.context import actor_of, lang_of
from schema.errors import UserError, mutate
from schema.permissions import requires
from schema.tac.types import (
    ImportTacModelsPayload,
    TacImportModeType,
    TacImportResultType,
    TacModelPayload,
    TacModelType,
    TacRequestPayload,
    TacRequestType,
)

EDITORS = requires(Role.STAFF_ADMIN, Role.STAFF_REVIEWER)
FIRMS = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR)


@strawberry.input
class TacModelInput:
    tac: str = strawberry.field(description="8 digits (6 for a legacy entry).")
    brand: str
    model_code: str
    imei_count: int
    marketing_name: str = ""
    device_type: str = ""


@strawberry.input
class UpdateTacModelInput:
    tac: str = strawberry.field(description="Which model; the TAC itself never changes.")
    brand: str | None = None
    model_code: str | None = None
    marketing_name: str | None = None
    device_type: str | None = None
    imei_count: int | None = None


@strawberry.input
class RequestTacInput:
    tac: str = strawberry.field(description="8 digits.")
    brand: str
    model_code: str
    imei_count: int
    marketing_name: str = ""
    device_type: str = ""


async def upload_chunks(upload: Upload) -> AsyncIterator[bytes]:
    # A starlette UploadFile, spooled to disk when large: read it a megabyte at a time.
    while chunk := await upload.read(1 << 20):  # type: ignore[attr-defined]
        yield chunk


def upload_name(upload: Upload, default: str) -> str:
    return getattr(upload, "filename", None) or default


def _model_payload(model: TacModel) -> TacModelPayload:
    return TacModelPayload(tac_model=TacModelType.of(model))


def _model_failed(errors: list[UserError]) -> TacModelPayload:
    return TacModelPayload(errors=errors)


def _request_failed(errors: list[UserError]) -> TacRequestPayload:
    return TacRequestPayload(errors=errors)


@strawberry.type
class TacMutations:
    @strawberry.mutation(
        extensions=requires(Role.STAFF_ADMIN),
        description=(
            "Load the registry from a CSV file with a header row: tac, brand, model, imei_count "
            "(required), marketing_name, device_type (optional), any order; other columns are "
            "ignored. Bad lines are reported and skipped, the rest applied. REPLACE (default) "
            "retires active TACs the file lacks, refused beyond a share of the registry unless "
            "`force`. Multipart request; send the header `X-MCKS-Upload: 1`."
        ),
    )
    async def import_tac_models(
        self,
        info: Info,
        file: Upload,
        mode: TacImportModeType = TacImportMode.REPLACE,  # type: ignore[valid-type]
        force: bool = False,
    ) -> ImportTacModelsPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            csv_import.import_tac_csv(
                actor_of(info),
                upload_chunks(file),
                file_name=upload_name(file, "tac.csv"),
                mode=TacImportMode(mode),
                force=force,
            ),
            lambda result: ImportTacModelsPayload(result=TacImportResultType.of(result, lang)),
            lambda errors: ImportTacModelsPayload(errors=errors),
        )

    @strawberry.mutation(extensions=EDITORS)
    async def create_tac_model(self, info: Info, input: TacModelInput) -> TacModelPayload:
        return await mutate(
            info,
            registry.create_tac_model(
                actor_of(info),
                input.tac,
                input.brand,
                input.model_code,
                input.imei_count,
                input.marketing_name,
                input.device_type,
            ),
            _model_payload,
            _model_failed,
        )

    @strawberry.mutation(extensions=EDITORS, description="Only the fields given change.")
    async def update_tac_model(self, info: Info, input: UpdateTacModelInput) -> TacModelPayload:
        return await mutate(
            info,
            registry.update_tac_model(
                actor_of(info),
                input.tac,
                brand=input.brand,
                model_code=input.model_code,
                marketing_name=input.marketing_name,
                device_type=input.device_type,
                imei_count=input.imei_count,
            ),
            _model_payload,
            _model_failed,
        )

    @strawberry.mutation(
        extensions=EDITORS, description="Off the registry for new checks; kept for history."
    )
    async def retire_tac_model(self, info: Info, tac: str) -> TacModelPayload:
        return await mutate(
            info, registry.retire_tac_model(actor_of(info), tac), _model_payload, _model_failed
        )

    @strawberry.mutation(extensions=EDITORS)
    async def reactivate_tac_model(self, info: Info, tac: str) -> TacModelPayload:
        return await mutate(
            info, registry.reactivate_tac_model(actor_of(info), tac), _model_payload, _model_failed
        )

    @strawberry.mutation(
        extensions=FIRMS,
        description=(
            "Ask for a TAC the registry lacks (art. 8(4)), with the manufacturer's letter (PDF "
            "or JPEG, at most 5 MB). Multipart request; send the header `X-MCKS-Upload: 1`."
        ),
    )
    async def request_tac(
        self, info: Info, input: RequestTacInput, letter: Upload
    ) -> TacRequestPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            requests.submit_tac_request(
                actor_of(info),
                input.tac,
                input.brand,
                input.model_code,
                input.imei_count,
                upload_chunks(letter),
                upload_name(letter, "yazi"),
                input.marketing_name,
                input.device_type,
            ),
            lambda request: TacRequestPayload(tac_request=TacRequestType.of(request, lang)),
            _request_failed,
        )

    @strawberry.mutation(extensions=EDITORS, description="The TAC enters the registry.")
    async def approve_tac_request(self, info: Info, tac_request_id: int) -> TacRequestPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            requests.approve_tac_request(actor_of(info), tac_request_id),
            lambda pair: TacRequestPayload(
                tac_request=TacRequestType.of(pair[0], lang), tac_model=TacModelType.of(pair[1])
            ),
            _request_failed,
        )

    @strawberry.mutation(extensions=EDITORS, description="The reason is shown to the firm.")
    async def reject_tac_request(
        self, info: Info, tac_request_id: int, reason: str
    ) -> TacRequestPayload:
        lang = lang_of(info)
        return await mutate(
            info,
            requests.reject_tac_request(actor_of(info), tac_request_id, reason),
            lambda request: TacRequestPayload(tac_request=TacRequestType.of(request, lang)),
            _request_failed,
        )
