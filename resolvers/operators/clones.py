"""Clone detection (Tebliğ art. 14): an IMEI seen with more than one subscriber inside the
configured window becomes CLONE_SUSPECTED; the firm that registered it gets an e-mail and
staff see it listed.

The detector is a periodic job over the observation batches not scanned yet (staff may also
run it at once): it looks at the IMEIs those batches mention — registered or not, neither
paired nor already suspected — reads their sightings around the new ones and applies
`models.network.clone_in_window` (an exact sliding window, so a late-arriving batch is judged
by when things were seen, not when they arrived). A SIM swap (the same MSISDN with a new
IMSI) is one subscriber; several MSISDNs, or IMSIs in use at the same time, are not. An
unregistered IMEI has no firm to pair it: it is listed for staff, and its verdict is the
unregistered one.

Staff dismiss a suspicion with a reason; only what is seen after the dismissal can open it
again (the old sightings were judged).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.jobs import Job
from models.network import (
    CloneStatus,
    CloneSuspicion,
    ObservationBatch,
    Sighting,
    clone_in_window,
)
from models.roles import Role
from resolvers import audit, bulk, jobs
from resolvers.actor import Actor
from resolvers.after.common import text
from resolvers.documents import format_moment
from resolvers.errors import DomainError, ErrorCode, invalid_state, not_found
from resolvers.operators import greylist
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.settings import get_settings
from resolvers.workflow import notifications

JOB_KIND = "operators.detect_clones"
BATCHES_PER_ROUND = 200
MAX_ROUNDS = 50  # one job run handles at most this many rounds; the next run continues
DETECTOR = Actor.system("clone-detector")
CLONE_STAFF = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ADMIN})
CLONE_MAIL_EVENT = "clone.suspected"
MAX_REASON = 1000


@jobs.handler(JOB_KIND)
async def detect_clones_job(job: Job) -> None:
    await detect_clones()


async def schedule_periodic() -> None:
    """Queue one detection run per time slot (`clone_scan_minutes`)."""
    minutes = get_settings().clone_scan_minutes
    if minutes > 0:
        await jobs.enqueue_once_per_slot(JOB_KIND, minutes * 60)


async def detect_clones() -> list[CloneSuspicion]:
    """Scan every unscanned observation batch; returns the suspicions opened or reopened."""
    found: list[CloneSuspicion] = []
    for _ in range(MAX_ROUNDS):
        batch_ids = await (
            ObservationBatch.filter(scanned_at__isnull=True)
            .order_by("id")
            .limit(BATCHES_PER_ROUND)
            .values_list("id", flat=True)
        )
        if not batch_ids:
            break
        found += await _scan([int(batch_id) for batch_id in batch_ids])  # type: ignore[call-overload]
    return found


async def _scan(batch_ids: list[int]) -> list[CloneSuspicion]:
    window = timedelta(hours=get_settings().clone_window_hours)
    now = clock.now()
    # IMEIs in these batches, registered or not, that are neither paired nor under open
    # suspicion; with the firm, brand and model of the whitelist entry if there is one.
    candidates: dict[str, tuple[int | None, str, str, datetime, datetime]] = {}
    async for imei, firm_id, brand, model, first, last in bulk.select_in(
        "SELECT o.imei, w.firm_id, w.brand, w.model_code, MIN(o.seen_at), MAX(o.seen_at) "
        "FROM network_observation o LEFT JOIN whitelist_entry w ON w.imei = o.imei "
        "WHERE o.batch_id IN ({in_}) "
        "AND NOT EXISTS (SELECT 1 FROM imei_pairing p WHERE p.imei = o.imei) "
        "AND NOT EXISTS (SELECT 1 FROM clone_suspicion c "
        "WHERE c.imei = o.imei AND c.status = 'OPEN') "
        "GROUP BY o.imei, w.firm_id, w.brand, w.model_code",
        batch_ids,
    ):
        candidates[str(imei)] = (
            firm_id,  # type: ignore[assignment]
            str(brand or ""),
            str(model or ""),
            as_datetime(first),
            as_datetime(last),
        )
    # What staff dismissed was judged: only later sightings count against it.
    dismissed = {
        str(imei): as_datetime(at)
        async for imei, at in bulk.select_in(
            "SELECT imei, dismissed_at FROM clone_suspicion "
            "WHERE dismissed_at IS NOT NULL AND imei IN ({in_})",
            list(candidates),
        )
    }
    sightings: dict[str, list[Sighting]] = {imei: [] for imei in candidates}
    if candidates:
        since = min(c[3] for c in candidates.values()) - window
        until = max(c[4] for c in candidates.values()) + window
        async for imei, seen_at, imsi, msisdn in bulk.select_in(
            "SELECT imei, seen_at, imsi, msisdn FROM network_observation "
            "WHERE seen_at >= {p1} AND seen_at <= {p2} AND imei IN ({in_})",
            list(candidates),
            extra=(since, until),
        ):
            at = as_datetime(seen_at)
            if str(imei) in dismissed and at <= dismissed[str(imei)]:
                continue
            sightings[str(imei)].append((at, str(imsi), str(msisdn or "")))
    suspects = {
        imei: count
        for imei, seen in sightings.items()
        if (count := clone_in_window(seen, window)) > 1
    }
    opened: list[CloneSuspicion] = []
    async with in_transaction():
        for imei, imsi_count in sorted(suspects.items()):
            firm_id, brand, model, _, _ = candidates[imei]
            suspicion = await CloneSuspicion.get_or_none(imei=imei).select_for_update()
            if suspicion is None:
                suspicion = await CloneSuspicion.create(
                    imei=imei,
                    firm_id=firm_id,
                    brand=brand,
                    model_code=model,
                    imsi_count=imsi_count,
                    detected_at=now,
                )
            else:  # closed before (e.g. dismissed by staff) and seen cloned again
                suspicion.status = CloneStatus.OPEN
                suspicion.firm_id = firm_id
                suspicion.imsi_count = imsi_count
                suspicion.detected_at = now
                suspicion.closed_at = None
                await suspicion.save()
            await audit.record(
                DETECTOR,
                "clone.suspected",
                "CloneSuspicion",
                suspicion.id,
                {"imei": imei, "imsiCount": imsi_count, "brand": brand, "model": model},
                firm_id=firm_id,
            )
            if firm_id is not None:
                await _tell_firm(firm_id, suspicion)
            opened.append(suspicion)
        await greylist.suspicions_opened([(s.imei, s.detected_at) for s in opened])
        await ObservationBatch.filter(id__in=batch_ids).update(scanned_at=now)
    return opened


async def _tell_firm(firm_id: int, suspicion: CloneSuspicion) -> None:
    when = format_moment(suspicion.detected_at)
    device = f"{suspicion.brand} {suspicion.model_code}".strip()
    subject = f"MCKS klon şüphesi: IMEI {suspicion.imei}"
    body = (
        f"Kaydettiğiniz {suspicion.imei} IMEI numaralı cihaz ({device}) {when} itibarıyla "
        f"birden fazla abonede ({suspicion.imsi_count}) görüldüğü için klon şüphesiyle "
        "işaretlendi. Tebliğ md. 14 uyarınca IMEI'yi tek bir telefon numarasıyla "
        "eşleştirmeniz gerekir; MCKS portalındaki klon şüphesi listesinden işlem yapabilirsiniz."
        "\n\nBu ileti otomatik olarak gönderilmiştir; lütfen yanıtlamayınız.\n\n"
        "-- English --\n\n"
        f"The device with IMEI {suspicion.imei} ({device}) that you registered was seen with "
        f"more than one subscriber ({suspicion.imsi_count}) and was marked as a suspected "
        f"clone on {when}. Under art. 14 of the communiqué, pair the IMEI with a single "
        "phone number; the MCKS portal lists your clone suspicions.\n\n"
        "This message was sent automatically; please do not reply.\n"
    )
    await notifications.queue_firm_mail(firm_id, CLONE_MAIL_EVENT, subject, body)


# --- staff: run now, dismiss ----------------------------------------------------------------


async def run_now(actor: Actor) -> list[CloneSuspicion]:
    """Staff run the detector at once instead of waiting for its slot."""
    if actor.role not in CLONE_STAFF:
        raise DomainError(ErrorCode.FORBIDDEN)
    opened = await detect_clones()
    async with in_transaction():
        await audit.record(
            actor,
            "clone.detection_run",
            "CloneSuspicion",
            "detector",
            {"opened": [s.imei for s in opened]},
        )
    return opened


async def dismiss(actor: Actor, suspicion_id: int, reason: str) -> CloneSuspicion:
    """Staff close an open suspicion as not a clone, with the reason."""
    if actor.role not in CLONE_STAFF:
        raise DomainError(ErrorCode.FORBIDDEN)
    reason = text(reason, "reason", MAX_REASON, required=True)
    async with in_transaction():
        suspicion = await CloneSuspicion.filter(id=suspicion_id).select_for_update().first()
        if suspicion is None:
            raise not_found("Klon şüphesi", "Clone suspicion", field="id")
        if suspicion.status != CloneStatus.OPEN:
            raise invalid_state(
                "yalnızca açık bir klon şüphesi kapatılabilir",
                "only an open clone suspicion can be dismissed",
            )
        # The grey list stops listing it (while it is still open, as the feed expects).
        await greylist.suspicions_closed([suspicion.imei], "DISMISSED")
        now = clock.now()
        suspicion.status = CloneStatus.CLOSED
        suspicion.closed_at = now
        suspicion.dismissed_at = now
        suspicion.dismissed_by = actor.name
        suspicion.dismiss_reason = reason
        await suspicion.save()
        await audit.record(
            actor,
            "clone.dismissed",
            "CloneSuspicion",
            suspicion.id,
            {"imei": suspicion.imei, "reason": reason},
            firm_id=suspicion.firm_id,
        )
    return suspicion


async def list_suspicions(
    actor: Actor, status: CloneStatus | None, first: int, after: str | None
) -> Page[CloneSuspicion]:
    """Staff see all suspicions, a firm those of the IMEIs it registered (newest first)."""
    if not (actor.is_staff or actor.is_firm):
        raise DomainError(ErrorCode.FORBIDDEN)
    query = visible_to(CloneSuspicion.all(), actor)
    if status is not None:
        query = query.filter(status=status)
    return await paginate(query, first, after, count=True)
