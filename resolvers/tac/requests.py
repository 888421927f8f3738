"""A firm asks for a TAC the registry lacks, with the manufacturer's letter (Tebliğ art. 8(4));
staff approve it (the TAC enters the registry) or reject it with a reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tortoise.transactions import in_transaction

from models import clock
from models.files import FileKind
from models.labels import register
from models.roles import FIRM_ROLES
from models.tac import TacModel, TacRequest, TacRequestStatus
from resolvers import audit, bulk, files
from resolvers.actor import Actor
from resolvers.errors import (
    DomainError,
    ErrorCode,
    Problems,
    already_exists,
    invalid,
    invalid_state,
    not_found,
)
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.tac.fields import validate_model_data
from resolvers.tac.registry import EDITORS, apply_model, lock_registry, require, snapshot

MAX_LETTER_BYTES = 5 * 1024 * 1024
LETTER_KINDS = frozenset({"application/pdf", "image/jpeg"})
MAX_REASON = 2000

REQUESTERS = FIRM_ROLES
DECIDERS = EDITORS

register(
    TacRequestStatus,
    {
        "PENDING": ("Beklemede", "Pending"),
        "APPROVED": ("Onaylandı", "Approved"),
        "REJECTED": ("Reddedildi", "Rejected"),
    },
)


def _missing_request(field: str) -> DomainError:
    return not_found("TAC talebi", "TAC request", field=field)


async def _sniffed(
    letter: bytes | AsyncIterator[bytes],
) -> tuple[str | None, AsyncIterator[bytes]]:
    """What the letter's first bytes say it is, and the whole content to store."""
    if isinstance(letter, bytes):
        head, rest = letter, None
    else:
        head = b""
        async for chunk in letter:
            head += chunk
            if len(head) >= 16:
                break
        rest = letter

    async def content() -> AsyncIterator[bytes]:
        yield head
        if rest is not None:
            async for chunk in rest:
                yield chunk

    return files.sniff_kind(head[:16]), content()


@files.atomic_uploads
async def submit_tac_request(
    actor: Actor,
    tac: str,
    brand: str,
    model_code: str,
    imei_count: int,
    letter: bytes | AsyncIterator[bytes],
    letter_name: str,
    marketing_name: str = "",
    device_type: str = "",
) -> TacRequest:
    """A firm user's request; the letter must be a PDF or JPEG (by content) under 5 MB."""
    require(actor, REQUESTERS)
    if actor.firm_id is None:
        raise DomainError(ErrorCode.FORBIDDEN)
    # New TACs are 8 digits; the 6-digit ones are a legacy the registry only keeps.
    problems = Problems()  # every input error at once, each with its field
    data = problems.check(
        validate_model_data,
        tac,
        brand,
        model_code,
        marketing_name,
        device_type,
        imei_count,
        legacy_allowed=False,
    )
    kind, content = await _sniffed(letter)
    if kind not in LETTER_KINDS:
        problems.add(
            invalid(
                "letter",
                "üretici yazısı PDF ya da JPEG olmalı",
                "the manufacturer's letter must be a PDF or JPEG",
            )
        )
    problems.raise_any()
    assert data is not None  # no problem was found, so the data was valid
    async with in_transaction() as conn:
        if bulk.is_postgres(conn):
            # Two firms asking for the same TAC at once: one waits, then sees the other's.
            await conn.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [data.tac])
        if await TacModel.filter(tac=data.tac, is_active=True).exists():
            raise already_exists("TAC", "TAC", data.tac, field="tac")
        if await TacRequest.filter(tac=data.tac, status=TacRequestStatus.PENDING).exists():
            raise already_exists(
                "Bu TAC için bekleyen talep", "A pending request for this TAC", data.tac, "tac"
            )
        stored = await files.store(
            actor,
            content,
            kind=FileKind.TAC_LETTER,
            original_name=letter_name,
            content_type=kind,  # type: ignore[arg-type]
            firm_id=actor.firm_id,
            max_bytes=MAX_LETTER_BYTES,
            field="letter",
        )
        request = await TacRequest.create(
            firm_id=actor.firm_id,
            requested_by=actor.name,
            tac=data.tac,
            brand=data.brand,
            model_code=data.model_code,
            marketing_name=data.marketing_name,
            device_type=data.device_type,
            imei_count=data.imei_count,
            letter_file_id=stored.id,
            status=TacRequestStatus.PENDING,
            created_at=clock.now(),
        )
        await audit.record(
            actor,
            "tac_request.submitted",
            "TacRequest",
            request.id,
            {"tac": data.tac, "brand": data.brand, "modelCode": data.model_code},
        )
    return request


async def get_tac_request(actor: Actor, request_id: int) -> TacRequest:
    """Staff see every request, a firm its own; anyone else is told it does not exist."""
    request = await visible_to(TacRequest.filter(id=request_id), actor).first()
    if request is None:
        raise _missing_request("id")
    return request


async def list_tac_requests(
    actor: Actor,
    first: int = 50,
    after: str | None = None,
    status: TacRequestStatus | None = None,
) -> Page[TacRequest]:
    """Newest first; a firm's users see the firm's requests only."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(TacRequest.all(), actor)
    if status is not None:
        query = query.filter(status=status)
    return await paginate(query, first, after, count=True)


async def _pending(request_id: int) -> TacRequest:
    request = await TacRequest.filter(id=request_id).select_for_update().first()
    if request is None:
        raise _missing_request("tacRequestId")
    if request.status != TacRequestStatus.PENDING:
        raise invalid_state("talep zaten karara bağlanmış", "the request has already been decided")
    return request


async def approve_tac_request(actor: Actor, request_id: int) -> tuple[TacRequest, TacModel]:
    """The requested TAC enters the registry (or a retired one returns with these values)."""
    require(actor, DECIDERS)
    async with in_transaction() as conn:
        await lock_registry(conn)
        request = await _pending(request_id)
        data = validate_model_data(
            request.tac,
            request.brand,
            request.model_code,
            request.marketing_name,
            request.device_type,
            request.imei_count,
        )
        model, outcome = await apply_model(data)
        request.status = TacRequestStatus.APPROVED
        request.decided_by = actor.name
        request.decided_at = clock.now()
        await request.save(update_fields=["status", "decided_by", "decided_at"])
        await audit.record(
            actor,
            "tac_request.approved",
            "TacRequest",
            request.id,
            {"tac": model.tac, "registry": outcome, "model": snapshot(model)},
            firm_id=request.firm_id,
        )
    return request, model


async def reject_tac_request(actor: Actor, request_id: int, reason: str) -> TacRequest:
    require(actor, DECIDERS)
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise invalid(
            "reason",
            f"ret gerekçesi boş olamaz ve en fazla {MAX_REASON} karakter olabilir",
            f"a rejection needs a reason of at most {MAX_REASON} characters",
        )
    async with in_transaction():
        request = await _pending(request_id)
        request.status = TacRequestStatus.REJECTED
        request.decision_reason = reason
        request.decided_by = actor.name
        request.decided_at = clock.now()
        await request.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
        await audit.record(
            actor,
            "tac_request.rejected",
            "TacRequest",
            request.id,
            {"tac": request.tac, "reason": reason},
            firm_id=request.firm_id,
        )
    return request
