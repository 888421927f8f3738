"""The grey list: unregistered IMEIs in (or past) their grace period, from their first attach.

- `record_attaches` starts grace clocks: insert-or-ignore of `models.grace.FirstAttach` rows
  (the earliest attach wins, concurrent attaches of one IMEI do not conflict) and, for the
  rows actually inserted, ADD items of the `greylistChanges` feed, in one transaction.
  Gap-free as the list feeds (`resolvers.registry_changes`): a writer takes the grey feed's
  advisory lock before it allocates change ids.
- `greylist_changes` is that feed; `GET /exports/greylist.csv` the snapshot
  (`resolvers.operators.exports`). An EIR that replays it holds every first attach, and
  with `grace_ends_at` it knows when each one's grace ends.
- `grace_ending_soon`: an operator's own attaches whose grace ends within N days, to warn
  their subscribers before the block.
- `purge_first_attaches`: a daily job deletes the records whose grace ended more than the
  retention period ago (REMOVE items in the feed), audited.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import clock
from models.grace import grace_ends_at
from models.jobs import Job
from models.registry import ChangeOp
from models.roles import Role
from resolvers import audit, bulk, events, jobs, registry_changes
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.operators.feed import _page, _page_bounds, _rows
from resolvers.operators.lookup import as_datetime
from resolvers.pagination import Page, encode_cursor
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

_CHANGE_COLUMNS = ("op", "imei", "operator_code", "attached_at", "reason", "at")
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
    imei: str
    operator: str  # the operator code that attached it ('' for a clock from before)
    first_attach_at: datetime
    grace_ends_at: datetime
    reason: str  # REMOVE: why it left the list (RETENTION)
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
        if bulk.is_postgres(connection):
            params: list[object] = [list(imeis), operator, actor.id, msisdn, source, at]
            _, rows = await connection.execute_query(_PG_ATTACH, params)
        else:
            params = [json.dumps(list(imeis)), operator, actor.id, msisdn, source, at]
            _, rows = await connection.execute_query(_SQLITE_ATTACH, params)
        started = sorted(str(row[0]) for row in rows)
        if started:
            await bulk.insert_rows(
                "greylist_change",
                _CHANGE_COLUMNS,
                ((ChangeOp.ADD.value, imei, operator, at, "", at) for imei in started),
                connection,
            )
            await events.notify(events.GREYLIST, connection)
    return started


async def greylist_changes(actor: Actor, after: str | None, first: int) -> Page[GreylistFeedItem]:
    """The grey feed: operators and staff, with the list feeds' paging rules."""
    after_id = _page_bounds(actor, after, first)
    rows = await _rows(
        "SELECT id, op, imei, operator_code, attached_at, reason, at "
        "FROM greylist_change WHERE id > ? ORDER BY id LIMIT ?",
        after_id,
        first,
    )
    days = _grace_days()
    items = []
    for id_, op, imei, operator, attached, reason, at in rows[:first]:
        attached_at = as_datetime(attached)
        items.append(
            GreylistFeedItem(
                cursor=encode_cursor(int(id_)),  # type: ignore[call-overload]
                op=ChangeOp(str(op)),
                imei=str(imei),
                operator=str(operator),
                first_attach_at=attached_at,
                grace_ends_at=grace_ends_at(attached_at, days),
                reason=str(reason),
                at=as_datetime(at),
            )
        )
    return _page(items, rows, first, after_id)  # type: ignore[arg-type]


def warning_days() -> tuple[int, ...]:
    """The notice periods operators warn their subscribers at (settings), longest first."""
    return tuple(sorted(set(get_settings().grace_warning_days), reverse=True))


def _soon_cursor(attached_at: datetime, imei: str) -> str:
    return base64.urlsafe_b64encode(f"{attached_at.isoformat()}|{imei}".encode()).decode()


def _soon_after(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        when, imei = text.split("|")
        if not (len(imei) == 15 and imei.isascii() and imei.isdigit()):
            raise ValueError(imei)
        return datetime.fromisoformat(when), imei
    except (ValueError, UnicodeDecodeError):
        raise invalid(
            "after",
            "sayfa imleci (after) tanınmadı; önceki sayfanın endCursor değerini gönderin",
            "the page cursor (after) is not recognised; send the previous page's endCursor",
        ) from None


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
    now = clock.now()
    grace = timedelta(days=days)
    # grace end in (now, now + within]  <=>  attached in (now - grace, now - grace + within]
    low, high = now - grace, now - grace + timedelta(days=within)
    connection = bulk.current()
    sql = (
        "SELECT a.imei, a.attached_at, a.msisdn FROM imei_first_attach a "
        "WHERE a.operator_code = ? AND a.attached_at > ? AND a.attached_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM whitelist_entry w WHERE w.imei = a.imei) "
    )
    params: list[object] = [actor.operator_code, low, high]
    if after:
        last_at, last_imei = _soon_after(after)
        sql += "AND (a.attached_at > ? OR (a.attached_at = ? AND a.imei > ?)) "
        params += [last_at, last_at, last_imei]
    sql += "ORDER BY a.attached_at, a.imei LIMIT ?"
    params.append(first + 1)
    if bulk.is_postgres(connection):
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    _, rows = await connection.execute_query(sql, params)
    items = [
        GraceEnding(
            imei=str(imei),
            first_attach_at=as_datetime(attached),
            grace_ends_at=grace_ends_at(as_datetime(attached), days),
            msisdn=str(msisdn),
        )
        for imei, attached, msisdn in rows[:first]
    ]
    end = _soon_cursor(items[-1].first_attach_at, items[-1].imei) if items else after
    return Page(items=items, end_cursor=end, has_next_page=len(rows) > first)


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
            if bulk.is_postgres(connection):
                sql = sql.replace("?", "$1", 1).replace("?", "$2", 1)
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
                ((ChangeOp.REMOVE.value, i, op, at, RETIRED, now) for i, op, at in old),
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
