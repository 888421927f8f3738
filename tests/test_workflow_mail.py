"""Status-change e-mails: the SMTP client against a loopback SMTP simulator, and the outbox
that keeps messages while the mail server is down."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from integrations.mail import MailMessage, MailRejected, MailUnavailable, SmtpMailer
from integrations.mail.simulator import Mailbox, SimulatedMailer, serve_simulator
from models import clock
from models.accounts import Firm
from models.notifications import Notification, NotificationStatus
from resolvers import jobs
from resolvers.settings import configure
from resolvers.workflow import notifications
from tests.support.api import gql, login, make_world
from tests.support.uploads import imei, upload, xlsx
from tests.support.workflow import attach_documents, deliver_mail, smtp_on_loopback
from tests.test_application_analysis import APPLE, SUBMIT, create_draft, seed_registry

SUBJECT = "MCKS başvurunuz MCKS-2026-000001: İncelemede — ğüşıöç İĞÜŞÖÇ"


def message(to: str = "firma@example.com") -> MailMessage:
    return MailMessage(
        to=(to,),
        subject=SUBJECT,
        text="Sayın Kıbrıs Cihaz Ltd.,\n.nokta ile başlayan satır\nİyi çalışmalar.",
        message_id="<mcks-notification-1@bthk.example>",
        date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )


async def test_the_smtp_client_delivers_turkish_mail_and_types_its_failures():
    async with serve_simulator() as server:
        mailer = SmtpMailer(server.host, server.port, "MCKS <mcks@bthk.example>", starttls=False)
        await mailer.send(message())
        [received] = server.mailbox.received
        assert received.subject == SUBJECT
        assert received.text.splitlines()[:2] == [
            "Sayın Kıbrıs Cihaz Ltd.,",
            ".nokta ile başlayan satır",
        ]
        assert received.envelope_from == "mcks@bthk.example"
        assert received.message["Message-ID"] == "<mcks-notification-1@bthk.example>"

        with pytest.raises(MailRejected):
            await mailer.send(message("yok-sim-reject@example.com"))
        with pytest.raises(MailUnavailable):
            await mailer.send(message("dolu-sim-busy@example.com"))
        server.down = True
        with pytest.raises(MailUnavailable):
            await mailer.send(message())
    with pytest.raises(MailUnavailable):  # nobody listens any more
        await mailer.send(message())


async def submitted_application(client, world: bool = True) -> int:
    if world:
        await make_world()
    await seed_registry()
    user = await login(client, "a.user")
    application_id = await create_draft(client, user)
    await upload(
        client,
        user,
        application_id,
        xlsx([("APPLE", "A2403", imei(APPLE + "990001"), imei(APPLE + "990002"))]),
    )
    await attach_documents(client, user, application_id)
    body = await gql(client, SUBMIT, {"id": application_id}, token=user)
    assert body["data"]["submitApplication"]["errors"] == []
    return application_id


async def test_a_status_mail_waits_in_the_outbox_while_the_server_is_down(client):
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    mailer = SimulatedMailer(Mailbox())
    notifications.use_mailer(mailer)
    try:
        mailer.down = True
        application_id = await submitted_application(client)
        [queued] = await Notification.filter(
            application_id=application_id, recipient="firma@example.com"
        )
        assert queued.status == NotificationStatus.PENDING

        await deliver_mail()
        queued = await Notification.get(id=queued.id)
        assert (queued.status, queued.attempts) == (NotificationStatus.PENDING, 1)
        assert "down" in (queued.last_error or "")
        assert queued.next_attempt_at == clock.now() + jobs.backoff(1)
        await deliver_mail()  # not due yet: nothing is tried
        assert (await Notification.get(id=queued.id)).attempts == 1

        mailer.down = False
        clock.advance(timedelta(seconds=6))
        await deliver_mail()
        sent = await Notification.get(id=queued.id)
        assert (sent.status, sent.attempts) == (NotificationStatus.SENT, 2)
        [mail] = mailer.mailbox.to("firma@example.com")
        assert mail.subject.endswith(": Üst Kullanıcı Onayında")
        assert "Sayın Anadolu Mobil A.Ş." in mail.text and "-- English --" in mail.text
        assert mail.message["Message-ID"] == f"<mcks-notification-{sent.id}@localhost>"
    finally:
        notifications.use_mailer(None)


async def test_a_refused_address_is_given_up_and_left_for_staff(client):
    mailer = SimulatedMailer(Mailbox())
    notifications.use_mailer(mailer)
    try:
        await make_world()
        await Firm.filter(name="Anadolu Mobil A.Ş.").update(
            contact_email="eski-sim-reject@example.com"
        )
        await seed_registry()
        user = await login(client, "a.user")
        application_id = await create_draft(client, user)
        await upload(
            client,
            user,
            application_id,
            xlsx([("APPLE", "A2403", imei(APPLE + "990003"), imei(APPLE + "990004"))]),
        )
        await attach_documents(client, user, application_id)
        clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        await gql(client, SUBMIT, {"id": application_id}, token=user)
        # A 5xx is tried a few times (servers answer 5xx for passing troubles too), then
        # left for staff.
        for attempt in range(1, notifications.MAX_REJECTED_ATTEMPTS + 1):
            await deliver_mail()
            clock.advance(jobs.backoff(attempt))
        [failed] = await Notification.filter(
            application_id=application_id, recipient="eski-sim-reject@example.com"
        )
        assert (failed.status, failed.attempts) == (
            NotificationStatus.FAILED,
            notifications.MAX_REJECTED_ATTEMPTS,
        )
        assert "550" in (failed.last_error or "")
        # The supervisor's own copy was not held back by the refused contact address.
        assert [m.recipients for m in mailer.mailbox.received] == [("a.super@example.com",)]
    finally:
        notifications.use_mailer(None)


async def test_production_without_an_smtp_server_keeps_mail_queued(client, settings):
    configure(replace(settings, env="production", smtp_host=""))
    notifications.use_mailer(None)
    try:
        application_id = await submitted_application(client)
        await deliver_mail()
        [queued, *_] = await Notification.filter(application_id=application_id)
        assert queued.status == NotificationStatus.PENDING and "MCKS_SMTP_HOST" in (
            queued.last_error or ""
        )
    finally:
        notifications.use_mailer(None)


async def test_the_configured_smtp_server_gets_the_notifications(client, settings):
    async with smtp_on_loopback(settings) as server:
        await submitted_application(client)
        assert await deliver_mail() == 1  # one dispatcher run sent the queued messages
        [mail] = server.mailbox.to("firma@example.com")
        assert mail.subject.endswith(": Üst Kullanıcı Onayında")
        assert mail.message["From"] == "MCKS <mcks@bthk.example>"
