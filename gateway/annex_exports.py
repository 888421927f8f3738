"""An application's lists in the communiqué's text formats: `GET /applications/{id}/ek2.txt`
(its registered IMEIs) and `/applications/{id}/ek3.txt` (its replacements).

For the firm and staff only (another firm's application answers 404, like everywhere);
streamed, since an application may hold a million IMEIs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from gateway.routes import attachment, error_response, require_person
from resolvers.actor import Actor
from resolvers.after import exports
from resolvers.applications.access import missing
from resolvers.errors import DomainError


async def _text(
    request: Request, open_export: Callable[[Actor, int], Awaitable[exports.TextExport]]
) -> Response:
    actor = require_person(request)
    if isinstance(actor, JSONResponse):
        return actor
    try:
        application_id = int(request.path_params["application_id"])
    except ValueError:
        return error_response(missing(), request, 404)
    try:
        export = await open_export(actor, application_id)
    except DomainError as error:
        return error_response(error, request, 404)
    return StreamingResponse(
        export.chunks,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": attachment(export.file_name),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def application_ek2(request: Request) -> Response:
    return await _text(request, exports.open_ek2)


async def application_ek3(request: Request) -> Response:
    return await _text(request, exports.open_ek3)
