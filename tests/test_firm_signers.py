"""Firms' authorised signers (Tebliğ art. 8(1)): staff admins register each firm's signers'
certificates; an e-signed document a firm uploads is accepted only when one of that firm's
registered signers signed it, and the document says who. Production starts only with trust
roots, or with integrity-only checking said explicitly."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from models import clock
from models.audit import AuditEvent
from models.documents import ApplicationDocument, DocumentKind
from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import Settings, SettingsError
from tests.support.after import multipart
from tests.support.api import gql, login, make_world
from tests.support.signing import TestCa
from tests.support.uploads import upload
from tests.support.workflow import CHOOSE, UPLOAD_SIGNED, download, pdf_workers, step
from tests.test_application_analysis import seed_registry
from tests.test_workflow_access import GOOD, analysed

__all__ = ["pdf_workers"]
pytestmark = pytest.mark.usefixtures("pdf_workers")

REGISTER = """mutation($input: RegisterFirmSignerInput!, $certificate: Upload, $caCertificate: Upload) {
  registerFirmSigner(input: $input, certificate: $certificate, caCertificate: $caCertificate) {
    signer { id firmId name title match matchLabel serialNumber identityNumber active registeredBy }
    errors { code field message }
  }
}"""
REVOKE = """mutation($id: Int!, $reason: String!) {
  revokeFirmSigner(signerId: $id, reason: $reason) { signer { active revokeReason } errors { code field } }
}"""
SIGNERS = """query($firmId: Int, $revoked: Boolean) {
  firmSigners(firmId: $firmId, includeRevoked: $revoked) { items { id firmId name active } totalCount }
}"""
DOCUMENTS = """query($id: Int!) {
  applicationWorkflow(applicationId: $id) { signerName documents { kind signerId signerName } }
}"""


async def register(client, token, firm_id: int, files: dict[str, bytes], **fields):
    body = await multipart(
        client,
        token,
        REGISTER,
        {"input": {"firmId": firm_id, **fields}},
        {name: (f"{name}.pem", content) for name, content in files.items()},
    )
    assert "errors" not in body, body
    return body["data"]["registerFirmSigner"]


@pytest.fixture
async def world(db):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    world = await make_world()
    await seed_registry()
    return world


async def signing_step(client) -> tuple[int, str, bytes]:
    """Firm A's application waiting for its e-signed document, and that document."""
    application_id, user = await analysed(client, GOOD)
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "E_SIGNATURE"}, user)
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    return application_id, user, form


async def upload_signed(client, user: str, application_id: int, signed: bytes):
    body = await upload(client, user, application_id, signed, "imzali.pdf", query=UPLOAD_SIGNED)
    return body["data"]["uploadSignedApplication"]


async def test_only_a_signer_registered_for_the_firm_signs_its_application(client, world):
    admin = await login(client, "staff.admin")
    ayse = TestCa.create(signer_name="Ayşe Yılmaz")
    other_firms = TestCa.create("Başka Sağlayıcı", "Mehmet Öztürk")
    stranger = TestCa.create(signer_name="Can Demir")

    registered = await register(
        client, admin, world.firm_a.id, {"certificate": ayse.signer_pem()}, title="Genel Müdür"
    )
    assert registered["errors"] == []
    signer = registered["signer"]
    assert (signer["name"], signer["title"], signer["match"], signer["active"]) == (
        "Ayşe Yılmaz",  # the certificate's common name when no name is given
        "Genel Müdür",
        "CERTIFICATE",
        True,
    )
    assert signer["registeredBy"] == "staff.admin"
    event = await AuditEvent.get(action="firm_signer.registered")
    assert event.firm_id == world.firm_a.id and event.details["title"] == "Genel Müdür"
    b_signer = await register(
        client, admin, world.firm_b.id, {"certificate": other_firms.signer_pem()}
    )
    assert b_signer["errors"] == []
    # The same certificate cannot serve a second firm.
    again = await register(client, admin, world.firm_b.id, {"certificate": ayse.signer_pem()})
    assert [e["field"] for e in again["errors"]] == ["certificate"]
    assert "başka bir firmaya zaten kayıtlı" in again["errors"][0]["message"]

    # A firm sees its own signers only.
    a_user, b_user = await login(client, "a.user"), await login(client, "b.user")
    seen = (await gql(client, SIGNERS, {}, token=a_user))["data"]["firmSigners"]
    assert [s["name"] for s in seen["items"]] == ["Ayşe Yılmaz"]
    peek = await gql(client, SIGNERS, {"firmId": world.firm_a.id}, token=b_user)
    assert [s["name"] for s in peek["data"]["firmSigners"]["items"]] == []

    application_id, user, form = await signing_step(client)
    by_stranger = await upload_signed(client, user, application_id, await stranger.sign(form))
    [error] = by_stranger["errors"]
    assert (error["code"], error["field"]) == ("SIGNER_NOT_REGISTERED", "file")
    assert "Can Demir" in error["message"] and "kayıtlı imza yetkililerinden" in error["message"]
    by_other_firm = await upload_signed(client, user, application_id, await other_firms.sign(form))
    [error] = by_other_firm["errors"]
    assert error["code"] == "SIGNER_OF_ANOTHER_FIRM"
    assert "Mehmet Öztürk" in error["message"] and "başka bir firmanın" in error["message"]
    assert "Kıbrıs" not in error["message"]  # the other firm is not named
    # A co-signature by a stranger after the registered signer's is refused too.
    cosigned = await stranger.sign(await ayse.sign(form), field="IkinciImza")
    assert [
        e["code"] for e in (await upload_signed(client, user, application_id, cosigned))["errors"]
    ] == ["SIGNER_NOT_REGISTERED"]

    accepted = await upload_signed(client, user, application_id, await ayse.sign(form))

    assert accepted["errors"] == []
    assert accepted["application"]["status"] == "UNDER_REVIEW"
    view = (await gql(client, DOCUMENTS, {"id": application_id}, token=user))["data"]
    signed_doc = next(
        d for d in view["applicationWorkflow"]["documents"] if d["kind"] == "SIGNED_APPLICATION"
    )
    assert signed_doc == {
        "kind": "SIGNED_APPLICATION",
        "signerId": signer["id"],
        "signerName": "Ayşe Yılmaz",
    }
    uploaded = await AuditEvent.get(action="application.upload_signed_document")
    assert uploaded.details["signerId"] == signer["id"]


async def test_a_ca_with_the_signers_identity_or_serial_number_and_revocation(client, world):
    admin = await login(client, "staff.admin")
    provider = TestCa.create(signer_name="Ayşe Yılmaz", identity="TCKTR-12345678901")
    renewed = provider.issue("Ayşe Yılmaz", identity="TCKTR-12345678901")
    namesake = provider.issue("Ayşe Yılmaz", identity="TCKTR-10987654321")
    colleague = provider.issue("Ali Kaya")

    by_identity = await register(
        client,
        admin,
        world.firm_a.id,
        {"caCertificate": provider.ca_pem()},
        name="Ayşe Yılmaz",
        identityNumber="12345678901",
    )
    assert by_identity["errors"] == []
    assert by_identity["signer"]["match"] == "CA_IDENTITY"
    serial_hex = format(colleague.signer.serial_number, "x")
    serial_hex = ":".join(serial_hex[i : i + 2] for i in range(0, len(serial_hex), 2))
    by_serial = await register(
        client,
        admin,
        world.firm_a.id,
        {"caCertificate": provider.ca_pem()},
        name="Ali Kaya",
        serialNumber=serial_hex,  # as a certificate viewer shows it
    )
    assert by_serial["errors"] == []
    assert by_serial["signer"]["serialNumber"] == str(colleague.signer.serial_number)

    application_id, user, form = await signing_step(client)
    refused = await upload_signed(client, user, application_id, await namesake.sign(form))
    assert [e["code"] for e in refused["errors"]] == ["SIGNER_NOT_REGISTERED"]
    # A certificate of another CA with the same identity number is not the registered one.
    lookalike = TestCa.create(signer_name="Ayşe Yılmaz", identity="TCKTR-12345678901")
    refused = await upload_signed(client, user, application_id, await lookalike.sign(form))
    assert [e["code"] for e in refused["errors"]] == ["SIGNER_NOT_REGISTERED"]

    # Revoked: refused from now on.
    revoked = await gql(
        client,
        REVOKE,
        {"id": by_identity["signer"]["id"], "reason": "Görevden ayrıldı"},
        token=admin,
    )
    assert revoked["data"]["revokeFirmSigner"] == {
        "signer": {"active": False, "revokeReason": "Görevden ayrıldı"},
        "errors": [],
    }
    assert await AuditEvent.exists(action="firm_signer.revoked")
    refused = await upload_signed(client, user, application_id, await renewed.sign(form))
    assert [e["code"] for e in refused["errors"]] == ["SIGNER_NOT_REGISTERED"]
    listed = await gql(client, SIGNERS, {"revoked": True}, token=user)
    assert listed["data"]["firmSigners"]["totalCount"] == 2

    accepted = await upload_signed(client, user, application_id, await colleague.sign(form))
    assert accepted["errors"] == []
    document = await ApplicationDocument.get(kind=DocumentKind.SIGNED_APPLICATION)
    assert (document.signer_id, document.signer_name) == (by_serial["signer"]["id"], "Ali Kaya")


async def test_a_registration_says_what_is_wrong_with_it(client, world):
    admin = await login(client, "staff.admin")
    ca = TestCa.create()

    async def problem(files: dict[str, bytes], **fields) -> tuple[str, str]:
        [error] = (await register(client, admin, world.firm_a.id, files, **fields))["errors"]
        return error["field"], error["message"]

    both = {"certificate": ca.signer_pem(), "caCertificate": ca.ca_pem()}
    assert (await problem(both))[0] == "certificate"
    assert (await problem({}))[0] == "certificate"
    field, message = await problem({"certificate": b"not a certificate"})
    assert field == "certificate" and "X.509" in message
    field, message = await problem({"certificate": ca.ca_pem()})
    assert field == "certificate" and "CA sertifikası" in message
    field, message = await problem({"caCertificate": ca.signer_pem()}, serialNumber="12")
    assert field == "caCertificate" and "CA sertifikası değil" in message
    field, message = await problem({"caCertificate": ca.ca_pem()})
    assert field == "serialNumber" and "kimlik" in message
    field, _ = await problem({"certificate": ca.signer_pem()}, identityNumber="1")
    assert field == "serialNumber"
    body = await multipart(
        client,
        admin,
        REGISTER,
        {"input": {"firmId": 999999}},
        {"certificate": ("c.pem", ca.signer_pem())},
    )
    assert [e["code"] for e in body["data"]["registerFirmSigner"]["errors"]] == ["NOT_FOUND"]
    assert not await AuditEvent.exists(action="firm_signer.registered")


def _production(monkeypatch, **variables: str) -> Settings:
    # A file stands for the Kurum's signing key: production's other rule, judged apart.
    monkeypatch.setattr(
        os,
        "environ",
        {
            "MCKS_ENV": "production",
            "MCKS_SECRET_KEY": "s" * 32,
            "MCKS_SIGNING_KEY_FILE": __file__,
            **variables,
        },
    )
    return Settings.from_env()


def test_production_refuses_to_start_without_trust_roots_unless_told(monkeypatch, tmp_path):
    with pytest.raises(SettingsError, match="MCKS_SIGNATURE_TRUST_ROOTS is required"):
        _production(monkeypatch)
    explicit = _production(monkeypatch, MCKS_SIGNATURE_INTEGRITY_ONLY="true")
    assert explicit.signature_integrity_only and explicit.signature_trust_roots is None
    with pytest.raises(SettingsError, match="not a directory"):
        _production(monkeypatch, MCKS_SIGNATURE_TRUST_ROOTS=str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SettingsError, match="holds no certificate"):
        _production(monkeypatch, MCKS_SIGNATURE_TRUST_ROOTS=str(empty))
    roots = tmp_path / "roots"
    TestCa.create().write_root(roots)
    assert _production(
        monkeypatch, MCKS_SIGNATURE_TRUST_ROOTS=str(roots)
    ).signature_trust_roots == Path(roots)
    with pytest.raises(SettingsError, match="not both"):
        _production(
            monkeypatch, MCKS_SIGNATURE_TRUST_ROOTS=str(roots), MCKS_SIGNATURE_INTEGRITY_ONLY="1"
        )
    # Development (make run) and tests keep checking integrity only, without a setting.
    monkeypatch.setattr(os, "environ", {"MCKS_ENV": "development"})
    assert Settings.from_env().signature_trust_roots is None


async def test_the_kurums_own_signature_on_an_issued_document_is_not_the_firms(world):
    """A document the Kurum issued signed (a cover letter) comes back with the firm's
    signature added: only the added one is matched against the firm's signers."""
    from reportlab.pdfgen import canvas

    from resolvers.workflow.signatures import verify_signed_pdf

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 100, "Kapak yazısı")
    page.save()
    kurum = TestCa.create("Kurum Test Kök Sertifikası", "Bilgi Teknolojileri ve İletişim Kurumu")
    issued = await kurum.sign(buffer.getvalue(), field="KurumImzasi")
    ayse = TestCa.create(signer_name="Ayşe Yılmaz")
    signer_id = await ayse.register_for(world.firm_a.id)

    with pytest.raises(DomainError) as unsigned:
        await verify_signed_pdf(
            issued, issued, "kapak yazısı", "cover letter", firm_id=world.firm_a.id
        )
    assert unsigned.value.code == ErrorCode.SIGNATURE_MISSING
    check = await verify_signed_pdf(
        await ayse.sign(issued), issued, "kapak yazısı", "cover letter", firm_id=world.firm_a.id
    )
    assert check.signers == ("Ayşe Yılmaz",) and check.registered.id == signer_id
    with pytest.raises(DomainError) as elsewhere:
        await verify_signed_pdf(
            await ayse.sign(issued), issued, "kapak yazısı", "cover letter", firm_id=world.firm_b.id
        )
    assert elsewhere.value.code == ErrorCode.SIGNER_OF_ANOTHER_FIRM
