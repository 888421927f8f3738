"""The grace period of unregistered IMEIs and the grey list operators mirror.

A visitor's phone that is not on the whitelist may use a network for the grace period after
its FIRST ATTACH: the first time an operator reported it on its network (a `checkImeis`
carrying the subscriber's `msisdn`, or an observation in `submitObservations`). Nothing else
starts the clock: a check without `msisdn`, a staff check and the public query only say what
the verdict would be. One row per IMEI (the earliest attach wins), recording which operator
(machine client) reported it, when, and with which number.

The grey list holds the IMEIs an operator lets on its network only for now: the first
attaches (status GRACE_PERIOD: allowed until the grace ends, then blocked unless registered)
and the open clone suspicions (status CLONE_SUSPECTED: registered IMEIs allowed until paired).
`GreylistChange` is its gap-free feed (ADD when a clock starts or a suspicion opens, REMOVE
when a first attach is deleted after its retention or a suspicion closes), so an operator's
EIR mirrors it as it mirrors the white, black and pairing lists, keyed by (status, IMEI).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise import fields
from tortoise.models import Model

from models.registry import ChangeOp


class FirstAttach(Model):
    """An unregistered IMEI's first attach to a network: the start of its grace period."""

    imei = fields.CharField(max_length=15, primary_key=True)
    # The operator that reported it ('' for a clock started before attaches were recorded).
    operator_code = fields.CharField(max_length=16, default="")
    client_id = fields.IntField(null=True)
    # The subscriber's number as the operator sent it, normalised (personal data: deleted
    # with the record; never in an answer to another operator).
    msisdn = fields.CharField(max_length=15, default="")
    # CHECK (checkImeis with msisdn) or OBSERVATION (submitObservations).
    source = fields.CharField(max_length=16, default="CHECK")
    attached_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "imei_first_attach"
        indexes = (("operator_code", "attached_at"),)


class GreylistChange(Model):
    """One change of the grey list: the operators' `greylistChanges` feed."""

    id = fields.BigIntField(primary_key=True)
    op = fields.CharEnumField(ChangeOp, max_length=8)
    # GRACE_PERIOD (a first attach) or CLONE_SUSPECTED (an open clone suspicion).
    status = fields.CharField(max_length=16)
    imei = fields.CharField(max_length=15, db_index=True)
    operator_code = fields.CharField(max_length=16, default="")
    # Since when it is on the list: the first attach, or when the suspicion was detected.
    since = fields.DatetimeField()
    reason = fields.CharField(max_length=64, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "greylist_change"


def grace_ends_at(attached_at: datetime, grace_days: int) -> datetime:
    """The one rule for when a grace period ends (exports, feeds and checks all use it)."""
    return attached_at + timedelta(days=grace_days)
