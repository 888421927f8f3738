"""Reading registrations: staff see all, a machine client only what it submitted.

Registrations hold personal data (identity, name, birth date): this module is the one place
that scopes them, and everybody else (firms, anonymous callers, other clients) gets nothing —
another client's registration answers NOT_FOUND, the same as a missing one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet

from integrations.authorities import AuthorityKind
from models.checks import CheckCode
from models.individuals import (
    Registration,
    RegistrationChannel,
    RegistrationImei,
    RegistrationStatus,
    VerificationBatch,
    VerificationBatchStatus,
    VerificationRequest,
    VerificationRequestStatus,
)
from models.registry import WhitelistEntry, WhitelistStatus
from models.roles import STAFF_ROLES, Role
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid, not_found
from resolvers.individuals.whitelist import parse_imei
from resolvers.pagination import Page, paginate

SUBMITTERS = frozenset({Role.OPERATOR, Role.E_DEVLET})
READERS = frozenset({*STAFF_ROLES, *SUBMITTERS})


def visible(actor: Actor) -> QuerySet[Registration]:
    """The registrations `actor` may read; FORBIDDEN for anyone who may read none."""
    if actor.is_staff:
        return Registration.all()
    if actor.role in SUBMITTERS and actor.id is not None:
        return Registration.filter(client_id=actor.id)
    raise DomainError(ErrorCode.FORBIDDEN)


def _missing() -> DomainError:
    return not_found("Bireysel kayıt", "Individual registration", field="id")


async def get_registration(
    actor: Actor, registration_id: int | None = None, client_reference: str | None = None
) -> Registration:
    """By our id, or by the client's own reference (a client's status query)."""
    query = visible(actor)
    if (registration_id is None) == (client_reference is None):
        raise invalid(
            "id", "id ya da clientReference verilmeli", "give either id or clientReference"
        )
    if registration_id is not None:
        registration = await query.filter(id=registration_id).first()
    elif actor.is_staff:
        # Staff have no reference of their own: a reference may exist once per client.
        raise invalid(
            "clientReference",
            "personel kayıtları id ile sorgular",
            "staff look registrations up by id",
        )
    else:
        registration = await query.filter(client_reference=(client_reference or "").strip()).first()
    if registration is None:
        raise _missing()
    return registration


async def list_registrations(
    actor: Actor,
    first: int,
    after: str | None,
    status: RegistrationStatus | None = None,
    channel: RegistrationChannel | None = None,
    imei: str | None = None,
    verification_overdue: bool = False,
) -> Page[Registration]:
    """Newest first; staff may filter by one IMEI to find who registered it, or list the
    declarations whose verification is overdue (blocked on the networks)."""
    query = visible(actor)
    if verification_overdue:
        # Blocked by the deadline (resolvers.individuals.deadline) and still unanswered.
        query = query.filter(
            status=RegistrationStatus.PENDING_VERIFICATION, overdue_at__isnull=False
        )
    if status is not None:
        query = query.filter(status=status)
    if channel is not None:
        query = query.filter(channel=channel)
    if imei:
        ids = await RegistrationImei.filter(imei=parse_imei(imei)).values_list(
            "registration_id", flat=True
        )
        query = query.filter(id__in=list(ids))
    return await paginate(query, first, after, count=True)


# --- what a registration's page shows ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImeiView:
    imei: str
    passed: bool
    codes: tuple[CheckCode, ...]
    # On the whitelist now for this registration, and with which status.
    whitelist_status: WhitelistStatus | None
    removal_reason: str | None
    removed_at: datetime | None
    # What the TAC registry says the device is (None: the TAC is unknown).
    registry_brand: str | None = None
    registry_model: str | None = None


@dataclass(frozen=True, slots=True)
class VerificationView:
    authority: AuthorityKind
    status: VerificationRequestStatus
    verified: bool | None
    reason_code: str | None
    reason_tr: str | None
    reason_en: str | None
    authority_note: str | None
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class RegistrationDetails:
    imeis: list[ImeiView]
    verifications: list[VerificationView]


async def details(registrations: Sequence[Registration]) -> dict[int, RegistrationDetails]:
    """IMEIs (with their whitelist state now) and verification answers of the registrations
    a caller already may read — three set-based queries for a whole page."""
    ids = [r.id for r in registrations]
    if not ids:
        return {}
    rows = await RegistrationImei.filter(registration_id__in=ids).order_by(
        "registration_id", "position"
    )
    listed = {
        entry.imei: entry
        for entry in await WhitelistEntry.filter(imei__in=[r.imei for r in rows if r.passed])
    }
    imeis: dict[int, list[ImeiView]] = defaultdict(list)
    for row in rows:
        entry = listed.get(row.imei)
        ours = entry is not None and entry.registration_id == row.registration_id
        imeis[row.registration_id].append(
            ImeiView(
                imei=row.imei,
                passed=row.passed,
                codes=tuple(CheckCode(code) for code in row.codes),
                whitelist_status=entry.status if ours and entry else None,
                removal_reason=None if ours else row.removal_reason,
                removed_at=None if ours else row.removed_at,
                registry_brand=row.tac_brand,
                registry_model=row.tac_model,
            )
        )
    verifications: dict[int, list[VerificationView]] = defaultdict(list)
    for request in await VerificationRequest.filter(registration_id__in=ids).order_by("id"):
        verifications[request.registration_id].append(
            VerificationView(
                authority=AuthorityKind(request.authority),
                status=request.status,
                verified=request.verified,
                reason_code=request.reason_code,
                reason_tr=request.reason_tr,
                reason_en=request.reason_en,
                authority_note=request.authority_note,
                answered_at=request.answered_at,
            )
        )
    return {rid: RegistrationDetails(imeis[rid], verifications[rid]) for rid in ids}


# --- staff: the verification batches -------------------------------------------------------


async def list_batches(
    actor: Actor,
    first: int,
    after: str | None,
    status: VerificationBatchStatus | None = None,
) -> Page[VerificationBatch]:
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    query = VerificationBatch.all()
    if status is not None:
        query = query.filter(status=status)
    return await paginate(query, first, after, count=True)
