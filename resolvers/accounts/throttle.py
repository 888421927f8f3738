"""Failed-login throttling, counted in the database so every gateway process shares it.

Three counters watch every password check (login, and changePassword's current password):

- per account and address: what one guesser gets. A few failures are free, then each
  further failure makes the next attempt wait a delay doubling from the base up to a cap;
- per address over all accounts: one address spraying many accounts, same shape;
- per account over all addresses: many addresses guessing one account, with a much lower
  cap, so strangers can slow the owner down for seconds but never lock them out. An address
  the account logged in from recently is not held by it at all.

An attempt is counted as a failure *before* the password is hashed (a compare-and-set on
each counter, so concurrent attempts in any process each count once, and one arriving
while a delay runs is refused without hashing); a successful one gives its count back and
clears its account-and-address counter. Accounts are keyed by the name tried, known or not,
so the throttle's answers do not tell which names exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from models import clock
from models.accounts import LoginThrottle
from models.jobs import Job
from resolvers import jobs
from resolvers.errors import DomainError, ErrorCode
from resolvers.settings import Settings, get_settings

ACCOUNT_ADDRESS = "ACCOUNT_ADDRESS"
ADDRESS = "ADDRESS"
ACCOUNT = "ACCOUNT"
CLEANUP_JOB = "accounts.cleanup_login_throttle"
HOUR_SECONDS = 3600
# Compare-and-set retries before an attempt under heavy contention is refused outright.
MAX_CAS_TRIES = 8


@dataclass(frozen=True)
class Limit:
    free_failures: int
    max_delay_seconds: int


def _limits(settings: Settings) -> dict[str, Limit]:
    return {
        ACCOUNT_ADDRESS: Limit(
            settings.login_failures_before_delay, settings.login_max_delay_seconds
        ),
        ADDRESS: Limit(
            settings.login_address_failures_before_delay, settings.login_max_delay_seconds
        ),
        ACCOUNT: Limit(
            settings.login_account_failures_before_delay, settings.login_account_max_delay_seconds
        ),
    }


def delay_seconds(failures: int, limit: Limit, base_seconds: int) -> int:
    """The wait after the `failures`-th failure: none while free, then base, 2×base, … cap."""
    over = failures - limit.free_failures
    if over <= 0 or limit.max_delay_seconds <= 0:
        return 0
    return min(limit.max_delay_seconds, base_seconds * 2 ** min(over - 1, 30))


def address_of(ip: str) -> str:
    """What counts as one address: an IPv4 address, or an IPv6 /64 (one subscriber's
    network: counting single IPv6 addresses would give a guesser 2^64 fresh ones)."""
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _key(scope: str, *parts: str) -> str:
    return hashlib.sha256("\x00".join((scope, *parts)).encode()).hexdigest()


@dataclass
class Claimed:
    """One counter this attempt was counted on, and how to give the count back."""

    scope: str
    key: str
    failures: int
    version: int  # the counter's version after this attempt's write
    previous_blocked_until: datetime | None


@dataclass
class Attempt:
    """A password check admitted by the throttle, already counted as a failure."""

    claimed: list[Claimed] = field(default_factory=list)

    def failures(self, scope: str) -> int:
        return next((c.failures for c in self.claimed if c.scope == scope), 0)

    def audit_details(self) -> dict[str, object]:
        details: dict[str, object] = {
            "failures": self.failures(ACCOUNT_ADDRESS),
            "addressFailures": self.failures(ADDRESS),
        }
        if any(c.scope == ACCOUNT for c in self.claimed):
            details["accountFailures"] = self.failures(ACCOUNT)
        wait = self.retry_after_seconds()
        if wait:
            details["retryAfterSeconds"] = wait
        return details

    def retry_after_seconds(self) -> int:
        """How long the next attempt will wait because of this failure (0: none)."""
        settings = get_settings()
        limits = _limits(settings)
        waits = [
            delay_seconds(c.failures, limits[c.scope], settings.login_delay_base_seconds)
            for c in self.claimed
        ]
        return max(waits, default=0)


def _refusal(until: datetime, now: datetime, field_name: str | None) -> DomainError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return DomainError(ErrorCode.RATE_LIMITED, field=field_name, seconds=seconds)


async def begin(username: str, ip: str, field_name: str | None = None) -> Attempt:
    """Admit one password check of `username` from `ip`, counted as a failure until
    `succeeded` says otherwise; or raise RATE_LIMITED (with the seconds to wait) before
    anything is hashed."""
    settings = get_settings()
    now = clock.now()
    address = address_of(ip)
    account = _key(ACCOUNT, username)
    keys = {
        ACCOUNT_ADDRESS: _key(ACCOUNT_ADDRESS, username, address),
        ADDRESS: _key(ADDRESS, address),
        ACCOUNT: account,
    }
    rows = {row.key: row for row in await LoginThrottle.filter(key__in=list(keys.values()))}
    pair = rows.get(keys[ACCOUNT_ADDRESS])
    known_since = now - timedelta(days=settings.login_known_address_days)
    if pair is not None and pair.succeeded_at is not None and pair.succeeded_at >= known_since:
        # The owner's usual address: strangers elsewhere cannot hold it up.
        del keys[ACCOUNT]
    # Refuse on what the counters say now, before counting anything.
    blocked = [
        row.blocked_until
        for key, row in rows.items()
        if key in keys.values() and row.blocked_until is not None and row.blocked_until > now
    ]
    if blocked:
        raise _refusal(max(blocked), now, field_name)
    limits = _limits(settings)
    attempt = Attempt()
    for scope, key in keys.items():
        owner = None if scope == ADDRESS else account
        attempt.claimed.append(
            await _count(scope, key, owner, limits[scope], rows.get(key), now, settings, field_name)
        )
    return attempt


async def _count(
    scope: str,
    key: str,
    account: str | None,
    limit: Limit,
    row: LoginThrottle | None,
    now: datetime,
    settings: Settings,
    field_name: str | None,
) -> Claimed:
    """Add this attempt to one counter (compare-and-set on its version), setting the delay
    its new count calls for; raise RATE_LIMITED if a concurrent attempt blocked it first."""
    forget_before = now - timedelta(hours=settings.login_failure_memory_hours)
    base = settings.login_delay_base_seconds
    for _ in range(MAX_CAS_TRIES):
        if row is None:
            wait = delay_seconds(1, limit, base)
            blocked_until = now + timedelta(seconds=wait) if wait else None
            try:
                created = await LoginThrottle.create(
                    key=key,
                    scope=scope,
                    account=account,
                    failures=1,
                    version=1,
                    started_at=now,
                    updated_at=now,
                    blocked_until=blocked_until,
                )
            except IntegrityError:  # another attempt created it first: count on theirs
                row = await LoginThrottle.get_or_none(key=key)
                continue
            return Claimed(scope, key, 1, created.version, None)
        if row.blocked_until is not None and row.blocked_until > now:
            raise _refusal(row.blocked_until, now, field_name)
        afresh = row.started_at < forget_before
        failures = 1 if afresh else row.failures + 1
        wait = delay_seconds(failures, limit, base)
        blocked_until = now + timedelta(seconds=wait) if wait else row.blocked_until
        updated = await LoginThrottle.filter(id=row.id, version=row.version).update(
            failures=failures,
            version=row.version + 1,
            started_at=now if afresh else row.started_at,
            updated_at=now,
            blocked_until=blocked_until,
        )
        if updated:
            return Claimed(scope, key, failures, row.version + 1, row.blocked_until)
        row = await LoginThrottle.get_or_none(key=key)
    # Many concurrent attempts on one counter: refuse this one, briefly.
    raise _refusal(now + timedelta(seconds=1), now, field_name)


async def succeeded(attempt: Attempt) -> None:
    """The password was right: clear the account-and-address counter (and remember the
    address as the account's), and give the attempt's count back to the others."""
    now = clock.now()
    for claimed in attempt.claimed:
        if claimed.scope == ACCOUNT_ADDRESS:
            await LoginThrottle.filter(key=claimed.key).update(
                failures=0,
                version=F("version") + 1,
                blocked_until=None,
                succeeded_at=now,
                started_at=now,
                updated_at=now,
            )
            continue
        # Untouched since this attempt: undo it exactly (its delay too). Otherwise only
        # take its failure off the count; the others' delays stand.
        undone = await LoginThrottle.filter(key=claimed.key, version=claimed.version).update(
            failures=claimed.failures - 1,
            version=claimed.version + 1,
            blocked_until=claimed.previous_blocked_until,
        )
        if not undone:
            await LoginThrottle.filter(key=claimed.key, failures__gt=0).update(
                failures=F("failures") - 1, version=F("version") + 1
            )


async def forget_account(username: str) -> None:
    """Staff reset the password: the account's counters start afresh (its own and those of
    each address on it; the addresses' overall counters stay)."""
    await LoginThrottle.filter(account=_key(ACCOUNT, username)).delete()


async def cleanup() -> int:
    """Delete the counters whose memory period is over (the next failure would start them
    afresh anyway) and whose delay has run out, keeping an account's known addresses until
    they are no longer known."""
    settings = get_settings()
    now = clock.now()
    stale = now - timedelta(hours=settings.login_failure_memory_hours)
    known_since = now - timedelta(days=settings.login_known_address_days)
    return await LoginThrottle.filter(
        Q(started_at__lt=stale),
        Q(blocked_until__isnull=True) | Q(blocked_until__lte=now),
        Q(succeeded_at__isnull=True) | Q(succeeded_at__lt=known_since),
    ).delete()


@jobs.handler(CLEANUP_JOB)
async def cleanup_job(job: Job) -> None:
    await cleanup()


async def schedule_periodic() -> None:
    """Queue one cleanup an hour: the table holds only recent failures."""
    await jobs.enqueue_once_per_slot(CLEANUP_JOB, HOUR_SECONDS)
