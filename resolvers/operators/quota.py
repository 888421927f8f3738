"""Operators' check quotas: IMEIs per machine client per calendar minute, across processes.

The count lives in the database (`models.quotas.CheckQuotaWindow`, one row per client and
minute), so every gateway process spends the same quota. A process does not write per
check: it RESERVES a block of the minute's quota with one conditional upsert (`reserved`
never passes the quota, whatever the processes do at once) and spends it locally; a single
check touches the database only when its process's block is used up. Every reservation
also flushes the IMEIs actually checked since the last one (`checked`), as does a flush
every few seconds (`flush_forever`), for the staff's daily figures.

A check should not wait for a write either: on SQLite a write waits for the one writer, and
a firm's upload holds it for the whole upload (seconds; a million rows: 15-20 s). So the next
block is reserved in the background once half of the current one is spent, the next
minute's first block in the last seconds of the minute, and counts are flushed without
holding the client's lock; a check waits only when its process's reservations fall behind.

The price of blocks: a process may hold an unspent part of a block, and the block reserved
ahead, when the minute ends, so a client can be refused up to two blocks per process (1/50
of its quota each, at most 1,000 IMEIs) before it has checked its whole quota; it is never
let through beyond it. A client over
quota gets `RATE_LIMITED` with the seconds until the next minute; a request asking for more
IMEIs than the quota allows in a minute is refused as invalid (it could never pass).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import MachineClient
from models.jobs import Job
from models.quotas import CheckQuotaWindow
from models.roles import Role
from resolvers import audit, bulk, jobs
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid, not_found
from resolvers.settings import get_settings

BLOCK_SHARE = 50  # a block is 1/50 of the quota …
MAX_BLOCK = 1000  # … and at most this many IMEIs
FLUSH_SECONDS = 5.0
# Blocks are reserved ahead only from this size on: below it (quotas under 200 a minute) a
# block reserved and left unspent would refuse a noticeable share of the quota early.
MIN_AHEAD_BLOCK = 4
NEXT_MINUTE_LEAD = 10  # seconds before the minute ends that its successor's block is taken
UNLIMITED = 2**62
log = logging.getLogger("mcks.quota")
QUOTA_SETTERS = frozenset({Role.STAFF_ADMIN})
USAGE_READERS = frozenset({Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE, Role.STAFF_ADMIN})
MAX_USAGE_DAYS = 366
PURGE_JOB = "operators.purge_check_usage"
PURGER = Actor.system("check-usage-retention")

_RESERVE = (
    "INSERT INTO check_quota_window (client_id, minute, day, reserved, checked) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id, minute) DO UPDATE SET "
    "reserved = check_quota_window.reserved + excluded.reserved, "
    "checked = check_quota_window.checked + excluded.checked "
    "WHERE check_quota_window.reserved + excluded.reserved <= ? RETURNING reserved"
)
_FLUSH = (
    "INSERT INTO check_quota_window (client_id, minute, day, reserved, checked) "
    "VALUES (?, ?, ?, 0, ?) ON CONFLICT (client_id, minute) DO UPDATE SET "
    "checked = check_quota_window.checked + excluded.checked"
)


@dataclass(slots=True)
class _Lease:
    """This process's share of one client's current minute."""

    minute: int
    quota: int  # 0: unlimited
    left: int = 0  # reserved and not spent yet
    unflushed: int = 0  # checked and not yet added to the row's `checked`
    reserving: bool = False  # a reservation ahead is under way
    refused: bool = False  # one ahead was not granted: the quota is nearly spent

    @property
    def block(self) -> int:
        return min(MAX_BLOCK, self.quota // BLOCK_SHARE)

    @property
    def ahead(self) -> bool:
        """Whether this lease's blocks are reserved ahead (a limited quota, blocks of size)."""
        return self.quota != 0 and self.block >= MIN_AHEAD_BLOCK and not self.refused


@dataclass(frozen=True, slots=True)
class DailyUsage:
    client_id: int
    client_name: str
    operator_code: str | None
    day: date
    imeis_checked: int
    checks_per_minute: int  # the quota in force now (0: unlimited)


_leases: dict[int, _Lease] = {}
_next: dict[int, _Lease] = {}  # the next minute's lease, reserved ahead
_retired: list[tuple[int, _Lease]] = []  # past minutes' leases whose counts await a flush
_locks: dict[int, asyncio.Lock] = {}
_background: set[asyncio.Task[None]] = set()


def reset() -> None:
    """Forget this process's leases (tests: each starts on a fresh database)."""
    for task in _background:
        task.cancel()
    _background.clear()
    _leases.clear()
    _next.clear()
    _retired.clear()
    _locks.clear()


async def settled() -> None:
    """Wait for the reservations and flushes under way in the background."""
    while _background:
        await asyncio.wait(list(_background))


def _in_background(work: Awaitable[None]) -> None:
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        # The database away: the counts wait for the next flush (`flush_forever`).
        log.warning("check quota: %s", task.exception())


def _day_of(minute: int) -> str:
    zone = ZoneInfo(get_settings().time_zone)
    return datetime.fromtimestamp(minute * 60, UTC).astimezone(zone).date().isoformat()


def _retry_after(now: datetime) -> int:
    return max(1, math.ceil(60 - now.timestamp() % 60))


async def effective_quota(client_id: int) -> int:
    """The client's own quota, or the default in settings (0: unlimited)."""
    own = await MachineClient.filter(id=client_id).values_list("checks_per_minute", flat=True)
    value = own[0] if own else None
    return get_settings().check_quota_per_minute if value is None else int(value)  # type: ignore[call-overload]


async def spend(actor: Actor, count: int) -> None:
    """Count `count` IMEIs against a machine client's quota of this minute, or raise
    RATE_LIMITED (people are not limited here: staff checks are few and audited)."""
    if actor.kind != "CLIENT" or actor.id is None or count <= 0:
        return
    now = clock.now()
    minute = int(now.timestamp() // 60)
    lease = _leases.get(actor.id)
    if lease is not None and lease.minute == minute and lease.left >= count:
        lease.left -= count  # the common case: no await, no database
        lease.unflushed += count
    else:
        async with _locks.setdefault(actor.id, asyncio.Lock()):
            await _spend_locked(actor.id, count, minute, now)
        lease = _leases[actor.id]
    _look_ahead(actor.id, lease, now)


def _look_ahead(client_id: int, lease: _Lease, now: datetime) -> None:
    """Start the reservations the next checks will need, if not under way yet."""
    if not lease.ahead or lease.reserving:
        return
    if lease.left < lease.block // 2:
        lease.reserving = True
        _in_background(_reserve_ahead(client_id, lease, lease))
    elif 60 - now.timestamp() % 60 <= NEXT_MINUTE_LEAD and client_id not in _next:
        following = _Lease(minute=lease.minute + 1, quota=lease.quota)
        _next[client_id] = following
        lease.reserving = True
        _in_background(_reserve_ahead(client_id, lease, following))


async def _reserve_ahead(client_id: int, lease: _Lease, into: _Lease) -> None:
    """One block for `into` (this minute's lease or the next one's); not granted or failed
    (the database away), the check that needs it reserves it itself."""
    try:
        async with _locks.setdefault(client_id, asyncio.Lock()):
            if not await _reserve(client_id, into, into.block):
                into.refused = True
    finally:
        lease.reserving = False


async def _spend_locked(client_id: int, count: int, minute: int, now: datetime) -> None:
    lease = _leases.get(client_id)
    if lease is None or lease.minute != minute:
        if lease is not None:
            # The past minute's count, written in the background: not a wait for the writer.
            _retired.append((client_id, lease))
            _in_background(_flush_retired())
        quota = await effective_quota(client_id)  # a read: it does not wait for the writer
        following = _next.pop(client_id, None)
        if following is not None and (following.minute, following.quota) == (minute, quota):
            lease = following
        else:  # none reserved ahead, or under a quota changed since
            lease = _Lease(minute=minute, quota=quota, left=UNLIMITED if quota == 0 else 0)
        _leases[client_id] = lease
    if lease.left < count:
        if count > lease.quota:
            raise invalid(
                "imeis",
                f"bu istemcinin dakikalık sorgu kotası {lease.quota} IMEI; bir istekte "
                f"{count} IMEI sorgulanamaz",
                f"this client may check {lease.quota} IMEIs a minute; {count} cannot be "
                "asked at once",
            )
        need = count - lease.left
        block = max(need, lease.block)
        granted = await _reserve(client_id, lease, block)
        if not granted and block > need:
            granted = await _reserve(client_id, lease, need)
        if not granted:
            raise DomainError(ErrorCode.RATE_LIMITED, seconds=_retry_after(now))
    lease.left -= count
    lease.unflushed += count


async def _reserve(client_id: int, lease: _Lease, amount: int) -> int:
    """Take `amount` more of the minute's quota (with the unflushed count): all or nothing."""
    # The count goes with the reservation, taken out first: a flush running meanwhile (it
    # holds no lock) cannot send it again; checks spent meanwhile stay unflushed.
    sent, lease.unflushed = lease.unflushed, 0
    params = [client_id, lease.minute, _day_of(lease.minute), amount, sent, lease.quota]
    try:
        # execute_query_dict: tortoise's asyncpg client drops an INSERT's RETURNING rows.
        rows = await bulk.current().execute_query_dict(bulk.for_connection(_RESERVE), params)
    except BaseException:
        lease.unflushed += sent
        raise
    if not rows:  # not granted: the row is unchanged, the count not written either
        lease.unflushed += sent
        return 0
    lease.left += amount
    return amount


async def _flush(client_id: int, lease: _Lease) -> None:
    """The lease's unflushed count into its minute's row; no lock needed (see `_reserve`)."""
    if lease.unflushed <= 0:
        return
    sent, lease.unflushed = lease.unflushed, 0
    params = [client_id, lease.minute, _day_of(lease.minute), sent]
    try:
        await bulk.current().execute_query(bulk.for_connection(_FLUSH), params)
    except BaseException:
        lease.unflushed += sent
        raise


async def _flush_retired() -> None:
    while _retired:
        client_id, lease = _retired[0]
        await _flush(client_id, lease)
        if _retired and _retired[0][1] is lease:
            _retired.pop(0)


async def flush_all() -> None:
    """Write every lease's unflushed count (periodically and at shutdown)."""
    await _flush_retired()
    for client_id, lease in list(_leases.items()):
        await _flush(client_id, lease)


async def flush_forever(stop: asyncio.Event) -> None:
    """Flush every few seconds until `stop`, then once more; a failed flush (the database
    away) keeps its count for the next one."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), FLUSH_SECONDS)
        except TimeoutError:
            pass
        if stop.is_set() and _background:  # shutting down: what is under way first
            await asyncio.wait(list(_background), timeout=FLUSH_SECONDS)
        try:
            await flush_all()
        except Exception:  # the database away: the counts wait for the next flush
            continue


# --- staff -------------------------------------------------------------------------------


async def set_client_quota(actor: Actor, client_id: int, per_minute: int | None) -> MachineClient:
    """Set a machine client's quota (None: back to the default; 0: unlimited), audited.
    Every process applies it from its next minute."""
    if actor.role not in QUOTA_SETTERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    if per_minute is not None and not 0 <= per_minute <= 100_000_000:
        raise invalid(
            "checksPerMinute",
            "dakikalık kota 0 (sınırsız) ile 100.000.000 arasında olmalı",
            "the quota per minute must be between 0 (unlimited) and 100,000,000",
        )
    async with in_transaction():
        client = await MachineClient.filter(id=client_id).select_for_update().first()
        if client is None:
            raise not_found("Makine istemcisi", "Machine client", field="clientId")
        before = client.checks_per_minute
        client.checks_per_minute = per_minute
        await client.save(update_fields=["checks_per_minute"])
        await audit.record(
            actor,
            "client.check_quota_set",
            "MachineClient",
            client.id,
            {
                "before": before,
                "after": per_minute,
                "default": get_settings().check_quota_per_minute,
            },
        )
    # This process applies it at once (its count kept), the others from their next minute.
    async with _locks.setdefault(client_id, asyncio.Lock()):
        lease = _leases.pop(client_id, None)
        _next.pop(client_id, None)  # reserved under the old quota: left unspent
        if lease is not None:
            await _flush(client_id, lease)
    return client


async def daily_usage(
    actor: Actor, first_day: date, last_day: date, client_id: int | None = None
) -> list[DailyUsage]:
    """IMEIs checked per client per day (the regulator's calendar), oldest day first."""
    if actor.role not in USAGE_READERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    if last_day < first_day or (last_day - first_day).days >= MAX_USAGE_DAYS:
        raise invalid(
            "to",
            f"bitiş tarihi başlangıçtan önce olamaz; en fazla {MAX_USAGE_DAYS} gün sorgulanır",
            f"the last day cannot come before the first; at most {MAX_USAGE_DAYS} days",
        )
    await flush_all()  # this process's own latest count
    sql = (
        "SELECT client_id, day, SUM(checked) FROM check_quota_window "
        "WHERE day >= ? AND day <= ? "
        + ("AND client_id = ? " if client_id is not None else "")
        + "GROUP BY client_id, day ORDER BY day, client_id"
    )
    params: list[object] = [first_day.isoformat(), last_day.isoformat()]
    if client_id is not None:
        params.append(client_id)
    _, rows = await bulk.current().execute_query(bulk.for_connection(sql), params)
    clients = {c.id: c for c in await MachineClient.all()}
    default = get_settings().check_quota_per_minute
    usage = []
    for cid, day, checked in rows:
        client = clients.get(int(cid))
        own = client.checks_per_minute if client else None
        usage.append(
            DailyUsage(
                client_id=int(cid),
                client_name=client.name if client else "",
                operator_code=client.operator_code if client else None,
                day=date.fromisoformat(str(day)),
                imeis_checked=int(checked or 0),
                checks_per_minute=default if own is None else own,
            )
        )
    return usage


# --- retention ---------------------------------------------------------------------------


@jobs.handler(PURGE_JOB)
async def purge_usage_job(job: Job) -> None:
    await purge_usage()


async def schedule_periodic() -> None:
    if get_settings().check_usage_retention_days > 0:
        await jobs.enqueue_once_per_slot(PURGE_JOB, 24 * 3600)


async def purge_usage() -> int:
    """Delete the per-minute rows older than the retention period (no personal data)."""
    days = get_settings().check_usage_retention_days
    if days <= 0:
        return 0
    oldest = int(clock.now().timestamp() // 60) - days * 24 * 60
    async with in_transaction():
        count = await CheckQuotaWindow.filter(minute__lt=oldest).delete()
        if count:
            await audit.record(
                PURGER,
                "check_usage.purged",
                "CheckQuotaWindow",
                f"before {datetime.fromtimestamp(oldest * 60, UTC).isoformat()}",
                {"count": count, "retentionDays": days},
            )
    return count
