"""Reminders of the customs-documents deadline (guide §6): the firm is e-mailed the
configured days before its application's documents are due (`MCKS_CUSTOMS_REMINDER_DAYS`,
e.g. 30 and 7) and once more when the deadline has passed.

A periodic job (hourly) looks at the applications still awaiting customs documents whose
deadline is near or past, and queues at most one e-mail per application and run: the most
urgent reminder it has reached and not yet had. A `CustomsReminder` row per deadline and
reminder (unique) makes each one go out once, whichever worker runs the job; the mail
itself goes through the outbox (retried, shown to staff when refused) like every other.
A worker that was down for weeks therefore sends the overdue notice only, not every
reminder it missed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Firm
from models.applications import Application
from models.jobs import Job
from models.labels import label
from models.notifications import CustomsReminder
from models.progress import ApplicationProgress
from models.workflow import ApplicationStatus
from resolvers import jobs
from resolvers.documents import format_date
from resolvers.settings import get_settings
from resolvers.workflow import notifications
from resolvers.workflow.common import reference

log = logging.getLogger("mcks.notifications")

JOB_KIND = "customs.reminders"
EVENT_REMINDER = "customs.reminder"
EVENT_OVERDUE = "customs.overdue"
SLOT_SECONDS = 3600
OVERDUE = 0  # `days_before` of the notice that the deadline has passed


@jobs.handler(JOB_KIND)
async def reminders_job(job: Job) -> None:
    await send_due_reminders()


async def schedule_periodic() -> None:
    await jobs.enqueue_once_per_slot(JOB_KIND, SLOT_SECONDS)


def stage_reached(due_at: datetime, now: datetime, days: tuple[int, ...]) -> int | None:
    """The most urgent reminder reached at `now`: OVERDUE once the deadline has passed,
    else the fewest days before it that are already here; None before the first one."""
    if now >= due_at:
        return OVERDUE
    reached = [d for d in days if now >= due_at - timedelta(days=d)]
    return min(reached) if reached else None


async def send_due_reminders() -> int:
    """Queue the reminders due now; returns how many applications were reminded."""
    days = get_settings().customs_reminder_days
    now = clock.now()
    horizon = now + timedelta(days=max(days, default=0))
    waiting = await ApplicationProgress.filter(
        customs_due_at__isnull=False, customs_due_at__lte=horizon, completed_at__isnull=True
    ).values_list("application_id", "customs_due_at")
    if not waiting:
        return 0
    due_by_id = {int(a): d for a, d in waiting}
    open_ids: set[int] = {
        int(i)  # type: ignore[call-overload]  (flat values_list is typed as tuples)
        for i in await Application.filter(
            id__in=list(due_by_id), status=ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS
        ).values_list("id", flat=True)
    }
    # Reminders already queued for each application's current deadline.
    sent: dict[int, set[int]] = {}
    for a, d, due in await CustomsReminder.filter(application_id__in=list(open_ids)).values_list(
        "application_id", "days_before", "due_at"
    ):
        if due == due_by_id.get(a):
            sent.setdefault(a, set()).add(d)
    reminded = 0
    for application_id in sorted(open_ids):
        due_at = due_by_id[application_id]
        stage = stage_reached(due_at, now, days)
        # Fewer days is more urgent (OVERDUE = 0 most of all): one as urgent or more was
        # sent already, so nothing is due — and a stage the job missed is never sent late.
        if stage is None or any(s <= stage for s in sent.get(application_id, ())):
            continue
        try:
            reminded += await _remind(application_id, due_at, stage)
        except IntegrityError:
            continue  # another worker queued this reminder at the same moment
    return reminded


async def _remind(application_id: int, due_at: datetime, stage: int) -> int:
    async with in_transaction():
        application = await Application.filter(id=application_id).select_for_update().first()
        if (
            application is None
            or application.status != ApplicationStatus.AWAITING_CUSTOMS_DOCUMENTS
        ):
            return 0
        await CustomsReminder.create(
            application_id=application_id, due_at=due_at, days_before=stage, created_at=clock.now()
        )
        firm = await Firm.get_or_none(id=application.firm_id)
        if firm is None:
            return 0
        addresses = await notifications.recipients(firm, application.status)
        subject, body = compose(application, firm, due_at, stage)
        event = EVENT_OVERDUE if stage == OVERDUE else EVENT_REMINDER
        await notifications.queue(application, event, addresses, subject, body)
    log.info("customs reminder (%s days) queued for application %s", stage, application_id)
    return 1


def compose(application: Application, firm: Firm, due_at: datetime, stage: int) -> tuple[str, str]:
    """The reminder's subject and body, Turkish with English below."""
    ref = reference(application)
    due = format_date(due_at)
    how_tr = (
        "E-imzalı başvurularda belgeleri tek PDF olarak MCKS portalına yükleyip e-imzalı kapak "
        "yazısıyla gönderiniz; ıslak imzalı başvurularda bir dilekçeyle birlikte Kurum arşivine "
        "teslim ediniz."
    )
    how_en = (
        "For an e-signed application upload them as one PDF on the MCKS portal and send the "
        "e-signed cover letter; for a wet-signed one deliver them to the archive with a "
        "petition."
    )
    if stage == OVERDUE:
        subject = f"MCKS başvurunuz {ref}: gümrük belgelerinin süresi doldu"
        lead_tr = (
            f"{ref} numaralı {label(application.kind, 'tr')} başvurunuz için Genel Tahsilat "
            f"Makbuzu ve TİB 1 beyannamesinin teslim süresi {due} tarihinde doldu; belgeler "
            "henüz Kuruma ulaşmadı. Lütfen en kısa sürede iletiniz."
        )
        lead_en = (
            f"The deadline for the general collection receipt and the TİB 1 declaration of "
            f"your {label(application.kind, 'en').lower()} application {ref} passed on {due}; "
            "the regulator has not received them. Please send them as soon as possible."
        )
    else:
        subject = f"MCKS başvurunuz {ref}: gümrük belgelerinin teslimi için son {stage} gün"
        lead_tr = (
            f"{ref} numaralı {label(application.kind, 'tr')} başvurunuz için Genel Tahsilat "
            f"Makbuzu ve TİB 1 beyannamesini en geç {due} tarihine kadar ({stage} gün içinde) "
            "Kuruma iletmeniz gerekmektedir."
        )
        lead_en = (
            f"The general collection receipt and the TİB 1 declaration of your "
            f"{label(application.kind, 'en').lower()} application {ref} are due by {due} "
            f"(within {stage} days)."
        )
    body = (
        f"Sayın {firm.name},\n\n{lead_tr}\n{how_tr}\n\n"
        "Bu ileti otomatik olarak gönderilmiştir; lütfen yanıtlamayınız.\n\n"
        "-- English --\n\n"
        f"Dear {firm.name},\n\n{lead_en}\n{how_en}\n\n"
        "This message was sent automatically; please do not reply.\n"
    )
    return subject, body
