"""What a firm is asked to pay for an application, and what it paid (Tebliğ art. 15,
guide §4). Amounts are whole kuruş; the arithmetic lives in `models.fees`."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class PaymentMethod(StrEnum):
    VIRTUAL_POS = "VIRTUAL_POS"
    CARD_AT_OFFICE = "CARD_AT_OFFICE"
    # Paid into the regulator's account; the receipt (dekont) number is recorded.
    BANK_TRANSFER = "BANK_TRANSFER"


register(
    PaymentMethod,
    {
        "VIRTUAL_POS": ("Sanal POS ile çevrimiçi ödeme", "Online by virtual POS"),
        "CARD_AT_OFFICE": ("Kurumda kredi/banka kartı ile ödeme", "By card at the office"),
        "BANK_TRANSFER": ("Banka havalesi (dekont ile)", "Bank transfer (with receipt)"),
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
