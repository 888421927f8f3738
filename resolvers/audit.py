"""The audit trail: written by every state-changing use case, read by staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models import clock
from models.audit import AuditEvent
from models.roles import Role
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.pagination import Page, paginate


async def record(
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    details: dict[str, Any] | None = None,
    firm_id: int | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the operation's transaction, so both or none stay."""
    return await AuditEvent.create(
        at=clock.now(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role.value if actor.role else "",
        firm_id=firm_id if firm_id is not None else actor.firm_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details or {},
        request_id=actor.request_id,
        ip=actor.ip,
    )


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    actor_name: str | None = None
    firm_id: int | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    actor: Actor, where: AuditFilter, first: int = 50, after: str | None = None
) -> Page[AuditEvent]:
    if not actor.has(Role.STAFF_ADMIN, Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = AuditEvent.all()
    if where.action:
        query = query.filter(action=where.action)
    if where.subject_type:
        query = query.filter(subject_type=where.subject_type)
    if where.subject_id:
        query = query.filter(subject_id=where.subject_id)
    if where.actor_name:
        query = query.filter(actor_name=where.actor_name)
    if where.firm_id is not None:
        query = query.filter(firm_id=where.firm_id)
    if where.request_id:
        query = query.filter(request_id=where.request_id)
    if where.since:
        query = query.filter(at__gte=where.since)
    if where.until:
        query = query.filter(at__lt=where.until)
    return await paginate(query, first, after, count=True)
