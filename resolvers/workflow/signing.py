"""The signature step (guide §3.1–3.2): the firm picks e-signature or wet signature for the
passing devices; the application document is generated; then either the firm uploads it
e-signed, or archive staff mark the signed paper copy received. Both lead to review."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.documents import DocumentKind
from models.progress import SignatureMethod
from models.workflow import Action
from resolvers import files
from resolvers.actor import Actor
from resolvers.applications import declarations, transitions
from resolvers.applications.access import get_application
from resolvers.errors import DomainError, ErrorCode, invalid_state
from resolvers.settings import get_settings
from resolvers.workflow import pdfs
from resolvers.workflow.common import (
    Content,
    current_document,
    passing_groups,
    progress_of,
    read_upload,
)
from resolvers.workflow.documents import store_document
from resolvers.workflow.signatures import verify_signed_pdf

CHOICES = {
    SignatureMethod.E_SIGNATURE: Action.CHOOSE_E_SIGNATURE,
    SignatureMethod.WET_SIGNATURE: Action.CHOOSE_WET_SIGNATURE,
}


async def choose_signature_method(
    actor: Actor, application_id: int, method: SignatureMethod
) -> Application:
    """Go on with the passing devices: generate the application document (Ek-1) to sign."""
    action = CHOICES[method]
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, application, action)
        groups = await passing_groups(application.id)
        if not groups:
            # "The firm goes on with the passing devices only": with none there is nothing
            # to sign; the firm fixes the list and resubmits, or cancels.
            raise DomainError(ErrorCode.NO_PASSING_DEVICES)
        # Art. 10(3): nothing to sign while the declaration and the list disagree.
        await declarations.require_consistent(application.id)
        firm = await Firm.get(id=application.firm_id)
        now = clock.now()
        html = pdfs.application_form_html(
            application,
            firm,
            groups,
            method,
            now,
            declared=await declarations.declared(application.id),
        )
        _, form = await pdfs.issue(actor, application, DocumentKind.APPLICATION_FORM, html)
        progress = await progress_of(application.id)
        progress.signature_method = method
        progress.signature_chosen_at = now
        progress.signer_name = None
        progress.signature_trusted = None
        progress.updated_at = now
        await progress.save()
        await transitions.apply(
            actor,
            application,
            action,
            details={"method": method.value, "applicationFormFileId": form.id},
        )
    return application


@files.atomic_uploads
async def upload_signed_application(
    actor: Actor, application_id: int, content: Content, filename: str
) -> Application:
    """The e-signed application document: checked (see `signatures`), stored, to review."""
    application = await get_application(actor, application_id)
    transitions.check(actor, application, Action.UPLOAD_SIGNED_DOCUMENT)
    issued = await current_document(application_id, DocumentKind.APPLICATION_FORM)
    if issued is None:
        raise invalid_state("başvuru dokümanı üretilmemiş", "no application document was issued")
    form_document, form_file = issued
    data = await read_upload(content, get_settings().max_document_bytes)
    signature = await verify_signed_pdf(
        data,
        await files.read_bytes(form_file),
        "başvuru dokümanı",
        "application document",
        firm_id=application.firm_id,
    )
    async with in_transaction():
        locked = await get_application(actor, application_id, for_update=True)
        transitions.check(actor, locked, Action.UPLOAD_SIGNED_DOCUMENT)
        latest = await current_document(application_id, DocumentKind.APPLICATION_FORM)
        if latest is None or latest[0].id != form_document.id:
            raise invalid_state(
                "başvuru dokümanı bu arada yeniden üretildi",
                "the application document was issued again meanwhile",
            )
        _, stored = await store_document(
            actor,
            locked,
            DocumentKind.SIGNED_APPLICATION,
            data,
            filename,
            "application/pdf",
            signature.registered,
        )
        progress = await progress_of(locked.id)
        progress.signer_name = signature.signer[:255]
        progress.signature_trusted = signature.trusted
        progress.updated_at = clock.now()
        await progress.save(update_fields=["signer_name", "signature_trusted", "updated_at"])
        await transitions.apply(
            actor,
            locked,
            Action.UPLOAD_SIGNED_DOCUMENT,
            details={
                "fileId": stored.id,
                "sha256": stored.sha256,
                "signer": signature.signer,
                "signerId": signature.registered.id,
                "trust": signature.trust_note,
            },
        )
    return locked


async def receive_hardcopy(actor: Actor, application_id: int, note: str = "") -> Application:
    """Archive staff received the wet-signed, stamped paper copy: on to review."""
    async with in_transaction():
        application = await get_application(actor, application_id, for_update=True)
        return await transitions.apply(
            actor, application, Action.RECEIVE_HARDCOPY, details={"note": note.strip()}
        )
