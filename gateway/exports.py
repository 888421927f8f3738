"""Full list exports for operators' EIRs: `GET /exports/whitelist.csv`, `/exports/blacklist.csv`,
`/exports/greylist.csv`.

Authenticated (operators and staff), streamed in constant memory, outside GraphQL. The feed
position the file corresponds to is in the `X-MCKS-Feed-Cursor` header (and the file name):
follow `whitelistChanges(after: <cursor>)` from there to stay exact.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

from gateway.routes import actor_of, attachment, error_response
from resolvers.errors import DomainError, ErrorCode
from resolvers.operators import exports


async def _export(request: Request, name: str) -> StreamingResponse | JSONResponse:
    actor = actor_of(request)
    if not actor.is_authenticated:
        return error_response(DomainError(ErrorCode.UNAUTHENTICATED), request, 401)
    if actor.must_change_password:
        return error_response(DomainError(ErrorCode.PASSWORD_CHANGE_REQUIRED), request, 403)
    try:
        snapshot = await exports.open_export(actor, name)
    except DomainError as error:
        return error_response(error, request, 403)
    return StreamingResponse(
        snapshot.csv_chunks(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": attachment(f"{name}-{snapshot.cursor}.csv"),
            "X-MCKS-Feed-Cursor": snapshot.cursor,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def whitelist_csv(request: Request) -> StreamingResponse | JSONResponse:
    return await _export(request, "whitelist")


async def blacklist_csv(request: Request) -> StreamingResponse | JSONResponse:
    return await _export(request, "blacklist")


async def greylist_csv(request: Request) -> StreamingResponse | JSONResponse:
    return await _export(request, "greylist")
