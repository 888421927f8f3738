"""Routes outside GraphQL: health, readiness, file downloads."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse

from gateway.readiness import ready
from models.labels import label
from resolvers import download_links, files
from resolvers.actor import Actor
from resolvers.documents import issuing
from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import get_settings


async def healthz(request: Request) -> JSONResponse:
    """The process is up (no dependencies checked: for liveness probes)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The process can serve: the database answers through the pool within the deadline."""
    if await ready(get_settings().ready_timeout_seconds):
        return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


def actor_of(request: Request) -> Actor:
    actor: Actor = request.scope.get("state", {}).get("actor") or Actor.anonymous()
    return actor


def error_response(error: DomainError, request: Request, status: int) -> JSONResponse:
    lang = request.scope.get("state", {}).get("lang", "tr")
    return JSONResponse(
        {"errors": [{"message": error.message(lang), "extensions": {"code": error.code.value}}]},
        status_code=status,
    )


def require_person(request: Request) -> Actor | JSONResponse:
    actor = actor_of(request)
    if not actor.is_authenticated:
        return error_response(DomainError(ErrorCode.UNAUTHENTICATED), request, 401)
    if actor.must_change_password:
        return error_response(DomainError(ErrorCode.PASSWORD_CHANGE_REQUIRED), request, 403)
    return actor


def attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def verify_document(request: Request) -> JSONResponse:
    """The URL printed on every signed document: does its code belong to an issued one?"""
    lang = request.scope.get("state", {}).get("lang", "tr")
    try:
        found = await issuing.verify_code(actor_of(request), request.path_params["code"])
    except DomainError as error:
        return error_response(error, request, 429)
    answer: dict[str, object] = {"code": found.code, "valid": found.valid}
    if found.valid and found.kind is not None and found.issued_at is not None:
        answer |= {
            "kind": found.kind.value,
            "kindLabel": label(found.kind, lang),
            "number": found.number,
            "firmName": found.firm_name,
            "issuedAt": found.issued_at.isoformat(),
            "signatoryName": found.signatory_name,
            "signatoryTitle": found.signatory_title,
            "sha256": found.sha256,
        }
    return JSONResponse(answer, status_code=200 if found.valid else 404)


async def download_file(request: Request) -> FileResponse | JSONResponse:
    """A stored document, for its firm and staff only (404 for anyone else): with the
    caller's bearer token, or through a download link (`url` beside each `fileId`), which a
    browser tab opens without a header."""
    try:
        file_id = int(request.path_params["file_id"])
    except ValueError:
        return error_response(files.missing_file(), request, 404)
    if download_links.is_link(request.query_params):
        try:
            redeemed = await download_links.redeem(file_id, request.query_params, actor_of(request))
        except DomainError as error:
            return error_response(error, request, LINK_REFUSALS.get(error.code, 403))
        stored = redeemed.stored
    else:
        actor = require_person(request)
        if isinstance(actor, JSONResponse):
            return actor
        try:
            stored = await files.get_file(actor, file_id)
        except DomainError as error:
            return error_response(error, request, 404)
    # FileResponse: ranges, ETag and Last-Modified from the blob, the original name.
    return FileResponse(
        files.path_of(stored.sha256),
        media_type=stored.content_type,
        headers={
            "Content-Disposition": attachment(stored.original_name),
            "X-Content-Type-Options": "nosniff",
            # Uploaded bytes never run as a page of ours, even if a browser tried.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


LINK_REFUSALS = {
    ErrorCode.DOWNLOAD_LINK_EXPIRED: 410,
    ErrorCode.NOT_FOUND: 404,
}
