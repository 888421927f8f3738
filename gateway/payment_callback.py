"""POST /payments/callback: the payment provider tells us how a card payment ended.

No bearer token: the provider proves itself by the HMAC signature over the exact body
(`integrations.payments.wire`), checked by the use case. A 2xx means recorded; anything else
makes the provider send the callback again, which is safe (recorded once)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from integrations.payments import SIGNATURE_HEADER
from resolvers.workflow.online_payments import handle_callback

# A callback is a few hundred bytes.
MAX_CALLBACK_BYTES = 16 * 1024


async def payment_callback(request: Request) -> JSONResponse:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CALLBACK_BYTES:
            return JSONResponse({"error": "payload_too_large"}, status_code=413)
    answer = await handle_callback(body, request.headers.get(SIGNATURE_HEADER))
    return JSONResponse(answer.body, status_code=answer.status)
