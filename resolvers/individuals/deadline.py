"""The verification deadline: a declaration still unverified `verification_deadline_days`
after submission is blocked on the networks until the authorities answer.

The block is a list status, not a date each check computes: a periodic job turns the
registration's PROVISIONAL whitelist entries OVERDUE (op UPDATE in the feed, with the reason
`VERIFICATION_OVERDUE`), so `checkImeis` (`models.imei_status.decide`) and an operator that
mirrors the feed or the export give the same verdict. The answer, when it comes, turns the
entries REGISTERED or removes them (`verification.apply_answers`), which lifts the block.
Each registration is marked once (`overdue_at`), which is also what staff list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.imei_status import VERIFICATION_OVERDUE
from models.individuals import Registration, RegistrationImei, RegistrationStatus
from models.jobs import Job
from models.registry import WhitelistEntry, WhitelistStatus
from resolvers import audit, jobs, registry_changes
from resolvers.actor import Actor
from resolvers.settings import get_settings

JOB_KIND = "verification.deadline"
# How often the deadline is looked at: a declaration is blocked at most this late.
SCAN_SECONDS = 300
CHUNK = 500  # registrations per transaction
DEADLINE = Actor.system("verification-deadline")


def overdue_cutoff(now: datetime) -> datetime | None:
    """Declarations submitted at or before this moment are overdue; None: no deadline."""
    days = get_settings().verification_deadline_days
    return None if days <= 0 else now - timedelta(days=days)


def due_at(registration: Registration) -> datetime | None:
    """When a declaration still awaiting verification turns overdue (None: not awaiting, or
    no deadline)."""
    days = get_settings().verification_deadline_days
    if days <= 0 or registration.status != RegistrationStatus.PENDING_VERIFICATION:
        return None
    return registration.created_at + timedelta(days=days)


def overdue_reason() -> str:
    """What operators read in the feed's UPDATE row."""
    days = get_settings().verification_deadline_days
    return (
        f"{VERIFICATION_OVERDUE}: ilgili merci doğrulaması {days} gün içinde tamamlanmadı; "
        "yanıt gelene kadar engelli (Tebliğ md. 5(3)(b))"
    )


async def schedule_periodic() -> None:
    if get_settings().verification_deadline_days > 0:
        await jobs.enqueue_once_per_slot(JOB_KIND, SCAN_SECONDS)


@jobs.handler(JOB_KIND)
async def deadline_job(job: Job) -> None:
    await mark_overdue()


async def mark_overdue() -> int:
    """Turn the provisional entries of every overdue declaration OVERDUE; returns how many
    registrations were marked."""
    cutoff = overdue_cutoff(clock.now())
    if cutoff is None:
        return 0
    marked = 0
    while True:
        async with in_transaction():
            # Registrations first, in id order, then the whitelist lock: the order in which
            # `verification.apply_answers` takes them, so an answer arriving now either
            # waits for us (and then lifts the block) or has already decided them.
            registrations = (
                await Registration.filter(
                    status=RegistrationStatus.PENDING_VERIFICATION,
                    created_at__lte=cutoff,
                    overdue_at=None,
                )
                .order_by("id")
                .limit(CHUNK)
                .select_for_update()
            )
            if not registrations:
                return marked
            ids = [r.id for r in registrations]
            listed = await RegistrationImei.filter(
                registration_id__in=ids, passed=True
            ).values_list("registration_id", "imei")
            theirs = {str(imei): int(rid) for rid, imei in listed}  # type: ignore[call-overload]
            entries = [
                (entry.registration_id, entry.imei)
                for entry in await WhitelistEntry.filter(
                    imei__in=list(theirs), status=WhitelistStatus.PROVISIONAL
                )
                # Listed again by someone else meanwhile: not this declaration's to block.
                if entry.registration_id == theirs[entry.imei]
            ]
            await registry_changes.set_whitelist_status(
                DEADLINE,
                [imei for _, imei in entries],
                WhitelistStatus.OVERDUE,
                reason=overdue_reason(),
            )
            now = clock.now()
            await Registration.filter(id__in=ids).update(overdue_at=now, updated_at=now)
            for registration in registrations:
                await audit.record(
                    DEADLINE,
                    "individual.verification_overdue",
                    "IndividualRegistration",
                    registration.id,
                    {
                        "submittedAt": registration.created_at.isoformat(),
                        "imeis": sorted(i for rid, i in entries if rid == registration.id),
                    },
                )
            marked += len(registrations)
