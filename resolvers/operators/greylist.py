"""The grey list (`models.grace`): first attaches of unregistered IMEIs (GRACE_PERIOD) and
open clone suspicions (CLONE_SUSPECTED), each change an item of the `greylistChanges` feed.

- `record_attaches` starts grace clocks: insert-or-ignore of `models.grace.FirstAttach` rows
  (the earliest attach wins, concurrent attaches of one IMEI do not conflict) and, for the
  rows actually inserted, ADD items, in one transaction. `suspicions_opened` and
  `suspicions_closed` are called where clone suspicions open and close (the detector,
  pairing, removal from the whitelist, staff dismissing one).
  Gap-free as the list feeds (`resolvers.registry_changes`): a writer takes the grey feed's
  advisory lock before it allocates change ids.
- `greylist_changes` is that feed; `GET /exports/greylist.csv` the snapshot
  (`resolvers.operators.exports`). An EIR that replays it holds every first attach, with
  `grace_ends_at` it knows when each one's grace ends, and it knows the open suspicions.
- `grace_ending_soon`: an operator's own attaches whose grace ends within N days, to warn
  their subscribers before the block.
- `purge_first_attaches`: a daily job deletes the records whose grace ended more than the
  retention period ago (REMOVE items in the feed), audited.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from models import clock
from models.grace import grace_ends_at
from models.imei_status import ImeiStatus
from models.jobs import Job
from models.registry import ChangeOp
from models.roles import Role
from resolvers import audit, bulk, events, jobs, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.operators.feed import _page, _page_bounds, _rows
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, decode_cursor, encode_cursor
from resolvers.settings import get_settings

# Advisory lock key of the grey feed (fixed forever, like the other feeds' keys).
GREYLIST_FEED_LOCK = 0x4D434B5347
SOURCES = ("CHECK", "OBSERVATION")
PURGE_JOB = "operators.purge_first_attaches"
PURGE_CHUNK = 5000
DAY_SECONDS = 24 * 3600
PURGER = Actor.system("grace-retention")
RETIRED = "RETENTION"  # the reason of a REMOVE item: the record outlived its retention
MAX_SOON_PAGE = 10_000

GRACE = ImeiStatus.GRACE_PERIOD
CLONE = ImeiStatus.CLONE_SUSPECTED
_CHANGE_COLUMNS = ("op", "status", "imei", "operator_code", "since", "reason", "at")
_PG_ATTACH = (
    "INSERT INTO imei_first_attach (imei, operator_code, client_id, msisdn, source, attached_at) "
    "SELECT unnest($1::varchar[]), $2, $3, $4, $5, $6 ON CONFLICT DO NOTHING RETURNING imei"
)
_SQLITE_ATTACH = (
    "INSERT OR IGNORE INTO imei_first_attach "
    "(imei, operator_code, client_id, msisdn, source, attached_at) "
    "SELECT value, ?2, ?3, ?4, ?5, ?6 FROM json_each(?1) RETURNING imei"
)


@dataclass(slots=True)
class GreylistFeedItem:
    cursor: str
    op: ChangeOp
    status: ImeiStatus  # GRACE_PERIOD or CLONE_SUSPECTED
    imei: str
    operator: str  # GRACE_PERIOD: the operator code that attached it ('' for an old clock)
    first_attach_at: datetime | None  # GRACE_PERIOD
    grace_ends_at: datetime | None  # GRACE_PERIOD
    detected_at: datetime | None  # CLONE_SUSPECTED
    reason: str  # REMOVE: why it left the list (RETENTION, PAIRED, …)
    at: datetime


@dataclass(slots=True)
class GraceEnding:
    imei: str
    first_attach_at: datetime
    grace_ends_at: datetime
    msisdn: str  # the attaching operator's own subscriber, whom it is to warn


def _grace_days() -> int:
    return get_settings().grace_period_days


async def record_attaches(
    actor: Actor, imeis: Collection[str], msisdn: str, source: str, at: datetime
) -> list[str]:
    """Start the grace clocks of `imeis` (valid, unregistered, grace-eligible: the caller
    decided) as attached by the operator `actor` now; returns those that started here (the
    others had started before). Joins the caller's transaction, or runs in its own."""
    if not imeis or not actor.operator_code:
        return []
    async with in_transaction() as connection:
        await registry_changes.lock_feed(connection, GREYLIST_FEED_LOCK)
        operator = actor.operator_code
        # execute_query_dict: tortoise's asyncpg client drops an INSERT's RETURNING rows.
        if bulk.is_postgres(connection):
            params: list[object] = [list(imeis), operator, actor.id, msisdn, source, at]
            rows = await connection.execute_query_dict(_PG_ATTACH, params)
        else:
            params = [json.dumps(list(imeis)), operator, actor.id, msisdn, source, at]
            rows = await connection.execute_query_dict(_SQLITE_ATTACH, params)
        started = sorted(str(row["imei"]) for row in rows)
        if started:
            await bulk.insert_rows(
                "greylist_change",
                _CHANGE_COLUMNS,
                ((ChangeOp.ADD.value, GRACE.value, imei, operator, at, "", at) for imei in started),
                connection,
            )
            await events.notify(events.GREYLIST, connection)
    return started


async def suspicions_opened(suspicions: Sequence[tuple[str, datetime]]) -> None:
    """Clone suspicions (IMEI, detected at) just opened or reopened: ADD items. Inside the
    caller's transaction, after the suspicions were written."""
    await _suspicion_items(ChangeOp.ADD, suspicions, "")


async def suspicions_closed(imeis: Collection[str], reason: str) -> None:
    """Open clone suspicions of these IMEIs about to close (paired, removed from the
    whitelist, dismissed): REMOVE items with the reason. Inside the caller's transaction,
    before the suspicions are closed (IMEIs without an open one are skipped)."""
    if not imeis:
        return
    open_ones = [
        (str(imei), as_datetime(detected))
        async for imei, detected in bulk.select_in(
            "SELECT imei, detected_at FROM clone_suspicion "
            "WHERE status = 'OPEN' AND imei IN ({in_})",
            list(dict.fromkeys(imeis)),
        )
    ]
    await _suspicion_items(ChangeOp.REMOVE, sorted(open_ones), reason)


async def _suspicion_items(
    op: ChangeOp, suspicions: Sequence[tuple[str, datetime]], reason: str
) -> None:
    if not suspicions:
        return
    connection = bulk.current()
    if not isinstance(connection, TransactionalDBClient):
        raise RuntimeError("grey-list changes must be written inside in_transaction()")
    await registry_changes.lock_feed(connection, GREYLIST_FEED_LOCK)
    now = clock.now()
    await bulk.insert_rows(
        "greylist_change",
        _CHANGE_COLUMNS,
        ((op.value, CLONE.value, imei, "", since, reason, now) for imei, since in suspicions),
        connection,
    )
    await events.notify(events.GREYLIST, connection)


async def greylist_changes(actor: Actor, after: str | None, first: int) -> Page[GreylistFeedItem]:
    """The grey feed: operators and staff, with the list feeds' paging rules."""
    after_id = _page_bounds(actor, after, first)
    rows = await _rows(
        "SELECT id, op, status, imei, operator_code, since, reason, at "
        "FROM greylist_change WHERE id > ? ORDER BY id LIMIT ?",
        after_id,
        first,
    )
    days = _grace_days()
    items = []
    for id_, op, status, imei, operator, since, reason, at in rows[:first]:
        since_at = as_datetime(since)
        grace = str(status) == GRACE.value
        items.append(
            GreylistFeedItem(
                cursor=encode_cursor(int(id_)),  # type: ignore[call-overload]
                op=ChangeOp(str(op)),
                status=ImeiStatus(str(status)),
                imei=str(imei),
                operator=str(operator),
                first_attach_at=since_at if grace else None,
                grace_ends_at=grace_ends_at(since_at, days) if grace else None,
                detected_at=None if grace else since_at,
                reason=str(reason),
                at=as_datetime(at),
            )
        )
    return _page(items, rows, first, after_id)  # type: ignore[arg-type]


def warning_days() -> tuple[int, ...]:
    """The notice periods operators warn their subscribers at (settings), longest first."""
    return tuple(sorted(set(get_settings().grace_warning_days), reverse=True))


async def grace_ending_soon(
    actor: Actor, within_days: int | None, first: int, after: str | None
) -> Page[GraceEnding]:
    """The IMEIs this operator attached whose grace ends within `within_days` (default: the
    longest notice period), not registered since, soonest first."""
    if actor.role != Role.OPERATOR or not actor.operator_code:
        raise DomainError(ErrorCode.FORBIDDEN)
    days = _grace_days()
    within = warning_days()[0] if within_days is None else within_days
    if within < 1 or within > max(days, 1):
        raise invalid(
            "withinDays",
            f"gün sayısı 1 ile {max(days, 1)} (kayıt için tanınan süre) arasında olmalı",
            f"the number of days must be between 1 and {max(days, 1)} (the grace period)",
        )
    if first < 1 or first > MAX_SOON_PAGE:
        raise invalid(
            "first",
            f"sayfa boyutu 1 ile {MAX_SOON_PAGE} arasında olmalı",
            f"page size must be between 1 and {MAX_SOON_PAGE}",
        )
    after_id = decode_cursor(after) if after else 0
    now = clock.now()
    grace = timedelta(days=days)
    # grace end in (now, now + within]  <=>  attached in (now - grace, now - grace + within]
    low, high = now - grace, now - grace + timedelta(days=within)
    # Keyset by the attach's ADD in the grey feed: ids follow the attach times, and a cursor
    # is an ordinary one (resolvers.pagination).
    sql = (
        "SELECT c.id, a.imei, a.attached_at, a.msisdn FROM imei_first_attach a "
        "JOIN greylist_change c ON c.imei = a.imei AND c.op = 'ADD' "
        f"AND c.status = '{GRACE.value}' AND c.since = a.attached_at "
        "WHERE a.operator_code = ? AND a.attached_at > ? AND a.attached_at <= ? AND c.id > ? "
        "AND NOT EXISTS (SELECT 1 FROM whitelist_entry w WHERE w.imei = a.imei) "
        "ORDER BY c.id LIMIT ?"
    )
    params = [actor.operator_code, low, high, after_id, first + 1]
    connection = bulk.current()
    _, rows = await connection.execute_query(bulk.for_connection(sql, connection), params)
    items = [
        GraceEnding(
            imei=str(imei),
            first_attach_at=as_datetime(attached),
            grace_ends_at=grace_ends_at(as_datetime(attached), days),
            msisdn=str(msisdn),
        )
        for _, imei, attached, msisdn in rows[:first]
    ]
    last_id = int(rows[min(len(rows), first) - 1][0]) if rows else after_id
    return Page(items=items, end_cursor=encode_cursor(last_id), has_next_page=len(rows) > first)


# --- retention ---------------------------------------------------------------------------


@jobs.handler(PURGE_JOB)
async def purge_first_attaches_job(job: Job) -> None:
    await purge_first_attaches()


async def schedule_periodic() -> None:
    """Queue one purge a day, unless first attaches are kept (retention 0)."""
    if get_settings().first_attach_retention_days > 0:
        await jobs.enqueue_once_per_slot(PURGE_JOB, DAY_SECONDS)


async def purge_first_attaches() -> int:
    """Delete the first attaches whose grace ended more than the retention period ago (the
    subscriber's number is personal data); each leaves the grey feed with a REMOVE item.
    Returns how many. A deleted IMEI that attaches again starts a new clock."""
    settings = get_settings()
    if settings.first_attach_retention_days <= 0:
        return 0
    grace_period = timedelta(days=settings.grace_period_days)
    cutoff = clock.now() - grace_period - timedelta(days=settings.first_attach_retention_days)
    deleted = 0
    while True:
        # One chunk per transaction with its audit event: a job cut off midway leaves a
        # consistent trail and feed, and the next run deletes the rest.
        async with in_transaction() as connection:
            await registry_changes.lock_feed(connection, GREYLIST_FEED_LOCK)
            sql = (
                "SELECT imei, operator_code, attached_at FROM imei_first_attach "
                "WHERE attached_at < ? ORDER BY attached_at, imei LIMIT ?"
            )
            sql = bulk.for_connection(sql, connection)
            _, rows = await connection.execute_query(sql, [cutoff, PURGE_CHUNK])
            if not rows:
                break
            now = clock.now()
            old = [(str(imei), str(operator), as_datetime(at)) for imei, operator, at in rows]
            await bulk.execute_many(
                "DELETE FROM imei_first_attach WHERE imei = ?",
                [(imei,) for imei, _, _ in old],
                connection,
            )
            await bulk.insert_rows(
                "greylist_change",
                _CHANGE_COLUMNS,
                (
                    (ChangeOp.REMOVE.value, GRACE.value, i, op, at, RETIRED, now)
                    for i, op, at in old
                ),
                connection,
            )
            await events.notify(events.GREYLIST, connection)
            await audit.record(
                PURGER,
                "grace.first_attaches_purged",
                "FirstAttach",
                f"grace ended before {(cutoff + grace_period).isoformat()}",
                {"count": len(old), "retentionDays": settings.first_attach_retention_days},
            )
        deleted += len(old)
    return deleted
