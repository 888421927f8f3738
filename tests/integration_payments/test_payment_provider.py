"""The payment provider's HTTP client against the simulator on loopback: idempotent orders,
status queries, signed callbacks, and every failure typed (timeouts, 5xx, garbage, refusals)."""

from __future__ import annotations

import socket
import time

import pytest

from integrations.payments import (
    HttpPaymentProvider,
    PaymentProviderBadAnswer,
    PaymentProviderTimeout,
    PaymentProviderUnavailable,
    PaymentRequest,
    PaymentRequestRejected,
    PaymentState,
    SignatureError,
    verify_callback,
)
from integrations.payments.simulator import DEFAULT_API_KEY, Fault, serve_simulator
from integrations.payments.wire import sign


def order(order_id: str = "MCKS-2026-000001-01", amount: int = 4000) -> PaymentRequest:
    return PaymentRequest(order_id, amount, "MCKS kayıt ücreti", "http://127.0.0.1:9/cb")


async def test_an_order_opens_one_payment_however_often_it_is_asked():
    async with serve_simulator() as sim:
        async with HttpPaymentProvider(sim.base_url, DEFAULT_API_KEY, 5) as provider:
            first = await provider.create_payment(order())
            again = await provider.create_payment(order())
            assert first.payment_id == again.payment_id and sim.opened == 1
            assert first.state is PaymentState.PENDING
            assert first.payment_url == f"{sim.base_url}/pay/{first.payment_id}"
            status = await provider.get_payment(first.order_id)
            assert (status.state, status.amount_kurus) == (PaymentState.PENDING, 4000)
            # The same order id for another amount is a refusal, not a second payment.
            with pytest.raises(PaymentRequestRejected) as changed:
                await provider.create_payment(order(amount=5000))
            assert changed.value.status_code == 409 and not changed.value.retryable


async def test_a_lost_answer_then_a_retry_finds_the_same_payment():
    async with serve_simulator() as sim:
        async with HttpPaymentProvider(sim.base_url, DEFAULT_API_KEY, 5) as provider:
            sim.fail_next("create", Fault.LOST_ANSWER)
            with pytest.raises(PaymentProviderUnavailable) as lost:
                await provider.create_payment(order())
            assert lost.value.retryable and lost.value.status_code == 503
            retried = await provider.create_payment(order())
            assert sim.opened == 1 and retried.order_id == order().order_id


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.SLOW, PaymentProviderTimeout),
        (Fault.UNAVAILABLE, PaymentProviderUnavailable),
        (Fault.MALFORMED, PaymentProviderBadAnswer),
        (Fault.WRONG_SHAPE, PaymentProviderBadAnswer),
    ],
)
@pytest.mark.parametrize("operation", ["create", "get"])
async def test_failures_are_typed(fault, error, operation):
    async with serve_simulator() as sim:
        async with HttpPaymentProvider(sim.base_url, DEFAULT_API_KEY, 0.5) as provider:
            await provider.create_payment(order())
            sim.fail_next(operation, fault)
            with pytest.raises(error) as failed:
                if operation == "create":
                    await provider.create_payment(order())
                else:
                    await provider.get_payment(order().order_id)
            assert failed.value.retryable


async def test_a_wrong_key_an_unknown_order_and_a_closed_port():
    async with serve_simulator() as sim:
        async with HttpPaymentProvider(sim.base_url, "wrong-key", 5) as provider:
            with pytest.raises(PaymentRequestRejected) as refused:
                await provider.create_payment(order())
            assert refused.value.status_code == 401
        async with HttpPaymentProvider(sim.base_url, DEFAULT_API_KEY, 5) as provider:
            with pytest.raises(PaymentRequestRejected) as unknown:
                await provider.get_payment("NEVER-OPENED")
            assert unknown.value.status_code == 404
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with HttpPaymentProvider(f"http://127.0.0.1:{port}", DEFAULT_API_KEY, 5) as provider:
        with pytest.raises(PaymentProviderUnavailable):
            await provider.create_payment(order())


async def test_cards_decide_the_outcome():
    async with serve_simulator() as sim:
        sim.deliver_callbacks = False
        async with HttpPaymentProvider(sim.base_url, DEFAULT_API_KEY, 5) as provider:
            charged = await provider.create_payment(order("A-01"))
            declined = await provider.create_payment(order("A-02"))
            await sim.pay(charged.payment_id, "4242 4242 4242 4242")
            await sim.pay(declined.payment_id, "4000000000009995")
            assert (await provider.get_payment("A-01")).state is PaymentState.SUCCEEDED
            refusal = await provider.get_payment("A-02")
            assert (refusal.state, refusal.decline_code) == (
                PaymentState.DECLINED,
                "INSUFFICIENT_FUNDS",
            )
            with pytest.raises(ValueError):
                await sim.pay((await provider.create_payment(order("A-03"))).payment_id, "42")


def test_a_callback_signature_covers_the_body_the_secret_and_the_time():
    body, now = b'{"orderId": "A-01"}', time.time()
    header = sign("secret", body, int(now))
    verify_callback("secret", body, header, now)
    for wrong_body, wrong_secret, wrong_header, at in (
        (body + b" ", "secret", header, now),
        (body, "other", header, now),
        (body, "secret", None, now),
        (body, "secret", "t=abc,v1=00", now),
        (body, "secret", header, now + 301),
    ):
        with pytest.raises(SignatureError):
            verify_callback(wrong_secret, wrong_body, wrong_header, at)
