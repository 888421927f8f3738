"""Paying a fee notice online by card through the payment provider (virtual POS, guide §4).

The firm (or the archive, for a firm at the counter) starts a payment: we open an order at
the provider for what is still due and hand back the provider's page. The provider tells us
the outcome by a signed callback to `/payments/callback` (`handle_callback`); when that is
late or lost, `refresh_online_payments` asks it. Either way `_apply` records the outcome under
the application's row lock and, for a charged card, reconciles the fee (`payments.reconcile`):

- idempotent: an order is decided once; a repeated or concurrent callback, or a status query
  after the callback, finds it decided and changes nothing — the application settles once;
- retried starts reuse the pending order, whose id is the provider's idempotency key, so a
  start whose answer was lost (a timeout) never opens a second payment;
- a declined card leaves the fee due, with the provider's reason; the firm tries again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from integrations.payments import (
    HttpPaymentProvider,
    PaymentProviderBadAnswer,
    PaymentProviderError,
    PaymentProviderTimeout,
    PaymentRequest,
    PaymentRequestRejected,
    PaymentState,
    ProviderPayment,
    SignatureError,
    WireError,
    payment_from_json,
    verify_callback,
)
from models import clock
from models.applications import Application
from models.payments import DeclineCode, OnlinePayment, OnlinePaymentStatus, PaymentMethod
from models.roles import Role
from models.workflow import ApplicationStatus
from resolvers import audit
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.errors import Bilingual, DomainError, ErrorCode, invalid_state
from resolvers.settings import get_settings
from resolvers.workflow.balance import balance_of
from resolvers.workflow.common import reference
from resolvers.workflow.payments import reconcile

log = logging.getLogger("mcks.payments")

# The provider's callbacks act as this (audited as the virtual POS, not as a person).
PROVIDER_ACTOR = "sanal POS"


class UnknownOrder(LookupError):
    """A callback for an order we never opened."""


class UntrustedOutcome(ValueError):
    """A callback or answer about our order that does not match it (amount, payment id)."""


def provider() -> HttpPaymentProvider:
    settings = get_settings()
    if not (settings.payment_provider_url and settings.payment_provider_api_key):
        raise invalid_state(
            "çevrimiçi ödeme (sanal POS) yapılandırılmamış; dekontla ya da Kurumda kartla ödeyin",
            "online payment (virtual POS) is not configured; pay by bank receipt or at the office",
        )
    return HttpPaymentProvider(
        settings.payment_provider_url,
        settings.payment_provider_api_key,
        settings.payment_provider_timeout_seconds,
    )


def _unavailable(error: PaymentProviderError) -> DomainError:
    if isinstance(error, PaymentProviderTimeout):
        reason = Bilingual("zaman aşımı", "timed out")
    elif isinstance(error, PaymentProviderBadAnswer):
        reason = Bilingual("anlaşılamayan bir yanıt verdi", "it gave an unreadable answer")
    elif isinstance(error, PaymentRequestRejected):
        reason = Bilingual("istek reddedildi, Kurum yapılandırmayı denetliyor", "request refused")
    else:
        reason = Bilingual("hizmet kullanılamıyor", "service unavailable")
    log.warning("payment provider failed: %s [%s]", error, type(error).__name__)
    return DomainError(ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, reason=reason)


def _may_pay(actor: Actor, application: Application) -> None:
    if not (
        (actor.is_firm and actor.firm_id == application.firm_id)
        or actor.has(Role.STAFF_ARCHIVE, Role.STAFF_ADMIN)
    ):
        raise DomainError(ErrorCode.FORBIDDEN)


async def start_online_payment(actor: Actor, application_id: int) -> OnlinePayment:
    """Open (or reuse) the order for what is still due; its `payment_url` is the card page."""
    _may_pay(actor, await get_application(actor, application_id))
    payments_at = provider()
    try:
        async with in_transaction():
            application = await get_application(actor, application_id, for_update=True)
            _may_pay(actor, application)
            if application.status != ApplicationStatus.AWAITING_PAYMENT:
                raise invalid_state(
                    "başvuru ödeme beklemiyor", "the application is not awaiting payment"
                )
            due = (await balance_of(application.id)).outstanding_kurus
            if not due:
                raise invalid_state("ödenecek tutar kalmadı", "nothing is left to pay")
            order = (
                await OnlinePayment.filter(
                    application_id=application.id,
                    status=OnlinePaymentStatus.PENDING,
                    amount_kurus=due,
                )
                .order_by("-id")
                .first()
            )
            if order is None:
                attempt = await OnlinePayment.filter(application_id=application.id).count() + 1
                now = clock.now()
                order = await OnlinePayment.create(
                    order_id=f"{reference(application)}-{attempt:02d}",
                    application_id=application.id,
                    amount_kurus=due,
                    started_by=actor.name,
                    created_at=now,
                    updated_at=now,
                )
                await audit.record(
                    actor,
                    "online_payment.started",
                    "OnlinePayment",
                    order.id,
                    {
                        "orderId": order.order_id,
                        "applicationId": application.id,
                        "amountKurus": due,
                    },
                    firm_id=application.firm_id,
                )
            request = PaymentRequest(
                order_id=order.order_id,
                amount_kurus=due,
                description=f"MCKS kayıt ücreti {reference(application)}",
                callback_url=get_settings().payment_callback_url,
            )
        # Outside the transaction: no row lock is held while the provider answers.
        try:
            opened = await payments_at.create_payment(request)
        except PaymentProviderError as error:
            raise _unavailable(error) from error
    finally:
        await payments_at.aclose()
    if opened.state is not PaymentState.PENDING:  # paid (or declined) on an earlier page
        return await _apply(opened, "start")
    async with in_transaction():
        order = await OnlinePayment.filter(id=order.id).select_for_update().get()
        if order.status == OnlinePaymentStatus.PENDING:
            order.provider_payment_id, order.payment_url = opened.payment_id, opened.payment_url
            order.updated_at = clock.now()
            await order.save(update_fields=["provider_payment_id", "payment_url", "updated_at"])
    return order


async def _apply(payment: ProviderPayment, source: str) -> OnlinePayment:
    """Record a decided payment once, and settle the fee when it is covered."""
    known = await OnlinePayment.get_or_none(order_id=payment.order_id)
    if known is None:
        raise UnknownOrder(payment.order_id)
    if payment.state is PaymentState.PENDING:
        return known
    system = Actor.system(PROVIDER_ACTOR)
    async with in_transaction() as conn:
        # The application first, as every writer of it does: no lock-order deadlock.
        application = await Application.filter(id=known.application_id).select_for_update().get()
        order = await OnlinePayment.filter(id=known.id).select_for_update().get()
        if order.status != OnlinePaymentStatus.PENDING:
            if order.status.value != payment.state.value:
                log.warning(
                    "order %s is %s, the provider now says %s (%s): kept",
                    order.order_id,
                    order.status.value,
                    payment.state.value,
                    source,
                )
            return order
        if payment.amount_kurus != order.amount_kurus or (
            order.provider_payment_id and order.provider_payment_id != payment.payment_id
        ):
            raise UntrustedOutcome(
                f"order {order.order_id}: {payment.payment_id} of {payment.amount_kurus} kuruş, "
                f"expected {order.provider_payment_id} of {order.amount_kurus}"
            )
        succeeded = payment.state is PaymentState.SUCCEEDED
        order.status = OnlinePaymentStatus.SUCCEEDED if succeeded else OnlinePaymentStatus.DECLINED
        order.provider_payment_id = payment.payment_id
        order.payment_url = None
        if not succeeded:
            code = payment.decline_code or ""
            order.decline_code = (
                DeclineCode(code) if code in DeclineCode.__members__ else DeclineCode.OTHER
            )
            order.decline_message = payment.decline_message or code
        order.updated_at = clock.now()
        await order.save()
        await audit.record(
            system,
            "online_payment.succeeded" if succeeded else "online_payment.declined",
            "OnlinePayment",
            order.id,
            {
                "orderId": order.order_id,
                "providerPaymentId": payment.payment_id,
                "amountKurus": order.amount_kurus,
                "declineCode": payment.decline_code,
                "declineMessage": payment.decline_message,
                "via": source,
            },
            firm_id=application.firm_id,
        )
        if succeeded:
            await reconcile(system, application, conn, PaymentMethod.VIRTUAL_POS)
    return order


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    status: int
    body: dict[str, str]


async def handle_callback(body: bytes, signature: str | None) -> CallbackAnswer:
    """The provider's callback, as the HTTP route answers it: 2xx only once it is recorded,
    so the provider sends it again after any failure of ours."""
    secret = get_settings().payment_callback_secret
    if not secret:
        return CallbackAnswer(404, {"error": "online payment is not configured"})
    try:
        # Real time, not the domain clock: freshness is about the message in transit.
        verify_callback(secret, body, signature, now=time.time())
    except SignatureError as error:
        log.warning("payment callback refused: %s", error)
        return CallbackAnswer(401, {"error": "invalid_signature"})
    try:
        payment = payment_from_json(json.loads(body))
    except (ValueError, RecursionError) as error:  # JSON and WireError alike
        detail = str(error) if isinstance(error, WireError) else "not JSON"
        log.warning("payment callback unreadable: %s", detail)
        return CallbackAnswer(400, {"error": "bad_request", "detail": detail})
    try:
        order = await _apply(payment, "callback")
    except UnknownOrder:
        return CallbackAnswer(404, {"error": "unknown_order"})
    except UntrustedOutcome as error:
        log.warning("payment callback does not match its order: %s", error)
        return CallbackAnswer(409, {"error": "mismatch"})
    return CallbackAnswer(200, {"orderId": order.order_id, "status": order.status.value})


async def refresh_online_payments(actor: Actor, application_id: int) -> list[OnlinePayment]:
    """Ask the provider about the application's pending orders (a late or lost callback)."""
    application = await get_application(actor, application_id)
    _may_pay(actor, application)
    pending = await OnlinePayment.filter(
        application_id=application.id, status=OnlinePaymentStatus.PENDING
    )
    if pending:
        payments_at = provider()
        try:
            for order in pending:
                try:
                    answer = await payments_at.get_payment(order.order_id)
                except PaymentRequestRejected as error:
                    if error.status_code == 404:  # never opened: its start failed early
                        continue
                    raise _unavailable(error) from error
                except PaymentProviderError as error:
                    raise _unavailable(error) from error
                try:
                    await _apply(answer, "status query")
                except UntrustedOutcome as error:
                    log.warning("payment status does not match its order: %s", error)
                    raise _unavailable(PaymentProviderBadAnswer(str(error))) from error
        finally:
            await payments_at.aclose()
    return await online_payments_of(actor, application.id)


async def online_payments_of(actor: Actor, application_id: int) -> list[OnlinePayment]:
    application = await get_application(actor, application_id)
    return await OnlinePayment.filter(application_id=application.id).order_by("id")
