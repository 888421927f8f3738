"""IMEI checks at network speed: `checkImeis` for operators, `imeiStatus` for the public.

Every input gets one answer, in input order, duplicates included. The work is per distinct
normalised IMEI: one set-based lookup (`lookup.lookup`), one bulk insert-or-ignore of first
sightings, then the pure precedence rule (`models.imei_status.decide`). Results are plain
slotted objects that GraphQL reads by attribute — no per-item resolvers on this path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import clock
from models.imei import normalise_network_imei
from models.imei_status import INVALID, Decision, ImeiStatus, Verdict, decide, normalise_msisdn
from models.registry import WhitelistStatus
from models.roles import Role
from resolvers import metrics
from resolvers.actor import Actor
from resolvers.errors import DomainError, ErrorCode, invalid
from resolvers.operators import lookup
from resolvers.operators.rate_limit import PUBLIC_QUERIES
from resolvers.settings import get_settings

MAX_IMEIS_PER_CHECK = 10_000
CHECKERS = frozenset({Role.OPERATOR, Role.STAFF_REVIEWER, Role.STAFF_ARCHIVE, Role.STAFF_ADMIN})


@dataclass(slots=True)
class ImeiCheck:
    """One answer of `checkImeis` (field names are the GraphQL type's)."""

    imei: str
    verdict: Verdict
    status: ImeiStatus
    reason: str | None = None
    brand: str | None = None
    model: str | None = None
    grace_ends_at: datetime | None = None


def count_request_imeis(already: int, asked: int) -> int:
    """The IMEIs one request has asked for so far, every alias of `checkImeis` together:
    aliases must not multiply the per-call cap."""
    total = already + asked
    if total > MAX_IMEIS_PER_CHECK:
        raise invalid(
            "imeis",
            f"bir istekte, tüm takma adlar birlikte, en fazla {MAX_IMEIS_PER_CHECK} IMEI "
            f"sorgulanabilir ({total} istendi)",
            f"at most {MAX_IMEIS_PER_CHECK} IMEIs per request, all aliases together "
            f"({total} asked)",
        )
    return total


async def check_imeis(actor: Actor, imeis: Sequence[str], msisdn: str | None) -> list[ImeiCheck]:
    if actor.role not in CHECKERS:
        raise DomainError(ErrorCode.FORBIDDEN)
    if len(imeis) > MAX_IMEIS_PER_CHECK:
        raise invalid(
            "imeis",
            f"bir sorguda en fazla {MAX_IMEIS_PER_CHECK} IMEI olabilir ({len(imeis)} geldi)",
            f"at most {MAX_IMEIS_PER_CHECK} IMEIs per call (got {len(imeis)})",
        )
    now = clock.now()
    grace = timedelta(days=get_settings().grace_period_days)
    caller_msisdn = normalise_msisdn(msisdn)

    # Same input, same answer: normalise and decide once per distinct value.
    normalised: dict[str, str | None] = {raw: normalise_network_imei(raw) for raw in imeis}
    distinct = {imei for imei in normalised.values() if imei is not None}
    facts = await lookup.lookup(distinct)
    unseen = [
        imei for imei in distinct if imei not in facts.whitelist and imei not in facts.first_seen
    ]
    if unseen:
        await lookup.record_first_seen(unseen, now)

    by_imei: dict[str, ImeiCheck] = {}
    for imei in distinct:
        listed = facts.whitelist.get(imei)
        removal = facts.removal.get(imei) if listed is None else None
        decision = decide(
            blacklist_reason=facts.blacklist.get(imei),
            paired_msisdn=facts.pairing.get(imei),
            msisdn=caller_msisdn,
            clone_suspected=imei in facts.clone,
            whitelist_status=listed[0] if listed else None,
            removal_reason=removal[1] if removal else None,
            first_seen_at=facts.first_seen.get(imei),
            now=now,
            grace=grace,
        )
        by_imei[imei] = _answer(imei, decision, listed)
    answers: dict[str, ImeiCheck] = {}
    for raw, normal in normalised.items():
        answers[raw] = by_imei[normal] if normal is not None else _answer(raw, INVALID, None)
    result = [answers[raw] for raw in imeis]
    metrics.imeis_checked(_client_label(actor), [answer.verdict for answer in result])
    return result


def _client_label(actor: Actor) -> str:
    # Operator codes are set by staff (a handful); people count together as staff.
    if actor.operator_code:
        return actor.operator_code
    return "staff" if actor.is_staff else metrics.OTHER


def _answer(imei: str, decision: Decision, listed: tuple[str, str, str] | None) -> ImeiCheck:
    return ImeiCheck(
        imei=imei,
        verdict=decision.verdict,
        status=decision.status,
        reason=decision.reason,
        brand=listed[1] if listed else None,
        model=listed[2] if listed else None,
        grace_ends_at=decision.grace_ends_at,
    )


# --- the public query (e-Devlet style) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What anyone may learn about one IMEI: registered or not, brand and model. No personal
    data, no pairing or clone detail (a paired or suspected IMEI is simply registered)."""

    imei: str
    registered: bool
    status: ImeiStatus
    brand: str | None = None
    model: str | None = None


async def public_status(actor: Actor, imei: str) -> PublicStatus:
    """Rate-limited per client address; reads only (an anonymous query starts no grace)."""
    PUBLIC_QUERIES.take(actor.ip or "unknown", get_settings().public_query_rate_per_minute)
    raw = imei.strip()
    normalised = normalise_network_imei(raw)
    if normalised is None:
        return PublicStatus(imei=raw[:32], registered=False, status=ImeiStatus.INVALID)
    facts = await lookup.lookup([normalised], with_history=False)
    if normalised in facts.blacklist:
        return PublicStatus(imei=normalised, registered=False, status=ImeiStatus.BLACKLISTED)
    listed = facts.whitelist.get(normalised)
    if listed is None:
        return PublicStatus(imei=normalised, registered=False, status=ImeiStatus.NOT_REGISTERED)
    status = ImeiStatus.REGISTERED if listed[0] == "REGISTERED" else ImeiStatus.PROVISIONAL
    # Overdue verification: still provisional, but not registered as far as the network goes.
    registered = listed[0] != WhitelistStatus.OVERDUE
    return PublicStatus(
        imei=normalised, registered=registered, status=status, brand=listed[1], model=listed[2]
    )
