"""The audit trail: one row per state-changing operation, written in its transaction."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    actor_kind = fields.CharField(max_length=16)  # USER, CLIENT, SYSTEM, ANONYMOUS
    actor_id = fields.IntField(null=True)
    actor_name = fields.CharField(max_length=255)
    actor_role = fields.CharField(max_length=32)
    firm_id = fields.IntField(null=True, db_index=True)
    action = fields.CharField(max_length=64, db_index=True)
    subject_type = fields.CharField(max_length=64)
    subject_id = fields.CharField(max_length=64)
    details: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    request_id = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "audit_event"
        indexes = (("subject_type", "subject_id"),)
