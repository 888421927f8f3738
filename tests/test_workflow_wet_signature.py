"""The wet-signature path with a rejection, a resubmission and a return as incomplete; one
reviewer at a time; a bank transfer; customs documents delivered on paper."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import clock
from models.audit import AuditEvent
from models.roles import Role
from resolvers import jobs
from tests.support.api import gql, login, make_user, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    HARDCOPY,
    PAY,
    RECEIVE_CUSTOMS,
    REJECT,
    RETURN,
    SET_FEE,
    TAKE,
    UPLOAD_CUSTOMS,
    attach_documents,
    deliver_mail,
    download,
    jpeg,
    mailbox,
    pdf_text,
    pdf_workers,
    plain_pdf,
    refused,
    step,
    upload_document,
)
from tests.test_application_analysis import APPLE, SUBMIT, TO_ANALYSIS, create_draft, seed_registry

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["mailbox", "pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")

REOPEN = "mutation($id: Int!) { reopenApplication(applicationId: $id) { application { status } errors { code } } }"
TAKE_OVER = (
    "mutation($id: Int!, $reason: String) {"
    " takeApplicationForReview(applicationId: $id, reason: $reason) {"
    " workflow { reviewerName } errors { code field message } } }"
)
FIRM_VIEW = "query($id: Int!) { application(id: $id) { status statusLabel statusReason } }"


async def submit_and_analyse(client, user: str, supervisor: str, application_id: int) -> None:
    body = await gql(client, SUBMIT, {"id": application_id}, token=user)
    assert body["data"]["submitApplication"]["errors"] == [], body
    body = await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    assert body["data"]["sendApplicationToAnalysis"]["errors"] == [], body
    await jobs.drain()


async def test_wet_signature_rejection_resubmission_and_paper_customs_documents(client, mailbox):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    await make_world()
    await make_user("staff.reviewer2", Role.STAFF_REVIEWER)
    await seed_registry()
    admin = await login(client, "staff.admin")
    await step(client, SET_FEE, {"input": {"year": 2026, "fee": "20.00"}}, admin)
    user, supervisor = await login(client, "a.user"), await login(client, "a.super")
    reviewer, other_reviewer = (
        await login(client, "staff.reviewer"),
        await login(client, "staff.reviewer2"),
    )
    archive = await login(client, "staff.archive")

    application_id = await create_draft(client, user)
    devices = [
        ("APPLE", "A2403", imei(APPLE + f"30000{n}"), imei(APPLE + f"30001{n}")) for n in range(3)
    ]
    await upload(client, user, application_id, xlsx(devices))
    await attach_documents(client, user, application_id)
    await submit_and_analyse(client, user, supervisor, application_id)

    # Wet signature: the firm prints the document; only archive staff mark the copy received.
    chosen = await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    assert chosen["application"]["status"] == "AWAITING_HARDCOPY"
    form = pdf_text((await download(client, user, chosen["workflow"]["applicationForm"])).content)
    assert "Islak imzalı ve kaşeli nüshanın" in form
    assert await refused(client, HARDCOPY, {"id": application_id}, user) == ["FORBIDDEN"]
    assert await refused(client, HARDCOPY, {"id": application_id}, reviewer) == ["FORBIDDEN"]
    received = await step(client, HARDCOPY, {"id": application_id}, archive)
    assert received["application"]["status"] == "UNDER_REVIEW"

    # One reviewer at a time: the taker decides; another reviewer is told who has it.
    assert await refused(client, APPROVE, {"id": application_id}, reviewer) == ["INVALID_STATE"]
    await step(client, TAKE, {"id": application_id}, reviewer)
    assert await refused(client, TAKE, {"id": application_id}, other_reviewer) == ["REVIEW_TAKEN"]
    assert await refused(client, APPROVE, {"id": application_id}, other_reviewer) == [
        "REVIEW_TAKEN"
    ]
    # A staff admin takes over a review another reviewer holds only with a reason, audited;
    # deciding it without taking it over is refused like anyone else's.
    assert await refused(client, APPROVE, {"id": application_id}, admin) == ["REVIEW_TAKEN"]
    body = await gql(client, TAKE_OVER, {"id": application_id, "reason": "  "}, token=admin)
    (error,) = body["data"]["takeApplicationForReview"]["errors"]
    assert error["field"] == "reason"
    assert "staff.reviewer" in error["message"] and "gerekçe" in error["message"]
    taken_over = await step(
        client, TAKE_OVER, {"id": application_id, "reason": "Yıllık izin"}, admin
    )
    assert taken_over["workflow"]["reviewerName"] == "staff.admin"
    event = await AuditEvent.get(action="application.review_taken_over")
    assert event.details["reason"] == "Yıllık izin"
    assert event.details["previousReviewer"] == "staff.reviewer"
    assert await refused(client, REJECT, {"id": application_id, "reason": "x"}, reviewer) == [
        "REVIEW_TAKEN"
    ]
    assert await refused(client, REJECT, {"id": application_id, "reason": " "}, admin) == [
        "INVALID_INPUT"
    ]
    reason = "Fatura tarihi gümrük beyannamesiyle tutarsız."
    rejected = await step(client, REJECT, {"id": application_id, "reason": reason}, admin)
    assert rejected["application"]["status"] == "REJECTED"
    firm_view = (await gql(client, FIRM_VIEW, {"id": application_id}, token=user))["data"][
        "application"
    ]
    assert firm_view == {"status": "REJECTED", "statusLabel": "Reddedildi", "statusReason": reason}

    # The firm fixes the cause and resubmits (art. 10(4)).
    assert (await gql(client, REOPEN, {"id": application_id}, token=user))["data"][
        "reopenApplication"
    ]["application"]["status"] == "DRAFT"
    fixed = await upload_document(
        client, user, application_id, "INVOICE", jpeg(4096), "fatura2.jpg"
    )
    assert fixed["errors"] == []
    await submit_and_analyse(client, user, supervisor, application_id)
    await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    await step(client, HARDCOPY, {"id": application_id}, archive)

    # The reviewer assignment started afresh; this time the other reviewer returns it.
    taken = await step(client, TAKE, {"id": application_id}, other_reviewer)
    assert taken["workflow"]["reviewerName"] == "staff.reviewer2"
    returned = await step(
        client, RETURN, {"id": application_id, "reason": "İmza sirküleri eksik."}, other_reviewer
    )
    assert returned["application"]["status"] == "DRAFT"
    assert returned["application"]["statusReason"] == "İmza sirküleri eksik."
    await submit_and_analyse(client, user, supervisor, application_id)
    await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    await step(client, HARDCOPY, {"id": application_id}, archive)

    # A staff admin may decide without taking it; 6 IMEIs × 20,00 TL.
    approved = await step(client, APPROVE, {"id": application_id}, admin)
    assert approved["workflow"]["feeNotice"]["amount"]["text"] == "120,00 TL"

    # A bank transfer needs the receipt number.
    transfer = {"applicationId": application_id, "method": "BANK_TRANSFER", "amount": "120"}
    assert await refused(client, PAY, {"input": transfer}, archive) == ["INVALID_INPUT"]
    # Every input error at once, each with its field: the wrong amount too, or an
    # unreadable one.
    for amount, amount_code in (("119.99", "PAYMENT_AMOUNT_MISMATCH"), ("1.234", "INVALID_INPUT")):
        body = await gql(client, PAY, {"input": {**transfer, "amount": amount}}, token=archive)
        assert sorted((e["field"], e["code"]) for e in body["data"]["recordPayment"]["errors"]) == [
            ("amount", amount_code),
            ("receiptNo", "INVALID_INPUT"),
        ]
    paid = await step(client, PAY, {"input": {**transfer, "receiptNo": "KMB-2026/4411"}}, archive)
    assert paid["workflow"]["payment"] == {
        "method": "BANK_TRANSFER",
        "amount": {"amount": "120.00"},
        "receiptNo": "KMB-2026/4411",
    }
    # A different payment for the same application is refused, not recorded twice.
    other = {**transfer, "receiptNo": "KMB-2026/9999"}
    assert await refused(client, PAY, {"input": other}, archive) == ["ALREADY_EXISTS"]

    # Wet path: the customs copies go to the archive on paper, the portal refuses them.
    on_portal = await upload(
        client, user, application_id, plain_pdf(), "g.pdf", query=UPLOAD_CUSTOMS
    )
    assert [e["code"] for e in on_portal["data"]["uploadCustomsDocuments"]["errors"]] == [
        "INVALID_STATE"
    ]
    assert await refused(client, RECEIVE_CUSTOMS, {"id": application_id}, user) == ["FORBIDDEN"]
    completed = await step(client, RECEIVE_CUSTOMS, {"id": application_id}, archive)
    assert completed["application"]["status"] == "COMPLETED"

    await deliver_mail()
    subjects = [m.subject for m in mailbox.to("firma@example.com")]
    assert sum(s.endswith(": Reddedildi") for s in subjects) == 1
    assert sum(s.endswith(": Kurum Hardcopy Bekliyor") for s in subjects) == 3
    assert subjects[-1].endswith(": Tamamlandı")
    rejection = next(m for m in mailbox.to("firma@example.com") if m.subject.endswith("Reddedildi"))
    assert f"Gerekçe: {reason}" in rejection.text and "madde 10(4)" in rejection.text
