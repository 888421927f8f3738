"""An import application from the device list to COMPLETED, over GraphQL and HTTP: failing
rows, documents, supervisor approval, analysis, e-signature, review, fee, payment, whitelist
(asked through the operators' `checkImeis`), import permit, customs documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import clock
from models.audit import AuditEvent
from models.payments import Payment
from models.registry import WhitelistEntry, WhitelistSource
from resolvers import jobs
from tests.support.api import gql, login, make_world
from tests.support.operators import CHECK, make_operator
from tests.support.signing import sign_as_firm
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    PAY,
    SET_FEE,
    TAKE,
    UPLOAD_COVER,
    UPLOAD_CUSTOMS,
    UPLOAD_SIGNED,
    WORKFLOW,
    declare_as_listed,
    deliver_mail,
    download,
    jpeg,
    mailbox,
    pdf_text,
    pdf_workers,
    plain_pdf,
    refused,
    step,
    upload_ce,
    upload_document,
)
from tests.test_application_analysis import (
    APPLE,
    SAMSUNG,
    SUBMIT,
    TO_ANALYSIS,
    create_draft,
    seed_registry,
)

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["mailbox", "pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEADLINES = "{ customsDeadlines { items { application { id } customsDueAt overdue } } }"
DEVICES = "query($id: Int!) { applicationDevices(applicationId: $id, passed: false) { items { rowNumber reasons { code } } } }"


async def set_fees(client) -> None:
    """10,00 TL per IMEI in 2025, 43,79 % revaluation for 2026: 14,379 → 15,00 TL."""
    admin = await login(client, "staff.admin")
    await step(client, SET_FEE, {"input": {"year": 2025, "fee": "10.00"}}, admin)
    await step(client, SET_FEE, {"input": {"year": 2026, "revaluationRate": "0.4379"}}, admin)


async def test_an_import_application_goes_from_the_device_list_to_completed(client, mailbox):
    clock.freeze(NOW)
    world = await make_world()
    ids = await seed_registry()
    await set_fees(client)
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    reviewer, archive = await login(client, "staff.reviewer"), await login(client, "staff.archive")

    # The firm fills the template: four good devices (seven IMEIs) and two failing rows.
    passing = [
        ("APPLE", "A2403", imei(APPLE + "200001"), imei(APPLE + "200002")),
        ("APPLE", "A2403", imei(APPLE + "200003"), imei(APPLE + "200004")),
        ("APPLE", "A2403", imei(APPLE + "200005"), imei(APPLE + "200006")),
        ("SAMSUNG", "SM-G9359", imei(SAMSUNG + "200007")),
    ]
    luhn_broken = (
        SAMSUNG + "2000080" if imei(SAMSUNG + "200008")[-1] != "0" else SAMSUNG + "2000081"
    )
    rows = [
        *passing,
        ("SAMSUNG", "SM-G9359", luhn_broken),
        ("SAMSUNG", "SM-G9359", ids["registered"]),
    ]
    application_id = await create_draft(client, user)
    assert (await upload(client, user, application_id, xlsx(rows)))["data"]["uploadDeviceList"][
        "errors"
    ] == []

    # Incomplete: the declared table, the invoice scan and a CE certificate per model are
    # missing (art. 8(2), 10(2)).
    body = await gql(client, SUBMIT, {"id": application_id}, token=user)
    missing = body["data"]["submitApplication"]["errors"]
    assert {e["field"] for e in missing} == {"declaredDevices", "invoiceScan", "ceCertificates"}
    assert sum("SAMSUNG SM-G9359 için CE belgesi" in e["message"] for e in missing) == 1
    await declare_as_listed(client, user, application_id)

    # Types are judged by content: a PNG named .jpg is refused; a JPEG is taken.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    wrong = await upload_document(client, user, application_id, "INVOICE", png, "fatura.jpg")
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_INPUT"]
    invoice = await upload_document(client, user, application_id, "INVOICE", jpeg(), "fatura.jpg")
    assert invoice["errors"] == [] and invoice["workflow"]["documents"][0]["kind"] == "INVOICE"
    for brand, model in (("Apple", "a2403"), ("SAMSUNG", "SM-G9359")):
        assert (await upload_ce(client, user, brand, model))["errors"] == []
    requirements = (await gql(client, WORKFLOW, {"id": application_id}, token=user))["data"][
        "applicationWorkflow"
    ]["requiredCeCertificates"]
    assert all(r["certificate"] for r in requirements) and len(requirements) == 2

    submitted = (await gql(client, SUBMIT, {"id": application_id}, token=user))["data"]
    assert submitted["submitApplication"]["application"]["status"] == "AWAITING_SUPERVISOR_APPROVAL"
    sent = (await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor))["data"]
    assert sent["sendApplicationToAnalysis"]["application"]["status"] == "IN_ANALYSIS"
    await jobs.drain()

    # E-signature: the firm downloads the application document (Ek-1) for passing devices.
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "E_SIGNATURE"}, user)
    assert chosen["application"]["status"] == "AWAITING_SIGNED_DOCUMENT"
    assert (
        chosen["application"]["passedDeviceCount"],
        chosen["application"]["failedDeviceCount"],
    ) == (4, 2)
    form_response = await download(client, user, chosen["workflow"]["applicationForm"])
    assert form_response.status_code == 200
    form = form_response.content
    text = pdf_text(form)
    for expected in (
        "Kayıt Altına Alma Başvurusu (Ek-1)",
        "TÜKETİCİ İLE İLİŞKİLER MÜDÜRLÜĞÜNE",
        "26341300IM012345 numaralı gümrük",
        "toplam 4 adet cihaza ait IMEI",
        "İTHALAT TAKİP NUMARASI",
        "Anadolu Mobil A.Ş.",
        "SM-G9359",
    ):
        assert expected in text, expected
    assert luhn_broken not in text
    other_firm = await login(client, "b.user")
    assert (
        await download(client, other_firm, chosen["workflow"]["applicationForm"])
    ).status_code == 404

    # An unsigned PDF is refused; the signed one sends the application to review.
    unsigned = await upload(client, user, application_id, form, "basvuru.pdf", query=UPLOAD_SIGNED)
    assert [e["code"] for e in unsigned["data"]["uploadSignedApplication"]["errors"]] == [
        "SIGNATURE_MISSING"
    ]
    signed = await sign_as_firm(application_id, form)
    uploaded = await upload(client, user, application_id, signed, "imzali.pdf", query=UPLOAD_SIGNED)
    under_review = uploaded["data"]["uploadSignedApplication"]
    assert under_review["errors"] == [] and under_review["application"]["status"] == "UNDER_REVIEW"
    assert under_review["workflow"]["signerName"] == "Ayşe Yılmaz"
    assert under_review["workflow"]["signatureTrusted"] is None  # no trust roots configured
    event = await AuditEvent.filter(action="application.upload_signed_document").first()
    assert event.details["trust"] == "trust not verified (no trust roots configured)"

    # Review: take, approve → fee notice for 7 passing IMEIs × 15,00 TL.
    taken = await step(client, TAKE, {"id": application_id}, reviewer)
    assert taken["workflow"]["reviewerName"] == "staff.reviewer"
    approved = await step(client, APPROVE, {"id": application_id}, reviewer)
    notice = approved["workflow"]["feeNotice"]
    assert approved["application"]["status"] == "AWAITING_PAYMENT"
    assert (notice["year"], notice["imeiCount"]) == (2026, 7)
    assert notice["perImei"] == {"amount": "15.00", "text": "15,00 TL"}
    assert notice["amount"] == {"amount": "105.00", "text": "105,00 TL"}
    notice_text = pdf_text((await download(client, user, notice["fileId"])).content)
    assert "Kayıt Ücreti Bildirimi" in notice_text and "105,00 TL" in notice_text
    assert "IMEI başına kayıt ücreti (2026): 15,00 TL" in notice_text

    # Payment: the amount must match; then every passing IMEI is on the whitelist at once.
    payment = {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": "100.00"}
    assert await refused(client, PAY, {"input": payment}, archive) == ["PAYMENT_AMOUNT_MISMATCH"]
    paid = await step(client, PAY, {"input": {**payment, "amount": "105.00"}}, archive)
    assert paid["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert paid["workflow"]["registeredImeiCount"] == 7
    assert paid["workflow"]["customsDueAt"] == "2027-05-23T09:00:00+00:00"
    again = await step(client, PAY, {"input": {**payment, "amount": "105.00"}}, archive)
    assert again["workflow"]["payment"]["method"] == "CARD_AT_OFFICE"
    assert await Payment.filter(application_id=application_id).count() == 1

    await make_operator("Test GSM", "TGSM", "operator-token-1")
    passing_imeis = [i for row in passing for i in row[2:]]
    checked = await gql(
        client, CHECK, {"imeis": [*passing_imeis, luhn_broken]}, token="operator-token-1"
    )
    statuses = [answer["status"] for answer in checked["data"]["checkImeis"]]
    assert statuses == ["REGISTERED"] * 7 + ["INVALID"]
    entry = await WhitelistEntry.get(imei=passing_imeis[0])
    assert (entry.application_id, entry.firm_id, entry.tac) == (
        application_id,
        world.firm_a.id,
        APPLE,
    )
    assert (entry.brand, entry.model_code, entry.source) == (
        "APPLE",
        "A2403",
        WhitelistSource.FIRM_APPLICATION,
    )

    permit = pdf_text((await download(client, user, paid["workflow"]["permit"])).content)
    assert "İthal İzin Belgesi" in permit and "7 IMEI numarası" in permit
    assert "23.05.2027" in permit

    # The firm sees its deadline.
    deadlines = (await gql(client, DEADLINES, token=user))["data"]["customsDeadlines"]["items"]
    assert deadlines == [
        {
            "application": {"id": application_id},
            "customsDueAt": "2027-05-23T09:00:00+00:00",
            "overdue": False,
        }
    ]

    # Customs documents (guide §6.1): one PDF, the generated cover letter e-signed.
    not_pdf = await upload(client, user, application_id, jpeg(), "gumruk.pdf", query=UPLOAD_CUSTOMS)
    assert [e["code"] for e in not_pdf["data"]["uploadCustomsDocuments"]["errors"]] == [
        "INVALID_INPUT"
    ]
    customs = await upload(
        client, user, application_id, plain_pdf(), "gumruk.pdf", query=UPLOAD_CUSTOMS
    )
    letter_id = customs["data"]["uploadCustomsDocuments"]["workflow"]["coverLetter"]
    letter = (await download(client, user, letter_id)).content
    letter_text = pdf_text(letter)
    assert "Gümrük Belgesi Kapak Yazısı" in letter_text and "TİB 1" in letter_text
    assert "MCKS-2026-" in letter_text and "gumruk.pdf" in letter_text
    done = await upload(
        client,
        user,
        application_id,
        await sign_as_firm(application_id, letter),
        "kapak.pdf",
        query=UPLOAD_COVER,
    )
    completed = done["data"]["uploadSignedCoverLetter"]
    assert completed["errors"] == [] and completed["application"]["status"] == "COMPLETED"
    assert completed["workflow"]["completedAt"] is not None
    assert (await gql(client, DEADLINES, token=user))["data"]["customsDeadlines"]["items"] == []

    # Every step was audited; the firm was e-mailed at every status change, in Turkish.
    actions = await AuditEvent.filter(subject_id=str(application_id)).values_list(
        "action", flat=True
    )
    for action in (
        "application.submit",
        "application.send_to_analysis",
        "application.finish_analysis",
        "application.choose_e_signature",
        "application.upload_signed_document",
        "application.review_taken",
        "application.approve",
        "application.record_payment",
        "application.customs_documents_uploaded",
        "application.complete_customs",
    ):
        assert action in actions, action
    await deliver_mail()
    mails = mailbox.to("firma@example.com")
    assert [m.subject.rsplit(": ", 1)[1] for m in mails] == [
        "Üst Kullanıcı Onayında",
        "Analiz Sürecinde",
        "İmza Seçimi Beklenmektedir",
        "E-imzalı Doküman Bekleniyor",
        "İncelemede",
        "Ödeme Bekleniyor",
        "Gümrük Belgesi Bekleniyor",
        "Tamamlandı",
    ]
    assert "4 cihaz geçti, 2 cihaz geçemedi" in mails[2].text
    assert (
        "ödenecek tutar 105,00 TL" in mails[5].text and "Dear Anadolu Mobil A.Ş." in mails[5].text
    )
    assert "23.05.2027" in mails[6].text

    # The failing devices stay failed, with their reasons, for the firm to see.
    failing = (await gql(client, DEVICES, {"id": application_id}, token=user))["data"]
    assert {
        d["rowNumber"]: [r["code"] for r in d["reasons"]]
        for d in failing["applicationDevices"]["items"]
    } == {
        6: ["INVALID_IMEI"],
        7: ["ALREADY_REGISTERED"],
    }
