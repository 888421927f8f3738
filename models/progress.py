"""What the workflow records about an application after its analysis, and the IMEIs it
holds back.

`ApplicationProgress` is one row per application: the signature path the firm chose, who
signed, which reviewer took it, when its customs documents are due. `HeldImei` keeps the
passing IMEIs of mainboard and swap-device applications off the whitelist until the firm
reports which whitelisted IMEI each one replaces (Tebliğ art. 11(2); the replacement flow).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register
from models.workflow import ApplicationKind


class SignatureMethod(StrEnum):
    E_SIGNATURE = "E_SIGNATURE"
    WET_SIGNATURE = "WET_SIGNATURE"


register(
    SignatureMethod,
    {
        "E_SIGNATURE": ("Elektronik imza", "Electronic signature"),
        "WET_SIGNATURE": ("Islak imza", "Wet signature"),
    },
)


class ApplicationProgress(Model):
    id = fields.IntField(primary_key=True)
    application_id = fields.IntField(unique=True)
    signature_method = fields.CharEnumField(SignatureMethod, max_length=16, null=True)
    signature_chosen_at = fields.DatetimeField(null=True)
    # From the e-signed application's signing certificate.
    signer_name = fields.CharField(max_length=255, null=True)
    signature_trusted = fields.BooleanField(null=True)
    # The reviewer working on it: one at a time (staff admins may take it over).
    reviewer_id = fields.IntField(null=True)
    reviewer_name = fields.CharField(max_length=255, null=True)
    review_taken_at = fields.DatetimeField(null=True)
    # Set when the payment put the IMEIs on the whitelist (or held them).
    registered_at = fields.DatetimeField(null=True)
    registered_imei_count = fields.BigIntField(default=0)
    held_imei_count = fields.BigIntField(default=0)
    # Imported devices: the customs documents are due by then (guide §6).
    customs_due_at = fields.DatetimeField(null=True, db_index=True)
    completed_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "application_progress"


class HeldImei(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    application_id = fields.IntField(db_index=True)
    firm_id = fields.IntField(db_index=True)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    kind = fields.CharEnumField(ApplicationKind, max_length=16)
    held_at = fields.DatetimeField()

    class Meta:
        table = "held_imei"
