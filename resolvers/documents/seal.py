"""The Kurum's electronic signature on what it issues: PAdES with pyHanko (guide §5: the
permit reaches the firm "elektronik imzalı").

The key is a PKCS#12 file (key, certificate and its chain) named by MCKS_SIGNING_KEY_FILE,
with MCKS_SIGNING_KEY_PASSPHRASE. Production refuses to start without one
(`resolvers.settings`). Development and tests without one get a local CA and a signing
certificate made at first use under ``var/signing/`` (next to the file store): ``ca.pem`` is
the root a validator trusts, ``kurum.p12`` and ``passphrase.txt`` the key. Nothing outside
this machine trusts that CA; it exists so the demo's documents validate end to end.

Signing is CPU work (hashing the PDF, one private-key operation): it runs in the PDF worker
process right after the render (`resolvers.documents.pdf.render_pdf`), and each worker loads
the key once and keeps it until the file changes.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash

from resolvers.settings import Settings, SettingsError, get_settings

__all__ = [
    "CA_FILE",
    "SIGNATURE_FIELD",
    "SignRequest",
    "Signatory",
    "SigningKey",
    "check_signing_key",
    "ensure_local_ca",
    "local_signing_dir",
    "new_verification_code",
    "normalise_code",
    "sign_pdf_sync",
    "signatory",
    "signing_key",
]

log = logging.getLogger("mcks.seal")

CA_FILE: Final = "ca.pem"
KEY_FILE: Final = "kurum.p12"
PASSPHRASE_FILE: Final = "passphrase.txt"
#: The signature field the Kurum fills; a firm countersigning (the cover letter) adds its own.
SIGNATURE_FIELD: Final = "KurumImzasi"
LOCAL_CA_NAME: Final = "MCKS Yerel Deneme Kök Sertifikası (yalnızca geliştirme)"
LOCAL_SIGNER_NAME: Final = "Elif Şahin"
LOCAL_SIGNER_TITLE: Final = "Tüketici ile İlişkiler Uzmanı"
LOCAL_ORGANISATION: Final = "Bilgi Teknolojileri ve Haberleşme Kurumu"

#: Crockford's base32 without I L O U: nothing to misread when typed from paper.
_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_GROUPS: Final = 3
_CODE_GROUP_LENGTH: Final = 4  # 12 characters, 60 random bits


@dataclass(frozen=True, slots=True)
class SigningKey:
    """Where the key is; picklable, so it travels to a PDF worker process with the HTML."""

    path: str
    passphrase: str
    # A replaced key file (renewed certificate) is loaded afresh by the workers.
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class SignRequest:
    """What a PDF worker needs to sign a document it rendered."""

    key: SigningKey
    reason: str
    signer_name: str


@dataclass(frozen=True, slots=True)
class Signatory:
    """Who signs, as printed under a document."""

    name: str
    title: str
    certificate_subject: str
    not_valid_after: datetime


def new_verification_code() -> str:
    """A code printed on each signed document: ``K7QM-3XPA-9D2F`` (60 random bits)."""
    groups = (
        "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUP_LENGTH))
        for _ in range(_CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_code(text: str) -> str:
    """What a person types → the stored form: case, spaces and dashes do not matter, and the
    letters Crockford's alphabet leaves out read as the digits they look like."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    size = _CODE_GROUP_LENGTH
    return "-".join(cleaned[i : i + size] for i in range(0, len(cleaned), size))


# --- the local CA (development and tests) ----------------------------------------------------


def local_signing_dir(settings: Settings) -> Path:
    return settings.storage_dir.parent / "signing"


def _name(common_name: str, title: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, LOCAL_ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    return x509.Name(attributes)


def _write_local_ca(directory: Path) -> None:
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(LOCAL_CA_NAME))
        .issuer_name(_name(LOCAL_CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(LOCAL_SIGNER_NAME, LOCAL_SIGNER_TITLE))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # digitalSignature + nonRepudiation: what PAdES validators look for on a signer.
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(24)
    bundle = pkcs12.serialize_key_and_certificates(
        b"MCKS Kurum",
        key,
        certificate,
        [ca],
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    (directory / CA_FILE).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / KEY_FILE).write_bytes(bundle)
    (directory / PASSPHRASE_FILE).write_text(passphrase + "\n", encoding="utf-8")
    for name in (KEY_FILE, PASSPHRASE_FILE):
        os.chmod(directory / name, 0o600)


def ensure_local_ca(directory: Path) -> tuple[Path, str]:
    """The local key (made now if missing): its path and passphrase. Several processes may
    start at once: each builds in a temporary directory and the first rename wins."""
    key_path = directory / KEY_FILE
    if not key_path.is_file():
        directory.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".signing-", dir=directory.parent))
        try:
            _write_local_ca(building)
            try:
                building.rename(directory)
                log.warning(
                    "made a local CA and signing certificate in %s (development only: set "
                    "MCKS_SIGNING_KEY_FILE for a real one); validators trust %s",
                    directory,
                    directory / CA_FILE,
                )
            except OSError:
                pass  # another process was first: use its key
        finally:
            shutil.rmtree(building, ignore_errors=True)
    passphrase = (directory / PASSPHRASE_FILE).read_text(encoding="utf-8").strip()
    return key_path, passphrase


def signing_key(settings: Settings | None = None) -> SigningKey:
    """The configured key, or outside production the local one."""
    settings = settings or get_settings()
    if settings.signing_key_file is not None:
        path, passphrase = settings.signing_key_file, settings.signing_key_passphrase
    elif settings.env == "production":
        raise SettingsError("MCKS_SIGNING_KEY_FILE is required in production")
    else:
        path, passphrase = ensure_local_ca(local_signing_dir(settings))
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"MCKS_SIGNING_KEY_FILE {str(path)!r} cannot be read: {exc}") from exc
    return SigningKey(str(path.resolve()), passphrase, mtime_ns)


# --- reading and using the key ---------------------------------------------------------------


class _KeptKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again for every signature, twice per
    PDF (a dry run sizes the signature); cryptography checks an RSA key as it parses it,
    ~0.2 s a time. This signer parses it once and keeps it."""

    def __init__(self, loaded: signers.SimpleSigner) -> None:
        super().__init__(
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
        )
        self._key = serialization.load_der_private_key(loaded.signing_key.dump(), None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(digest))
        return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA, …: pyHanko's own way


@lru_cache(maxsize=4)
def _load(key: SigningKey) -> tuple[signers.SimpleSigner, x509.Certificate]:
    data = Path(key.path).read_bytes()
    try:
        _, certificate, _ = pkcs12.load_key_and_certificates(data, key.passphrase.encode())
        signer = _KeptKeySigner(
            signers.SimpleSigner.load_pkcs12_data(
                data, other_certs=set(), passphrase=key.passphrase.encode()
            )
        )
    except ValueError as exc:
        raise SettingsError(
            f"the signing key {key.path!r} cannot be opened: wrong "
            "MCKS_SIGNING_KEY_PASSPHRASE, or not a PKCS#12 file"
        ) from exc
    if certificate is None:
        raise SettingsError(f"the signing key {key.path!r} holds no certificate")
    return signer, certificate


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    found = name.get_attributes_for_oid(oid)
    return str(found[0].value) if found else ""


def signatory(key: SigningKey | None = None, settings: Settings | None = None) -> Signatory:
    """Who the documents name as signing: the settings' name and title, else the
    certificate's own (a personal e-signature certificate carries both)."""
    settings = settings or get_settings()
    _, certificate = _load(key or signing_key(settings))
    subject = certificate.subject
    return Signatory(
        name=settings.signatory_name or _attribute(subject, NameOID.COMMON_NAME),
        title=settings.signatory_title or _attribute(subject, NameOID.TITLE),
        certificate_subject=subject.rfc4514_string(),
        not_valid_after=certificate.not_valid_after_utc,
    )


def check_signing_key(settings: Settings | None = None) -> Signatory:
    """At start-up: the key opens and its certificate is valid now, else a clear refusal."""
    settings = settings or get_settings()
    key = signing_key(settings)
    found = signatory(key, settings)
    _, certificate = _load(key)
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SettingsError(
            f"the signing certificate {found.certificate_subject} is valid from "
            f"{certificate.not_valid_before_utc:%Y-%m-%d} to {found.not_valid_after:%Y-%m-%d}, "
            "not now: renew MCKS_SIGNING_KEY_FILE"
        )
    return found


def sign_pdf_sync(pdf: bytes, request: SignRequest) -> bytes:
    """The PDF with the Kurum's PAdES signature appended (an incremental update, so the
    signed bytes are exactly the rendered ones). An approval signature, not a certification:
    the firm may countersign (the cover letter)."""
    signer, _ = _load(request.key)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=request.reason,
        location="MCKS",
        name=request.signer_name or None,
    )
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()
