"""Requests refused before GraphQL runs, answered in GraphQL's error shape with a code and
the request id (HTTP status by cause), never as plain text or a dropped connection."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

from resolvers.errors import ErrorCode, render_message


def error_body(code: ErrorCode, message: str, request_id: str) -> dict[str, Any]:
    return {
        "errors": [
            {"message": message, "extensions": {"code": code.value, "requestId": request_id}}
        ]
    }


async def send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    request_id: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def send_refusal(
    send: Send,
    status: int,
    code: ErrorCode,
    lang: str,
    request_id: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    **params: object,
) -> None:
    # Messages that name the request id (INTERNAL_ERROR, SERVICE_UNAVAILABLE) get it here.
    message = render_message(code, lang, {"request_id": request_id, **params})
    await send_json(send, status, error_body(code, message, request_id), request_id, headers)
