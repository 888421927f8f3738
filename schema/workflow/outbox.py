"""The e-mail outbox, for staff: what waits, what went, what the mail server refused."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from models.notifications import Notification, NotificationStatus
from models.roles import Role
from resolvers.workflow import notifications
from schema.common import PageInfo
from schema.context import actor_of
from schema.errors import UserError, mutate
from schema.permissions import STAFF, requires

MailStatusType = strawberry.enum(NotificationStatus, name="MailStatus")


@strawberry.type(name="OutboxMail")
class OutboxMailType:
    id: int
    firm_id: int | None
    application_id: int | None
    recipient: str
    subject: str
    status: MailStatusType  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When a PENDING mail is tried next."
    )
    last_error: str | None = strawberry.field(
        description="The mail server's last answer (e.g. `550 5.1.1 mailbox unavailable`), "
        "or why it could not be reached."
    )
    created_at: datetime
    sent_at: datetime | None

    @staticmethod
    def of(mail: Notification) -> OutboxMailType:
        return OutboxMailType(
            id=mail.id,
            firm_id=mail.firm_id,
            application_id=mail.application_id,
            recipient=mail.recipient,
            subject=mail.subject,
            status=mail.status,
            attempts=mail.attempts,
            next_attempt_at=mail.next_attempt_at
            if mail.status == NotificationStatus.PENDING
            else None,
            last_error=mail.last_error,
            created_at=mail.created_at,
            sent_at=mail.sent_at,
        )


@strawberry.type
class OutboxMailConnection:
    items: list[OutboxMailType]
    page_info: PageInfo
    total_count: int


@strawberry.type
class OutboxMailPayload:
    mail: OutboxMailType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OutboxQueries:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="E-mails to firms, newest first: PENDING (waiting or being retried), "
        "SENT, FAILED (given up, with the server's answer).",
    )
    async def mail_outbox(
        self,
        info: Info,
        status: MailStatusType | None = None,  # type: ignore[valid-type]
        application_id: int | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> OutboxMailConnection:
        page = await notifications.list_outbox(actor_of(info), status, first, after, application_id)
        return OutboxMailConnection(
            items=[OutboxMailType.of(m) for m in page.items],
            page_info=PageInfo.of(page),
            total_count=page.total_count or 0,
        )


@strawberry.type
class OutboxMutations:
    # A resent mail may reach the firm twice: the staff admin's decision.
    @strawberry.mutation(
        extensions=requires(Role.STAFF_ADMIN),
        description="Send a FAILED (or SENT) e-mail again, with fresh attempts; audited.",
    )
    async def resend_mail(self, info: Info, mail_id: int) -> OutboxMailPayload:
        return await mutate(
            info,
            notifications.resend(actor_of(info), mail_id),
            lambda mail: OutboxMailPayload(mail=OutboxMailType.of(mail)),
            lambda errors: OutboxMailPayload(errors=errors),
        )
