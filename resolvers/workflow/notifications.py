"""E-mails that tell a firm its application's status changed (Turkish, with English below).

Outbox pattern: `status_changed` writes a `Notification` row in the transaction of the status
change (called by `transitions.apply`, the only way statuses change), so a message exists iff
the change committed. The dispatcher job sends due rows; a server that is down or slow only
delays them: each failure reschedules the row with the job queue's backoff, and after
`MAX_ATTEMPTS` (or a permanent 5xx) it is marked FAILED for staff. A dispatcher claims rows
with a lease before talking to the server, so two workers never send one row at once; a
worker that dies after sending leaves the lease to expire and the row is sent again with the
same Message-ID, which receivers use to drop the duplicate.

Every status change is reported: all statuses are visible to the firm, and the ones the firm
caused itself still tell the supervisor and the contact address what happened. The mail
announcing the fee notice carries the signed notice, the one announcing the payment the
signed permit (guide §4, §5): the row names the stored file, read when the mail is sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from integrations.mail import (
    MailAttachment,
    Mailer,
    MailError,
    MailMessage,
    MailUnavailable,
    SmtpMailer,
    address_of,
)
from models import clock
from models.accounts import Firm, User
from models.applications import Application, DeclarationDifference
from models.documents import DocumentKind
from models.fees import format_lira
from models.files import StoredFile
from models.jobs import Job
from models.labels import label
from models.notifications import Notification, NotificationStatus
from models.payments import FeeNotice
from models.progress import ApplicationProgress
from models.roles import Role
from models.workflow import SUPERVISOR, TRANSITIONS, ApplicationStatus
from resolvers import audit, files, jobs, metrics
from resolvers.actor import Actor
from resolvers.documents import format_count, format_date, format_moment
from resolvers.errors import Bilingual, DomainError, ErrorCode, invalid_state, not_found
from resolvers.pagination import Page, paginate
from resolvers.settings import Settings, get_settings
from resolvers.workflow.balance import balance_of
from resolvers.workflow.common import current_document, reference
from resolvers.workflow.fees import payment_due

log = logging.getLogger("mcks.notifications")

JOB_KIND = "notifications.dispatch"
EVENT_STATUS = "application.status_changed"
MAX_ATTEMPTS = 10
# A 5xx is permanent by the letter of RFC 5321, but servers answer 5xx for passing troubles
# too (a full quota, a policy reload, 554 during maintenance): a few tries, then FAILED.
MAX_REJECTED_ATTEMPTS = 3
BATCH = 10
DISPATCH_SLOT_SECONDS = 30

S = ApplicationStatus

_mailer: Mailer | None = None


class _NoServer:
    """Production without MCKS_SMTP_HOST: every send fails as retryable, so the messages
    wait in the outbox (and end up FAILED for staff) instead of vanishing."""

    async def send(self, message: MailMessage) -> None:
        raise MailUnavailable("no SMTP server configured (MCKS_SMTP_HOST)")

    async def aclose(self) -> None:
        return None


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_ssl=settings.smtp_ssl,
            timeout_seconds=settings.smtp_timeout_seconds,
        )
    if settings.env == "production":
        log.error("MCKS_SMTP_HOST is not set: notifications stay in the outbox")
        return _NoServer()
    from integrations.mail.simulator import SimulatedMailer

    log.warning("MCKS_SMTP_HOST is not set: e-mails go to the in-memory simulator")
    return SimulatedMailer(sender=settings.mail_from)


def mailer() -> Mailer:
    global _mailer
    if _mailer is None:
        _mailer = mailer_for(get_settings())
    return _mailer


def use_mailer(chosen: Mailer | None) -> None:
    """Install a mailer (tests, the demo); None goes back to the one the settings give."""
    global _mailer
    _mailer = chosen


# --- composing ---------------------------------------------------------------------------


async def _next_step(application: Application) -> tuple[str, str]:
    """What the new status means for the firm, in Turkish and English."""
    status = application.status
    if status == S.AWAITING_SUPERVISOR_APPROVAL:
        return (
            "Başvuru, üst kullanıcının onaylayıp analize göndermesini bekliyor.",
            "The application waits for the supervisor to approve it and send it to analysis.",
        )
    if status == S.IN_ANALYSIS:
        return ("Teknik kontroller yapılıyor.", "The technical checks are running.")
    if status == S.AWAITING_SIGNATURE_CHOICE:
        passed = format_count(application.passed_device_count or 0)
        failed = format_count(application.failed_device_count or 0)
        inconsistent = await DeclarationDifference.filter(application_id=application.id).count()
        if inconsistent:
            # Art. 10(3): such an application is neither signed nor approved.
            return (
                f"Teknik kontrollerden {passed} cihaz geçti, {failed} cihaz geçemedi. Beyan "
                f"ettiğiniz cihazlar {inconsistent} marka/modelde cihaz listesiyle tutarsız; "
                "başvuruyu taslağa geri alıp beyanı ya da listeyi düzelterek yeniden gönderiniz.",
                f"{passed} device(s) passed the technical checks and {failed} failed. The "
                f"declared devices differ from the device list for {inconsistent} brand/model(s);"
                " take the application back to draft, correct the declaration or the list and "
                "submit it again.",
            )
        return (
            f"Teknik kontrollerden {passed} cihaz geçti, {failed} cihaz geçemedi; geçemeyen "
            "cihazları ve nedenlerini portalda görebilirsiniz. Geçen cihazlarla devam etmek "
            "için imza tipini seçiniz.",
            f"{passed} device(s) passed the technical checks and {failed} failed; the portal "
            "lists the failing ones with their reasons. Choose the signature type to go on "
            "with the passing devices.",
        )
    if status == S.AWAITING_SIGNED_DOCUMENT:
        return (
            "Başvuru dokümanını portaldan indirip e-imzanızla imzalayarak yükleyiniz.",
            "Download the application document, sign it with your e-signature and upload it.",
        )
    if status == S.AWAITING_HARDCOPY:
        return (
            "Başvuru dokümanının her sayfası ıslak imzalı ve kaşeli nüshasını Kurum arşivine "
            "teslim ediniz.",
            "Deliver the application document, every page stamped and signed in ink, to the "
            "regulator's archive.",
        )
    if status == S.UNDER_REVIEW:
        return ("Başvurunuz Kurum tarafından incelenmektedir.", "The regulator is reviewing it.")
    if status == S.AWAITING_PAYMENT:
        notice = await FeeNotice.get_or_none(application_id=application.id)
        if notice is not None:
            amount = format_lira(notice.amount_kurus)
            due = format_date(payment_due(notice.issued_at))
            balance = await balance_of(application.id)
            prepaid_tr = prepaid_en = ""
            if balance.paid_kurus:  # pre-paid receipts already set off (art. 8(2)(f))
                paid, rest = (
                    format_lira(balance.paid_kurus),
                    format_lira(balance.outstanding_kurus or 0),
                )
                prepaid_tr = f" Başvuruyla ödenen {paid} mahsup edildi; kalan {rest}."
                prepaid_en = f" The {paid} paid with the application was set off; {rest} remain."
            return (
                f"Ücret bildirimi düzenlendi: {notice.number}, ödenecek tutar {amount}, son "
                f"ödeme tarihi {due}.{prepaid_tr} Ödeme sanal POS, Kurumda kart ya da banka "
                "havalesiyle (dekont beyan ederek) yapılabilir; havalede bildirim numarasını "
                "belirtiniz. Kurumca elektronik imzalı ücret bildirimi ektedir.",
                f"A fee notice was issued: {notice.number}, amount due {amount}, to be paid by "
                f"{due}.{prepaid_en} Pay by virtual POS, by card at the office, or by bank "
                "transfer (declaring the receipt) quoting the notice number. The fee notice, "
                "e-signed by the regulator, is attached.",
            )
    progress = await ApplicationProgress.get_or_none(application_id=application.id)
    if status == S.AWAITING_CUSTOMS_DOCUMENTS and progress is not None:
        due = format_date(progress.customs_due_at) if progress.customs_due_at else "—"
        count = format_count(progress.registered_imei_count + progress.held_imei_count)
        return (
            f"Ödemeniz alındı; {count} IMEI kayıt altına alındı ve ithal izin belgesi "
            "düzenlendi (Kurumca elektronik imzalı, ektedir). Genel Tahsilat Makbuzu ve TİB 1 "
            f"beyannamesini en geç {due} tarihine kadar iletiniz.",
            f"Your payment was received; {count} IMEI(s) were registered and the import "
            "permit was issued (e-signed by the regulator, attached). Send the general "
            f"collection receipt and the TİB 1 declaration by {due} at the latest.",
        )
    if status == S.COMPLETED and progress is not None and progress.customs_due_at is None:
        # Paid, and no customs documents are due (manufacture): the permit came with this.
        return (
            "Ödemeniz alındı ve başvuru süreciniz tamamlanmıştır. Kurumca elektronik imzalı "
            "kayıt belgesi ektedir.",
            "Your payment was received and your application is complete. The registration "
            "certificate, e-signed by the regulator, is attached.",
        )
    if status == S.COMPLETED:
        return ("Başvuru süreciniz tamamlanmıştır.", "Your application is complete.")
    if status == S.REJECTED:
        return (
            "Gerekçede belirtilen sorunu giderdiğinizde başvurunuz yeniden işleme alınır "
            "(Tebliğ madde 10(4)).",
            "Once you fix the problem stated in the reason, the application is taken up "
            "again (art. 10(4)).",
        )
    if status == S.DRAFT:
        return (
            "Başvurunuz taslak durumuna döndü; gerekli düzeltmeleri yapıp yeniden "
            "gönderebilirsiniz.",
            "The application is a draft again; make the corrections and submit it again.",
        )
    return ("", "")


async def compose(
    application: Application,
    firm: Firm,
    previous: ApplicationStatus,
    reason: str | Bilingual | None,
) -> tuple[str, str]:
    ref = reference(application)
    when = format_moment(clock.now())  # on the regulator's clock (MCKS_TIME_ZONE)
    next_tr, next_en = await _next_step(application)
    said_tr, said_en = (reason.tr, reason.en) if isinstance(reason, Bilingual) else (reason, reason)
    reason_tr = f"Gerekçe: {said_tr}\n" if said_tr else ""
    reason_en = f"Reason: {said_en}\n" if said_en else ""
    subject = f"MCKS başvurunuz {ref}: {label(application.status, 'tr')}"
    body = (
        f"Sayın {firm.name},\n\n"
        f"{ref} numaralı {label(application.kind, 'tr')} başvurunuzun durumu "
        f'"{label(previous, "tr")}" iken {when} itibarıyla "{label(application.status, "tr")}" '
        "oldu.\n"
        f"{reason_tr}{next_tr}\n\n"
        "Ayrıntıları MCKS portalında görebilirsiniz. Bu ileti otomatik olarak "
        "gönderilmiştir; lütfen yanıtlamayınız.\n\n"
        "-- English --\n\n"
        f"Dear {firm.name},\n\n"
        f"The status of your {label(application.kind, 'en').lower()} application {ref} "
        f'changed from "{label(previous, "en")}" to "{label(application.status, "en")}" on '
        f"{when}.\n"
        f"{reason_en}{next_en}\n\n"
        "The MCKS portal shows the details. This message was sent automatically; please do "
        "not reply.\n"
    )
    return subject, body


# Statuses only a firm supervisor can move on: their mail goes to the supervisors too,
# not only to the firm's contact address (which may be a shared mailbox nobody watches).
SUPERVISOR_STATUSES = frozenset(
    source for t in TRANSITIONS if t.roles == SUPERVISOR for source in t.sources
)


async def recipients(firm: Firm, status: ApplicationStatus) -> list[str]:
    return await firm_addresses(firm, supervisors=status in SUPERVISOR_STATUSES)


async def firm_addresses(firm: Firm, supervisors: bool) -> list[str]:
    """The firm's contact address, and its active supervisors' when they must act."""
    found = [firm.contact_email] if firm.contact_email else []
    if supervisors:
        people = await User.filter(
            firm_id=firm.id, role=Role.FIRM_SUPERVISOR, is_active=True
        ).order_by("id")
        found += [u.email for u in people if u.email and "@" in u.email]
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


async def queue_firm_mail(firm_id: int, event: str, subject: str, body: str) -> int:
    """Queue one message to a firm (inside the caller's transaction: sent iff it commits),
    to its contact address and its supervisors; how many rows were queued."""
    firm = await Firm.get_or_none(id=firm_id)
    if firm is None:
        return 0
    addresses = await firm_addresses(firm, supervisors=True)
    return len(await _queue(firm.id, None, event, addresses, subject, body))


async def queue(
    application: Application,
    event: str,
    addresses: list[str],
    subject: str,
    body: str,
    attachment_file_id: int | None = None,
) -> list[Notification]:
    """One outbox row per recipient of an application's mail (inside the caller's
    transaction), due now."""
    return await _queue(
        application.firm_id, application.id, event, addresses, subject, body, attachment_file_id
    )


async def _queue(
    firm_id: int,
    application_id: int | None,
    event: str,
    addresses: list[str],
    subject: str,
    body: str,
    attachment_file_id: int | None = None,
) -> list[Notification]:
    # One row per recipient, so one refused address does not hold back the others.
    now = clock.now()
    return [
        await Notification.create(
            firm_id=firm_id,
            application_id=application_id,
            event=event,
            recipient=address,
            subject=subject[:255],
            body=body,
            attachment_file_id=attachment_file_id,
            next_attempt_at=now,
            created_at=now,
        )
        for address in addresses
    ]


async def status_changed(
    application: Application, previous: ApplicationStatus, reason: str | Bilingual | None
) -> list[Notification]:
    """Queue the e-mails for a status change (inside the change's transaction); the mail of
    a change that issued a signed document carries it."""
    firm = await Firm.get_or_none(id=application.firm_id)
    if firm is None:
        return []
    addresses = await recipients(firm, application.status)
    if not addresses:
        return []
    subject, body = await compose(application, firm, previous, reason)
    attachment = await _signed_document(application, previous)
    return await queue(application, EVENT_STATUS, addresses, subject, body, attachment)


async def _signed_document(application: Application, previous: ApplicationStatus) -> int | None:
    """The signed document this change issued, which its mail carries: the fee notice on
    approval, the permit with the payment (whatever comes after it)."""
    if application.status == S.AWAITING_PAYMENT:
        kind = DocumentKind.FEE_NOTICE
    elif previous == S.AWAITING_PAYMENT:
        kind = DocumentKind.PERMIT
    else:
        return None
    issued = await current_document(application.id, kind)
    return issued[1].id if issued is not None else None


# --- sending -----------------------------------------------------------------------------


async def _attachments(notification: Notification) -> tuple[MailAttachment, ...]:
    if notification.attachment_file_id is None:
        return ()
    stored = await StoredFile.get_or_none(id=notification.attachment_file_id)
    if stored is None:
        return ()  # swept away (should not happen): the text still says where to find it
    try:
        data = await files.read_bytes(stored)
    except OSError as error:
        log.error("notification %s: attachment unreadable: %s", notification.id, error)
        return ()
    return (MailAttachment(stored.original_name, stored.content_type, data),)


def _message_id(notification: Notification) -> str:
    domain = address_of(get_settings().mail_from).rpartition("@")[2] or "mcks.local"
    return f"<mcks-notification-{notification.id}@{domain}>"


def _lease() -> timedelta:
    # Long enough for a whole batch against a server at its timeout, so a lease never runs
    # out while its dispatcher is still working through the batch.
    return timedelta(seconds=BATCH * (get_settings().smtp_timeout_seconds + 5) + 60)


async def _claim() -> list[Notification]:
    now = clock.now()
    async with in_transaction():
        due = (
            await Notification.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .order_by("next_attempt_at", "id")
            .limit(BATCH)
            .select_for_update(skip_locked=True)
        )
        if due:
            await Notification.filter(id__in=[n.id for n in due]).update(lease_until=now + _lease())
    return due


async def _send(notification: Notification) -> bool:
    message = MailMessage(
        to=(notification.recipient,),
        subject=notification.subject,
        text=notification.body,
        message_id=_message_id(notification),
        date=notification.created_at,
        attachments=await _attachments(notification),
    )
    attempts = notification.attempts + 1
    now = clock.now()
    try:
        await mailer().send(message)
    except MailError as error:
        text = str(error)  # the server's answer, as staff read it in the outbox
        limit = MAX_ATTEMPTS if error.retryable else MAX_REJECTED_ATTEMPTS
        if attempts < limit:
            metrics.mail_attempt("retry")
            wait = jobs.backoff(attempts)
            log.warning(
                "notification %s attempt %s failed, retry in %s: %s",
                notification.id,
                attempts,
                wait,
                text,
            )
            await Notification.filter(id=notification.id).update(
                attempts=attempts, next_attempt_at=now + wait, lease_until=None, last_error=text
            )
        else:
            metrics.mail_attempt("failed")
            log.error(
                "notification %s given up after %s attempts: %s", notification.id, attempts, text
            )
            await Notification.filter(id=notification.id).update(
                status=NotificationStatus.FAILED,
                attempts=attempts,
                lease_until=None,
                last_error=text,
            )
        return False
    metrics.mail_attempt("sent")
    await Notification.filter(id=notification.id).update(
        status=NotificationStatus.SENT, attempts=attempts, sent_at=now, lease_until=None
    )
    return True


async def dispatch_due() -> int:
    """Send every due message; returns how many were sent."""
    sent = 0
    while batch := await _claim():
        for notification in batch:
            sent += await _send(notification)
        if len(batch) < BATCH:
            break
    return sent


@jobs.handler(JOB_KIND)
async def dispatch_job(job: Job) -> None:
    await dispatch_due()


async def schedule_periodic() -> None:
    """Queue a dispatcher run when messages are due (one per time slot); the worker loop
    calls this on every tick, so it costs one indexed query when nothing is due."""
    now = clock.now()
    due = await Notification.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).exists()
    if not due:
        return
    slot = int(now.timestamp() // DISPATCH_SLOT_SECONDS)
    try:
        await jobs.enqueue(JOB_KIND, {"slot": slot}, dedupe_key=f"{JOB_KIND}:{slot}")
    except IntegrityError:
        return  # another worker queued this slot's run at the same moment


# --- the outbox, for staff -------------------------------------------------------------------


async def list_outbox(
    actor: Actor,
    status: NotificationStatus | None,
    first: int,
    after: str | None,
    application_id: int | None = None,
) -> Page[Notification]:
    """Every e-mail, newest first: waiting, sent, or given up with the server's answer."""
    if not actor.is_staff:
        raise DomainError(ErrorCode.FORBIDDEN)
    query = Notification.all()
    if status is not None:
        query = query.filter(status=status)
    if application_id is not None:
        query = query.filter(application_id=application_id)
    return await paginate(query, first, after, count=True)


async def resend(actor: Actor, notification_id: int) -> Notification:
    """Queue a failed (or already sent) e-mail again with fresh attempts, now; audited.
    The staff admin's: a resent mail reaches the firm twice if the first did arrive."""
    if actor.role != Role.STAFF_ADMIN:
        raise DomainError(ErrorCode.FORBIDDEN)
    now = clock.now()
    async with in_transaction():
        notification = await Notification.filter(id=notification_id).select_for_update().first()
        if notification is None:
            raise not_found("E-posta", "E-mail", field="mailId")
        if notification.status == NotificationStatus.PENDING:
            raise invalid_state(
                "bu e-posta zaten gönderilmeyi bekliyor",
                "this e-mail is already waiting to be sent",
            )
        previous = notification.status
        notification.status = NotificationStatus.PENDING
        notification.attempts = 0
        notification.next_attempt_at = now
        notification.lease_until = None
        await notification.save(
            update_fields=["status", "attempts", "next_attempt_at", "lease_until"]
        )
        await audit.record(
            actor,
            "notification.resent",
            "Notification",
            notification.id,
            {
                "recipient": notification.recipient,
                "previousStatus": previous.value,
                "lastError": notification.last_error,
            },
            firm_id=notification.firm_id,
        )
    await schedule_periodic()  # sent with the next worker tick, not the next slot
    return notification
