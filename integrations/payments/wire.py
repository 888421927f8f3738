"""The payment provider's JSON protocol and its callback signature, both directions.

    POST {base}/v1/payments                       Authorization: Bearer <api key>
         Idempotency-Key: <orderId>
         {"orderId": "...", "amountKurus": 12500, "currency": "TRY",
          "description": "...", "callbackUrl": "https://…/payments/callback"}
      201 (or 200 for an order opened before)  → a payment object
      409 the order id was opened before with another amount
    GET  {base}/v1/payments/{orderId}            → a payment object; 404 unknown order

    payment object: {"paymentId": "...", "orderId": "...", "status": "PENDING" | "SUCCEEDED"
                     | "DECLINED", "amountKurus": 12500, "paymentUrl": "..." | null,
                     "declineCode": "..." | null, "declineMessage": "..." | null}

The callback is the same payment object, POSTed to the order's callbackUrl once it is
SUCCEEDED or DECLINED (again, if the provider got no 2xx), with the header

    X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A signature covers the exact bytes and the time, so an altered body, another secret or an old
replayed callback fails `verify_callback`. Decoding is strict: off the protocol → WireError.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from integrations.payments.interface import CURRENCY, PaymentRequest, PaymentState, ProviderPayment

PAYMENTS_PATH = "/v1/payments"
SIGNATURE_HEADER = "X-Payment-Signature"
# A callback signed longer ago than this (or this far in the future) is refused as a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


class WireError(ValueError):
    """The JSON does not follow the protocol."""


class SignatureError(ValueError):
    """A callback whose signature is missing, malformed, wrong or too old."""


def request_to_json(request: PaymentRequest) -> dict[str, Any]:
    return {
        "orderId": request.order_id,
        "amountKurus": request.amount_kurus,
        "currency": CURRENCY,
        "description": request.description,
        "callbackUrl": request.callback_url,
    }


def request_from_json(value: object) -> PaymentRequest:
    obj = _object(value, "request")
    amount = obj.get("amountKurus")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise WireError("request.amountKurus: expected an integer")
    if obj.get("currency") != CURRENCY:
        raise WireError(f"request.currency: expected {CURRENCY}")
    try:
        return PaymentRequest(
            order_id=_text(obj, "orderId", "request"),
            amount_kurus=amount,
            description=_text(obj, "description", "request"),
            callback_url=_text(obj, "callbackUrl", "request"),
        )
    except ValueError as exc:
        raise WireError(f"request: {exc}") from exc


def payment_to_json(payment: ProviderPayment) -> dict[str, Any]:
    return {
        "paymentId": payment.payment_id,
        "orderId": payment.order_id,
        "status": payment.state.value,
        "amountKurus": payment.amount_kurus,
        "paymentUrl": payment.payment_url,
        "declineCode": payment.decline_code,
        "declineMessage": payment.decline_message,
    }


def payment_from_json(value: object, where: str = "payment") -> ProviderPayment:
    obj = _object(value, where)
    status = obj.get("status")
    if not isinstance(status, str) or status not in PaymentState.__members__:
        raise WireError(f"{where}.status: expected one of " + ", ".join(PaymentState))
    amount = obj.get("amountKurus")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise WireError(f"{where}.amountKurus: expected a positive integer")
    try:
        return ProviderPayment(
            payment_id=_text(obj, "paymentId", where),
            order_id=_text(obj, "orderId", where),
            state=PaymentState(status),
            amount_kurus=amount,
            payment_url=_optional_text(obj, "paymentUrl", where),
            decline_code=_optional_text(obj, "declineCode", where),
            decline_message=_optional_text(obj, "declineMessage", where),
        )
    except ValueError as exc:  # the dataclass's own checks
        if isinstance(exc, WireError):
            raise
        raise WireError(f"{where}: {exc}") from exc


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Payment-Signature value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_callback(secret: str, body: bytes, header: str | None, now: float) -> None:
    """Raise SignatureError unless `header` signs `body` with `secret`, recently enough."""
    if not header:
        raise SignatureError("no signature")
    parts = dict(part.partition("=")[::2] for part in header.split(","))
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not given:
        raise SignatureError("malformed signature")
    expected = sign(secret, body, int(timestamp)).partition(",v1=")[2]
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise SignatureError("signature does not match")
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise SignatureError("signature too old (or from the future)")


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(f"{where}: expected an object")
    return value


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise WireError(f"{where}.{key}: expected non-empty text")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    if obj.get(key) is None:
        return None
    return _text(obj, key, where)
