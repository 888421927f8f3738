"""The firm is reminded of its customs-documents deadline (guide §6): the configured days
before it and on the day it passes, each once, through the outbox to a real SMTP
conversation on loopback; the firm lists its own overdue applications."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from integrations.mail.simulator import serve_simulator
from models import clock
from models.applications import Application
from models.jobs import Job
from models.notifications import CustomsReminder, Notification, NotificationStatus
from models.progress import ApplicationProgress
from models.workflow import ApplicationKind, ApplicationStatus
from resolvers import jobs
from resolvers.job_kinds import load_handlers
from resolvers.settings import Settings, SettingsError, configure
from resolvers.workflow import customs_reminders, notifications
from tests.support.api import gql, login, make_world
from tests.support.workflow import deliver_mail, mailbox
from tests.test_mail_outbox import smtp_settings

__all__ = ["mailbox"]  # the fixture

load_handlers()

PAID = datetime(2026, 5, 23, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONTACT = "firma@example.com"
OVERDUE = """query { overdueApplications { totalCount items { application { id } overdue } } }"""


async def awaiting_customs(firm_id: int, due: datetime = DUE) -> Application:
    """An application whose payment put its IMEIs on the list and whose customs documents
    are due at `due` (as `recordPayment` leaves it)."""
    application = await Application.create(
        firm_id=firm_id,
        kind=ApplicationKind.IMPORT,
        status=ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS,
        created_by="a.user",
        created_at=PAID,
        updated_at=PAID,
    )
    await ApplicationProgress.create(
        application_id=application.id, customs_due_at=due, registered_at=PAID, updated_at=PAID
    )
    return application


async def tick() -> None:
    """What the worker does each tick: the reminder job of this hour, then the outbox."""
    await customs_reminders.schedule_periodic()
    await jobs.drain()
    await deliver_mail()


async def test_reminders_before_the_deadline_and_a_notice_once_it_passed(client, settings):
    world = await make_world()
    clock.freeze(DUE - timedelta(days=31))
    try:
        async with serve_simulator() as server:
            smtp_settings(settings, server.host, server.port)
            application = await awaiting_customs(world.firm_a.id)
            done = await awaiting_customs(world.firm_a.id)
            done.status = ApplicationStatus.COMPLETED
            await done.save(update_fields=["status"])

            await tick()  # 31 days before: nothing yet
            assert server.mailbox.received == []

            clock.advance(timedelta(days=1, minutes=1))  # 30 days before
            await tick()
            [first] = server.mailbox.to(CONTACT)
            assert first.subject.endswith(": gümrük belgelerinin teslimi için son 30 gün")
            assert "23.11.2026 tarihine kadar" in first.text
            assert "due by 23.11.2026 (within 30 days)" in first.text

            # The next hours and days send nothing new; the same hour's job runs once.
            for _ in range(3):
                clock.advance(timedelta(hours=5))
                await tick()
            await customs_reminders.schedule_periodic()
            assert await Job.filter(kind=customs_reminders.JOB_KIND, status="QUEUED").count() == 0
            assert len(server.mailbox.to(CONTACT)) == 1

            clock.advance(DUE - timedelta(days=7) - clock.now())  # 7 days before
            await tick()
            assert [m.subject.rsplit(": ", 1)[1] for m in server.mailbox.to(CONTACT)] == [
                "gümrük belgelerinin teslimi için son 30 gün",
                "gümrük belgelerinin teslimi için son 7 gün",
            ]

            clock.advance(DUE - clock.now())  # the day it passes
            await tick()
            last = server.mailbox.to(CONTACT)[-1]
            assert last.subject.endswith(": gümrük belgelerinin süresi doldu")
            assert "23.11.2026 tarihinde doldu" in last.text
            assert "passed on 23.11.2026" in last.text
            clock.advance(timedelta(days=3))
            await tick()
            assert len(server.mailbox.to(CONTACT)) == 3

            # Only the application still waiting was reminded, each reminder once.
            reminders = (
                await CustomsReminder.filter()
                .order_by("id")
                .values_list("application_id", "days_before")
            )
            assert reminders == [(application.id, 30), (application.id, 7), (application.id, 0)]
            events = await Notification.filter(application_id=application.id).values_list(
                "event", "status"
            )
            assert sorted(events) == [
                ("customs.overdue", NotificationStatus.SENT),
                ("customs.reminder", NotificationStatus.SENT),
                ("customs.reminder", NotificationStatus.SENT),
            ]

            # The firm lists its own overdue applications; another firm sees none.
            user = await login(client, "a.user")
            mine = (await gql(client, OVERDUE, token=user))["data"]["overdueApplications"]
            assert mine == {
                "totalCount": 1,
                "items": [{"application": {"id": application.id}, "overdue": True}],
            }
            other = await login(client, "b.user")
            theirs = (await gql(client, OVERDUE, token=other))["data"]["overdueApplications"]
            assert theirs["totalCount"] == 0
    finally:
        notifications.use_mailer(None)


async def test_a_late_run_sends_only_the_most_urgent_reminder_and_days_are_configurable(
    client, settings, mailbox
):
    world = await make_world()
    configure(replace(settings, customs_reminder_days=(14, 3)))
    clock.freeze(DUE - timedelta(days=10))  # the 14-day reminder was missed (worker away)
    application = await awaiting_customs(world.firm_a.id)
    await tick()
    [mail] = mailbox.to(CONTACT)
    assert "son 14 gün" in mail.subject
    clock.advance(timedelta(days=8))  # 2 days before: the 3-day one
    await tick()
    assert "son 3 gün" in mailbox.to(CONTACT)[-1].subject
    # A worker that was away past the deadline sends the overdue notice, nothing older.
    late = await awaiting_customs(world.firm_a.id, due=clock.now() - timedelta(days=20))
    clock.advance(timedelta(hours=1))  # the next hourly run
    await tick()
    assert [m.subject for m in mailbox.to(CONTACT) if f"{late.id:06d}" in m.subject] == [
        f"MCKS başvurunuz MCKS-2026-{late.id:06d}: gümrük belgelerinin süresi doldu"
    ]
    assert await CustomsReminder.filter(application_id=application.id).count() == 2


def test_reminder_days_come_from_the_environment(monkeypatch):
    monkeypatch.setattr(os, "environ", {"MCKS_ENV": "test"})
    assert Settings.from_env().customs_reminder_days == (30, 7)
    monkeypatch.setitem(os.environ, "MCKS_CUSTOMS_REMINDER_DAYS", "7, 45,30")
    assert Settings.from_env().customs_reminder_days == (45, 30, 7)
    monkeypatch.setitem(os.environ, "MCKS_CUSTOMS_REMINDER_DAYS", "none")
    assert Settings.from_env().customs_reminder_days == ()
    for wrong in ("30;7", "0,7", "400"):
        monkeypatch.setitem(os.environ, "MCKS_CUSTOMS_REMINDER_DAYS", wrong)
        with pytest.raises(SettingsError, match="MCKS_CUSTOMS_REMINDER_DAYS"):
            Settings.from_env()


async def test_a_reminder_the_mail_server_defers_waits_in_the_outbox_and_goes_later(
    client, settings
):
    world = await make_world()
    clock.freeze(DUE - timedelta(days=7))
    try:
        async with serve_simulator() as server:
            smtp_settings(settings, server.host, server.port)
            server.rcpt_answer = (451, "4.3.0 try again later")
            await awaiting_customs(world.firm_a.id)
            await tick()
            [waiting] = await Notification.filter(event="customs.reminder")
            assert (waiting.status, waiting.attempts) == (NotificationStatus.PENDING, 1)
            assert "451 4.3.0 try again later" in (waiting.last_error or "")
            server.rcpt_answer = None
            clock.advance(jobs.backoff(1))
            await tick()
            assert (await Notification.get(id=waiting.id)).status == NotificationStatus.SENT
            [mail] = server.mailbox.to(CONTACT)
            assert mail.subject.endswith("son 7 gün")
            assert await CustomsReminder.filter().count() == 1  # queued once, sent on retry
    finally:
        notifications.use_mailer(None)
