"""The TAC registry: which brand and model a type allocation code belongs to."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TacModel(Model):
    id = fields.IntField(primary_key=True)
    # 8 digits; legacy registries have 6-digit TACs, which match IMEIs as prefixes.
    tac = fields.CharField(max_length=8, unique=True)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    marketing_name = fields.CharField(max_length=255, default="")
    device_type = fields.CharField(max_length=64, default="")
    imei_count = fields.SmallIntField()
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "tac_model"


class TacRequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class TacRequest(Model):
    """A firm asks for a missing TAC with the manufacturer's letter (Tebliğ art. 8(4))."""

    id = fields.IntField(primary_key=True)
    firm_id = fields.IntField(db_index=True)
    requested_by = fields.CharField(max_length=255)
    tac = fields.CharField(max_length=8)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    marketing_name = fields.CharField(max_length=255, default="")
    device_type = fields.CharField(max_length=64, default="")
    imei_count = fields.SmallIntField()
    letter_file_id = fields.IntField()
    status = fields.CharEnumField(TacRequestStatus, max_length=16, default=TacRequestStatus.PENDING)
    decision_reason = fields.TextField(null=True)
    decided_by = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tac_request"
