"""Workflow mutations: the firm's documents and signature, staff review, payment, customs
documents, and the fee schedule. Uploads are multipart with `X-MCKS-Upload: 1`."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from decimal import Decimal

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from models.documents import DocumentKind
from models.roles import Role
from resolvers.actor import Actor
from resolvers.applications.declarations import DeclaredLine
from resolvers.errors import Problems
from resolvers.workflow import (
    customs,
    documents,
    fees,
    online_payments,
    paper,
    payments,
    receipts,
    review,
    signing,
    view,
)
from resolvers.workflow.view import WorkflowView
from schema.applications.mutations import upload_chunks
from schema.context import actor_of, lang_of
from schema.errors import mutate
from schema.permissions import STAFF, requires
from schema.workflow.types import (
    ApplicationWorkflowPayload,
    ApplicationWorkflowType,
    CeCertificatePayload,
    CeCertificateType,
    DraftDocumentKind,
    FeeYearPayload,
    FeeYearType,
    OnlinePaymentPayload,
    OnlinePaymentType,
    PaperDocumentKind,
    PaymentMethodType,
    SignatureMethodType,
)

FIRM = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR)
FIRM_AND_STAFF = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR, *STAFF)
REVIEWERS = requires(Role.STAFF_REVIEWER, Role.STAFF_ADMIN)
ARCHIVE = requires(Role.STAFF_ARCHIVE, Role.STAFF_ADMIN)
# Who enters paper applications (models.workflow: SUBMIT_PAPER).
PAPER_STAFF = requires(*STAFF)


@strawberry.input
class RecordPaymentInput:
    application_id: int
    method: PaymentMethodType  # type: ignore[valid-type]
    amount: Decimal = strawberry.field(description="Liras, as on the fee notice (1250.00).")
    receipt_no: str | None = strawberry.field(
        default=None, description="The bank receipt (dekont) number; required for transfers."
    )
    note: str = ""


@strawberry.input(description="A bank receipt (dekont) as printed by the bank.")
class FeeReceiptInput:
    bank: str
    paid_on: date
    receipt_no: str
    amount: Decimal = strawberry.field(description="Liras, as on the receipt (1250.00).")


@strawberry.input
class PetitionLineInput:
    brand: str = strawberry.field(description="MARKA, as on the petition.")
    model: str = strawberry.field(description="MODEL, as on the petition.")
    count: int = strawberry.field(description="ADET: the number of devices.")


@strawberry.input
class SetFeeYearInput:
    year: int
    fee: Decimal | None = strawberry.field(
        default=None, description="The per-IMEI fee set for the year, in liras."
    )
    revaluation_rate: Decimal | None = strawberry.field(
        default=None, description="The year's revaluation rate as a fraction (0.4379 = 43.79 %)."
    )


async def _then_view(actor: Actor, step: Awaitable[object], application_id: int) -> WorkflowView:
    await step
    return await view.application_workflow(actor, application_id)


async def _workflow(
    info: Info, application_id: int, step: Awaitable[object]
) -> ApplicationWorkflowPayload:
    actor, lang = actor_of(info), lang_of(info)
    return await mutate(
        info,
        _then_view(actor, step, application_id),
        lambda workflow: ApplicationWorkflowPayload.of(workflow, actor, lang),
        lambda errors: ApplicationWorkflowPayload(errors=errors),
    )


def _name(file: Upload, default: str) -> str:
    return getattr(file, "filename", None) or default


async def _record_payment(actor: Actor, payment: RecordPaymentInput) -> object:
    return await payments.record_payment_in_liras(
        actor,
        payment.application_id,
        payment.method,
        payment.amount,
        payment.receipt_no,
        payment.note,
    )


async def _declare_receipt(
    actor: Actor, application_id: int, receipt: FeeReceiptInput, file: Upload
) -> object:
    problems = Problems()
    kurus = problems.check(fees.kurus_of, receipt.amount, "amount")
    return await receipts.declare_receipt(
        actor,
        application_id,
        receipt.bank,
        receipt.paid_on,
        receipt.receipt_no,
        kurus,
        upload_chunks(file),
        _name(file, "dekont"),
        problems=problems,
    )


async def _receipt_workflow(
    info: Info, step: Awaitable[receipts.FeeReceipt]
) -> ApplicationWorkflowPayload:
    actor, lang = actor_of(info), lang_of(info)

    async def run() -> WorkflowView:
        receipt = await step
        return await view.application_workflow(actor, receipt.application_id)

    return await mutate(
        info,
        run(),
        lambda workflow: ApplicationWorkflowPayload.of(workflow, actor, lang),
        lambda errors: ApplicationWorkflowPayload(errors=errors),
    )


async def _started(actor: Actor, application_id: int) -> tuple[object, WorkflowView]:
    order = await online_payments.start_online_payment(actor, application_id)
    return order, await view.application_workflow(actor, application_id)


async def _set_fee_year(actor: Actor, year: SetFeeYearInput) -> fees.FeeYearView:
    fee = fees.kurus_of(year.fee, "fee") if year.fee is not None else None
    return await fees.set_fee_year(actor, year.year, fee, year.revaluation_rate)


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="A draft's invoice scan (JPEG under 300 KB) or capacity report (PDF or "
        "JPEG). Multipart request; send the header `X-MCKS-Upload: 1`.",
    )
    async def upload_application_document(
        self, info: Info, application_id: int, kind: DraftDocumentKind, file: Upload
    ) -> ApplicationWorkflowPayload:
        step = documents.upload_application_document(
            actor_of(info),
            application_id,
            DocumentKind(kind.value),
            upload_chunks(file),
            _name(file, "belge"),
        )
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=PAPER_STAFF,
        description="A paper application's paper as a scan (PDF or JPEG), art. 9(2): the Ek-1 "
        "petition (with `petition`, its MARKA/MODEL/ADET table), the certified customs "
        "declaration copy, the capacity report, a new TAC's letter, the original fee receipt, "
        "the signature circular. Before submission. Multipart (`X-MCKS-Upload: 1`).",
    )
    async def record_paper_document(
        self,
        info: Info,
        application_id: int,
        kind: PaperDocumentKind,
        file: Upload,
        petition: list[PetitionLineInput] | None = None,
    ) -> ApplicationWorkflowPayload:
        step = paper.record_paper_document(
            actor_of(info),
            application_id,
            DocumentKind(kind.value),
            upload_chunks(file),
            _name(file, "tarama"),
            [DeclaredLine(p.brand, p.model, p.count) for p in petition or []] or None,
        )
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=FIRM,
        description="The firm's CE certificate for a brand and model (JPEG under 300 KB); "
        "uploaded once, it serves every later application. Multipart (`X-MCKS-Upload: 1`).",
    )
    async def upload_ce_certificate(
        self, info: Info, brand: str, model: str, file: Upload
    ) -> CeCertificatePayload:
        return await mutate(
            info,
            documents.upload_ce_certificate(
                actor_of(info), brand, model, upload_chunks(file), _name(file, "ce.jpg")
            ),
            lambda certificate: CeCertificatePayload(certificate=CeCertificateType.of(certificate)),
            lambda errors: CeCertificatePayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=FIRM,
        description="Go on with the passing devices: E_SIGNATURE (download the application "
        "document, e-sign, upload) or WET_SIGNATURE (deliver it signed on paper).",
    )
    async def choose_signature_method(
        self,
        info: Info,
        application_id: int,
        method: SignatureMethodType,  # type: ignore[valid-type]
    ) -> ApplicationWorkflowPayload:
        step = signing.choose_signature_method(actor_of(info), application_id, method)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=FIRM,
        description="The e-signed application document (PDF). Multipart (`X-MCKS-Upload: 1`).",
    )
    async def upload_signed_application(
        self, info: Info, application_id: int, file: Upload
    ) -> ApplicationWorkflowPayload:
        step = signing.upload_signed_application(
            actor_of(info), application_id, upload_chunks(file), _name(file, "imzali.pdf")
        )
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=ARCHIVE, description="The wet-signed paper copy arrived at the archive."
    )
    async def receive_hardcopy(
        self, info: Info, application_id: int, note: str = ""
    ) -> ApplicationWorkflowPayload:
        step = signing.receive_hardcopy(actor_of(info), application_id, note)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=REVIEWERS,
        description="Take the application for review (one reviewer). A staff admin takes over "
        "one another reviewer holds by giving `reason` (audited).",
    )
    async def take_application_for_review(
        self, info: Info, application_id: int, reason: str | None = None
    ) -> ApplicationWorkflowPayload:
        step = review.take_for_review(actor_of(info), application_id, reason)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=REVIEWERS,
        description="Approve: the fee notice (passing IMEIs × this year's fee) is issued.",
    )
    async def approve_application(
        self, info: Info, application_id: int
    ) -> ApplicationWorkflowPayload:
        step = review.approve(actor_of(info), application_id)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=REVIEWERS, description="Reject with the reason the firm sees (art. 10(3))."
    )
    async def reject_application(
        self, info: Info, application_id: int, reason: str
    ) -> ApplicationWorkflowPayload:
        step = review.reject(actor_of(info), application_id, reason)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=REVIEWERS, description="Return as incomplete, back to draft (art. 10(2))."
    )
    async def return_application_incomplete(
        self, info: Info, application_id: int, reason: str
    ) -> ApplicationWorkflowPayload:
        step = review.return_incomplete(actor_of(info), application_id, reason)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=ARCHIVE,
        description="Record a payment at the office (card) or a bank transfer found by the "
        "archive, for what is still due: the passing IMEIs are registered and the permit "
        "issued. Recording the same payment again changes nothing. Virtual POS payments "
        "are recorded by the provider (`startOnlinePayment`).",
    )
    async def record_payment(
        self, info: Info, input: RecordPaymentInput
    ) -> ApplicationWorkflowPayload:
        step = _record_payment(actor_of(info), input)
        return await _workflow(info, input.application_id, step)

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="Declare the bank receipt (dekont) of the fee with its scan (JPEG under "
        "300 KB, or PDF): with the application while it is a draft (the fee is reconciled "
        "when it is set), or for the fee notice. Multipart (`X-MCKS-Upload: 1`).",
    )
    async def declare_fee_receipt(
        self, info: Info, application_id: int, receipt: FeeReceiptInput, file: Upload
    ) -> ApplicationWorkflowPayload:
        step = _declare_receipt(actor_of(info), application_id, receipt, file)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=ARCHIVE,
        description="The money of a declared receipt is in the regulator's account: it counts "
        "toward the fee and settles the application when the fee is covered. A receipt "
        "number settles one application only.",
    )
    async def confirm_fee_receipt(self, info: Info, receipt_id: int) -> ApplicationWorkflowPayload:
        return await _receipt_workflow(info, receipts.confirm_receipt(actor_of(info), receipt_id))

    @strawberry.mutation(
        extensions=ARCHIVE, description="Refuse a declared receipt with the reason the firm sees."
    )
    async def refuse_fee_receipt(
        self, info: Info, receipt_id: int, reason: str
    ) -> ApplicationWorkflowPayload:
        step = receipts.refuse_receipt(actor_of(info), receipt_id, reason)
        return await _receipt_workflow(info, step)

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="Pay what is still due by card (virtual POS): send the payer to the "
        "answer's `onlinePayment.paymentUrl`. Calling it again returns the same pending "
        "payment; the outcome arrives from the provider.",
    )
    async def start_online_payment(self, info: Info, application_id: int) -> OnlinePaymentPayload:
        actor, lang = actor_of(info), lang_of(info)
        return await mutate(
            info,
            _started(actor, application_id),
            lambda done: OnlinePaymentPayload(
                online_payment=OnlinePaymentType.of(done[0], lang),  # type: ignore[arg-type]
                workflow=ApplicationWorkflowType.of(done[1], lang),
            ),
            lambda errors: OnlinePaymentPayload(errors=errors),
        )

    @strawberry.mutation(
        extensions=FIRM_AND_STAFF,
        description="Ask the payment provider how pending card payments ended (when its "
        "notification is late).",
    )
    async def refresh_online_payments(
        self, info: Info, application_id: int
    ) -> ApplicationWorkflowPayload:
        step = online_payments.refresh_online_payments(actor_of(info), application_id)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=FIRM,
        description="The customs documents as one PDF (e-signature path); the cover letter is "
        "generated for signing. Multipart (`X-MCKS-Upload: 1`).",
    )
    async def upload_customs_documents(
        self, info: Info, application_id: int, file: Upload
    ) -> ApplicationWorkflowPayload:
        step = customs.upload_customs_documents(
            actor_of(info), application_id, upload_chunks(file), _name(file, "gumruk.pdf")
        )
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=FIRM,
        description="The e-signed cover letter (PDF): completes the application. Multipart "
        "(`X-MCKS-Upload: 1`).",
    )
    async def upload_signed_cover_letter(
        self, info: Info, application_id: int, file: Upload
    ) -> ApplicationWorkflowPayload:
        step = customs.upload_signed_cover_letter(
            actor_of(info), application_id, upload_chunks(file), _name(file, "kapak.pdf")
        )
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=ARCHIVE,
        description="Wet-signature path: the petition and the customs copies arrived.",
    )
    async def receive_customs_documents(
        self, info: Info, application_id: int, note: str = ""
    ) -> ApplicationWorkflowPayload:
        step = customs.receive_customs_documents(actor_of(info), application_id, note)
        return await _workflow(info, application_id, step)

    @strawberry.mutation(
        extensions=requires(Role.STAFF_ADMIN),
        description="Set a year's per-IMEI fee and/or revaluation rate (both null: clear).",
    )
    async def set_fee_year(self, info: Info, input: SetFeeYearInput) -> FeeYearPayload:
        return await mutate(
            info,
            _set_fee_year(actor_of(info), input),
            lambda year: FeeYearPayload(fee_year=FeeYearType.of(year)),
            lambda errors: FeeYearPayload(errors=errors),
        )
