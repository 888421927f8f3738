"""Submissions: an operator's AKM registration (art. 5(2)) or an e-Devlet declaration
(art. 5(3)), checked, stored and put on the whitelist in one transaction.

Idempotent by the client's own reference: a retry with the same reference and the same
content answers with the stored registration and writes nothing; the same reference with
other content is refused (IDEMPOTENCY_CONFLICT), never silently answered with the old result.
Concurrent retries meet at the person's advisory lock (PostgreSQL) or SQLite's single writer,
and the unique (client, reference) index is the last word: a losing insert re-reads the
winner's row.

Policy limits (settings): devices per person per period, and registering within so many days
of entering the country. A refusal names its limit and registers nothing (it is not stored:
a retry is judged again).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from integrations.authorities import applicable_authorities
from models import clock
from models.checks import CheckCode
from models.imei import clean_imei
from models.individuals import (
    COUNTED_STATUSES,
    IdentityKind,
    Registration,
    RegistrationChannel,
    RegistrationImei,
    RegistrationStatus,
    VerificationRequest,
    is_valid_national_id,
    is_valid_passport_number,
    normalise_passport_number,
    person_key,
)
from models.names import collapse_spaces, normalise_brand_model
from models.registry import WhitelistSource, WhitelistStatus
from models.roles import Role
from resolvers import audit, bulk, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError, DomainErrors, ErrorCode, invalid
from resolvers.individuals.checks import ImeiResult, check_device, whole_device
from resolvers.individuals.declarations import declaration_of
from resolvers.settings import get_settings

CLIENT_REFERENCE_RE = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
DOCUMENT_NO_RE = re.compile(r"^[A-Za-z0-9/._-]{1,64}$")
MAX_IMEIS = 4  # one per SIM slot, as in the firms' device lists
MAX_IMEI_TEXT = 40  # what is kept of a value that is not an IMEI (it fails INVALID_IMEI)
MAX_NAME = 255
MAX_BRAND_MODEL = 128
MAX_VERIFICATION_REFERENCE = 128
EARLIEST_BIRTH = date(1900, 1, 1)
# Client clocks drift: a verification stamped this far ahead is still "now".
FUTURE_TOLERANCE = timedelta(minutes=5)
# Advisory-lock namespace of "one person's registrations" (two-int form: its own key space).
PERSON_LOCK_NAMESPACE = 0x494E44  # "IND"


@dataclass(frozen=True, slots=True)
class ApplicantData:
    """National id number (citizen) or passport number with nationality (anyone)."""

    full_name: str
    birth_date: date
    national_id_number: str | None = None
    passport_number: str | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-2 of the passport's issuing country


@dataclass(frozen=True, slots=True)
class DeviceData:
    imeis: Sequence[str]
    brand: str
    model: str


@dataclass(frozen=True, slots=True)
class Submission:
    client_reference: str
    applicant: ApplicantData
    device: DeviceData
    entry_date: date  # when the applicant entered the country with the device
    customs_declaration_no: str | None = None
    purchase_country: str | None = None
    purchase_date: date | None = None


@dataclass(frozen=True, slots=True)
class EdevletVerification:
    """The declaration was verified by the authorities through e-Devlet (art. 5(3)(a))."""

    reference: str
    verified_at: datetime


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    registration: Registration
    # True when the reference was submitted before: this call stored nothing.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Clean:
    """A validated submission, normalised as stored."""

    channel: RegistrationChannel
    client_reference: str
    identity_kind: IdentityKind
    identity_number: str
    nationality: str | None
    full_name: str
    birth_date: date
    imeis: tuple[str, ...]
    brand: str
    model: str
    entry_date: date
    customs_declaration_no: str | None
    purchase_country: str | None
    purchase_date: date | None
    verification_reference: str | None
    verified_at: datetime | None

    @property
    def person_key(self) -> str:
        return person_key(self.identity_kind, self.identity_number, self.nationality)

    def fingerprint(self) -> str:
        content = {
            "channel": self.channel.value,
            "identity": [self.identity_kind.value, self.identity_number, self.nationality],
            "fullName": self.full_name,
            "birthDate": self.birth_date.isoformat(),
            "imeis": list(self.imeis),
            "brand": self.brand,
            "model": self.model,
            "entryDate": self.entry_date.isoformat(),
            "customs": self.customs_declaration_no,
            "purchaseCountry": self.purchase_country,
            "purchaseDate": self.purchase_date.isoformat() if self.purchase_date else None,
            "verification": self.verification_reference,
            "verifiedAt": self.verified_at.isoformat() if self.verified_at else None,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- use cases -----------------------------------------------------------------------------


async def submit_akm_registration(actor: Actor, submission: Submission) -> SubmissionResult:
    """An operator submits a registration taken at its AKM shop, documents already checked
    there (art. 5(2)): passing IMEIs enter the whitelist as REGISTERED."""
    if actor.role != Role.OPERATOR or not actor.operator_code or actor.id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    return await _submit(actor, _validated(RegistrationChannel.AKM, submission, None))


async def submit_edevlet_declaration(
    actor: Actor, submission: Submission, verification: EdevletVerification | None = None
) -> SubmissionResult:
    """The e-Devlet adapter forwards a declaration. Verified there (art. 5(3)(a)): passing
    IMEIs enter the whitelist as REGISTERED. Not verified: they enter as PROVISIONAL and the
    declaration waits for our periodic verification batches (art. 5(3)(b))."""
    if actor.role != Role.E_DEVLET or actor.id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    return await _submit(actor, _validated(RegistrationChannel.E_DEVLET, submission, verification))


# --- validation ----------------------------------------------------------------------------


def _validated(
    channel: RegistrationChannel, submission: Submission, verification: EdevletVerification | None
) -> _Clean:
    """Every problem of the submission at once (DomainErrors), or the normalised values."""
    problems: list[DomainError] = []
    now = clock.now()
    today = now.date()

    def problem(field: str, tr: str, en: str) -> None:
        problems.append(invalid(field, tr, en))

    reference = submission.client_reference.strip()
    if not CLIENT_REFERENCE_RE.match(reference):
        problem(
            "clientReference",
            "referans 1-128 karakter; harf, rakam ve . _ : / - kullanılabilir",
            "the reference is 1-128 letters, digits or . _ : / -",
        )

    applicant = submission.applicant
    national_id = (applicant.national_id_number or "").strip()
    passport = normalise_passport_number(applicant.passport_number or "")
    nationality = (applicant.nationality or "").strip().upper() or None
    identity_kind = IdentityKind.NATIONAL_ID
    identity_number = national_id
    if national_id and passport:
        problem(
            "applicant",
            "T.C. kimlik numarası ya da pasaport numarası verilmeli, ikisi birden değil",
            "give a national id number or a passport number, not both",
        )
    elif national_id:
        if not is_valid_national_id(national_id):
            problem(
                "applicant.nationalIdNumber",
                "T.C. kimlik numarası 11 haneli olmalı ve kontrol haneleri doğru olmalı",
                "a national id number has 11 digits with correct check digits",
            )
        nationality = None
    elif passport:
        identity_kind, identity_number = IdentityKind.PASSPORT, passport
        if not is_valid_passport_number(passport):
            problem(
                "applicant.passportNumber",
                "pasaport numarası 5-20 harf ya da rakam olmalı",
                "a passport number is 5-20 letters or digits",
            )
        if nationality is None or not COUNTRY_RE.match(nationality):
            problem(
                "applicant.nationality",
                "pasaportu veren ülke iki harfli ISO kodu olmalı (ör. DE)",
                "the passport's issuing country is a two-letter ISO code (e.g. DE)",
            )
    else:
        problem(
            "applicant",
            "T.C. kimlik numarası ya da pasaport numarası gerekli",
            "a national id number or a passport number is required",
        )

    full_name = collapse_spaces(applicant.full_name)
    if len(full_name) < 2 or len(full_name) > MAX_NAME:
        problem(
            "applicant.fullName",
            f"ad soyad 2-{MAX_NAME} karakter olmalı",
            f"the full name is 2-{MAX_NAME} characters",
        )
    if not EARLIEST_BIRTH <= applicant.birth_date <= today:
        problem(
            "applicant.birthDate",
            "doğum tarihi geçmişte ve 1900'den sonra olmalı",
            "the birth date is in the past and after 1900",
        )

    imeis = _cleaned_imeis(submission.device.imeis, problem)
    brand = normalise_brand_model(submission.device.brand)
    model = normalise_brand_model(submission.device.model)
    for field, value, tr in (("device.brand", brand, "marka"), ("device.model", model, "model")):
        if not value or len(value) > MAX_BRAND_MODEL:
            problem(
                field,
                f"{tr} boş olamaz ve en fazla {MAX_BRAND_MODEL} karakter olabilir",
                f"{field.split('.')[1]} must not be empty and at most {MAX_BRAND_MODEL} characters",
            )

    if submission.entry_date > today:
        problem(
            "entryDate", "giriş tarihi gelecekte olamaz", "the entry date cannot be in the future"
        )
    elif submission.entry_date < applicant.birth_date:
        problem(
            "entryDate",
            "giriş tarihi doğum tarihinden önce olamaz",
            "the entry date is before birth",
        )
    customs_no = (submission.customs_declaration_no or "").strip() or None
    if customs_no is not None and not DOCUMENT_NO_RE.match(customs_no):
        problem(
            "customsDeclarationNo",
            "yalnızca harf, rakam ve / . _ - kullanılabilir (en fazla 64)",
            "only letters, digits and / . _ - (at most 64)",
        )
    purchase_country = (submission.purchase_country or "").strip().upper() or None
    if purchase_country is not None and not COUNTRY_RE.match(purchase_country):
        problem(
            "purchaseCountry",
            "ülke iki harfli ISO kodu olmalı (ör. DE)",
            "the country is a two-letter ISO code (e.g. DE)",
        )
    if submission.purchase_date is not None and submission.purchase_date > today:
        problem(
            "purchaseDate",
            "satın alma tarihi gelecekte olamaz",
            "the purchase date is in the future",
        )

    verification_reference: str | None = None
    verified_at: datetime | None = None
    if verification is not None:
        verification_reference = verification.reference.strip()
        verified_at = verification.verified_at
        if not 1 <= len(verification_reference) <= MAX_VERIFICATION_REFERENCE:
            problem(
                "verification.reference",
                f"doğrulama referansı 1-{MAX_VERIFICATION_REFERENCE} karakter olmalı",
                f"the verification reference is 1-{MAX_VERIFICATION_REFERENCE} characters",
            )
        if verified_at.tzinfo is None:
            problem(
                "verification.verifiedAt",
                "doğrulama zamanı saat dilimiyle verilmeli",
                "the verification time needs a time zone",
            )
        elif verified_at > now + FUTURE_TOLERANCE:
            problem(
                "verification.verifiedAt",
                "doğrulama zamanı gelecekte olamaz",
                "the verification time cannot be in the future",
            )

    if problems:
        raise DomainErrors(problems)
    return _Clean(
        channel=channel,
        client_reference=reference,
        identity_kind=identity_kind,
        identity_number=identity_number,
        nationality=nationality,
        full_name=full_name,
        birth_date=applicant.birth_date,
        imeis=imeis,
        brand=brand,
        model=model,
        entry_date=submission.entry_date,
        customs_declaration_no=customs_no,
        purchase_country=purchase_country,
        purchase_date=submission.purchase_date,
        verification_reference=verification_reference,
        verified_at=verified_at,
    )


def _cleaned_imeis(
    raw_imeis: Sequence[str], problem: Callable[[str, str, str], None]
) -> tuple[str, ...]:
    """The IMEIs as the checks see them: separators removed, empty ones refused, each once.
    A value that is not a valid IMEI stays (the checks give it INVALID_IMEI)."""
    if not 1 <= len(raw_imeis) <= MAX_IMEIS:
        problem(
            "device.imeis",
            f"bir cihazın 1-{MAX_IMEIS} IMEI'si olur",
            f"a device has 1-{MAX_IMEIS} IMEIs",
        )
        return ()
    imeis: list[str] = []
    for index, raw in enumerate(raw_imeis):
        text = clean_imei(raw).text
        if not text:
            problem(f"device.imeis[{index}]", "IMEI boş olamaz", "the IMEI is empty")
        elif len(text) > MAX_IMEI_TEXT:
            problem(
                f"device.imeis[{index}]",
                f"IMEI en fazla {MAX_IMEI_TEXT} karakter olabilir",
                f"an IMEI is at most {MAX_IMEI_TEXT} characters",
            )
        elif text in imeis:
            problem(
                f"device.imeis[{index}]",
                "aynı IMEI iki kez verilmiş",
                "the same IMEI is given twice",
            )
        else:
            imeis.append(text)
    return tuple(imeis)


# --- idempotent storage --------------------------------------------------------------------


async def _submit(actor: Actor, clean: _Clean) -> SubmissionResult:
    assert actor.id is not None  # the use cases admit machine clients only
    fingerprint = clean.fingerprint()
    previous = await Registration.get_or_none(
        client_id=actor.id, client_reference=clean.client_reference
    )
    if previous is not None:
        return _replayed(previous, fingerprint)
    _check_entry_period(clean)
    # Reads only: done before the transaction, re-checked under the whitelist lock there.
    results = await check_device(clean.imeis, clean.brand, clean.model)
    try:
        async with in_transaction() as connection:
            await _lock_person(connection, clean.person_key)
            # A concurrent retry that held the lock first has stored it by now.
            previous = await Registration.get_or_none(
                client_id=actor.id, client_reference=clean.client_reference
            )
            if previous is not None:
                return _replayed(previous, fingerprint)
            await _check_device_limit(clean)
            registration = await _store(actor, clean, fingerprint, results, connection)
    except IntegrityError:
        # The unique (client, reference) index refused a concurrent twin: answer with its row.
        previous = await Registration.get_or_none(
            client_id=actor.id, client_reference=clean.client_reference
        )
        if previous is None:
            raise
        return _replayed(previous, fingerprint)
    return SubmissionResult(registration)


def _replayed(previous: Registration, fingerprint: str) -> SubmissionResult:
    if previous.fingerprint != fingerprint:
        raise DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            field="clientReference",
            reference=previous.client_reference,
        )
    return SubmissionResult(previous, replayed=True)


async def _lock_person(connection: BaseDBAsyncClient, key: str) -> None:
    """Serialise one person's submissions until commit (PostgreSQL; SQLite has one writer):
    the device limit is counted and the new row written under the same lock."""
    if bulk.is_postgres(connection):
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock($1, $2)", [PERSON_LOCK_NAMESPACE, digest]
        )


def _check_entry_period(clean: _Clean) -> None:
    days = get_settings().individual_max_days_after_entry
    if days > 0 and (clock.now().date() - clean.entry_date).days > days:
        raise DomainError(
            ErrorCode.REGISTRATION_PERIOD_OVER,
            field="entryDate",
            days=days,
            entry_date=clean.entry_date.isoformat(),
        )


async def _check_device_limit(clean: _Clean) -> None:
    settings = get_settings()
    limit, days = settings.individual_device_limit, settings.individual_limit_period_days
    if limit <= 0:
        return
    since = clock.now() - timedelta(days=days)
    count = await Registration.filter(
        person_key=clean.person_key, status__in=list(COUNTED_STATUSES), created_at__gte=since
    ).count()
    if count >= limit:
        raise DomainError(
            ErrorCode.DEVICE_LIMIT_EXCEEDED, field="applicant", limit=limit, days=days, count=count
        )


async def _store(
    actor: Actor,
    clean: _Clean,
    fingerprint: str,
    results: list[ImeiResult],
    connection: BaseDBAsyncClient,
) -> Registration:
    now = clock.now()
    # Under the whitelist's lock, so nobody lists one of these IMEIs between this look and
    # our insert (a concurrent registration of the same phone by another client).
    await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
    candidates = [r.imei for r in results if r.passed]
    taken = {
        str(row[0])
        async for row in bulk.select_in(
            "SELECT imei FROM whitelist_entry WHERE imei IN ({in_})", candidates
        )
    }
    results = whole_device(
        [
            ImeiResult(r.imei, (CheckCode.ALREADY_REGISTERED,), r.tac_brand, r.tac_model)
            if r.imei in taken
            else r
            for r in results
        ]
    )
    passing = [r for r in results if r.passed]
    owes_verification = (
        clean.channel == RegistrationChannel.E_DEVLET and clean.verification_reference is None
    )
    if not passing:
        status = RegistrationStatus.FAILED_CHECKS
    elif clean.channel == RegistrationChannel.AKM:
        status = RegistrationStatus.REGISTERED
    elif owes_verification:
        status = RegistrationStatus.PENDING_VERIFICATION
    else:
        status = RegistrationStatus.VERIFIED
    registration = await Registration.create(
        client_id=actor.id,
        client_reference=clean.client_reference,
        fingerprint=fingerprint,
        channel=clean.channel,
        operator_code=actor.operator_code if clean.channel == RegistrationChannel.AKM else None,
        status=status,
        identity_kind=clean.identity_kind,
        identity_number=clean.identity_number,
        nationality=clean.nationality,
        full_name=clean.full_name,
        birth_date=clean.birth_date,
        person_key=clean.person_key,
        brand=clean.brand,
        model_code=clean.model,
        entry_date=clean.entry_date,
        customs_declaration_no=clean.customs_declaration_no,
        purchase_country=clean.purchase_country,
        purchase_date=clean.purchase_date,
        edevlet_verification_reference=clean.verification_reference,
        edevlet_verified_at=clean.verified_at,
        verified_at=clean.verified_at if status == RegistrationStatus.VERIFIED else None,
        passed_imei_count=len(passing),
        failed_imei_count=len(results) - len(passing),
        created_at=now,
        updated_at=now,
    )
    await RegistrationImei.bulk_create(
        [
            RegistrationImei(
                registration_id=registration.id,
                position=position,
                imei=result.imei,
                passed=result.passed,
                codes=[code.value for code in result.codes],
                tac_brand=result.tac_brand,
                tac_model=result.tac_model,
            )
            for position, result in enumerate(results, start=1)
        ]
    )
    source = (
        WhitelistSource.AKM
        if clean.channel == RegistrationChannel.AKM
        else WhitelistSource.E_DEVLET
    )
    entry_status = WhitelistStatus.PROVISIONAL if owes_verification else WhitelistStatus.REGISTERED
    await registry_changes.add_to_whitelist(
        actor,
        [
            registry_changes.WhitelistAddition(
                imei=r.imei,
                # Checked against the registry: the TAC's brand/model, not the typed name.
                brand=r.tac_brand or clean.brand,
                model_code=r.tac_model or clean.model,
                source=source,
                status=entry_status,
                registration_id=registration.id,
            )
            for r in passing
        ],
        reason=f"Bireysel kayıt {registration.reference} (Tebliğ md. 5)",
    )
    if passing and owes_verification:
        declaration = declaration_of(registration, [r.imei for r in passing])
        await VerificationRequest.bulk_create(
            [
                VerificationRequest(
                    registration_id=registration.id, authority=kind.value, created_at=now
                )
                for kind in sorted(applicable_authorities(declaration))
            ]
        )
    await audit.record(
        actor,
        "individual.submitted",
        "IndividualRegistration",
        registration.id,
        {
            "channel": clean.channel.value,
            "clientReference": clean.client_reference,
            "status": status.value,
            "passed": [r.imei for r in passing],
            "failed": {r.imei: [c.value for c in r.codes] for r in results if not r.passed},
        },
    )
    return registration
