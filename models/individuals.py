"""Individual registrations (Tebliğ art. 5): a person's device registered at an operator's
AKM shop or declared through e-Devlet, and the verification of declarations by the
authorities (art. 5(3)(b)).

A `Registration` is one person's one device (up to four IMEIs, one per SIM slot), idempotent
by the submitting client's own reference. Its `RegistrationImei` rows keep what the technical
checks said about each IMEI. A declaration that still owes verification has one
`VerificationRequest` per applicable authority; the periodic dispatcher gathers the open
requests of one authority into a `VerificationBatch`, which one durable job sends.

`WhitelistRemoval` records what a removal took off the whitelist (staff removals and art. 5(4)
rejections), so that staff can restore a wrongly removed entry exactly as it was.

Pure rules at the end: identity numbers and the person key that policy limits count by.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class RegistrationChannel(StrEnum):
    AKM = "AKM"
    E_DEVLET = "E_DEVLET"


class RegistrationStatus(StrEnum):
    # AKM: the operator checked the documents (art. 5(2)); nothing more is owed.
    REGISTERED = "REGISTERED"
    # e-Devlet, not verified there: the IMEIs are PROVISIONAL until the authorities answer.
    PENDING_VERIFICATION = "PENDING_VERIFICATION"
    # Verified through e-Devlet before it reached us (art. 5(3)(a)) or by our batches.
    VERIFIED = "VERIFIED"
    # An authority did not verify: the IMEIs left the whitelist with the reason (art. 5(4)).
    REJECTED = "REJECTED"
    # No IMEI passed the technical checks: nothing entered the whitelist.
    FAILED_CHECKS = "FAILED_CHECKS"
    # Staff restored a rejected registration's IMEIs (the rejection proved wrong).
    REINSTATED = "REINSTATED"


# Registrations whose device counts against the person's limit (it is, or may stay, listed).
COUNTED_STATUSES: Final = frozenset(
    {
        RegistrationStatus.REGISTERED,
        RegistrationStatus.PENDING_VERIFICATION,
        RegistrationStatus.VERIFIED,
        RegistrationStatus.REINSTATED,
    }
)


class IdentityKind(StrEnum):
    NATIONAL_ID = "NATIONAL_ID"
    PASSPORT = "PASSPORT"


class VerificationBatchStatus(StrEnum):
    # Created by the dispatcher; its job sends it (again, after a failure) until answered.
    SENDING = "SENDING"
    ANSWERED = "ANSWERED"
    # The job gave up (attempts used up, or the authority refused the request as malformed):
    # the requests stay pending in it until staff retry the job.
    FAILED = "FAILED"


class VerificationRequestStatus(StrEnum):
    PENDING = "PENDING"
    ANSWERED = "ANSWERED"
    # The registration was decided by another authority's refusal before this one answered.
    SKIPPED = "SKIPPED"


register(
    RegistrationChannel,
    {
        "AKM": ("Abone Kayıt Merkezi (AKM)", "Operator shop (AKM)"),
        "E_DEVLET": ("e-Devlet", "e-Devlet"),
    },
)
register(
    RegistrationStatus,
    {
        "REGISTERED": ("Kayıt altına alındı", "Registered"),
        "PENDING_VERIFICATION": ("İlgili merci doğrulaması bekleniyor", "Awaiting verification"),
        "VERIFIED": ("Doğrulandı", "Verified"),
        "REJECTED": ("Reddedildi; IMEI beyaz listeden çıkarıldı", "Rejected; IMEI removed"),
        "FAILED_CHECKS": ("Teknik kontrollerden geçemedi", "Failed the technical checks"),
        "REINSTATED": ("Kurum tarafından yeniden kayda alındı", "Reinstated by the regulator"),
    },
)
register(
    IdentityKind,
    {
        "NATIONAL_ID": ("T.C. kimlik numarası", "National id number"),
        "PASSPORT": ("Pasaport", "Passport"),
    },
)
register(
    VerificationBatchStatus,
    {
        "SENDING": ("Gönderiliyor", "Sending"),
        "ANSWERED": ("Yanıtlandı", "Answered"),
        "FAILED": ("Gönderilemedi (personel müdahalesi bekliyor)", "Failed (awaiting staff)"),
    },
)
register(
    VerificationRequestStatus,
    {
        "PENDING": ("Yanıt bekleniyor", "Awaiting answer"),
        "ANSWERED": ("Yanıtlandı", "Answered"),
        "SKIPPED": ("Gerek kalmadı", "No longer needed"),
    },
)


class Registration(Model):
    """One person's device, submitted by an operator (AKM) or the e-Devlet adapter.

    The applicant's personal data is shown only to staff and to the submitting client.
    """

    id = fields.IntField(primary_key=True)
    # Idempotency: the client's own reference is unique per client; a retry finds this row.
    client_id = fields.IntField()
    client_reference = fields.CharField(max_length=128)
    # SHA-256 of the normalised submission: a reused reference with other content is refused.
    fingerprint = fields.CharField(max_length=64)
    channel = fields.CharEnumField(RegistrationChannel, max_length=16)
    operator_code = fields.CharField(max_length=16, null=True)
    status = fields.CharEnumField(RegistrationStatus, max_length=24, db_index=True)
    status_reason = fields.TextField(null=True)
    # Applicant (personal data).
    identity_kind = fields.CharEnumField(IdentityKind, max_length=16)
    identity_number = fields.CharField(max_length=32)
    nationality = fields.CharField(max_length=2, null=True)  # passport's issuing country
    full_name = fields.CharField(max_length=255)
    birth_date = fields.DateField()
    # What policy limits count by (see `person_key`).
    person_key = fields.CharField(max_length=64)
    # Device and how it came into the country.
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    entry_date = fields.DateField()
    customs_declaration_no = fields.CharField(max_length=64, null=True)
    purchase_country = fields.CharField(max_length=2, null=True)
    purchase_date = fields.DateField(null=True)
    # e-Devlet: the reference of the verification done there (art. 5(3)(a)), if it was.
    edevlet_verification_reference = fields.CharField(max_length=128, null=True)
    edevlet_verified_at = fields.DatetimeField(null=True)
    passed_imei_count = fields.IntField(default=0)
    failed_imei_count = fields.IntField(default=0)
    verified_at = fields.DatetimeField(null=True)
    # When its verification deadline passed unanswered and its IMEIs were blocked (OVERDUE).
    overdue_at = fields.DatetimeField(null=True)
    # Art. 5(4): who refused and why (our wording in both languages, the authority's own note).
    rejected_at = fields.DatetimeField(null=True)
    rejected_by = fields.CharField(max_length=32, null=True)
    rejection_code = fields.CharField(max_length=64, null=True)
    rejection_reason_tr = fields.TextField(null=True)
    rejection_reason_en = fields.TextField(null=True)
    authority_note = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "individual_registration"
        unique_together = (("client_id", "client_reference"),)
        indexes = (("person_key", "created_at"),)

    @property
    def reference(self) -> str:
        """Ours: what authorities are asked about and answer by (stable across retries)."""
        return f"IND-{self.id}"


class RegistrationImei(Model):
    """One IMEI of a registration and what the technical checks said about it."""

    id = fields.BigIntField(primary_key=True)
    registration_id = fields.IntField(db_index=True)
    position = fields.SmallIntField()  # 1..4, the order given
    imei = fields.CharField(max_length=40, db_index=True)  # as cleaned; may be invalid
    passed = fields.BooleanField()
    codes: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    # What the TAC registry says the device is (written on the whitelist entry).
    tac_brand = fields.CharField(max_length=128, null=True)
    tac_model = fields.CharField(max_length=128, null=True)
    # The last removal of this IMEI made for this registration (rejection or staff), if any.
    removal_reason = fields.TextField(null=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "individual_registration_imei"
        unique_together = (("registration_id", "position"),)


class VerificationBatch(Model):
    """The open requests of one authority sent together by one durable job."""

    id = fields.BigIntField(primary_key=True)
    authority = fields.CharField(max_length=32)  # integrations.authorities.AuthorityKind
    status = fields.CharEnumField(
        VerificationBatchStatus, max_length=16, default=VerificationBatchStatus.SENDING
    )
    size = fields.IntField()
    job_id = fields.BigIntField(null=True)
    attempts = fields.IntField(default=0)  # calls made to the authority
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    answered_at = fields.DatetimeField(null=True)
    # When it was last given up (its job died): staff list it from that moment.
    failed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_batch"
        indexes = (("status", "id"),)


class VerificationRequest(Model):
    """One authority's verification of one registration, and its answer."""

    id = fields.BigIntField(primary_key=True)
    registration_id = fields.IntField()
    authority = fields.CharField(max_length=32)
    status = fields.CharEnumField(
        VerificationRequestStatus, max_length=16, default=VerificationRequestStatus.PENDING
    )
    batch_id = fields.BigIntField(null=True, db_index=True)
    # Batches that were given up with this request in them: it goes into the next periodic
    # batch until `verification_max_batches`, then waits in its last one for staff.
    failed_batches = fields.IntField(default=0, db_default=0)
    verified = fields.BooleanField(null=True)
    reason_code = fields.CharField(max_length=64, null=True)
    reason_tr = fields.TextField(null=True)
    reason_en = fields.TextField(null=True)
    authority_note = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "verification_request"
        unique_together = (("registration_id", "authority"),)
        # The dispatcher's question: this authority's open requests not in a batch yet.
        indexes = (("authority", "status", "batch_id"),)


class WhitelistRemoval(Model):
    """A whitelist entry as it was when a removal took it off, and the removal's reason."""

    id = fields.BigIntField(primary_key=True)
    imei = fields.CharField(max_length=15, db_index=True)
    # The feed's REMOVE row of this removal: a restore undoes the IMEI's latest removal only.
    change_id = fields.BigIntField(unique=True)
    reason = fields.TextField()
    removed_by = fields.CharField(max_length=255)
    removed_at = fields.DatetimeField()
    # The entry as it was.
    status = fields.CharField(max_length=16)
    source = fields.CharField(max_length=24)
    brand = fields.CharField(max_length=128)
    model_code = fields.CharField(max_length=128)
    firm_id = fields.IntField(null=True)
    application_id = fields.IntField(null=True)
    registration_id = fields.IntField(null=True)
    # Set when staff put it back.
    restored_at = fields.DatetimeField(null=True)
    restored_by = fields.CharField(max_length=255, null=True)
    restore_reason = fields.TextField(null=True)

    class Meta:
        table = "whitelist_removal"


# --- pure rules ----------------------------------------------------------------------------

NATIONAL_ID_LENGTH: Final = 11
_PASSPORT_RE: Final = re.compile(r"[A-Z0-9]{5,20}")


def is_valid_national_id(number: str) -> bool:
    """A Turkish national identity number (T.C. kimlik no): 11 ASCII digits, not starting
    with 0, whose 10th digit is ((d1+d3+d5+d7+d9)·7 − (d2+d4+d6+d8)) mod 10 and whose 11th is
    the sum of the first ten mod 10."""
    if len(number) != NATIONAL_ID_LENGTH or not (number.isascii() and number.isdigit()):
        return False
    d = [int(ch) for ch in number]
    if d[0] == 0:
        return False
    odd, even = sum(d[0:9:2]), sum(d[1:8:2])
    return (odd * 7 - even) % 10 == d[9] and sum(d[:10]) % 10 == d[10]


def normalise_passport_number(raw: str) -> str:
    """Upper case without spaces or hyphens (`c01x 00t47` → `C01X00T47`)."""
    return "".join(ch for ch in raw if ch not in " -\t").upper()


def is_valid_passport_number(number: str) -> bool:
    return bool(_PASSPORT_RE.fullmatch(number))


def person_key(kind: IdentityKind, number: str, nationality: str | None = None) -> str:
    """One key per person for policy limits: `TC:<number>` for a citizen, `P:<country>:<number>`
    for a passport holder (passport numbers are unique only within their issuing country)."""
    if kind is IdentityKind.NATIONAL_ID:
        return f"TC:{number}"
    return f"P:{nationality}:{number}"
