"""The event log behind the push channel: application status changes, individual
registrations' outcomes and the job queue's failures, one row per event.

The list feeds (whitelist, blacklist, pairing) are their own change logs; these events had
none, so subscribers read them here by id ("everything after cursor N"), with the same
gap-free rule as the feeds: writers take the topic's transaction lock before they allocate
an id (see `resolvers.events`).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class EventTopic(StrEnum):
    APPLICATION = "APPLICATION"  # subject: application; status: ApplicationStatus
    REGISTRATION = "REGISTRATION"  # subject: individual registration; status: its outcome
    JOB = "JOB"  # subject: job or verification batch; status: DEAD / BATCH_FAILED


class EventLog(Model):
    id = fields.BigIntField(primary_key=True)
    topic = fields.CharEnumField(EventTopic, max_length=16)
    subject_id = fields.IntField()
    firm_id = fields.IntField(null=True)  # applications: the firm that sees the event
    client_id = fields.IntField(null=True)  # registrations: the machine client that submitted
    kind = fields.CharField(max_length=32, default="")  # e.g. the job's kind
    status = fields.CharField(max_length=32)
    reason = fields.TextField(default="")
    at = fields.DatetimeField()

    class Meta:
        table = "event_log"
        indexes = (("topic", "id"),)


class RegistrationOutcome(StrEnum):
    """What happened to an individual registration after it was submitted."""

    VERIFIED = "VERIFIED"  # the authorities verified it: its IMEIs are REGISTERED
    REJECTED = "REJECTED"  # an authority refused it: its IMEIs left the whitelist
    REMOVED = "REMOVED"  # staff took one of its IMEIs off the whitelist
    RESTORED = "RESTORED"  # staff put a removed IMEI back


class JobEventKind(StrEnum):
    DEAD = "DEAD"  # a background job was given up (jobs(status: DEAD), retryJob)
    BATCH_FAILED = "BATCH_FAILED"  # a verification batch could not be sent (verificationBatches)


register(
    RegistrationOutcome,
    {
        "VERIFIED": ("Doğrulandı", "Verified"),
        "REJECTED": ("Reddedildi; IMEI beyaz listeden çıkarıldı", "Rejected; IMEI removed"),
        "REMOVED": ("IMEI beyaz listeden çıkarıldı", "IMEI removed from the whitelist"),
        "RESTORED": ("IMEI beyaz listeye geri alındı", "IMEI restored to the whitelist"),
    },
)
register(
    JobEventKind,
    {
        "DEAD": ("İş bırakıldı", "Job given up"),
        "BATCH_FAILED": ("Doğrulama paketi gönderilemedi", "Verification batch failed"),
    },
)
