"""The e-mail outbox: one row per message to a firm, written in the transaction of the
change it reports, sent later by the dispatcher job (so a mail server that is down delays
a message but never loses it)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class NotificationStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    # The mail server refused it for good, or every attempt failed: listed for staff.
    FAILED = "FAILED"


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    firm_id = fields.IntField(null=True, db_index=True)
    application_id = fields.IntField(null=True, db_index=True)
    event = fields.CharField(max_length=64)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=255)
    body = fields.TextField()
    # A signed document the mail carries (the fee notice, the permit): a StoredFile id.
    attachment_file_id = fields.IntField(null=True)
    status = fields.CharEnumField(
        NotificationStatus, max_length=16, default=NotificationStatus.PENDING
    )
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # A dispatcher holds the row while it talks to the mail server (crash-safe claim).
    lease_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("status", "next_attempt_at"),)


class CustomsReminder(Model):
    """A reminder of the customs-documents deadline (guide §6) queued for an application:
    one row per deadline and reminder, so each e-mail is queued once, whichever worker runs."""

    id = fields.BigIntField(primary_key=True)
    application_id = fields.IntField()
    # The deadline it is about.
    due_at = fields.DatetimeField()
    # Days before the deadline; 0 = the notice that the deadline has passed.
    days_before = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "customs_reminder"
        unique_together = (("application_id", "due_at", "days_before"),)
