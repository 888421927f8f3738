"""IMEI checks at network speed: `checkImeis` for operators, `imeiStatus` for the public.

Every input gets one answer, in input order, duplicates included. The work is per distinct
normalised IMEI: the quota (`quota.spend`, in memory for most requests), one set-based
lookup (`lookup.lookup`), for IMEIs on no list and not attached yet why they could get no
grace (`lookup.grace_refusals`), then the pure precedence rule
(`models.imei_status.decide`). An operator's check that carries the subscriber's `msisdn`
is a network attach: it starts the grace clock of the IMEIs answered GRACE_PERIOD
(`greylist.record_attaches`); any other check writes nothing. Results are plain slotted
objects that GraphQL reads by attribute — no per-item resolvers on this path.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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
from resolvers.operators import greylist, lookup, quota
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
    # Every IMEI asked counts, duplicates and invalid ones too (so does every alias).
    await quota.spend(actor, len(imeis))
    now = clock.now()
    caller_msisdn = normalise_msisdn(msisdn)

    # Same input, same answer: normalise and decide once per distinct value.
    normalised: dict[str, str | None] = {raw: normalise_network_imei(raw) for raw in imeis}
    distinct = {imei for imei in normalised.values() if imei is not None}
    decisions, facts = await decide_all(distinct, caller_msisdn, now)
    # E.164 numbers have at most 15 digits: anything longer names no subscriber.
    if caller_msisdn is not None and len(caller_msisdn) <= 15 and actor.role == Role.OPERATOR:
        await greylist.record_attaches(
            actor, _starting_grace(decisions, facts), caller_msisdn, "CHECK", now
        )
    by_imei = {
        imei: _answer(imei, decision, facts.whitelist.get(imei))
        for imei, decision in decisions.items()
    }
    answers: dict[str, ImeiCheck] = {}
    for raw, normal in normalised.items():
        answers[raw] = by_imei[normal] if normal is not None else _answer(raw, INVALID, None)
    result = [answers[raw] for raw in imeis]
    metrics.imeis_checked(_client_label(actor), [answer.verdict for answer in result])
    return result


async def decide_all(
    imeis: Collection[str], msisdn: str | None, now: datetime
) -> tuple[dict[str, Decision], lookup.Facts]:
    """The decision for each valid, normalised IMEI, with the facts it was made from."""
    grace = timedelta(days=get_settings().grace_period_days)
    facts = await lookup.lookup(imeis)
    unattached = [
        imei
        for imei in imeis
        if imei not in facts.whitelist
        and imei not in facts.blacklist
        and imei not in facts.removal
        and imei not in facts.first_seen
    ]
    # Once attached, a clock runs its course: the grey list an EIR mirrors stays the rule.
    refusals = await lookup.grace_refusals(unattached) if unattached else {}
    decisions = {}
    for imei in imeis:
        listed = facts.whitelist.get(imei)
        removal = facts.removal.get(imei) if listed is None else None
        decisions[imei] = decide(
            blacklist_reason=facts.blacklist.get(imei),
            paired_msisdn=facts.pairing.get(imei),
            msisdn=msisdn,
            clone_suspected=imei in facts.clone,
            whitelist_status=listed[0] if listed else None,
            removal_reason=removal[1] if removal else None,
            first_seen_at=facts.first_seen.get(imei),
            now=now,
            grace=grace,
            no_grace_reason=refusals.get(imei),
        )
    return decisions, facts


async def attach_observed(actor: Actor, imeis: Collection[str], at: datetime) -> list[str]:
    """Observed on the operator's network: start the clocks a check with the subscriber's
    number would start (the caller's transaction, if any, holds the writes)."""
    decisions, facts = await decide_all(imeis, None, at)
    return await greylist.record_attaches(
        actor, _starting_grace(decisions, facts), "", "OBSERVATION", at
    )


def _starting_grace(decisions: dict[str, Decision], facts: lookup.Facts) -> list[str]:
    # Answered GRACE_PERIOD and not attached yet: this attach starts the clock.
    return [
        imei
        for imei, decision in decisions.items()
        if decision.status == ImeiStatus.GRACE_PERIOD and imei not in facts.first_seen
    ]


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
