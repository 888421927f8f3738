"""Audit trail queries (staff)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from resolvers import audit, imei_history
from schema.audit.types import AuditEventConnection, AuditEventType, ImeiHistoryEventType
from schema.common import PageInfo
from schema.context import actor_of, lang_of
from schema.permissions import STAFF, requires


@strawberry.input
class AuditFilterInput:
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    actor_name: str | None = None
    firm_id: int | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class AuditQueries:
    @strawberry.field(extensions=requires(*STAFF), description="Newest first.")
    async def audit_events(
        self,
        info: Info,
        filter: AuditFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditEventConnection:
        where = audit.AuditFilter(**vars(filter)) if filter else audit.AuditFilter()
        page = await audit.list_events(actor_of(info), where, first, after)
        return AuditEventConnection(
            items=[AuditEventType.of(e) for e in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )

    @strawberry.field(
        extensions=requires(*STAFF),
        description="Every event about one IMEI, oldest first: whitelist entries (the "
        "original one too), status changes, removals and restores, held replacements, "
        "blacklist reports and their lifting, pairing, clone suspicions, first attach.",
    )
    async def imei_history(self, info: Info, imei: str) -> list[ImeiHistoryEventType]:
        lang = lang_of(info)
        events = await imei_history.imei_history(actor_of(info), imei)
        return [ImeiHistoryEventType.of(event, lang) for event in events]
