"""The paper channel keeps its papers (Tebliğ art. 9(2)): staff record the scans of what the
firm delivered on a paper application, and the Ek-2 list's header is compared with it.

Art. 9(2) lists what a paper application brings: (a) the Ek-1 petition with the brands,
models and counts (MARKA/MODEL/ADET), the firm's stamp and its officer's title and wet
signature; (b) a notarised or customs-certified copy of the customs declaration; (c) the
capacity report of manufactured devices; (ç) the Ek-2 IMEI list (the device list upload);
(d) the maker's official letter for a new TAC; (e) the original fee receipt; (f) the firm's
signature circular. Which of them a submission needs is `requirements.missing_documents`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tortoise.transactions import in_transaction

from models.accounts import Firm
from models.applications import Application
from models.documents import DocumentKind
from models.names import collapse_spaces, turkish_upper
from models.workflow import EDITABLE, Channel, clears_customs
from resolvers import audit, files
from resolvers.actor import Actor
from resolvers.applications import declarations
from resolvers.applications.access import get_application
from resolvers.applications.declarations import DeclaredLine
from resolvers.device_files import Ek2Block, FileIssue
from resolvers.device_files.issues import IssueCode, make_issue
from resolvers.errors import DomainError, DomainErrors, ErrorCode, invalid, invalid_state
from resolvers.settings import get_settings
from resolvers.workflow.common import Content, format_day, read_upload
from resolvers.workflow.documents import (
    JPEG,
    PDF,
    require_kind_fits,
    require_type,
    store_document,
)

PAPER_DOCUMENTS = frozenset(
    {
        DocumentKind.PETITION,
        DocumentKind.CUSTOMS_DECLARATION_COPY,
        DocumentKind.CAPACITY_REPORT,
        DocumentKind.TAC_LETTER,
        DocumentKind.FEE_RECEIPT,
        DocumentKind.SIGNATURE_CIRCULAR,
    }
)


def _petition(rows: Sequence[DeclaredLine] | None) -> list[DeclaredLine]:
    """The petition's MARKA/MODEL/ADET table as staff typed it, checked row by row: it is the
    application's declaration (art. 9(2)(a)), kept where an electronic one's is."""
    if not rows:
        raise invalid(
            "petition",
            "dilekçedeki MARKA/MODEL/ADET tablosunu girin (en az bir satır)",
            "enter the petition's MARKA/MODEL/ADET table (at least one row)",
        )
    problems: list[DomainError] = []
    clean = declarations.validated(rows, problems, field="petition")
    if problems:
        raise DomainErrors(problems)
    return clean


def _require_paper_draft(actor: Actor, application: Application) -> None:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    if application.channel != Channel.PAPER:
        raise invalid_state(
            "evrak taramaları yalnızca evrak yoluyla yapılan başvurulara kaydedilir",
            "paper scans are recorded on paper applications only",
        )
    if application.status not in EDITABLE:
        raise invalid_state(
            "evrak taramaları başvuru gönderilmeden önce kaydedilir",
            "paper scans are recorded before the application is submitted",
        )


@files.atomic_uploads
async def record_paper_document(
    actor: Actor,
    application_id: int,
    kind: DocumentKind,
    content: Content,
    filename: str,
    petition: Sequence[DeclaredLine] | None = None,
) -> Application:
    """A scan (PDF or JPEG) of one of the paper application's papers; the petition with its
    MARKA/MODEL/ADET table. Recording a kind again keeps the earlier scan as history."""
    application = await get_application(actor, application_id)
    _require_paper_draft(actor, application)
    if kind not in PAPER_DOCUMENTS:
        raise invalid(
            "kind",
            "bu belge türü evrak başvurusunun belgelerinden değil",
            "this kind of document is not one of a paper application's papers",
        )
    require_kind_fits(application, kind)
    if kind == DocumentKind.PETITION:
        rows = _petition(petition)
    elif petition:
        raise invalid(
            "petition",
            "MARKA/MODEL/ADET tablosu dilekçeyle verilir",
            "the table goes with the petition",
        )
    data = await read_upload(content, get_settings().max_document_bytes)
    content_type = require_type(data, (PDF, JPEG))
    async with in_transaction():
        locked = await get_application(actor, application_id, for_update=True)
        _require_paper_draft(actor, locked)
        _, stored = await store_document(actor, locked, kind, data, filename, content_type)
        details: dict[str, object] = {
            "kind": kind.value,
            "fileId": stored.id,
            "sha256": stored.sha256,
            "name": filename,
        }
        if kind == DocumentKind.PETITION:
            await declarations.replace(locked.id, rows)
            details["petition"] = [[r.brand, r.model, r.count] for r in rows[:100]]
        await audit.record(
            actor,
            "application.paper_document_recorded",
            "Application",
            locked.id,
            details,
            firm_id=locked.firm_id,
        )
    return locked


# --- the Ek-2 header against the application (art. 9(2)(ç), Ek-2) ------------------------


def firm_name_key(name: str) -> str:
    """Firm names compared as written on paper: case, Turkish dotted/dotless I, spaces and
    punctuation aside (`ANADOLU MOBİL A.Ş.` is `Anadolu Mobil AŞ`)."""
    upper = turkish_upper(collapse_spaces(name)).replace("İ", "I")
    return "".join(char for char in upper if char.isalnum())


def _declared_day(application: Application) -> tuple[date | None, str, str]:
    if clears_customs(application.kind, application.production_date):
        return application.import_date, "ithalat tarihi", "import date"
    return application.production_date, "imalat tarihi", "production date"


def ek2_header_differences(
    application: Application, firm: Firm, blocks: Sequence[Ek2Block]
) -> list[FileIssue]:
    """Where an Ek-2 block's header names another firm or another date than the application
    (reported as warnings: staff see them before submitting; art. 10(3) makes a mismatch a
    reason to reject)."""
    issues: list[FileIssue] = []
    day, day_tr, day_en = _declared_day(application)
    firm_key = firm_name_key(firm.name)
    for block in blocks:
        where_tr, where_en = (
            f"{block.brand} {block.model} başlığı",
            f"the {block.brand} {block.model} header",
        )
        if block.firm_name is None or not firm_name_key(block.firm_name):
            issues.append(
                _difference(
                    block,
                    f"{where_tr}nda firma adı yok; başvurunun firması: {firm.name}",
                    f"{where_en} names no firm; the application's firm is {firm.name}",
                )
            )
        elif firm_name_key(block.firm_name) != firm_key:
            issues.append(
                _difference(
                    block,
                    f"{where_tr}ndaki firma adı («{block.firm_name}») başvurunun firmasıyla "
                    f"(«{firm.name}») aynı değil",
                    f'{where_en} names the firm "{block.firm_name}", not the application\'s '
                    f'"{firm.name}"',
                )
            )
        if block.import_date is None:
            issues.append(
                _difference(
                    block,
                    f"{where_tr}nda tarih yok; başvurudaki {day_tr}: {format_day(day)}",
                    f"{where_en} has no date; the application's {day_en} is {format_day(day)}",
                )
            )
        elif block.import_date != day:
            issues.append(
                _difference(
                    block,
                    f"{where_tr}ndaki tarih ({format_day(block.import_date)}) başvurudaki "
                    f"{day_tr}nden ({format_day(day)}) farklı",
                    f"{where_en} is dated {format_day(block.import_date)}, the application's "
                    f"{day_en} is {format_day(day)}",
                )
            )
    return issues


def _difference(block: Ek2Block, tr: str, en: str) -> FileIssue:
    code = IssueCode.EK2_HEADER_DIFFERS
    in_turkish, in_english = (
        make_issue(code, block.line, detail=tr),
        make_issue(code, block.line, detail=en),
    )
    return FileIssue(block.line, None, None, code, in_turkish.message_tr, in_english.message_en)
