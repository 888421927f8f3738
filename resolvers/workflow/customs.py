"""Customs documents after the import (guide §6): due within the configured months of the
payment. E-signature path: the firm uploads the documents as one PDF, downloads the cover
letter we generate for them, and uploads it e-signed. Wet path: archive staff receive the
petition and the copies on paper. Either completes the application. Staff list what is
overdue; firms see their deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.documents import DocumentKind, IssuedKind
from models.progress import ApplicationProgress, SignatureMethod
from models.workflow import Action, ApplicationStatus
from resolvers import audit, files
from resolvers.actor import Actor
from resolvers.applications import transitions
from resolvers.applications.access import get_application
from resolvers.documents.issuing import prepare_seal
from resolvers.errors import DomainError, ErrorCode, invalid_state
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.settings import get_settings
from resolvers.workflow import pdfs
from resolvers.workflow.common import (
    Content,
    current_document,
    progress_of,
    read_upload,
    reference,
    signature_path,
)
from resolvers.workflow.documents import PDF, require_type, store_document
from resolvers.workflow.payments import permit_number
from resolvers.workflow.signatures import verify_signed_pdf


@dataclass(frozen=True, slots=True)
class CustomsDeadline:
    application: Application
    due_at: datetime | None
    overdue: bool


async def _e_signature_path(actor: Actor, application_id: int, lock: bool) -> Application:
    """The firm's own application, awaiting customs documents, on the e-signature path."""
    application = await get_application(actor, application_id, for_update=lock)
    if not actor.is_firm:
        raise DomainError(ErrorCode.FORBIDDEN)
    if application.status != ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS:
        raise invalid_state(
            "başvuru gümrük belgesi beklemiyor", "the application is not awaiting customs documents"
        )
    progress = await ApplicationProgress.get_or_none(application_id=application.id)
    path = signature_path(application, progress)
    if path != SignatureMethod.E_SIGNATURE:
        raise invalid_state(
            "ıslak imzalı başvurularda gümrük belgeleri dilekçeyle Kurum arşivine teslim edilir",
            "with a wet signature the customs documents go to the archive on paper",
        )
    return application


@files.atomic_uploads
async def upload_customs_documents(
    actor: Actor, application_id: int, content: Content, filename: str
) -> Application:
    """The customs documents as one PDF; the cover letter naming it is generated."""
    await _e_signature_path(actor, application_id, lock=False)
    data = await read_upload(content, get_settings().max_document_bytes)
    require_type(data, (PDF,))
    prepared = await prepare_seal(IssuedKind.COVER_LETTER)
    async with in_transaction():
        application = await _e_signature_path(actor, application_id, lock=True)
        permit = await current_document(application.id, DocumentKind.PERMIT)
        if permit is None:
            raise invalid_state("ithal izin belgesi yok", "there is no import permit")
        _, stored = await store_document(
            actor, application, DocumentKind.CUSTOMS_DOCUMENTS, data, filename, PDF
        )
        firm = await Firm.get(id=application.firm_id)
        html = pdfs.cover_letter_html(
            application,
            firm,
            permit_number(application),
            permit[0].created_at,
            pdfs.CustomsFileInfo(stored.original_name, stored.size, stored.sha256),
            clock.now(),
            prepared.seal,
        )
        _, letter = await pdfs.issue(
            actor, application, DocumentKind.COVER_LETTER, html, (prepared, reference(application))
        )
        await audit.record(
            actor,
            "application.customs_documents_uploaded",
            "Application",
            application.id,
            {"fileId": stored.id, "sha256": stored.sha256, "coverLetterFileId": letter.id},
            firm_id=application.firm_id,
        )
    return application


@files.atomic_uploads
async def upload_signed_cover_letter(
    actor: Actor, application_id: int, content: Content, filename: str
) -> Application:
    """The e-signed cover letter: checked like the application document; completes it."""
    application = await _e_signature_path(actor, application_id, lock=False)
    transitions.check(actor, application, Action.COMPLETE_CUSTOMS)
    issued = await current_document(application_id, DocumentKind.COVER_LETTER)
    if issued is None:
        raise invalid_state(
            "önce gümrük belgelerini yükleyin", "upload the customs documents first"
        )
    letter_document, letter_file = issued
    data = await read_upload(content, get_settings().max_document_bytes)
    signature = await verify_signed_pdf(
        data,
        await files.read_bytes(letter_file),
        "kapak yazısı",
        "cover letter",
        firm_id=application.firm_id,
    )
    async with in_transaction():
        locked = await _e_signature_path(actor, application_id, lock=True)
        latest = await current_document(application_id, DocumentKind.COVER_LETTER)
        if latest is None or latest[0].id != letter_document.id:
            raise invalid_state(
                "kapak yazısı bu arada yeniden üretildi (gümrük belgeleri yeniden yüklendi)",
                "the cover letter was issued again meanwhile (new customs documents)",
            )
        _, stored = await store_document(
            actor,
            locked,
            DocumentKind.SIGNED_COVER_LETTER,
            data,
            filename,
            PDF,
            signature.registered,
        )
        progress = await progress_of(locked.id)
        progress.completed_at = progress.updated_at = clock.now()
        await progress.save(update_fields=["completed_at", "updated_at"])
        await transitions.apply(
            actor,
            locked,
            Action.COMPLETE_CUSTOMS,
            details={
                "path": SignatureMethod.E_SIGNATURE.value,
                "fileId": stored.id,
                "signer": signature.signer,
                "signerId": signature.registered.id,
                "trust": signature.trust_note,
            },
        )
    return locked


async def receive_customs_documents(
    actor: Actor, application_id: int, note: str = ""
) -> Application:
    """Archive staff received the petition with the customs copies (wet path, guide §6.2)."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, Action.COMPLETE_CUSTOMS)
        if not actor.is_staff:
            raise DomainError(ErrorCode.FORBIDDEN)
        progress = await progress_of(application.id)
        if signature_path(application, progress) != SignatureMethod.WET_SIGNATURE:
            raise invalid_state(
                "e-imzalı başvurularda gümrük belgeleri portaldan e-imzalı kapak yazısıyla "
                "yüklenir",
                "with an e-signature the firm uploads the customs documents and the e-signed "
                "cover letter",
            )
        progress.completed_at = progress.updated_at = clock.now()
        await progress.save(update_fields=["completed_at", "updated_at"])
        return await transitions.apply(
            actor,
            application,
            Action.COMPLETE_CUSTOMS,
            details={"path": SignatureMethod.WET_SIGNATURE.value, "note": note.strip()},
        )


async def customs_deadlines(
    actor: Actor,
    first: int,
    after: str | None,
    firm_id: int | None = None,
    overdue_only: bool = False,
) -> Page[CustomsDeadline]:
    """Applications awaiting customs documents with their due dates (a firm: its own)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    now = clock.now()
    query = visible_to(
        Application.filter(status=ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS), actor
    )
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if overdue_only:
        query = query.filter(
            id__in=Subquery(
                ApplicationProgress.filter(customs_due_at__lt=now).values("application_id")
            )
        )
    page = await paginate(query, first, after, count=True)
    due = {
        p.application_id: p.customs_due_at
        for p in await ApplicationProgress.filter(application_id__in=[a.id for a in page.items])
    }
    return Page(
        items=[CustomsDeadline(a, due.get(a.id), (due.get(a.id) or now) < now) for a in page.items],
        end_cursor=page.end_cursor,
        has_next_page=page.has_next_page,
        total_count=page.total_count,
    )


async def overdue_applications(
    actor: Actor, first: int, after: str | None, firm_id: int | None = None
) -> Page[CustomsDeadline]:
    """Applications whose customs documents are past due: staff see every firm's, a firm
    its own (guide §6)."""
    return await customs_deadlines(actor, first, after, firm_id, overdue_only=True)
