"""Mail that staff can trust: temporary SMTP failures (4xx, 5xx, a refused connection) are
retried with backoff against a real SMTP conversation on loopback; staff read the outbox
with the server's answers and resend; a supervisor's mail reaches the supervisors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from integrations.mail.simulator import serve_simulator
from models import clock
from models.accounts import User
from models.audit import AuditEvent
from models.notifications import Notification, NotificationStatus
from resolvers import jobs
from resolvers.settings import configure
from resolvers.workflow import notifications
from tests.support.api import gql, login, make_world
from tests.support.workflow import deliver_mail
from tests.test_serve import free_port
from tests.test_workflow_mail import submitted_application

OUTBOX = """
query($status: MailStatus, $first: Int, $after: String) {
  mailOutbox(status: $status, first: $first, after: $after) {
    totalCount pageInfo { endCursor hasNextPage }
    items { id recipient subject status attempts lastError nextAttemptAt sentAt applicationId }
  }
}"""
RESEND = "mutation($id: Int!) { resendMail(mailId: $id) { mail { id status attempts } errors { code field message } } }"
CONTACT = "firma@example.com"


def smtp_settings(settings, host: str, port: int):  # type: ignore[no-untyped-def]
    configure(
        replace(
            settings, smtp_host=host, smtp_port=port, smtp_starttls=False, smtp_timeout_seconds=5
        )
    )
    notifications.use_mailer(None)  # built again from the settings


async def mail_to(address: str) -> Notification:
    return await Notification.get(recipient=address)


async def test_4xx_then_refused_connection_then_5xx_are_retried_with_backoff_and_shown_to_staff(
    client, settings
):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    try:
        async with serve_simulator() as server:
            smtp_settings(settings, server.host, server.port)
            server.rcpt_answer = (451, "4.3.0 try again later")
            application_id = await submitted_application(client)

            await deliver_mail()
            first = await mail_to(CONTACT)
            assert (first.status, first.attempts) == (NotificationStatus.PENDING, 1)
            assert "451 4.3.0 try again later" in (first.last_error or "")
            assert first.next_attempt_at == clock.now() + jobs.backoff(1)

            # The server goes away: the connection is refused, still only a delay.
            smtp_settings(settings, "127.0.0.1", free_port())
            clock.advance(jobs.backoff(1))
            await deliver_mail()
            second = await mail_to(CONTACT)
            assert (second.status, second.attempts) == (NotificationStatus.PENDING, 2)
            assert "Connection refused" in (second.last_error or "")
            assert second.next_attempt_at == clock.now() + jobs.backoff(2)

            # Back, but refusing the mailbox (5xx): a few tries, then FAILED for staff.
            smtp_settings(settings, server.host, server.port)
            server.rcpt_answer = (550, "5.1.1 mailbox unavailable")
            clock.advance(jobs.backoff(2))
            await deliver_mail()
            assert (await mail_to(CONTACT)).status == NotificationStatus.FAILED
            assert server.mailbox.received == []

            staff = await login(client, "staff.reviewer")
            body = await gql(client, OUTBOX, {"status": "FAILED"}, token=staff)
            outbox = body["data"]["mailOutbox"]
            assert outbox["totalCount"] == 2  # the contact address and the supervisor
            failed = next(m for m in outbox["items"] if m["recipient"] == CONTACT)
            assert failed["attempts"] == 3 and failed["applicationId"] == application_id
            assert "550 5.1.1 mailbox unavailable" in failed["lastError"]
            assert failed["nextAttemptAt"] is None and failed["sentAt"] is None
            assert failed["subject"].endswith(": Üst Kullanıcı Onayında")

            # Reviewers read, only the staff admin resends.
            refused = await gql(client, RESEND, {"id": int(failed["id"])}, token=staff)
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            admin = await login(client, "staff.admin")
            server.rcpt_answer = None
            resent = (await gql(client, RESEND, {"id": int(failed["id"])}, token=admin))["data"][
                "resendMail"
            ]
            assert resent["errors"] == [] and resent["mail"]["status"] == "PENDING"
            again = await gql(client, RESEND, {"id": int(failed["id"])}, token=admin)
            assert again["data"]["resendMail"]["errors"][0]["code"] == "INVALID_STATE"
            await deliver_mail()
            assert (await mail_to(CONTACT)).status == NotificationStatus.SENT
            assert [m.recipients for m in server.mailbox.received] == [(CONTACT,)]
            event = await AuditEvent.get(action="notification.resent")
            assert event.subject_id == str(failed["id"]) and event.details["recipient"] == CONTACT

            sent = await gql(client, OUTBOX, {"status": "SENT"}, token=staff)
            assert sent["data"]["mailOutbox"]["totalCount"] == 1
            everything = await gql(client, OUTBOX, {"first": 1}, token=staff)
            page = everything["data"]["mailOutbox"]
            assert page["totalCount"] == 2 and len(page["items"]) == 1
            assert page["pageInfo"]["hasNextPage"] is True
            rest = await gql(
                client, OUTBOX, {"first": 1, "after": page["pageInfo"]["endCursor"]}, token=staff
            )
            assert rest["data"]["mailOutbox"]["pageInfo"]["hasNextPage"] is False
    finally:
        notifications.use_mailer(None)


async def test_an_application_awaiting_approval_is_mailed_to_the_firms_supervisors(
    client, settings
):
    async with serve_simulator() as server:
        smtp_settings(settings, server.host, server.port)
        try:
            await submitted_application_with_supervisors(client)
            await deliver_mail()
            recipients = sorted(r for m in server.mailbox.received for r in m.recipients)
            assert recipients == sorted(
                ["a.super@example.com", "ikinci.yonetici@example.com", CONTACT]
            )
            supervisor_mail = server.mailbox.to("a.super@example.com")[0]
            assert "üst kullanıcının onaylayıp analize göndermesini" in supervisor_mail.text
        finally:
            notifications.use_mailer(None)


async def submitted_application_with_supervisors(client) -> int:  # type: ignore[no-untyped-def]
    """make_world's firm has one supervisor: add a second one, and a disabled one."""
    await make_world()
    base = await User.get(username="a.super")
    for username, active in (("ikinci.yonetici", True), ("eski.yonetici", False)):
        await User.create(
            username=username,
            full_name=username,
            email=f"{username}@example.com",
            role=base.role,
            firm_id=base.firm_id,  # type: ignore[attr-defined]
            password_hash=base.password_hash,
            must_change_password=False,
            is_active=active,
            created_at=clock.now(),
        )
    return await submitted_application(client, world=False)
