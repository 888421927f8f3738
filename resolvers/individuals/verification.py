"""Periodic verification of e-Devlet declarations by the authorities (Tebliğ art. 5(3)(b)).

Three durable steps, each restart-safe:

1. `schedule_periodic` queues one `verification.dispatch` job per interval (settings).
2. The dispatcher takes each configured authority's open requests that are in no batch yet
   (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent dispatchers take disjoint rows), puts
   up to `verification_batch_size` of them in a `VerificationBatch` and queues one
   `verification.batch` job for it — in one transaction, so a request is never in two batches
   and never in none.
3. The batch job sends the batch and applies every answer in ONE transaction: answered
   requests, decided registrations, whitelist changes (VERIFIED → REGISTERED; NOT_VERIFIED →
   removed with the reason, art. 5(4)), their feed rows and audit events, and the batch marked
   ANSWERED. A batch already ANSWERED is never sent again.

Failures: timeouts, 5xx/429 and garbage answers are retried with exponential backoff
(`jobs.RetryLater`; the authority's Retry-After is honoured when longer); a request the
authority refuses as malformed (4xx) gives up at once; after `verification_max_attempts` the
job is DEAD and staff see it (`jobs`, `retryJob`). An authority outage longer than the
retries must not strand its declarations: the next dispatch puts the open requests of a
batch whose attempts ran out into a new batch, up to `verification_max_batches` batches per
request; after that a request waits in its last (FAILED) batch for staff. A batch refused as
malformed keeps its requests: resending them would fail the same way.

A worker killed after the authority answered but before the commit leaves nothing applied;
when its lease expires another worker sends the same batch again — the same references, which
the authority answers by reference without deciding anything twice — and applies it once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from tortoise.expressions import F, Subquery
from tortoise.transactions import in_transaction

from integrations.authorities import (
    MAX_BATCH_SIZE,
    Answer,
    AuthorityError,
    AuthorityKind,
    HttpAuthority,
    OutcomeStatus,
    Reason,
    Verdict,
    combine_answers,
)
from models import clock
from models.individuals import (
    Registration,
    RegistrationImei,
    RegistrationStatus,
    VerificationBatch,
    VerificationBatchStatus,
    VerificationRequest,
    VerificationRequestStatus,
)
from models.jobs import Job, JobStatus
from models.registry import WhitelistEntry, WhitelistStatus
from resolvers import audit, bulk, events, jobs, metrics, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError
from resolvers.individuals.declarations import declaration_of
from resolvers.individuals.whitelist import remove_entries
from resolvers.settings import get_settings

log = logging.getLogger("mcks.verification")

DISPATCH_JOB = "verification.dispatch"
BATCH_JOB = "verification.batch"
VERIFIER = Actor.system("verification")
MAX_BATCHES_PER_DISPATCH = 200  # per authority and run; the next run continues
AWAITING_ANSWER = frozenset({WhitelistStatus.PROVISIONAL, WhitelistStatus.OVERDUE})


# --- the authorities, from settings --------------------------------------------------------


def authority_settings(kind: AuthorityKind) -> tuple[str, str]:
    """(base URL, API key) of an authority; an empty URL means "not configured"."""
    settings = get_settings()
    return {
        AuthorityKind.CUSTOMS: (settings.authority_customs_url, settings.authority_customs_api_key),
        AuthorityKind.BORDER_RECORDS: (
            settings.authority_border_records_url,
            settings.authority_border_records_api_key,
        ),
        AuthorityKind.POPULATION_REGISTRY: (
            settings.authority_population_registry_url,
            settings.authority_population_registry_api_key,
        ),
    }[kind]


def authority_for(kind: AuthorityKind) -> HttpAuthority:
    url, api_key = authority_settings(kind)
    try:
        return HttpAuthority(kind, url, api_key, get_settings().authority_timeout_seconds)
    except ValueError as error:  # no URL or key: a person must fix the configuration
        raise jobs.GiveUp(f"{kind.value} is misconfigured: {error}") from error


def batch_size() -> int:
    return max(1, min(get_settings().verification_batch_size, MAX_BATCH_SIZE))


# --- scheduling and dispatch ---------------------------------------------------------------


async def schedule_periodic() -> None:
    """Queue one dispatch per time slot (`verification_interval_minutes`)."""
    minutes = get_settings().verification_interval_minutes
    if minutes > 0:
        await jobs.enqueue_once_per_slot(DISPATCH_JOB, minutes * 60)


@jobs.handler(DISPATCH_JOB)
async def dispatch_job(job: Job) -> None:
    await dispatch()


async def dispatch() -> list[VerificationBatch]:
    """Batch every open request of every configured authority; returns the new batches."""
    created: list[VerificationBatch] = []
    size = batch_size()
    for kind in AuthorityKind:
        if not authority_settings(kind)[0]:
            waiting = await VerificationRequest.filter(
                authority=kind.value, status=VerificationRequestStatus.PENDING, batch_id=None
            ).count()
            if waiting:
                log.warning(
                    "%s has no URL configured: %d verification requests wait", kind.value, waiting
                )
            continue
        await return_given_up(kind)
        for _ in range(MAX_BATCHES_PER_DISPATCH):
            batch = await _next_batch(kind, size)
            if batch is None:
                break
            created.append(batch)
            if batch.size < size:
                break
    if created:
        log.info("dispatched %d verification batches", len(created))
    return created


async def return_given_up(kind: AuthorityKind) -> int:
    """Open requests of this authority's batches whose attempts ran out go back to be batched
    again (each at most `verification_max_batches` times in all); how many went back."""
    exhausted = Job.filter(
        kind=BATCH_JOB, status=JobStatus.DEAD, attempts__gte=F("max_attempts")
    ).values("id")
    limit = max(1, get_settings().verification_max_batches)
    returned = 0
    async with in_transaction():
        batches = (
            await VerificationBatch.filter(
                authority=kind.value,
                status__in=[VerificationBatchStatus.SENDING, VerificationBatchStatus.FAILED],
                job_id__in=Subquery(exhausted),
            )
            .select_for_update()
            .values_list("id", flat=True)
        )
        if not batches:
            return 0
        open_requests = VerificationRequest.filter(
            batch_id__in=list(batches), status=VerificationRequestStatus.PENDING
        )
        returned = await open_requests.filter(failed_batches__lt=limit - 1).update(
            batch_id=None, failed_batches=F("failed_batches") + 1
        )
        # The rest stay in their last batch, counted once (this runs at every dispatch).
        kept = await open_requests.filter(failed_batches__lt=limit).update(failed_batches=limit)
        # A batch whose job died otherwise than by the authority's answer is given up too.
        await VerificationBatch.filter(
            id__in=list(batches), status=VerificationBatchStatus.SENDING
        ).update(status=VerificationBatchStatus.FAILED, failed_at=clock.now())
        if returned or kept:
            await audit.record(
                VERIFIER,
                "verification.requests_returned",
                "VerificationBatch",
                batches[0],
                {
                    "authority": kind.value,
                    "batches": list(batches),
                    "returned": returned,
                    "keptForStaff": kept,
                },
            )
    if returned or kept:
        log.warning(
            "%s: %d requests of given-up batches go into the next batch, %d wait for staff",
            kind.value,
            returned,
            kept,
        )
    return int(returned)


async def _next_batch(kind: AuthorityKind, size: int) -> VerificationBatch | None:
    async with in_transaction():
        requests = (
            await VerificationRequest.filter(
                authority=kind.value, status=VerificationRequestStatus.PENDING, batch_id=None
            )
            .order_by("id")
            .limit(size)
            .select_for_update(skip_locked=True)
        )
        if not requests:
            return None
        now = clock.now()
        batch = await VerificationBatch.create(
            authority=kind.value, size=len(requests), created_at=now
        )
        await VerificationRequest.filter(id__in=[r.id for r in requests]).update(batch_id=batch.id)
        job = await jobs.enqueue(
            BATCH_JOB,
            {"batchId": batch.id, "authority": kind.value},
            dedupe_key=f"{BATCH_JOB}:{batch.id}",
            max_attempts=max(1, get_settings().verification_max_attempts),
        )
        batch.job_id = job.id
        await batch.save(update_fields=["job_id"])
        await audit.record(
            VERIFIER,
            "verification.batch_created",
            "VerificationBatch",
            batch.id,
            {"authority": kind.value, "size": batch.size},
        )
    return batch


# --- sending a batch -----------------------------------------------------------------------


@jobs.handler(BATCH_JOB)
async def batch_job(job: Job) -> None:
    batch_id = int(job.payload["batchId"])
    final = job.attempts >= job.max_attempts
    try:
        await send_batch(batch_id, attempt=job.attempts, final=final)
    except Exception as error:
        # The job dies with this error (last attempt, or one not worth retrying: a
        # misconfigured authority, a bug): the batch is given up now, so staff see it
        # listed the day it dies rather than at some later dispatch.
        if final or isinstance(error, jobs.GiveUp | DomainError):
            await give_up_batch(batch_id, f"{type(error).__name__}: {error}")
        raise


async def give_up_batch(batch_id: int, error: str) -> bool:
    """Mark a batch still being sent FAILED, now (staff list it); False if it was not."""
    changed = await VerificationBatch.filter(
        id=batch_id, status=VerificationBatchStatus.SENDING
    ).update(status=VerificationBatchStatus.FAILED, failed_at=clock.now(), last_error=error)
    if changed:
        authority = await VerificationBatch.filter(id=batch_id).values_list("authority", flat=True)
        await events.batch_failed(batch_id, str(authority[0]) if authority else "", error)
    return bool(changed)


async def send_batch(batch_id: int, attempt: int = 1, final: bool = False) -> None:
    """Ask the batch's authority about its open requests and apply the answers; raises
    `jobs.RetryLater` / `jobs.GiveUp` when the authority gave no usable answer."""
    batch = await VerificationBatch.get_or_none(id=batch_id)
    if batch is None or batch.status == VerificationBatchStatus.ANSWERED:
        return  # answered before (by us before a crash, or by another worker): never again
    kind = AuthorityKind(batch.authority)
    requests = await VerificationRequest.filter(
        batch_id=batch_id, status=VerificationRequestStatus.PENDING
    ).order_by("id")
    registrations = await _registrations([r.registration_id for r in requests])
    listed = await _listed_imeis(registrations)
    declarations = [
        declaration_of(registrations[r.registration_id], listed[r.registration_id])
        for r in requests
    ]
    answers: dict[str, Answer] = {}
    if declarations:
        await VerificationBatch.filter(id=batch_id).update(
            attempts=F("attempts") + 1, sent_at=clock.now(), status=VerificationBatchStatus.SENDING
        )
        authority = authority_for(kind)
        try:
            async with authority:
                answers = await authority.verify_batch(declarations)
        except AuthorityError as error:
            gives_up = final or not error.retryable
            metrics.verification_batch(kind.value, "failed" if gives_up else "retry")
            if gives_up:
                await give_up_batch(batch_id, str(error))
            else:
                await VerificationBatch.filter(id=batch_id).update(last_error=str(error))
            if not error.retryable:
                raise jobs.GiveUp(str(error)) from error
            backoff = jobs.backoff(attempt).total_seconds()
            hint = error.retry_after_seconds
            raise jobs.RetryLater(
                str(error), delay_seconds=max(hint, backoff) if hint else None
            ) from error
    await apply_answers(batch_id, answers)
    metrics.verification_batch(kind.value, "answered")


async def _registrations(ids: Iterable[int]) -> dict[int, Registration]:
    wanted = sorted(set(ids))
    found: dict[int, Registration] = {}
    for start in range(0, len(wanted), bulk.LOOKUP_CHUNK):
        chunk = wanted[start : start + bulk.LOOKUP_CHUNK]
        found.update({r.id: r for r in await Registration.filter(id__in=chunk)})
    return found


async def _listed_imeis(registrations: dict[int, Registration]) -> dict[int, list[str]]:
    """The IMEIs each registration put on the whitelist (those that passed the checks)."""
    imeis: dict[int, list[str]] = defaultdict(list)
    ids = sorted(registrations)
    for start in range(0, len(ids), bulk.LOOKUP_CHUNK):
        chunk = ids[start : start + bulk.LOOKUP_CHUNK]
        rows = await (
            RegistrationImei.filter(registration_id__in=chunk, passed=True)
            .order_by("registration_id", "position")
            .values_list("registration_id", "imei")
        )
        for registration_id, imei in rows:
            imeis[int(registration_id)].append(str(imei))
    return imeis


async def _entries_of(registrations: Sequence[Registration]) -> list[WhitelistEntry]:
    """Their whitelist entries now (an IMEI removed meanwhile, or listed again by someone
    else, is not theirs to change)."""
    listed = await _listed_imeis({r.id: r for r in registrations})
    wanted = {imei: registration_id for registration_id, imeis in listed.items() for imei in imeis}
    entries: list[WhitelistEntry] = []
    imeis = sorted(wanted)
    for start in range(0, len(imeis), bulk.LOOKUP_CHUNK):
        chunk = imeis[start : start + bulk.LOOKUP_CHUNK]
        entries += [
            entry
            for entry in await WhitelistEntry.filter(imei__in=chunk)
            if entry.registration_id == wanted[entry.imei]
        ]
    return entries


# --- applying the answers ------------------------------------------------------------------


def _answer_of(reference: str, request: VerificationRequest) -> Answer:
    if request.verified:
        return Answer(reference, Verdict.VERIFIED)
    reason = Reason(
        request.reason_code or "",
        request.reason_tr or "",
        request.reason_en or "",
        request.authority_note,
    )
    return Answer(reference, Verdict.NOT_VERIFIED, reason)


def removal_reason(kind: AuthorityKind, reason: Reason) -> str:
    """What operators read in the feed and in their checks: code, our wording, who refused."""
    return f"{reason.code}: {reason.message_tr} ({kind.label_tr}; Tebliğ md. 5(4))"


async def apply_answers(batch_id: int, answers: dict[str, Answer]) -> None:
    """Record the answers and decide what they decide, all in one transaction."""
    async with in_transaction() as connection:
        batch = await VerificationBatch.filter(id=batch_id).select_for_update().first()
        if batch is None or batch.status == VerificationBatchStatus.ANSWERED:
            return  # another worker applied it while we were waiting: once is enough
        kind = AuthorityKind(batch.authority)
        requests = await VerificationRequest.filter(
            batch_id=batch_id, status=VerificationRequestStatus.PENDING
        )
        # Lock the registrations (in id order) before reading their other answers: a batch of
        # another authority answering the same registration now waits here and then sees ours.
        ids = sorted({r.registration_id for r in requests})
        registrations: dict[int, Registration] = {}
        for start in range(0, len(ids), bulk.LOOKUP_CHUNK):
            chunk = ids[start : start + bulk.LOOKUP_CHUNK]
            for registration in (
                await Registration.filter(id__in=chunk).order_by("id").select_for_update()
            ):
                registrations[registration.id] = registration
        now = clock.now()
        rows = []
        for request in requests:
            # Every request still open was asked (requests only leave PENDING): a missing
            # answer is a bug, and the KeyError retries the job, which asks again.
            answer = answers[registrations[request.registration_id].reference]
            reason = answer.reason
            rows.append(
                (
                    VerificationRequestStatus.ANSWERED.value,
                    answer.verified,
                    reason.code if reason else None,
                    reason.message_tr if reason else None,
                    reason.message_en if reason else None,
                    reason.authority_note if reason else None,
                    now,
                    request.id,
                )
            )
        await bulk.execute_many(
            "UPDATE verification_request SET status = ?, verified = ?, reason_code = ?, "
            "reason_tr = ?, reason_en = ?, authority_note = ?, answered_at = ? WHERE id = ?",
            rows,
            connection,
        )
        pending = {
            rid: r
            for rid, r in registrations.items()
            if r.status == RegistrationStatus.PENDING_VERIFICATION
        }
        decided = await _decide(pending)
        verified = [pending[rid] for rid, outcome in decided.items() if outcome is None]
        rejected = {rid: outcome for rid, outcome in decided.items() if outcome is not None}
        await _verify(verified, now)
        await _reject({rid: (pending[rid], outcome) for rid, outcome in rejected.items()}, now)
        if decided:
            # Answers still owed by other authorities are not needed any more.
            await VerificationRequest.filter(
                registration_id__in=list(decided), status=VerificationRequestStatus.PENDING
            ).update(status=VerificationRequestStatus.SKIPPED)
        batch.status = VerificationBatchStatus.ANSWERED
        batch.answered_at = now  # `last_error` stays: staff see what the retries overcame
        await batch.save(update_fields=["status", "answered_at"])
        await audit.record(
            VERIFIER,
            "verification.batch_answered",
            "VerificationBatch",
            batch.id,
            {
                "authority": kind.value,
                "answered": len(rows),
                "verified": len(verified),
                "rejected": len(rejected),
            },
        )


async def _decide(
    pending: dict[int, Registration],
) -> dict[int, tuple[AuthorityKind, Reason] | None]:
    """For each registration that its answers decide: None (verified) or who refused and why."""
    if not pending:
        return {}
    listed = await _listed_imeis(pending)
    answered: dict[int, dict[AuthorityKind, VerificationRequest]] = defaultdict(dict)
    ids = sorted(pending)
    for start in range(0, len(ids), bulk.LOOKUP_CHUNK):
        for request in await VerificationRequest.filter(
            registration_id__in=ids[start : start + bulk.LOOKUP_CHUNK],
            status=VerificationRequestStatus.ANSWERED,
        ):
            answered[request.registration_id][AuthorityKind(request.authority)] = request
    decided: dict[int, tuple[AuthorityKind, Reason] | None] = {}
    for registration_id, registration in pending.items():
        declaration = declaration_of(registration, listed[registration_id])
        outcome = combine_answers(
            declaration,
            {
                kind: _answer_of(registration.reference, request)
                for kind, request in answered[registration_id].items()
            },
        )
        if outcome.status is OutcomeStatus.VERIFIED:
            decided[registration_id] = None
        elif outcome.status is OutcomeStatus.NOT_VERIFIED:
            assert outcome.rejected_by is not None and outcome.reason is not None
            decided[registration_id] = (outcome.rejected_by, outcome.reason)
    return decided


async def _verify(registrations: Sequence[Registration], now: datetime) -> None:
    if not registrations:
        return
    entries = await _entries_of(registrations)
    await registry_changes.set_whitelist_status(
        VERIFIER,
        # Overdue ones too: the answer that came late lifts their block.
        [e.imei for e in entries if e.status in AWAITING_ANSWER],
        WhitelistStatus.REGISTERED,
        reason="İlgili merciler beyanı doğruladı (Tebliğ md. 5(3)(b))",
    )
    await bulk.execute_many(
        "UPDATE individual_registration SET status = ?, verified_at = ?, updated_at = ? "
        "WHERE id = ?",
        [(RegistrationStatus.VERIFIED.value, now, now, r.id) for r in registrations],
    )
    for registration in registrations:
        await audit.record(
            VERIFIER,
            "individual.verified",
            "IndividualRegistration",
            registration.id,
            {"imeis": [e.imei for e in entries if e.registration_id == registration.id]},
        )
        await events.registration_decided(registration.id, registration.client_id, "VERIFIED")


async def _reject(
    rejected: dict[int, tuple[Registration, tuple[AuthorityKind, Reason]]], now: datetime
) -> None:
    if not rejected:
        return
    connection = bulk.current()
    # Read the entries under the whitelist's lock: what we remove is what is listed.
    await registry_changes.lock_feed(connection, registry_changes.WHITELIST_FEED_LOCK)
    entries = await _entries_of([registration for registration, _ in rejected.values()])
    by_reason: dict[str, list[WhitelistEntry]] = defaultdict(list)
    for entry in entries:
        assert entry.registration_id is not None
        kind, reason = rejected[entry.registration_id][1]
        by_reason[removal_reason(kind, reason)].append(entry)
    for text, group in sorted(by_reason.items()):
        await remove_entries(VERIFIER, group, text)
    await bulk.execute_many(
        "UPDATE individual_registration SET status = ?, rejected_at = ?, rejected_by = ?, "
        "rejection_code = ?, rejection_reason_tr = ?, rejection_reason_en = ?, "
        "authority_note = ?, updated_at = ? WHERE id = ?",
        [
            (
                RegistrationStatus.REJECTED.value,
                now,
                kind.value,
                reason.code,
                reason.message_tr,
                reason.message_en,
                reason.authority_note,
                now,
                registration.id,
            )
            for registration, (kind, reason) in rejected.values()
        ],
    )
    for registration, (kind, reason) in rejected.values():
        await audit.record(
            VERIFIER,
            "individual.rejected",
            "IndividualRegistration",
            registration.id,
            {
                "authority": kind.value,
                "reasonCode": reason.code,
                "removed": [e.imei for e in entries if e.registration_id == registration.id],
            },
        )
        await events.registration_decided(
            registration.id, registration.client_id, "REJECTED", removal_reason(kind, reason)
        )
