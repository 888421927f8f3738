"""What an application owes and what has come in toward it (art. 15, guide §4): the fee
notice against confirmed receipts and card payments. Read by the workflow view, the
notifications and the settlement (`payments.reconcile`)."""

from __future__ import annotations

from dataclasses import dataclass

from models.fees import format_lira
from models.payments import (
    FeeNotice,
    FeeReceipt,
    OnlinePayment,
    OnlinePaymentStatus,
    Payment,
    ReceiptStatus,
)


@dataclass(frozen=True, slots=True)
class Balance:
    """An application's fee and what has come in toward it (art. 15, guide §4)."""

    due_kurus: int | None  # the fee notice's amount; None: the fee is not set yet
    paid_kurus: int  # confirmed receipts and card payments (the settled total once settled)
    pending_receipts: int  # declared, not yet checked by the archive
    settled: bool

    @property
    def outstanding_kurus(self) -> int | None:
        return None if self.due_kurus is None else max(0, self.due_kurus - self.paid_kurus)

    @property
    def overpaid_kurus(self) -> int:
        return 0 if self.due_kurus is None else max(0, self.paid_kurus - self.due_kurus)

    def message(self, lang: str = "tr") -> str:
        """What the firm is told about its fee, as one sentence (or two)."""
        tr, en = self._message()
        pending = self.pending_receipts
        if pending and not self.settled:
            tr += f" {pending} dekont arşivin onayını bekliyor."
            en += f" {pending} receipt(s) await the archive's check."
        return en if lang == "en" else tr

    def _message(self) -> tuple[str, str]:
        paid = format_lira(self.paid_kurus)
        if self.settled:
            return "Kayıt ücreti ödendi.", "The fee is paid."
        if self.due_kurus is None:
            if self.paid_kurus or self.pending_receipts:
                return (
                    f"Başvuruyla ödenen: {paid}; ücret belirlendiğinde mahsup edilecek.",
                    f"Paid with the application: {paid}; reconciled when the fee is set.",
                )
            return (
                "Kayıt ücreti başvuru onaylandığında belirlenir.",
                "The fee is set when the application is approved.",
            )
        due, rest = format_lira(self.due_kurus), format_lira(self.outstanding_kurus or 0)
        if self.paid_kurus:
            return (
                f"{due} tutarındaki ücretin {paid} kısmı ödendi: kalan {rest} farkın ödenmesi "
                "gerekiyor.",
                f"Paid {paid} of the fee of {due}: the difference of {rest} is still due.",
            )
        return (
            f"{due} tutarındaki kayıt ücretinin ödenmesi gerekiyor.",
            f"The fee of {due} is due.",
        )


async def credited(application_id: int) -> tuple[int, int]:
    """(confirmed receipts and card payments in kuruş, receipts awaiting the archive)."""
    receipts = await FeeReceipt.filter(
        application_id=application_id, status__in=[ReceiptStatus.CONFIRMED, ReceiptStatus.DECLARED]
    ).values_list("status", "amount_kurus")
    confirmed = sum(int(a) for st, a in receipts if st == ReceiptStatus.CONFIRMED)
    pending = sum(1 for st, _ in receipts if st == ReceiptStatus.DECLARED)
    online = await OnlinePayment.filter(
        application_id=application_id, status=OnlinePaymentStatus.SUCCEEDED
    ).values_list("amount_kurus", flat=True)
    return confirmed + sum(int(a) for a in online), pending


async def balance_of(application_id: int) -> Balance:
    notice = await FeeNotice.get_or_none(application_id=application_id)
    payment = await Payment.get_or_none(application_id=application_id)
    paid, pending = await credited(application_id)
    if payment is not None:
        paid = max(paid, payment.amount_kurus)
    return Balance(notice.amount_kurus if notice else None, paid, pending, payment is not None)
