"""Clone detection (Tebliğ art. 14): a registered IMEI seen with more than one IMSI inside the
configured window becomes CLONE_SUSPECTED; the firm that registered it is notified and staff
see it listed.

The detector is a periodic job over the observation batches not scanned yet: it looks at the
registered IMEIs those batches mention (not paired, not already suspected), reads their
sightings around the new ones and applies `models.network.clone_in_window` (an exact sliding
window, so a late-arriving batch is judged by when things were seen, not when they arrived).

Notification: there is no mail integration yet, so the notice is an audit event
`clone.suspected` carrying the firm's id (what a mailer will pick up), and the firm reads its
suspicions through `cloneSuspicions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.jobs import Job
from models.network import CloneStatus, CloneSuspicion, ObservationBatch, clone_in_window
from resolvers import audit, bulk, jobs
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode
from resolvers.operators import greylist
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, paginate
from resolvers.scoping import visible_to
from resolvers.settings import get_settings

JOB_KIND = "operators.detect_clones"
BATCHES_PER_ROUND = 200
MAX_ROUNDS = 50  # one job run handles at most this many rounds; the next run continues
DETECTOR = Actor.system("clone-detector")


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
    # Registered IMEIs in these batches that are neither paired nor under open suspicion.
    candidates: dict[str, tuple[int | None, str, str, datetime, datetime]] = {}
    async for imei, firm_id, brand, model, first, last in bulk.select_in(
        "SELECT o.imei, w.firm_id, w.brand, w.model_code, MIN(o.seen_at), MAX(o.seen_at) "
        "FROM network_observation o JOIN whitelist_entry w ON w.imei = o.imei "
        "WHERE o.batch_id IN ({in_}) "
        "AND NOT EXISTS (SELECT 1 FROM imei_pairing p WHERE p.imei = o.imei) "
        "AND NOT EXISTS (SELECT 1 FROM clone_suspicion c "
        "WHERE c.imei = o.imei AND c.status = 'OPEN') "
        "GROUP BY o.imei, w.firm_id, w.brand, w.model_code",
        batch_ids,
    ):
        candidates[str(imei)] = (
            firm_id,  # type: ignore[assignment]
            str(brand),
            str(model),
            as_datetime(first),
            as_datetime(last),
        )
    sightings: dict[str, list[tuple[datetime, str]]] = {imei: [] for imei in candidates}
    if candidates:
        since = min(c[3] for c in candidates.values()) - window
        until = max(c[4] for c in candidates.values()) + window
        async for imei, seen_at, imsi in bulk.select_in(
            "SELECT imei, seen_at, imsi FROM network_observation "
            "WHERE seen_at >= {p1} AND seen_at <= {p2} AND imei IN ({in_})",
            list(candidates),
            extra=(since, until),
        ):
            sightings[str(imei)].append((as_datetime(seen_at), str(imsi)))
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
            opened.append(suspicion)
        await greylist.suspicions_opened([(s.imei, s.detected_at) for s in opened])
        await ObservationBatch.filter(id__in=batch_ids).update(scanned_at=now)
    return opened


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
