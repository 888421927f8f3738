"""The payment provider (virtual POS, guide §4): interface, HTTP client, callback signature.

The simulator is imported explicitly (`from integrations.payments.simulator import
serve_simulator`) so production code does not load it.
"""

from integrations.payments.http_client import HttpPaymentProvider
from integrations.payments.interface import (
    PaymentProvider,
    PaymentProviderBadAnswer,
    PaymentProviderError,
    PaymentProviderTimeout,
    PaymentProviderUnavailable,
    PaymentRequest,
    PaymentRequestRejected,
    PaymentState,
    ProviderPayment,
)
from integrations.payments.wire import (
    SIGNATURE_HEADER,
    SignatureError,
    WireError,
    payment_from_json,
    verify_callback,
)

__all__ = [
    "SIGNATURE_HEADER",
    "HttpPaymentProvider",
    "PaymentProvider",
    "PaymentProviderBadAnswer",
    "PaymentProviderError",
    "PaymentProviderTimeout",
    "PaymentProviderUnavailable",
    "PaymentRequest",
    "PaymentRequestRejected",
    "PaymentState",
    "ProviderPayment",
    "SignatureError",
    "WireError",
    "payment_from_json",
    "verify_callback",
]
