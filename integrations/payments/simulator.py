"""A simulator of the payment provider (virtual POS), for tests and the demo.

It speaks the protocol of `wire`: opens one payment per order id (idempotent), answers status
queries, shows a card page at the payment's `paymentUrl`, and when the card holder pays it
sends the signed callback to the order's callbackUrl (retried by `resend_callback`, as a
provider does while it gets no 2xx).

Cards (16 digits; the test card numbers payment providers publish):

    4000 0000 0000 0002   declined, CARD_DECLINED
    4000 0000 0000 9995   declined, INSUFFICIENT_FUNDS
    4000 0000 0000 0069   declined, EXPIRED_CARD
    any other 16 digits   charged (e.g. 4242 4242 4242 4242)

Faults, queued on the handle for the next call of an operation (`fail_next("create",
Fault.UNAVAILABLE)`), reach every failure path of the client: SLOW (held until the simulator
stops: a client's deadline passes for certain), UNAVAILABLE (503 HTML page), MALFORMED
(truncated JSON), WRONG_SHAPE (JSON off the protocol), LOST_ANSWER (the payment is opened,
then a 503: the answer is lost, a retry must find the same payment).

Standalone for the demo: `python -m integrations.payments.simulator --port 8102`.
In tests: `async with serve_simulator(secret=...) as sim: sim.base_url ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import html
import json
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from integrations.common_http import serve_app
from integrations.payments.interface import PaymentState, ProviderPayment
from integrations.payments.wire import (
    PAYMENTS_PATH,
    SIGNATURE_HEADER,
    WireError,
    payment_to_json,
    request_from_json,
    sign,
)

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "payment-simulator-key"
DEFAULT_SECRET = "payment-simulator-callback-secret"

DECLINED_CARDS = {
    "4000000000000002": ("CARD_DECLINED", "Kart bankası işlemi onaylamadı."),
    "4000000000009995": ("INSUFFICIENT_FUNDS", "Yetersiz bakiye."),
    "4000000000000069": ("EXPIRED_CARD", "Kartın son kullanma tarihi geçmiş."),
}


class Fault(StrEnum):
    SLOW = "SLOW"
    UNAVAILABLE = "UNAVAILABLE"
    MALFORMED = "MALFORMED"
    WRONG_SHAPE = "WRONG_SHAPE"
    LOST_ANSWER = "LOST_ANSWER"


@dataclass
class _Order:
    payment: ProviderPayment
    callback_url: str


@dataclass
class PaymentSimulator:
    """The simulator's state, and what a test steers and looks at."""

    api_key: str = DEFAULT_API_KEY
    secret: str = DEFAULT_SECRET
    base_url: str = ""
    orders: dict[str, _Order] = field(default_factory=dict)
    opened: int = 0  # payments opened (a retried create opens none)
    callbacks: list[tuple[str, int | None]] = field(default_factory=list)  # (order, HTTP status)
    deliver_callbacks: bool = True  # False: the callback is "lost" on the way
    released: asyncio.Event = field(default_factory=asyncio.Event)
    _faults: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))

    def fail_next(self, operation: str, fault: Fault) -> None:
        """`operation`: "create" or "get"."""
        self._faults[operation].append(fault)

    def _fault(self, operation: str) -> Fault | None:
        queue = self._faults[operation]
        return queue.popleft() if queue else None

    def by_payment_id(self, payment_id: str) -> _Order | None:
        return next((o for o in self.orders.values() if o.payment.payment_id == payment_id), None)

    async def pay(self, payment_id: str, card_number: str) -> ProviderPayment:
        """The card holder pays on the card page: decide, then call back."""
        order = self.by_payment_id(payment_id)
        if order is None:
            raise KeyError(payment_id)
        if order.payment.state is PaymentState.PENDING:
            digits = "".join(card_number.split())
            if not (len(digits) == 16 and digits.isdigit()):
                raise ValueError("a card number is 16 digits")
            declined = DECLINED_CARDS.get(digits)
            order.payment = replace(
                order.payment,
                state=PaymentState.DECLINED if declined else PaymentState.SUCCEEDED,
                payment_url=None,
                decline_code=declined[0] if declined else None,
                decline_message=declined[1] if declined else None,
            )
            if self.deliver_callbacks:
                await self.resend_callback(order.payment.order_id)
        return order.payment

    async def resend_callback(self, order_id: str, *, timestamp: int | None = None) -> int | None:
        """POST the signed callback of a decided payment; the status it got (None: no answer)."""
        order = self.orders[order_id]
        body = json.dumps(payment_to_json(order.payment)).encode()
        signature = sign(self.secret, body, int(time.time()) if timestamp is None else timestamp)
        status: int | None = None
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(
                    order.callback_url,
                    content=body,
                    headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                )
                status = response.status_code
        except httpx.HTTPError as exc:
            logger.warning("callback for %s failed: %s", order_id, exc)
        self.callbacks.append((order_id, status))
        return status


def _error(status: int, error: str, detail: str | None = None) -> JSONResponse:
    body = {"error": error} if detail is None else {"error": error, "detail": detail}
    return JSONResponse(body, status_code=status)


def create_simulator_app(sim: PaymentSimulator) -> Starlette:
    expected_authorization = f"Bearer {sim.api_key}".encode()

    def authorised(request: Request) -> bool:
        given = request.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, expected_authorization)

    async def faulty(operation: str, payment: ProviderPayment | None) -> Response | None:
        fault = sim._fault(operation)
        if fault is Fault.SLOW:
            await sim.released.wait()
        if fault in (Fault.UNAVAILABLE, Fault.LOST_ANSWER):
            page = "<html><body><h1>503 Service Unavailable</h1></body></html>"
            return Response(page, 503, media_type="text/html")
        if fault is Fault.MALFORMED:
            return Response('{"paymentId": ', 200, media_type="application/json")
        if fault is Fault.WRONG_SHAPE and payment is not None:
            wrong = {**payment_to_json(payment), "status": "PAID", "amountKurus": "12,50"}
            return JSONResponse(wrong, 200)
        return None

    async def create(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "unauthorized")
        try:
            wanted = request_from_json(json.loads(await request.body()))
        except (UnicodeDecodeError, json.JSONDecodeError, WireError) as exc:
            return _error(400, "bad_request", str(exc))
        if request.headers.get("Idempotency-Key") != wanted.order_id:
            return _error(400, "bad_request", "Idempotency-Key must be the orderId")
        order = sim.orders.get(wanted.order_id)
        status = 200
        if order is not None and order.payment.amount_kurus != wanted.amount_kurus:
            return _error(409, "order_amount_changed", "this order was opened for another amount")
        if order is None:
            payment_id = "SIMPAY-" + uuid.uuid4().hex[:16].upper()
            order = _Order(
                ProviderPayment(
                    payment_id=payment_id,
                    order_id=wanted.order_id,
                    state=PaymentState.PENDING,
                    amount_kurus=wanted.amount_kurus,
                    payment_url=f"{sim.base_url}/pay/{payment_id}",
                ),
                wanted.callback_url,
            )
            sim.orders[wanted.order_id] = order
            sim.opened += 1
            status = 201
        return await faulty("create", order.payment) or JSONResponse(
            payment_to_json(order.payment), status
        )

    async def status(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "unauthorized")
        order = sim.orders.get(request.path_params["order_id"])
        if order is None:
            return _error(404, "unknown_order")
        return await faulty("get", order.payment) or JSONResponse(payment_to_json(order.payment))

    async def card_page(request: Request) -> Response:
        order = sim.by_payment_id(request.path_params["payment_id"])
        if order is None:
            return HTMLResponse("<h1>Ödeme bulunamadı</h1>", 404)
        if request.method == "POST":
            form = await request.form()
            card = str(form.get("cardNumber", ""))
            try:
                payment = await sim.pay(order.payment.payment_id, card)
            except ValueError as exc:
                return HTMLResponse(f"<p>{html.escape(str(exc))}</p>", 400)
            return HTMLResponse(f"<h1>{payment.state.value}</h1>")
        amount = order.payment.amount_kurus
        lira = f"{amount // 100:,}".replace(",", ".")  # Turkish grouping: 7.190,00 TL
        return HTMLResponse(
            '<!doctype html><html lang="tr"><meta charset="utf-8"><title>Sanal POS</title>'
            f"<h1>Sanal POS (simülatör)</h1><p>Tutar: {lira},{amount % 100:02d} TL</p>"
            '<form method="post"><label>Kart numarası <input name="cardNumber" '
            'value="4242424242424242"></label> <button>Öde</button></form></html>'
        )

    return Starlette(
        routes=[
            Route(PAYMENTS_PATH, create, methods=["POST"]),
            Route(PAYMENTS_PATH + "/{order_id}", status, methods=["GET"]),
            Route("/pay/{payment_id}", card_page, methods=["GET", "POST"]),
        ]
    )


@contextlib.asynccontextmanager
async def serve_simulator(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    api_key: str = DEFAULT_API_KEY,
    secret: str = DEFAULT_SECRET,
) -> AsyncIterator[PaymentSimulator]:
    """Run the simulator on `host:port` (0: a free port) in this loop; yields its handle."""
    sim = PaymentSimulator(api_key=api_key, secret=secret)
    async with serve_app(create_simulator_app(sim), host, port, "payment simulator") as url:
        sim.base_url = url
        try:
            yield sim
        finally:
            sim.released.set()  # held SLOW requests answer now: nothing holds the shutdown


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.payments.simulator", description="Simulated virtual POS."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--secret", default=DEFAULT_SECRET)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim = PaymentSimulator(api_key=args.api_key, secret=args.secret)
    sim.base_url = f"http://{args.host}:{args.port}"
    uvicorn.run(create_simulator_app(sim), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
