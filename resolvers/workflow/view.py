"""Everything the workflow knows about one application, for the firm's and staff's screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import clock
from models.applications import Application
from models.documents import ApplicationDocument, DocumentKind
from models.files import StoredFile
from models.payments import FeeNotice, FeeReceipt, OnlinePayment, Payment
from models.progress import ApplicationProgress, SignatureMethod
from models.workflow import ApplicationStatus
from resolvers.actor import Actor
from resolvers.applications import declarations
from resolvers.applications.access import get_application
from resolvers.applications.declarations import DeclaredLine
from resolvers.workflow.balance import Balance, balance_of
from resolvers.workflow.common import signature_path
from resolvers.workflow.requirements import CeRequirement, ce_requirements


@dataclass(frozen=True, slots=True)
class DocumentView:
    kind: DocumentKind
    file: StoredFile
    created_by: str
    created_at: datetime
    signer_id: int | None = None  # an e-signed upload: the firm's registered signer
    signer_name: str | None = None


@dataclass(frozen=True, slots=True)
class WorkflowView:
    application: Application
    progress: ApplicationProgress | None
    signature_method: SignatureMethod | None
    documents: list[DocumentView]  # the current one of each kind
    fee_notice: FeeNotice | None
    payment: Payment | None
    fee_receipts: list[FeeReceipt]
    online_payments: list[OnlinePayment]
    balance: Balance

    @property
    def customs_due_at(self) -> datetime | None:
        return self.progress.customs_due_at if self.progress is not None else None

    @property
    def customs_overdue(self) -> bool:
        due = self.customs_due_at
        return (
            due is not None
            and self.application.status == ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS
            and due < clock.now()
        )

    def document(self, kind: DocumentKind) -> DocumentView | None:
        return next((d for d in self.documents if d.kind == kind), None)


async def application_workflow(actor: Actor, application_id: int) -> WorkflowView:
    application = await get_application(actor, application_id)
    progress = await ApplicationProgress.get_or_none(application_id=application.id)
    rows = await ApplicationDocument.filter(application_id=application.id).order_by("-id")
    current: dict[DocumentKind, ApplicationDocument] = {}
    for row in rows:
        current.setdefault(row.kind, row)
    stored = {
        f.id: f for f in await StoredFile.filter(id__in=[d.file_id for d in current.values()])
    }
    documents = [
        DocumentView(
            kind, stored[d.file_id], d.created_by, d.created_at, d.signer_id, d.signer_name
        )
        for kind, d in sorted(current.items(), key=lambda item: item[1].id)
    ]
    return WorkflowView(
        application=application,
        progress=progress,
        signature_method=signature_path(application, progress),
        documents=documents,
        fee_notice=await FeeNotice.get_or_none(application_id=application.id),
        payment=await Payment.get_or_none(application_id=application.id),
        fee_receipts=await FeeReceipt.filter(application_id=application.id).order_by("id"),
        online_payments=await OnlinePayment.filter(application_id=application.id).order_by("id"),
        balance=await balance_of(application.id),
    )


async def required_ce_certificates(actor: Actor, application_id: int) -> list[CeRequirement]:
    """The device list's brand/model groups and the firm's CE certificate for each."""
    return await ce_requirements(await get_application(actor, application_id))


async def petition(actor: Actor, application_id: int) -> list[DeclaredLine]:
    """A paper application's Ek-1 petition table as staff recorded it (art. 9(2)(a)): the
    application's declaration."""
    application = await get_application(actor, application_id)
    return await declarations.declared(application.id)
