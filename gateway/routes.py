"""Routes outside GraphQL: health and readiness."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.db import ping


async def healthz(request: Request) -> JSONResponse:
    """The process is up (no dependencies checked: for liveness probes)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """The process can serve: the database answers."""
    if await ping():
        return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
