"""What the Kurum issues it signs (guide §5 "elektronik imzalı"): the fee notice, the permit,
the cover letter it prepares and its decision letters carry a PAdES signature that pyHanko
validates against the demo CA, a verification code anyone can check, and the signatory; the
mails announcing the fee notice and the permit carry the signed PDF (a real SMTP conversation
on loopback). The documents read like a regulator's: Ek-1 with the firm's contacts, its
signatory and a stamp box, the origin country by name; the fee notice with the Kurum's bank
accounts, the deadline and the number to quote; long text wraps inside its table cell."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from integrations.mail.simulator import serve_simulator
from models import clock
from models.accounts import Firm
from models.applications import Application
from models.documents import IssuedDocument, IssuedKind
from models.tac import TacModel
from resolvers import jobs
from resolvers.actor import Actor
from resolvers.after import letters
from resolvers.documents.pdf import FONT_DIR
from resolvers.documents.seal import (
    CA_FILE,
    SignRequest,
    check_signing_key,
    local_signing_dir,
    sign_pdf_sync,
    signing_key,
)
from resolvers.files import read_bytes
from resolvers.settings import Settings, SettingsError, configure, get_settings
from resolvers.workflow import notifications
from tests.support.api import gql, login, make_world
from tests.support.signing import TestCa, sign_as_firm, tamper
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    PAY,
    TAKE,
    UPLOAD_COVER,
    UPLOAD_CUSTOMS,
    UPLOAD_SIGNED,
    attach_documents,
    deliver_mail,
    download,
    pdf_text,
    pdf_workers,
    plain_pdf,
    step,
)
from tests.test_application_analysis import APPLE, SUBMIT, TO_ANALYSIS, create_draft, seed_registry
from tests.test_mail_outbox import smtp_settings
from tests.test_workflow_import import set_fees

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONTACT = "firma@example.com"
LONG_TAC = "35999901"
LONG_MODEL = "SM-S928BZKHEUB-KURUMSAL-SURUM-2026-CIFT-SIM-512GB-TITANYUM-GRI"
UPDATE_FIRM = """mutation($input: UpdateFirmInput!) {
  updateFirm(input: $input) { firm { address phone signatoryName signatoryTitle } errors { code field message } }
}"""
VERIFY = """query($code: String!) { verifyDocument(code: $code) {
  code valid kind kindLabel number firmName issuedAt signatoryName signatoryTitle sha256 } }"""
CODE_RE = re.compile(r"Doğrulama kodu: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


# --- what a validator does ---------------------------------------------------------------------


def demo_ca() -> list[asn1_x509.Certificate]:
    data = (local_signing_dir(get_settings()) / CA_FILE).read_bytes()
    return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, True)]


async def validate(pdf: bytes, roots: list[asn1_x509.Certificate]):  # type: ignore[no-untyped-def]
    """pyHanko, offline, against the given roots: the status of each signature."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    return [await async_validate_pdf_signature(s, context) for s in reader.embedded_signatures]


async def assert_signed_by_the_kurum(pdf: bytes) -> None:
    [status] = await validate(pdf, demo_ca())
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.bottom_line
    assert status.signing_cert.subject.native["common_name"] == "Elif Şahin"
    # PAdES, not the older adbe.pkcs7.detached.
    sig = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def code_of(pdf: bytes) -> str:
    found = CODE_RE.search(pdf_text(pdf))
    assert found, "no verification code on the document"
    return found.group(1)


def words(text: str) -> str:
    """Extracted text as one line of words: a wrapped line reads as the sentence it is."""
    return " ".join(text.split())


def flat(text: str) -> str:
    """Extracted text with the line breaks a wrapped cell adds taken out."""
    return text.replace("\n", "")


_FACES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}


def _face(font: object) -> str:
    """The measuring face for a run: the document's bold or regular DejaVu (obliques are as
    wide as their uprights)."""
    base = str(font.get("/BaseFont", "")) if hasattr(font, "get") else ""
    face = "bold" if "Bold" in base else "regular"
    name = f"MCKS-Test-{face}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / _FACES[face])))
    return name


def assert_nothing_runs_off_the_page(pdf: bytes) -> None:
    """Every run of text ends inside the 2 cm side margins, measured with its own face."""
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):
        right = float(page.mediabox.width) - 56.69 + 1.0  # 2 cm margin, 1 pt slack
        runs: list[tuple[float, float, str, str]] = []

        def visit(text, cm, tm, font, size, runs=runs):  # type: ignore[no-untyped-def]
            if text.strip():
                x = tm[4] * cm[0] + cm[4]
                scale = abs(tm[0] * cm[0]) or 1.0
                runs.append((x, size * scale, text.strip("\n"), _face(font)))

        page.extract_text(visitor_text=visit)
        assert runs, f"page {number} has no text"
        for x, size, text, face in runs:
            end = x + pdfmetrics.stringWidth(text, face, size)
            assert end <= right, f"page {number}: {text!r} ends at {end:.0f} pt > {right:.0f}"


# --- the scenario ------------------------------------------------------------------------------


async def e_signed_under_review(client) -> tuple[int, str, bytes]:  # type: ignore[no-untyped-def]
    """Firm A's import (two phones, one with a very long model code) e-signed by the firm."""
    now = clock.now()
    await TacModel.create(
        tac=LONG_TAC,
        brand="SAMSUNG",
        model_code=LONG_MODEL,
        imei_count=1,
        created_at=now,
        updated_at=now,
    )
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    application_id = await create_draft(client, user)
    rows = [
        ("APPLE", "A2403", imei(APPLE + "300001"), imei(APPLE + "300002")),
        ("SAMSUNG", LONG_MODEL, imei(LONG_TAC + "300003")),
    ]
    assert (await upload(client, user, application_id, xlsx(rows)))["data"]["uploadDeviceList"][
        "errors"
    ] == []
    await attach_documents(client, user, application_id)
    await step(client, SUBMIT, {"id": application_id}, user)
    await step(client, TO_ANALYSIS, {"id": application_id}, supervisor)
    await jobs.drain()
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "E_SIGNATURE"}, user)
    form = (await download(client, user, chosen["workflow"]["applicationForm"])).content
    signed = await sign_as_firm(application_id, form)  # by a signer registered for the firm
    uploaded = await upload(client, user, application_id, signed, "imzali.pdf", query=UPLOAD_SIGNED)
    assert uploaded["data"]["uploadSignedApplication"]["errors"] == [], uploaded
    return application_id, user, form


@pytest.fixture
def smtp_reset():  # type: ignore[no-untyped-def]
    yield
    notifications.use_mailer(None)  # not the loopback server's client, gone with the test


async def test_the_kurum_signs_what_it_issues_and_mails_it_signed(
    client, settings, tmp_path, smtp_reset
):
    clock.freeze(NOW)
    world = await make_world()
    await seed_registry()
    await set_fees(client)
    admin = await login(client, "staff.admin")
    reviewer, archive = await login(client, "staff.reviewer"), await login(client, "staff.archive")
    firm = await step(
        client,
        UPDATE_FIRM,
        {
            "input": {
                "firmId": world.firm_a.id,
                "address": "Organize Sanayi Bölgesi 3. Cadde No: 12, Lefkoşa",
                "phone": "+90 392 600 10 20",
                "signatoryName": "Mehmet Öztürk",
                "signatoryTitle": "Genel Müdür",
            }
        },
        admin,
    )
    assert firm["firm"]["signatoryTitle"] == "Genel Müdür"
    bad = await gql(
        client,
        UPDATE_FIRM,
        {"input": {"firmId": world.firm_a.id, "phone": "bizi arayın"}},
        token=admin,
    )
    assert [e["field"] for e in bad["data"]["updateFirm"]["errors"]] == ["phone"]

    async with serve_simulator() as server:
        smtp_settings(settings, server.host, server.port)
        application_id, user, form = await e_signed_under_review(client)

        # Ek-1: contacts, the signatory with title, a stamp box, the country by name; the long
        # model code wraps inside its cell.
        ek1 = words(pdf_text(form))
        for expected in (
            "Adres: Organize Sanayi Bölgesi 3. Cadde No: 12, Lefkoşa",
            "Telefon: +90 392 600 10 20",
            "Adı ve Soyadı: Mehmet Öztürk",
            "Unvanı: Genel Müdür",
            "Firma Kaşesi",
            "menşe ülke: Çin",
        ):
            assert expected in ek1, expected
        assert LONG_MODEL in flat(pdf_text(form))
        assert_nothing_runs_off_the_page(form)
        assert not await validate(form, demo_ca())  # the firm signs the application, not the Kurum

        await step(client, TAKE, {"id": application_id}, reviewer)
        approved = await step(client, APPROVE, {"id": application_id}, reviewer)
        notice = approved["workflow"]["feeNotice"]
        notice_pdf = (await download(client, user, notice["fileId"])).content
        await assert_signed_by_the_kurum(notice_pdf)
        assert_nothing_runs_off_the_page(notice_pdf)
        text = words(pdf_text(notice_pdf))
        for expected in (
            "Kooperatif Merkez Bankası",
            "TR33 0006 1005 1978 6457 8413 26",
            "TR04 0020 5000 0093 1234 5600 01",
            "Son ödeme tarihi: 23.12.2026",  # 30 days (MCKS_FEE_PAYMENT_DAYS)
            f"Ödemede belirtilecek bildirim numarası: {notice['number']}",
            "Elektronik imzalıdır",
            "Elif Şahin",
            "Tüketici ile İlişkiler Uzmanı",
        ):
            assert expected in text, expected
        assert LONG_MODEL in flat(pdf_text(notice_pdf))

        # Anyone holding the paper verifies its code (typed carelessly) without logging in.
        code = code_of(notice_pdf)
        asked = await gql(client, VERIFY, {"code": code.lower().replace("-", " ")})
        verified = asked["data"]["verifyDocument"]
        assert verified["valid"] and verified["code"] == code
        assert (verified["kind"], verified["number"]) == ("FEE_NOTICE", notice["number"])
        assert verified["kindLabel"] == "Kayıt ücreti bildirimi"
        assert verified["firmName"] == "Anadolu Mobil A.Ş."
        assert verified["sha256"] == hashlib.sha256(notice_pdf).hexdigest()
        assert (verified["signatoryName"], verified["signatoryTitle"]) == (
            "Elif Şahin",
            "Tüketici ile İlişkiler Uzmanı",
        )
        unknown = await gql(client, VERIFY, {"code": "AAAA-BBBB-CCCC"})
        assert unknown["data"]["verifyDocument"] == {
            **dict.fromkeys(verified, None),
            "code": "AAAA-BBBB-CCCC",
            "valid": False,
        }
        by_url = await client.get(f"/documents/verify/{code}")
        assert by_url.status_code == 200 and by_url.json()["number"] == notice["number"]
        assert (await client.get("/documents/verify/AAAA-BBBB-CCCC")).status_code == 404

        # The fee notice's mail carries the signed notice, byte for byte.
        await deliver_mail()
        [notice_mail] = [m for m in server.mailbox.to(CONTACT) if m.attachments]
        [(name, content_type, attached)] = notice_mail.attachments
        assert name.startswith("ucret-bildirimi-") and content_type == "application/pdf"
        assert attached == notice_pdf
        assert "son ödeme tarihi 23.12.2026" in notice_mail.text
        assert all(not m.attachments for m in server.mailbox.received if m is not notice_mail)
        assert "elektronik imzalı ücret bildirimi ektedir" in notice_mail.text
        server.mailbox.clear()

        paid = await step(
            client,
            PAY,
            {
                "input": {
                    "applicationId": application_id,
                    "method": "CARD_AT_OFFICE",
                    "amount": "45.00",
                }
            },
            archive,
        )
        permit_pdf = (await download(client, user, paid["workflow"]["permit"])).content
        await assert_signed_by_the_kurum(permit_pdf)
        assert_nothing_runs_off_the_page(permit_pdf)
        assert "İthal İzin Belgesi" in pdf_text(permit_pdf)
        await deliver_mail()
        [permit_mail] = server.mailbox.to(CONTACT)
        assert permit_mail.attachments[0][2] == permit_pdf
        assert "ithal izin belgesi" in permit_mail.text

        # The cover letter MCKS prepares is signed by the Kurum first; its SHA-256 wraps in
        # its cell. Uploading it back without the firm's own signature is no signature.
        customs = await upload(
            client, user, application_id, plain_pdf(), "gumruk.pdf", query=UPLOAD_CUSTOMS
        )
        letter_id = customs["data"]["uploadCustomsDocuments"]["workflow"]["coverLetter"]
        letter = (await download(client, user, letter_id)).content
        await assert_signed_by_the_kurum(letter)
        assert_nothing_runs_off_the_page(letter)
        assert hashlib.sha256(plain_pdf()).hexdigest() in flat(pdf_text(letter))
        assert "Kurum adına Elif Şahin (Tüketici ile İlişkiler Uzmanı)" in words(pdf_text(letter))
        unsigned = await upload(client, user, application_id, letter, "k.pdf", query=UPLOAD_COVER)
        assert [e["code"] for e in unsigned["data"]["uploadSignedCoverLetter"]["errors"]] == [
            "SIGNATURE_MISSING"
        ]
        # With trust roots for firms' certificates only, the Kurum's own signature inside
        # the issued letter is not asked to chain to them; the firm's is.
        firm_ca, roots = TestCa.create(), tmp_path / "roots"
        firm_ca.write_root(roots)
        application = await Application.get(id=application_id)
        await firm_ca.register_for(application.firm_id)  # the firm's registered signer
        configure(replace(get_settings(), signature_trust_roots=roots))
        countersigned = await firm_ca.sign(letter)
        kurum, firm_signature = await validate(countersigned, demo_ca())
        assert kurum.intact and kurum.trusted and firm_signature.intact
        done = await upload(
            client, user, application_id, countersigned, "k.pdf", query=UPLOAD_COVER
        )
        completed = done["data"]["uploadSignedCoverLetter"]
        assert completed["errors"] == [] and completed["application"]["status"] == "COMPLETED"

    kinds = await IssuedDocument.filter(application_id=application_id).values_list(
        "kind", flat=True
    )
    assert sorted(kinds) == sorted(
        [IssuedKind.FEE_NOTICE, IssuedKind.PERMIT, IssuedKind.COVER_LETTER]
    )


async def test_a_tampered_document_or_another_ca_does_not_validate(client):
    clock.freeze(NOW)
    await make_world()
    await seed_registry()
    await set_fees(client)
    application_id, user, _ = await e_signed_under_review(client)
    reviewer = await login(client, "staff.reviewer")
    await step(client, TAKE, {"id": application_id}, reviewer)
    approved = await step(client, APPROVE, {"id": application_id}, reviewer)
    notice_pdf = (await download(client, user, approved["workflow"]["feeNotice"]["fileId"])).content

    [forged] = await validate(tamper(notice_pdf), demo_ca())
    assert not forged.intact and not forged.bottom_line
    stranger = TestCa.create("Başka Bir Kök", "Sahte İmzacı")
    [elsewhere] = await validate(
        notice_pdf,
        [asn1_x509.Certificate.load(stranger.ca.public_bytes(serialization.Encoding.DER))],
    )
    assert elsewhere.intact and not elsewhere.trusted


# --- the key --------------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_signing_key(monkeypatch, tmp_path):
    base = {"MCKS_ENV": "production", "MCKS_SECRET_KEY": "s" * 32}
    monkeypatch.setattr(os, "environ", dict(base))
    with pytest.raises(SettingsError, match="MCKS_SIGNING_KEY_FILE is required in production"):
        Settings.from_env()
    monkeypatch.setattr(os, "environ", {**base, "MCKS_SIGNING_KEY_FILE": str(tmp_path / "yok.p12")})
    with pytest.raises(SettingsError, match="is not a readable file"):
        Settings.from_env()


def test_a_configured_key_is_used_and_a_wrong_passphrase_is_refused(settings, tmp_path):
    ca = TestCa.create("Kamu Sertifikasyon Merkezi", "Ali Veli")
    key_file = tmp_path / "kurum.p12"
    key_file.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"kurum",
            ca.signer_key,
            ca.signer,
            [ca.ca],
            serialization.BestAvailableEncryption(b"dogru-parola"),
        )
    )
    configure(
        replace(
            settings,
            env="production",
            signing_key_file=key_file,
            signing_key_passphrase="dogru-parola",
            signatory_title="Daire Başkanı",
        )
    )
    signer = check_signing_key()
    assert (signer.name, signer.title) == ("Ali Veli", "Daire Başkanı")
    # An EC key (this CA's) signs as well as the local RSA one; the signature chains to it.
    signed = sign_pdf_sync(plain_pdf(), SignRequest(signing_key(), "Deneme", signer.name))
    root = asn1_x509.Certificate.load(ca.ca.public_bytes(serialization.Encoding.DER))
    [status] = asyncio.run(validate(signed, [root]))
    assert status.bottom_line and status.signing_cert.subject.native["common_name"] == "Ali Veli"
    configure(replace(get_settings(), signing_key_passphrase="yanlis"))
    with pytest.raises(SettingsError, match="wrong MCKS_SIGNING_KEY_PASSPHRASE"):
        check_signing_key()


def test_the_local_ca_is_made_once_even_by_processes_starting_together(settings, tmp_path):
    configure(replace(settings, storage_dir=tmp_path / "var" / "files"))

    async def together() -> list[object]:
        return await asyncio.gather(*(asyncio.to_thread(check_signing_key) for _ in range(3)))

    signers = asyncio.run(together())
    assert len({s.certificate_subject for s in signers}) == 1  # type: ignore[attr-defined]
    made = sorted(p.name for p in (tmp_path / "var").iterdir())
    assert made == ["signing"]  # no temporary directory left behind
    assert Path(tmp_path / "var" / "signing" / CA_FILE).is_file()


async def test_a_decision_letter_is_signed_and_verifiable(db, client):
    clock.freeze(NOW)
    world = await make_world()
    firm = await Firm.get(id=world.firm_a.id)
    prepared = await letters.prepare_seal(IssuedKind.CORRECTION_LETTER)
    html = letters.correction_letter_html(
        firm,
        "MCKS-DZ-2026-000001",
        "MCKS-2026-000001",
        NOW,
        [(imei(APPLE + "400001"), imei(APPLE + "400002"), "APPLE", LONG_MODEL)],
        None,
        NOW,
        prepared.seal,
    )
    stored = await letters.issue(
        Actor.system("test"),
        prepared,
        IssuedKind.CORRECTION_LETTER,
        "MCKS-DZ-2026-000001",
        firm.id,
        "duzeltme.pdf",
        html,
    )
    pdf = await read_bytes(stored)
    await assert_signed_by_the_kurum(pdf)
    assert_nothing_runs_off_the_page(pdf)
    assert LONG_MODEL in flat(pdf_text(pdf)) and "Elif Şahin" in pdf_text(pdf)
    verified = (await gql(client, VERIFY, {"code": code_of(pdf)}))["data"]["verifyDocument"]
    assert (verified["kind"], verified["number"]) == ("CORRECTION_LETTER", "MCKS-DZ-2026-000001")
    assert verified["sha256"] == stored.sha256 == hashlib.sha256(pdf).hexdigest()
