"""GraphQL shape of audit events."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from models.audit import AuditEvent
from schema.common import PageInfo


@strawberry.type(name="AuditEvent")
class AuditEventType:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    actor_role: str
    firm_id: int | None
    action: str
    subject_type: str
    subject_id: str
    details: JSON
    request_id: str
    ip: str

    @staticmethod
    def of(event: AuditEvent) -> AuditEventType:
        return AuditEventType(
            id=event.id,
            at=event.at,
            actor_kind=event.actor_kind,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            actor_role=event.actor_role,
            firm_id=event.firm_id,
            action=event.action,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            details=event.details,
            request_id=event.request_id,
            ip=event.ip,
        )


@strawberry.type
class AuditEventConnection:
    items: list[AuditEventType]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Everything the filters match, over all pages.")
