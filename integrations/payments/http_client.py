"""`HttpPaymentProvider`: the payment provider over HTTP/JSON (protocol in `wire`).

How failures map (`retryable` in brackets):

- deadline passed (any phase, or the whole call)  → PaymentProviderTimeout [yes]
- connection refused/reset, 5xx, 429              → PaymentProviderUnavailable [yes]
- 200/201 not JSON, off the protocol, or about another order or amount than asked
                                                  → PaymentProviderBadAnswer [yes]
- another 4xx (bad key, 409 amount changed)       → PaymentRequestRejected [no]

The order id is sent as the Idempotency-Key: the provider opens one payment per order, so
retrying a call whose answer was lost never charges the card twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import quote

import httpx

from integrations.common_http import PooledClient, ResponseTooLarge, read_capped
from integrations.payments.interface import (
    PaymentProviderBadAnswer,
    PaymentProviderError,
    PaymentProviderTimeout,
    PaymentProviderUnavailable,
    PaymentRequest,
    PaymentRequestRejected,
    ProviderPayment,
)
from integrations.payments.wire import (
    PAYMENTS_PATH,
    WireError,
    payment_from_json,
    request_to_json,
)

logger = logging.getLogger(__name__)

# A payment object is a few hundred bytes; more is garbage, not an answer.
MAX_RESPONSE_BYTES = 64 * 1024
_ERROR_BODY_SHOWN = 200


class HttpPaymentProvider(PooledClient):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_seconds: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"payment provider: base_url must be an http(s) URL, got {base_url!r}")
        if not api_key:
            raise ValueError("payment provider: api_key is required")
        if timeout_seconds <= 0:
            raise ValueError("payment provider: timeout_seconds must be positive")
        self._base = base_url.rstrip("/") + PAYMENTS_PATH
        self._api_key = api_key
        self._timeout_seconds = timeout_seconds
        super().__init__(client)

    async def create_payment(self, request: PaymentRequest) -> ProviderPayment:
        payment = await self._call(
            "POST",
            self._base,
            json.dumps(request_to_json(request), ensure_ascii=False).encode(),
            idempotency_key=request.order_id,
        )
        if payment.order_id != request.order_id or payment.amount_kurus != request.amount_kurus:
            raise PaymentProviderBadAnswer(
                f"answered for order {payment.order_id} of {payment.amount_kurus} kuruş, "
                f"asked {request.order_id} of {request.amount_kurus}"
            )
        if payment.payment_url is None and payment.state.value == "PENDING":
            raise PaymentProviderBadAnswer("a pending payment without a paymentUrl")
        logger.info("payment provider opened %s for order %s", payment.payment_id, request.order_id)
        return payment

    async def get_payment(self, order_id: str) -> ProviderPayment:
        payment = await self._call("GET", f"{self._base}/{quote(order_id, safe='')}", None)
        if payment.order_id != order_id:
            raise PaymentProviderBadAnswer(f"asked order {order_id}, answered {payment.order_id}")
        return payment

    async def _call(
        self, method: str, url: str, content: bytes | None, idempotency_key: str | None = None
    ) -> ProviderPayment:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            # httpx bounds each phase; the outer deadline bounds the whole call, so a
            # provider trickling bytes cannot hold a request past it.
            async with asyncio.timeout(self._timeout_seconds):
                async with self._client.stream(
                    method,
                    url,
                    content=content,
                    headers=headers,
                    timeout=httpx.Timeout(self._timeout_seconds),
                ) as response:
                    raw = await read_capped(response, MAX_RESPONSE_BYTES)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise PaymentProviderTimeout(f"no answer within {self._timeout_seconds:g} s") from exc
        except httpx.DecodingError as exc:
            raise PaymentProviderBadAnswer(f"undecodable body: {exc}") from exc
        except httpx.TransportError as exc:
            raise PaymentProviderUnavailable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
        except ResponseTooLarge as exc:
            raise PaymentProviderBadAnswer(
                f"answer larger than {MAX_RESPONSE_BYTES} bytes"
            ) from exc
        status = response.status_code
        if status not in (200, 201):
            snippet = " ".join(raw.decode("utf-8", "replace").split())[:_ERROR_BODY_SHOWN]
            message = f"HTTP {status}" + (f": {snippet}" if snippet else "")
            error: PaymentProviderError
            if status == 429 or status >= 500:
                error = PaymentProviderUnavailable(message, status_code=status)
            elif 400 <= status < 500:
                error = PaymentRequestRejected(message, status_code=status)
            else:
                error = PaymentProviderBadAnswer(f"unexpected {message}", status_code=status)
            logger.warning("payment provider %s %s failed: %s", method, url, error)
            raise error
        try:
            return payment_from_json(json.loads(raw))
        except (ValueError, RecursionError) as exc:  # WireError and JSON errors are ValueErrors
            what = str(exc) if isinstance(exc, WireError) else f"not JSON: {exc}"
            raise PaymentProviderBadAnswer(what) from exc
