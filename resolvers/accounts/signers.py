"""Firms' authorised signers (Tebliğ art. 8(1)): staff register them, uploads are matched.

Staff register each signer of a firm by the signer's certificate, or by the certificate
authority plus the signer's certificate serial number or identity number (`models.signers`).
`require_registered` is the one rule every e-signed upload goes through: each certificate
the firm signed with must belong to a signer registered for that firm. A certificate
registered for another firm is refused as such (art. 8(1): the certificate is the firm's
own), without naming that firm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.roles import Role
from models.signers import FirmSigner, SignerMatch
from resolvers import audit
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid, not_found
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.workflow.common import Content, read_upload

MAX_CERTIFICATE_BYTES = 64 * 1024
MAX_REASON = 2000
REGISTRARS = (Role.STAFF_ADMIN,)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_certificate(data: bytes, field: str) -> x509.Certificate:
    """An X.509 certificate in PEM or DER (what e-signature providers hand out)."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise invalid(
            field,
            "dosya bir X.509 sertifikası değil (PEM ya da DER olmalı)",
            "the file is not an X.509 certificate (PEM or DER)",
        ) from error


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _identity_of(certificate: x509.Certificate) -> str:
    """The subject's serialNumber attribute (a person's identity number in Turkish
    qualified certificates, sometimes with a scheme prefix such as TCKTR-)."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value).strip().upper() if values else ""


def _identities(found: str) -> list[str]:
    """The identity numbers a subject serialNumber stands for: itself, and the number after
    its scheme prefix ("TCKTR-12345678901" carries 12345678901, ETSI EN 319 412-1)."""
    if not found:
        return []
    tail = found
    for index in range(len(found) - 1, -1, -1):
        if not found[index].isalnum():
            tail = found[index + 1 :]
            break
    return sorted({found, tail} - {""})


def _clean_number(raw: str | None, field: str, what_tr: str, what_en: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip().upper()
    if len(value) > 64 or not value.replace("-", "").replace(":", "").isalnum():
        raise invalid(
            field,
            f"{what_tr} en fazla 64 harf/rakam olmalı",
            f"the {what_en} must be at most 64 letters or digits",
        )
    return value


def _serial_as_decimal(value: str) -> str:
    """Serial numbers are given in decimal or, as certificate viewers show them, in hex with
    colons or a 0x prefix."""
    text = value.replace(":", "").replace(" ", "")
    if text.isdigit() and ":" not in value:
        return str(int(text))
    try:
        return str(int(text.removeprefix("0X"), 16))
    except ValueError as error:
        raise invalid(
            "serialNumber",
            "seri numarası ondalık ya da onaltılık (iki nokta üst üste ile) bir sayı olmalı",
            "the serial number must be a decimal or a hex (colon-separated) number",
        ) from error


def require_registrar(actor: Actor) -> None:
    if not actor.has(*REGISTRARS):
        raise DomainError(ErrorCode.FORBIDDEN)


@dataclass(frozen=True, slots=True)
class SignerInput:
    firm_id: int
    name: str = ""
    title: str = ""
    serial_number: str | None = None
    identity_number: str | None = None


@dataclass(frozen=True, slots=True)
class _Given:
    data: SignerInput
    certificate: bytes | None
    ca_certificate: bytes | None


def _registration(given: _Given) -> dict[str, object]:
    """The row's values from what staff gave (one way of the three, checked)."""
    data = given.data
    if (given.certificate is None) == (given.ca_certificate is None):
        raise invalid(
            "certificate",
            "ya imzalayanın sertifikasını ya da sertifika hizmet sağlayıcısının (CA) "
            "sertifikasını yükleyin, ikisini birden değil",
            "upload either the signer's certificate or the certificate authority's (CA), not both",
        )
    serial = _clean_number(data.serial_number, "serialNumber", "seri numarası", "serial number")
    identity = _clean_number(
        data.identity_number, "identityNumber", "kimlik numarası", "identity number"
    )
    if given.certificate is not None:
        if serial or identity:
            raise invalid(
                "serialNumber",
                "seri ya da kimlik numarası yalnızca CA sertifikasıyla birlikte verilir",
                "a serial or identity number goes with a CA certificate only",
            )
        certificate = parse_certificate(given.certificate, "certificate")
        if _is_ca(certificate):
            raise invalid(
                "certificate",
                "bu bir CA sertifikası; imzalayanın kendi sertifikasını yükleyin ya da CA ile "
                "birlikte seri/kimlik numarasını verin",
                "this is a CA certificate: upload the signer's own, or give the serial or "
                "identity number with the CA",
            )
        match, ca_subject = SignerMatch.CERTIFICATE, None
    else:
        assert given.ca_certificate is not None
        certificate = parse_certificate(given.ca_certificate, "caCertificate")
        if not _is_ca(certificate):
            raise invalid(
                "caCertificate",
                "bu bir CA sertifikası değil (BasicConstraints CA=true olmalı)",
                "this is not a CA certificate (BasicConstraints CA=true)",
            )
        if (serial is None) == (identity is None):
            raise invalid(
                "serialNumber",
                "CA ile birlikte imzalayanın sertifika seri numarasını ya da kimlik "
                "numarasını verin (birini)",
                "with the CA give the signer's certificate serial number or identity number "
                "(one of them)",
            )
        match = SignerMatch.CA_SERIAL if serial else SignerMatch.CA_IDENTITY
        ca_subject = _sha256(certificate.subject.public_bytes())
        serial = _serial_as_decimal(serial) if serial else None
    der = certificate.public_bytes(serialization.Encoding.DER)
    name = " ".join(data.name.split())
    if match == SignerMatch.CERTIFICATE and not name:
        name = _common_name(certificate.subject)
    if not name or len(name) > 255:
        raise invalid(
            "name", "imzalayanın adı 1–255 karakter olmalı", "the signer's name: 1–255 characters"
        )
    title = " ".join(data.title.split())
    if len(title) > 255:
        raise invalid("title", "unvan en fazla 255 karakter", "the title: at most 255 characters")
    return {
        "name": name,
        "title": title,
        "match": match,
        "certificate_pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "certificate_sha256": _sha256(der),
        "ca_subject_sha256": ca_subject,
        "serial_number": serial,
        "identity_number": identity,
        "subject": certificate.subject.rfc4514_string()[:512],
        "issuer": certificate.issuer.rfc4514_string()[:512],
        "not_after": certificate.not_valid_after_utc,
    }


async def _read(content: Content | None, field: str) -> bytes | None:
    return None if content is None else await read_upload(content, MAX_CERTIFICATE_BYTES, field)


async def register_signer(
    actor: Actor,
    data: SignerInput,
    certificate: Content | None = None,
    ca_certificate: Content | None = None,
) -> FirmSigner:
    """Register one authorised signer of a firm (art. 8(1)), audited: by the signer's
    certificate, or by the CA's certificate with the serial or identity number."""
    require_registrar(actor)
    values = _registration(
        _Given(
            data,
            await _read(certificate, "certificate"),
            await _read(ca_certificate, "caCertificate"),
        )
    )
    async with in_transaction():
        firm = await Firm.filter(id=data.firm_id).select_for_update().first()
        if firm is None:
            raise not_found("Firma", "Firm", field="firmId")
        duplicate = await FirmSigner.filter(
            active=True,
            match=values["match"],
            certificate_sha256=values["certificate_sha256"],
            serial_number=values["serial_number"],
            identity_number=values["identity_number"],
        ).first()
        if duplicate is not None:
            same_firm = duplicate.firm_id == firm.id
            raise invalid(
                "certificate",
                f"bu imzalayan {'bu firmaya' if same_firm else 'başka bir firmaya'} zaten "
                f"kayıtlı (kayıt {duplicate.id})",
                f"this signer is already registered for "
                f"{'this firm' if same_firm else 'another firm'} (registration {duplicate.id})",
            )
        signer = await FirmSigner.create(
            firm_id=firm.id, registered_by=actor.name, registered_at=clock.now(), **values
        )
        await audit.record(
            actor,
            "firm_signer.registered",
            "FirmSigner",
            signer.id,
            {
                "name": signer.name,
                "title": signer.title,
                "match": signer.match.value,
                "certificateSha256": signer.certificate_sha256,
                "subject": signer.subject,
                "serialNumber": signer.serial_number,
                "identityNumber": signer.identity_number,
            },
            firm_id=firm.id,
        )
    return signer


async def revoke_signer(actor: Actor, signer_id: int, reason: str) -> FirmSigner:
    """A signer leaves the firm or the certificate is lost: no longer accepted, audited."""
    require_registrar(actor)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise invalid("reason", "gerekçe 1–2000 karakter olmalı", "the reason: 1–2000 characters")
    async with in_transaction():
        signer = await FirmSigner.filter(id=signer_id).select_for_update().first()
        if signer is None:
            raise not_found("İmza yetkilisi", "Signer", field="signerId")
        if not signer.active:
            raise invalid("signerId", "bu kayıt zaten iptal edilmiş", "already revoked")
        signer.active = False
        signer.revoked_by, signer.revoked_at, signer.revoke_reason = actor.name, clock.now(), reason
        await signer.save(update_fields=["active", "revoked_by", "revoked_at", "revoke_reason"])
        await audit.record(
            actor,
            "firm_signer.revoked",
            "FirmSigner",
            signer.id,
            {"name": signer.name, "reason": reason},
            firm_id=signer.firm_id,
        )
    return signer


async def list_signers(
    actor: Actor, firm_id: int | None, include_revoked: bool, first: int, after: str | None
) -> Page[FirmSigner]:
    """A firm sees its own signers; staff any firm's (newest first)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(FirmSigner.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if not include_revoked:
        query = query.filter(active=True)
    return await paginate(query, first, after, count=True)


# --- matching an upload's signatures ------------------------------------------------------


def _issued_by(certificate: x509.Certificate, ca_pem: str) -> bool:
    try:
        certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem.encode()))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _matches(signer: FirmSigner, certificate: x509.Certificate, fingerprint: str) -> bool:
    if signer.match == SignerMatch.CERTIFICATE:
        return signer.certificate_sha256 == fingerprint
    if not _issued_by(certificate, signer.certificate_pem):
        return False
    if signer.match == SignerMatch.CA_SERIAL:
        return signer.serial_number == str(certificate.serial_number)
    return signer.identity_number in _identities(_identity_of(certificate))


async def require_registered(firm_id: int, certificates: Sequence[bytes]) -> FirmSigner:
    """The registered signer of `firm_id` behind every certificate (DER) the firm signed
    with; returns the last one's (the newest signature). Refused: a certificate registered
    for another firm (SIGNER_OF_ANOTHER_FIRM), or for none (SIGNER_NOT_REGISTERED)."""
    found: FirmSigner | None = None
    for der in certificates:
        certificate = x509.load_der_x509_certificate(der)
        fingerprint = _sha256(der)
        issuer = _sha256(certificate.issuer.public_bytes())
        # Narrowed in SQL by serial or identity number: a provider's CA may stand behind
        # thousands of registrations, and each candidate costs a signature verification.
        candidates = await FirmSigner.filter(
            Q(certificate_sha256=fingerprint, match=SignerMatch.CERTIFICATE)
            | Q(
                ca_subject_sha256=issuer,
                match=SignerMatch.CA_SERIAL,
                serial_number=str(certificate.serial_number),
            )
            | Q(
                ca_subject_sha256=issuer,
                match=SignerMatch.CA_IDENTITY,
                identity_number__in=_identities(_identity_of(certificate)) or [""],
            ),
            active=True,
        ).order_by("id")
        matching = [s for s in candidates if _matches(s, certificate, fingerprint)]
        own = [s for s in matching if s.firm_id == firm_id]
        name = _common_name(certificate.subject)
        if own:
            found = own[0]
        elif matching:
            raise DomainError(ErrorCode.SIGNER_OF_ANOTHER_FIRM, field="file", signer=name)
        else:
            raise DomainError(ErrorCode.SIGNER_NOT_REGISTERED, field="file", signer=name)
    assert found is not None, "the caller passes at least one certificate"
    return found
