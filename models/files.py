"""Stored documents: metadata here, content on disk addressed by its SHA-256."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class FileKind(StrEnum):
    DEVICE_LIST = "DEVICE_LIST"
    TAC_LETTER = "TAC_LETTER"
    INVOICE = "INVOICE"
    CE_CERTIFICATE = "CE_CERTIFICATE"
    CUSTOMS_DOCUMENTS = "CUSTOMS_DOCUMENTS"
    CAPACITY_REPORT = "CAPACITY_REPORT"
    SIGNED_APPLICATION = "SIGNED_APPLICATION"
    SIGNED_COVER_LETTER = "SIGNED_COVER_LETTER"
    PETITION = "PETITION"
    FEE_RECEIPT = "FEE_RECEIPT"
    GENERATED = "GENERATED"
    OTHER = "OTHER"


class StoredFile(Model):
    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    size = fields.BigIntField()
    content_type = fields.CharField(max_length=127)
    original_name = fields.CharField(max_length=255)
    kind = fields.CharEnumField(FileKind, max_length=32)
    # Owner: a firm's files are visible to that firm and staff only.
    firm_id = fields.IntField(null=True, db_index=True)
    uploaded_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "stored_file"
