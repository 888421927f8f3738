"""GraphQL shape of audit events."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from models.audit import AuditEvent
from resolvers.imei_history import HistoryEvent, HistoryKind, HistorySource
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


HistoryKindType = strawberry.enum(HistoryKind, name="ImeiHistoryKind")
HistorySourceType = strawberry.enum(HistorySource, name="ImeiHistorySource")


@strawberry.type(name="ImeiHistoryEvent", description="One event about an IMEI.")
class ImeiHistoryEventType:
    at: datetime
    kind: HistoryKindType  # type: ignore[valid-type]
    kind_label: str = strawberry.field(description="In the caller's language.")
    actor: str = strawberry.field(description="Who did it ('' when the record does not say).")
    source: HistorySourceType | None  # type: ignore[valid-type]
    source_label: str | None
    source_id: int | None = strawberry.field(
        description="The application, registration, replacement report or correction "
        "request id, when known."
    )
    reason: str
    detail: str = strawberry.field(
        description="What else the record says: whitelist status and model, the report's "
        "reference and number, the paired number, the subscriber count, the operator."
    )

    @staticmethod
    def of(event: HistoryEvent, lang: str) -> ImeiHistoryEventType:
        return ImeiHistoryEventType(
            at=event.at,
            kind=event.kind,
            kind_label=event.kind_label(lang),
            actor=event.actor,
            source=event.source,
            source_label=event.source_label(lang),
            source_id=event.source_id,
            reason=event.reason,
            detail=event.detail,
        )
