"""What we ask the payment provider (the regulator's virtual POS, guide §4) and what it says.

The firm pays a fee notice online by card on the provider's page. We open a payment for an
order of ours (`create_payment`), send the firm to its `payment_url`, and learn the outcome
from the provider's signed callback (`callback.verify_callback`) or, when a callback is late
or lost, by asking (`get_payment`). `http_client.HttpPaymentProvider` talks to the real
service, `simulator` plays it for tests and the demo.

Idempotency is the order id: the provider opens at most one payment per order id, so a
request retried after a timeout can never charge twice. Failures are typed like the
authorities' (`retryable`), and an answer off the protocol is never mistaken for a payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

CURRENCY = "TRY"


class PaymentState(StrEnum):
    PENDING = "PENDING"  # opened; the card holder has not finished
    SUCCEEDED = "SUCCEEDED"  # the card was charged
    DECLINED = "DECLINED"  # the card or the bank refused; nothing was charged


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    order_id: str  # ours, unique per attempt; the provider's idempotency key
    amount_kurus: int
    description: str
    callback_url: str

    def __post_init__(self) -> None:
        if not self.order_id or len(self.order_id) > 64:
            raise ValueError("an order id is 1 to 64 characters")
        if self.amount_kurus <= 0:
            raise ValueError("an online payment is for a positive amount")


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The provider's view of one payment."""

    payment_id: str
    order_id: str
    state: PaymentState
    amount_kurus: int
    payment_url: str | None = None  # where the card holder pays (while PENDING)
    decline_code: str | None = None  # with DECLINED only
    decline_message: str | None = None  # the provider's own words, kept for staff

    def __post_init__(self) -> None:
        if (self.state is PaymentState.DECLINED) != (self.decline_code is not None):
            raise ValueError("a decline code comes with DECLINED and only with it")


class PaymentProviderError(Exception):
    """The provider gave no usable answer; nothing is known about the payment's state."""

    retryable: bool = True

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __str__(self) -> str:
        status = f" (HTTP {self.status_code})" if self.status_code is not None else ""
        return f"payment provider: {self.message}{status}"


class PaymentProviderTimeout(PaymentProviderError):
    """No answer within the deadline: the payment may or may not have been opened."""


class PaymentProviderUnavailable(PaymentProviderError):
    """5xx, 429, connection refused or dropped."""


class PaymentProviderBadAnswer(PaymentProviderError):
    """Not JSON, wrong shape, or a payment for another order or amount than asked."""


class PaymentRequestRejected(PaymentProviderError):
    """A 4xx other than 429: our request or configuration is wrong; retrying cannot help."""

    retryable = False


class PaymentProvider(Protocol):
    async def create_payment(self, request: PaymentRequest) -> ProviderPayment: ...

    async def get_payment(self, order_id: str) -> ProviderPayment: ...

    async def aclose(self) -> None: ...
