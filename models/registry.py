"""The lists operators enforce: the whitelist and the blacklist, each with its change log.

The current tables answer "is this IMEI on the list" by a unique index; the change logs are
append-only, ordered by their id, and are both the history and the operators' sync feed.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class WhitelistStatus(StrEnum):
    REGISTERED = "REGISTERED"
    # An individual registration still awaiting the authorities' verification.
    PROVISIONAL = "PROVISIONAL"
    # Provisional past its deadline with no answer from the authorities: operators block it
    # (`VERIFICATION_OVERDUE`) until the answer turns it REGISTERED or removes it. Kept as a
    # list status (not computed from dates) so a mirror of the feed blocks it too.
    OVERDUE = "OVERDUE"


class WhitelistSource(StrEnum):
    FIRM_APPLICATION = "FIRM_APPLICATION"
    AKM = "AKM"
    E_DEVLET = "E_DEVLET"
    CORRECTION = "CORRECTION"
    REPLACEMENT = "REPLACEMENT"
    STAFF = "STAFF"


class ChangeOp(StrEnum):
    ADD = "ADD"
    REMOVE = "REMOVE"
    UPDATE = "UPDATE"


class WhitelistEntry(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    tac = fields.CharField(max_length=8)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    status = fields.CharEnumField(WhitelistStatus, max_length=16)
    source = fields.CharEnumField(WhitelistSource, max_length=24)
    firm_id = fields.IntField(null=True, db_index=True)
    application_id = fields.IntField(null=True, db_index=True)
    registration_id = fields.IntField(null=True)
    registered_at = fields.DatetimeField()

    class Meta:
        table = "whitelist_entry"


class WhitelistChange(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, db_index=True)
    op = fields.CharEnumField(ChangeOp, max_length=8)
    status = fields.CharField(max_length=16, default="")
    source = fields.CharField(max_length=24, default="")
    brand = fields.CharField(max_length=128, default="")
    model_code = fields.CharField(max_length=128, default="")
    reason = fields.TextField(default="")
    actor_name = fields.CharField(max_length=255, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "whitelist_change"


class BlacklistReason(StrEnum):
    LOST = "LOST"
    STOLEN = "STOLEN"
    BARRED = "BARRED"


class BlacklistEntry(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    reason = fields.CharEnumField(BlacklistReason, max_length=16)
    reference = fields.CharField(max_length=128, default="")
    reported_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()

    class Meta:
        table = "blacklist_entry"


class BlacklistChange(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, db_index=True)
    op = fields.CharEnumField(ChangeOp, max_length=8)
    reason = fields.CharField(max_length=16, default="")
    reference = fields.CharField(max_length=128, default="")
    note = fields.TextField(default="")
    actor_name = fields.CharField(max_length=255, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "blacklist_change"
