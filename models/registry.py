"""The lists operators enforce: the whitelist and the blacklist, each with its change log.

The current tables answer "is this IMEI on the list" by a unique index; the change logs are
append-only, ordered by their id, and are both the history and the operators' sync feed.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


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
    # The categories of the live Turkish list (kayıp, çalıntı, kaçak, kimliği değiştirilmiş,
    # engellenmiş).
    LOST = "LOST"
    STOLEN = "STOLEN"
    SMUGGLED = "SMUGGLED"
    IDENTITY_ALTERED = "IDENTITY_ALTERED"
    BARRED = "BARRED"


register(
    BlacklistReason,
    {
        "LOST": ("Kayıp", "Lost"),
        "STOLEN": ("Çalıntı", "Stolen"),
        "SMUGGLED": ("Kaçak", "Smuggled"),
        "IDENTITY_ALTERED": ("Kimliği (IMEI) değiştirilmiş", "Identity (IMEI) altered"),
        "BARRED": ("Engellenmiş", "Barred"),
    },
)

# A report number is a capability: whoever holds it (the owner, at any operator's shop) may
# have the report lifted. 12 symbols of Crockford's base32 (no I, L, O, U): 60 random bits.
_REPORT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REPORT_NUMBER_PREFIX = "KL"


def new_report_number() -> str:
    """`KL-XXXX-XXXX-XXXX`, random: not guessable from another report's number."""
    symbols = "".join(secrets.choice(_REPORT_ALPHABET) for _ in range(12))
    return f"{REPORT_NUMBER_PREFIX}-{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


def normalise_report_number(raw: str) -> str:
    """As typed at a shop: case, spaces and dashes do not matter; O/I/L read as 0/1/1."""
    text = "".join(ch for ch in raw.upper() if ch not in " -\t")
    if text.startswith(REPORT_NUMBER_PREFIX):
        text = text[len(REPORT_NUMBER_PREFIX) :]
    text = text.translate(str.maketrans("OIL", "011"))
    if len(text) != 12:
        return ""
    return f"{REPORT_NUMBER_PREFIX}-{text[:4]}-{text[4:8]}-{text[8:]}"


class BlacklistEntry(Model):
    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, unique=True)
    reason = fields.CharEnumField(BlacklistReason, max_length=16)
    reference = fields.CharField(max_length=128, default="")
    reported_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    # Issued by the registry (`new_report_number`), returned to the reporter only; never in
    # the feed or the export (it lets its holder lift the report).
    report_number = fields.CharField(max_length=20, null=True, unique=True)
    note = fields.TextField(default="", db_default="")

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
