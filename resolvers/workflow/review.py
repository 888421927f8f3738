"""Staff review (Tebliğ art. 10): a reviewer takes the application, then approves it (fee
notice issued), rejects it with a reason (art. 10(3)), or returns it as incomplete (art.
10(2)). One reviewer works an application at a time; staff admins may act on any."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.documents import DocumentKind, IssuedKind
from models.fees import total_kurus
from models.payments import FeeNotice, PaymentMethod
from models.progress import ApplicationProgress
from models.roles import Role
from models.workflow import Action, ApplicationStatus
from resolvers import audit
from resolvers.actor import Actor
from resolvers.applications import declarations, transitions
from resolvers.applications.access import get_application
from resolvers.documents.issuing import prepare_seal
from resolvers.errors import DomainError, ErrorCode, invalid, invalid_state
from resolvers.workflow import payments, pdfs
from resolvers.workflow.balance import balance_of
from resolvers.workflow.common import passing_groups, progress_of, reference, turkish_today
from resolvers.workflow.fees import payment_due, quote_for

MAX_REASON = 4000


def _require_taker(actor: Actor, progress: ApplicationProgress) -> None:
    """The taker decides. An admin may decide an application nobody took, but one another
    reviewer holds only after taking it over with a reason (`take_for_review`)."""
    if actor.has(Role.STAFF_ADMIN) and progress.reviewer_id in (None, actor.id):
        return
    if progress.reviewer_id is None:
        raise invalid_state(
            "başvuru önce incelemeye alınmalı", "take the application for review first"
        )
    if progress.reviewer_id != actor.id:
        raise DomainError(ErrorCode.REVIEW_TAKEN, reviewer=progress.reviewer_name or "?")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise invalid("reason", "gerekçe yazılmalı", "a reason is required")
    if len(reason) > MAX_REASON:
        raise invalid("reason", "gerekçe en fazla 4000 karakter", "at most 4000 characters")
    return reason


def _take_over_reason(reason: str | None, reviewer: str) -> str:
    if not (reason or "").strip():
        raise invalid(
            "reason",
            f"başvuru {reviewer} tarafından incelemeye alınmış; devralmak için gerekçe yazın",
            f"the application is being reviewed by {reviewer}; give a reason to take it over",
        )
    return _reason(reason or "")


async def take_for_review(
    actor: Actor, application_id: int, reason: str | None = None
) -> Application:
    """Assign the application to the calling reviewer. An admin may take over one another
    reviewer holds, giving the reason (audited as a take-over, with the previous reviewer)."""
    if not actor.has(Role.STAFF_REVIEWER, Role.STAFF_ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        if application.status != ApplicationStatus.UNDER_REVIEW:
            raise invalid_state("başvuru incelemede değil", "the application is not under review")
        progress = await progress_of(application.id)
        if progress.reviewer_id == actor.id:
            return application
        previous = progress.reviewer_name
        details: dict[str, object] = {"reviewer": actor.name, "previousReviewer": previous}
        event = "application.review_taken"
        if progress.reviewer_id is not None:
            if not actor.has(Role.STAFF_ADMIN):
                raise DomainError(ErrorCode.REVIEW_TAKEN, reviewer=previous or "?")
            details["reason"] = _take_over_reason(reason, previous or "?")
            details["previousReviewerId"] = progress.reviewer_id
            event = "application.review_taken_over"
        progress.reviewer_id, progress.reviewer_name = actor.id, actor.name
        progress.review_taken_at = progress.updated_at = clock.now()
        await progress.save()
        await audit.record(
            actor, event, "Application", application.id, details, firm_id=application.firm_id
        )
    return application


async def _release(progress: ApplicationProgress) -> None:
    """Leaving review: a resubmission is taken afresh (the audit trail keeps who it was)."""
    progress.reviewer_id = progress.reviewer_name = progress.review_taken_at = None
    progress.updated_at = clock.now()
    await progress.save()


async def approve(actor: Actor, application_id: int) -> Application:
    """Approve: the fee notice (passing IMEIs × this year's fee) is issued, signed by the
    Kurum, payment awaited. Receipts the archive confirmed before (pre-paid, art. 8(2)(f))
    are reconciled at once: enough settles the application, short leaves the difference
    due (on the notice too)."""
    prepared = await prepare_seal(IssuedKind.FEE_NOTICE)  # outside: may make the local CA
    async with in_transaction() as conn:
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, Action.APPROVE)
        progress = await progress_of(application.id)
        _require_taker(actor, progress)
        await declarations.require_consistent(application.id)
        groups = await passing_groups(application.id)
        imeis = sum(g.imeis for g in groups)
        if imeis == 0:
            raise DomainError(ErrorCode.NO_PASSING_DEVICES)
        year = turkish_today().year
        fee = await quote_for(year)
        amount = total_kurus(imeis, fee.per_imei_kurus)
        number = f"{reference(application)}/ÜB"
        firm = await Firm.get(id=application.firm_id)
        now = clock.now()
        prepaid = await balance_of(application.id)
        html = pdfs.fee_notice_html(
            application,
            firm,
            groups,
            number,
            year,
            fee.per_imei_kurus,
            amount,
            now,
            payment_due(now),
            prepared.seal,
            credited_kurus=prepaid.paid_kurus,
        )
        _, stored = await pdfs.issue(
            actor, application, DocumentKind.FEE_NOTICE, html, (prepared, number)
        )
        await FeeNotice.create(
            application_id=application.id,
            number=number,
            year=year,
            imei_count=imeis,
            per_imei_kurus=fee.per_imei_kurus,
            amount_kurus=amount,
            file_id=stored.id,
            issued_by=actor.name,
            issued_at=now,
        )
        await transitions.apply(
            actor,
            application,
            Action.APPROVE,
            details={
                "feeNotice": number,
                "feeNoticeFileId": stored.id,
                "year": year,
                "imeis": imeis,
                "perImeiKurus": fee.per_imei_kurus,
                "amountKurus": amount,
                "baseYear": fee.base_year,
                "rates": {str(y): str(rate) for y, rate in fee.rates},
                "yearlyFeesKurus": {str(y): kurus for y, kurus in fee.steps},
                "prepaidKurus": prepaid.paid_kurus,
                "prepaidReceiptsAwaitingCheck": prepaid.pending_receipts,
            },
        )
        await payments.reconcile(actor, application, conn, PaymentMethod.BANK_TRANSFER)
    return application


async def reject(actor: Actor, application_id: int, reason: str) -> Application:
    """Inconsistent data or documents (art. 10(3)): rejected with the reason the firm sees."""
    reason = _reason(reason)
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, Action.REJECT)
        progress = await progress_of(application.id)
        _require_taker(actor, progress)
        await _release(progress)
        return await transitions.apply(actor, application, Action.REJECT, reason=reason)


async def return_incomplete(actor: Actor, application_id: int, reason: str) -> Application:
    """Missing or wrong information (art. 10(2)): back to the firm as a draft."""
    reason = _reason(reason)
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, Action.RETURN_INCOMPLETE)
        progress = await progress_of(application.id)
        _require_taker(actor, progress)
        await _release(progress)
        return await transitions.apply(actor, application, Action.RETURN_INCOMPLETE, reason=reason)
