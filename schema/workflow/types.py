"""GraphQL shapes of the workflow: documents, fee notice, payment, deadlines, fee years.

Money is a `Money` object: `amount` in liras as an exact `Decimal` (serialised as a string,
never a float) and `text` as people read it ("1.250,00 TL")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import cast

import strawberry
from strawberry.types import Info

from models.documents import CeCertificate, DocumentKind, IssuedKind
from models.fees import format_lira, lira_from_kurus
from models.labels import label
from models.payments import (
    FeeNotice,
    FeeReceipt,
    OnlinePayment,
    OnlinePaymentStatus,
    Payment,
    PaymentMethod,
    ReceiptStatus,
)
from models.progress import SignatureMethod
from resolvers.actor import Actor
from resolvers.documents.issuing import Verification
from resolvers.workflow import view
from resolvers.workflow.customs import CustomsDeadline
from resolvers.workflow.fees import FeeYearView
from resolvers.workflow.requirements import CeRequirement
from schema.applications.types import ApplicationStatusType, ApplicationType
from schema.common import DOWNLOAD_URL_DOC, PageInfo, file_url
from schema.context import actor_of
from schema.errors import UserError

SignatureMethodType = strawberry.enum(SignatureMethod, name="SignatureMethod")
DocumentKindType = strawberry.enum(DocumentKind, name="ApplicationDocumentKind")
PaymentMethodType = strawberry.enum(PaymentMethod, name="PaymentMethod")
ReceiptStatusType = strawberry.enum(ReceiptStatus, name="FeeReceiptStatus")
OnlinePaymentStatusType = strawberry.enum(OnlinePaymentStatus, name="OnlinePaymentStatus")
IssuedKindType = strawberry.enum(IssuedKind, name="IssuedDocumentKind")


@strawberry.type(
    name="DocumentVerification",
    description="Whether a verification code belongs to a document the Kurum signed and "
    "issued, and what that document is: compare its SHA-256 with the file you hold.",
)
class DocumentVerificationType:
    code: str = strawberry.field(description="The code as read (case and dashes normalised).")
    valid: bool = strawberry.field(description="The Kurum issued a document with this code.")
    kind: IssuedKindType | None  # type: ignore[valid-type]
    kind_label: str | None
    number: str | None = strawberry.field(description="The document's number (Sayı).")
    firm_name: str | None
    issued_at: datetime | None
    signatory_name: str | None
    signatory_title: str | None
    sha256: str | None = strawberry.field(description="SHA-256 of the signed PDF as issued.")

    @staticmethod
    def of(found: Verification, lang: str) -> DocumentVerificationType:
        return DocumentVerificationType(
            code=found.code,
            valid=found.valid,
            kind=found.kind,
            kind_label=label(found.kind, lang) if found.kind else None,
            number=found.number,
            firm_name=found.firm_name,
            issued_at=found.issued_at,
            signatory_name=found.signatory_name,
            signatory_title=found.signatory_title,
            sha256=found.sha256,
        )


@strawberry.enum(description="Documents a draft takes: the invoice scan, the capacity report.")
class DraftDocumentKind(Enum):
    INVOICE = "INVOICE"
    CAPACITY_REPORT = "CAPACITY_REPORT"


@strawberry.type(name="Money")
class MoneyType:
    amount: Decimal = strawberry.field(description="Liras, exact (two decimals).")
    text: str = strawberry.field(description='As printed: "1.250,00 TL".')

    @staticmethod
    def of(kurus: int) -> MoneyType:
        return MoneyType(amount=lira_from_kurus(kurus), text=format_lira(kurus))


@strawberry.type(name="ApplicationDocument")
class ApplicationDocumentType:
    kind: DocumentKindType  # type: ignore[valid-type]
    kind_label: str
    file_id: int = strawberry.field(description="Download: GET /files/{fileId}.")

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def url(self, info: Info) -> str | None:
        return await file_url(info, self.file_id)

    name: str
    size: int
    content_type: str
    sha256: str
    created_by: str
    created_at: datetime
    signer_id: int | None = strawberry.field(
        description="E-signed uploads: the firm's registered signer (`firmSigners`) who signed."
    )
    signer_name: str | None

    @staticmethod
    def of(document: view.DocumentView, lang: str) -> ApplicationDocumentType:
        return ApplicationDocumentType(
            kind=document.kind,
            kind_label=label(document.kind, lang),
            file_id=document.file.id,
            name=document.file.original_name,
            size=document.file.size,
            content_type=document.file.content_type,
            sha256=document.file.sha256,
            created_by=document.created_by,
            created_at=document.created_at,
            signer_id=document.signer_id,
            signer_name=document.signer_name,
        )


@strawberry.type(name="FeeNotice")
class FeeNoticeType:
    number: str
    year: int
    imei_count: int
    per_imei: MoneyType
    amount: MoneyType
    file_id: int
    issued_by: str

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def url(self, info: Info) -> str | None:
        return await file_url(info, self.file_id)

    issued_at: datetime

    @staticmethod
    def of(notice: FeeNotice) -> FeeNoticeType:
        return FeeNoticeType(
            number=notice.number,
            year=notice.year,
            imei_count=notice.imei_count,
            per_imei=MoneyType.of(notice.per_imei_kurus),
            amount=MoneyType.of(notice.amount_kurus),
            file_id=notice.file_id,
            issued_by=notice.issued_by,
            issued_at=notice.issued_at,
        )


@strawberry.type(name="Payment")
class PaymentType:
    method: PaymentMethodType  # type: ignore[valid-type]
    method_label: str
    amount: MoneyType
    receipt_no: str | None
    note: str
    recorded_by: str
    recorded_at: datetime

    @staticmethod
    def of(payment: Payment, lang: str) -> PaymentType:
        return PaymentType(
            method=payment.method,
            method_label=label(payment.method, lang),
            amount=MoneyType.of(payment.amount_kurus),
            receipt_no=payment.receipt_no,
            note=payment.note,
            recorded_by=payment.recorded_by,
            recorded_at=payment.recorded_at,
        )


@strawberry.type(name="FeeReceipt", description="A bank receipt (dekont) for the fee.")
class FeeReceiptType:
    id: int
    application_id: int
    bank: str
    paid_on: date
    receipt_no: str
    amount: MoneyType
    file_id: int | None = strawberry.field(description="The scan; null: entered by the archive.")

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def url(self, info: Info) -> str | None:
        return await file_url(info, self.file_id)

    with_application: bool = strawberry.field(
        description="Given with the application, before the fee was set (art. 8(2)(f))."
    )
    status: ReceiptStatusType  # type: ignore[valid-type]
    status_label: str
    refusal_reason: str
    declared_by: str
    declared_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @staticmethod
    def of(receipt: FeeReceipt, lang: str) -> FeeReceiptType:
        return FeeReceiptType(
            id=receipt.id,
            application_id=receipt.application_id,
            bank=receipt.bank,
            paid_on=receipt.paid_on,
            receipt_no=receipt.receipt_no,
            amount=MoneyType.of(receipt.amount_kurus),
            file_id=receipt.file_id,
            with_application=receipt.with_application,
            status=receipt.status,
            status_label=label(receipt.status, lang),
            refusal_reason=receipt.refusal_reason,
            declared_by=receipt.declared_by,
            declared_at=receipt.declared_at,
            decided_by=receipt.decided_by,
            decided_at=receipt.decided_at,
        )


@strawberry.type
class FeeReceiptConnection:
    items: list[FeeReceiptType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type(name="OnlinePayment", description="One attempt to pay by card (virtual POS).")
class OnlinePaymentType:
    order_id: str
    amount: MoneyType
    status: OnlinePaymentStatusType  # type: ignore[valid-type]
    status_label: str
    payment_url: str | None = strawberry.field(
        description="The provider's card page, while the payment is pending."
    )
    decline_reason: str | None = strawberry.field(description="Why the card was declined.")
    provider_message: str = strawberry.field(description="The provider's own words, if any.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(order: OnlinePayment, lang: str) -> OnlinePaymentType:
        return OnlinePaymentType(
            order_id=order.order_id,
            amount=MoneyType.of(order.amount_kurus),
            status=order.status,
            status_label=label(order.status, lang),
            payment_url=order.payment_url,
            decline_reason=label(order.decline_code, lang) if order.decline_code else None,
            provider_message=order.decline_message,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


@strawberry.type(name="FeeBalance", description="The fee and what has come in toward it.")
class FeeBalanceType:
    due: MoneyType | None = strawberry.field(description="The fee notice; null: not set yet.")
    paid: MoneyType = strawberry.field(description="Confirmed receipts and card payments.")
    outstanding: MoneyType | None = strawberry.field(description="Still to pay (the difference).")
    overpaid: MoneyType
    pending_receipts: int = strawberry.field(description="Receipts awaiting the archive.")
    settled: bool
    message: str

    @staticmethod
    def of(balance: view.Balance, lang: str) -> FeeBalanceType:
        due, outstanding = balance.due_kurus, balance.outstanding_kurus
        return FeeBalanceType(
            due=MoneyType.of(due) if due is not None else None,
            paid=MoneyType.of(balance.paid_kurus),
            outstanding=MoneyType.of(outstanding) if outstanding is not None else None,
            overpaid=MoneyType.of(balance.overpaid_kurus),
            pending_receipts=balance.pending_receipts,
            settled=balance.settled,
            message=balance.message(lang),
        )


@strawberry.type(name="CeCertificate")
class CeCertificateType:
    id: int
    firm_id: int
    brand: str
    model: str
    file_id: int
    uploaded_by: str

    @strawberry.field(description=DOWNLOAD_URL_DOC)
    async def url(self, info: Info) -> str | None:
        return await file_url(info, self.file_id)

    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(certificate: CeCertificate) -> CeCertificateType:
        return CeCertificateType(
            id=certificate.id,
            firm_id=certificate.firm_id,
            brand=certificate.brand,
            model=certificate.model_code,
            file_id=certificate.file_id,
            uploaded_by=certificate.uploaded_by,
            created_at=certificate.created_at,
            updated_at=certificate.updated_at,
        )


@strawberry.type(name="CeRequirement", description="A brand/model group of the device list.")
class CeRequirementType:
    brand: str
    model: str
    certificate: CeCertificateType | None = strawberry.field(
        description="The firm's certificate for it; null: still to upload."
    )

    @staticmethod
    def of(requirement: CeRequirement) -> CeRequirementType:
        certificate = requirement.certificate
        return CeRequirementType(
            brand=requirement.brand,
            model=requirement.model,
            certificate=CeCertificateType.of(certificate) if certificate else None,
        )


@strawberry.type(name="PetitionLine", description="A MARKA/MODEL/ADET row of an Ek-1 petition.")
class PetitionLineType:
    brand: str
    model: str
    count: int = strawberry.field(description="ADET: devices of this brand and model.")


@strawberry.enum(description="The papers of a paper application (art. 9(2)) staff record as scans.")
class PaperDocumentKind(Enum):
    PETITION = "PETITION"
    CUSTOMS_DECLARATION_COPY = "CUSTOMS_DECLARATION_COPY"
    CAPACITY_REPORT = "CAPACITY_REPORT"
    TAC_LETTER = "TAC_LETTER"
    FEE_RECEIPT = "FEE_RECEIPT"
    SIGNATURE_CIRCULAR = "SIGNATURE_CIRCULAR"


@strawberry.type(name="ApplicationWorkflow")
class ApplicationWorkflowType:
    application_id: int
    status: ApplicationStatusType  # type: ignore[valid-type]
    status_label: str
    signature_method: SignatureMethodType | None  # type: ignore[valid-type]
    signer_name: str | None = strawberry.field(description="From the e-signature certificate.")
    signature_trusted: bool | None = strawberry.field(
        description="null: no trust roots are configured, only integrity was checked."
    )
    reviewer_name: str | None
    review_taken_at: datetime | None
    documents: list[ApplicationDocumentType] = strawberry.field(
        description="The current document of each kind, uploaded and generated."
    )
    fee_notice: FeeNoticeType | None
    payment: PaymentType | None
    fee_receipts: list[FeeReceiptType]
    online_payments: list[OnlinePaymentType]
    fee_balance: FeeBalanceType
    registered_at: datetime | None
    registered_imei_count: int
    held_imei_count: int = strawberry.field(
        description="Mainboard/swap IMEIs held for the replacement flow (art. 11(2))."
    )
    customs_due_at: datetime | None
    customs_overdue: bool
    completed_at: datetime | None

    @strawberry.field(description="The file id of the current document of a kind, if any.")
    def document_file_id(self, kind: DocumentKindType) -> int | None:  # type: ignore[valid-type]
        wanted = cast(DocumentKind, kind)
        return next((d.file_id for d in self.documents if d.kind == wanted), None)

    @strawberry.field(description="The current document of a kind as a download link (as `url`).")
    async def document_url(
        self,
        info: Info,
        kind: DocumentKindType,  # type: ignore[valid-type]
    ) -> str | None:
        wanted = cast(DocumentKind, kind)
        file_id = next((d.file_id for d in self.documents if d.kind == wanted), None)
        return await file_url(info, file_id)

    @strawberry.field(
        description="The device list's brand/model groups and the firm's CE certificates "
        "(electronic imports, manufacture and swap devices)."
    )
    async def required_ce_certificates(self, info: Info) -> list[CeRequirementType]:
        requirements = await view.required_ce_certificates(actor_of(info), self.application_id)
        return [CeRequirementType.of(r) for r in requirements]

    @strawberry.field(
        description="A paper application's Ek-1 petition: its MARKA/MODEL/ADET table as staff "
        "recorded it (art. 9(2)(a)); empty otherwise."
    )
    async def petition(self, info: Info) -> list[PetitionLineType]:
        lines = await view.petition(actor_of(info), self.application_id)
        return [PetitionLineType(brand=x.brand, model=x.model, count=x.count) for x in lines]

    @staticmethod
    def of(workflow: view.WorkflowView, lang: str) -> ApplicationWorkflowType:
        application, progress = workflow.application, workflow.progress
        return ApplicationWorkflowType(
            application_id=application.id,
            status=application.status,
            status_label=label(application.status, lang),
            signature_method=workflow.signature_method,
            signer_name=progress.signer_name if progress else None,
            signature_trusted=progress.signature_trusted if progress else None,
            reviewer_name=progress.reviewer_name if progress else None,
            review_taken_at=progress.review_taken_at if progress else None,
            documents=[ApplicationDocumentType.of(d, lang) for d in workflow.documents],
            fee_notice=FeeNoticeType.of(workflow.fee_notice) if workflow.fee_notice else None,
            payment=PaymentType.of(workflow.payment, lang) if workflow.payment else None,
            fee_receipts=[FeeReceiptType.of(r, lang) for r in workflow.fee_receipts],
            online_payments=[OnlinePaymentType.of(o, lang) for o in workflow.online_payments],
            fee_balance=FeeBalanceType.of(workflow.balance, lang),
            registered_at=progress.registered_at if progress else None,
            registered_imei_count=progress.registered_imei_count if progress else 0,
            held_imei_count=progress.held_imei_count if progress else 0,
            customs_due_at=workflow.customs_due_at,
            customs_overdue=workflow.customs_overdue,
            completed_at=progress.completed_at if progress else None,
        )


@strawberry.type
class ApplicationWorkflowPayload:
    application: ApplicationType | None = None
    workflow: ApplicationWorkflowType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @staticmethod
    def of(workflow: view.WorkflowView, actor: Actor, lang: str) -> ApplicationWorkflowPayload:
        return ApplicationWorkflowPayload(
            application=ApplicationType.of(workflow.application, actor, lang),
            workflow=ApplicationWorkflowType.of(workflow, lang),
        )


@strawberry.type
class OnlinePaymentPayload:
    online_payment: OnlinePaymentType | None = strawberry.field(
        default=None, description="Send the payer to its paymentUrl."
    )
    workflow: ApplicationWorkflowType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CeCertificatePayload:
    certificate: CeCertificateType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CeCertificateConnection:
    items: list[CeCertificateType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")


@strawberry.type(name="FeeYear")
class FeeYearType:
    year: int
    fee: MoneyType | None = strawberry.field(description="The per-IMEI fee set for this year.")
    revaluation_rate: Decimal | None = strawberry.field(
        description="The year's revaluation rate as a fraction (0.4379 = 43.79 %)."
    )
    per_imei: MoneyType | None = strawberry.field(
        description="What the year's per-IMEI fee works out to; null: not defined."
    )
    base_year: int | None = strawberry.field(description="The year whose set fee it grew from.")

    @staticmethod
    def of(year: FeeYearView) -> FeeYearType:
        worked_out = year.quote
        return FeeYearType(
            year=year.year,
            fee=MoneyType.of(year.fee_kurus) if year.fee_kurus is not None else None,
            revaluation_rate=year.revaluation_rate,
            per_imei=MoneyType.of(worked_out.per_imei_kurus) if worked_out else None,
            base_year=worked_out.base_year if worked_out else None,
        )


@strawberry.type
class FeeYearPayload:
    fee_year: FeeYearType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="CustomsDeadline")
class CustomsDeadlineType:
    application: ApplicationType
    customs_due_at: datetime | None
    overdue: bool

    @staticmethod
    def of(deadline: CustomsDeadline, actor: Actor, lang: str) -> CustomsDeadlineType:
        return CustomsDeadlineType(
            application=ApplicationType.of(deadline.application, actor, lang),
            customs_due_at=deadline.due_at,
            overdue=deadline.overdue,
        )


@strawberry.type
class CustomsDeadlineConnection:
    items: list[CustomsDeadlineType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")
