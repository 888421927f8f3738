"""Documents the firm uploads while its application is a draft, and its CE certificates.

Types are decided by content, never by the file name (guide §3: invoice and CE scans are
JPEG under 300 KB). Files are stored content-addressed and atomically (`resolvers.files`),
owned by the firm, so only the firm and staff download them.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image
from tortoise.transactions import in_transaction

from models import clock
from models.applications import Application
from models.documents import ApplicationDocument, CeCertificate, DocumentKind
from models.files import FileKind, StoredFile
from models.names import brand_model_key, normalise_brand_model
from models.signers import FirmSigner
from models.workflow import EDITABLE, ApplicationKind, clears_customs
from resolvers import audit, files
from resolvers.actor import Actor
from resolvers.applications.access import get_application
from resolvers.applications.drafts import require_editor
from resolvers.errors import DomainError, ErrorCode, Problems, invalid, invalid_state
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.settings import get_settings
from resolvers.workflow.common import Content, read_upload

# Guide §3: scans "300 KB'tan küçük JPEG".
SCAN_MAX_BYTES = 300 * 1024
JPEG = "image/jpeg"
PDF = "application/pdf"

# What a draft accepts, and as which content types.
DRAFT_DOCUMENTS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.INVOICE: (JPEG,),
    DocumentKind.CAPACITY_REPORT: (PDF, JPEG),
}
FILE_KINDS = {
    DocumentKind.INVOICE: FileKind.INVOICE,
    DocumentKind.CAPACITY_REPORT: FileKind.CAPACITY_REPORT,
    DocumentKind.SIGNED_APPLICATION: FileKind.SIGNED_APPLICATION,
    DocumentKind.CUSTOMS_DOCUMENTS: FileKind.CUSTOMS_DOCUMENTS,
    DocumentKind.SIGNED_COVER_LETTER: FileKind.SIGNED_COVER_LETTER,
    DocumentKind.PETITION: FileKind.PETITION,
    DocumentKind.CUSTOMS_DECLARATION_COPY: FileKind.CUSTOMS_DOCUMENTS,
    DocumentKind.TAC_LETTER: FileKind.TAC_LETTER,
    DocumentKind.FEE_RECEIPT: FileKind.OTHER,
    DocumentKind.SIGNATURE_CIRCULAR: FileKind.OTHER,
}
_TYPE_NAMES = {JPEG: "JPEG", PDF: "PDF"}
# A scan of an A4 page at 600 dpi is 35 megapixels; more is not a scan (and a small file
# that claims a huge image would take gigabytes to decode).
MAX_SCAN_PIXELS = 50_000_000


def require_type(data: bytes, allowed: tuple[str, ...], field: str = "file") -> str:
    """The content type the bytes show, if it is one of `allowed`; a JPEG must decode as
    one (a file that only starts like a JPEG is refused). PDFs are recognised by their
    header."""
    found = files.sniff_kind(data[:16])
    if found not in allowed:
        names = " ya da ".join(_TYPE_NAMES[t] for t in allowed)
        names_en = " or ".join(_TYPE_NAMES[t] for t in allowed)
        raise invalid(
            field,
            f"dosya içeriği {names} değil (dosya adına değil içeriğe bakılır)",
            f"the content is not {names_en} (the content decides, not the name)",
        )
    if found == JPEG:
        _require_decodable_jpeg(data, field)
    return found


def _require_decodable_jpeg(data: bytes, field: str) -> None:
    """Decode the image with Pillow: a broken, truncated or disguised file is refused."""
    try:
        with warnings.catch_warnings():
            # The size is judged below, against a scan's, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
                width, height = image.size
                if width * height > MAX_SCAN_PIXELS:
                    raise _too_large(field, f"{width}×{height}")
                # Every byte of the compressed data is still read, at an eighth of the
                # size in memory (JPEG's own scaled decoding).
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except Image.DecompressionBombError as error:
        raise _too_large(field, "") from error
    except (OSError, SyntaxError, ValueError) as error:
        raise invalid(
            field,
            "dosya JPEG olarak açılamadı (bozuk, eksik ya da JPEG gibi başlayan başka bir "
            "dosya); belgeyi yeniden tarayıp JPEG olarak kaydedin",
            "the file cannot be opened as a JPEG (broken, cut short, or another file that "
            "starts like one); scan the document again and save it as JPEG",
        ) from error


def _too_large(field: str, size: str) -> DomainError:
    megapixels = MAX_SCAN_PIXELS // 1_000_000
    said_tr = f"görüntü {size} piksel" if size else "görüntü çok büyük"
    said_en = f"the image is {size} pixels" if size else "the image is far too large"
    return invalid(
        field,
        f"{said_tr}; taranmış bir belge en fazla {megapixels} megapiksel olur",
        f"{said_en}; a scan has at most {megapixels} megapixels",
    )


def require_kind_fits(application: Application, kind: DocumentKind) -> None:
    """A capacity report belongs to manufactured devices (instead of an invoice), a customs
    declaration to imports."""
    imported = clears_customs(application.kind, application.production_date)
    if kind == DocumentKind.INVOICE and application.kind == ApplicationKind.MANUFACTURE:
        raise invalid(
            "kind",
            "imalat başvurusunda fatura değil kapasite raporu verilir (madde 8(3))",
            "a manufacture application gives its capacity report, not an invoice (art. 8(3))",
        )
    if kind == DocumentKind.CAPACITY_REPORT and imported:
        raise invalid(
            "kind",
            "kapasite raporu yalnızca imal edilen cihazlar için verilir",
            "a capacity report belongs to manufactured devices only",
        )
    if kind == DocumentKind.CUSTOMS_DECLARATION_COPY and not imported:
        raise invalid(
            "kind",
            "imal edilen cihazların gümrük beyannamesi yoktur",
            "manufactured devices have no customs declaration",
        )


async def store_document(
    actor: Actor,
    application: Application,
    kind: DocumentKind,
    data: bytes,
    filename: str,
    content_type: str,
    signer: FirmSigner | None = None,
) -> tuple[ApplicationDocument, StoredFile]:
    """Store an uploaded document of the application (inside the caller's transaction);
    an e-signed one with the firm's registered signer who signed it."""
    stored = await files.store(
        actor,
        data,
        kind=FILE_KINDS[kind],
        original_name=filename,
        content_type=content_type,
        firm_id=application.firm_id,
        max_bytes=len(data),
    )
    document = await ApplicationDocument.create(
        application_id=application.id,
        kind=kind,
        file_id=stored.id,
        created_by=actor.name,
        created_at=clock.now(),
        signer_id=signer.id if signer else None,
        signer_name=signer.name if signer else None,
    )
    return document, stored


@files.atomic_uploads
async def upload_application_document(
    actor: Actor, application_id: int, kind: DocumentKind, content: Content, filename: str
) -> Application:
    """The invoice scan or the capacity report of a draft (replacing an earlier one)."""
    application = await get_application(actor, application_id)
    require_editor(actor, application)
    allowed = DRAFT_DOCUMENTS.get(kind)
    if allowed is None:
        raise invalid(
            "kind",
            "bu belge türü taslağa yüklenmez",
            "this kind of document is not uploaded to a draft",
        )
    require_kind_fits(application, kind)
    if application.status not in EDITABLE:
        raise invalid_state(
            "belgeler yalnızca taslak başvurularda değiştirilebilir",
            "documents can only be changed on a draft",
        )
    limit = SCAN_MAX_BYTES if kind == DocumentKind.INVOICE else get_settings().max_document_bytes
    data = await read_upload(content, limit)
    content_type = require_type(data, allowed)
    async with in_transaction():
        locked = await get_application(actor, application_id, for_update=True)
        if locked.status not in EDITABLE:
            raise invalid_state(
                "başvuru artık taslak değil", "the application is no longer a draft"
            )
        _, stored = await store_document(actor, locked, kind, data, filename, content_type)
        await audit.record(
            actor,
            "application.document_uploaded",
            "Application",
            locked.id,
            {"kind": kind.value, "fileId": stored.id, "sha256": stored.sha256, "name": filename},
            firm_id=locked.firm_id,
        )
    return locked


@files.atomic_uploads
async def upload_ce_certificate(
    actor: Actor, brand: str, model: str, content: Content, filename: str
) -> CeCertificate:
    """A firm's CE certificate for a brand and model: once per model, reused by every later
    application of the firm (guide §3); uploading again replaces the scan."""
    if not actor.is_firm or actor.firm_id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    brand, model = normalise_brand_model(brand), normalise_brand_model(model)
    problems = Problems()  # every input error at once, each with its field
    if not brand or len(brand) > 128:
        problems.add(
            invalid("brand", "marka 1–128 karakter olmalı", "brand must be 1–128 characters")
        )
    if not model or len(model) > 128:
        problems.add(
            invalid("model", "model 1–128 karakter olmalı", "model must be 1–128 characters")
        )
    data = await read_upload(content, SCAN_MAX_BYTES)
    problems.check(require_type, data, (JPEG,))
    problems.raise_any()
    firm_id = actor.firm_id
    brand_key, model_key = brand_model_key(brand), brand_model_key(model)
    now = clock.now()
    async with in_transaction():
        stored = await files.store(
            actor,
            data,
            kind=FileKind.CE_CERTIFICATE,
            original_name=filename,
            content_type=JPEG,
            firm_id=firm_id,
            max_bytes=len(data),
        )
        certificate = (
            await CeCertificate.filter(firm_id=firm_id, brand_key=brand_key, model_key=model_key)
            .select_for_update()
            .first()
        )
        replaced = certificate.file_id if certificate is not None else None
        if certificate is None:
            certificate = await CeCertificate.create(
                firm_id=firm_id,
                brand=brand,
                model_code=model,
                file_id=stored.id,
                brand_key=brand_key,
                model_key=model_key,
                uploaded_by=actor.name,
                created_at=now,
                updated_at=now,
            )
        else:
            certificate.file_id = stored.id
            certificate.uploaded_by = actor.name
            certificate.updated_at = now
            await certificate.save(update_fields=["file_id", "uploaded_by", "updated_at"])
        await audit.record(
            actor,
            "ce_certificate.uploaded",
            "CeCertificate",
            certificate.id,
            {"brand": brand, "model": model, "fileId": stored.id, "replacedFileId": replaced},
            firm_id=firm_id,
        )
    return certificate


async def list_ce_certificates(
    actor: Actor, firm_id: int | None, first: int, after: str | None
) -> Page[CeCertificate]:
    """A firm sees its own certificates; staff any firm's (or all)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(CeCertificate.all(), actor)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    return await paginate(query, first, after, count=True)
