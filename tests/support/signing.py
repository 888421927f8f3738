"""A test certificate authority and e-signatures made with pyHanko, as a firm's signing
tool would make them (an incremental update that appends a PAdES signature)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from models.applications import Application
from models.roles import Role
from resolvers.accounts import signers as firm_signers
from resolvers.actor import Actor

REGISTRAR = Actor(kind="USER", role=Role.STAFF_ADMIN, id=None, name="test-admin")


def _name(common_name: str, identity: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if identity is not None:  # as Turkish qualified certificates carry the T.C. kimlik no
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, identity))
    return x509.Name(attributes)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass
class TestCa:
    """A CA and one signer certificate it issued (an e-signature holder)."""

    __test__ = False  # not a test class, despite the name

    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    signer: x509.Certificate

    @staticmethod
    def create(
        ca_name: str = "Test Elektronik Sertifika Hizmet Sağlayıcısı",
        signer_name: str = "Ayşe Yılmaz",
        identity: str | None = None,
    ) -> TestCa:
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name(ca_name))
            .issuer_name(_name(ca_name))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        signer_key = ec.generate_private_key(ec.SECP256R1())
        signer = (
            x509.CertificateBuilder()
            .subject_name(_name(signer_name, identity))
            .issuer_name(ca.subject)
            .public_key(signer_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        return TestCa(ca_key, ca, signer_key, signer)

    def issue(self, signer_name: str, identity: str | None = None) -> TestCa:
        """Another signer certificate of the same CA (a colleague, or a renewal)."""
        created = TestCa.create(signer_name=signer_name, identity=identity)
        now = datetime.now(UTC)
        signer = (
            x509.CertificateBuilder()
            .subject_name(_name(signer_name, identity))
            .issuer_name(self.ca.subject)
            .public_key(created.signer_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.ca_key, hashes.SHA256())
        )
        return TestCa(self.ca_key, self.ca, created.signer_key, signer)

    def signer_pem(self) -> bytes:
        return self.signer.public_bytes(serialization.Encoding.PEM)

    def ca_pem(self) -> bytes:
        return self.ca.public_bytes(serialization.Encoding.PEM)

    async def register_for(self, firm_id: int) -> int:
        """Staff register this signer's certificate for the firm (art. 8(1)); its id."""
        signer = await firm_signers.register_signer(
            REGISTRAR, firm_signers.SignerInput(firm_id=firm_id), certificate=self.signer_pem()
        )
        return signer.id

    def write_root(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "root.pem"
        path.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        return path

    def _pyhanko_signer(self) -> signers.SimpleSigner:
        key_der = self.signer_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return signers.SimpleSigner(
            signing_cert=_asn1(self.signer),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs([_asn1(self.ca)]),
        )

    async def sign(self, pdf: bytes, field: str = "FirmaImzasi") -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = await signers.async_sign_pdf(
            writer,
            signers.PdfSignatureMetadata(field_name=field, reason="MCKS başvurusu"),
            signer=self._pyhanko_signer(),
        )
        return out.getvalue()


async def sign_as_firm(application_id: int, pdf: bytes) -> bytes:
    """The application's firm e-signs `pdf` with a signer staff registered for it."""
    application = await Application.get(id=application_id)
    ca = TestCa.create()
    await ca.register_for(application.firm_id)
    return await ca.sign(pdf)


def tamper(signed: bytes) -> bytes:
    """Flip one byte inside the signed range (the first object), as a forger would."""
    at = signed.index(b"obj") + 10
    return signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]


def append_content(signed: bytes) -> bytes:
    """Add an incremental update after the signature that changes the document."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    writer.root["/Eklenti"] = generic.NameObject("/Sonradan")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
