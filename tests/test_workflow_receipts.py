"""The firm's own bank receipt (dekont) for its fee, checked by the archive (guide §4), and
the Tebliğ's pre-paid mode (art. 8(2)(f)): a receipt given with the application is
reconciled when the fee is set. One receipt number settles one application only."""

from __future__ import annotations

import asyncio

import pytest

from models.accounts import User
from models.audit import AuditEvent
from models.notifications import Notification
from models.payments import FeeReceipt, ReceiptStatus
from models.roles import Role
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.workflow.receipts import confirm_receipt
from tests.support.api import gql, login, make_world
from tests.support.payments import (
    CONFIRM,
    PAY_FEES,
    REFUSE,
    declare,
    device,
    fees_of,
    receipt,
    set_fee,
    to_fee_notice,
)
from tests.support.workflow import download, jpeg, pdf_text, pdf_workers, refused, step
from tests.test_application_analysis import seed_registry

# The fixtures imported from tests.support.workflow are used by name.
__all__ = ["pdf_workers"]

pytestmark = pytest.mark.usefixtures("pdf_workers")


async def world_with_fee(client) -> None:
    await make_world()
    await seed_registry()
    await set_fee(client, "10.00")  # 2 IMEIs a device: 20,00 TL a device


async def test_the_firm_declares_its_receipt_and_the_archive_confirms_it(client):
    await world_with_fee(client)
    application_id = await to_fee_notice(client, "a", [device(1), device(2)])
    user, archive = await login(client, "a.user"), await login(client, "staff.archive")

    declared = await declare(client, user, application_id, receipt("DK-2026-0001", "40.00"))
    assert declared["errors"] == [], declared
    workflow = declared["workflow"]
    [given] = workflow["feeReceipts"]
    assert (given["status"], given["statusLabel"], given["withApplication"]) == (
        "DECLARED",
        "Arşiv onayı bekliyor",
        False,
    )
    assert (given["bank"], given["paidOn"], given["amount"]["amount"]) == (
        "Kooperatif Merkez Bankası",
        "2026-11-20",
        "40.00",
    )
    assert workflow["feeBalance"]["pendingReceipts"] == 1 and not workflow["feeBalance"]["settled"]
    assert "1 dekont arşivin onayını bekliyor" in workflow["feeBalance"]["message"]
    # It waits in the archive's queue; firms have no queue to read.
    queue = "{ feeReceipts(status: DECLARED) { totalCount items { id applicationId receiptNo } } }"
    waiting = (await gql(client, queue, token=archive))["data"]["feeReceipts"]
    assert waiting == {
        "totalCount": 1,
        "items": [
            {"id": given["id"], "applicationId": application_id, "receiptNo": "DK-2026-0001"}
        ],
    }
    assert "FORBIDDEN" in str(await gql(client, queue, token=user))
    # The archive reads the scan the firm gave.
    scan = await download(client, archive, given["fileId"])
    assert scan.status_code == 200 and scan.content.startswith(b"%PDF")

    # The firm cannot confirm its own receipt.
    assert await refused(client, CONFIRM, {"id": given["id"]}, user) == ["FORBIDDEN"]
    confirmed = await step(client, CONFIRM, {"id": given["id"]}, archive)
    assert confirmed["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert confirmed["workflow"]["payment"] == {
        "method": "BANK_TRANSFER",
        "amount": {"amount": "40.00"},
        "receiptNo": "DK-2026-0001",
    }
    assert confirmed["workflow"]["feeBalance"]["settled"] is True
    assert confirmed["workflow"]["feeBalance"]["message"] == "Kayıt ücreti ödendi."
    assert confirmed["workflow"]["feeReceipts"][0]["decidedBy"] == "staff.archive"
    # Confirming again (a retried request) changes nothing.
    again = await step(client, CONFIRM, {"id": given["id"]}, archive)
    assert again["workflow"]["payment"]["amount"] == {"amount": "40.00"}
    assert (await gql(client, queue, token=archive))["data"]["feeReceipts"]["totalCount"] == 0
    actions = [e.action async for e in AuditEvent.filter(subject_type="FeeReceipt")]
    assert actions == ["fee_receipt.declared", "fee_receipt.confirmed"]


async def test_the_archive_refuses_a_receipt_with_a_reason_the_firm_sees(client):
    await world_with_fee(client)
    application_id = await to_fee_notice(client, "a", [device(3)])
    user, archive = await login(client, "a.user"), await login(client, "staff.archive")
    given = (await declare(client, user, application_id, receipt("DK-9", "20.00")))["workflow"][
        "feeReceipts"
    ][0]
    assert await refused(client, REFUSE, {"id": given["id"], "reason": "  "}, archive) == [
        "INVALID_INPUT"
    ]
    reason = "Hesabımıza bu numarayla bir ödeme gelmedi."
    refusal = await step(client, REFUSE, {"id": given["id"], "reason": reason}, archive)
    assert refusal["application"]["status"] == "AWAITING_PAYMENT"
    seen = (await fees_of(client, user, application_id))["feeReceipts"][0]
    assert (seen["status"], seen["statusLabel"], seen["refusalReason"]) == (
        "REFUSED",
        "Reddedildi",
        reason,
    )
    # A refused receipt is not confirmed later; the firm declares the right one instead.
    assert await refused(client, CONFIRM, {"id": given["id"]}, archive) == ["INVALID_STATE"]
    fixed = await declare(client, user, application_id, receipt("DK-9", "20.00"))
    assert fixed["errors"] == [] and len(fixed["workflow"]["feeReceipts"]) == 2
    done = await step(client, CONFIRM, {"id": fixed["workflow"]["feeReceipts"][1]["id"]}, archive)
    assert done["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"


async def test_every_problem_of_a_receipt_is_reported_at_once(client):
    await world_with_fee(client)
    application_id = await to_fee_notice(client, "a", [device(4)])
    user = await login(client, "a.user")
    bad = {"bank": " ", "paidOn": "2099-01-01", "receiptNo": "DK 1/ü", "amount": "12.345"}
    answer = await declare(client, user, application_id, bad, scan=b"GIF89a not a scan")
    assert sorted(e["field"] for e in answer["errors"]) == [
        "amount",
        "bank",
        "file",
        "paidOn",
        "receiptNo",
    ]
    messages = {e["field"]: e["message"] for e in answer["errors"]}
    assert "bugünden sonra" in messages["paidOn"] and "PDF" in messages["file"]
    big = await declare(client, user, application_id, receipt("DK-5", "20"), jpeg(400 * 1024))
    assert [(e["field"], e["code"]) for e in big["errors"]] == [("file", "INVALID_INPUT")]
    assert await FeeReceipt.all().count() == 0


async def test_a_receipt_number_settles_one_application_only(client):
    await world_with_fee(client)
    first = await to_fee_notice(client, "a", [device(5)])
    second = await to_fee_notice(client, "b", [device(6)])
    a_user, b_user = await login(client, "a.user"), await login(client, "b.user")
    archive = await login(client, "staff.archive")
    a_receipt = (await declare(client, a_user, first, receipt("DK-777", "20.00")))["workflow"]
    # Firm b declares the same number (spaced and lower-case) before a's is confirmed.
    b_receipt = (await declare(client, b_user, second, receipt("dk-777", "20.00")))["workflow"]
    await step(client, CONFIRM, {"id": a_receipt["feeReceipts"][0]["id"]}, archive)

    body = await gql(client, CONFIRM, {"id": b_receipt["feeReceipts"][0]["id"]}, token=archive)
    [error] = body["data"]["confirmFeeReceipt"]["errors"]
    assert error["code"] == "RECEIPT_ALREADY_USED" and error["field"] == "receiptNo"
    assert "MCKS-" in error["message"] and "yalnızca bir başvurunun" in error["message"]
    assert (await fees_of(client, b_user, second))["status"] == "AWAITING_PAYMENT"
    # Declaring a number already accepted is refused at once; staff recording it too.
    again = await declare(client, b_user, second, receipt("DK-777", "20.00"))
    assert [e["code"] for e in again["errors"]] == ["RECEIPT_ALREADY_USED"]
    transfer = {
        "applicationId": second,
        "method": "BANK_TRANSFER",
        "amount": "20",
        "receiptNo": "DK-777",
    }
    assert await refused(client, PAY_FEES, {"input": transfer}, archive) == ["RECEIPT_ALREADY_USED"]


async def test_two_archivists_confirming_one_number_for_two_applications_race_safely(client):
    await world_with_fee(client)
    first = await to_fee_notice(client, "a", [device(7)])
    second = await to_fee_notice(client, "b", [device(8)])
    a_user, b_user = await login(client, "a.user"), await login(client, "b.user")
    ids = [
        (await declare(client, token, app, receipt("DK-RACE", "20.00")))["workflow"]["feeReceipts"][
            0
        ]["id"]
        for token, app in ((a_user, first), (b_user, second))
    ]
    archive = await User.get(username="staff.archive")
    actor = Actor(kind="USER", role=Role.STAFF_ARCHIVE, id=archive.id, name=archive.username)
    outcomes = await asyncio.gather(
        *(confirm_receipt(actor, receipt_id) for receipt_id in ids), return_exceptions=True
    )
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failures) == 1, outcomes
    assert isinstance(failures[0], DomainError)
    assert failures[0].code == ErrorCode.RECEIPT_ALREADY_USED
    assert await FeeReceipt.filter(status=ReceiptStatus.CONFIRMED).count() == 1
    statuses = sorted(
        [
            (await fees_of(client, a_user, first))["status"],
            (await fees_of(client, b_user, second))["status"],
        ]
    )
    assert statuses == ["AWAITING_CUSTOMS_DOCUMENTS", "AWAITING_PAYMENT"]


async def test_a_pre_paid_receipt_that_covers_the_fee_settles_at_approval(client):
    await world_with_fee(client)
    user, archive = await login(client, "a.user"), await login(client, "staff.archive")

    async def prepay(application_id: int) -> None:
        given = await declare(client, user, application_id, receipt("DK-PRE-1", "50.00"))
        assert given["errors"] == [] and given["workflow"]["feeReceipts"][0]["withApplication"]
        balance = given["workflow"]["feeBalance"]
        assert balance["due"] is None and "ücret belirlendiğinde mahsup" in balance["message"]
        # The archive checks the receipt before the fee is set: nothing is settled yet.
        checked = await step(
            client, CONFIRM, {"id": given["workflow"]["feeReceipts"][0]["id"]}, archive
        )
        assert checked["application"]["status"] == "DRAFT"
        assert checked["workflow"]["feeBalance"]["paid"] == {"amount": "50.00"}

    application_id = await to_fee_notice(client, "a", [device(9), device(10)], in_draft=prepay)
    fees = await fees_of(client, user, application_id)
    # 40,00 TL due, 50,00 TL paid: settled at approval, the surplus on record for a refund.
    assert fees["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert fees["payment"]["method"] == "BANK_TRANSFER"
    assert fees["feeBalance"]["settled"] and fees["feeBalance"]["overpaid"] == {"amount": "10.00"}
    approval = await AuditEvent.filter(action="application.approve").first()
    assert approval is not None and approval.details["prepaidKurus"] == 5000


async def test_a_short_pre_paid_receipt_leaves_the_difference_due(client):
    await world_with_fee(client)
    user, archive = await login(client, "a.user"), await login(client, "staff.archive")
    declared: list[int] = []

    async def prepay(application_id: int) -> None:
        given = await declare(client, user, application_id, receipt("DK-PRE-2", "25.00"))
        declared.append(given["workflow"]["feeReceipts"][0]["id"])
        await step(client, CONFIRM, {"id": declared[0]}, archive)

    application_id = await to_fee_notice(client, "a", [device(11), device(12)], in_draft=prepay)
    fees = await fees_of(client, user, application_id)
    assert fees["status"] == "AWAITING_PAYMENT"
    balance = fees["feeBalance"]
    assert (balance["due"], balance["paid"], balance["outstanding"]) == (
        {"amount": "40.00"},
        {"amount": "25.00"},
        {"amount": "15.00", "text": "15,00 TL"},
    )
    assert balance["message"] == (
        "40,00 TL tutarındaki ücretin 25,00 TL kısmı ödendi: kalan 15,00 TL farkın ödenmesi "
        "gerekiyor."
    )
    english = await gql(
        client,
        "query($id: Int!) { applicationWorkflow(applicationId: $id) { feeBalance { message } } }",
        {"id": application_id},
        token=user,
        headers={"Accept-Language": "en"},
    )
    assert "the difference of 15,00 TL is still due" in str(english)
    # The firm's e-mail about the fee notice says the same.
    mail = await Notification.filter(application_id=application_id, body__contains="mahsup").first()
    assert mail is not None and "Başvuruyla ödenen 25,00 TL mahsup edildi; kalan 15,00 TL" in (
        mail.body
    )
    notice = pdf_text((await download(client, user, fees["feeNotice"]["fileId"])).content)
    assert "Başvuruyla birlikte ödenen (onaylı dekont): 25,00 TL" in notice
    assert "Kalan ödenecek tutar: 15,00 TL" in notice
    # The archive records only the difference (the whole fee is refused as a mismatch).
    pay = {"applicationId": application_id, "method": "CARD_AT_OFFICE", "amount": "40.00"}
    assert await refused(client, PAY_FEES, {"input": pay}, archive) == ["PAYMENT_AMOUNT_MISMATCH"]
    paid = await step(client, PAY_FEES, {"input": {**pay, "amount": "15.00"}}, archive)
    assert paid["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"
    assert paid["workflow"]["payment"]["amount"] == {"amount": "40.00"}
    # A retried recording changes nothing.
    again = await step(client, PAY_FEES, {"input": {**pay, "amount": "15.00"}}, archive)
    assert again["workflow"]["payment"]["method"] == "CARD_AT_OFFICE"


async def test_a_pre_paid_receipt_still_unchecked_at_approval_settles_when_confirmed(client):
    await world_with_fee(client)
    user, archive = await login(client, "a.user"), await login(client, "staff.archive")
    declared: list[int] = []

    async def prepay(application_id: int) -> None:
        given = await declare(client, user, application_id, receipt("DK-PRE-3", "20.00"))
        declared.append(given["workflow"]["feeReceipts"][0]["id"])

    application_id = await to_fee_notice(client, "a", [device(13)], in_draft=prepay)
    fees = await fees_of(client, user, application_id)
    assert fees["status"] == "AWAITING_PAYMENT"
    assert fees["feeBalance"]["message"] == (
        "20,00 TL tutarındaki kayıt ücretinin ödenmesi gerekiyor. 1 dekont arşivin onayını "
        "bekliyor."
    )
    confirmed = await step(client, CONFIRM, {"id": declared[0]}, archive)
    assert confirmed["application"]["status"] == "AWAITING_CUSTOMS_DOCUMENTS"


async def test_virtual_pos_is_not_typed_in_by_staff(client):
    await world_with_fee(client)
    application_id = await to_fee_notice(client, "a", [device(14)])
    archive = await login(client, "staff.archive")
    pay = {"applicationId": application_id, "method": "VIRTUAL_POS", "amount": "20.00"}
    body = await gql(client, PAY_FEES, {"input": pay}, token=archive)
    [error] = body["data"]["recordPayment"]["errors"]
    assert error["field"] == "method" and "startOnlinePayment" in error["message"]
