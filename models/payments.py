"""What a firm is asked to pay for an application, and what it paid (Tebliğ art. 15,
guide §4). Amounts are whole kuruş; the arithmetic lives in `models.fees`."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class PaymentMethod(StrEnum):
    # Online by card through the payment provider (`integrations.payments`): recorded by the
    # provider's signed callback, never typed in by staff.
    VIRTUAL_POS = "VIRTUAL_POS"
    CARD_AT_OFFICE = "CARD_AT_OFFICE"
    # Paid into the regulator's account; the receipt (dekont) settles it (`FeeReceipt`).
    BANK_TRANSFER = "BANK_TRANSFER"


register(
    PaymentMethod,
    {
        "VIRTUAL_POS": ("Sanal POS ile çevrimiçi ödeme", "Online by virtual POS"),
        "CARD_AT_OFFICE": ("Kurumda kredi/banka kartı ile ödeme", "By card at the office"),
        "BANK_TRANSFER": ("Banka havalesi (dekont ile)", "Bank transfer (with receipt)"),
    },
)


class ReceiptStatus(StrEnum):
    DECLARED = "DECLARED"  # the firm gave it; the archive has not checked it yet
    CONFIRMED = "CONFIRMED"  # the archive found the money: it counts toward the fee
    REFUSED = "REFUSED"  # the archive did not: the reason says why


register(
    ReceiptStatus,
    {
        "DECLARED": ("Arşiv onayı bekliyor", "Awaiting the archive's check"),
        "CONFIRMED": ("Onaylandı", "Confirmed"),
        "REFUSED": ("Reddedildi", "Refused"),
    },
)


class OnlinePaymentStatus(StrEnum):
    PENDING = "PENDING"  # opened (or being opened) at the provider; the card holder pays
    SUCCEEDED = "SUCCEEDED"
    DECLINED = "DECLINED"


register(
    OnlinePaymentStatus,
    {
        "PENDING": ("Ödeme bekleniyor", "Awaiting the card payment"),
        "SUCCEEDED": ("Ödendi", "Paid"),
        "DECLINED": ("Kart işlemi reddedildi", "The card was declined"),
    },
)


class DeclineCode(StrEnum):
    """Why the provider declined a card (its codes; any other is OTHER, its words kept)."""

    CARD_DECLINED = "CARD_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    EXPIRED_CARD = "EXPIRED_CARD"
    OTHER = "OTHER"


register(
    DeclineCode,
    {
        "CARD_DECLINED": (
            "Kartınızın bankası işlemi onaylamadı; başka bir kartla yeniden deneyin.",
            "Your card's bank declined the payment; try again with another card.",
        ),
        "INSUFFICIENT_FUNDS": (
            "Kartın bakiyesi ya da limiti yetersiz.",
            "The card's balance or limit is not enough.",
        ),
        "EXPIRED_CARD": ("Kartın son kullanma tarihi geçmiş.", "The card has expired."),
        "OTHER": ("Ödeme kuruluşu işlemi reddetti.", "The payment provider declined it."),
    },
)


class FeeNotice(Model):
    """The fee notice issued when a reviewer approves: passing IMEIs × the fee of the year."""

    id = fields.IntField(primary_key=True)
    application_id = fields.IntField(unique=True)
    number = fields.CharField(max_length=64, unique=True)
    year = fields.IntField()
    imei_count = fields.BigIntField()
    per_imei_kurus = fields.BigIntField()
    amount_kurus = fields.BigIntField()
    file_id = fields.IntField()  # the generated PDF (StoredFile)
    issued_by = fields.CharField(max_length=255)
    issued_at = fields.DatetimeField()

    class Meta:
        table = "fee_notice"


class Payment(Model):
    """The payment archive staff recorded, one per application (recording is idempotent)."""

    id = fields.IntField(primary_key=True)
    application_id = fields.IntField(unique=True)
    fee_notice_id = fields.IntField()
    method = fields.CharEnumField(PaymentMethod, max_length=16)
    amount_kurus = fields.BigIntField()
    receipt_no = fields.CharField(max_length=64, null=True)
    note = fields.TextField(default="")
    recorded_by = fields.CharField(max_length=255)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "payment"


class FeeReceipt(Model):
    """A bank receipt (dekont, art. 3(ğ)) for an application's fee: declared by the firm with
    the application (pre-paid, art. 8(2)(f), 8(3)(e), 9(2)(e)) or for its fee notice, or
    entered by the archive with a bank transfer; confirmed or refused by the archive.

    `settles_key` is the normalised receipt number while the receipt is CONFIRMED and NULL
    otherwise: its unique index is what makes one receipt settle one application only, even
    when two archivists confirm the same number at the same moment (NULLs never collide)."""

    id = fields.IntField(primary_key=True)
    application_id = fields.IntField(db_index=True)
    bank = fields.CharField(max_length=128)
    paid_on = fields.DateField()
    receipt_no = fields.CharField(max_length=64)
    amount_kurus = fields.BigIntField()
    file_id = fields.IntField(null=True)  # the scan (StoredFile); none when staff enter it
    with_application = fields.BooleanField(default=False)  # given before the fee was set
    status = fields.CharEnumField(ReceiptStatus, max_length=16, default=ReceiptStatus.DECLARED)
    settles_key = fields.CharField(max_length=64, null=True, unique=True)
    refusal_reason = fields.TextField(default="")
    declared_by = fields.CharField(max_length=255)
    declared_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=255, null=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "fee_receipt"


class OnlinePayment(Model):
    """One attempt to pay a fee notice online. `order_id` is our idempotency key at the
    provider: a retried start reuses the pending attempt, so a card is charged once."""

    id = fields.IntField(primary_key=True)
    order_id = fields.CharField(max_length=64, unique=True)
    application_id = fields.IntField(db_index=True)
    amount_kurus = fields.BigIntField()
    status = fields.CharEnumField(
        OnlinePaymentStatus, max_length=16, default=OnlinePaymentStatus.PENDING
    )
    provider_payment_id = fields.CharField(max_length=128, null=True)
    payment_url = fields.TextField(null=True)
    decline_code = fields.CharEnumField(DeclineCode, max_length=32, null=True)
    decline_message = fields.TextField(default="")  # the provider's own words
    started_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "online_payment"
