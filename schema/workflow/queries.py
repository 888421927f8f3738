"""Workflow queries: an application's workflow state, CE certificates, fees, deadlines."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from models.payments import ReceiptStatus
from models.roles import Role
from resolvers.documents import issuing
from resolvers.workflow import customs, documents, fees, receipts, view
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.permissions import ANY_PERSON, STAFF, public, requires
from schema.workflow.types import (
    ApplicationWorkflowType,
    CeCertificateConnection,
    CeCertificateType,
    CustomsDeadlineConnection,
    CustomsDeadlineType,
    DocumentVerificationType,
    FeeReceiptConnection,
    FeeReceiptType,
    FeeYearType,
    ReceiptStatusType,
)

FIRM_AND_STAFF = requires(Role.FIRM_USER, Role.FIRM_SUPERVISOR, *STAFF)


def _deadlines(page, info: Info) -> CustomsDeadlineConnection:  # type: ignore[no-untyped-def]
    actor, lang = actor_of(info), lang_of(info)
    return CustomsDeadlineConnection(
        items=[CustomsDeadlineType.of(d, actor, lang) for d in page.items],
        page_info=PageInfo.of(page),
        total_count=page.total_count or 0,
    )


@strawberry.type
class WorkflowQueries:
    @strawberry.field(
        extensions=public(),
        description="Is this the verification code of a document the Kurum signed (fee "
        "notice, permit, cover letter, decision letter)? For anyone, without logging in; "
        "limited per client address. Also `GET /documents/verify/{code}`.",
    )
    async def verify_document(self, info: Info, code: str) -> DocumentVerificationType:
        found = await issuing.verify_code(actor_of(info), code)
        return DocumentVerificationType.of(found, lang_of(info))

    @strawberry.field(
        extensions=requires(*ANY_PERSON),
        description="Signature, review, documents, fee notice, payment and customs deadline "
        "of an application.",
    )
    async def application_workflow(
        self, info: Info, application_id: int
    ) -> ApplicationWorkflowType:
        workflow = await view.application_workflow(actor_of(info), application_id)
        return ApplicationWorkflowType.of(workflow, lang_of(info))

    @strawberry.field(
        extensions=FIRM_AND_STAFF,
        description="CE certificates on file (a firm sees its own; staff filter by firm).",
    )
    async def ce_certificates(
        self, info: Info, firm_id: int | None = None, first: int = 50, after: str | None = None
    ) -> CeCertificateConnection:
        page = await documents.list_ce_certificates(actor_of(info), firm_id, first, after)
        return CeCertificateConnection(
            items=[CeCertificateType.of(c) for c in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=FIRM_AND_STAFF,
        description="The per-IMEI registration fee of each year (art. 15), set or derived by "
        "revaluation.",
    )
    async def fee_schedule(self, info: Info, from_year: int, to_year: int) -> list[FeeYearType]:
        years = await fees.fee_schedule(actor_of(info), from_year, to_year)
        return [FeeYearType.of(y) for y in years]

    @strawberry.field(
        extensions=FIRM_AND_STAFF,
        description="Applications awaiting customs documents with their due dates (a firm "
        "sees its own); newest first.",
    )
    async def customs_deadlines(
        self,
        info: Info,
        firm_id: int | None = None,
        overdue_only: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> CustomsDeadlineConnection:
        page = await customs.customs_deadlines(actor_of(info), first, after, firm_id, overdue_only)
        return _deadlines(page, info)

    @strawberry.field(
        extensions=FIRM_AND_STAFF,
        description="Applications whose customs documents are past due (a firm sees its own).",
    )
    async def overdue_applications(
        self, info: Info, firm_id: int | None = None, first: int = 50, after: str | None = None
    ) -> CustomsDeadlineConnection:
        page = await customs.overdue_applications(actor_of(info), first, after, firm_id)
        return _deadlines(page, info)

    @strawberry.field(
        extensions=requires(*STAFF),
        description="Firms' bank receipts, oldest first: `status: DECLARED` is the archive's "
        "queue of receipts to confirm or refuse.",
    )
    async def fee_receipts(
        self,
        info: Info,
        status: ReceiptStatusType | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> FeeReceiptConnection:
        wanted = ReceiptStatus(status) if status is not None else None
        page = await receipts.list_receipts(actor_of(info), wanted, first, after)
        lang = lang_of(info)
        return FeeReceiptConnection(
            items=[FeeReceiptType.of(r, lang) for r in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )
