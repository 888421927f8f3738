"""Firms' authorised signers (Tebliğ art. 8(1)): the certificates the Kurum registered for
the people who sign a firm's applications.

Art. 8(1) hands each firm's authorised person a certificate against a signed record; a
document the firm e-signs is accepted only when a signer registered for that firm signed it.
Staff register a signer one of three ways (`SignerMatch`): the signer's certificate itself
(matched by its SHA-256), or the certificate authority plus the signer's certificate serial
number or identity number (the subject's serialNumber, as Turkish qualified certificates
carry the T.C. kimlik no) — a renewed certificate of the same person then still matches.
A registration is never deleted: revoking it keeps who registered and who revoked it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.labels import register


class SignerMatch(StrEnum):
    CERTIFICATE = "CERTIFICATE"
    CA_SERIAL = "CA_SERIAL"
    CA_IDENTITY = "CA_IDENTITY"


register(
    SignerMatch,
    {
        "CERTIFICATE": ("İmzalayanın sertifikası", "The signer's certificate"),
        "CA_SERIAL": (
            "Sertifika hizmet sağlayıcısı ve sertifika seri numarası",
            "Certificate authority and certificate serial number",
        ),
        "CA_IDENTITY": (
            "Sertifika hizmet sağlayıcısı ve kimlik numarası",
            "Certificate authority and identity number",
        ),
    },
)


class FirmSigner(Model):
    id = fields.IntField(primary_key=True)
    firm_id = fields.IntField(db_index=True)
    name = fields.CharField(max_length=255)
    title = fields.CharField(max_length=255, default="")  # unvan
    match = fields.CharEnumField(SignerMatch, max_length=16)
    # The uploaded certificate, PEM: the signer's (CERTIFICATE) or the CA's (CA_*).
    certificate_pem = fields.TextField()
    certificate_sha256 = fields.CharField(max_length=64, db_index=True)
    # CA_*: SHA-256 of the CA's subject name (DER), the issuer a signer's certificate names.
    # A signature finds its registrations by certificate, serial or identity number (indexed
    # each: one provider's CA may stand behind thousands of registrations).
    ca_subject_sha256 = fields.CharField(max_length=64, null=True)
    serial_number = fields.CharField(max_length=64, null=True, db_index=True)  # decimal
    identity_number = fields.CharField(max_length=64, null=True, db_index=True)
    subject = fields.CharField(max_length=512, default="")
    issuer = fields.CharField(max_length=512, default="")
    not_after = fields.DatetimeField(null=True)
    active = fields.BooleanField(default=True)
    registered_by = fields.CharField(max_length=255)
    registered_at = fields.DatetimeField()
    revoked_by = fields.CharField(max_length=255, null=True)
    revoked_at = fields.DatetimeField(null=True)
    revoke_reason = fields.TextField(default="")

    class Meta:
        table = "firm_signer"
