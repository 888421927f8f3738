"""Helpers for the firm-workflow scenarios: documents to upload, the GraphQL documents used,
reading PDFs back, and walking an application to a given step."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader

from integrations.mail.simulator import Mailbox, SimulatedMailer, SmtpSimulator, serve_simulator
from resolvers import jobs
from resolvers.documents import shutdown_renderer
from resolvers.settings import Settings, configure
from resolvers.workflow import notifications
from tests.support.api import gql
from tests.support.signing import sign_as_firm
from tests.support.uploads import upload

WORKFLOW_STATE = """
    status signatureMethod signerName signatureTrusted reviewerName
    documents { kind fileId name contentType }
    applicationForm: documentFileId(kind: APPLICATION_FORM)
    permit: documentFileId(kind: PERMIT)
    coverLetter: documentFileId(kind: COVER_LETTER)
    feeNotice { number year imeiCount perImei { amount text } amount { amount text } fileId }
    payment { method amount { amount } receiptNo }
    registeredImeiCount heldImeiCount customsDueAt customsOverdue completedAt
"""
WORKFLOW_FIELDS = (
    "application { id status statusLabel statusReason availableActions passedDeviceCount "
    "failedDeviceCount } workflow {" + WORKFLOW_STATE + "} errors { code field message }"
)

UPLOAD_DOCUMENT = (
    "mutation($id: Int!, $kind: DraftDocumentKind!, $file: Upload!) {"
    " uploadApplicationDocument(applicationId: $id, kind: $kind, file: $file) {"
    + WORKFLOW_FIELDS
    + "} }"
)
UPLOAD_CE = """mutation($brand: String!, $model: String!, $file: Upload!) {
  uploadCeCertificate(brand: $brand, model: $model, file: $file) {
    certificate { id brand model fileId } errors { code field message }
  }
}"""
UPLOAD_SIGNED = (
    "mutation($id: Int!, $file: Upload!) { uploadSignedApplication(applicationId: $id, file: $file) {"
    + WORKFLOW_FIELDS
    + "} }"
)
UPLOAD_CUSTOMS = (
    "mutation($id: Int!, $file: Upload!) { uploadCustomsDocuments(applicationId: $id, file: $file) {"
    + WORKFLOW_FIELDS
    + "} }"
)
UPLOAD_COVER = (
    "mutation($id: Int!, $file: Upload!) { uploadSignedCoverLetter(applicationId: $id, file: $file) {"
    + WORKFLOW_FIELDS
    + "} }"
)
WORKFLOW = (
    "query($id: Int!) { applicationWorkflow(applicationId: $id) {"
    + WORKFLOW_STATE
    + " requiredCeCertificates { brand model certificate { id fileId } } } }"
)
CHOOSE = (
    "mutation($id: Int!, $method: SignatureMethod!) {"
    " chooseSignatureMethod(applicationId: $id, method: $method) {" + WORKFLOW_FIELDS + "} }"
)
HARDCOPY = "mutation($id: Int!) { receiveHardcopy(applicationId: $id) {" + WORKFLOW_FIELDS + "} }"
TAKE = (
    "mutation($id: Int!) { takeApplicationForReview(applicationId: $id) {" + WORKFLOW_FIELDS + "} }"
)
APPROVE = "mutation($id: Int!) { approveApplication(applicationId: $id) {" + WORKFLOW_FIELDS + "} }"
REJECT = (
    "mutation($id: Int!, $reason: String!) { rejectApplication(applicationId: $id, reason: $reason) {"
    + WORKFLOW_FIELDS
    + "} }"
)
RETURN = (
    "mutation($id: Int!, $reason: String!) {"
    " returnApplicationIncomplete(applicationId: $id, reason: $reason) {" + WORKFLOW_FIELDS + "} }"
)
PAY = (
    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {"
    + WORKFLOW_FIELDS
    + "} }"
)
RECEIVE_CUSTOMS = (
    "mutation($id: Int!) { receiveCustomsDocuments(applicationId: $id) {" + WORKFLOW_FIELDS + "} }"
)
RECORD_PAPER = (
    "mutation($id: Int!, $kind: PaperDocumentKind!, $file: Upload!, $petition: [PetitionLineInput!]) {"
    " recordPaperDocument(applicationId: $id, kind: $kind, file: $file, petition: $petition) {"
    + WORKFLOW_FIELDS
    + "} }"
)
SET_FEE = """mutation($input: SetFeeYearInput!) {
  setFeeYear(input: $input) { feeYear { year fee { amount } revaluationRate perImei { amount text } baseYear } errors { code field message } }
}"""


def jpeg(size: int = 2048) -> bytes:
    """A real JPEG (it must decode) padded to `size` with comment segments."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (240, 240, 235)).save(out, "JPEG", quality=80)
    data = out.getvalue()
    padding = bytearray()
    room = size - len(data)
    while room > 4:
        chunk = min(room - 4, 65533)
        padding += b"\xff\xfe" + (chunk + 2).to_bytes(2, "big") + b"\x20" * chunk
        room -= chunk + 4
    # The comments go right after the start-of-image marker, where any segment may stand.
    return data[:2] + bytes(padding) + data[2:]


def plain_pdf(text: str = "Genel Tahsilat Makbuzu") -> bytes:
    """A small one-page PDF (customs documents as a firm scans them)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def pdf_workers() -> Iterator[None]:
    """Stop the PDF worker processes after the module (each module starts its own pool)."""
    yield
    shutdown_renderer()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """The in-memory mail server the notifications go to in this test."""
    mailer = SimulatedMailer(Mailbox())
    notifications.use_mailer(mailer)
    yield mailer.mailbox
    notifications.use_mailer(None)


@contextlib.asynccontextmanager
async def smtp_on_loopback(settings: Settings) -> AsyncIterator[SmtpSimulator]:
    """The loopback SMTP simulator as the configured mail server (the real SMTP client)."""
    async with serve_simulator() as server:
        configure(
            replace(
                settings,
                smtp_host=server.host,
                smtp_port=server.port,
                smtp_starttls=False,
                mail_from="MCKS <mcks@bthk.example>",
            )
        )
        notifications.use_mailer(None)
        try:
            yield server
        finally:
            notifications.use_mailer(None)


async def deliver_mail() -> int:
    """Run the outbox dispatcher as the worker would (scheduler tick, then the queue)."""
    await notifications.schedule_periodic()
    return await jobs.drain()


async def download(client: httpx.AsyncClient, token: str, file_id: int) -> httpx.Response:
    return await client.get(f"/files/{file_id}", headers={"Authorization": f"Bearer {token}"})


async def upload_document(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    kind: str,
    content: bytes,
    filename: str = "belge.jpg",
) -> dict[str, Any]:
    body = await upload(
        client,
        token,
        application_id,
        content,
        filename,
        query=UPLOAD_DOCUMENT,
        variables={"id": application_id, "kind": kind},
    )
    return body["data"]["uploadApplicationDocument"]  # type: ignore[no-any-return]


async def upload_ce(
    client: httpx.AsyncClient, token: str, brand: str, model: str, content: bytes | None = None
) -> dict[str, Any]:
    body = await upload(
        client,
        token,
        0,
        content if content is not None else jpeg(),
        "ce.jpg",
        query=UPLOAD_CE,
        variables={"brand": brand, "model": model},
    )
    return body["data"]["uploadCeCertificate"]  # type: ignore[no-any-return]


DECLARE = """mutation($id: Int!, $lines: [DeclaredDeviceInput!]!) {
  updateApplication(applicationId: $id, data: {declaredDevices: $lines}) {
    application { id declaredDevices { brand model count } } errors { code field message }
  }
}"""
GROUPS_AND_KIND = """query($id: Int!) {
  application(id: $id) { kind }
  applicationDeviceGroups(applicationId: $id) { brand model deviceCount }
}"""


async def declare_as_listed(client: httpx.AsyncClient, token: str, application_id: int) -> str:
    """Declare (Ek-1's table) exactly the brands, models and counts of the uploaded list;
    returns the application's kind."""
    body = await gql(client, GROUPS_AND_KIND, {"id": application_id}, token=token)
    lines = [
        {"brand": g["brand"], "model": g["model"], "count": g["deviceCount"]}
        for g in body["data"]["applicationDeviceGroups"]
    ]
    if lines:
        declared = await gql(client, DECLARE, {"id": application_id, "lines": lines}, token=token)
        assert declared["data"]["updateApplication"]["errors"] == [], declared
    return str(body["data"]["application"]["kind"])


async def attach_documents(client: httpx.AsyncClient, token: str, application_id: int) -> None:
    """What a firm gives before submitting: the declared table (as listed), the invoice scan
    (a manufacture gives its capacity report instead) and the missing CE scans."""
    kind = await declare_as_listed(client, token, application_id)
    if kind != "MANUFACTURE":
        invoice = await upload_document(
            client, token, application_id, "INVOICE", jpeg(), "fatura.jpg"
        )
        assert invoice["errors"] == [], invoice
    body = await gql(client, WORKFLOW, {"id": application_id}, token=token)
    for group in body["data"]["applicationWorkflow"]["requiredCeCertificates"]:
        if group["certificate"] is None:
            uploaded = await upload_ce(client, token, group["brand"], group["model"])
            assert uploaded["errors"] == [], uploaded


async def step(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """Run a workflow mutation and return its payload, failing on any error."""
    body = await gql(client, query, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert payload["errors"] == [], payload
    return payload


async def refused(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> list[str]:
    """The error codes a mutation answers with (payload errors or top-level ones)."""
    body = await gql(client, query, variables, token=token)
    if body.get("errors"):
        return [e["extensions"]["code"] for e in body["errors"]]
    payload = next(iter(body["data"].values()))
    return [e["code"] for e in payload["errors"]]


async def record_paper(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    kind: str,
    content: bytes | None = None,
    petition: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body = await upload(
        client,
        token,
        application_id,
        content if content is not None else plain_pdf(kind),
        f"{kind.lower()}.pdf",
        query=RECORD_PAPER,
        variables={"id": application_id, "kind": kind, "petition": petition},
    )
    return body["data"]["recordPaperDocument"]  # type: ignore[no-any-return]


async def record_papers(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    petition: list[tuple[str, str, int]],
    kinds: tuple[str, ...] = ("CUSTOMS_DECLARATION_COPY", "FEE_RECEIPT", "SIGNATURE_CIRCULAR"),
) -> None:
    """What staff scan from an import's papers (art. 9(2)): the petition and the rest."""
    table = [{"brand": b, "model": m, "count": c} for b, m, c in petition]
    recorded = await record_paper(client, token, application_id, "PETITION", petition=table)
    assert recorded["errors"] == [], recorded
    for kind in kinds:
        recorded = await record_paper(client, token, application_id, kind, jpeg())
        assert recorded["errors"] == [], recorded


async def upload_signed_by_firm(
    client: httpx.AsyncClient, token: str, application_id: int, form: bytes
) -> dict[str, Any]:
    """The firm's registered signer e-signs the application document; the firm uploads it."""
    signed = await sign_as_firm(application_id, form)
    body = await upload(client, token, application_id, signed, "s.pdf", query=UPLOAD_SIGNED)
    return body["data"]["uploadSignedApplication"]  # type: ignore[no-any-return]
