"""Helpers for the fee scenarios: receipts, balances, card payments, and walking a firm's
application to its fee notice (optionally declaring a pre-paid receipt on the way)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from resolvers import jobs
from tests.support.api import gql, login
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import (
    APPROVE,
    CHOOSE,
    HARDCOPY,
    SET_FEE,
    TAKE,
    attach_documents,
    plain_pdf,
    step,
)
from tests.test_application_analysis import APPLE, SUBMIT, TO_ANALYSIS, create_draft

FEE_STATE = """
    status
    feeNotice { number amount { amount text } fileId }
    payment { method amount { amount } receiptNo }
    feeBalance { due { amount } paid { amount } outstanding { amount text } overpaid { amount }
                 pendingReceipts settled message }
    feeReceipts { id bank paidOn receiptNo amount { amount } fileId withApplication status
                  statusLabel refusalReason declaredBy decidedBy }
    onlinePayments { orderId amount { amount } status statusLabel paymentUrl declineReason
                     providerMessage }
"""
FEE_FIELDS = "application { id status } workflow {" + FEE_STATE + "} errors { code field message }"
DECLARE = (
    "mutation($id: Int!, $receipt: FeeReceiptInput!, $file: Upload!) {"
    " declareFeeReceipt(applicationId: $id, receipt: $receipt, file: $file) {" + FEE_FIELDS + "} }"
)
CONFIRM = "mutation($id: Int!) { confirmFeeReceipt(receiptId: $id) {" + FEE_FIELDS + "} }"
REFUSE = (
    "mutation($id: Int!, $reason: String!) { refuseFeeReceipt(receiptId: $id, reason: $reason) {"
    + FEE_FIELDS
    + "} }"
)
FEES = "query($id: Int!) { applicationWorkflow(applicationId: $id) {" + FEE_STATE + "} }"
START = (
    "mutation($id: Int!) { startOnlinePayment(applicationId: $id) {"
    " onlinePayment { orderId amount { amount } status paymentUrl }"
    " workflow {" + FEE_STATE + "} errors { code field message } } }"
)
REFRESH = "mutation($id: Int!) { refreshOnlinePayments(applicationId: $id) {" + FEE_FIELDS + "} }"
PAY_FEES = (
    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {" + FEE_FIELDS + "} }"
)


def receipt(number: str, amount: str, **more: str) -> dict[str, str]:
    return {
        "bank": "Kooperatif Merkez Bankası",
        "paidOn": "2026-11-20",
        "receiptNo": number,
        "amount": amount,
        **more,
    }


async def declare(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    given: dict[str, str],
    scan: bytes | None = None,
    filename: str = "dekont.pdf",
) -> dict[str, Any]:
    body = await upload(
        client,
        token,
        application_id,
        plain_pdf("Kayit Ucreti dekontu") if scan is None else scan,
        filename,
        query=DECLARE,
        variables={"id": application_id, "receipt": given},
    )
    assert "errors" not in body, body
    return body["data"]["declareFeeReceipt"]  # type: ignore[no-any-return]


async def fees_of(client: httpx.AsyncClient, token: str, application_id: int) -> dict[str, Any]:
    body = await gql(client, FEES, {"id": application_id}, token=token)
    return body["data"]["applicationWorkflow"]  # type: ignore[no-any-return]


async def set_fee(client: httpx.AsyncClient, lira: str = "10.00", year: int = 2026) -> None:
    admin = await login(client, "staff.admin")
    await step(client, SET_FEE, {"input": {"year": year, "fee": lira}}, admin)


def device(n: int) -> tuple[str, str, str, str]:
    return ("APPLE", "A2403", imei(APPLE + f"{n:06d}"), imei(APPLE + f"{n + 500000:06d}"))


async def to_fee_notice(
    client: httpx.AsyncClient,
    firm: str,
    devices: list[tuple[str, ...]],
    in_draft: Callable[[int], Awaitable[object]] | None = None,
) -> int:
    """A firm's wet-signed application, reviewed and approved: the fee notice is out.
    `in_draft(application_id)` runs while it is still a draft (a pre-paid receipt)."""
    user, supervisor = await login(client, f"{firm}.user"), await login(client, f"{firm}.super")
    application_id = await create_draft(client, user)
    await upload(client, user, application_id, xlsx(devices))
    await attach_documents(client, user, application_id)
    if in_draft is not None:
        await in_draft(application_id)
    await gql(client, SUBMIT, {"id": application_id}, token=user)
    await gql(client, TO_ANALYSIS, {"id": application_id}, token=supervisor)
    await jobs.drain()
    await step(client, CHOOSE, {"id": application_id, "method": "WET_SIGNATURE"}, user)
    await step(client, HARDCOPY, {"id": application_id}, await login(client, "staff.archive"))
    reviewer = await login(client, "staff.reviewer")
    await step(client, TAKE, {"id": application_id}, reviewer)
    await step(client, APPROVE, {"id": application_id}, reviewer)
    return application_id
