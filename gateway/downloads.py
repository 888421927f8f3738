"""Downloads outside GraphQL: the device-list template and analysis result exports."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from gateway.routes import attachment, error_response, require_person
from models.checks import CheckCode
from resolvers.applications.export import export_devices_xlsx
from resolvers.device_files import build_template_xlsx
from resolvers.errors import DomainError, invalid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def device_list_template(request: Request) -> Response:
    """The Excel template firms fill in (MARKA, MODEL, IMEI1..IMEI4, instructions sheet)."""
    actor = require_person(request)
    if isinstance(actor, JSONResponse):
        return actor
    return Response(
        build_template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": attachment("IMEI_Bildirim_Sablonu.xlsx")},
    )


async def application_devices_xlsx(request: Request) -> Response:
    """`/applications/{id}/devices.xlsx?outcome=passed|failed|all&reason=CODE`."""
    actor = require_person(request)
    if isinstance(actor, JSONResponse):
        return actor
    lang = request.scope.get("state", {}).get("lang", "tr")
    try:
        application_id = int(request.path_params["application_id"])
        outcome = request.query_params.get("outcome", "all")
        if outcome not in ("passed", "failed", "all"):
            raise invalid(
                "outcome", "passed, failed ya da all olmalı", "must be passed, failed or all"
            )
        reason_text = request.query_params.get("reason")
        try:
            reason = CheckCode(reason_text) if reason_text else None
        except ValueError as exc:
            raise invalid("reason", "bilinmeyen kontrol kodu", "unknown check code") from exc
        passed = {"passed": True, "failed": False, "all": None}[outcome]
        path = await export_devices_xlsx(actor, application_id, passed, reason, lang)
    except ValueError:
        return JSONResponse({"errors": [{"message": "bad application id"}]}, status_code=404)
    except DomainError as error:
        return error_response(error, request, 404 if error.code == "NOT_FOUND" else 400)
    name = f"basvuru-{application_id}-{outcome}.xlsx"
    return FileResponse(
        path,
        media_type=XLSX,
        headers={"Content-Disposition": attachment(name)},
        background=BackgroundTask(_remove, path),
    )


def _remove(path: Path) -> None:
    os.unlink(path)
