"""Recording the payment (guide §4) and what it sets off, in one transaction: every passing
IMEI goes on the whitelist (or is held, for mainboards and swap devices), the import permit
is issued, and the customs documents fall due (guide §5–6).

The whitelist race. Two applications may both carry an IMEI that passed their analyses (an
individual registration or another firm's payment got there first). `register_passing_imeis`
takes the whitelist feed's lock first (`registry_changes.lock_feed`, the same lock every
whitelist writer takes), and only then looks at which of its IMEIs are already registered or
held: whoever pays second waits for the first to commit and then sees its rows, so exactly one
application gets the IMEI. The other's device fails with ALREADY_REGISTERED (a DeviceFailure
row, as if the analysis had found it), so the firm sees why; its other devices go on. The
unique indexes on whitelist_entry.imei and held_imei.imei are the last line of defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.checks import CheckCode
from models.documents import DocumentKind, IssuedKind
from models.fees import format_lira
from models.payments import (
    FeeNotice,
    FeeReceipt,
    Payment,
    PaymentMethod,
    ReceiptStatus,
)
from models.registry import WhitelistSource, WhitelistStatus
from models.workflow import Action, ApplicationKind, ApplicationStatus, clears_customs, role_may
from resolvers import bulk, registry_changes
from resolvers.actor import Actor
from resolvers.applications import outcome, transitions
from resolvers.applications.access import get_application
from resolvers.documents.issuing import PreparedSeal, prepare_seal
from resolvers.errors import (
    Bilingual,
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    invalid_state,
)
from resolvers.settings import get_settings
from resolvers.workflow import fees, pdfs
from resolvers.workflow.balance import Balance, balance_of
from resolvers.workflow.balance import credited as credited_of
from resolvers.workflow.common import (
    add_months,
    passing_groups,
    progress_of,
    reference,
    turkish_today,
)

RECEIPT_RE = re.compile(r"^[A-Za-z0-9/._-]{1,64}$")
HOLD_KINDS = frozenset({ApplicationKind.MAINBOARD, ApplicationKind.SWAP})
BATCH = 5000
MAX_AUDITED_ROWS = 50


@dataclass(frozen=True, slots=True)
class Registration:
    registered: int  # IMEIs put on the whitelist
    held: int  # IMEIs held for the replacement flow
    lost_rows: tuple[int, ...]  # devices that lost an IMEI to another registration
    invalid_rows: tuple[int, ...]  # test devices whose identity cannot be listed


def permit_number(application: Application) -> str:
    suffix = "İİ" if clears_customs(application.kind, application.production_date) else "KB"
    return f"{reference(application)}/{suffix}"


def _listable(imei: str) -> bool:
    """The whitelist holds 15-digit IMEIs; a test device's may be anything (art. 12(2))."""
    return len(imei) == 15 and imei.isascii() and imei.isdigit()


async def _taken_rows(conn: BaseDBAsyncClient, application_id: int) -> set[int]:
    """Passing devices with an IMEI already on the whitelist or held by another application
    (one set-based statement over the indexed IMEI tables; run it under the feed lock).
    Analysed lists only (see `register_passing_imeis`)."""
    p1, p2 = bulk.placeholders(conn, 1), bulk.placeholders(conn, 1, start=2)
    _, rows = await conn.execute_query(
        "SELECT DISTINCT di.row_number FROM device_imei di "
        f"WHERE di.application_id = {p1} AND NOT {outcome.failing_sql('di')} AND ("
        "EXISTS (SELECT 1 FROM whitelist_entry w WHERE w.imei = di.imei) OR "
        "EXISTS (SELECT 1 FROM held_imei h WHERE h.imei = di.imei "
        f"AND h.application_id <> {p2}))",
        [application_id, application_id],
    )
    return {int(r[0]) for r in rows}


async def _passing_batches(conn: BaseDBAsyncClient, application_id: int):  # type: ignore[no-untyped-def]
    """Passing devices in row order, a batch at a time (a list may hold a million).
    Analysed lists only (see `register_passing_imeis`)."""
    last = 0
    p1, p2 = bulk.placeholders(conn, 1), bulk.placeholders(conn, 1, start=2)
    while True:
        _, rows = await conn.execute_query(
            "SELECT row_number, brand, model_code, imei1, imei2, imei3, imei4 FROM device d "
            f"WHERE application_id = {p1} AND NOT {outcome.failing_sql('d')} "
            f"AND row_number > {p2} ORDER BY row_number LIMIT {BATCH}",
            [application_id, last],
        )
        if not rows:
            return
        yield [(int(r[0]), str(r[1]), str(r[2]), tuple(str(i) for i in r[3:7] if i)) for r in rows]
        last = int(rows[-1][0])


async def register_passing_imeis(
    actor: Actor, application: Application, conn: BaseDBAsyncClient
) -> Registration:
    """Whitelist (or hold) the passing IMEIs; devices that lost the race fail (see above)."""
    if not outcome.analysed(application):
        # Paid before any analysis (cannot happen in the workflow): nothing has passed.
        return Registration(0, 0, (), ())
    await registry_changes.lock_feed(conn, registry_changes.WHITELIST_FEED_LOCK)
    taken = await _taken_rows(conn, application.id)
    hold = application.kind in HOLD_KINDS
    now = clock.now()
    registered = held = 0
    invalid_rows: list[int] = []
    async for batch in _passing_batches(conn, application.id):
        additions: list[registry_changes.WhitelistAddition] = []
        holds: list[tuple[object, ...]] = []
        for row, brand, model, imeis in batch:
            if row in taken:
                continue
            if not all(_listable(imei) for imei in imeis):
                invalid_rows.append(row)
                continue
            for imei in imeis:
                if hold:
                    holds.append(
                        (
                            imei,
                            application.id,
                            application.firm_id,
                            brand,
                            model,
                            application.kind.value,
                            now,
                        )
                    )
                else:
                    additions.append(
                        registry_changes.WhitelistAddition(
                            imei=imei,
                            brand=brand,
                            model_code=model,
                            source=WhitelistSource.FIRM_APPLICATION,
                            status=WhitelistStatus.REGISTERED,
                            firm_id=application.firm_id,
                            application_id=application.id,
                        )
                    )
        if additions:
            registered += await registry_changes.add_to_whitelist(
                actor, additions, reason=reference(application)
            )
        if holds:
            held += await bulk.insert_rows(
                "held_imei",
                ("imei", "application_id", "firm_id", "brand", "model_code", "kind", "held_at"),
                holds,
                conn,
            )
    failures = [(row, CheckCode.ALREADY_REGISTERED) for row in sorted(taken)]
    failures += [(row, CheckCode.INVALID_IMEI) for row in invalid_rows]
    if failures:
        await _fail_devices(conn, application, failures)
    return Registration(registered, held, tuple(sorted(taken)), tuple(invalid_rows))


async def _fail_devices(
    conn: BaseDBAsyncClient, application: Application, failures: list[tuple[int, CheckCode]]
) -> None:
    # A failure row is what makes a device failed (resolvers.applications.outcome).
    await bulk.insert_rows(
        "device_failure",
        ("application_id", "row_number", "code"),
        ((application.id, row, code.value) for row, code in failures),
        conn,
    )
    application.passed_device_count = (application.passed_device_count or 0) - len(failures)
    application.failed_device_count = (application.failed_device_count or 0) + len(failures)
    await application.save(update_fields=["passed_device_count", "failed_device_count"])


def receipt_key(receipt_no: str) -> str:
    """The receipt number as the uniqueness rule sees it: "dk 123" and "DK123" are one."""
    return "".join(receipt_no.split()).upper()


async def reconcile(
    actor: Actor, application: Application, conn: BaseDBAsyncClient, method: PaymentMethod
) -> Balance:
    """Settle the fee notice when what came in covers it (call with the application's row
    locked, in the transaction that added the money). A short payment leaves the difference
    due; more than due settles too (the surplus is in the audit trail for a refund)."""
    balance = await balance_of(application.id)
    due = balance.due_kurus
    if (
        balance.settled
        or due is None
        or balance.paid_kurus < due
        or application.status != ApplicationStatus.AWAITING_PAYMENT
    ):
        return balance
    settler = (
        actor
        if role_may(Action.RECORD_PAYMENT, actor.role)
        else Actor.system(f"mahsup ({actor.name})", actor.request_id)
    )
    receipts = await FeeReceipt.filter(
        application_id=application.id, status=ReceiptStatus.CONFIRMED
    ).values_list("receipt_no", flat=True)
    await settle(
        settler,
        application,
        conn,
        method,
        balance.paid_kurus,
        receipt_no=", ".join(str(r) for r in receipts)[:64] or None,
        extra={"overpaidKurus": balance.overpaid_kurus},
    )
    return await balance_of(application.id)


# --- settling --------------------------------------------------------------------------------


async def settle(
    actor: Actor,
    application: Application,
    conn: BaseDBAsyncClient,
    method: PaymentMethod,
    amount_kurus: int,
    receipt_no: str | None = None,
    note: str = "",
    extra: dict[str, object] | None = None,
    prepared: PreparedSeal | None = None,
) -> Payment:
    """The fee is paid: record it, register the passing IMEIs, issue the permit (signed by
    the Kurum: `prepared` is its seal, made before the transaction where the caller can),
    move on. Call with the application's row locked, inside the caller's transaction."""
    customs = clears_customs(application.kind, application.production_date)
    action = Action.RECORD_PAYMENT if customs else Action.RECORD_PAYMENT_WITHOUT_CUSTOMS
    transitions.check(actor, application, action)
    notice = await FeeNotice.get_or_none(application_id=application.id)
    if notice is None:
        raise invalid_state("ücret bildirimi yok", "there is no fee notice")
    if prepared is None:
        prepared = await prepare_seal(IssuedKind.PERMIT)
    now = clock.now()
    payment = await Payment.create(
        application_id=application.id,
        fee_notice_id=notice.id,
        method=method,
        amount_kurus=amount_kurus,
        receipt_no=receipt_no,
        note=note.strip(),
        recorded_by=actor.name,
        recorded_at=now,
    )
    registration = await register_passing_imeis(actor, application, conn)
    progress = await progress_of(application.id)
    progress.registered_at = now
    progress.registered_imei_count = registration.registered
    progress.held_imei_count = registration.held
    if customs:
        progress.customs_due_at = add_months(now, get_settings().customs_documents_months)
    else:
        progress.completed_at = now
    progress.updated_at = now
    await progress.save()
    firm = await Firm.get(id=application.firm_id)
    html = pdfs.permit_html(
        application,
        firm,
        await passing_groups(application.id),
        permit_number(application),
        held=application.kind in HOLD_KINDS,
        customs_due_at=progress.customs_due_at,
        issued_at=now,
        seal=prepared.seal,
    )
    _, permit = await pdfs.issue(
        actor, application, DocumentKind.PERMIT, html, (prepared, permit_number(application))
    )
    await transitions.apply(
        actor,
        application,
        action,
        details={
            "paymentId": payment.id,
            "method": method.value,
            "amountKurus": amount_kurus,
            "receiptNo": receipt_no,
            "registeredImeis": registration.registered,
            "heldImeis": registration.held,
            "alreadyRegisteredRows": list(registration.lost_rows[:MAX_AUDITED_ROWS]),
            "alreadyRegisteredDevices": len(registration.lost_rows),
            "unlistableRows": list(registration.invalid_rows[:MAX_AUDITED_ROWS]),
            "permit": permit_number(application),
            "permitFileId": permit.id,
            "customsDueAt": (
                progress.customs_due_at.isoformat() if progress.customs_due_at else None
            ),
            **(extra or {}),
        },
    )
    return payment


def receipt_taken(key: str, reference_of_other: str | None = None) -> DomainError:
    return DomainError(
        ErrorCode.RECEIPT_ALREADY_USED,
        field="receiptNo",
        receipt=key,
        where=Bilingual(
            f"{reference_of_other} numaralı başvuruda"
            if reference_of_other
            else "başka bir başvuruda",
            f"for application {reference_of_other}"
            if reference_of_other
            else "for another application",
        ),
    )


async def claim_receipt(receipt: FeeReceipt) -> None:
    """Mark a receipt CONFIRMED; its number may settle no other application. The unique
    index decides a race (two archivists, one number, two applications): the second one
    gets RECEIPT_ALREADY_USED and its whole transaction rolls back."""
    key = receipt_key(receipt.receipt_no)
    other = await FeeReceipt.filter(settles_key=key).exclude(id=receipt.id).first()
    if other is not None:
        owner = await Application.get_or_none(id=other.application_id)
        raise receipt_taken(key, reference(owner) if owner else None)
    receipt.status, receipt.settles_key = ReceiptStatus.CONFIRMED, key
    try:
        await receipt.save(update_fields=["status", "settles_key"])
    except IntegrityError as error:
        raise receipt_taken(key) from error


async def record_payment(
    actor: Actor,
    application_id: int,
    method: PaymentMethod,
    amount_kurus: int,
    receipt_no: str | None = None,
    note: str = "",
    problems: Problems | None = None,
) -> Application:
    """Archive staff record a payment made at the office (card) or a bank transfer they
    found. The amount is what is still due (the fee less confirmed receipts and card
    payments). Recording the same payment again changes nothing (a retried request is safe);
    a different one is refused. Every input problem is reported at once."""
    if not role_may(Action.RECORD_PAYMENT, actor.role) or not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    problems = problems if problems is not None else Problems()
    receipt = (receipt_no or "").strip() or None
    if method == PaymentMethod.VIRTUAL_POS:
        problems.add(
            invalid(
                "method",
                "sanal POS ödemeleri ödeme kuruluşunun bildirimiyle kendiliğinden kaydedilir; "
                "firma ödemeyi startOnlinePayment ile başlatır",
                "virtual POS payments are recorded by the payment provider's callback; the "
                "firm starts one with startOnlinePayment",
            )
        )
    if method == PaymentMethod.BANK_TRANSFER and receipt is None:
        problems.add(
            invalid(
                "receiptNo",
                "banka havalesinde dekont numarası gerekli",
                "a bank transfer needs the receipt number",
            )
        )
    if receipt is not None and not RECEIPT_RE.match(receipt):
        problems.add(
            invalid(
                "receiptNo",
                "yalnızca harf, rakam ve / . _ - (en fazla 64)",
                "only letters, digits and / . _ - (at most 64)",
            )
        )
    amount_read = not any(error.field == "amount" for error in problems.errors)
    if amount_read and amount_kurus <= 0:
        problems.add(
            invalid("amount", "tutar sıfırdan büyük olmalı", "the amount must be positive")
        )
    prepared = await prepare_seal(IssuedKind.PERMIT)  # outside: may make the local CA
    async with in_transaction() as conn:
        application = await get_application(actor, application_id, for_update=True)
        existing = await Payment.get_or_none(application_id=application.id)
        if existing is not None:
            # The payment holds the settled total; what staff typed is that less the rest
            # (a transfer's own receipt is among the confirmed ones).
            credited, _ = await credited_of(application.id)
            others = credited - (amount_kurus if method == PaymentMethod.BANK_TRANSFER else 0)
            typed = existing.amount_kurus - others
            if (existing.method, existing.receipt_no, typed) == (method, receipt, amount_kurus):
                return application
            raise already_exists(
                "Bu başvurunun ödemesi",
                "This application's payment",
                f"{existing.method.value} {format_lira(existing.amount_kurus)}",
                field="applicationId",
            )
        balance = await balance_of(application.id)
        due = balance.outstanding_kurus
        if due is not None and amount_read and amount_kurus > 0 and amount_kurus != due:
            problems.add(
                DomainError(
                    ErrorCode.PAYMENT_AMOUNT_MISMATCH,
                    field="amount",
                    paid=format_lira(amount_kurus),
                    due=format_lira(due),
                )
            )
        if due is None:
            customs = clears_customs(application.kind, application.production_date)
            action = Action.RECORD_PAYMENT if customs else Action.RECORD_PAYMENT_WITHOUT_CUSTOMS
            transitions.check(actor, application, action)
            raise invalid_state("ücret bildirimi yok", "there is no fee notice")
        problems.raise_any()
        if method == PaymentMethod.BANK_TRANSFER and receipt is not None:
            transfer = await FeeReceipt.create(
                application_id=application.id,
                bank="",
                paid_on=turkish_today(),
                receipt_no=receipt,
                amount_kurus=amount_kurus,
                declared_by=actor.name,
                declared_at=clock.now(),
                decided_by=actor.name,
                decided_at=clock.now(),
            )
            await claim_receipt(transfer)
        await settle(
            actor,
            application,
            conn,
            method,
            balance.paid_kurus + amount_kurus,
            receipt_no=receipt,
            note=note,
            extra={"recordedAmountKurus": amount_kurus, "creditedBeforeKurus": balance.paid_kurus},
            prepared=prepared,
        )
    return application


async def record_payment_in_liras(
    actor: Actor,
    application_id: int,
    method: PaymentMethod,
    amount: Decimal,
    receipt_no: str | None = None,
    note: str = "",
) -> Application:
    """`record_payment` with the amount as the API takes it (liras): an unreadable amount is
    reported together with the other input errors."""
    problems = Problems()
    kurus = problems.check(fees.kurus_of, amount, "amount")
    return await record_payment(
        actor, application_id, method, kurus or 0, receipt_no, note, problems=problems
    )
