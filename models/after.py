"""After registration (Tebliğ art. 11, 13, 14, 16): replacements, corrections, pairing.

* **Replacements** (art. 11, 16). A `ReplacementReport` is one report of a firm: typed pairs
  (channel DIRECT, applied at once) or an Ek-3 text file (channel EK3_FILE, one
  `ReplacementLine` per line, checked as a whole and applied only when the firm confirms).
  Each applied pair is a `Replacement`: the whitelisted old IMEI left the whitelist, the held
  new one (a `models.progress.HeldImei` of a mainboard or swap application) entered it and
  its held row was consumed. `Replacement.new_imei` is unique: a new IMEI is used once.
* **Corrections** (art. 13). A `CorrectionRequest` of an approved application carries its
  `CorrectionPair`s (wrong → right), the petition and the import documents; staff approve or
  reject it.
* **Pairing** (art. 14). `models.network.ImeiPairing` holds the current pairings; a
  `PairingFlag` is staff's mark that an IMEI may be paired (besides an open clone suspicion);
  `PairingChange` is the append-only log of pairings — the operators' pairing feed, ordered
  by id like the whitelist's (`resolvers.after.pairing_changes`).

Pure rules at the end: the phone number a pairing accepts, and the removal reasons operators
see for a replaced or corrected IMEI.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from tortoise import fields
from tortoise.models import Model

from models.labels import register
from models.registry import ChangeOp
from models.workflow import ApplicationKind

# Removal reasons operators read in `checkImeis` (NOT_REGISTERED) and in the whitelist feed.
REPLACED: Final = "REPLACED"
CORRECTED: Final = "CORRECTED"


class ReplacementChannel(StrEnum):
    DIRECT = "DIRECT"
    EK3_FILE = "EK3_FILE"


class ReplacementReportStatus(StrEnum):
    # An Ek-3 file checked line by line; nothing applied until the firm decides.
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"
    APPLIED = "APPLIED"
    DISCARDED = "DISCARDED"


class ReplacementProblem(StrEnum):
    """Why a pair (an Ek-3 line or a typed pair) cannot be applied; the first found wins."""

    UNRECOGNISED_LINE = "UNRECOGNISED_LINE"
    INVALID_OLD_IMEI = "INVALID_OLD_IMEI"
    INVALID_NEW_IMEI = "INVALID_NEW_IMEI"
    SAME_IMEI = "SAME_IMEI"
    REPEATED_IN_REPORT = "REPEATED_IN_REPORT"
    OLD_NOT_REGISTERED = "OLD_NOT_REGISTERED"
    OLD_OF_ANOTHER_FIRM = "OLD_OF_ANOTHER_FIRM"
    NEW_ALREADY_USED = "NEW_ALREADY_USED"
    NEW_NOT_HELD = "NEW_NOT_HELD"
    NEW_ALREADY_REGISTERED = "NEW_ALREADY_REGISTERED"
    NEW_BLACKLISTED = "NEW_BLACKLISTED"
    # Art. 11: a mainboard/swap IMEI stands in for an IMEI of the same model, and a device's
    # IMEIs (dual SIM) are replaced together, by the IMEIs of one held device.
    MODEL_MISMATCH = "MODEL_MISMATCH"
    DEVICE_INCOMPLETE = "DEVICE_INCOMPLETE"
    DEVICE_SPLIT = "DEVICE_SPLIT"


class CorrectionStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


register(
    ReplacementChannel,
    {
        "DIRECT": ("Ekrandan girilen çiftler", "Pairs entered on screen"),
        "EK3_FILE": ("Ek-3 dosyası", "Ek-3 file"),
    },
)
register(
    ReplacementReportStatus,
    {
        "PENDING_CONFIRMATION": ("Firma onayı bekleniyor", "Awaiting the firm's confirmation"),
        "APPLIED": ("Uygulandı", "Applied"),
        "DISCARDED": ("Vazgeçildi", "Discarded"),
    },
)
register(
    ReplacementProblem,
    {
        "UNRECOGNISED_LINE": (
            "Satır 'ESKİ_IMEI YENİ_IMEI' biçiminde değil",
            "The line is not 'OLD_IMEI NEW_IMEI'",
        ),
        "INVALID_OLD_IMEI": ("Eski IMEI geçersiz", "The old IMEI is not valid"),
        "INVALID_NEW_IMEI": ("Yeni IMEI geçersiz", "The new IMEI is not valid"),
        "SAME_IMEI": ("Eski ve yeni IMEI aynı", "The old and the new IMEI are the same"),
        "REPEATED_IN_REPORT": (
            "IMEI bildirimde birden fazla kez geçiyor",
            "The IMEI appears more than once in the report",
        ),
        "OLD_NOT_REGISTERED": ("Eski IMEI beyaz listede değil", "The old IMEI is not whitelisted"),
        "OLD_OF_ANOTHER_FIRM": (
            "Eski IMEI firmanızca kaydedilmemiş",
            "The old IMEI was not registered by your firm",
        ),
        "NEW_ALREADY_USED": (
            "Yeni IMEI daha önce bir değişimde kullanılmış",
            "The new IMEI was already used in a replacement",
        ),
        "NEW_NOT_HELD": (
            "Yeni IMEI firmanızın anakart/takas başvurularında bekleyen bir IMEI değil",
            "The new IMEI is not held from your firm's mainboard/swap applications",
        ),
        "NEW_ALREADY_REGISTERED": (
            "Yeni IMEI zaten beyaz listede",
            "The new IMEI is already whitelisted",
        ),
        "NEW_BLACKLISTED": ("Yeni IMEI kara listede", "The new IMEI is blacklisted"),
        "MODEL_MISMATCH": (
            "Yeni IMEI eski IMEI'nin marka/modeline ait değil (aynı marka ve model ya da o "
            "modelin TAC'ı olmalı)",
            "The new IMEI is not of the old IMEI's brand/model (the same brand and model, or "
            "a TAC of that model)",
        ),
        "DEVICE_INCOMPLETE": (
            "Çok IMEI'li cihazın bütün IMEI'leri aynı bildirimde birlikte değiştirilmeli",
            "Every IMEI of a multi-IMEI device must be replaced together, in one report",
        ),
        "DEVICE_SPLIT": (
            "Bir cihazın IMEI'leri tek bir anakart/takas cihazın IMEI'leriyle değiştirilmeli",
            "A device's IMEIs must be replaced by the IMEIs of one mainboard/swap device",
        ),
    },
)
register(
    CorrectionStatus,
    {
        "PENDING": ("Kurum incelemesinde", "Under review"),
        "APPROVED": ("Onaylandı", "Approved"),
        "REJECTED": ("Reddedildi", "Rejected"),
    },
)


# --- replacements (art. 11, 16) ----------------------------------------------------------


class ReplacementReport(Model):
    id = fields.IntField(primary_key=True)
    firm_id = fields.IntField(db_index=True)
    channel = fields.CharEnumField(ReplacementChannel, max_length=16)
    status = fields.CharEnumField(ReplacementReportStatus, max_length=24)
    # The uploaded Ek-3 file (channel EK3_FILE).
    source_file_id = fields.IntField(null=True)
    line_count = fields.IntField(default=0)
    valid_count = fields.IntField(default=0)
    invalid_count = fields.IntField(default=0)
    applied_count = fields.IntField(default=0)
    # The decision letter (PDF), issued when the pairs are applied.
    letter_file_id = fields.IntField(null=True)
    created_by = fields.CharField(max_length=255)
    created_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=255, null=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "replacement_report"
        indexes = (("firm_id", "status"),)


class ReplacementLine(Model):
    """One line of an Ek-3 file as read and checked (blank and caption lines are not kept)."""

    id = fields.BigIntField(primary_key=True)
    report_id = fields.IntField()
    line_number = fields.IntField()
    # The IMEIs as cleaned (digits), or as far as they could be cleaned.
    old_imei = fields.CharField(max_length=32, default="")
    new_imei = fields.CharField(max_length=32, default="")
    # What the line said when it is no pair at all (its first characters).
    text = fields.CharField(max_length=64, default="")
    problem = fields.CharEnumField(ReplacementProblem, max_length=32, null=True)
    applied = fields.BooleanField(default=False)

    class Meta:
        table = "replacement_line"
        unique_together = (("report_id", "line_number"),)


class Replacement(Model):
    """An applied pair: the history of the consumed held IMEI and of the replaced one."""

    id = fields.BigIntField(primary_key=True)
    report_id = fields.IntField(db_index=True)
    firm_id = fields.IntField(db_index=True)
    old_imei = fields.CharField(max_length=15, db_index=True)
    new_imei = fields.CharField(max_length=15, unique=True)
    # The application the old IMEI was registered with (None: it came another way).
    old_application_id = fields.IntField(null=True, db_index=True)
    old_brand = fields.CharField(max_length=128)
    old_model_code = fields.CharField(max_length=128)
    # The mainboard/swap application that held the new IMEI.
    new_application_id = fields.IntField(db_index=True)
    kind = fields.CharEnumField(ApplicationKind, max_length=16)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    held_at = fields.DatetimeField()
    replaced_by = fields.CharField(max_length=255)
    replaced_at = fields.DatetimeField()

    class Meta:
        table = "replacement"


# --- corrections (art. 13) ---------------------------------------------------------------


class CorrectionRequest(Model):
    id = fields.IntField(primary_key=True)
    firm_id = fields.IntField(db_index=True)
    application_id = fields.IntField(db_index=True)
    status = fields.CharEnumField(CorrectionStatus, max_length=16, default=CorrectionStatus.PENDING)
    note = fields.TextField(default="")
    # Art. 13(2): the petition, and copies of the import's documents.
    petition_file_id = fields.IntField()
    documents_file_id = fields.IntField()
    requested_by = fields.CharField(max_length=255)
    requested_at = fields.DatetimeField()
    decided_by = fields.CharField(max_length=255, null=True)
    decided_at = fields.DatetimeField(null=True)
    rejection_reason = fields.TextField(null=True)
    letter_file_id = fields.IntField(null=True)

    class Meta:
        table = "correction_request"
        indexes = (("status", "firm_id"),)


class CorrectionPair(Model):
    id = fields.BigIntField(primary_key=True)
    request_id = fields.IntField(db_index=True)
    position = fields.IntField()
    wrong_imei = fields.CharField(max_length=15, db_index=True)
    right_imei = fields.CharField(max_length=15, db_index=True)
    # The device as the wrong IMEI's whitelist entry declared it (the right one inherits it).
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)

    class Meta:
        table = "correction_pair"


# --- pairing (art. 14) -------------------------------------------------------------------


class PairingFlag(Model):
    """Staff mark a registered IMEI for pairing (an altered identity found another way than
    the clone detector); open until the firm pairs it or the IMEI leaves the whitelist."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, db_index=True)
    firm_id = fields.IntField(db_index=True)
    reason = fields.TextField()
    flagged_by = fields.CharField(max_length=255)
    flagged_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pairing_flag"


class PairingChange(Model):
    """One change of `imei_pairing` (ADD, UPDATE with the new number, REMOVE with the old)."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, db_index=True)
    op = fields.CharEnumField(ChangeOp, max_length=8)
    msisdn = fields.CharField(max_length=15, default="")
    firm_id = fields.IntField(null=True)
    reason = fields.TextField(default="")
    actor_name = fields.CharField(max_length=255, default="")
    at = fields.DatetimeField()

    class Meta:
        table = "pairing_change"


# --- pure rules --------------------------------------------------------------------------

# Türkiye and Northern Cyprus share +90; their numbers have 10 digits after it and GSM
# numbers start with 5 (5xx).
HOME_COUNTRY_CODE: Final = "90"
_HOME_NATIONAL_LENGTH: Final = 10
# E.164: a country code (1–3 digits) and a subscriber number, 15 digits at most.
_MIN_INTERNATIONAL_LENGTH: Final = 8
_MAX_INTERNATIONAL_LENGTH: Final = 15
_PHONE_SEPARATORS: Final = str.maketrans("", "", " \t-().\u00a0")


def pairing_msisdn(raw: str) -> str | None:
    """The GSM number a pairing accepts, as digits in international form, or None.

    `+90 532 123 45 67`, `0090…`, `0532 123 45 67` and `532 123 45 67` all give
    `905321234567` — what `models.imei_status.normalise_msisdn` makes of the E.164 number an
    operator sends, so the two compare equal. A home (+90) number must be a 10-digit GSM
    number (5xx…); a foreign one has a country code and 7–12 more digits.
    """
    compact = raw.strip().translate(_PHONE_SEPARATORS)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    elif compact.startswith("0"):  # national form with the trunk prefix
        digits = HOME_COUNTRY_CODE + compact[1:]
    elif len(compact) == _HOME_NATIONAL_LENGTH and compact.startswith("5"):
        digits = HOME_COUNTRY_CODE + compact
    else:
        digits = compact
    if not (digits.isascii() and digits.isdigit()) or digits.startswith("0"):
        return None
    if digits.startswith(HOME_COUNTRY_CODE):
        national = digits[len(HOME_COUNTRY_CODE) :]
        if len(national) != _HOME_NATIONAL_LENGTH or not national.startswith("5"):
            return None
        return digits
    if not _MIN_INTERNATIONAL_LENGTH <= len(digits) <= _MAX_INTERNATIONAL_LENGTH:
        return None
    return digits
