"""The firm's own bank receipts (dekont) for its fee, and the archive's check of them
(Tebliğ art. 3(ğ), 8(2)(f), 8(3)(e), 9(2)(e); guide §4).

A firm pays into the regulator's account and declares the receipt: bank, date, number,
amount and a scan. It may do so with the application, before the fee is set (the Tebliğ's
pre-paid mode: "kayıt ücreti dekontuna ilişkin bilgiler" are part of the application), or
after the fee notice. The archive confirms a receipt (the money is there) or refuses it with
a reason. Confirmed receipts and card payments are reconciled with the fee notice
(`payments.reconcile`): enough settles the application, short leaves the difference due.
One receipt number settles one application only (`payments.claim_receipt`).
"""

from __future__ import annotations

from datetime import date

from tortoise.transactions import in_transaction

from models import clock
from models.applications import Application
from models.files import FileKind
from models.payments import FeeReceipt, Payment, PaymentMethod, ReceiptStatus
from models.roles import Role
from models.workflow import EDITABLE, ApplicationStatus
from resolvers import audit, files
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.applications.drafts import require_editor
from resolvers.errors import (
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    invalid_state,
    not_found,
)
from resolvers.pagination import Page, paginate
from resolvers.settings import get_settings
from resolvers.workflow.common import Content, read_upload, turkish_today
from resolvers.workflow.documents import JPEG, PDF, SCAN_MAX_BYTES, require_type
from resolvers.workflow.payments import (
    RECEIPT_RE,
    claim_receipt,
    receipt_key,
    receipt_taken,
    reconcile,
)

MAX_BANK = 128
MAX_REASON = 4000
# A receipt older than this many days before its declaration is a typo, not a payment.
OLDEST_RECEIPT_DAYS = 3 * 365


def _may_declare(actor: Actor, application: Application) -> None:
    """With the application: whoever edits the draft (the firm; staff for paper ones). After
    the fee notice: the firm, or the archive entering a receipt brought to the office."""
    if application.status in EDITABLE:
        require_editor(actor, application)
    elif application.status == ApplicationStatus.AWAITING_PAYMENT:
        own_firm = actor.is_firm and actor.firm_id == application.firm_id
        if not (own_firm or actor.has(Role.STAFF_ARCHIVE, Role.STAFF_ADMIN)):
            raise DomainError(ErrorCode.FORBIDDEN)
    else:
        if not (actor.is_staff or actor.firm_id == application.firm_id):
            raise DomainError(ErrorCode.FORBIDDEN)
        raise invalid_state(
            "dekont başvuruyla birlikte (taslakta) ya da ücret bildiriminden sonra verilir",
            "a receipt is given with the application (as a draft) or after the fee notice",
        )


def _check_receipt(
    problems: Problems, bank: str, paid_on: date, receipt_no: str, amount_kurus: int | None
) -> None:
    if not bank or len(bank) > MAX_BANK:
        problems.add(invalid("bank", "banka adı 1–128 karakter olmalı", "the bank is 1–128 chars"))
    today = turkish_today()
    if paid_on > today:
        problems.add(
            invalid("paidOn", "dekont tarihi bugünden sonra olamaz", "the receipt is dated later")
        )
    elif (today - paid_on).days > OLDEST_RECEIPT_DAYS:
        problems.add(
            invalid(
                "paidOn",
                "dekont tarihi üç yıldan eski olamaz",
                "the receipt cannot be older than three years",
            )
        )
    if not RECEIPT_RE.match(receipt_no):
        problems.add(
            invalid(
                "receiptNo",
                "dekont numarası yalnızca harf, rakam ve / . _ - içerir (1–64 karakter)",
                "a receipt number has only letters, digits and / . _ - (1–64 characters)",
            )
        )
    if amount_kurus is not None and amount_kurus <= 0:
        problems.add(
            invalid("amount", "tutar sıfırdan büyük olmalı", "the amount must be positive")
        )


@files.atomic_uploads
async def declare_receipt(
    actor: Actor,
    application_id: int,
    bank: str,
    paid_on: date,
    receipt_no: str,
    amount_kurus: int | None,
    scan: Content,
    filename: str,
    problems: Problems | None = None,
) -> FeeReceipt:
    """The firm declares a bank receipt (its scan: JPEG under 300 KB or a PDF). Every input
    problem is reported at once (with those in `problems`, found while reading the input)."""
    problems = problems if problems is not None else Problems()
    bank, receipt_no = " ".join(bank.split()), receipt_no.strip()
    application = await get_application(actor, application_id)
    _may_declare(actor, application)
    _check_receipt(problems, bank, paid_on, receipt_no, amount_kurus)
    data = await read_upload(scan, get_settings().max_document_bytes)
    content_type = problems.check(require_type, data, (JPEG, PDF))
    if content_type == JPEG and len(data) > SCAN_MAX_BYTES:
        problems.add(
            invalid(
                "file", "JPEG dekont taraması 300 KB'tan küçük olmalı", "a JPEG scan is <300 KB"
            )
        )
    problems.raise_any()
    assert amount_kurus is not None and content_type is not None
    key = receipt_key(receipt_no)
    async with in_transaction():
        locked = await get_application(actor, application_id, for_update=True)
        _may_declare(actor, locked)
        if await Payment.exists(application_id=locked.id):
            raise invalid_state("ücret zaten ödendi", "the fee is already paid")
        if await FeeReceipt.exists(settles_key=key):
            raise receipt_taken(key)
        same = await FeeReceipt.filter(
            application_id=locked.id, status=ReceiptStatus.DECLARED
        ).values_list("receipt_no", flat=True)
        if any(receipt_key(str(r)) == key for r in same):
            raise already_exists("Bu dekont", "This receipt", receipt_no, field="receiptNo")
        stored = await files.store(
            actor,
            data,
            kind=FileKind.FEE_RECEIPT,
            original_name=filename,
            content_type=content_type,
            firm_id=locked.firm_id,
            max_bytes=len(data),
        )
        receipt = await FeeReceipt.create(
            application_id=locked.id,
            bank=bank,
            paid_on=paid_on,
            receipt_no=receipt_no,
            amount_kurus=amount_kurus,
            file_id=stored.id,
            with_application=locked.status in EDITABLE,
            declared_by=actor.name,
            declared_at=clock.now(),
        )
        await audit.record(
            actor,
            "fee_receipt.declared",
            "FeeReceipt",
            receipt.id,
            {
                "applicationId": locked.id,
                "bank": bank,
                "paidOn": paid_on.isoformat(),
                "receiptNo": receipt_no,
                "amountKurus": amount_kurus,
                "fileId": stored.id,
                "withApplication": receipt.with_application,
            },
            firm_id=locked.firm_id,
        )
    return receipt


async def _locked_receipt(actor: Actor, receipt_id: int) -> tuple[FeeReceipt, Application]:
    if not actor.has(Role.STAFF_ARCHIVE, Role.STAFF_ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    found = await FeeReceipt.get_or_none(id=receipt_id)
    if found is None:
        raise not_found("Dekont", "The receipt", field="receiptId")
    application = await get_application(actor, found.application_id, for_update=True)
    receipt = await FeeReceipt.filter(id=receipt_id).select_for_update().get()
    return receipt, application


async def confirm_receipt(actor: Actor, receipt_id: int) -> FeeReceipt:
    """The archive found the money: the receipt counts toward the fee, and settles the
    application when what came in covers the fee notice. Confirming again changes nothing."""
    async with in_transaction() as conn:
        receipt, application = await _locked_receipt(actor, receipt_id)
        if receipt.status == ReceiptStatus.CONFIRMED:
            return receipt
        if receipt.status == ReceiptStatus.REFUSED:
            raise invalid_state("dekont reddedilmiş", "the receipt was refused")
        if await Payment.exists(application_id=application.id):
            raise invalid_state("ücret zaten ödendi", "the fee is already paid")
        await claim_receipt(receipt)
        receipt.decided_by, receipt.decided_at = actor.name, clock.now()
        await receipt.save(update_fields=["decided_by", "decided_at"])
        balance = await reconcile(actor, application, conn, PaymentMethod.BANK_TRANSFER)
        await audit.record(
            actor,
            "fee_receipt.confirmed",
            "FeeReceipt",
            receipt.id,
            {
                "applicationId": application.id,
                "receiptNo": receipt.receipt_no,
                "amountKurus": receipt.amount_kurus,
                "paidKurus": balance.paid_kurus,
                "dueKurus": balance.due_kurus,
                "settled": balance.settled,
            },
            firm_id=application.firm_id,
        )
    return receipt


async def refuse_receipt(actor: Actor, receipt_id: int, reason: str) -> FeeReceipt:
    """The archive did not find the money (or the scan does not show it): refused with the
    reason the firm sees; the firm may declare a corrected receipt."""
    reason = reason.strip()
    if not reason:
        raise invalid("reason", "ret gerekçesi yazılmalı", "a reason is required")
    if len(reason) > MAX_REASON:
        raise invalid("reason", "gerekçe en fazla 4000 karakter", "at most 4000 characters")
    async with in_transaction():
        receipt, application = await _locked_receipt(actor, receipt_id)
        if receipt.status == ReceiptStatus.REFUSED and receipt.refusal_reason == reason:
            return receipt
        if receipt.status != ReceiptStatus.DECLARED:
            raise invalid_state(
                "yalnızca onay bekleyen bir dekont reddedilebilir",
                "only a receipt awaiting the check can be refused",
            )
        receipt.status, receipt.refusal_reason = ReceiptStatus.REFUSED, reason
        receipt.decided_by, receipt.decided_at = actor.name, clock.now()
        await receipt.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at"])
        await audit.record(
            actor,
            "fee_receipt.refused",
            "FeeReceipt",
            receipt.id,
            {"applicationId": application.id, "receiptNo": receipt.receipt_no, "reason": reason},
            firm_id=application.firm_id,
        )
    return receipt


async def list_receipts(
    actor: Actor, status: ReceiptStatus | None, first: int, after: str | None
) -> Page[FeeReceipt]:
    """The archive's queue: receipts of every firm (e.g. DECLARED: still to check), oldest
    first, so the receipt waiting longest comes first."""
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    query = FeeReceipt.all() if status is None else FeeReceipt.filter(status=status)
    return await paginate(query, first, after, newest_first=False, count=True)
