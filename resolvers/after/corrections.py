"""IMEI correction (Tebliğ art. 13): after approval, a firm asks to replace IMEIs it declared
wrongly in one of its applications by the right ones; staff decide.

* The request (`request_correction`): pairs wrong → right of an application whose IMEIs are
  registered (payment recorded), with the petition and copies of the import's documents
  (art. 13(2)). Each wrong IMEI must be on the whitelist under that application; each right
  IMEI must pass the technical checks — the firms' own check units (valid, TAC known and of
  the device's brand/model, not registered, not blacklisted, not in another application in
  progress) plus "not held for a replacement" — and no IMEI may be in another pending
  request. Refused pairs are named with their reasons; nothing is stored.
* Staff approve (`approve_correction`): the same checks again under the whitelist feed's lock,
  then in one transaction the wrong IMEIs leave the whitelist (reason `CORRECTED`), the right
  ones enter it (source CORRECTION, same firm, application and device), the pairings of the
  wrong ones end, the decision letter is issued and the decision audited. Staff reject with a
  reason (`reject_correction`); the letter says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.after import CORRECTED, CorrectionPair, CorrectionRequest, CorrectionStatus
from models.applications import Application
from models.checks import IMEI_STANDARD_CODES, CheckCode
from models.documents import IssuedKind
from models.files import FileKind
from models.labels import label
from models.registry import WhitelistEntry, WhitelistSource
from models.roles import Role
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import audit, bulk, files, registry_changes
from resolvers.actor import Actor
from resolvers.after import letters, pairing
from resolvers.after.common import (
    MAX_NOTE,
    MAX_REASON,
    letter_number,
    require_firm,
    text,
    typed_imei,
)
from resolvers.applications.access import get_application
from resolvers.applications.checks import (
    AlreadyRegistered,
    AnalysisContext,
    Blacklisted,
    Check,
    DeviceLine,
    DuplicateInList,
    InvalidImei,
    ModelMismatch,
    PendingElsewhere,
    TacNotFound,
    evaluate,
)
from resolvers.errors import (
    Bilingual,
    DomainError,
    DomainErrors,
    ErrorCode,
    already_exists,
    invalid,
    invalid_state,
    not_found,
)
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.settings import get_settings
from resolvers.workflow.common import Content, read_upload, reference
from resolvers.workflow.documents import JPEG, PDF, require_type

MAX_PAIRS = 100
LETTER_PREFIX = "DZ"  # düzeltme
DECIDERS = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
# Approved and paid: the application's IMEIs are on the whitelist.
CORRECTABLE = frozenset({ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS, ApplicationStatus.COMPLETED})
DOCUMENT_TYPES = (PDF, JPEG)


class HeldForReplacement:
    """A held IMEI belongs to a mainboard/swap application waiting for its replacement."""

    code = CheckCode.PENDING_ELSEWHERE

    async def failing(self, ctx: AnalysisContext) -> set[int]:
        held = {
            str(row[0])
            async for row in bulk.select_in(
                "SELECT imei FROM held_imei WHERE imei IN ({in_})", ctx.all_imeis()
            )
        }
        return {i for i, device in enumerate(ctx.devices) if held.intersection(device.imeis)}


CORRECTION_CHECKS: tuple[Check, ...] = (
    InvalidImei(),
    DuplicateInList(),
    TacNotFound(),
    ModelMismatch(),
    AlreadyRegistered(),
    Blacklisted(),
    PendingElsewhere(),
    HeldForReplacement(),
)
# Test devices' identities need not meet the standards (art. 12(2)), but a right IMEI still
# has to be one operators can match (15 digits, check digit).
TEST_DEVICE_CHECKS = tuple(
    check
    for check in CORRECTION_CHECKS
    if check.code not in IMEI_STANDARD_CODES or check.code is CheckCode.INVALID_IMEI
)


@dataclass(frozen=True, slots=True)
class CorrectionView:
    request: CorrectionRequest
    pairs: list[CorrectionPair]


@dataclass(frozen=True, slots=True)
class RequestedPair:
    wrong_imei: str
    right_imei: str


def missing_request() -> DomainError:
    return not_found("IMEI düzeltme talebi", "IMEI correction request", field="requestId")


def _parse_pairs(pairs: Sequence[RequestedPair]) -> list[tuple[str, str]]:
    if not 1 <= len(pairs) <= MAX_PAIRS:
        raise invalid(
            "pairs",
            f"bir talepte 1 ile {MAX_PAIRS} arasında IMEI düzeltilebilir",
            f"a request corrects 1 to {MAX_PAIRS} IMEIs",
        )
    parsed = [(typed_imei(p.wrong_imei), typed_imei(p.right_imei)) for p in pairs]
    errors: list[DomainError] = []
    seen: set[str] = set()
    for i, (wrong, right) in enumerate(parsed):
        if wrong == right:
            errors.append(
                invalid(f"pairs.{i}.rightImei", "doğru IMEI hatalı olanla aynı", "same as wrong")
            )
        if wrong in seen:
            errors.append(
                invalid(
                    f"pairs.{i}.wrongImei",
                    "bu IMEI talepte birden fazla kez geçiyor",
                    "this IMEI appears more than once in the request",
                )
            )
        seen.add(wrong)
    if errors:
        raise DomainErrors(errors)
    return parsed


async def _check(
    application: Application, pairs: Sequence[tuple[str, str]], request_id: int | None
) -> dict[str, WhitelistEntry]:
    """The wrong IMEIs' whitelist entries, or DomainErrors naming every refused pair."""
    wrongs = [wrong for wrong, _ in pairs]
    entries = {
        entry.imei: entry
        for entry in await WhitelistEntry.filter(
            imei__in=wrongs, application_id=application.id, firm_id=application.firm_id
        )
    }
    errors = [
        not_found(
            "Bu başvuruyla kaydedilmiş IMEI",
            "IMEI registered with this application",
            field=f"pairs.{i}.wrongImei",
        )
        for i, wrong in enumerate(wrongs)
        if wrong not in entries
    ]
    if errors:
        raise DomainErrors(errors)
    ctx = AnalysisContext(
        application_id=application.id,
        devices=[
            DeviceLine(row=i, brand=entries[w].brand, model=entries[w].model_code, imeis=(r,))
            for i, (w, r) in enumerate(pairs)
        ],
    )
    checks = TEST_DEVICE_CHECKS if application.kind == ApplicationKind.TEST else CORRECTION_CHECKS
    reasons = await evaluate(ctx, checks)
    for i, codes in sorted(reasons.items()):
        distinct = list(dict.fromkeys(codes))
        errors.append(
            DomainError(
                ErrorCode.CORRECTION_CHECKS_FAILED,
                field=f"pairs.{i}.rightImei",
                imei=pairs[i][1],
                reasons=Bilingual(
                    "; ".join(label(code, "tr") for code in distinct),
                    "; ".join(label(code, "en") for code in distinct),
                ),
            )
        )
    errors += await _pending_elsewhere(pairs, request_id)
    if errors:
        raise DomainErrors(errors)
    return entries


async def _pending_elsewhere(
    pairs: Sequence[tuple[str, str]], request_id: int | None
) -> list[DomainError]:
    """IMEIs already in another pending correction request (either side)."""
    imeis = [imei for pair in pairs for imei in pair]
    taken: set[str] = set()
    for column in ("wrong_imei", "right_imei"):
        async for (imei,) in bulk.select_in(
            f"SELECT p.{column} FROM correction_pair p "
            "JOIN correction_request r ON r.id = p.request_id "
            f"WHERE r.status = 'PENDING' AND r.id <> {{p1}} AND p.{column} IN ({{in_}})",
            imeis,
            extra=(request_id or 0,),
        ):
            taken.add(str(imei))
    return [
        already_exists(
            "Bekleyen bir düzeltme talebindeki IMEI",
            "IMEI in a pending correction request",
            imei,
            field=f"pairs.{i}.{side}",
        )
        for i, pair in enumerate(pairs)
        for side, imei in zip(("wrongImei", "rightImei"), pair, strict=True)
        if imei in taken
    ]


@files.atomic_uploads
async def request_correction(
    actor: Actor,
    application_id: int,
    pairs: Sequence[RequestedPair],
    note: str,
    petition: Content,
    petition_name: str,
    documents: Content,
    documents_name: str,
) -> CorrectionView:
    """The firm files a correction request for one of its registered applications."""
    require_firm(actor)
    application = await get_application(actor, application_id)
    if application.status not in CORRECTABLE:
        raise invalid_state(
            "düzeltme, başvuru onaylanıp IMEI'ler kaydedildikten sonra istenebilir",
            "a correction can be asked once the application's IMEIs are registered",
        )
    parsed = _parse_pairs(pairs)
    note = text(note, "note", MAX_NOTE, required=False)
    limit = get_settings().max_document_bytes
    petition_data = await read_upload(petition, limit, field="petition")
    petition_type = require_type(petition_data, DOCUMENT_TYPES, field="petition")
    documents_data = await read_upload(documents, limit, field="documents")
    documents_type = require_type(documents_data, DOCUMENT_TYPES, field="documents")
    entries = await _check(application, parsed, None)
    async with in_transaction():
        petition_file = await files.store(
            actor,
            petition_data,
            kind=FileKind.PETITION,
            original_name=petition_name,
            content_type=petition_type,
            firm_id=application.firm_id,
            max_bytes=len(petition_data),
        )
        documents_file = await files.store(
            actor,
            documents_data,
            kind=FileKind.CUSTOMS_DOCUMENTS,
            original_name=documents_name,
            content_type=documents_type,
            firm_id=application.firm_id,
            max_bytes=len(documents_data),
        )
        request = await CorrectionRequest.create(
            firm_id=application.firm_id,
            application_id=application.id,
            note=note,
            petition_file_id=petition_file.id,
            documents_file_id=documents_file.id,
            requested_by=actor.name,
            requested_at=clock.now(),
        )
        await CorrectionPair.bulk_create(
            [
                CorrectionPair(
                    request_id=request.id,
                    position=i,
                    wrong_imei=wrong,
                    right_imei=right,
                    brand=entries[wrong].brand,
                    model_code=entries[wrong].model_code,
                )
                for i, (wrong, right) in enumerate(parsed)
            ]
        )
        await audit.record(
            actor,
            "imei_correction.requested",
            "CorrectionRequest",
            request.id,
            {
                "applicationId": application.id,
                "pairs": [list(pair) for pair in parsed],
                "petitionFileId": petition_file.id,
                "documentsFileId": documents_file.id,
            },
        )
    return CorrectionView(request, await _pairs_of(request.id))


async def _pairs_of(request_id: int) -> list[CorrectionPair]:
    return await CorrectionPair.filter(request_id=request_id).order_by("position")


async def _pending_for_update(actor: Actor, request_id: int) -> CorrectionRequest:
    if actor.role not in DECIDERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    request = await CorrectionRequest.filter(id=request_id).select_for_update().first()
    if request is None:
        raise missing_request()
    if request.status != CorrectionStatus.PENDING:
        raise invalid_state(
            f"talep '{label(request.status, 'tr')}' durumunda",
            f"the request is '{label(request.status, 'en')}'",
        )
    return request


async def _letter(
    actor: Actor,
    request: CorrectionRequest,
    application: Application,
    pairs: list[CorrectionPair],
    rejection_reason: str | None,
) -> int:
    firm = await Firm.get(id=request.firm_id)
    number = letter_number(LETTER_PREFIX, request.id, request.requested_at)
    prepared = await letters.prepare_seal(IssuedKind.CORRECTION_LETTER)
    html = letters.correction_letter_html(
        firm,
        number,
        reference(application),
        request.requested_at,
        [(p.wrong_imei, p.right_imei, p.brand, p.model_code) for p in pairs],
        rejection_reason,
        clock.now(),
        prepared.seal,
    )
    stored = await letters.issue(
        actor,
        prepared,
        IssuedKind.CORRECTION_LETTER,
        number,
        request.firm_id,
        f"duzeltme-{number}.pdf",
        html,
    )
    return stored.id


async def _decide(
    actor: Actor,
    request: CorrectionRequest,
    status: CorrectionStatus,
    letter_file_id: int,
    reason: str | None = None,
) -> None:
    request.status = status
    request.decided_by = actor.name
    request.decided_at = clock.now()
    if reason is not None:
        request.rejection_reason = reason
    request.letter_file_id = letter_file_id
    await request.save(
        update_fields=["status", "decided_by", "decided_at", "rejection_reason", "letter_file_id"]
    )


async def approve_correction(actor: Actor, request_id: int) -> CorrectionView:
    """Staff approve: the right IMEIs replace the wrong ones on the whitelist, or — when a
    check fails now — nothing changes and the errors say why (reject it then)."""
    async with in_transaction() as connection:
        request = await _pending_for_update(actor, request_id)
        await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
        application = await Application.get(id=request.application_id)
        pairs = await _pairs_of(request.id)
        parsed = [(p.wrong_imei, p.right_imei) for p in pairs]
        entries = await _check(application, parsed, request.id)
        wrongs = [wrong for wrong, _ in parsed]
        await registry_changes.remove_from_whitelist(actor, wrongs, CORRECTED)
        number = letter_number(LETTER_PREFIX, request.id, request.requested_at)
        await registry_changes.add_to_whitelist(
            actor,
            [
                registry_changes.WhitelistAddition(
                    imei=right,
                    brand=entries[wrong].brand,
                    model_code=entries[wrong].model_code,
                    source=WhitelistSource.CORRECTION,
                    status=entries[wrong].status,
                    firm_id=application.firm_id,
                    application_id=application.id,
                )
                for wrong, right in parsed
            ],
            reason=number,
        )
        ended = await pairing.release_removed(actor, wrongs, CORRECTED)
        letter = await _letter(actor, request, application, pairs, None)
        await _decide(actor, request, CorrectionStatus.APPROVED, letter)
        await audit.record(
            actor,
            "imei_correction.approved",
            "CorrectionRequest",
            request.id,
            {
                "applicationId": application.id,
                "pairs": [list(pair) for pair in parsed],
                "endedPairings": ended,
                "letterFileId": letter,
            },
            firm_id=request.firm_id,
        )
    return CorrectionView(request, pairs)


async def reject_correction(actor: Actor, request_id: int, reason: str) -> CorrectionView:
    """Staff reject with the reason the firm reads in the letter; the whitelist is untouched."""
    reason = text(reason, "reason", MAX_REASON, required=True)
    async with in_transaction():
        request = await _pending_for_update(actor, request_id)
        application = await Application.get(id=request.application_id)
        pairs = await _pairs_of(request.id)
        letter = await _letter(actor, request, application, pairs, reason)
        await _decide(actor, request, CorrectionStatus.REJECTED, letter, reason)
        await audit.record(
            actor,
            "imei_correction.rejected",
            "CorrectionRequest",
            request.id,
            {"applicationId": application.id, "reason": reason, "letterFileId": letter},
            firm_id=request.firm_id,
        )
    return CorrectionView(request, pairs)


async def get_correction(actor: Actor, request_id: int) -> CorrectionView:
    request = await visible_to(CorrectionRequest.filter(id=request_id), actor).first()
    if request is None:
        raise missing_request()
    return CorrectionView(request, await _pairs_of(request.id))


async def list_corrections(
    actor: Actor,
    status: CorrectionStatus | None,
    firm_id: int | None,
    application_id: int | None,
    first: int,
    after: str | None,
) -> Page[CorrectionView]:
    """A firm sees its own requests, staff all (newest first), each with its pairs."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(CorrectionRequest.all(), actor)
    if status is not None:
        query = query.filter(status=status)
    if firm_id is not None:
        query = query.filter(firm_id=firm_id)
    if application_id is not None:
        query = query.filter(application_id=application_id)
    page = await paginate(query, first, after, count=True)
    pairs: dict[int, list[CorrectionPair]] = {request.id: [] for request in page.items}
    if pairs:
        for pair in await CorrectionPair.filter(request_id__in=list(pairs)).order_by("position"):
            pairs[pair.request_id].append(pair)
    return Page(
        items=[CorrectionView(request, pairs[request.id]) for request in page.items],
        end_cursor=page.end_cursor,
        has_next_page=page.has_next_page,
    )
